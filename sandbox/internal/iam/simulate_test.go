package iam_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/slab-lab/slab/sandbox/internal/core"
	iamsvc "github.com/slab-lab/slab/sandbox/internal/iam"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	stssvc "github.com/slab-lab/slab/sandbox/internal/sts"
)

const (
	queueArn = "arn:aws:sqs:us-east-1:000000000000:lambda-integration-queue"
	tableArn = "arn:aws:dynamodb:us-east-1:000000000000:table/lambda-integration-data"
)

func simulate(t *testing.T, cli *iam.Client, roleArn string, actions, resources []string, ctxEntries ...types.ContextEntry) []types.EvaluationResult {
	t.Helper()
	out, err := cli.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(roleArn), ActionNames: actions, ResourceArns: resources, ContextEntries: ctxEntries,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.EvaluationResults) != len(actions) {
		t.Fatalf("%d results for %d actions", len(out.EvaluationResults), len(actions))
	}
	return out.EvaluationResults
}

func decisions(results []types.EvaluationResult) map[string]types.PolicyEvaluationDecisionType {
	m := map[string]types.PolicyEvaluationDecisionType{}
	for _, r := range results {
		m[aws.ToString(r.EvalActionName)] = r.EvalDecision
	}
	return m
}

// The guide's role with its five FullAccess policies allows everything the
// three functions do (and much more), but not invoking other functions.
func TestSimulateGuideFullAccessRole(t *testing.T) {
	_, cli := start(t)
	role := createRole(t, cli, "lambda-integration-role")
	for _, arn := range guidePolicies {
		if _, err := cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role.RoleName, PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	actions := []string{"logs:CreateLogStream", "s3:GetObject", "dynamodb:PutItem", "dynamodb:Scan", "sns:Publish", "sqs:ReceiveMessage", "sqs:DeleteMessage", "lambda:InvokeFunction"}
	got := decisions(simulate(t, cli, aws.ToString(role.Arn), actions, nil))
	for _, a := range actions[:7] {
		if got[a] != types.PolicyEvaluationDecisionTypeAllowed {
			t.Errorf("%s: %s", a, got[a])
		}
	}
	if got["lambda:InvokeFunction"] != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Errorf("lambda:InvokeFunction: %s", got["lambda:InvokeFunction"])
	}
	res := simulate(t, cli, aws.ToString(role.Arn), []string{"sqs:ReceiveMessage"}, []string{queueArn})
	if len(res[0].MatchedStatements) != 1 {
		t.Fatalf("matched %+v", res[0].MatchedStatements)
	}
	m := res[0].MatchedStatements[0]
	if aws.ToString(m.SourcePolicyId) != "AmazonSQSFullAccess" || m.SourcePolicyType != types.PolicySourceTypeAwsManaged || m.StartPosition == nil || m.StartPosition.Line < 1 {
		t.Errorf("evidence %+v", m)
	}
}

