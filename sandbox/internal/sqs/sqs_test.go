package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	sqssvc "github.com/slab-lab/slab/sandbox/internal/sqs"
)

// clock is a settable sandbox clock for visibility, delay and retention.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	env *sbtest.Env
	svc *sqssvc.Service
	cli *sqs.Client
	clk *clock
}

// start serves SQS alone. With fake=true the sandbox clock only moves when
// the test advances it.
func start(t testing.TB, fake bool) *fixture {
	t.Helper()
	var svc *sqssvc.Service
	env := sbtest.Start(t, func(c *core.Core) []core.Service {
		svc = sqssvc.New(c)
		return []core.Service{svc}
	})
	f := &fixture{env: env, svc: svc, cli: sqs.NewFromConfig(env.Config)}
	if fake {
		f.clk = &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		env.Core.Now = f.clk.Now
	}
	return f
}

var ctx = context.Background()

func (f *fixture) create(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out, err := f.cli.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func (f *fixture) arn(t testing.TB, url string) string {
	t.Helper()
	out, err := f.cli.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["QueueArn"]
}

func (f *fixture) attrs(t testing.TB, url string) map[string]string {
	t.Helper()
	out, err := f.cli.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func (f *fixture) send(t testing.TB, url, body string) string {
	t.Helper()
	out, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

func (f *fixture) receive(t testing.TB, url string, max int32, vis *int32) []types.Message {
	t.Helper()
	in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: max, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}}
	if vis != nil {
		in.VisibilityTimeout = *vis
	}
	out, err := f.cli.ReceiveMessage(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("want error code %s, got %v", code, err)
	}
}

func TestCreateQueueIsIdempotentAndDetectsConflicts(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "orders", map[string]string{"VisibilityTimeout": "60"})
	if want := f.env.URL + "/000000000000/orders"; url != want {
		t.Fatalf("url %s, want %s", url, want)
	}
	if again := f.create(t, "orders", map[string]string{"VisibilityTimeout": "60"}); again != url {
		t.Fatalf("second create returned %s", again)
	}
	if again := f.create(t, "orders", nil); again != url {
		t.Fatalf("create without attributes returned %s", again)
	}
	_, err := f.cli.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: map[string]string{"VisibilityTimeout": "90"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Fatalf("want QueueNameExists, got %v", err)
	}
	if exists.ErrorCode() != "QueueAlreadyExists" || exists.ErrorMessage() != "A queue already exists with the same name and a different value for attribute VisibilityTimeout" {
		t.Fatalf("code %q message %q", exists.ErrorCode(), exists.ErrorMessage())
	}
}

func TestCreateQueueValidatesNameAndAttributes(t *testing.T) {
	f := start(t, false)
	cases := []struct {
		name  string
		attrs map[string]string
		code  string
	}{
		{"vis-high", map[string]string{"VisibilityTimeout": "43201"}, "InvalidAttributeValue"},
		{"vis-word", map[string]string{"VisibilityTimeout": "soon"}, "InvalidAttributeValue"},
		{"retention-low", map[string]string{"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"},
		{"delay-high", map[string]string{"DelaySeconds": "901"}, "InvalidAttributeValue"},
		{"wait-high", map[string]string{"ReceiveMessageWaitTimeSeconds": "21"}, "InvalidAttributeValue"},
		{"size-low", map[string]string{"MaximumMessageSize": "1023"}, "InvalidAttributeValue"},
		{"size-high", map[string]string{"MaximumMessageSize": "1048577"}, "InvalidAttributeValue"},
		{"policy-bad", map[string]string{"Policy": `{"Statement": [`}, "InvalidAttributeValue"},
		{"policy-object-not-string", map[string]string{"Policy": `[1,2]`}, "InvalidAttributeValue"},
		{"unknown-attr", map[string]string{"Colour": "blue"}, "InvalidAttributeName"},
		{"redrive-missing-dlq", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope","maxReceiveCount":3}`}, "InvalidParameterValue"},
		{"fifo-attr-on-standard-name", map[string]string{"FifoQueue": "true"}, "InvalidParameterValue"},
		{"bad name!", nil, "InvalidParameterValue"},
		{"plain.fifo", nil, "InvalidParameterValue"},
		{strings.Repeat("x", 81), nil, "InvalidParameterValue"},
	}
	for _, c := range cases {
		_, err := f.cli.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(c.name), Attributes: c.attrs})
		if got := apiCode(err); got != c.code {
			t.Errorf("%s: want %s, got %v", c.name, c.code, err)
		}
	}
	_, err := f.cli.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("vis"), Attributes: map[string]string{"VisibilityTimeout": "-1"}})
	var bad *types.InvalidAttributeValue
	if !errors.As(err, &bad) || bad.ErrorMessage() != "Invalid value for the parameter VisibilityTimeout." {
		t.Fatalf("want typed InvalidAttributeValue, got %v", err)
	}
	if f.create(t, "ok-fifo.fifo", map[string]string{"FifoQueue": "true"}) == "" {
		t.Fatal("fifo queue not created")
	}
}

