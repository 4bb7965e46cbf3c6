package cleanup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
)

// Fakes for the services a test does not care about: every listing is
// empty. Embedding the interface makes any other call panic, so a test
// notices a call it did not expect.
type emptyLambda struct{ LambdaAPI }

func (emptyLambda) ListFunctions(context.Context, *lambda.ListFunctionsInput, ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	return &lambda.ListFunctionsOutput{}, nil
}
func (emptyLambda) ListEventSourceMappings(context.Context, *lambda.ListEventSourceMappingsInput, ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error) {
	return &lambda.ListEventSourceMappingsOutput{}, nil
}

type emptyEvents struct{ EventsAPI }

func (emptyEvents) ListRules(context.Context, *eventbridge.ListRulesInput, ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error) {
	return &eventbridge.ListRulesOutput{}, nil
}
func (emptyEvents) ListRuleNamesByTarget(context.Context, *eventbridge.ListRuleNamesByTargetInput, ...func(*eventbridge.Options)) (*eventbridge.ListRuleNamesByTargetOutput, error) {
	return &eventbridge.ListRuleNamesByTargetOutput{}, nil
}

type emptySNS struct{ SNSAPI }

func (emptySNS) ListTopics(context.Context, *sns.ListTopicsInput, ...func(*sns.Options)) (*sns.ListTopicsOutput, error) {
	return &sns.ListTopicsOutput{}, nil
}

type emptySQS struct{ SQSAPI }

func (emptySQS) ListQueues(context.Context, *sqs.ListQueuesInput, ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error) {
	return &sqs.ListQueuesOutput{}, nil
}

type emptyS3 struct{ S3API }

func (emptyS3) ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	return &s3.ListBucketsOutput{}, nil
}

type emptyDDB struct{ DynamoDBAPI }

func (emptyDDB) ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	return &dynamodb.ListTablesOutput{}, nil
}

type emptyLogs struct{ LogsAPI }

func (emptyLogs) DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return &cloudwatchlogs.DescribeLogGroupsOutput{}, nil
}

// fakeIAM holds roles with policies; DeleteRole fails with DeleteConflict
// a given number of times first (IAM's eventual consistency after a detach).
type fakeIAM struct {
	IAMAPI
	roles     map[string]*fakeRole
	conflicts int
	deletes   int
}

type fakeRole struct {
	tags     map[string]string
	attached []string
	inline   []string
}

func (f *fakeIAM) ListRoles(context.Context, *iam.ListRolesInput, ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	out := &iam.ListRolesOutput{}
	for n := range f.roles {
		out.Roles = append(out.Roles, iamtypes.Role{RoleName: aws.String(n)})
	}
	return out, nil
}

func (f *fakeIAM) role(name *string) (*fakeRole, error) {
	r, ok := f.roles[aws.ToString(name)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "The role with name " + aws.ToString(name) + " cannot be found."}
	}
	return r, nil
}

func (f *fakeIAM) ListRoleTags(_ context.Context, in *iam.ListRoleTagsInput, _ ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error) {
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	out := &iam.ListRoleTagsOutput{}
	for k, v := range r.tags {
		out.Tags = append(out.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if _, err := f.role(in.RoleName); err != nil {
		return nil, err
	}
	return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName}}, nil
}

func (f *fakeIAM) ListAttachedRolePolicies(_ context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	out := &iam.ListAttachedRolePoliciesOutput{}
	for _, p := range r.attached {
		out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(p)})
	}
	return out, nil
}

func (f *fakeIAM) ListRolePolicies(_ context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	return &iam.ListRolePoliciesOutput{PolicyNames: r.inline}, nil
}

func (f *fakeIAM) ListInstanceProfilesForRole(_ context.Context, in *iam.ListInstanceProfilesForRoleInput, _ ...func(*iam.Options)) (*iam.ListInstanceProfilesForRoleOutput, error) {
	if _, err := f.role(in.RoleName); err != nil {
		return nil, err
	}
	return &iam.ListInstanceProfilesForRoleOutput{}, nil
}