// Least privilege: the inline policy of correction 12 lets sqs-processor
// consume its queue and write its table, and nothing else.
func TestSimulateLeastPrivilegeInlinePolicy(t *testing.T) {
	_, cli := start(t)
	role := createRole(t, cli, "least")
	doc := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ConsumeQueue",
      "Effect": "Allow",
      "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
      "Resource": "` + queueArn + `"
    },
    {
      "Sid": "WriteTable",
      "Effect": "Allow",
      "Action": "dynamodb:PutItem",
      "Resource": "arn:aws:dynamodb:*:*:table/lambda-integration-*"
    }
  ]
}`
	if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role.RoleName, PolicyName: aws.String("sqs-processor"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(role.Arn)
	got := decisions(simulate(t, cli, arn, []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage"}, []string{queueArn}))
	if got["sqs:ReceiveMessage"] != "allowed" || got["sqs:DeleteMessage"] != "allowed" || got["sqs:GetQueueAttributes"] != "allowed" || got["sqs:SendMessage"] != "implicitDeny" {
		t.Fatalf("queue: %v", got)
	}
	other := simulate(t, cli, arn, []string{"sqs:ReceiveMessage"}, []string{"arn:aws:sqs:us-east-1:000000000000:other"})
	if other[0].EvalDecision != "implicitDeny" || len(other[0].MatchedStatements) != 0 {
		t.Fatalf("other queue: %+v", other[0])
	}
	res := simulate(t, cli, arn, []string{"dynamodb:PutItem"}, []string{tableArn})
	if res[0].EvalDecision != "allowed" || aws.ToString(res[0].EvalResourceName) != tableArn {
		t.Fatalf("table: %+v", res[0])
	}
	m := res[0].MatchedStatements[0]
	// The WriteTable statement spans lines 10-15 of the document as put.
	if aws.ToString(m.SourcePolicyId) != "sqs-processor" || m.SourcePolicyType != types.PolicySourceTypeRole ||
		m.StartPosition.Line != 10 || m.StartPosition.Column != 5 || m.EndPosition.Line != 15 {
		t.Fatalf("evidence %+v start %+v end %+v", m, *m.StartPosition, *m.EndPosition)
	}
	// Two resources: the top-level decision is the most restrictive, and
	// each resource has its own result.
	two := simulate(t, cli, arn, []string{"sqs:ReceiveMessage"}, []string{queueArn, "arn:aws:sqs:us-east-1:000000000000:other"})
	if two[0].EvalDecision != "implicitDeny" || aws.ToString(two[0].EvalResourceName) != "*" || len(two[0].ResourceSpecificResults) != 2 ||
		two[0].ResourceSpecificResults[0].EvalResourceDecision != "allowed" || two[0].ResourceSpecificResults[1].EvalResourceDecision != "implicitDeny" {
		t.Fatalf("two resources: %+v", two[0])
	}
}

func TestSimulateExplicitDeny(t *testing.T) {
	env, cli := start(t)
	role := createRole(t, cli, "guarded")
	if _, err := cli.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role.RoleName, PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")}); err != nil {
		t.Fatal(err)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoQueueDeletion","Effect":"Deny","Action":"sqs:Delete*","Resource":"*"}]}`
	if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role.RoleName, PolicyName: aws.String("guardrail"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	res := simulate(t, cli, aws.ToString(role.Arn), []string{"sqs:DeleteQueue", "sqs:DeleteMessage", "sqs:SendMessage"}, []string{queueArn})
	got := decisions(res)
	if got["sqs:DeleteQueue"] != "explicitDeny" || got["sqs:DeleteMessage"] != "explicitDeny" || got["sqs:SendMessage"] != "allowed" {
		t.Fatalf("%v", got)
	}
	// Only the Deny statement is evidence for an explicit deny.
	ms := res[0].MatchedStatements
	if len(ms) != 1 || aws.ToString(ms[0].SourcePolicyId) != "guardrail" || ms[0].SourcePolicyType != types.PolicySourceTypeRole {
		t.Fatalf("evidence %+v", ms)
	}
	// The core.IAMView hook agrees with the simulator.
	view := env.Core.Hook(core.HookIAM).(core.IAMView)
	_ = env.Core.Store.View(func(tx *core.Tx) error {
		if view.RoleAllows(tx, core.DefaultAccount, aws.ToString(role.Arn), "sqs:DeleteMessage", queueArn, nil) {
			t.Error("RoleAllows ignores the explicit deny")
		}
		if !view.RoleAllows(tx, core.DefaultAccount, aws.ToString(role.Arn), "SQS:SendMessage", queueArn, nil) {
			t.Error("RoleAllows refuses an allowed action")
		}
		if view.RoleAllows(tx, core.DefaultAccount, "arn:aws:iam::000000000000:role/nobody", "sqs:SendMessage", queueArn, nil) {
			t.Error("RoleAllows allows for a missing role")
		}
		return nil
	})
}

func TestSimulateContextEntriesAndPaging(t *testing.T) {
	env, cli := start(t)
	role := createRole(t, cli, "ctx")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:000000000000:lambda-integration-notifications"}}}]}`
	if _, err := cli.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role.RoleName, PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(role.Arn)
	without := simulate(t, cli, arn, []string{"sqs:SendMessage"}, nil)
	if without[0].EvalDecision != "implicitDeny" || len(without[0].MissingContextValues) != 1 || without[0].MissingContextValues[0] != "aws:SourceArn" {
		t.Fatalf("without context: %+v", without[0])
	}
	with := simulate(t, cli, arn, []string{"sqs:SendMessage"}, nil, types.ContextEntry{
		ContextKeyName: aws.String("AWS:SourceArn"), ContextKeyType: types.ContextKeyTypeEnumString,
		ContextKeyValues: []string{"arn:aws:sns:us-east-1:000000000000:lambda-integration-notifications"},
	})
	if with[0].EvalDecision != "allowed" || len(with[0].MissingContextValues) != 0 {
		t.Fatalf("with context: %+v", with[0])
	}
	view := env.Core.Hook(core.HookIAM).(core.IAMView)
	_ = env.Core.Store.View(func(tx *core.Tx) error {
		if !view.RoleAllows(tx, core.DefaultAccount, arn, "sqs:SendMessage", queueArn, map[string]string{"aws:SourceArn": "arn:aws:sns:us-east-1:000000000000:lambda-integration-notifications"}) {
			t.Error("RoleAllows ignores its context")
		}
		return nil
	})

	// PolicyInputList documents are evaluated too, and results page.
	p := iam.NewSimulatePrincipalPolicyPaginator(cli, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(arn), MaxItems: aws.Int32(2),
		ActionNames:     []string{"s3:GetObject", "s3:PutObject", "sns:Publish", "sqs:SendMessage", "logs:PutLogEvents"},
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
	})
	var all []types.EvaluationResult
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, page.EvaluationResults...)
	}
	got := decisions(all)
	if pages != 3 || len(all) != 5 || got["s3:PutObject"] != "allowed" || got["sns:Publish"] != "implicitDeny" {
		t.Fatalf("%d pages: %v", pages, got)
	}
	if id := aws.ToString(all[0].MatchedStatements[0].SourcePolicyId); id != "PolicyInputList.1" {
		t.Fatalf("input policy id %q", id)
	}
}

