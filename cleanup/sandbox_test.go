package cleanup

import (
	"github.com/slab-lab/slab/awserr"

	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lamtypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
)

const (
	account = "000000000000"
	region  = "us-east-1"
	stateID = "5eed1234"
)

// fixture is a sandbox served over HTTP with SDK clients on it: cleanup
// talks to it exactly as it talks to AWS.
type fixture struct {
	srv *sandbox.Server
	cfg aws.Config
	cl  Clients
	// the typed clients, for setting up and asserting
	iam    *iam.Client
	ddb    *dynamodb.Client
	s3     *s3.Client
	lambda *lambda.Client
	sns    *sns.Client
	sqs    *sqs.Client
	events *eventbridge.Client
	logs   *cloudwatchlogs.Client
	names  lab.Names
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL()),
	}
	f := &fixture{
		srv: srv, cfg: cfg,
		iam: iam.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg),
		s3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		lambda: lambda.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg),
		events: eventbridge.NewFromConfig(cfg), logs: cloudwatchlogs.NewFromConfig(cfg),
	}
	f.cl = Clients{Lambda: f.lambda, Events: f.events, SNS: f.sns, SQS: f.sqs, S3: f.s3, DynamoDB: f.ddb, Logs: f.logs, IAM: f.iam}
	f.names = lab.DefaultNames()
	f.names.Bucket = f.names.BucketFor(account, 1764000000)
	return f
}

func (f *fixture) cleaner(opts Options) *Cleaner {
	if opts.Poll == 0 {
		opts.Poll = 20 * time.Millisecond
	}
	if opts.Backoff == 0 {
		opts.Backoff = 20 * time.Millisecond
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	return NewWithClients(f.cl, Identity{Target: "SANDBOX " + account + " " + region, Account: account, Region: region}, f.names, stateID, opts)
}

func ok[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %s: %v", what, err)
		}
		return v
	}
}

var ctx = context.Background()

func labTags() map[string]string {
	return map[string]string{lab.TagKey: lab.TagValue, lab.TagStateKey: stateID}
}

func bootstrapZip(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "#!/bin/sh\nexit 1")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func (f *fixture) role(t *testing.T, name string, tags map[string]string, policies ...string) string {
	var tt []iamtypes.Tag
	for k, v := range tags {
		tt = append(tt, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out := ok[*iam.CreateRoleOutput](t, "CreateRole "+name)(f.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust), Tags: tt}))
	for _, p := range policies {
		ok[*iam.AttachRolePolicyOutput](t, "AttachRolePolicy")(f.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(p)}))
	}
	return aws.ToString(out.Role.Arn)
}

func (f *fixture) function(t *testing.T, name, roleArn string, tags map[string]string) string {
	out := ok[*lambda.CreateFunctionOutput](t, "CreateFunction "+name)(f.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(roleArn), Runtime: lamtypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lamtypes.FunctionCode{ZipFile: bootstrapZip(t)}, Architectures: []lamtypes.Architecture{lamtypes.ArchitectureArm64}, Tags: tags,
	}))
	ok[*cloudwatchlogs.CreateLogGroupOutput](t, "CreateLogGroup")(f.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/lambda/" + name)}))
	return aws.ToString(out.FunctionArn)
}

func (f *fixture) table(t *testing.T, name string, tags map[string]string) {
	var tt []ddbtypes.Tag
	for k, v := range tags {
		tt = append(tt, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	ok[*dynamodb.CreateTableOutput](t, "CreateTable "+name)(f.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest, Tags: tt,
	}))
}

func (f *fixture) bucket(t *testing.T, name string, tags map[string]string) {
	ok[*s3.CreateBucketOutput](t, "CreateBucket "+name)(f.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}))
	ok[*s3.PutBucketVersioningOutput](t, "PutBucketVersioning")(f.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))
	if tags != nil {
		var ts []s3types.Tag
		for k, v := range tags {
			ts = append(ts, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		ok[*s3.PutBucketTaggingOutput](t, "PutBucketTagging")(f.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: ts}}))
	}
}

