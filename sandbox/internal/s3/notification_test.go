package s3_test

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
)

const fnArn = "arn:aws:lambda:us-east-1:" + acctA + ":function:s3-to-dynamodb-processor"

func lambdaCfg(id string, events []types.Event, rules ...types.FilterRule) types.LambdaFunctionConfiguration {
	cfg := types.LambdaFunctionConfiguration{LambdaFunctionArn: aws.String(fnArn), Events: events}
	if id != "" {
		cfg.Id = aws.String(id)
	}
	if len(rules) > 0 {
		cfg.Filter = &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: rules}}
	}
	return cfg
}

func rule(name, value string) types.FilterRule {
	return types.FilterRule{Name: types.FilterRuleName(name), Value: aws.String(value)}
}

func TestNotificationConfigurationRoundTrip(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "notify")
	out, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("notify")})
	if err != nil || len(out.LambdaFunctionConfigurations)+len(out.QueueConfigurations)+len(out.TopicConfigurations) != 0 {
		t.Fatalf("empty config: %+v %v", out, err)
	}
	queueArn := "arn:aws:sqs:us-east-1:" + acctA + ":uploads"
	topicArn := "arn:aws:sns:us-east-1:" + acctA + ":removed"
	in := &types.NotificationConfiguration{
		LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{lambdaCfg("", []types.Event{"s3:ObjectCreated:*"}, rule("suffix", ".json"))},
		QueueConfigurations: []types.QueueConfiguration{{Id: aws.String("q1"), QueueArn: aws.String(queueArn), Events: []types.Event{"s3:ObjectCreated:Put"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{rule("prefix", "csv/"), rule("suffix", ".csv")}}}}},
		TopicConfigurations:      []types.TopicConfiguration{{Id: aws.String("t1"), TopicArn: aws.String(topicArn), Events: []types.Event{"s3:ObjectRemoved:*"}}},
		EventBridgeConfiguration: &types.EventBridgeConfiguration{},
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("notify"), NotificationConfiguration: in}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("notify")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LambdaFunctionConfigurations) != 1 || len(out.QueueConfigurations) != 1 || len(out.TopicConfigurations) != 1 || out.EventBridgeConfiguration == nil {
		t.Fatalf("round trip: %+v", out)
	}
	l := out.LambdaFunctionConfigurations[0]
	id, err := base64.StdEncoding.DecodeString(aws.ToString(l.Id))
	if err != nil || len(id) != 36 {
		t.Fatalf("generated id %q", aws.ToString(l.Id))
	}
	// S3 answers the rule names capitalised, whatever case was sent.
	if aws.ToString(l.LambdaFunctionArn) != fnArn || !reflect.DeepEqual(l.Events, []types.Event{"s3:ObjectCreated:*"}) ||
		l.Filter.Key.FilterRules[0].Name != "Suffix" || aws.ToString(l.Filter.Key.FilterRules[0].Value) != ".json" {
		t.Fatalf("lambda config %+v %+v", l, l.Filter.Key.FilterRules)
	}
	q := out.QueueConfigurations[0]
	if aws.ToString(q.Id) != "q1" || aws.ToString(q.QueueArn) != queueArn || len(q.Filter.Key.FilterRules) != 2 || q.Filter.Key.FilterRules[0].Name != "Prefix" {
		t.Fatalf("queue config %+v", q)
	}
	if aws.ToString(out.TopicConfigurations[0].TopicArn) != topicArn {
		t.Fatalf("topic config %+v", out.TopicConfigurations[0])
	}

	// The Go view the event engine reads.
	var cfg s3svc.NotificationConfiguration
	var ok bool
	_ = e.Core.Store.View(func(tx *core.Tx) error {
		cfg, ok = e.svc.NotificationConfig(tx, "notify")
		return nil
	})
	if !ok || !cfg.EventBridge || len(cfg.LambdaFunctionConfigurations) != 1 {
		t.Fatalf("NotificationConfig: %+v %v", cfg, ok)
	}
	hook, isFn := e.Core.Hook(s3svc.HookNotificationConfig).(func(*core.Tx, string) (s3svc.NotificationConfiguration, bool))
	if !isFn {
		t.Fatal("notification config hook not registered")
	}
	_ = e.Core.Store.View(func(tx *core.Tx) error {
		if _, found := hook(tx, "no-such-bucket"); found {
			t.Fatal("hook found a missing bucket")
		}
		return nil
	})
	for _, tc := range []struct {
		event, key string
		want       []string
	}{
		{"ObjectCreated:Put", "incoming/a.json", []string{"lambda " + fnArn}},
		{"ObjectCreated:CompleteMultipartUpload", "a.json", []string{"lambda " + fnArn}},
		{"ObjectCreated:Put", "a.JSON", nil}, // suffixes are case-sensitive
		{"ObjectCreated:Put", "csv/x.csv", []string{"sqs " + queueArn}},
		{"ObjectCreated:Copy", "csv/x.csv", nil},
		{"s3:ObjectRemoved:DeleteMarkerCreated", "anything", []string{"sns " + topicArn}},
	} {
		var got []string
		for _, tg := range cfg.Targets(tc.event, tc.key) {
			got = append(got, tg.Kind+" "+tg.Arn)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("Targets(%s, %s) = %v, want %v", tc.event, tc.key, got, tc.want)
		}
	}

	// An empty configuration removes it.
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("notify"),
		NotificationConfiguration: &types.NotificationConfiguration{}}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("notify")})
	if len(out.LambdaFunctionConfigurations)+len(out.QueueConfigurations)+len(out.TopicConfigurations) != 0 || out.EventBridgeConfiguration != nil {
		t.Fatalf("cleared: %+v", out)
	}
}