func TestDeleteQueueReservesTheNameFor60Seconds(t *testing.T) {
	f := start(t, true)
	url := f.create(t, "lambda-integration-queue", nil)
	if _, err := f.cli.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	_, err := f.cli.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("lambda-integration-queue")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("deleted queue still found: %v", err)
	}
	_, err = f.cli.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("lambda-integration-queue")})
	var recent *types.QueueDeletedRecently
	if !errors.As(err, &recent) {
		t.Fatalf("want QueueDeletedRecently, got %v", err)
	}
	if recent.ErrorCode() != "AWS.SimpleQueueService.QueueDeletedRecently" ||
		recent.ErrorMessage() != "You must wait 60 seconds after deleting a queue before you can create another with the same name." {
		t.Fatalf("code %q message %q", recent.ErrorCode(), recent.ErrorMessage())
	}
	f.clk.Advance(61 * time.Second)
	if f.create(t, "lambda-integration-queue", nil) != url {
		t.Fatal("recreated queue has another URL")
	}
	_, err = f.cli.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(f.env.URL + "/000000000000/never")})
	if !errors.As(err, &missing) {
		t.Fatalf("delete of unknown queue: %v", err)
	}
}

func TestGetQueueUrl(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "q1", nil)
	out, err := f.cli.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q1")})
	if err != nil || aws.ToString(out.QueueUrl) != url {
		t.Fatalf("%v %v", out, err)
	}
	_, err = f.cli.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q2")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("want QueueDoesNotExist, got %v", err)
	}
	if missing.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" || missing.ErrorMessage() != "The specified queue does not exist." {
		t.Fatalf("code %q message %q", missing.ErrorCode(), missing.ErrorMessage())
	}
	// Queues are regional.
	other := sqs.NewFromConfig(f.env.For("AKIDSANDBOXTEST", "eu-west-1"))
	if _, err := other.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q1")}); !errors.As(err, &missing) {
		t.Fatalf("queue visible from another region: %v", err)
	}
}

func TestQueueURLOfAnotherAccountIsDenied(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "mine", nil)
	stranger := sqs.NewFromConfig(f.env.For("111111111111", "us-east-1"))
	_, err := stranger.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	_, err = stranger.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("mine"), QueueOwnerAWSAccountId: aws.String("000000000000")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("cross-account GetQueueUrl: %v", err)
	}
}