// put writes objects (not *.json: the notification must not invoke the
// dummy functions while we clean up) in parallel, then deletes some keys
// to leave delete markers.
func (f *fixture) put(t *testing.T, bucket string, keys, versionsPerKey, markers int) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				key := fmt.Sprintf("data/%04d.txt", i%keys)
				var err error
				if i >= keys*versionsPerKey {
					_, err = f.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				} else {
					_, err = f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("version " + fmt.Sprint(i))})
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < keys*versionsPerKey+markers; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("setup: objects: %v", err)
	default:
	}
}

// setupLab builds the whole lab with the SDK, as the lessons' commands do.
func (f *fixture) setupLab(t *testing.T) {
	t.Helper()
	n := f.names
	tags := labTags()
	roleArn := f.role(t, n.Role, tags, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")
	ok[*iam.PutRolePolicyOutput](t, "PutRolePolicy")(f.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(n.Role), PolicyName: aws.String("slab-lab-access"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*"}]}`)}))
	ok[*iam.CreateInstanceProfileOutput](t, "CreateInstanceProfile")(f.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("lab-profile")}))
	ok[*iam.AddRoleToInstanceProfileOutput](t, "AddRoleToInstanceProfile")(f.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("lab-profile"), RoleName: aws.String(n.Role)}))

	f.table(t, n.Table, tags)
	f.bucket(t, n.Bucket, tags)
	f.put(t, n.Bucket, 5, 2, 2)

	s3fn := f.function(t, n.S3Function, roleArn, tags)
	eventFn := f.function(t, n.EventFunction, roleArn, tags)
	queueFn := f.function(t, n.QueueFunction, roleArn, tags)
	bucketArn := "arn:aws:s3:::" + n.Bucket
	ok[*lambda.AddPermissionOutput](t, "AddPermission s3")(f.lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(n.S3Function), StatementId: aws.String("s3-trigger"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String(bucketArn), SourceAccount: aws.String(account)}))
	notif := &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
		Id: aws.String("lab-json"), LambdaFunctionArn: aws.String(s3fn), Events: []s3types.Event{"s3:ObjectCreated:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: s3types.FilterRuleNameSuffix, Value: aws.String(".json")}}}},
	}}}
	ok[*s3.PutBucketNotificationConfigurationOutput](t, "PutBucketNotificationConfiguration")(f.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(n.Bucket), NotificationConfiguration: notif}))

	topic := ok[*sns.CreateTopicOutput](t, "CreateTopic")(f.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(n.Topic), Tags: []snstypes.Tag{{Key: aws.String(lab.TagKey), Value: aws.String(lab.TagValue)}, {Key: aws.String(lab.TagStateKey), Value: aws.String(stateID)}}}))
	ok[*sqs.CreateQueueOutput](t, "CreateQueue dlq")(f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n.DLQ), Tags: tags}))
	dlqArn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, n.DLQ)
	queueArn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, n.Queue)
	ok[*sqs.CreateQueueOutput](t, "CreateQueue")(f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n.Queue), Tags: tags, Attributes: map[string]string{
		"VisibilityTimeout": "180", "RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, dlqArn)}}))
	ok[*sns.SubscribeOutput](t, "Subscribe")(f.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn), ReturnSubscriptionArn: true}))

	ok[*eventbridge.PutRuleOutput](t, "PutRule")(f.events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(n.Rule), ScheduleExpression: aws.String("rate(5 minutes)"),
		Tags: []ebtypes.Tag{{Key: aws.String(lab.TagKey), Value: aws.String(lab.TagValue)}}}))
	ok[*lambda.AddPermissionOutput](t, "AddPermission events")(f.lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(n.EventFunction), StatementId: aws.String("eventbridge-trigger"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String(fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", region, account, n.Rule))}))
	ok[*eventbridge.PutTargetsOutput](t, "PutTargets")(f.events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(n.Rule), Targets: []ebtypes.Target{{Id: aws.String("1"), Arn: aws.String(eventFn)}}}))
	ok[*lambda.CreateEventSourceMappingOutput](t, "CreateEventSourceMapping")(f.lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(queueFn), EventSourceArn: aws.String(queueArn), BatchSize: aws.Int32(10)}))
}

// decoys are what a learner's account may hold beside the lab: they must
// survive every cleanup.
type decoys struct {
	table, bucket, otherBucket, function, role, logGroup, queue string
}