func TestNotificationConfigurationValidation(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "notify-bad")
	putCfg := func(cfg *types.NotificationConfiguration) error {
		_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("notify-bad"), NotificationConfiguration: cfg})
		return err
	}
	lambdas := func(cfgs ...types.LambdaFunctionConfiguration) *types.NotificationConfiguration {
		return &types.NotificationConfiguration{LambdaFunctionConfigurations: cfgs}
	}
	ae := wantCode(t, putCfg(lambdas(lambdaCfg("", []types.Event{"s3:ObjectCreated:Everything"}))), "InvalidArgument")
	if ae.ErrorMessage() != "The event is not supported for notifications" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	ae = wantCode(t, putCfg(lambdas(lambdaCfg("", []types.Event{"s3:ObjectCreated:*"}, rule("infix", "x")))), "InvalidArgument")
	if ae.ErrorMessage() != "filter rule name must be either prefix or suffix" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	wantCode(t, putCfg(lambdas(lambdaCfg("", []types.Event{"s3:ObjectCreated:*"}, rule("prefix", "a"), rule("Prefix", "b")))), "InvalidArgument")
	ae = wantCode(t, putCfg(lambdas(lambdaCfg("a", []types.Event{"s3:ObjectCreated:*"}), lambdaCfg("b", []types.Event{"s3:ObjectCreated:Put"}, rule("suffix", ".json")))), "InvalidArgument")
	if !strings.Contains(ae.ErrorMessage(), "Configurations overlap") {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// Same event, disjoint filters: allowed.
	if err := putCfg(lambdas(lambdaCfg("a", []types.Event{"s3:ObjectCreated:*"}, rule("suffix", ".csv")), lambdaCfg("b", []types.Event{"s3:ObjectCreated:Put"}, rule("suffix", ".json")))); err != nil {
		t.Fatal(err)
	}
	west := lambdaCfg("", []types.Event{"s3:ObjectCreated:*"})
	west.LambdaFunctionArn = aws.String("arn:aws:lambda:eu-west-1:" + acctA + ":function:f")
	wantCode(t, putCfg(lambdas(west)), "InvalidArgument")
	bad := lambdaCfg("", []types.Event{"s3:ObjectCreated:*"})
	bad.LambdaFunctionArn = aws.String("arn:aws:sqs:us-east-1:" + acctA + ":not-a-function")
	ae = wantCode(t, putCfg(lambdas(bad)), "InvalidArgument")
	if ae.ErrorMessage() != "Unable to validate the following destination configurations" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("nope-nope"),
		NotificationConfiguration: lambdas(lambdaCfg("", []types.Event{"s3:ObjectCreated:*"}))})
	wantCode(t, err, "NoSuchBucket")
	resp, body := e.raw(t, "PUT", "/notify-bad?notification", nil, []byte("<NotificationConfiguration><CloudFunctionConfiguration>"))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>MalformedXML</Code>") {
		t.Fatalf("malformed: %d %s", resp.StatusCode, body)
	}
	// The configuration in force is the last valid one.
	out, _ := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("notify-bad")})
	if len(out.LambdaFunctionConfigurations) != 2 {
		t.Fatalf("config after refusals: %+v", out)
	}
}