func TestGetQueueAttributes(t *testing.T) {
	f := start(t, true)
	url := f.create(t, "attrs", map[string]string{"VisibilityTimeout": "45", "DelaySeconds": "0"})
	got := f.attrs(t, url)
	want := map[string]string{
		"QueueArn": "arn:aws:sqs:us-east-1:000000000000:attrs", "VisibilityTimeout": "45",
		"MaximumMessageSize": "262144", "MessageRetentionPeriod": "345600", "DelaySeconds": "0",
		"ReceiveMessageWaitTimeSeconds": "0", "SqsManagedSseEnabled": "true",
		"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0",
		"ApproximateNumberOfMessagesDelayed": "0",
		"CreatedTimestamp":                   strconv.FormatInt(f.clk.Now().Unix(), 10),
		"LastModifiedTimestamp":              strconv.FormatInt(f.clk.Now().Unix(), 10),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["Policy"]; ok {
		t.Error("Policy reported on a queue without one")
	}
	// Counts: one visible, one in flight, one delayed.
	f.send(t, url, "a")
	f.send(t, url, "b")
	if len(f.receive(t, url, 1, nil)) != 1 {
		t.Fatal("receive")
	}
	if _, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("c"), DelaySeconds: 30}); err != nil {
		t.Fatal(err)
	}
	out, err := f.cli.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Attributes) != 3 || out.Attributes["ApproximateNumberOfMessages"] != "1" || out.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" || out.Attributes["ApproximateNumberOfMessagesDelayed"] != "1" {
		t.Fatalf("counts %v", out.Attributes)
	}
	_, err = f.cli.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{"Colour"}})
	var badName *types.InvalidAttributeName
	if !errors.As(err, &badName) || badName.ErrorMessage() != "Unknown Attribute Colour." {
		t.Fatalf("want InvalidAttributeName, got %v", err)
	}
	_, err = f.cli.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(f.env.URL + "/000000000000/gone")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("want QueueDoesNotExist, got %v", err)
	}
}

func TestSetQueueAttributesPolicyAndRedrive(t *testing.T) {
	f := start(t, true)
	url := f.create(t, "src", nil)
	dlq := f.create(t, "dlq", nil)
	dlqArn := f.arn(t, dlq)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:src"}]}`
	f.clk.Advance(5 * time.Second)
	_, err := f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{
		"Policy": policy, "VisibilityTimeout": "180", "RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":"4"}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := f.attrs(t, url)
	if got["Policy"] != policy || got["VisibilityTimeout"] != "180" {
		t.Fatalf("attributes %v", got)
	}
	if got["RedrivePolicy"] != `{"deadLetterTargetArn":"`+dlqArn+`","maxReceiveCount":4}` {
		t.Fatalf("redrive policy %s", got["RedrivePolicy"])
	}
	if got["LastModifiedTimestamp"] == got["CreatedTimestamp"] {
		t.Fatal("LastModifiedTimestamp not updated")
	}
	// An empty Policy removes it.
	if _, err := f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": ""}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.attrs(t, url)["Policy"]; ok {
		t.Fatal("empty Policy did not remove it")
	}
	for name, v := range map[string]string{
		"Policy":            "{not json",
		"VisibilityTimeout": "43201",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":0}`,
	} {
		_, err := f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{name: v}})
		if err == nil {
			t.Errorf("%s=%s accepted", name, v)
		}
	}
	_, err = f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": "nope"}})
	var bad *types.InvalidAttributeValue
	if !errors.As(err, &bad) || bad.ErrorMessage() != "Invalid value for the parameter Policy." {
		t.Fatalf("want InvalidAttributeValue for Policy, got %v", err)
	}
	_, err = f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"RedrivePolicy": `{"maxReceiveCount":3}`}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"QueueArn": "x"}})
	wantCode(t, err, "InvalidAttributeName")
	_, err = f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"FifoQueue": "true"}})
	wantCode(t, err, "InvalidAttributeValue")
	if v := f.attrs(t, url)["VisibilityTimeout"]; v != "180" {
		t.Fatalf("failed update changed VisibilityTimeout to %s", v)
	}
}