func (f *fixture) setupDecoys(t *testing.T) decoys {
	t.Helper()
	d := decoys{
		table: "lambda-integration-data-prod", bucket: "lambda-integration-111111111111-1700000000", otherBucket: "my-photos",
		function: "sqs-processor-v2", role: "lambda-integration-role-admin", logGroup: "/aws/lambda/sqs-processor-v2", queue: "lambda-integration-queue-prod",
	}
	f.table(t, d.table, map[string]string{"team": "payments"})
	f.bucket(t, d.bucket, nil)
	f.bucket(t, d.otherBucket, nil)
	f.put(t, d.otherBucket, 2, 1, 0)
	roleArn := f.role(t, d.role, nil, "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
	fnArn := f.function(t, d.function, roleArn, map[string]string{"team": "payments"})
	ok[*sqs.CreateQueueOutput](t, "CreateQueue decoy")(f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(d.queue)}))
	// The decoy function also listens to the lab bucket: cleanup must
	// remove only the lab's notification configuration.
	if f.names.Bucket != "" {
		ok[*lambda.AddPermissionOutput](t, "AddPermission decoy")(f.lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(d.function), StatementId: aws.String("s3"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::" + f.names.Bucket)}))
		cfg := ok[*s3.GetBucketNotificationConfigurationOutput](t, "GetBucketNotificationConfiguration")(f.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(f.names.Bucket)}))
		cfg.LambdaFunctionConfigurations = append(cfg.LambdaFunctionConfigurations, s3types.LambdaFunctionConfiguration{
			Id: aws.String("not-the-lab"), LambdaFunctionArn: aws.String(fnArn), Events: []s3types.Event{"s3:ObjectRemoved:*"}})
		ok[*s3.PutBucketNotificationConfigurationOutput](t, "PutBucketNotificationConfiguration")(f.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(f.names.Bucket), NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: cfg.LambdaFunctionConfigurations}}))
	}
	return d
}

// labLeft lists the lab resources still present, read straight from the
// services (not through cleanup's own discovery).
func (f *fixture) labLeft(t *testing.T) []string {
	t.Helper()
	n := f.names
	var left []string
	check := func(what string, err error) {
		if err == nil {
			left = append(left, what)
		} else if !awserr.IsNotFound(err) {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := f.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(n.Role)})
	check("role", err)
	_, err = f.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(n.Table)})
	check("table", err)
	_, err = f.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(n.Bucket)})
	check("bucket", err)
	if err == nil {
		out, err := f.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(n.Bucket)})
		if err == nil && len(out.Versions)+len(out.DeleteMarkers) > 0 {
			left = append(left, "object versions")
		}
	}
	for _, fn := range []string{n.S3Function, n.EventFunction, n.QueueFunction} {
		_, err = f.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fn)})
		check("function "+fn, err)
		out, err := f.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/" + fn)})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == "/aws/lambda/"+fn {
				left = append(left, "log group "+fn)
			}
		}
	}
	maps, err := f.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps.EventSourceMappings {
		if strings.HasSuffix(aws.ToString(m.EventSourceArn), ":"+n.Queue) {
			left = append(left, "mapping "+aws.ToString(m.UUID))
		}
	}
	_, err = f.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, account, n.Topic))})
	check("topic", err)
	for _, q := range []string{n.Queue, n.DLQ} {
		_, err = f.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
		check("queue "+q, err)
	}
	_, err = f.events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(n.Rule)})
	check("rule", err)
	return left
}

func (f *fixture) assertDecoys(t *testing.T, d decoys) {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("decoy %s was touched: %v", what, err)
		}
	}
	_, err := f.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(d.table)})
	must(d.table, err)
	_, err = f.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(d.bucket)})
	must(d.bucket, err)
	out, err := f.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(d.otherBucket)})
	must(d.otherBucket, err)
	if err == nil && len(out.Versions) != 2 {
		t.Errorf("decoy bucket %s has %d versions, want 2", d.otherBucket, len(out.Versions))
	}
	_, err = f.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(d.function)})
	must(d.function, err)
	_, err = f.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(d.role)})
	must(d.role, err)
	pols, err := f.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(d.role)})
	must(d.role+" policies", err)
	if err == nil && len(pols.AttachedPolicies) != 1 {
		t.Errorf("decoy role lost its policy: %+v", pols.AttachedPolicies)
	}
	_, err = f.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(d.queue)})
	must(d.queue, err)
	groups, err := f.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(d.logGroup)})
	must(d.logGroup, err)
	if err == nil && len(groups.LogGroups) != 1 {
		t.Errorf("decoy log group %s gone", d.logGroup)
	}
}