func (f *fakeIAM) DetachRolePolicy(_ context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, p := range r.attached {
		if p != aws.ToString(in.PolicyArn) {
			keep = append(keep, p)
		}
	}
	r.attached = keep
	return &iam.DetachRolePolicyOutput{}, nil
}

func (f *fakeIAM) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	r, err := f.role(in.RoleName)
	if err != nil {
		return nil, err
	}
	r.inline = nil
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (f *fakeIAM) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	if _, err := f.role(in.RoleName); err != nil {
		return nil, err
	}
	f.deletes++
	if f.conflicts > 0 {
		f.conflicts--
		return nil, &smithy.GenericAPIError{Code: "DeleteConflict", Message: "Cannot delete entity, must detach all policies first."}
	}
	delete(f.roles, aws.ToString(in.RoleName))
	return &iam.DeleteRoleOutput{}, nil
}

func fakeCleaner(fi *fakeIAM, opts Options) *Cleaner {
	cl := Clients{Lambda: emptyLambda{}, Events: emptyEvents{}, SNS: emptySNS{}, SQS: emptySQS{}, S3: emptyS3{}, DynamoDB: emptyDDB{}, Logs: emptyLogs{}, IAM: fi}
	opts.Backoff, opts.Poll = time.Millisecond, time.Millisecond
	return NewWithClients(cl, Identity{Target: "test", Account: "123456789012", Region: "eu-west-1"}, lab.DefaultNames(), stateID, opts)
}

func TestRoleDeleteConflictRetried(t *testing.T) {
	fi := &fakeIAM{conflicts: 2, roles: map[string]*fakeRole{
		"lambda-integration-role": {tags: labTags(), attached: []string{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}, inline: []string{"slab-lab-access"}},
	}}
	var retries []string
	c := fakeCleaner(fi, Options{Progress: func(e Event) {
		if e.Status == StatusRetry {
			retries = append(retries, e.Detail)
		}
	}})
	plan, err := c.Discover(context.Background())
	if err != nil || len(plan.Resources) != 1 {
		t.Fatalf("%+v %v", plan, err)
	}
	res, err := c.Execute(context.Background(), plan)
	if err != nil || !res.Clean() {
		t.Fatalf("%+v %v", res, err)
	}
	if fi.deletes != 3 || len(retries) != 2 || !strings.Contains(retries[0], "DeleteConflict") {
		t.Fatalf("deletes %d, retries %q", fi.deletes, retries)
	}
}

