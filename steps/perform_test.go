package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/steps"
)

// TestPerformFromNothingThenAgain is the heart of "safe to repeat": steps
// 1-7 from an empty account, the resources checked one by one, then every
// step again, reporting "already correct" for everything with no mutating
// call in the audit log.
func TestPerformFromNothingThenAgain(t *testing.T) {
	tg := openTarget(t)
	first := tg.mustPerform(t, tg.opts(), labSteps...)
	for _, r := range first {
		if r.Action != steps.ActionCreated {
			t.Errorf("first run: %s %s (%s), want created", r.Action, r.Resource, r.Detail)
		}
	}
	if tg.names.Bucket == "" || !tg.names.IsLabBucket(tg.names.Bucket, tg.env.Account) {
		t.Fatalf("bucket not chosen as prefix-account-time: %q", tg.names.Bucket)
	}
	assertLab(t, tg, false)
	assertChecksPass(t, tg, false, labSteps...)

	mark := tg.mark()
	second := tg.mustPerform(t, tg.opts(), labSteps...)
	if len(second) != len(first) {
		t.Errorf("second run reported %d resources, first %d:\n%s", len(second), len(first), dump(second))
	}
	for _, r := range second {
		if r.Action != steps.ActionCorrect {
			t.Errorf("second run: %s %s (%s), want already correct", r.Action, r.Resource, r.Detail)
		}
	}
	if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
		t.Errorf("second run made mutating calls: %v", ops)
	}

	// A dry run after that plans nothing and changes nothing.
	mark = tg.mark()
	o := tg.opts()
	o.DryRun = true
	plan := tg.mustPerform(t, o, labSteps...)
	for _, r := range plan {
		if r.Action != steps.ActionCorrect {
			t.Errorf("dry run: %s %s", r.Action, r.Resource)
		}
	}
	if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
		t.Errorf("dry run made mutating calls: %v", ops)
	}
}

// TestLeastPrivilegeLabPassesEveryCheck builds steps 1-7 the least-privilege
// way: every read-only check passes, warnings included.
func TestLeastPrivilegeLabPassesEveryCheck(t *testing.T) {
	tg := openTarget(t)
	o := tg.opts()
	o.LeastPrivilege = true
	tg.mustPerform(t, o, labSteps...)
	assertLab(t, tg, true)
	assertChecksPass(t, tg, true, labSteps...)
}

// TestDryRunFromNothingChangesNothing plans the whole lab against an empty
// account: every resource "would create", not one mutating call.
func TestDryRunFromNothingChangesNothing(t *testing.T) {
	tg := openTarget(t)
	mark := tg.mark()
	o := tg.opts()
	o.DryRun = true
	plan := tg.mustPerform(t, o, append(labSteps, lab.StepEndToEnd)...)
	if len(plan) < 20 {
		t.Errorf("plan has %d entries:\n%s", len(plan), dump(plan))
	}
	for _, r := range plan {
		if r.Action != steps.ActionWouldCreate && r.Action != steps.ActionWouldDo {
			t.Errorf("plan: %s %s (%s)", r.Action, r.Resource, r.Detail)
		}
		if r.Detail == "" {
			t.Errorf("plan entry %s has no reason", r.Resource)
		}
	}
	if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
		t.Errorf("dry run made mutating calls: %v", ops)
	}
	if _, err := tg.iam.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(tg.names.Role)}); err == nil {
		t.Errorf("the dry run created the role")
	}
}

