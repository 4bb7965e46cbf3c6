package tui

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/steps"
)

// p on a step whose prerequisites are missing offers to perform them
// first, and y does them in order before the step.
func TestPerformOffersMissingPrerequisitesFirst(t *testing.T) {
	o := sandboxOptions(&store{})
	var mu sync.Mutex
	var performed []string
	o.Hooks.PlanPerform = func(ctx context.Context, stepID string, c PerformChoice) (PerformPlan, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(performed) > 0 {
			return PerformPlan{Items: []string{"everything is already correct: nothing to change"}}, nil
		}
		return PerformPlan{Missing: []string{lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepS3Bucket}, Items: []string{
			"step 1 (iam-role): role lambda-integration-role does not exist",
			"step 2 (dynamodb-table): table lambda-integration-data does not exist",
			"step 3 (s3-bucket): bucket lambda-integration-000000000000-1793604600 does not exist"}}, nil
	}
	o.Hooks.Perform = func(ctx context.Context, stepID string, c PerformChoice, progress func(ResourceProgress)) (steps.Outcome, error) {
		mu.Lock()
		performed = append(performed, stepID)
		mu.Unlock()
		res := "resource of " + stepID
		progress(ResourceProgress{Resource: res, Action: "created", State: Done})
		return steps.Outcome{Resources: []steps.ResourceOutcome{{Resource: res, Action: "created"}}}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("4", "p")
	h.golden("confirm", "Step 4 needs step 1 (iam-role), 2 (dynamodb-table), 3 (s3-bucket) first", "Perform step 1, 2, 3 first, then step 4? y yes  n no")
	h.keys("y")
	h.golden("done", "Performed first: step 1, 2, 3", "Done.")
	h.quit()
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(performed, ",") != "iam-role,dynamodb-table,s3-bucket,s3-processor" {
		t.Errorf("performed %v", performed)
	}
}

// Step 1 offers the lesson's two roads, least privilege first; the plan
// and the perform follow the learner's choice.
func TestPerformStep1OffersTwoRoads(t *testing.T) {
	o := sandboxOptions(&store{})
	var mu sync.Mutex
	var planned []bool
	var chose *PerformChoice
	o.Hooks.PlanPerform = func(ctx context.Context, stepID string, c PerformChoice) (PerformPlan, error) {
		mu.Lock()
		planned = append(planned, c.LeastPrivilege)
		mu.Unlock()
		if c.LeastPrivilege {
			return PerformPlan{Items: []string{"create IAM role lambda-integration-role", "put inline policy lambda-integration-access on role lambda-integration-role"}}, nil
		}
		return PerformPlan{Items: []string{"create IAM role lambda-integration-role", "attach AWS managed policy AmazonS3FullAccess to role lambda-integration-role"}}, nil
	}
	o.Hooks.Perform = func(ctx context.Context, stepID string, c PerformChoice, progress func(ResourceProgress)) (steps.Outcome, error) {
		mu.Lock()
		chose = &c
		mu.Unlock()
		return steps.Outcome{}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("p")
	h.golden("least", "❯ l least privilege", "put inline policy lambda-integration-access", "l least-privilege inline policy", "m the guide's managed policies")
	h.keys("m")
	s := h.golden("guide", "❯ m the guide's road", "attach AWS managed policy AmazonS3FullAccess")
	if strings.Contains(s, "put inline policy") {
		t.Errorf("the guide's road still shows the least-privilege plan:\n%s", s)
	}
	h.keys("y")
	h.waitFor("Done.")
	h.quit()
	mu.Lock()
	defer mu.Unlock()
	if len(planned) != 2 || !planned[0] || planned[1] {
		t.Errorf("plans asked for %v, want least privilege then the guide's", planned)
	}
	if chose == nil || chose.LeastPrivilege {
		t.Errorf("performed with %+v, want the guide's road", chose)
	}
}