func TestSendReceiveDelete(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "work", nil)
	out, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String("foobar2"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"AtTimestamp": {DataType: aws.String("String"), StringValue: aws.String("2021-02-15T12:00:33+09:00")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Digests AWS returned for this very message (body and attributes).
	if aws.ToString(out.MD5OfMessageBody) != "cbac77acf401ef89c3297bd9fc41ec0b" || aws.ToString(out.MD5OfMessageAttributes) != "9fd5e217089075be61cd1d67e35e5117" {
		t.Fatalf("digests %s %s", aws.ToString(out.MD5OfMessageBody), aws.ToString(out.MD5OfMessageAttributes))
	}
	rcv, err := f.cli.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rcv.Messages) != 1 {
		t.Fatalf("received %d messages", len(rcv.Messages))
	}
	m := rcv.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(out.MessageId) || aws.ToString(m.Body) != "foobar2" || aws.ToString(m.MD5OfMessageAttributes) != "9fd5e217089075be61cd1d67e35e5117" {
		t.Fatalf("message %+v", m)
	}
	if a := m.MessageAttributes["AtTimestamp"]; aws.ToString(a.StringValue) != "2021-02-15T12:00:33+09:00" || aws.ToString(a.DataType) != "String" {
		t.Fatalf("message attribute %+v", a)
	}
	for _, k := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} {
		if m.Attributes[k] == "" {
			t.Errorf("missing system attribute %s in %v", k, m.Attributes)
		}
	}
	if m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SenderId"] != "000000000000" { // the principal id (of the account root), never the access key
		t.Fatalf("attributes %v", m.Attributes)
	}
	if got := f.receive(t, url, 10, nil); len(got) != 0 {
		t.Fatalf("in-flight message received again: %v", got)
	}
	if _, err := f.cli.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	// Deleting again with the same handle succeeds, as on AWS.
	if _, err := f.cli.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if a := f.attrs(t, url); a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("queue not empty after delete: %v", a)
	}
	_, err = f.cli.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("garbage")})
	var invalid *types.ReceiptHandleIsInvalid
	if !errors.As(err, &invalid) || invalid.ErrorMessage() != `The input receipt handle "garbage" is not a valid receipt handle.` {
		t.Fatalf("want ReceiptHandleIsInvalid, got %v", err)
	}
	// A handle of another queue is no handle of this one.
	other := f.create(t, "other", nil)
	_, err = f.cli.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(other), ReceiptHandle: m.ReceiptHandle})
	if !errors.As(err, &invalid) {
		t.Fatalf("foreign handle: %v", err)
	}
}

func TestSendMessageValidation(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "v", nil)
	big := strings.Repeat("x", 262144)
	if _, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(big)}); err != nil {
		t.Fatalf("256 KiB body refused: %v", err)
	}
	_, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(big + "x")})
	wantCode(t, err, "InvalidParameterValue")
	if !strings.Contains(err.Error(), "Message must be shorter than 262144 bytes.") {
		t.Fatalf("message %v", err)
	}
	// Since August 2025 a queue may take up to 1 MiB.
	mib := f.create(t, "v-mib", map[string]string{"MaximumMessageSize": "1048576"})
	huge := strings.Repeat("x", 1048576)
	if _, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(mib), MessageBody: aws.String(huge)}); err != nil {
		t.Fatalf("1 MiB body on a 1 MiB queue: %v", err)
	}
	_, err = f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(mib), MessageBody: aws.String(huge + "x")})
	wantCode(t, err, "InvalidParameterValue")
	_, err = f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("")})
	wantCode(t, err, "MissingParameter")
	_, err = f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("bell\x07")})
	var contents *types.InvalidMessageContents
	if !errors.As(err, &contents) {
		t.Fatalf("want InvalidMessageContents, got %v", err)
	}
	_, err = f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), DelaySeconds: 901})
	wantCode(t, err, "InvalidParameterValue")
	for name, v := range map[string]types.MessageAttributeValue{
		"AWS.reserved": {DataType: aws.String("String"), StringValue: aws.String("x")},
		"n":            {DataType: aws.String("Number"), StringValue: aws.String("twelve")},
		"t":            {DataType: aws.String("Date"), StringValue: aws.String("x")},
		"e":            {DataType: aws.String("String"), StringValue: aws.String("")},
	} {
		_, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{name: v}})
		if apiCode(err) != "InvalidParameterValue" {
			t.Errorf("attribute %s: %v", name, err)
		}
	}
	out, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("bin"), MessageAttributes: map[string]types.MessageAttributeValue{
		"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		"count": {DataType: aws.String("Number.int"), StringValue: aws.String("42")},
	}})
	if err != nil || aws.ToString(out.MD5OfMessageAttributes) == "" {
		t.Fatalf("binary attribute: %v %v", out, err)
	}
	_, err = f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.env.URL + "/000000000000/nope"), MessageBody: aws.String("x")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("want QueueDoesNotExist, got %v", err)
	}
}