// TestLeastPrivilegeRole does step 1 the least-privilege way, twice, then
// switches a guide-way role over (the FullAccess policies are detached).
func TestLeastPrivilegeRole(t *testing.T) {
	tg := openTarget(t)
	ctx := context.Background()
	tg.mustPerform(t, tg.opts(), lab.StepIAMRole) // the guide's way first
	o := tg.opts()
	o.LeastPrivilege = true
	out := tg.mustPerform(t, o, lab.StepIAMRole)
	var detached, created []string
	for _, r := range out {
		switch {
		case r.Action == steps.ActionUpdated && strings.Contains(r.Detail, "detached"):
			detached = append(detached, r.Resource)
		case r.Action == steps.ActionCreated:
			created = append(created, r.Resource)
		}
	}
	if len(detached) != 4 || len(created) != 2 {
		t.Errorf("switch to least privilege: detached %v, created %v\n%s", detached, created, dump(out))
	}
	pol, err := tg.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(tg.names.Role), PolicyName: aws.String(steps.InlinePolicyName)})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.PathUnescape(aws.ToString(pol.PolicyDocument))
	for _, want := range []string{`"ReadUploadedObjects"`, "arn:aws:s3:::" + tg.names.Bucket + "/*", `"dynamodb:Scan"`, ":table/" + tg.names.Table, `"sns:Publish"`, ":" + tg.names.Topic} {
		if !strings.Contains(doc, want) {
			t.Errorf("inline policy lacks %s:\n%s", want, doc)
		}
	}
	attached := attachedPolicies(t, tg)
	if want := []string{"AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole"}; !slices.Equal(attached, want) {
		t.Errorf("attached %v, want %v", attached, want)
	}
	// Again, and again without the flag: the least-privilege role is kept.
	mark := tg.mark()
	for _, opt := range []steps.PerformOptions{o, tg.opts()} {
		for _, r := range tg.mustPerform(t, opt, lab.StepIAMRole) {
			if r.Action != steps.ActionCorrect {
				t.Errorf("rerun (least privilege %v): %s %s %s", opt.LeastPrivilege, r.Action, r.Resource, r.Detail)
			}
		}
	}
	if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
		t.Errorf("reruns mutated: %v", ops)
	}
}

