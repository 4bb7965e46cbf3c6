package engine_test

import (
	"crypto/md5"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	lamtypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	sqsapi "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/engine"
)

func (e *env) mapping(t testing.TB, in *lam.CreateEventSourceMappingInput) string {
	t.Helper()
	out, err := e.lam.CreateEventSourceMapping(ctx, in)
	if err != nil {
		t.Fatalf("CreateEventSourceMapping: %v", err)
	}
	return aws.ToString(out.UUID)
}

func (e *env) send(t testing.TB, url, body string, attrs map[string]sqstypes.MessageAttributeValue) string {
	t.Helper()
	out, err := e.sq.SendMessage(ctx, &sqsapi.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageAttributes: attrs})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return aws.ToString(out.MessageId)
}

func (e *env) lastResult(t testing.TB, uuid string) string {
	t.Helper()
	out, err := e.lam.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.LastProcessingResult)
}

// records decodes the Records of an SQS event.
func records(t testing.TB, in core.InvokeInput) []map[string]any {
	t.Helper()
	var ev struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.Unmarshal(in.Payload, &ev); err != nil {
		t.Fatalf("SQS event: %v", err)
	}
	return ev.Records
}

func TestESMDrainsQueueIntoFunction(t *testing.T) {
	e := start(t, engine.Options{})
	fn := e.function(t, "sqs-processor", 30)
	url, qarn := e.queue(t, "lambda-integration-queue", nil)
	uuid := e.mapping(t, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("sqs-processor"), EventSourceArn: aws.String(qarn), BatchSize: aws.Int32(10)})

	id := e.send(t, url, `{"Type":"Notification"}`, map[string]sqstypes.MessageAttributeValue{
		"kind": {DataType: aws.String("String"), StringValue: aws.String("summary")},
		"bin":  {DataType: aws.String("Binary"), BinaryValue: []byte("xyz")},
	})
	eventually(t, "the mapping to invoke the function", func() bool { return len(e.inv.syncCalls()) > 0 })
	in := e.inv.syncCalls()[0]
	if in.Function != fn || in.Source != "sqs" || in.Scope.Account != acct {
		t.Fatalf("invocation %+v", in)
	}
	recs := records(t, in)
	if len(recs) != 1 {
		t.Fatalf("records %v", recs)
	}
	r := recs[0]
	if r["messageId"] != id || r["body"] != `{"Type":"Notification"}` || r["eventSource"] != "aws:sqs" || r["eventSourceARN"] != qarn ||
		r["awsRegion"] != region || r["md5OfBody"] != fmt.Sprintf("%x", md5.Sum([]byte(`{"Type":"Notification"}`))) || r["receiptHandle"] == "" {
		t.Errorf("record %v", r)
	}
	for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
		if s, _ := path(r, "attributes", a).(string); s == "" {
			t.Errorf("attribute %s missing: %v", a, r["attributes"])
		}
	}
	if path(r, "attributes", "ApproximateReceiveCount") != "1" {
		t.Errorf("receive count %v", path(r, "attributes"))
	}
	if path(r, "messageAttributes", "kind", "stringValue") != "summary" || path(r, "messageAttributes", "kind", "dataType") != "String" ||
		path(r, "messageAttributes", "bin", "binaryValue") != "eHl6" || path(r, "messageAttributes", "kind", "stringListValues") == nil {
		t.Errorf("messageAttributes %v", r["messageAttributes"])
	}
	eventually(t, "the queue to empty", func() bool {
		v, f := e.queueDepth(t, url)
		return v == "0" && f == "0"
	})
	eventually(t, "LastProcessingResult OK", func() bool { return e.lastResult(t, uuid) == "OK" })

	// A burst goes in batches of at most BatchSize.
	for i := 0; i < 25; i++ {
		e.send(t, url, fmt.Sprintf("m%d", i), nil)
	}
	eventually(t, "the burst to drain", func() bool {
		v, f := e.queueDepth(t, url)
		return v == "0" && f == "0"
	})
	total := 0
	for _, c := range e.inv.syncCalls()[1:] {
		n := len(records(t, c))
		if n > 10 {
			t.Errorf("batch of %d > BatchSize 10", n)
		}
		total += n
	}
	if total != 25 {
		t.Errorf("%d records delivered, want 25", total)
	}
}