func TestSimulateErrors(t *testing.T) {
	_, cli := start(t)
	_, err := cli.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:role/ghost"), ActionNames: []string{"s3:GetObject"}})
	wantErr[*types.NoSuchEntityException](t, err, 404, "The role with name ghost cannot be found.")
	_, err = cli.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("ghost"), ActionNames: []string{"s3:GetObject"}})
	wantErr[*types.InvalidInputException](t, err, 400, "")
	role := createRole(t, cli, "r")
	_, err = cli.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: role.Arn, ActionNames: []string{"s3:GetObject"}, PolicyInputList: []string{"{nope"}})
	wantErr[*types.MalformedPolicyDocumentException](t, err, 400, "This policy contains invalid Json")
	_, err = cli.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: role.Arn, ActionNames: []string{"s3:GetObject"},
		ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("k"), ContextKeyType: "colour", ContextKeyValues: []string{"red"}}}})
	wantCode(t, err, "ValidationError")
}

// With IAM and STS in one sandbox, AssumeRole is refused unless the role
// exists and trusts the caller's account, as on AWS.
func TestAssumeRoleNeedsRoleAndTrust(t *testing.T) {
	env := sbtest.StartWith(t, core.HandlerOptions{Accounts: sbtest.Keys(map[string]string{"AKIDGRADER": "999999999999", "AKIDSTUDENT": "222222222222"})},
		func(c *core.Core) []core.Service { return []core.Service{iamsvc.New(c), stssvc.New(c)} })
	student := iam.NewFromConfig(env.For("AKIDSTUDENT", "us-east-1"))
	grader := sts.NewFromConfig(env.For("AKIDGRADER", "us-east-1"))
	assume := func(arn string) error {
		_, err := grader.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("grade")})
		return err
	}
	missing := "arn:aws:iam::222222222222:role/slab-grader"
	err := assume(missing)
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || !errors.As(err, &re) || re.HTTPStatusCode() != 403 ||
		ae.ErrorMessage() != "User: arn:aws:iam::999999999999:root is not authorized to perform: sts:AssumeRole on resource: "+missing {
		t.Fatalf("missing role: %v", err)
	}

	// A role only Lambda may assume refuses the grader.
	if _, err := student.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("lambda-only"), AssumeRolePolicyDocument: aws.String(lambdaTrust)}); err != nil {
		t.Fatal(err)
	}
	if err := assume("arn:aws:iam::222222222222:role/lambda-only"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("lambda-only role: %v", err)
	}
	trusts := map[string]string{
		"root":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`,
		"account": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111111111111","999999999999"]},"Action":"sts:AssumeRole"}]}`,
		"star":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`,
	}
	for name, doc := range trusts {
		if _, err := student.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("grader-" + name), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
		if err := assume("arn:aws:iam::222222222222:role/grader-" + name); err != nil {
			t.Errorf("trust %s: %v", name, err)
		}
	}
	// Another account's trust does not count.
	other := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := student.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("other-trust"), AssumeRolePolicyDocument: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	if err := assume("arn:aws:iam::222222222222:role/other-trust"); err == nil {
		t.Fatal("a role trusting another account must refuse")
	}
	// The role must be looked up in the account the ARN names.
	if err := assume("arn:aws:iam::999999999999:role/grader-root"); err == nil {
		t.Fatal("the role exists only in 222222222222")
	}
	// An explicit Deny in the trust policy wins.
	denyDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"999999999999"},"Action":"sts:*"}]}`
	if _, err := student.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("denied"), AssumeRolePolicyDocument: aws.String(denyDoc)}); err != nil {
		t.Fatal(err)
	}
	if err := assume("arn:aws:iam::222222222222:role/denied"); err == nil {
		t.Fatal("explicit deny in trust policy ignored")
	}
}