func TestBinaryAttributesRoundTrip(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "bin", nil)
	sent, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("b"), MessageAttributes: map[string]types.MessageAttributeValue{
		"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		"keep": {DataType: aws.String("String"), StringValue: aws.String("yes")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.cli.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MessageAttributeNames: []string{"blob"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	m := out.Messages[0]
	if string(m.MessageAttributes["blob"].BinaryValue) != "\x00\x01\x02\xff" || len(m.MessageAttributes) != 1 {
		t.Fatalf("attributes %+v", m.MessageAttributes)
	}
	// The digest covers the returned attributes only.
	if aws.ToString(m.MD5OfMessageAttributes) == aws.ToString(sent.MD5OfMessageAttributes) {
		t.Fatal("digest of a subset equals the digest of all attributes")
	}
	if m.Attributes != nil {
		t.Fatalf("system attributes returned unasked: %v", m.Attributes)
	}
}

func TestDelayAndRetention(t *testing.T) {
	f := start(t, true)
	url := f.create(t, "delay", map[string]string{"DelaySeconds": "10", "MessageRetentionPeriod": "60"})
	f.send(t, url, "late")
	if got := f.receive(t, url, 1, nil); len(got) != 0 {
		t.Fatal("delayed message delivered early")
	}
	if f.attrs(t, url)["ApproximateNumberOfMessagesDelayed"] != "1" {
		t.Fatal("not counted as delayed")
	}
	f.clk.Advance(11 * time.Second)
	got := f.receive(t, url, 1, aws.Int32(0))
	if len(got) != 1 {
		t.Fatal("delayed message never delivered")
	}
	f.clk.Advance(50 * time.Second)
	if got := f.receive(t, url, 1, nil); len(got) != 0 {
		t.Fatal("message outlived its retention period")
	}
	if a := f.attrs(t, url); a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("expired message still counted: %v", a)
	}
}

func TestVisibilityTimeoutAndChangeMessageVisibility(t *testing.T) {
	f := start(t, true)
	url := f.create(t, "vis", nil)
	f.send(t, url, "m")
	first := f.receive(t, url, 1, aws.Int32(30))
	if len(first) != 1 {
		t.Fatal("no message")
	}
	f.clk.Advance(29 * time.Second)
	if len(f.receive(t, url, 1, nil)) != 0 {
		t.Fatal("visible before its timeout")
	}
	if _, err := f.cli.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	second := f.receive(t, url, 1, nil)
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("second receive %+v", second)
	}
	if aws.ToString(second[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle) {
		t.Fatal("receipt handle reused across receives")
	}
	// The first receive's handle is stale now.
	_, err := f.cli.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 10})
	wantCode(t, err, "InvalidParameterValue")
	// A stale handle does not delete the message.
	if _, err := f.cli.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if f.attrs(t, url)["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Fatal("stale handle deleted the message")
	}
	f.clk.Advance(31 * time.Second)
	_, err = f.cli.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 10})
	var notInflight *types.MessageNotInflight
	if !errors.As(err, &notInflight) {
		t.Fatalf("want MessageNotInflight, got %v", err)
	}
	_, err = f.cli.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("AQEBnonsense"), VisibilityTimeout: 10})
	var invalid *types.ReceiptHandleIsInvalid
	if !errors.As(err, &invalid) {
		t.Fatalf("want ReceiptHandleIsInvalid, got %v", err)
	}
}

