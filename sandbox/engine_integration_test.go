package sandbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	eb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	lamtypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/lambdas"
	"github.com/slab-lab/slab/sandbox"
)

// These tests build the whole lab in a sandbox through the SDK, as the
// guide does with the CLI, and run it with real Lambda execution: the
// functions are testdata/engine-bootstrap (the lab's handlers from package
// lambdas, plus one that always fails) built for this host and deployed as
// provided.al2023 bootstraps.

const (
	labTable = "lambda-integration-data"
	labRole  = "lambda-integration-role"
	labQueue = "lambda-integration-queue"
	labTopic = "lambda-integration-notifications"
	labRule  = "lambda-integration-schedule"
	fnS3     = "s3-to-dynamodb-processor"
	fnEvent  = "event-to-sns-processor"
	fnQueue  = "sqs-processor"
)

var (
	bootstrapOnce sync.Once
	bootstrapZip  []byte
	bootstrapErr  error
)

// labZip is the deployment package: the bootstrap built for this host.
func labZip(t testing.TB) []byte {
	t.Helper()
	bootstrapOnce.Do(func() {
		dir, err := os.MkdirTemp("", "slab-engine-bootstrap-")
		if err != nil {
			bootstrapErr = err
			return
		}
		defer os.RemoveAll(dir)
		exe := filepath.Join(dir, "bootstrap")
		if goruntime.GOOS == "windows" {
			exe += ".exe"
		}
		out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", exe, "./testdata/engine-bootstrap").CombinedOutput()
		if err != nil {
			bootstrapErr = fmt.Errorf("go build ./testdata/engine-bootstrap: %v\n%s", err, out)
			return
		}
		b, err := os.ReadFile(exe)
		if err != nil {
			bootstrapErr = err
			return
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err == nil {
			_, err = w.Write(b)
		}
		if err == nil {
			err = zw.Close()
		}
		bootstrapZip, bootstrapErr = buf.Bytes(), err
	})
	if bootstrapErr != nil {
		t.Fatal(bootstrapErr)
	}
	return bootstrapZip
}

// lab is a sandbox with the lab's resources and SDK clients.
type lab struct {
	srv    *sandbox.Server
	url    string
	bucket string
	topic  string
	queue  string // URL
	qarn   string
	rule   string // ARN
	fnArn  map[string]string
	s3     *s3.Client
	ddb    *dynamodb.Client
	sns    *sns.Client
	sqs    *sqs.Client
	lam    *lam.Client
	eb     *eb.Client
	logs   *cwl.Client
}

// labSetup says which pieces to leave out or break, for the breakage
// tests.
type labSetup struct {
	noS3Permission     bool // skip add-permission for s3.amazonaws.com (and the notification)
	noQueuePolicy      bool
	noEventsPermission bool
	s3Handler          string // the s3 function's handler; default s3-processor
	// dlq names a dead-letter queue for the lab queue (maxReceiveCount 2);
	// the queue processor then gets a 1-second timeout and the queue a
	// 1-second visibility timeout, so redrive takes seconds.
	dlq string
	// rolePolicies replaces the managed policies attached to the role
	// (names under arn:aws:iam::aws:policy/).
	rolePolicies []string
}

var ctx = context.Background()

func must[T any](t testing.TB, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func newLab(t testing.TB, o sandbox.Options, set labSetup) *lab {
	t.Helper()
	zipFile := labZip(t)
	srv, err := sandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL())}
	l := &lab{
		srv: srv, url: srv.URL(), bucket: "lambda-integration-000000000000-1", fnArn: map[string]string{},
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		ddb: dynamodb.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg),
		lam: lam.NewFromConfig(cfg), eb: eb.NewFromConfig(cfg), logs: cwl.NewFromConfig(cfg),
	}
	im := iam.NewFromConfig(cfg)

	// Step 1: the execution role.
	role := must[*iam.CreateRoleOutput](t, "CreateRole")(im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(labRole),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))
	policies := []string{"service-role/AWSLambdaBasicExecutionRole", "AmazonS3FullAccess", "AmazonDynamoDBFullAccess", "AmazonSNSFullAccess", "AmazonSQSFullAccess"}
	if set.rolePolicies != nil {
		policies = set.rolePolicies
	}
	for _, p := range policies {
		must[*iam.AttachRolePolicyOutput](t, "AttachRolePolicy")(im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(labRole), PolicyArn: aws.String("arn:aws:iam::aws:policy/" + p)}))
	}
	roleArn := aws.ToString(role.Role.Arn)

	// Step 2: the table.
	must[*dynamodb.CreateTableOutput](t, "CreateTable")(l.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(labTable),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest}))
	if err := dynamodb.NewTableExistsWaiter(l.ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second }).
		Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(labTable)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	// Step 3: the versioned bucket.
	must[*s3.CreateBucketOutput](t, "CreateBucket")(l.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(l.bucket)}))
	must[*s3.PutBucketVersioningOutput](t, "PutBucketVersioning")(l.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(l.bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))

	// Step 5: topic and queue (created before the functions that name them).
	l.topic = aws.ToString(must[*sns.CreateTopicOutput](t, "CreateTopic")(l.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(labTopic)})).TopicArn)
	qTimeout := int32(30)
	qattrs := map[string]string{"VisibilityTimeout": "180"} // 6 x the function timeout
	if set.dlq != "" {
		must[*sqs.CreateQueueOutput](t, "CreateQueue DLQ")(l.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(set.dlq)}))
		qTimeout = 1
		qattrs["VisibilityTimeout"] = "1"
		qattrs["RedrivePolicy"] = `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:` + set.dlq + `","maxReceiveCount":"2"}`
	}
	l.queue = aws.ToString(must[*sqs.CreateQueueOutput](t, "CreateQueue")(l.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(labQueue), Attributes: qattrs})).QueueUrl)
	l.qarn = "arn:aws:sqs:us-east-1:000000000000:" + labQueue
	must[*sns.SubscribeOutput](t, "Subscribe")(l.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(l.topic), Protocol: aws.String("sqs"), Endpoint: aws.String(l.qarn)}))
	if !set.noQueuePolicy {
		l.allowSNS(t, l.queue, l.qarn)
	}

	// Steps 4, 6, 7: the functions.
	s3Handler := set.s3Handler
	if s3Handler == "" {
		s3Handler = lambdas.S3Processor
	}
	l.function(t, fnS3, s3Handler, roleArn, 30, nil, zipFile)
	l.function(t, fnEvent, lambdas.EventProcessor, roleArn, 30, map[string]string{"SNS_TOPIC_ARN": l.topic}, zipFile)
	l.function(t, fnQueue, lambdas.QueueProcessor, roleArn, qTimeout, nil, zipFile)
	for _, fn := range []string{fnS3, fnEvent, fnQueue} {
		if err := lam.NewFunctionActiveV2Waiter(l.lam, func(o *lam.FunctionActiveV2WaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second }).
			Wait(ctx, &lam.GetFunctionInput{FunctionName: aws.String(fn)}, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	if !set.noS3Permission {
		l.permit(t, fnS3, "s3-trigger", "s3.amazonaws.com", "arn:aws:s3:::"+l.bucket, "000000000000")
		must[*s3.PutBucketNotificationConfigurationOutput](t, "PutBucketNotificationConfiguration")(l.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(l.bucket), NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
				LambdaFunctionArn: aws.String(l.fnArn[fnS3]), Events: []s3types.Event{"s3:ObjectCreated:*"},
				Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: "suffix", Value: aws.String(".json")}}}},
			}}}}))
	}

	l.rule = aws.ToString(must[*eb.PutRuleOutput](t, "PutRule")(l.eb.PutRule(ctx, &eb.PutRuleInput{Name: aws.String(labRule), ScheduleExpression: aws.String("rate(5 minutes)")})).RuleArn)
	if !set.noEventsPermission {
		l.permit(t, fnEvent, "eventbridge-trigger", "events.amazonaws.com", l.rule, "")
	}
	must[*eb.PutTargetsOutput](t, "PutTargets")(l.eb.PutTargets(ctx, &eb.PutTargetsInput{Rule: aws.String(labRule),
		Targets: []ebtypes.Target{{Id: aws.String("1"), Arn: aws.String(l.fnArn[fnEvent])}}}))

	m := must[*lam.CreateEventSourceMappingOutput](t, "CreateEventSourceMapping")(l.lam.CreateEventSourceMapping(ctx, &lam.CreateEventSourceMappingInput{
		FunctionName: aws.String(fnQueue), EventSourceArn: aws.String(l.qarn), BatchSize: aws.Int32(10),
		FunctionResponseTypes: []lamtypes.FunctionResponseType{lamtypes.FunctionResponseTypeReportBatchItemFailures}}))
	waitFor(t, 15*time.Second, "the event source mapping to be Enabled", func() bool {
		out, err := l.lam.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m.UUID})
		return err == nil && aws.ToString(out.State) == "Enabled"
	})
	return l
}