func attachedPolicies(t *testing.T, tg *target) []string {
	t.Helper()
	out, err := tg.iam.ListAttachedRolePolicies(context.Background(), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(tg.names.Role)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range out.AttachedPolicies {
		names = append(names, aws.ToString(p.PolicyName))
	}
	slices.Sort(names)
	return names
}

// assertLab checks the resources themselves, as the lessons describe them.
func assertLab(t *testing.T, tg *target, leastPrivilege bool) {
	t.Helper()
	ctx := context.Background()
	n := tg.names
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wantTags := func(what string, have map[string]string) {
		t.Helper()
		if have[lab.TagKey] != lab.TagValue || have[lab.TagStateKey] != tg.state {
			t.Errorf("%s tags %v", what, have)
		}
	}

	// 1: role, trust, policies, tags.
	role, err := tg.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(n.Role)})
	must("GetRole", err)
	trust, _ := url.PathUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if !strings.Contains(trust, "lambda.amazonaws.com") || !strings.Contains(trust, "sts:AssumeRole") {
		t.Errorf("trust policy %s", trust)
	}
	tags := map[string]string{}
	for _, tag := range role.Role.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	wantTags("role", tags)
	want := []string{"AWSLambdaBasicExecutionRole", "AmazonDynamoDBFullAccess", "AmazonS3FullAccess", "AmazonSNSFullAccess", "AmazonSQSFullAccess"}
	if leastPrivilege {
		want = []string{"AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole"}
	}
	if got := attachedPolicies(t, tg); !slices.Equal(got, want) {
		t.Errorf("attached policies %v, want %v", got, want)
	}

	// 2: table.
	tbl, err := tg.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(n.Table)})
	must("DescribeTable", err)
	if tbl.Table.TableStatus != "ACTIVE" || tbl.Table.BillingModeSummary == nil || tbl.Table.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" ||
		len(tbl.Table.KeySchema) != 1 || aws.ToString(tbl.Table.KeySchema[0].AttributeName) != "id" || tbl.Table.KeySchema[0].KeyType != "HASH" {
		t.Errorf("table %+v", tbl.Table)
	}
	tt, err := tg.ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: tbl.Table.TableArn})
	must("ListTagsOfResource", err)
	tags = map[string]string{}
	for _, tag := range tt.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	wantTags("table", tags)

	// 3: bucket.
	loc, err := tg.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(n.Bucket)})
	must("GetBucketLocation", err)
	if string(loc.LocationConstraint) != "" && string(loc.LocationConstraint) != tg.env.Region {
		t.Errorf("bucket location %q", loc.LocationConstraint)
	}
	ver, err := tg.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(n.Bucket)})
	must("GetBucketVersioning", err)
	if ver.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning %q", ver.Status)
	}
	bt, err := tg.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(n.Bucket)})
	must("GetBucketTagging", err)
	tags = map[string]string{}
	for _, tag := range bt.TagSet {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	wantTags("bucket", tags)

	// 4, 6, 7: functions.
	topicArn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", tg.env.Region, tg.env.Account, n.Topic)
	for _, f := range []struct {
		name, handler string
		env           map[string]string
	}{
		{n.S3Function, "s3-processor", map[string]string{"TABLE_NAME": n.Table}},
		{n.EventFunction, "event-processor", map[string]string{"TABLE_NAME": n.Table, "SNS_TOPIC_ARN": topicArn}},
		{n.QueueFunction, "queue-processor", map[string]string{"TABLE_NAME": n.Table}},
	} {
		fn, err := tg.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(f.name)})
		must("GetFunction "+f.name, err)
		c := fn.Configuration
		if c.Runtime != "provided.al2023" || aws.ToString(c.Handler) != f.handler || aws.ToInt32(c.Timeout) != 30 || aws.ToInt32(c.MemorySize) != 256 ||
			len(c.Architectures) != 1 || c.Architectures[0] != "arm64" || c.State != ltypes.StateActive || aws.ToString(c.Role) != aws.ToString(role.Role.Arn) {
			t.Errorf("function %s: runtime %s handler %s timeout %d memory %d arch %v state %s role %s", f.name, c.Runtime, aws.ToString(c.Handler),
				aws.ToInt32(c.Timeout), aws.ToInt32(c.MemorySize), c.Architectures, c.State, aws.ToString(c.Role))
		}
		for k, v := range f.env {
			if c.Environment == nil || c.Environment.Variables[k] != v {
				t.Errorf("function %s env %s: %v, want %s", f.name, k, c.Environment, v)
			}
		}
		wantTags("function "+f.name, fn.Tags)
	}
	s3Policy := functionPolicy(t, tg, n.S3Function)
	if !strings.Contains(s3Policy, `"s3-trigger"`) || !strings.Contains(s3Policy, "s3.amazonaws.com") ||
		!strings.Contains(s3Policy, "arn:aws:s3:::"+n.Bucket) || !strings.Contains(s3Policy, tg.env.Account) {
		t.Errorf("s3 processor policy %s", s3Policy)
	}
	nc, err := tg.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(n.Bucket)})
	must("GetBucketNotificationConfiguration", err)
	if len(nc.LambdaFunctionConfigurations) != 1 {
		t.Fatalf("notification %+v", nc)
	}
	lc := nc.LambdaFunctionConfigurations[0]
	if aws.ToString(lc.Id) != "slab-s3-processor" || !strings.HasSuffix(aws.ToString(lc.LambdaFunctionArn), ":function:"+n.S3Function) ||
		len(lc.Events) != 1 || lc.Events[0] != "s3:ObjectCreated:*" || lc.Filter == nil || len(lc.Filter.Key.FilterRules) != 1 ||
		!strings.EqualFold(string(lc.Filter.Key.FilterRules[0].Name), "suffix") || aws.ToString(lc.Filter.Key.FilterRules[0].Value) != ".json" {
		t.Errorf("notification %+v", lc)
	}

	// 5: topic, queues, policy, subscription.
	tta, err := tg.sns.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(topicArn)})
	must("topic tags", err)
	tags = map[string]string{}
	for _, tag := range tta.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	wantTags("topic", tags)
	qurl, err := tg.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(n.Queue)})
	must("GetQueueUrl", err)
	qa, err := tg.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qurl.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	must("GetQueueAttributes", err)
	if qa.Attributes["VisibilityTimeout"] != "180" {
		t.Errorf("visibility timeout %s", qa.Attributes["VisibilityTimeout"])
	}
	var redrive struct {
		Target string `json:"deadLetterTargetArn"`
		Max    any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(qa.Attributes["RedrivePolicy"]), &redrive); err != nil || !strings.HasSuffix(redrive.Target, ":"+n.DLQ) || fmt.Sprint(redrive.Max) != "5" {
		t.Errorf("redrive %s", qa.Attributes["RedrivePolicy"])
	}
	pol := qa.Attributes["Policy"]
	if !strings.Contains(pol, "sns.amazonaws.com") || !strings.Contains(pol, "ArnEquals") || !strings.Contains(pol, topicArn) || !strings.Contains(pol, "sqs:SendMessage") {
		t.Errorf("queue policy %s", pol)
	}
	qt, err := tg.sqs.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: qurl.QueueUrl})
	must("ListQueueTags", err)
	wantTags("queue", qt.Tags)
	subs, err := tg.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicArn)})
	must("ListSubscriptionsByTopic", err)
	if len(subs.Subscriptions) != 1 || aws.ToString(subs.Subscriptions[0].Endpoint) != qa.Attributes["QueueArn"] || aws.ToString(subs.Subscriptions[0].Protocol) != "sqs" {
		t.Fatalf("subscriptions %+v", subs.Subscriptions)
	}
	sa, err := tg.sns.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: subs.Subscriptions[0].SubscriptionArn})
	must("GetSubscriptionAttributes", err)
	if sa.Attributes["RawMessageDelivery"] == "true" {
		t.Errorf("raw message delivery on")
	}

	// 6: rule, target, permission.
	rule, err := tg.events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(n.Rule)})
	must("DescribeRule", err)
	if rule.State != "ENABLED" || aws.ToString(rule.ScheduleExpression) != "rate(5 minutes)" {
		t.Errorf("rule %s %s", rule.State, aws.ToString(rule.ScheduleExpression))
	}
	targets, err := tg.events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(n.Rule)})
	must("ListTargetsByRule", err)
	if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Id) != "1" || !strings.HasSuffix(aws.ToString(targets.Targets[0].Arn), ":function:"+n.EventFunction) {
		t.Errorf("targets %+v", targets.Targets)
	}
	rt, err := tg.events.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: rule.Arn})
	must("rule tags", err)
	tags = map[string]string{}
	for _, tag := range rt.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	wantTags("rule", tags)
	if p := functionPolicy(t, tg, n.EventFunction); !strings.Contains(p, `"eventbridge-trigger"`) || !strings.Contains(p, "events.amazonaws.com") || !strings.Contains(p, aws.ToString(rule.Arn)) {
		t.Errorf("event processor policy %s", p)
	}

	// 7: mapping.
	maps, err := tg.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(n.QueueFunction)})
	must("ListEventSourceMappings", err)
	if len(maps.EventSourceMappings) != 1 {
		t.Fatalf("mappings %+v", maps.EventSourceMappings)
	}
	m := maps.EventSourceMappings[0]
	if aws.ToString(m.State) != "Enabled" || aws.ToInt32(m.BatchSize) != 10 || !slices.Contains(m.FunctionResponseTypes, ltypes.FunctionResponseTypeReportBatchItemFailures) ||
		aws.ToString(m.EventSourceArn) != qa.Attributes["QueueArn"] {
		t.Errorf("mapping state %s batch %d types %v source %s", aws.ToString(m.State), aws.ToInt32(m.BatchSize), m.FunctionResponseTypes, aws.ToString(m.EventSourceArn))
	}
}

