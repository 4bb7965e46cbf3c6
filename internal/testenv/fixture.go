package testenv

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	ltypesLogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	etypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	qtypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
)

// Fixture is a target with SDK clients to build lab resources with: tests
// set up with the SDK, never with slab's own perform, so that what they
// verify is independent of it.
type Fixture struct {
	T      testing.TB
	Ctx    context.Context
	Env    *awsenv.Env
	Srv    *sandbox.Server // nil on an external target
	IAM    *iam.Client
	DDB    *dynamodb.Client
	S3     *s3.Client
	Lambda *lambda.Client
	SNS    *sns.Client
	SQS    *sqs.Client
	Events *eventbridge.Client
	Logs   *cloudwatchlogs.Client
}

var uniqueN atomic.Int64

// Unique is a short name suffix Unique in this test binary's run.
func Unique() string { return fmt.Sprintf("%d%03d", time.Now().Unix()%100000, uniqueN.Add(1)) }

// NewFixture opens the test's target (see Open) with SDK clients.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	env, srv := Open(t)
	return FixtureFor(t, env, srv)
}

// NewFixtureWith is NewFixture with options for the in-process sandbox.
func NewFixtureWith(t testing.TB, o sandbox.Options) *Fixture {
	t.Helper()
	env, srv := OpenWith(t, o)
	return FixtureFor(t, env, srv)
}

// FixtureFor builds SDK clients for env.
func FixtureFor(t testing.TB, env *awsenv.Env, srv *sandbox.Server) *Fixture {
	cfg := env.Config
	return &Fixture{
		T: t, Ctx: context.Background(), Env: env, Srv: srv,
		IAM:    iam.NewFromConfig(cfg),
		DDB:    dynamodb.NewFromConfig(cfg),
		S3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = env.Target.Kind != awsenv.AWS }),
		Lambda: lambda.NewFromConfig(cfg),
		SNS:    sns.NewFromConfig(cfg),
		SQS:    sqs.NewFromConfig(cfg),
		Events: eventbridge.NewFromConfig(cfg),
		Logs:   cloudwatchlogs.NewFromConfig(cfg),
	}
}

// With returns a copy of the fixture reporting to another test (subtests).
func (f *Fixture) With(t testing.TB) *Fixture {
	c := *f
	c.T = t
	return &c
}

func (f *Fixture) Must(err error, what string) {
	f.T.Helper()
	if err != nil {
		f.T.Fatalf("setup: %s: %v", what, err)
	}
}

// names is a fresh set of lab names, so that tests sharing a target never
// see each other's resources.
func (f *Fixture) Names() lab.Names {
	n := lab.DefaultNames().WithSuffix(Unique())
	n.Bucket = n.BucketFor(f.Env.Account, time.Now().UnixNano()/1000)
	return n
}

const LambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const (
	BasicExec   = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
	SQSExec     = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
	S3Full      = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
	DynamoFull  = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
	SNSFull     = "arn:aws:iam::aws:policy/AmazonSNSFullAccess"
	SQSFull     = "arn:aws:iam::aws:policy/AmazonSQSFullAccess"
	InlineName  = "slab-lab-access"
	ProbeRegion = "us-east-1"
)

func (f *Fixture) ARN(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, f.Env.Region, f.Env.Account, resource)
}

