package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
)

// A fresh lab opens on the overview: the chain, the target, progress, the
// exam tips and the troubleshooting index; esc goes to step 1, o reopens it.
func TestFreshLabOpensOnTheOverview(t *testing.T) {
	o := sandboxOptions(&store{})
	o.State.Current = ""
	h := start(t, o, 120, 40)
	h.golden("overview", "The lab at a glance", "The chain you build", "0/8 steps verified")
	h.keys("G")
	h.waitFor("AWSLambdaVPCAccessExecutionRole") // the end of the exam tips
	h.keys("esc")
	h.waitFor("Step 1/8", "What and why")
	h.keys("o")
	s := h.waitFor("The lab at a glance")
	if !strings.Contains(s, "Target: SANDBOX 000000000000") {
		t.Errorf("the overview does not name the target:\n%s", s)
	}
	m := h.quit()
	if m.State().StartedAt.IsZero() {
		t.Error("the start of the lab is not recorded")
	}
}

// The overview lists every troubleshooting section.
func TestOverviewIndexesEveryTroubleshootingSection(t *testing.T) {
	idx, err := troubleIndex()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range checks.HintIDs {
		if !strings.Contains(idx, "("+id+")") {
			t.Errorf("the index lacks %s", id)
		}
	}
}

// The moment all eight steps verify, the finish screen opens with the
// chain's evidence, the score, the time taken and the cost of leaving it.
func TestFinishScreenWhenAllStepsVerify(t *testing.T) {
	o := sandboxOptions(&store{})
	start0 := testNow.Add(-95 * time.Minute)
	o.State.StartedAt = start0
	o.State.Steps = map[string]state.StepRecord{}
	for _, s := range steps.All[:7] {
		o.State.Steps[s.ID] = state.StepRecord{Status: "pass", Score: 4, MaxScore: 4, CheckedAt: start0.Add(time.Duration(s.Number) * time.Minute)}
	}
	o.State.Current = lab.StepEndToEnd
	o.Cost = &CostReport{PricesAsOf: "2026-11", Total: CostLine{PerDay: 0.01, PerMonth: 0.31}}
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return []checks.Result{
			{CheckID: "end-to-end.s3-rows", Status: checks.Pass, Weight: 2, Summary: "a .json upload reached the table (row test-data.json-1)",
				Evidence: []string{"dynamodb:Scan lambda-integration-data: 3 items read"}},
			{CheckID: "end-to-end.summary-rows", Status: checks.Pass, Weight: 2, Summary: "a summary reached the table through SNS and SQS (row summary-42)"},
		}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("7/8 steps verified")
	h.keys("c")
	h.golden("finish", "The chain works: all 8 steps verified", "Time taken: 1h35m", "row summary-42", "$0.31 a month")
	h.quit()
}

// q on the overview starts the quiz on the whole chain: 12 questions, each
// with its domain, and the result is kept under its own id.
func TestChainQuizFromTheOverview(t *testing.T) {
	o := sandboxOptions(&store{})
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("o")
	h.waitFor("The lab at a glance")
	h.keys("q")
	h.golden("first", "Quiz: the whole chain", "Question 1 of 12 · DOP-C02 Domain")
	qs := Quiz(ChainQuiz)
	for i, q := range qs {
		h.waitFor(fmt.Sprintf("Question %d of 12", i+1))
		h.keys(string(rune('a' + q.Answer)))
		h.waitFor("Right.", "lesson: the exam tips")
		h.keys("enter")
	}
	h.waitFor("You got 12 of 12 right.")
	h.keys("enter")
	m := h.quit()
	if rec := m.State().Quiz[ChainQuiz]; rec.Correct != 12 || rec.Total != 12 {
		t.Errorf("chain quiz record %+v", rec)
	}
	answers := map[int]bool{}
	for _, q := range qs {
		answers[q.Answer] = true
	}
	if len(answers) != 4 {
		t.Errorf("the chain quiz's answers are not spread over a-d: %v", answers)
	}
}