func planHas(p *Plan, k Kind, name string) *Resource {
	for _, r := range p.Resources {
		if r.Kind == k && r.Name == name {
			return r
		}
	}
	return nil
}

func keptHas(p *Plan, k Kind, name string) *Kept {
	for i, x := range p.Kept {
		if x.Kind == k && x.Name == name {
			return &p.Kept[i]
		}
	}
	return nil
}

func TestCleanupWholeLabKeepsDecoys(t *testing.T) {
	f := newFixture(t)
	f.setupLab(t)
	d := f.setupDecoys(t)
	n := f.names

	var events []Event
	var mu sync.Mutex
	c := f.cleaner(Options{Progress: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	plan, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WritePlan(&buf, plan)
	t.Logf("plan:\n%s", buf.String())
	if len(plan.Problems) > 0 {
		t.Errorf("problems: %v", plan.Problems)
	}
	want := []struct {
		k    Kind
		name string
		why  string
	}{
		{KindRule, n.Rule, "exact name"},
		{KindNotification, n.Bucket, "notification on lab bucket"},
		{KindFunction, n.S3Function, "exact name"},
		{KindFunction, n.EventFunction, "exact name"},
		{KindFunction, n.QueueFunction, "exact name"},
		{KindTopic, n.Topic, "exact name"},
		{KindQueue, n.Queue, "exact name"},
		{KindQueue, n.DLQ, "dead-letter queue of lab queue " + n.Queue},
		{KindBucket, n.Bucket, "exact name"},
		{KindTable, n.Table, "exact name"},
		{KindLogGroup, "/aws/lambda/" + n.S3Function, "log group of lab function"},
		{KindLogGroup, "/aws/lambda/" + n.EventFunction, "log group of lab function"},
		{KindLogGroup, "/aws/lambda/" + n.QueueFunction, "log group of lab function"},
		{KindRole, n.Role, "exact name"},
	}
	for _, w := range want {
		r := planHas(plan, w.k, w.name)
		if r == nil {
			t.Errorf("plan lacks %s %s", w.k, w.name)
			continue
		}
		if !strings.Contains(r.Why, w.why) {
			t.Errorf("%s %s: why %q, want it to mention %q", w.k, w.name, r.Why, w.why)
		}
	}
	var mapping *Resource
	for _, r := range plan.Resources {
		if r.Kind == KindMapping {
			mapping = r
		}
	}
	if mapping == nil || !strings.Contains(mapping.Why, "mapping of lab queue "+n.Queue) {
		t.Errorf("plan lacks the queue's mapping: %+v", mapping)
	}
	// The plan is in dependency order: ranks never decrease, and the queue
	// goes before its dead-letter queue.
	for i := 1; i < len(plan.Resources); i++ {
		if rank(plan.Resources[i].Kind) < rank(plan.Resources[i-1].Kind) {
			t.Errorf("order: %s after %s", plan.Resources[i].Key(), plan.Resources[i-1].Key())
		}
	}
	qi, di := -1, -1
	for i, r := range plan.Resources {
		if r.Kind == KindQueue && r.Name == n.Queue {
			qi = i
		}
		if r.Kind == KindQueue && r.Name == n.DLQ {
			di = i
		}
	}
	if qi > di {
		t.Errorf("the dead-letter queue is deleted before the queue it serves")
	}
	if r := planHas(plan, KindBucket, n.Bucket); r == nil || r.versions != 12 {
		t.Errorf("bucket detail: %+v (want 10 versions + 2 delete markers)", r)
	}
	if r := planHas(plan, KindRule, n.Rule); r == nil || len(r.Parts) != 1 || !strings.Contains(r.Parts[0].What, "target 1 -> arn:aws:lambda") {
		t.Errorf("rule parts: %+v", r)
	}
	if r := planHas(plan, KindRole, n.Role); r == nil || len(r.Parts) != 4 {
		t.Errorf("role parts (2 managed, 1 inline, 1 instance profile): %+v", r)
	}
	for _, k := range []struct {
		k    Kind
		name string
	}{{KindTable, d.table}, {KindBucket, d.bucket}, {KindFunction, d.function}, {KindRole, d.role}, {KindLogGroup, d.logGroup}, {KindQueue, d.queue}} {
		if planHas(plan, k.k, k.name) != nil {
			t.Errorf("decoy %s %s is in the plan", k.k, k.name)
		}
		if kept := keptHas(plan, k.k, k.name); kept == nil || kept.Why == "" {
			t.Errorf("decoy %s %s is not listed as kept with a reason", k.k, k.name)
		}
	}
	if keptHas(plan, KindBucket, d.otherBucket) != nil || planHas(plan, KindBucket, d.otherBucket) != nil {
		t.Errorf("an unrelated bucket should not even be mentioned")
	}

	res, err := c.Execute(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	WriteResult(&buf, plan.Target, res)
	t.Logf("result:\n%s", buf.String())
	if !res.Clean() {
		t.Fatalf("not clean: %+v %v", res.Leftovers, res.Problems)
	}
	if len(res.Deleted) != len(plan.Resources) {
		t.Errorf("deleted %d of %d", len(res.Deleted), len(plan.Resources))
	}
	if left := f.labLeft(t); len(left) > 0 {
		t.Fatalf("lab resources left: %v", left)
	}
	f.assertDecoys(t, d)
	// The decoy's notification configuration stayed until the bucket went:
	// nothing to check on a deleted bucket, but the decoy function is fine.

	// Progress: a start and a deleted event for every resource.
	starts, deleted := map[string]bool{}, map[string]bool{}
	for _, e := range events {
		if e.Resource == nil {
			continue
		}
		switch e.Status {
		case StatusStart:
			starts[e.Resource.Key()] = true
		case StatusDeleted:
			deleted[e.Resource.Key()] = true
		}
	}
	for _, r := range plan.Resources {
		if !starts[r.Key()] || !deleted[r.Key()] {
			t.Errorf("no start/deleted progress for %s", r.Key())
		}
	}

	// A second run finds nothing and says so.
	again, err := f.cleaner(Options{}).Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Fatalf("second run found %d resources: %+v", len(again.Resources), again.Resources[0])
	}
	buf.Reset()
	WritePlan(&buf, again)
	if !strings.Contains(buf.String(), "Nothing to delete") {
		t.Errorf("second run says:\n%s", buf.String())
	}
	res2, err := f.cleaner(Options{}).Execute(ctx, again)
	if err != nil || !res2.Clean() || len(res2.Deleted) != 0 {
		t.Fatalf("second execute: %+v %v", res2, err)
	}
	f.assertDecoys(t, d)
}

func TestEveryActionTwice(t *testing.T) {
	f := newFixture(t)
	f.setupLab(t)
	d := f.setupDecoys(t)
	c := f.cleaner(Options{})
	plan, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]bool{}
	for _, r := range plan.Resources {
		kinds[r.Kind] = true
		gone, err := c.Delete(ctx, r)
		if err != nil || gone {
			t.Fatalf("first delete of %s: gone=%v err=%v", r.Key(), gone, err)
		}
		gone, err = c.Delete(ctx, r)
		if err != nil || !gone {
			t.Fatalf("second delete of %s: gone=%v err=%v (want already gone, no error)", r.Key(), gone, err)
		}
		if r.Kind == KindNotification {
			cfg, err := f.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(r.Name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.LambdaFunctionConfigurations) != 1 || aws.ToString(cfg.LambdaFunctionConfigurations[0].Id) != "not-the-lab" {
				t.Errorf("notification after cleanup: %+v, want only the decoy's configuration", cfg.LambdaFunctionConfigurations)
			}
		}
	}
	for _, k := range Order {
		if !kinds[k] {
			t.Errorf("no %s in the plan: the test did not exercise its deletion", k)
		}
	}
	if left := f.labLeft(t); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
	f.assertDecoys(t, d)
}

func TestInterruptedCleanupResumes(t *testing.T) {
	f := newFixture(t)
	f.setupLab(t)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	c := f.cleaner(Options{Progress: func(e Event) {
		// Cancel in the middle: after the functions, while the bucket empties.
		if e.Status == StatusDeleted {
			n++
			if n == 5 {
				cancel()
			}
		}
	}})
	plan, err := c.Discover(cctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(cctx, plan)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if len(res.Deleted) == 0 || len(res.Deleted) >= len(plan.Resources) {
		t.Fatalf("deleted %d of %d before the interruption: not mid-cleanup", len(res.Deleted), len(plan.Resources))
	}
	if left := f.labLeft(t); len(left) == 0 {
		t.Fatal("nothing left after the interruption")
	}
	// An interrupted run verified nothing and must not say it did.
	var out strings.Builder
	WriteResult(&out, "SANDBOX", res)
	if res.Clean() || res.Verified || strings.Contains(out.String(), "Verified") || !strings.Contains(out.String(), "Not verified") {
		t.Fatalf("interrupted run reads as verified (clean %v):\n%s", res.Clean(), out.String())
	}
	// Run again: rediscovery resumes from what is left.
	c2 := f.cleaner(Options{})
	plan2, err := c2.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan2.Resources) >= len(plan.Resources) || plan2.Empty() {
		t.Fatalf("resumed plan has %d resources (first had %d)", len(plan2.Resources), len(plan.Resources))
	}
	res2, err := c2.Execute(ctx, plan2)
	if err != nil || !res2.Clean() {
		t.Fatalf("resume: %+v %v", res2, err)
	}
	if left := f.labLeft(t); len(left) > 0 {
		t.Fatalf("left after resuming: %v", left)
	}
}

func TestVersionedBucketWith2500Versions(t *testing.T) {
	f := newFixture(t)
	n := f.names
	f.bucket(t, n.Bucket, labTags())
	// 1,000 keys x 2 versions + 500 delete markers = 2,500 entries.
	f.put(t, n.Bucket, 1000, 2, 500)
	c := f.cleaner(Options{})
	plan, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := planHas(plan, KindBucket, n.Bucket)
	if r == nil {
		t.Fatalf("bucket not planned: %+v", plan)
	}
	if r.versions != 2500 || !strings.Contains(r.Detail, "2,000 object versions and 500 delete markers") {
		t.Fatalf("detail %q (%d)", r.Detail, r.versions)
	}
	mark := f.srv.AuditMark()
	gone, err := c.Delete(ctx, r)
	if err != nil || gone {
		t.Fatalf("delete: %v %v", gone, err)
	}
	var lists, deletes int
	for _, e := range f.srv.AuditSince(mark) {
		switch e.Operation {
		case "ListObjectVersions":
			lists++
		case "DeleteObjects":
			deletes++
		}
	}
	// Three pages of at most 1,000 (plus the final empty listing), three
	// batches of at most 1,000 keys.
	if lists < 3 || deletes != 3 {
		t.Errorf("ListObjectVersions %d, DeleteObjects %d; want >= 3 and 3", lists, deletes)
	}
	if _, err := f.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(n.Bucket)}); !awserr.IsNotFound(err) {
		t.Fatalf("bucket still there: %v", err)
	}
}

