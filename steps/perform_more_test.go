package steps_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/steps"
)

// cancelAfter cancels a context as soon as a matching request got its
// response: the mutating call completed, the wait after it is cut short.
type cancelAfter struct {
	next   aws.HTTPClient
	match  func(*http.Request) bool
	cancel func()
	once   sync.Once
}

func (c *cancelAfter) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if err == nil && c.match(r) {
		c.once.Do(c.cancel)
	}
	return resp, err
}

// TestInterruptedWhileWaitingForAFunction cancels right after CreateFunction
// returned, while perform waits for the function to be Active: the outcome
// still says the function was created, and the next run converges.
func TestInterruptedWhileWaitingForAFunction(t *testing.T) {
	tg := openTarget(t)
	tg.mustPerform(t, tg.opts(), lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepS3Bucket)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := *tg.env
	env.Config = tg.env.Config.Copy()
	env.Config.HTTPClient = &cancelAfter{next: tg.env.Config.HTTPClient, cancel: cancel, match: func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/2015-03-31/functions")
	}}
	out, err := steps.ByID(lab.StepS3Processor).Perform(ctx, &env, tg.names, tg.opts())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v\n%s", err, dump(out.Resources))
	}
	if len(out.Resources) != 1 || out.Resources[0].Action != steps.ActionCreated || !strings.Contains(out.Resources[0].Detail, "interrupted") ||
		!strings.HasSuffix(out.Resources[0].ID, ":function:"+tg.names.S3Function) {
		t.Fatalf("outcome of the interrupted step:\n%s", dump(out.Resources))
	}
	again := tg.mustPerform(t, tg.opts(), lab.StepS3Processor)
	want := map[string]string{
		"Lambda function " + tg.names.S3Function:                   steps.ActionCorrect,
		"permission s3-trigger on function " + tg.names.S3Function: steps.ActionCreated,
	}
	for _, r := range again {
		if w, ok := want[r.Resource]; ok && r.Action != w {
			t.Errorf("rerun: %s %s, want %s", r.Action, r.Resource, w)
		}
	}
}

// TestNodejsRuntimeIsKeptUnlessAsked deploys the Node.js version, keeps it
// when no runtime is asked for, and moves to Go when asked.
func TestNodejsRuntimeIsKeptUnlessAsked(t *testing.T) {
	tg := openTarget(t)
	ctx := context.Background()
	tg.mustPerform(t, tg.opts(), lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepS3Bucket)
	o := tg.opts()
	o.Runtime = "nodejs"
	tg.mustPerform(t, o, lab.StepS3Processor)
	cfg, err := tg.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(tg.names.S3Function)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime != "nodejs22.x" || aws.ToString(cfg.Handler) != "index.handler" {
		t.Fatalf("runtime %s handler %s", cfg.Runtime, aws.ToString(cfg.Handler))
	}
	mark := tg.mark()
	for _, opt := range []string{"nodejs", ""} {
		o.Runtime = opt
		for _, r := range tg.mustPerform(t, o, lab.StepS3Processor) {
			if r.Action != steps.ActionCorrect {
				t.Errorf("runtime %q again: %s %s %s", opt, r.Action, r.Resource, r.Detail)
			}
		}
	}
	if ops, ok := tg.mutations(t, mark); ok && len(ops) > 0 {
		t.Errorf("reruns mutated: %v", ops)
	}
	o.Runtime = "go"
	mark = tg.mark()
	out := tg.mustPerform(t, o, lab.StepS3Processor)
	assertOnlyChanged(t, out, "Lambda function "+tg.names.S3Function, steps.ActionUpdated)
	if d := out[0].Detail; !strings.Contains(d, "runtime nodejs22.x, want provided.al2023") || !strings.Contains(d, "code differs") {
		t.Errorf("detail %q", d)
	}
	if ops, ok := tg.mutations(t, mark); ok && !slices.Equal(ops, []string{"lambda UpdateFunctionConfiguration", "lambda UpdateFunctionCode"}) {
		t.Errorf("switch calls %v", ops)
	}
}