func TestReceiveMessageValidation(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "rv", nil)
	for _, in := range []*sqs.ReceiveMessageInput{
		{QueueUrl: aws.String(url), MaxNumberOfMessages: 11},
		{QueueUrl: aws.String(url), MaxNumberOfMessages: -1},
		{QueueUrl: aws.String(url), WaitTimeSeconds: 21},
		{QueueUrl: aws.String(url), VisibilityTimeout: 43201},
	} {
		_, err := f.cli.ReceiveMessage(ctx, in)
		if apiCode(err) != "InvalidParameterValue" {
			t.Errorf("%+v: %v", in, err)
		}
	}
	for i := 0; i < 15; i++ {
		f.send(t, url, fmt.Sprint(i))
	}
	if got := f.receive(t, url, 10, nil); len(got) != 10 {
		t.Fatalf("MaxNumberOfMessages 10 gave %d", len(got))
	}
	if got := f.receive(t, url, 0, nil); len(got) != 1 {
		t.Fatalf("default MaxNumberOfMessages gave %d", len(got))
	}
}

func TestSendMessageBatch(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "batch", nil)
	out, err := f.cli.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("two"), MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
		{Id: aws.String("c"), MessageBody: aws.String("three"), DelaySeconds: 1000},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 {
		t.Fatalf("successful %d failed %d", len(out.Successful), len(out.Failed))
	}
	if fl := out.Failed[0]; aws.ToString(fl.Id) != "c" || aws.ToString(fl.Code) != "InvalidParameterValue" || !fl.SenderFault {
		t.Fatalf("failure %+v", fl)
	}
	if f.attrs(t, url)["ApproximateNumberOfMessages"] != "2" {
		t.Fatal("batch did not store its successful entries")
	}
	_, err = f.cli.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")}, {Id: aws.String("a"), MessageBody: aws.String("two")},
	}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) || dup.ErrorCode() != "AWS.SimpleQueueService.BatchEntryIdsNotDistinct" {
		t.Fatalf("want BatchEntryIdsNotDistinct, got %v", err)
	}
	var many []types.SendMessageBatchRequestEntry
	for i := 0; i < 11; i++ {
		many = append(many, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("m", i)), MessageBody: aws.String("x")})
	}
	_, err = f.cli.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: many})
	var tooMany *types.TooManyEntriesInBatchRequest
	if !errors.As(err, &tooMany) {
		t.Fatalf("want TooManyEntriesInBatchRequest, got %v", err)
	}
	_, err = f.cli.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{}})
	var emptyBatch *types.EmptyBatchRequest
	if !errors.As(err, &emptyBatch) {
		t.Fatalf("want EmptyBatchRequest, got %v", err)
	}
	_, err = f.cli.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("no spaces"), MessageBody: aws.String("x")}}})
	var badID *types.InvalidBatchEntryId
	if !errors.As(err, &badID) {
		t.Fatalf("want InvalidBatchEntryId, got %v", err)
	}
	// A batch may carry 1 MiB in all (since August 2025), each message
	// within its queue's MaximumMessageSize.
	huge := strings.Repeat("x", 200000)
	var entries []types.SendMessageBatchRequestEntry
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(huge)})
	}
	if _, err := f.cli.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
		t.Fatalf("a 1,000,000-byte batch: %v", err)
	}
	entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String("f"), MessageBody: aws.String(huge)})
	_, err = f.cli.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	var tooLong *types.BatchRequestTooLong
	if !errors.As(err, &tooLong) {
		t.Fatalf("want BatchRequestTooLong, got %v", err)
	}
}

func TestDeleteAndChangeVisibilityBatches(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "batches", nil)
	f.send(t, url, "1")
	f.send(t, url, "2")
	msgs := f.receive(t, url, 10, aws.Int32(60))
	if len(msgs) != 2 {
		t.Fatalf("received %d", len(msgs))
	}
	cv, err := f.cli.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("ok"), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 120},
		{Id: aws.String("bad"), ReceiptHandle: aws.String("junk"), VisibilityTimeout: 5},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Successful) != 1 || aws.ToString(cv.Successful[0].Id) != "ok" || len(cv.Failed) != 1 || aws.ToString(cv.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("change batch %+v", cv)
	}
	del, err := f.cli.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("x"), ReceiptHandle: msgs[0].ReceiptHandle},
		{Id: aws.String("y"), ReceiptHandle: msgs[1].ReceiptHandle},
		{Id: aws.String("z"), ReceiptHandle: aws.String("junk")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Successful) != 2 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Id) != "z" {
		t.Fatalf("delete batch %+v", del)
	}
	if a := f.attrs(t, url); a["ApproximateNumberOfMessagesNotVisible"] != "0" || a["ApproximateNumberOfMessages"] != "0" {
		t.Fatalf("messages left: %v", a)
	}
	_, err = f.cli.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("x"), ReceiptHandle: msgs[0].ReceiptHandle}, {Id: aws.String("x"), ReceiptHandle: msgs[1].ReceiptHandle},
	}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Fatalf("want BatchEntryIdsNotDistinct, got %v", err)
	}
}