func TestRoleRetriesRunOutLeavesCommand(t *testing.T) {
	fi := &fakeIAM{conflicts: 100, roles: map[string]*fakeRole{
		"lambda-integration-role": {attached: []string{"arn:aws:iam::aws:policy/AmazonSQSFullAccess"}},
	}}
	c := fakeCleaner(fi, Options{Attempts: 3, CLI: "aws --region eu-west-1"})
	plan, _ := c.Discover(context.Background())
	res, err := c.Execute(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Clean() || len(res.Leftovers) != 1 {
		t.Fatalf("%+v", res)
	}
	l := res.Leftovers[0]
	if !strings.Contains(l.Reason, "DeleteConflict") || !strings.Contains(l.Command, "aws --region eu-west-1 iam delete-role --role-name lambda-integration-role") {
		t.Fatalf("leftover %+v", l)
	}
}

// The lab attaches only AWS managed policies. A role with the lab's exact
// name, no slab:lab tag and a customer-managed policy someone attached is
// kept; with the tag it is deleted, and the customer policy is detached,
// never deleted.
func TestRoleWithSomeoneElsesPolicies(t *testing.T) {
	custom := "arn:aws:iam::123456789012:policy/payments-admin"
	fi := &fakeIAM{roles: map[string]*fakeRole{
		"lambda-integration-role":       {attached: []string{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", custom}},
		"lambda-integration-role-admin": {attached: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}},
	}}
	plan, err := fakeCleaner(fi, Options{}).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Fatalf("planned %+v", plan.Resources[0])
	}
	k := keptHas(plan, KindRole, "lambda-integration-role")
	if k == nil || !strings.Contains(k.Why, custom) {
		t.Fatalf("kept %+v", plan.Kept)
	}
	if k := keptHas(plan, KindRole, "lambda-integration-role-admin"); k == nil || !strings.Contains(k.Why, "resembles") {
		t.Fatalf("lookalike not kept: %+v", plan.Kept)
	}

	fi.roles["lambda-integration-role"].tags = labTags()
	c := fakeCleaner(fi, Options{})
	plan, _ = c.Discover(context.Background())
	r := planHas(plan, KindRole, "lambda-integration-role")
	if r == nil {
		t.Fatalf("tagged role not planned: %+v", plan.Kept)
	}
	var sawKeptPolicy bool
	for _, p := range r.Parts {
		sawKeptPolicy = sawKeptPolicy || (strings.Contains(p.What, custom) && strings.Contains(p.What, "the policy itself is kept"))
	}
	if !sawKeptPolicy {
		t.Fatalf("parts %+v", r.Parts)
	}
	if res, err := c.Execute(context.Background(), plan); err != nil || !res.Clean() {
		t.Fatalf("%+v %v", res, err)
	}
	if _, ok := fi.roles["lambda-integration-role-admin"]; !ok {
		t.Fatal("the lookalike role was deleted")
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	fi := &fakeIAM{conflicts: 100, roles: map[string]*fakeRole{"lambda-integration-role": {tags: labTags()}}}
	ctx, cancel := context.WithCancel(context.Background())
	c := fakeCleaner(fi, Options{Progress: func(e Event) {
		if e.Status == StatusRetry {
			cancel()
		}
	}})
	c.opts.Backoff = time.Hour // only cancellation can end the pause
	plan, _ := c.Discover(ctx)
	_, err := c.Execute(ctx, plan)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestForgetResources(t *testing.T) {
	st := state.New("aws")
	id := st.ID
	st.Names["bucket"] = "lambda-integration-123456789012-1"
	st.Names["table"] = "my-table"
	st.Steps["iam-role"] = state.StepRecord{Status: "pass"}
	st.Resources["role"] = "arn:aws:iam::123456789012:role/x"
	st.Quiz["iam-role"] = state.QuizRecord{Correct: 3, Total: 3}
	ForgetResources(st)
	if st.ID != id || st.Names["table"] != "my-table" || st.Names["bucket"] != "" || len(st.Steps) != 0 || len(st.Resources) != 0 || st.Quiz["iam-role"].Correct != 3 {
		t.Fatalf("%+v", st)
	}
}

func TestJudge(t *testing.T) {
	d := &discovery{c: &Cleaner{stateID: "abc"}}
	mine, guide := []string{"lambda-integration-data-ana"}, []string{"lambda-integration-data"}
	cases := []struct {
		name string
		tags map[string]string
		want verdict
		why  string
	}{
		{"lambda-integration-data-ana", nil, isLab, "exact name"},
		{"lambda-integration-data", nil, isLab, "the guide's default"},
		{"lambda-integration-data", map[string]string{lab.TagKey: lab.TagValue, lab.TagStateKey: "xyz"}, isKept, "another learner"},
		{"whatever", map[string]string{lab.TagKey: lab.TagValue}, isLab, "tag slab:lab"},
		{"whatever", map[string]string{lab.TagKey: lab.TagValue, lab.TagStateKey: "abc"}, isLab, "slab:state=abc"},
		{"lambda-integration-data-prod", nil, isKept, "resembles lambda-integration-data"},
		{"orders", nil, ignore, ""},
	}
	for _, c := range cases {
		v, why := d.judge(c.name, mine, guide, c.tags)
		if v != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%s %v: got %v %q, want %v %q", c.name, c.tags, v, why, c.want, c.why)
		}
	}
}