// TestBucketOutsideUSEast1 creates the bucket with a location constraint
// where one is needed, twice.
func TestBucketOutsideUSEast1(t *testing.T) {
	if tg := openTarget(t); tg.srv == nil {
		t.Skip("needs the in-process sandbox (a region of its own)")
	}
	srv, err := sandbox.New(sandbox.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	env, err := awsenv.Load(ctx, awsenv.Target{Kind: awsenv.Sandbox, Endpoint: srv.URL(), Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	n := lab.DefaultNames()
	out, err := steps.ByID(lab.StepS3Bucket).Perform(ctx, env, n, steps.PerformOptions{StateID: "x"})
	if err != nil {
		t.Fatalf("%v\n%s", err, dump(out.Resources))
	}
	n.Bucket = out.Bucket
	c := s3.NewFromConfig(env.Config, func(o *s3.Options) { o.UsePathStyle = true })
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(n.Bucket)})
	if err != nil || string(loc.LocationConstraint) != "eu-west-1" {
		t.Fatalf("location %v %v", loc, err)
	}
	again, err := steps.ByID(lab.StepS3Bucket).Perform(ctx, env, n, steps.PerformOptions{StateID: "x"})
	if err != nil || again.Resources[0].Action != steps.ActionCorrect || again.Bucket != "" {
		t.Fatalf("again: %v %+v", err, again)
	}
}

// TestTableWithAnotherKeyIsReported: a table of the lab's name with the
// wrong key cannot be fixed in place; perform says so instead of guessing.
func TestTableWithAnotherKeyIsReported(t *testing.T) {
	tg := openTarget(t)
	ctx := context.Background()
	_, err := tg.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(tg.names.Table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tg.perform(ctx, t, tg.opts(), lab.StepDynamoDBTable)
	if err == nil || !strings.Contains(err.Error(), "the lab needs one string partition key id") || len(out) != 1 || out[0].Action != steps.ActionFailed {
		t.Fatalf("err %v\n%s", err, dump(out))
	}
}

// hostArch is the Lambda architecture whose bootstrap this host can run
// itself (the sandbox's runtime executes the zip's linux binary).
func hostArch() string {
	if runtime.GOARCH == "amd64" {
		return "x86_64"
	}
	return "arm64"
}

// TestEndToEnd runs step 8 after 1-7, then again: the second run reads the
// rows it already produced and changes nothing. Where the endpoint cannot run
// functions (no Lambda runtime wired), it checks that the failure names the
// part of the chain that did not deliver.
func TestEndToEnd(t *testing.T) {
	tg := openTarget(t)
	ctx := context.Background()
	o := tg.opts()
	o.Arch = hostArch()
	o.E2ETimeout = 30 * time.Second
	if tg.srv != nil {
		o.E2ETimeout = 10 * time.Second // in-process deliveries take well under a second
	}
	tg.mustPerform(t, o, labSteps...)
	start := time.Now()
	out, err := tg.perform(ctx, t, o, lab.StepEndToEnd)
	t.Logf("end-to-end took %s:\n%s", time.Since(start).Round(time.Millisecond), dump(out))
	if err != nil && tg.srv == nil && strings.Contains(err.Error(), "did not deliver") {
		t.Skipf("%s cannot run the lab's functions: %v", os.Getenv(testenv.EnvVar), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, r := range out {
		acts = append(acts, r.Action)
	}
	if !slices.Equal(acts, []string{steps.ActionDone, steps.ActionDone, steps.ActionDone, steps.ActionDone}) ||
		!strings.HasPrefix(out[3].Resource, "DynamoDB row summary-") {
		t.Errorf("first run:\n%s", dump(out))
	}
	mark := tg.mark()
	again, err := tg.perform(ctx, t, o, lab.StepEndToEnd)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if r.Action != steps.ActionCorrect {
			t.Errorf("second run: %s %s %s", r.Action, r.Resource, r.Detail)
		}
	}
	if ops, ok := tg.mutations(t, mark); ok {
		for _, op := range ops {
			if op != "dynamodb PutItem" && op != "sns Publish" && !strings.HasPrefix(op, "logs ") { // the functions' own calls, if the schedule fires
				t.Errorf("second run mutated: %v", ops)
				break
			}
		}
	}
}

// TestEndToEndNamesTheBrokenLink breaks both halves of the chain (the
// bucket's notification, the queue policy) and checks that the timeout
// says which part did not deliver.
func TestEndToEndNamesTheBrokenLink(t *testing.T) {
	tg := openTarget(t)
	testenv.RequireSandbox(t, tg.srv, "prompt deliveries within a short timeout")
	ctx := context.Background()
	o := tg.opts()
	o.Arch = hostArch()
	o.E2ETimeout = 3 * time.Second
	tg.mustPerform(t, o, labSteps...)
	if _, err := tg.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(tg.names.Bucket), NotificationConfiguration: &s3types.NotificationConfiguration{},
	}); err != nil {
		t.Fatal(err)
	}
	qurl, err := tg.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(tg.names.Queue)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: qurl.QueueUrl, Attributes: map[string]string{"Policy": ""}}); err != nil {
		t.Fatal(err)
	}
	out, err := tg.perform(ctx, t, o, lab.StepEndToEnd)
	if err == nil {
		t.Fatalf("a broken chain delivered:\n%s", dump(out))
	}
	for _, want := range []string{
		"S3 -> " + tg.names.S3Function + " -> DynamoDB did not deliver", "notification (slab-s3-processor",
		tg.names.EventFunction + " -> SNS -> SQS did not deliver", "check the subscription and the queue policy",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// The invoke itself worked and is reported as done.
	done := 0
	for _, r := range out {
		if r.Action == steps.ActionDone {
			done++
		}
	}
	if done != 2 {
		t.Errorf("want the upload and the invoke done:\n%s", dump(out))
	}
	// Repairing steps 4 and 5 makes the chain deliver.
	tg.mustPerform(t, o, lab.StepS3Processor, lab.StepSNSSQS)
	o.E2ETimeout = 30 * time.Second
	tg.mustPerform(t, o, lab.StepEndToEnd)
}