// leastPrivilege is the inline policy of the lesson's least-privilege way.
func (f *Fixture) LeastPrivilege(n lab.Names) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
{"Sid":"ReadUploadedObjects","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::%s/*"},
{"Sid":"ReadWriteLabTable","Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:GetItem","dynamodb:Scan"],"Resource":"%s"},
{"Sid":"PublishSummaries","Effect":"Allow","Action":"sns:Publish","Resource":"%s"}]}`,
		n.Bucket, f.ARN("dynamodb", "table/"+n.Table), f.ARN("sns", n.Topic))
}

// role creates a role with a trust policy, managed policies and inline ones.
func (f *Fixture) Role(name, trust string, managed []string, inline map[string]string) string {
	f.T.Helper()
	out, err := f.IAM.CreateRole(f.Ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	f.Must(err, "create role "+name)
	for _, m := range managed {
		_, err := f.IAM.AttachRolePolicy(f.Ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(m)})
		f.Must(err, "attach "+m)
	}
	for pn, doc := range inline {
		_, err := f.IAM.PutRolePolicy(f.Ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn), PolicyDocument: aws.String(doc)})
		f.Must(err, "put role policy "+pn)
	}
	return aws.ToString(out.Role.Arn)
}

func (f *Fixture) Table(name string, mod func(*dynamodb.CreateTableInput)) {
	f.T.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: dtypes.ScalarAttributeTypeS}},
		KeySchema:            []dtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: dtypes.KeyTypeHash}},
		BillingMode:          dtypes.BillingModePayPerRequest,
	}
	if mod != nil {
		mod(in)
	}
	_, err := f.DDB.CreateTable(f.Ctx, in)
	f.Must(err, "create table "+name)
}

func (f *Fixture) WaitTable(name string) {
	f.T.Helper()
	w := dynamodb.NewTableExistsWaiter(f.DDB, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 500*time.Millisecond
	})
	f.Must(w.Wait(f.Ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute), "wait for table "+name)
}

func (f *Fixture) Bucket(name, region string, versioning s3types.BucketVersioningStatus) {
	f.T.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	opt := func(o *s3.Options) {}
	if region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		opt = func(o *s3.Options) { o.Region = region }
	}
	_, err := f.S3.CreateBucket(f.Ctx, in, opt)
	f.Must(err, "create bucket "+name)
	if versioning != "" {
		_, err = f.S3.PutBucketVersioning(f.Ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: versioning}}, opt)
		f.Must(err, "versioning of "+name)
	}
}

// code is a small valid deployment package; the checks never run it.
var code = func() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("bootstrap")
	_, _ = w.Write([]byte("#!/bin/sh\necho not run by the checks' tests\n"))
	zw.Close()
	return buf.Bytes()
}()

// function creates a function with the lab's settings, mod adjusting them.
func (f *Fixture) Function(name, roleArn string, env map[string]string, mod func(*lambda.CreateFunctionInput)) string {
	f.T.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(roleArn), Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &ltypes.FunctionCode{ZipFile: code}, Timeout: aws.Int32(30), MemorySize: aws.Int32(256),
		Environment: &ltypes.Environment{Variables: env},
	}
	if mod != nil {
		mod(in)
	}
	var out *lambda.CreateFunctionOutput
	var err error
	for i := 0; i < 20; i++ { // IAM propagation on real AWS
		out, err = f.Lambda.CreateFunction(f.Ctx, in)
		if err == nil || !strings.Contains(err.Error(), "cannot be assumed") {
			break
		}
		time.Sleep(2 * time.Second)
	}
	f.Must(err, "create function "+name)
	return aws.ToString(out.FunctionArn)
}

func (f *Fixture) WaitActive(names ...string) {
	f.T.Helper()
	for _, name := range names {
		w := lambda.NewFunctionActiveV2Waiter(f.Lambda, func(o *lambda.FunctionActiveV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
		})
		f.Must(w.Wait(f.Ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 2*time.Minute), "wait for "+name)
	}
}

func (f *Fixture) Permission(fn, sid, principal, source, account string) {
	f.T.Helper()
	in := &lambda.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String(principal), SourceArn: aws.String(source)}
	if account != "" {
		in.SourceAccount = aws.String(account)
	}
	_, err := f.Lambda.AddPermission(f.Ctx, in)
	f.Must(err, "add permission "+sid+" to "+fn)
}

func (f *Fixture) Notification(bucket string, configs ...s3types.LambdaFunctionConfiguration) {
	f.T.Helper()
	_, err := f.S3.PutBucketNotificationConfiguration(f.Ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: configs}})
	f.Must(err, "notification of "+bucket)
}

func JSONConfig(fnArn string, events []s3types.Event, suffix string) s3types.LambdaFunctionConfiguration {
	c := s3types.LambdaFunctionConfiguration{LambdaFunctionArn: aws.String(fnArn), Events: events}
	if suffix != "" {
		c.Filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: s3types.FilterRuleNameSuffix, Value: aws.String(suffix)}}}}
	}
	return c
}

func (f *Fixture) Topic(name string) string {
	f.T.Helper()
	out, err := f.SNS.CreateTopic(f.Ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	f.Must(err, "create topic "+name)
	return aws.ToString(out.TopicArn)
}

// queue creates a queue and returns its URL and ARN.
func (f *Fixture) Queue(name string, attrs map[string]string) (string, string) {
	f.T.Helper()
	out, err := f.SQS.CreateQueue(f.Ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	f.Must(err, "create queue "+name)
	a, err := f.SQS.GetQueueAttributes(f.Ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []qtypes.QueueAttributeName{qtypes.QueueAttributeNameQueueArn}})
	f.Must(err, "queue arn "+name)
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
}

func (f *Fixture) SetQueuePolicy(url, doc string) {
	f.T.Helper()
	_, err := f.SQS.SetQueueAttributes(f.Ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": doc}})
	f.Must(err, "queue policy")
}

// QueuePolicy is the lesson's policy (the guide's document, set as a string).
func QueuePolicy(queueArn, topicArn string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"%s","Condition":{"ArnEquals":{"aws:SourceArn":"%s"}}}]}`, queueArn, topicArn)
}