func TestDiscoverMakesNoMutatingCall(t *testing.T) {
	f := newFixture(t)
	f.setupLab(t)
	f.setupDecoys(t)
	mark := f.srv.AuditMark()
	plan, err := f.cleaner(Options{}).Discover(ctx)
	if err != nil || plan.Empty() {
		t.Fatal(plan, err)
	}
	var buf bytes.Buffer
	WritePlan(&buf, plan)
	if m := f.srv.MutatingSince(mark); len(m) > 0 {
		t.Fatalf("discovery made mutating calls: %+v", m)
	}
	if len(f.srv.AuditSince(mark)) == 0 {
		t.Fatal("the audit log saw no calls at all")
	}
}

func TestKeepLogs(t *testing.T) {
	f := newFixture(t)
	f.setupLab(t)
	c := f.cleaner(Options{KeepLogs: true})
	plan, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan.Resources {
		if r.Kind == KindLogGroup {
			t.Fatalf("--keep-logs planned %s", r.Name)
		}
	}
	if k := keptHas(plan, KindLogGroup, "/aws/lambda/"+f.names.QueueFunction); k == nil || !strings.Contains(k.Why, "--keep-logs") {
		t.Fatalf("kept: %+v", plan.Kept)
	}
	res, err := c.Execute(ctx, plan)
	if err != nil || !res.Clean() {
		t.Fatalf("%+v %v", res, err)
	}
	left := f.labLeft(t)
	if len(left) != 3 {
		t.Fatalf("want only the three log groups left, got %v", left)
	}
	for _, l := range left {
		if !strings.HasPrefix(l, "log group ") {
			t.Fatalf("left %v", left)
		}
	}
}