func (l *lab) function(t testing.TB, name, handler, role string, timeout int32, env map[string]string, zipFile []byte) {
	t.Helper()
	in := &lam.CreateFunctionInput{FunctionName: aws.String(name), Runtime: lamtypes.RuntimeProvidedal2023, Handler: aws.String(handler),
		Role: aws.String(role), Code: &lamtypes.FunctionCode{ZipFile: zipFile}, Timeout: aws.Int32(timeout), MemorySize: aws.Int32(256)}
	if env != nil {
		in.Environment = &lamtypes.Environment{Variables: env}
	}
	out := must[*lam.CreateFunctionOutput](t, "CreateFunction "+name)(l.lam.CreateFunction(ctx, in))
	l.fnArn[name] = aws.ToString(out.FunctionArn)
}

func (l *lab) permit(t testing.TB, fn, sid, principal, sourceArn, sourceAccount string) {
	t.Helper()
	in := &lam.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String(principal), SourceArn: aws.String(sourceArn)}
	if sourceAccount != "" {
		in.SourceAccount = aws.String(sourceAccount)
	}
	must[*lam.AddPermissionOutput](t, "AddPermission "+sid)(l.lam.AddPermission(ctx, in))
}

// allowSNS sets the guide's queue policy (corrected: Policy as a string).
func (l *lab) allowSNS(t testing.TB, url, arn string) {
	t.Helper()
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, arn, l.topic)
	must[*sqs.SetQueueAttributesOutput](t, "SetQueueAttributes")(l.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": doc}}))
}