func (f *Fixture) Subscribe(topicArn, queueArn string, attrs map[string]string) string {
	f.T.Helper()
	out, err := f.SNS.Subscribe(f.Ctx, &sns.SubscribeInput{TopicArn: aws.String(topicArn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn),
		Attributes: attrs, ReturnSubscriptionArn: true})
	f.Must(err, "subscribe")
	return aws.ToString(out.SubscriptionArn)
}

func (f *Fixture) Rule(name, schedule string) string {
	f.T.Helper()
	out, err := f.Events.PutRule(f.Ctx, &eventbridge.PutRuleInput{Name: aws.String(name), ScheduleExpression: aws.String(schedule)})
	f.Must(err, "put rule "+name)
	return aws.ToString(out.RuleArn)
}

func (f *Fixture) Target(rule, arn string) {
	f.T.Helper()
	_, err := f.Events.PutTargets(f.Ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []etypes.Target{{Id: aws.String("1"), Arn: aws.String(arn)}}})
	f.Must(err, "put targets")
}

func (f *Fixture) Mapping(fn, queueArn string, batch int32, report bool) string {
	f.T.Helper()
	in := &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(queueArn), BatchSize: aws.Int32(batch)}
	if report {
		in.FunctionResponseTypes = []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures}
	}
	out, err := f.Lambda.CreateEventSourceMapping(f.Ctx, in)
	f.Must(err, "create mapping")
	return aws.ToString(out.UUID)
}

func (f *Fixture) WaitMapping(uuid string) {
	f.T.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		out, err := f.Lambda.GetEventSourceMapping(f.Ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		f.Must(err, "get mapping")
		if st := aws.ToString(out.State); st == "Enabled" || st == "Disabled" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.T.Fatalf("mapping %s never settled", uuid)
}

func (f *Fixture) PutItem(table string, item map[string]string) {
	f.T.Helper()
	av := map[string]dtypes.AttributeValue{}
	for k, v := range item {
		av[k] = &dtypes.AttributeValueMemberS{Value: v}
	}
	_, err := f.DDB.PutItem(f.Ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: av})
	f.Must(err, "put item")
}

// log writes lines into /aws/lambda/<fn>, creating the group and a stream.
func (f *Fixture) Log(fn string, at time.Time, lines ...string) {
	f.T.Helper()
	group := "/aws/lambda/" + fn
	_, err := f.Logs.CreateLogGroup(f.Ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	if err != nil && !strings.Contains(err.Error(), "ResourceAlreadyExists") {
		f.Must(err, "create log group")
	}
	stream := "2026/11/27/[$LATEST]" + Unique()
	_, err = f.Logs.CreateLogStream(f.Ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	f.Must(err, "create log stream")
	var evs []ltypesLogs.InputLogEvent
	for i, l := range lines {
		evs = append(evs, ltypesLogs.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(at.UnixMilli() + int64(i))})
	}
	_, err = f.Logs.PutLogEvents(f.Ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs})
	f.Must(err, "put log events")
}