// assertChecksPass runs the read-only checks of the steps (no probes):
// every one must pass on what perform built. The guide's FullAccess role
// earns the checks' least-privilege warnings, and only those.
func assertChecksPass(t *testing.T, tg *target, leastPrivilege bool, ids ...string) {
	t.Helper()
	rep := checks.Run(context.Background(), tg.env, tg.names, checks.Options{Steps: ids})
	if len(rep.Results) == 0 {
		t.Fatal("no checks ran")
	}
	for _, r := range rep.Results {
		guideWarning := !leastPrivilege && r.Status == checks.Warn && strings.HasPrefix(r.CheckID, "iam-role.") && strings.Contains(r.Summary, "FullAccess")
		if r.Status != checks.Pass && !guideWarning {
			t.Errorf("check %s: %s: %s %v (%s)", r.CheckID, r.Status, r.Summary, r.Evidence, r.Hint)
		}
	}
	t.Logf("%d checks of steps %v: %d pass", len(rep.Results), ids, rep.Summary.Pass)
}

func functionPolicy(t *testing.T, tg *target, fn string) string {
	t.Helper()
	p, err := tg.lambda.GetPolicy(context.Background(), &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatalf("GetPolicy %s: %v", fn, err)
	}
	return aws.ToString(p.Policy)
}

