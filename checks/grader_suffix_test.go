package checks_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

// A course's one grader policy, generated for the lab's names, must let
// the checks read a student whose roster row has a name_suffix. The
// sandbox does not enforce IAM on its requests yet, so the test asks its
// IAM policy simulator (the evaluator SimulatePrincipalPolicy uses) about
// a role holding only that policy: every (action, resource) a suffixed
// student's checks read must be allowed, another lab's must not.
func TestGraderPolicyCoversSuffixedStudents(t *testing.T) {
	f := newFx(t)
	base := f.Names()
	doc := checks.GraderPolicy(base, "aws")
	raw, err := jsonMarshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	grader := "grader-" + unique()
	graderArn := f.Role(grader, lambdaTrust, nil, map[string]string{"slab-grader": raw})

	student := base.WithSuffix("alice")
	student.Bucket = student.BucketFor(f.Env.Account, 1764000000)
	other := base
	other.Table, other.Role, other.Queue = "someone-elses-table", "someone-elses-role", "someone-elses-queue"

	needs := func(n lab.Names) map[string][]string {
		arn := f.ARN
		fns := []string{arn("lambda", "function:"+n.S3Function), arn("lambda", "function:"+n.EventFunction), arn("lambda", "function:"+n.QueueFunction)}
		var groups []string
		for _, fn := range []string{n.S3Function, n.EventFunction, n.QueueFunction} {
			groups = append(groups, arn("logs", "log-group:/aws/lambda/"+fn+":*"))
		}
		role := "arn:aws:iam::" + f.Env.Account + ":role/" + n.Role
		bucket := "arn:aws:s3:::" + n.Bucket
		return map[string][]string{
			"iam:GetRole": {role}, "iam:ListAttachedRolePolicies": {role}, "iam:ListRolePolicies": {role},
			"iam:GetRolePolicy": {role}, "iam:SimulatePrincipalPolicy": {role},
			"dynamodb:DescribeTable":          {arn("dynamodb", "table/"+n.Table)},
			"dynamodb:Scan":                   {arn("dynamodb", "table/"+n.Table)},
			"s3:GetBucketLocation":            {bucket},
			"s3:GetBucketVersioning":          {bucket},
			"s3:GetBucketNotification":        {bucket},
			"lambda:GetFunctionConfiguration": fns,
			"lambda:GetPolicy":                fns,
			"sns:GetTopicAttributes":          {arn("sns", n.Topic)},
			"sns:ListSubscriptionsByTopic":    {arn("sns", n.Topic)},
			"sqs:GetQueueUrl":                 {arn("sqs", n.Queue)},
			"sqs:GetQueueAttributes":          {arn("sqs", n.Queue)},
			"events:DescribeRule":             {arn("events", "rule/"+n.Rule)},
			"events:ListTargetsByRule":        {arn("events", "rule/"+n.Rule)},
			"logs:FilterLogEvents":            groups,
		}
	}
	decide := func(action, resource string) iamtypes.PolicyEvaluationDecisionType {
		t.Helper()
		out, err := f.IAM.SimulatePrincipalPolicy(f.Ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String(graderArn), ActionNames: []string{action}, ResourceArns: []string{resource},
		})
		if err != nil || len(out.EvaluationResults) != 1 {
			t.Fatalf("simulate %s on %s: %v", action, resource, err)
		}
		return out.EvaluationResults[0].EvalDecision
	}
	seen := map[string]bool{}
	for _, n := range []lab.Names{student, base} {
		for action, resources := range needs(n) {
			seen[action] = true
			for _, r := range resources {
				if d := decide(action, r); d != iamtypes.PolicyEvaluationDecisionTypeAllowed {
					t.Errorf("%s on %s: %s, want allowed", action, r, d)
				}
			}
		}
	}
	// Every scoped action the checks declare is exercised above.
	for _, a := range checks.ReadOnlyActions() {
		for _, st := range doc.Statement {
			for _, sa := range st.Action {
				if sa == a && st.Resource[0] != "*" && !seen[a] && a != "iam:GetPolicy" && a != "iam:GetPolicyVersion" {
					t.Errorf("%s is scoped in the policy but not exercised by this test", a)
				}
			}
		}
	}
	// The scope still means something: another lab's resources are not
	// the grader's to read.
	for _, pair := range [][2]string{
		{"dynamodb:Scan", f.ARN("dynamodb", "table/"+other.Table)},
		{"iam:GetRolePolicy", "arn:aws:iam::" + f.Env.Account + ":role/" + other.Role},
		{"sqs:GetQueueAttributes", f.ARN("sqs", other.Queue)},
	} {
		if d := decide(pair[0], pair[1]); d == iamtypes.PolicyEvaluationDecisionTypeAllowed {
			t.Errorf("%s on %s: allowed", pair[0], pair[1])
		}
	}
}