// A renamed lab (state names with a suffix) is found by its names and
// tags, and the guide's default names belonging to another learner (tagged
// with another state id) are kept.
func TestRenamedLabAndAnotherLearner(t *testing.T) {
	f := newFixture(t)
	other := f.names // the guide's names, another learner's state
	f.names = lab.DefaultNames().WithSuffix("ana")
	f.names.Bucket = f.names.BucketFor(account, 1764000001)
	f.setupLab(t)
	otherTags := map[string]string{lab.TagKey: lab.TagValue, lab.TagStateKey: "0ther0ne"}
	f.table(t, other.Table, otherTags)
	// A table of this learner's lab under a name the state does not know:
	// found by its tag.
	f.table(t, "ana-extra-table", labTags())
	c := f.cleaner(Options{})
	plan, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if planHas(plan, KindTable, f.names.Table) == nil {
		t.Errorf("renamed table not planned")
	}
	if r := planHas(plan, KindTable, "ana-extra-table"); r == nil || !strings.Contains(r.Why, "tag slab:lab and slab:state="+stateID) {
		t.Errorf("tagged table: %+v", r)
	}
	if k := keptHas(plan, KindTable, other.Table); k == nil || !strings.Contains(k.Why, "another learner") {
		t.Errorf("another learner's table: %+v, plan %+v", k, planHas(plan, KindTable, other.Table))
	}
}