func (l *lab) upload(t testing.TB, key, body string) *s3.PutObjectOutput {
	t.Helper()
	return must[*s3.PutObjectOutput](t, "PutObject "+key)(l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(key),
		ContentType: aws.String("application/json"), Body: strings.NewReader(body)}))
}

// item reads a row by id (nil when absent).
func (l *lab) item(t testing.TB, id string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out := must[*dynamodb.GetItemOutput](t, "GetItem")(l.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(labTable),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)}))
	return out.Item
}

// summaries lists the ids of the summary rows.
func (l *lab) summaries(t testing.TB) []string {
	t.Helper()
	var ids []string
	p := dynamodb.NewScanPaginator(l.ddb, &dynamodb.ScanInput{TableName: aws.String(labTable)})
	for p.HasMorePages() {
		out := must[*dynamodb.ScanOutput](t, "Scan")(p.NextPage(ctx))
		for _, it := range out.Items {
			if id, ok := it["id"].(*ddbtypes.AttributeValueMemberS); ok && strings.HasPrefix(id.Value, "summary-") {
				ids = append(ids, id.Value)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// logText is every log event of a function, "" when its group does not
// exist yet.
func (l *lab) logText(t testing.TB, fn string) string {
	t.Helper()
	var b strings.Builder
	p := cwl.NewFilterLogEventsPaginator(l.logs, &cwl.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + fn)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException" {
				return ""
			}
			t.Fatalf("FilterLogEvents %s: %v", fn, err)
		}
		for _, e := range out.Events {
			b.WriteString(aws.ToString(e.Message))
			if !strings.HasSuffix(aws.ToString(e.Message), "\n") {
				b.WriteByte('\n')
			}
		}
	}
	return b.String()
}

// lifecycle counts the START, END and REPORT lines of a log.
func lifecycle(text string) (start, end, report int) {
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "START RequestId: "):
			start++
		case strings.HasPrefix(line, "END RequestId: "):
			end++
		case strings.HasPrefix(line, "REPORT RequestId: "):
			report++
		}
	}
	return
}

// admin calls a /_slab/ endpoint with the sandbox's admin token.
func (l *lab) admin(t testing.TB, method, path string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(method, l.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.srv.AdminToken())
	return http.DefaultClient.Do(req)
}