func TestNotificationDestinationHook(t *testing.T) {
	e := start(t)
	c := e.client(acctA, "eu-west-1")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("hooked"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:lambda:eu-west-1:" + acctA + ":function:f"
	type call struct {
		scope  core.Scope
		bucket string
		arns   []string
	}
	var calls []call
	e.Core.SetHook(s3svc.HookValidateDestinations, s3svc.ValidateDestinations(func(tx *core.Tx, scope core.Scope, bucket string, arns []string) func() error {
		calls = append(calls, call{scope, bucket, arns})
		return func() error {
			if strings.HasSuffix(arns[0], ":denied") {
				return &core.Error{Code: "InvalidArgument", Message: "Unable to validate the following destination configurations",
					Fields: map[string]string{"ArgumentName1": arns[0], "ArgumentValue1": "Not authorized to invoke function [" + arns[0] + "]"}}
			}
			return nil
		}
	}))
	cfg := types.LambdaFunctionConfiguration{LambdaFunctionArn: aws.String(arn), Events: []types.Event{"s3:ObjectCreated:*"}}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("hooked"),
		NotificationConfiguration: &types.NotificationConfiguration{LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{cfg}}}); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].scope != (core.Scope{Account: acctA, Region: "eu-west-1"}) || calls[0].bucket != "hooked" || !reflect.DeepEqual(calls[0].arns, []string{arn}) {
		t.Fatalf("hook calls %+v", calls)
	}
	cfg.LambdaFunctionArn = aws.String("arn:aws:lambda:eu-west-1:" + acctA + ":function:denied")
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("hooked"),
		NotificationConfiguration: &types.NotificationConfiguration{LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{cfg}}})
	ae := wantCode(t, err, "InvalidArgument")
	if ae.ErrorMessage() != "Unable to validate the following destination configurations" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// Skipping destination validation skips the hook.
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("hooked"), SkipDestinationValidation: aws.Bool(true),
		NotificationConfiguration: &types.NotificationConfiguration{LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{cfg}}})
	if err != nil || len(calls) != 2 {
		t.Fatalf("skip validation: %v, %d calls", err, len(calls))
	}
}

// fakeQueues is an SQS view knowing one queue.
type fakeQueues struct{ arn string }

func (f fakeQueues) QueueByARN(tx *core.Tx, arn string) (core.QueueInfo, bool) {
	return core.QueueInfo{Arn: arn}, arn == f.arn
}

func TestNotificationQueueMustExist(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "to-queue")
	known := "arn:aws:sqs:us-east-1:" + acctA + ":known"
	e.Core.SetHook(core.HookSQS, core.SQSView(fakeQueues{arn: known}))
	putQueue := func(arn string) error {
		_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("to-queue"),
			NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
				{QueueArn: aws.String(arn), Events: []types.Event{"s3:ObjectCreated:*"}}}}})
		return err
	}
	if err := putQueue(known); err != nil {
		t.Fatal(err)
	}
	ae := wantCode(t, putQueue("arn:aws:sqs:us-east-1:"+acctA+":unknown"), "InvalidArgument")
	if ae.ErrorMessage() != "Unable to validate the following destination configurations" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
}