// The case: the lab's role name, untagged, made by hand with an
// inline *:* policy the lab never writes and used by a function that is not
// the lab's. Cleanup keeps it and says why; a role that only a non-lab
// function uses is kept even when tagged, since deleting it breaks that
// function. Each run twice: the second finds the same.
func TestCleanupKeepsRolesOthersDependOn(t *testing.T) {
	f := newFixture(t)
	arn := f.role(t, f.names.Role, nil)
	ok[*iam.PutRolePolicyOutput](t, "PutRolePolicy")(f.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(f.names.Role),
		PolicyName: aws.String("admin"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))
	f.function(t, "billing-exporter", arn, nil)
	for range 2 {
		c := f.cleaner(Options{})
		plan, err := c.Discover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if planHas(plan, KindRole, f.names.Role) != nil {
			t.Fatalf("plan deletes role %s", f.names.Role)
		}
		k := keptHas(plan, KindRole, f.names.Role)
		if k == nil || !strings.Contains(k.Why, "admin") && !strings.Contains(k.Why, "billing-exporter") {
			t.Fatalf("role kept without saying why: %+v", k)
		}
		if _, err := c.Execute(ctx, plan); err != nil {
			t.Fatal(err)
		}
		if _, err := f.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(f.names.Role)}); err != nil {
			t.Fatalf("role deleted: %v", err)
		}
	}

	// Inline policies alone: kept, naming them.
	g := newFixture(t)
	g.role(t, g.names.Role, nil)
	ok[*iam.PutRolePolicyOutput](t, "PutRolePolicy")(g.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(g.names.Role),
		PolicyName: aws.String("admin"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))
	plan, err := g.cleaner(Options{}).Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k := keptHas(plan, KindRole, g.names.Role); k == nil || !strings.Contains(k.Why, "inline policies the lab never writes (admin)") {
		t.Fatalf("inline-only case: %+v", k)
	}

	// A tagged lab role that a non-lab function runs as: kept, naming it.
	h := newFixture(t)
	harn := h.role(t, h.names.Role, labTags())
	h.function(t, "billing-exporter", harn, nil)
	plan, err = h.cleaner(Options{}).Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k := keptHas(plan, KindRole, h.names.Role); k == nil || !strings.Contains(k.Why, "function billing-exporter, which is not the lab's, runs as it") || planHas(plan, KindRole, h.names.Role) != nil {
		t.Fatalf("tagged role used by another function: %+v", k)
	}
}