// TestDriftIsRepairedExactly breaks one thing at a time and checks that
// doing its step repairs exactly that, with only the repairing calls.
func TestDriftIsRepairedExactly(t *testing.T) {
	tg := openTarget(t)
	ctx := context.Background()
	tg.mustPerform(t, tg.opts(), labSteps...)
	n := tg.names
	qurl, err := tg.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(n.Queue)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		step     string
		breakIt  func() error
		resource string   // the one resource reported updated/created
		calls    []string // the only mutating calls of the repair
	}{
		{"queue policy deleted", lab.StepSNSSQS, func() error {
			_, err := tg.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: qurl.QueueUrl, Attributes: map[string]string{"Policy": ""}})
			return err
		}, "queue policy of " + n.Queue, []string{"sqs SetQueueAttributes"}},
		{"s3 processor timeout 60", lab.StepS3Processor, func() error {
			if _, err := tg.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(n.S3Function), Timeout: aws.Int32(60)}); err != nil {
				return err
			}
			return lambda.NewFunctionUpdatedV2Waiter(tg.lambda).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n.S3Function)}, 60e9)
		}, "Lambda function " + n.S3Function, []string{"lambda UpdateFunctionConfiguration"}},
		{"s3 permission removed", lab.StepS3Processor, func() error {
			_, err := tg.lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(n.S3Function), StatementId: aws.String("s3-trigger")})
			return err
		}, "permission s3-trigger on function " + n.S3Function, []string{"lambda AddPermission"}},
		{"rule disabled", lab.StepEventProcessor, func() error {
			_, err := tg.events.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String(n.Rule)})
			return err
		}, "EventBridge rule " + n.Rule, []string{"events EnableRule"}},
		{"raw message delivery on", lab.StepSNSSQS, func() error {
			subs, err := tg.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(fmt.Sprintf("arn:aws:sns:%s:%s:%s", tg.env.Region, tg.env.Account, n.Topic))})
			if err != nil {
				return err
			}
			_, err = tg.sns.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: subs.Subscriptions[0].SubscriptionArn, AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")})
			return err
		}, fmt.Sprintf("subscription %s -> %s", n.Topic, n.Queue), []string{"sns SetSubscriptionAttributes"}},
		{"visibility timeout 30", lab.StepSNSSQS, func() error {
			_, err := tg.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: qurl.QueueUrl, Attributes: map[string]string{"VisibilityTimeout": "30"}})
			return err
		}, "SQS queue " + n.Queue, []string{"sqs SetQueueAttributes"}},
		{"mapping disabled", lab.StepQueueProcessor, func() error {
			maps, err := tg.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(n.QueueFunction)})
			if err != nil {
				return err
			}
			_, err = tg.lambda.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: maps.EventSourceMappings[0].UUID, Enabled: aws.Bool(false)})
			return err
		}, fmt.Sprintf("event source mapping %s -> %s", n.Queue, n.QueueFunction), []string{"lambda UpdateEventSourceMapping"}},
		{"notification replaced by another", lab.StepS3Processor, func() error {
			_, err := tg.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(n.Bucket), NotificationConfiguration: &s3types.NotificationConfiguration{}})
			return err
		}, fmt.Sprintf("notification slab-s3-processor on bucket %s", n.Bucket), []string{"s3 PutBucketNotificationConfiguration"}},
		{"tag removed from the table", lab.StepDynamoDBTable, func() error {
			tbl, err := tg.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(n.Table)})
			if err != nil {
				return err
			}
			_, err = tg.ddb.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: tbl.Table.TableArn, TagKeys: []string{lab.TagStateKey}})
			return err
		}, "DynamoDB table " + n.Table, []string{"dynamodb TagResource"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.breakIt(); err != nil {
				t.Fatalf("break: %v", err)
			}
			// The dry run sees it and changes nothing.
			o := tg.opts()
			o.DryRun = true
			mark := tg.mark()
			plan := tg.mustPerform(t, o, tc.step)
			if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
				t.Errorf("dry run mutated: %v", ops)
			}
			assertOnlyChanged(t, plan, tc.resource, steps.ActionWouldUpdate, steps.ActionWouldCreate)

			mark = tg.mark()
			out := tg.mustPerform(t, tg.opts(), tc.step)
			assertOnlyChanged(t, out, tc.resource, steps.ActionUpdated, steps.ActionCreated)
			if ops, ok := tg.mutations(t, mark); ok && !slices.Equal(lowerService(ops), tc.calls) {
				t.Errorf("repair calls %v, want %v", ops, tc.calls)
			}
			// Repaired: a second run is quiet.
			for _, r := range tg.mustPerform(t, tg.opts(), tc.step) {
				if r.Action != steps.ActionCorrect {
					t.Errorf("after repair: %s %s %s", r.Action, r.Resource, r.Detail)
				}
			}
		})
	}
	assertLab(t, tg, false)
}

func lowerService(ops []string) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		svc, rest, _ := strings.Cut(op, " ")
		out[i] = strings.ToLower(svc) + " " + rest
	}
	return out
}

func assertOnlyChanged(t *testing.T, out []steps.ResourceOutcome, resource string, actions ...string) {
	t.Helper()
	changed := 0
	for _, r := range out {
		if r.Resource == resource {
			if !slices.Contains(actions, r.Action) || r.Detail == "" {
				t.Errorf("%s: %s (%s), want one of %v with a reason", r.Resource, r.Action, r.Detail, actions)
			}
			changed++
			continue
		}
		if r.Action != steps.ActionCorrect {
			t.Errorf("%s: %s (%s), want already correct", r.Resource, r.Action, r.Detail)
		}
	}
	if changed != 1 {
		t.Errorf("%q reported %d times:\n%s", resource, changed, dump(out))
	}
}