func TestPurgeQueue(t *testing.T) {
	f := start(t, true)
	url := f.create(t, "purge", nil)
	f.send(t, url, "a")
	f.send(t, url, "b")
	if _, err := f.cli.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	if f.attrs(t, url)["ApproximateNumberOfMessages"] != "0" {
		t.Fatal("purge left messages")
	}
	_, err := f.cli.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)})
	var inProgress *types.PurgeQueueInProgress
	if !errors.As(err, &inProgress) || inProgress.ErrorMessage() != "Only one PurgeQueue operation on purge is allowed every 60 seconds." {
		t.Fatalf("want PurgeQueueInProgress, got %v", err)
	}
	f.clk.Advance(61 * time.Second)
	if _, err := f.cli.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("purge after 60 s: %v", err)
	}
}

func TestListQueuesPaginates(t *testing.T) {
	f := start(t, false)
	for _, n := range []string{"app-a", "app-b", "app-c", "app-d", "app-e", "zeta"} {
		f.create(t, n, nil)
	}
	p := sqs.NewListQueuesPaginator(f.cli, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("app-"), MaxResults: aws.Int32(2)})
	var urls []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		urls = append(urls, out.QueueUrls...)
	}
	if pages != 3 || len(urls) != 5 || !strings.HasSuffix(urls[0], "/app-a") || !strings.HasSuffix(urls[4], "/app-e") {
		t.Fatalf("%d pages: %v", pages, urls)
	}
	all, err := f.cli.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || len(all.QueueUrls) != 6 || all.NextToken != nil {
		t.Fatalf("%v %v", all, err)
	}
	_, err = f.cli.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2), NextToken: aws.String("!!")})
	wantCode(t, err, "InvalidParameterValue")
}

func TestTags(t *testing.T) {
	f := start(t, false)
	out, err := f.cli.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("tagged"), Tags: map[string]string{"team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	url := out.QueueUrl
	if _, err := f.cli.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: url, Tags: map[string]string{"env": "lab", "team": "ops"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := f.cli.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: url})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["team"] != "ops" || tags.Tags["env"] != "lab" {
		t.Fatalf("%v %v", tags, err)
	}
	if _, err := f.cli.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: url, TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	tags, err = f.cli.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: url})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "lab" {
		t.Fatalf("%v %v", tags, err)
	}
	_, err = f.cli.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(f.env.URL + "/000000000000/nope"), Tags: map[string]string{"a": "b"}})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("want QueueDoesNotExist, got %v", err)
	}
}

func TestLongPollingWakesWhenAMessageArrives(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "poll", nil)
	type result struct {
		out *sqs.ReceiveMessageOutput
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := f.cli.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		done <- result{out, err}
	}()
	// The receive is waiting once the router has parsed it; a short pause
	// makes the send land during the wait rather than before it.
	time.Sleep(200 * time.Millisecond)
	started := time.Now()
	id := f.send(t, url, "wake up")
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	// Were the wait not cut short it would have ended empty after 20 s.
	if len(res.out.Messages) != 1 || aws.ToString(res.out.Messages[0].MessageId) != id {
		t.Fatalf("long poll returned %+v after %v", res.out.Messages, time.Since(started))
	}
}