func (l *lab) trigger(t testing.TB, name string) sandbox.FireResult {
	t.Helper()
	resp, err := l.admin(t, "POST", "/_slab/events/rules/"+name+"/trigger")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res sandbox.FireResult
	if resp.StatusCode != 200 || json.Unmarshal(b, &res) != nil {
		t.Fatalf("trigger %s: %d %s", name, resp.StatusCode, b)
	}
	return res
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLabChainRunsInSandbox(t *testing.T) {
	l := newLab(t, sandbox.Options{}, labSetup{})

	// A .json upload becomes a row within seconds.
	put := l.upload(t, "test-data.json", `{"id":"test-item-1","name":"Test Item"}`)
	rowID := lambdas.S3ItemID(l.bucket, "test-data.json", aws.ToString(put.VersionId), "")
	waitFor(t, 10*time.Second, "the row of test-data.json", func() bool { return l.item(t, rowID) != nil })
	row := l.item(t, rowID)
	if fn, _ := row["fileName"].(*ddbtypes.AttributeValueMemberS); fn == nil || fn.Value != "test-data.json" {
		t.Fatalf("row %v", row)
	}

	// A .txt upload invokes nothing: the next .json is processed and the
	// text file never was.
	mark := l.srv.DeliveryMark()
	l.upload(t, "notes.txt", "plain text")
	put = l.upload(t, "second.json", `{"n":2}`)
	waitFor(t, 10*time.Second, "the row of second.json", func() bool {
		return l.item(t, lambdas.S3ItemID(l.bucket, "second.json", aws.ToString(put.VersionId), "")) != nil
	})
	for _, d := range l.srv.Deliveries(mark) {
		if strings.Contains(d.Detail, "notes.txt") {
			t.Fatalf("the .txt upload was delivered: %+v", d)
		}
	}
	if strings.Contains(l.logText(t, fnS3), "notes.txt") {
		t.Fatal("the function saw notes.txt")
	}

	// Publishing puts the SNS envelope on the queue: a second queue
	// subscribed to the topic (no mapping drains it) shows the body.
	inspectURL := aws.ToString(must[*sqs.CreateQueueOutput](t, "CreateQueue")(l.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inspect")})).QueueUrl)
	inspectArn := "arn:aws:sqs:us-east-1:000000000000:inspect"
	l.allowSNS(t, inspectURL, inspectArn)
	must[*sns.SubscribeOutput](t, "Subscribe")(l.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(l.topic), Protocol: aws.String("sqs"), Endpoint: aws.String(inspectArn)}))
	pub := must[*sns.PublishOutput](t, "Publish")(l.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(l.topic), Subject: aws.String("manual"),
		Message: aws.String(`{"timestamp":"2026-01-01T00:00:00Z","itemCount":7}`)}))
	msgID := aws.ToString(pub.MessageId)
	recv := must[*sqs.ReceiveMessageOutput](t, "ReceiveMessage")(l.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(inspectURL), WaitTimeSeconds: 5}))
	if len(recv.Messages) != 1 {
		t.Fatalf("inspect queue: %d messages", len(recv.Messages))
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(recv.Messages[0].Body)), &env); err != nil {
		t.Fatal(err)
	}
	if env["Type"] != "Notification" || env["MessageId"] != msgID || env["TopicArn"] != l.topic || env["Message"] != `{"timestamp":"2026-01-01T00:00:00Z","itemCount":7}` {
		t.Fatalf("envelope %v", env)
	}

	// The event source mapping drains the lab queue into sqs-processor,
	// which stores the summary under the SNS message id.
	waitFor(t, 10*time.Second, "the summary row of the published message", func() bool { return l.item(t, lambdas.SummaryItemID(msgID)) != nil })
	waitFor(t, 10*time.Second, "the lab queue to be empty", func() bool {
		out := must[*sqs.GetQueueAttributesOutput](t, "GetQueueAttributes")(l.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(l.queue),
			AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}}))
		return out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
	})

	// Firing the rule runs the chain: event-to-sns-processor scans and
	// publishes, SNS delivers, the mapping invokes sqs-processor, and a new
	// summary row appears.
	before := len(l.summaries(t))
	res := l.trigger(t, labRule)
	if len(res.Targets) != 1 || !res.Targets[0].Delivered {
		t.Fatalf("trigger %+v", res)
	}
	waitFor(t, 15*time.Second, "the summary row of the scheduled run", func() bool { return len(l.summaries(t)) > before })

	// Every invocation logged START, END and REPORT.
	for _, fn := range []string{fnS3, fnEvent, fnQueue} {
		var s, e, r int
		waitFor(t, 10*time.Second, "the logs of "+fn, func() bool {
			s, e, r = lifecycle(l.logText(t, fn))
			return s > 0 && s == e && e == r
		})
	}
	if s, _, _ := lifecycle(l.logText(t, fnS3)); s != 2 {
		t.Errorf("%s ran %d times, want 2 (two .json uploads)", fnS3, s)
	}
	if s, _, _ := lifecycle(l.logText(t, fnEvent)); s != 1 {
		t.Errorf("%s ran %d times, want 1", fnEvent, s)
	}
	if m := l.srv.TopicMetrics(l.topic); m.NumberOfMessagesPublished != 2 || m.NumberOfNotificationsDelivered != 4 || m.NumberOfNotificationsFailed != 0 {
		t.Errorf("topic metrics %+v", m)
	}
}