// Breakage: a message the function cannot process (the guide's own debug
// send-message, or raw delivery). The function fails, the message comes
// back after the visibility timeout, and after maxReceiveCount receives SQS
// moves it to the dead-letter queue.
func TestESMPoisonMessageRedrivenToDLQ(t *testing.T) {
	e := start(t, engine.Options{})
	e.function(t, "sqs-processor", 1)
	dlqURL, dlqArn := e.queue(t, "lambda-integration-dlq", nil)
	url, qarn := e.queue(t, "lambda-integration-queue", map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":"2"}`,
	})
	e.inv.setRespond(func(in core.InvokeInput) (core.InvokeOutput, error) {
		return core.InvokeOutput{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"SyntaxError","errorMessage":"Unexpected token"}`)}, nil
	})
	uuid := e.mapping(t, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("sqs-processor"), EventSourceArn: aws.String(qarn)})
	id := e.send(t, url, `{"test":"message"}`, nil)

	var dead []sqsMessage
	eventually(t, "the poison message in the DLQ", func() bool {
		dead = e.receive(t, dlqURL, 0)
		return len(dead) > 0
	})
	if dead[0].ID != id || dead[0].Body != `{"test":"message"}` {
		t.Fatalf("DLQ message %+v", dead[0])
	}
	if n := len(e.inv.syncCalls()); n != 2 {
		t.Errorf("the function ran %d times, want maxReceiveCount = 2", n)
	}
	if r := e.lastResult(t, uuid); r != "PROBLEM: Function call failed" {
		t.Errorf("LastProcessingResult %q", r)
	}
	if v, f := e.queueDepth(t, url); v != "0" || f != "0" {
		t.Errorf("source queue still holds %s visible, %s in flight", v, f)
	}
}

func TestESMReportBatchItemFailures(t *testing.T) {
	e := start(t, engine.Options{})
	e.function(t, "partial", 1)
	url, qarn := e.queue(t, "partial-queue", map[string]string{"VisibilityTimeout": "1"})
	var badID atomic.Value // the failing message's id, set on the runtime's goroutine
	respond := func(in core.InvokeInput) (core.InvokeOutput, error) {
		for _, r := range records(t, in) {
			if r["body"] == "bad" {
				bad := r["messageId"].(string)
				badID.Store(bad)
				return core.InvokeOutput{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"` + bad + `"}]}`)}, nil
			}
		}
		return core.InvokeOutput{Payload: []byte(`{"batchItemFailures":[]}`)}, nil
	}
	e.inv.setRespond(respond)
	if _, err := e.sq.SendMessageBatch(ctx, &sqsapi.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("1"), MessageBody: aws.String("good")}, {Id: aws.String("2"), MessageBody: aws.String("bad")}, {Id: aws.String("3"), MessageBody: aws.String("fine")},
	}}); err != nil {
		t.Fatal(err)
	}
	e.mapping(t, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("partial"), EventSourceArn: aws.String(qarn),
		FunctionResponseTypes: []lamtypes.FunctionResponseType{"ReportBatchItemFailures"}})
	eventually(t, "the first batch", func() bool { return len(e.inv.syncCalls()) > 0 })
	eventually(t, "the good messages deleted", func() bool {
		v, f := e.queueDepth(t, url)
		return v == "0" && f == "1" || len(e.inv.syncCalls()) > 1
	})
	// Only the failed one comes back.
	eventually(t, "the failed message redelivered", func() bool { return len(e.inv.syncCalls()) > 1 })
	again := records(t, e.inv.syncCalls()[1])
	if len(again) != 1 || again[0]["messageId"] != badID.Load() || path(again[0], "attributes", "ApproximateReceiveCount") != "2" {
		t.Fatalf("redelivered %v", again)
	}

	// An identifier that names no message of the batch fails the whole
	// batch: nothing is deleted.
	e.inv.setRespond(func(in core.InvokeInput) (core.InvokeOutput, error) {
		return core.InvokeOutput{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"not-a-message-id"}]}`)}, nil
	})
	e.send(t, url, "another", nil)
	n := len(e.inv.syncCalls())
	eventually(t, "a batch with an invalid response", func() bool { return len(e.inv.syncCalls()) > n })
	eventually(t, "the invalid response recorded", func() bool {
		for _, d := range e.deliveries(engine.Failed) {
			if strings.Contains(d.Reason, "batchItemFailures response is invalid") {
				return true
			}
		}
		return false
	})
	if v, f := e.queueDepth(t, url); v == "0" && f == "0" {
		t.Fatalf("messages were deleted after an invalid batchItemFailures response")
	}
}

func TestESMDisableAndEnable(t *testing.T) {
	e := start(t, engine.Options{})
	e.function(t, "toggled", 3)
	url, qarn := e.queue(t, "toggled-queue", nil)
	uuid := e.mapping(t, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("toggled"), EventSourceArn: aws.String(qarn)})
	e.send(t, url, "first", nil)
	eventually(t, "the first invocation", func() bool { return len(e.inv.syncCalls()) == 1 })

	if _, err := e.lam.UpdateEventSourceMapping(ctx, &lam.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	// The poller stops within a poll interval; a message sent after that
	// stays on the queue.
	time.Sleep(100 * time.Millisecond)
	e.send(t, url, "while disabled", nil)
	time.Sleep(300 * time.Millisecond)
	if n := len(e.inv.syncCalls()); n != 1 {
		t.Fatalf("a disabled mapping invoked the function (%d calls)", n)
	}
	if v, _ := e.queueDepth(t, url); v != "1" {
		t.Fatalf("visible messages %s, want 1", v)
	}
	if _, err := e.lam.UpdateEventSourceMapping(ctx, &lam.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the re-enabled mapping to deliver", func() bool { return len(e.inv.syncCalls()) == 2 })
	if _, err := e.lam.DeleteEventSourceMapping(ctx, &lam.DeleteEventSourceMappingInput{UUID: aws.String(uuid)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	e.send(t, url, "after delete", nil)
	time.Sleep(300 * time.Millisecond)
	if n := len(e.inv.syncCalls()); n != 2 {
		t.Fatalf("a deleted mapping invoked the function (%d calls)", n)
	}
}

func TestESMBatchingWindow(t *testing.T) {
	e := start(t, engine.Options{})
	e.function(t, "windowed", 3)
	url, qarn := e.queue(t, "windowed-queue", nil)
	e.mapping(t, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("windowed"), EventSourceArn: aws.String(qarn),
		BatchSize: aws.Int32(5), MaximumBatchingWindowInSeconds: aws.Int32(2)})
	time.Sleep(100 * time.Millisecond) // the poller is waiting on the queue
	e.send(t, url, "1", nil)
	time.Sleep(200 * time.Millisecond)
	for i := 2; i <= 5; i++ {
		e.send(t, url, fmt.Sprint(i), nil)
	}
	eventually(t, "the batch", func() bool { return len(e.inv.syncCalls()) > 0 })
	if recs := records(t, e.inv.syncCalls()[0]); len(recs) != 5 {
		t.Fatalf("the window should gather all 5 messages into one batch, got %d", len(recs))
	}
}

func TestESMFilterCriteria(t *testing.T) {
	e := start(t, engine.Options{})
	e.function(t, "filtered", 3)
	url, qarn := e.queue(t, "filtered-queue", nil)
	e.mapping(t, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("filtered"), EventSourceArn: aws.String(qarn),
		FilterCriteria: &lamtypes.FilterCriteria{Filters: []lamtypes.Filter{{Pattern: aws.String(`{"body":{"Type":["Notification"]}}`)}}}})
	e.send(t, url, `{"Type":"Notification","Message":"{}"}`, nil)
	e.send(t, url, `{"test":"message"}`, nil)
	e.send(t, url, `not json`, nil)
	eventually(t, "the queue to empty", func() bool {
		v, f := e.queueDepth(t, url)
		return v == "0" && f == "0"
	})
	total := 0
	for _, c := range e.inv.syncCalls() {
		for _, r := range records(t, c) {
			total++
			if !strings.Contains(r["body"].(string), "Notification") {
				t.Errorf("a filtered-out message reached the function: %v", r["body"])
			}
		}
	}
	if total != 1 || len(e.deliveries(engine.Filtered)) != 2 {
		t.Fatalf("%d records delivered, %d filtered", total, len(e.deliveries(engine.Filtered)))
	}
}