// Lab is a complete, correct lab: the passing setup of every check.
type Lab struct {
	N                                lab.Names
	RoleArn                          string
	S3Fn, EventFn, QueueFn           string // ARNs
	TopicArn, QueueURL, QueueArn     string
	DLQArn, SubArn, RuleArn, Mapping string
}

// fullLab builds the corrected lab for n with the SDK, the least-privilege
// way, and waits until every resource is ready.
func (f *Fixture) FullLab(n lab.Names) *Lab {
	f.T.Helper()
	s := &Lab{N: n}
	s.RoleArn = f.Role(n.Role, LambdaTrust, []string{BasicExec, SQSExec}, map[string]string{InlineName: f.LeastPrivilege(n)})
	f.Table(n.Table, nil)
	f.Bucket(n.Bucket, "", s3types.BucketVersioningStatusEnabled)
	s.TopicArn = f.Topic(n.Topic)
	_, s.DLQArn = f.Queue(n.DLQ, map[string]string{"MessageRetentionPeriod": "1209600"})
	s.QueueURL, s.QueueArn = f.Queue(n.Queue, map[string]string{
		"VisibilityTimeout": "180",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":"%s","maxReceiveCount":"5"}`, s.DLQArn),
	})
	f.SetQueuePolicy(s.QueueURL, QueuePolicy(s.QueueArn, s.TopicArn))
	s.SubArn = f.Subscribe(s.TopicArn, s.QueueArn, nil)
	tableEnv := map[string]string{"TABLE_NAME": n.Table}
	s.S3Fn = f.Function(n.S3Function, s.RoleArn, tableEnv, nil)
	s.EventFn = f.Function(n.EventFunction, s.RoleArn, map[string]string{"TABLE_NAME": n.Table, "SNS_TOPIC_ARN": s.TopicArn}, nil)
	s.QueueFn = f.Function(n.QueueFunction, s.RoleArn, tableEnv, nil)
	f.WaitActive(n.S3Function, n.EventFunction, n.QueueFunction)
	f.Permission(n.S3Function, "s3-trigger", "s3.amazonaws.com", "arn:aws:s3:::"+n.Bucket, f.Env.Account)
	f.Notification(n.Bucket, JSONConfig(s.S3Fn, []s3types.Event{"s3:ObjectCreated:*"}, ".json"))
	s.RuleArn = f.Rule(n.Rule, "rate(5 minutes)")
	f.Permission(n.EventFunction, "eventbridge-trigger", "events.amazonaws.com", s.RuleArn, "")
	f.Target(n.Rule, s.EventFn)
	s.Mapping = f.Mapping(n.QueueFunction, s.QueueArn, 10, true)
	f.WaitTable(n.Table)
	f.PutItem(n.Table, map[string]string{"id": n.Bucket + "/test-data.json#v1", "fileName": "test-data.json", "bucket": n.Bucket, "processedAt": "2026-11-27T10:00:00.000Z"})
	f.PutItem(n.Table, map[string]string{"id": "summary-0b5e7c1e-0000-4000-8000-000000000001", "type": "summary", "processedAt": "2026-11-27T10:05:00.000Z"})
	now := time.Now()
	f.Log(n.S3Function, now.Add(-time.Minute), "START RequestId: 1 Version: $LATEST", "Stored test-data.json as "+n.Bucket+"/test-data.json#v1", "END RequestId: 1")
	f.Log(n.EventFunction, now.Add(-time.Minute), "Published summary of 1 items as SNS message 0b5e7c1e")
	f.Log(n.QueueFunction, now.Add(-time.Minute), "Stored summary-0b5e7c1e-0000-4000-8000-000000000001")
	f.WaitMapping(s.Mapping)
	return s
}