// Breakage: no queue policy. The subscription is confirmed, the publish
// succeeds, and nothing reaches the queue; SNS counts a failed
// notification.
// Breakage: the execution role has no DynamoDB permissions. On AWS the
// function runs as its role: its PutItem fails with AccessDeniedException,
// which the function's log shows, and no row appears.
func TestLabBreakRoleWithoutDynamoDBAccess(t *testing.T) {
	l := newLab(t, sandbox.Options{}, labSetup{rolePolicies: []string{"service-role/AWSLambdaBasicExecutionRole", "AmazonS3FullAccess", "AmazonSNSFullAccess", "AmazonSQSFullAccess"}})
	put := l.upload(t, "denied.json", `{"id":"denied"}`)
	want := "User: arn:aws:sts::000000000000:assumed-role/" + labRole + "/" + fnS3 + " is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/" + labTable + " because no identity-based policy allows the dynamodb:PutItem action"
	waitFor(t, 15*time.Second, "AccessDeniedException in the function's log", func() bool {
		text := l.logText(t, fnS3)
		return strings.Contains(text, "AccessDeniedException") && strings.Contains(text, want)
	})
	if row := l.item(t, lambdas.S3ItemID(l.bucket, "denied.json", aws.ToString(put.VersionId), "")); row != nil {
		t.Fatalf("a row without DynamoDB permissions: %v", row)
	}
}

func TestLabBreakMissingQueuePolicy(t *testing.T) {
	l := newLab(t, sandbox.Options{}, labSetup{noQueuePolicy: true})
	res := l.trigger(t, labRule)
	if !res.Targets[0].Delivered {
		t.Fatalf("trigger %+v", res)
	}
	waitFor(t, 15*time.Second, "the failed notification", func() bool { return l.srv.TopicMetrics(l.topic).NumberOfNotificationsFailed == 1 })
	m := l.srv.TopicMetrics(l.topic)
	if m.NumberOfMessagesPublished != 1 || m.NumberOfNotificationsDelivered != 0 {
		t.Fatalf("metrics %+v", m)
	}
	time.Sleep(500 * time.Millisecond)
	if s := l.summaries(t); len(s) != 0 {
		t.Fatalf("summary rows without a queue policy: %v", s)
	}
	resp, err := l.admin(t, "GET", "/_slab/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string][]sandbox.TopicMetrics
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body["AWS/SNS"]) != 1 || body["AWS/SNS"][0].NumberOfNotificationsFailed != 1 {
		t.Fatalf("/_slab/metrics %v %+v", err, body)
	}
}

// Breakage: put-targets without add-permission for events.amazonaws.com.
// The rule fires and the function never runs.
func TestLabBreakMissingEventsPermission(t *testing.T) {
	l := newLab(t, sandbox.Options{}, labSetup{noEventsPermission: true})
	res := l.trigger(t, labRule)
	if len(res.Targets) != 1 || res.Targets[0].Delivered || !strings.Contains(res.Targets[0].Reason, "events.amazonaws.com") {
		t.Fatalf("trigger %+v", res)
	}
	time.Sleep(500 * time.Millisecond)
	if s, _, _ := lifecycle(l.logText(t, fnEvent)); s != 0 {
		t.Fatalf("%s ran %d times without the permission", fnEvent, s)
	}
}