func TestLongPollingHonoursQueueDefaultWait(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "poll-default", map[string]string{"ReceiveMessageWaitTimeSeconds": "20"})
	done := make(chan []types.Message, 1)
	go func() {
		out, err := f.cli.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
		if err != nil {
			t.Error(err)
		}
		done <- out.Messages
	}()
	time.Sleep(200 * time.Millisecond)
	f.send(t, url, "x")
	if got := <-done; len(got) != 1 {
		t.Fatalf("queue-default long poll returned %v", got)
	}
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	f := start(t, false)
	dlq := f.create(t, "dead", nil)
	dlqArn := f.arn(t, dlq)
	src := f.create(t, "live", map[string]string{
		"VisibilityTimeout": "0",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":2}`, dlqArn),
	})
	id := f.send(t, src, "poison")
	for i := 1; i <= 2; i++ {
		got := f.receive(t, src, 1, nil)
		if len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("receive %d: %+v", i, got)
		}
	}
	if got := f.receive(t, src, 1, nil); len(got) != 0 {
		t.Fatalf("third receive got %+v; the message should have moved", got)
	}
	moved := f.receive(t, dlq, 1, nil)
	if len(moved) != 1 || aws.ToString(moved[0].MessageId) != id || aws.ToString(moved[0].Body) != "poison" {
		t.Fatalf("dead-letter queue holds %+v", moved)
	}
	if moved[0].Attributes["DeadLetterQueueSourceArn"] != "arn:aws:sqs:us-east-1:000000000000:live" {
		t.Fatalf("attributes %v", moved[0].Attributes)
	}
	sources, err := f.cli.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlq)})
	if err != nil || len(sources.QueueUrls) != 1 || sources.QueueUrls[0] != src {
		t.Fatalf("%v %v", sources, err)
	}
}

func TestFIFOQueueMinimalSemantics(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "jobs.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	a := f.attrs(t, url)
	if a["FifoQueue"] != "true" || a["ContentBasedDeduplication"] != "true" {
		t.Fatalf("attributes %v", a)
	}
	send := func(body, group string) *sqs.SendMessageOutput {
		out, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageGroupId: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := send("one", "g1")
	if dup := send("one", "g1"); aws.ToString(dup.MessageId) != aws.ToString(first.MessageId) {
		t.Fatal("duplicate within the deduplication window got a new id")
	}
	if aws.ToString(first.SequenceNumber) == "" {
		t.Fatal("no SequenceNumber")
	}
	send("two", "g1")
	send("other", "g2")
	_, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")})
	wantCode(t, err, "MissingParameter")
	_, err = f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), DelaySeconds: 5})
	wantCode(t, err, "InvalidParameterValue")
	got := f.receive(t, url, 1, nil)
	if len(got) != 1 || aws.ToString(got[0].Body) != "one" || got[0].Attributes["MessageGroupId"] != "g1" {
		t.Fatalf("first receive %+v", got)
	}
	// g1 is locked while "one" is in flight; only g2 can be served.
	got = f.receive(t, url, 10, nil)
	if len(got) != 1 || aws.ToString(got[0].Body) != "other" {
		t.Fatalf("second receive %+v", got)
	}
	_, err = f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.create(t, "std", nil)), MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")})
	wantCode(t, err, "InvalidParameterValue")
}

// SQS's 8,192-byte policy quota is checked before the document is parsed:
// a 6 MB policy was once stored, and every SNS delivery evaluated it. An
// over-quota document that is not even JSON is still OverLimit.
func TestPolicyOverQuotaIsRefusedBeforeParsing(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "q", nil)
	_, err := f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"Policy": strings.Repeat("{", 8193)}})
	wantCode(t, err, "OverLimit")
	_, err = f.cli.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q2"),
		Attributes: map[string]string{"Policy": `{"Statement":[` + strings.Repeat(`{"Effect":"Allow"},`, 500) + `{}]}`}})
	wantCode(t, err, "OverLimit")
	ok := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("s", 7000) + `","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := f.cli.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": ok}}); err != nil {
		t.Fatalf("a policy of %d bytes: %v", len(ok), err)
	}
}