// TestNotificationMergeKeepsOtherConfigurations: the bucket's other
// notification configurations survive step 4.
func TestNotificationMergeKeepsOtherConfigurations(t *testing.T) {
	tg := openTarget(t)
	ctx := context.Background()
	tg.mustPerform(t, tg.opts(), lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepS3Bucket, lab.StepSNSSQS, lab.StepEventProcessor)
	n := tg.names
	// Another function (the event processor) gets uploads under other/.
	evArn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", tg.env.Region, tg.env.Account, n.EventFunction)
	if _, err := tg.lambda.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String(n.EventFunction), StatementId: aws.String("other"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::" + n.Bucket), SourceAccount: aws.String(tg.env.Account),
	}); err != nil {
		t.Fatal(err)
	}
	other := s3types.LambdaFunctionConfiguration{Id: aws.String("learner-own"), LambdaFunctionArn: aws.String(evArn), Events: []s3types.Event{"s3:ObjectRemoved:*"}}
	if _, err := tg.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(n.Bucket), NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{other}},
	}); err != nil {
		t.Fatal(err)
	}
	tg.mustPerform(t, tg.opts(), lab.StepS3Processor)
	nc, err := tg.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(n.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range nc.LambdaFunctionConfigurations {
		ids = append(ids, aws.ToString(c.Id))
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"learner-own", "slab-s3-processor"}) {
		t.Errorf("configurations %v", ids)
	}
}

// TestInterruptedRunConverges cancels the context in the middle of the
// lab (at several points), then runs again: the lab converges and a third
// run finds everything correct.
func TestInterruptedRunConverges(t *testing.T) {
	for _, after := range []int{3, 11, 16} {
		t.Run(fmt.Sprintf("after %d resources", after), func(t *testing.T) {
			tg := openTarget(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			seen := 0
			o := tg.opts()
			o.Progress = func(steps.ResourceOutcome) {
				if seen++; seen == after {
					cancel()
				}
			}
			out, err := tg.perform(ctx, t, o, labSteps...)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: %v\n%s", err, dump(out))
			}
			for _, r := range out {
				if r.Action == steps.ActionFailed {
					t.Errorf("interrupted run reports a failure: %s %s", r.Resource, r.Detail)
				}
			}
			if len(out) < after || len(out) > after+1 {
				t.Errorf("stopped after %d outcomes, cancelled at %d:\n%s", len(out), after, dump(out))
			}
			again := tg.mustPerform(t, tg.opts(), labSteps...)
			created := 0
			for _, r := range again {
				if r.Action == steps.ActionCreated {
					created++
				}
			}
			if created == 0 {
				t.Errorf("the second run created nothing:\n%s", dump(again))
			}
			mark := tg.mark()
			for _, r := range tg.mustPerform(t, tg.opts(), labSteps...) {
				if r.Action != steps.ActionCorrect {
					t.Errorf("third run: %s %s %s", r.Action, r.Resource, r.Detail)
				}
			}
			if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
				t.Errorf("third run mutated: %v", ops)
			}
			assertLab(t, tg, false)
		})
	}
}

// TestDoneReportsPrerequisites: Done names what is missing, read-only.
func TestDoneReportsPrerequisites(t *testing.T) {
	tg := openTarget(t)
	ctx := context.Background()
	mark := tg.mark()
	done, missing, err := steps.Done(ctx, tg.env, tg.names, lab.StepIAMRole)
	if err != nil || done || !strings.Contains(missing, tg.names.Role) {
		t.Errorf("role: %v %q %v", done, missing, err)
	}
	if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
		t.Errorf("Done mutated: %v", ops)
	}
	tg.mustPerform(t, tg.opts(), lab.StepIAMRole)
	if done, _, err := steps.Done(ctx, tg.env, tg.names, lab.StepIAMRole); err != nil || !done {
		t.Errorf("role after step 1: %v %v", done, err)
	}
	if done, missing, _ := steps.Done(ctx, tg.env, tg.names, lab.StepSNSSQS); done || !strings.Contains(missing, tg.names.Topic) {
		t.Errorf("sns-sqs: %v %q", done, missing)
	}
}