// Breakage: the function fails on every S3 event. Lambda retries an
// asynchronous invocation twice, then gives up: three attempts in the
// logs, no row.
func TestLabBreakHandlerErrorRetriedTwice(t *testing.T) {
	l := newLab(t, sandbox.Options{AsyncRetryDelay: 100 * time.Millisecond}, labSetup{s3Handler: "always-fail"})
	l.upload(t, "test-data.json", `{}`)
	waitFor(t, 20*time.Second, "three attempts", func() bool {
		s, _, _ := lifecycle(l.logText(t, fnS3))
		return s >= 3
	})
	time.Sleep(time.Second) // past when a fourth attempt would come
	text := l.logText(t, fnS3)
	if s, e, r := lifecycle(text); s != 3 || e != 3 || r != 3 {
		t.Fatalf("attempts: %d START, %d END, %d REPORT; want 3 each\n%s", s, e, r, text)
	}
	if !strings.Contains(text, "handler failed on purpose") {
		t.Fatalf("the error is not in the log:\n%s", text)
	}
}

// Breakage: a poison message (the guide's own debug send-message) on a
// queue with a dead-letter queue: sqs-processor reports it as a batch item
// failure each time, and after maxReceiveCount receives SQS moves it to
// the DLQ.
func TestLabBreakPoisonMessageToDLQ(t *testing.T) {
	dlqName := "lambda-integration-dlq"
	l := newLab(t, sandbox.Options{}, labSetup{dlq: dlqName})
	must[*sqs.SendMessageOutput](t, "SendMessage")(l.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(l.queue), MessageBody: aws.String(`{"test":"message"}`)}))
	dlqURL := aws.ToString(must[*sqs.GetQueueUrlOutput](t, "GetQueueUrl")(l.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(dlqName)})).QueueUrl)
	var dead []string
	waitFor(t, 30*time.Second, "the poison message in the DLQ", func() bool {
		out := must[*sqs.ReceiveMessageOutput](t, "ReceiveMessage")(l.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL)}))
		for _, m := range out.Messages {
			dead = append(dead, aws.ToString(m.Body))
		}
		return len(dead) > 0
	})
	if dead[0] != `{"test":"message"}` {
		t.Fatalf("DLQ got %q", dead[0])
	}
	if s, _, _ := lifecycle(l.logText(t, fnQueue)); s != 2 {
		t.Errorf("%s ran %d times, want maxReceiveCount = 2", fnQueue, s)
	}
}

// Breakage: the notification without S3's invoke permission is refused
// with InvalidArgument.
func TestLabBreakNotificationWithoutPermission(t *testing.T) {
	l := newLab(t, sandbox.Options{}, labSetup{noS3Permission: true})
	_, err := l.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(l.bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
			LambdaFunctionArn: aws.String(l.fnArn[fnS3]), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" || ae.ErrorMessage() != "Unable to validate the following destination configurations" {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
}

// BenchmarkUploadToRow measures the lab's first hop end to end with real
// Lambda execution: PutObject of a .json file until its row can be read
// from DynamoDB (S3 event, engine, runtime, the function's GetObject and
// PutItem). It reports the median and 95th percentile, with state in
// memory and with the fsynced journal of a data directory.
func BenchmarkUploadToRow(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchUploadToRow(b, sandbox.Options{}) })
	b.Run("journal", func(b *testing.B) { benchUploadToRow(b, sandbox.Options{DataDir: b.TempDir()}) })
}

func benchUploadToRow(b *testing.B, o sandbox.Options) {
	l := newLab(b, o, labSetup{})
	run := func(i int) time.Duration {
		key := fmt.Sprintf("bench/%d.json", i)
		begin := time.Now()
		put := l.upload(b, key, `{"bench":true}`)
		id := lambdas.S3ItemID(l.bucket, key, aws.ToString(put.VersionId), "")
		for l.item(b, id) == nil {
			if time.Since(begin) > 30*time.Second {
				b.Fatalf("no row for %s after 30 s", key)
			}
			time.Sleep(200 * time.Microsecond)
		}
		return time.Since(begin)
	}
	run(-1) // the cold start: the function's first environment
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = append(lat, run(i))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}

// With compressed time the schedule alone drives the chain: at 3000x,
// rate(5 minutes) fires every 100 ms.
func TestLabScheduleFiresOnCompressedTime(t *testing.T) {
	l := newLab(t, sandbox.Options{TimeScale: 3000}, labSetup{})
	waitFor(t, 20*time.Second, "two summary rows from scheduled runs", func() bool { return len(l.summaries(t)) >= 2 })
	if s, _, _ := lifecycle(l.logText(t, fnEvent)); s < 2 {
		t.Fatalf("%s ran %d times", fnEvent, s)
	}
}
