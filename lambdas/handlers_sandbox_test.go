package lambdas

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// These tests run the Go handlers on real SDK clients against the sandbox
// over HTTP, the way the functions run in the lab.

// s3Event is an ObjectCreated event as S3 sends it, decoded by aws-lambda-go
// (whose S3Object decoder is part of what is tested).
func s3Event(t *testing.T, recs ...s3Rec) events.S3Event {
	t.Helper()
	var records []string
	for _, r := range recs {
		records = append(records, fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
			"eventTime":"2026-11-27T12:00:00.000Z","eventName":"ObjectCreated:Put",
			"s3":{"s3SchemaVersion":"1.0","configurationId":"lab","bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},
			"object":{"key":%q,"size":%d%s,"sequencer":%q}}}`,
			r.bucket, r.bucket, r.encodedKey, r.size, versionField(r.versionID), r.sequencer))
	}
	var ev events.S3Event
	if err := json.Unmarshal([]byte(`{"Records":[`+strings.Join(records, ",")+`]}`), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

type s3Rec struct {
	bucket, encodedKey, versionID, sequencer string
	size                                     int64
}

func versionField(v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf(`,"versionId":%q`, v)
}

func TestS3ProcessorAgainstSandbox(t *testing.T) {
	sb := startSandbox(t)
	const table = "lab-data-from-env"
	t.Setenv("TABLE_NAME", table)
	sb.createTable(t, table)
	const bucket = "lambda-integration-000000000000-test"
	sb.createBucket(t, bucket, true)

	jsonBody := []byte(`{"orderId": "A-1", "total": 12.50, "tags": ["x", "<y>"], "shipped": false, "note": null, "lines": [{"sku": "s1", "qty": 2}]}`)
	spaced := sb.putObject(t, bucket, "orders/q1 summary+final.json", "application/json", jsonBody)
	text := sb.putObject(t, bucket, "notes.json", "text/plain", []byte("not json, just <text> & more"))
	big := make([]byte, 360_000)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	bigOut := sb.putObject(t, bucket, "big.json", "application/json", big)

	var logs testLogs
	p := NewS3Processor(sb.s3, sb.ddb)
	if p.Table != table {
		t.Fatalf("table %q, want %q from TABLE_NAME", p.Table, table)
	}
	p.Log = logs.logger()
	ev := s3Event(t,
		s3Rec{bucket, "orders/q1+summary%2Bfinal.json", aws.ToString(spaced.VersionId), "0055AED6DCD90281E5", int64(len(jsonBody))},
		s3Rec{bucket, "notes.json", aws.ToString(text.VersionId), "0055AED6DCD90281E6", 28},
		s3Rec{bucket, "big.json", aws.ToString(bigOut.VersionId), "0055AED6DCD90281E7", int64(len(big))},
	)
	for round := 0; round < 2; round++ { // the second round is S3 redelivering the event
		res, err := p.Handle(invocation("req-s3"), ev)
		if err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, logs.err.String())
		}
		if res.StatusCode != 200 || res.Body != "Successfully processed 3 records" {
			t.Fatalf("round %d: %+v", round, res)
		}
	}
	if !strings.Contains(logs.out.String(), "Duplicate delivery of") {
		t.Errorf("the redelivery was not recognised:\n%s", logs.out.String())
	}

	items := sb.scanAll(t, table)
	if len(items) != 3 {
		t.Fatalf("%d items after two deliveries of 3 records, want 3: %v", len(items), keysOf(items))
	}

	// The key with a space (+) and a plus (%2B), decoded; the id names the version.
	id := bucket + "/orders/q1 summary+final.json#" + aws.ToString(spaced.VersionId)
	it, ok := items[id]
	if !ok {
		t.Fatalf("no item %q in %v", id, keysOf(items))
	}
	if got := attrS(t, it, "fileName"); got != "orders/q1 summary+final.json" {
		t.Errorf("fileName %q", got)
	}
	if attrS(t, it, "bucket") != bucket || attrS(t, it, "versionId") != aws.ToString(spaced.VersionId) {
		t.Errorf("bucket/versionId: %v", it)
	}
	if !isISOMillis(attrS(t, it, "processedAt")) {
		t.Errorf("processedAt %q", attrS(t, it, "processedAt"))
	}
	content := attrM(t, it, "content")
	if attrS(t, content, "orderId") != "A-1" {
		t.Errorf("content.orderId: %v", content)
	}
	if n, ok := content["total"].(*types.AttributeValueMemberN); !ok || !sameNumber(n.Value, "12.5") {
		t.Errorf("content.total = %#v, want the number 12.5", content["total"])
	}
	if b, ok := content["shipped"].(*types.AttributeValueMemberBOOL); !ok || b.Value {
		t.Errorf("content.shipped = %#v", content["shipped"])
	}
	if _, ok := content["note"].(*types.AttributeValueMemberNULL); !ok {
		t.Errorf("content.note = %#v, want NULL", content["note"])
	}
	if l, ok := content["tags"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 2 {
		t.Errorf("content.tags = %#v", content["tags"])
	}
	if _, ok := it["pointer"]; ok {
		t.Errorf("small object stored as a pointer")
	}

	// Not JSON: the raw text and its content type.
	raw := attrM(t, items[bucket+"/notes.json#"+aws.ToString(text.VersionId)], "content")
	if attrS(t, raw, "rawContent") != "not json, just <text> & more" || attrS(t, raw, "contentType") != "text/plain" {
		t.Errorf("raw content: %v", raw)
	}

	// Over 350,000 bytes: a pointer, no content.
	bigItem := items[bucket+"/big.json#"+aws.ToString(bigOut.VersionId)]
	if _, ok := bigItem["content"]; ok {
		t.Errorf("big object stored inline")
	}
	ptr := attrM(t, bigItem, "pointer")
	if attrS(t, ptr, "bucket") != bucket || attrS(t, ptr, "key") != "big.json" || attrS(t, ptr, "contentType") != "application/json" {
		t.Errorf("pointer: %v", ptr)
	}
	if n, ok := ptr["size"].(*types.AttributeValueMemberN); !ok || n.Value != "360000" {
		t.Errorf("pointer.size = %#v", ptr["size"])
	}
	if lines := logs.errorLines(t); len(lines) != 0 {
		t.Errorf("errors logged: %v", lines)
	}
}

func TestS3ProcessorUnversionedBucketUsesTheSequencer(t *testing.T) {
	sb := startSandbox(t)
	t.Setenv("TABLE_NAME", "")
	sb.createTable(t, DefaultTable)
	sb.createBucket(t, "plain-bucket", false)
	sb.putObject(t, "plain-bucket", "a b.json", "application/json", []byte(`[1, 2, 3]`))
	p := NewS3Processor(sb.s3, sb.ddb)
	if p.Table != DefaultTable {
		t.Fatalf("table %q without TABLE_NAME, want %q", p.Table, DefaultTable)
	}
	var logs testLogs
	p.Log = logs.logger()
	if _, err := p.Handle(invocation("req-1"), s3Event(t, s3Rec{"plain-bucket", "a+b.json", "", "0A1B2C", 9})); err != nil {
		t.Fatal(err)
	}
	items := sb.scanAll(t, DefaultTable)
	it, ok := items["plain-bucket/a b.json#0A1B2C"]
	if !ok {
		t.Fatalf("items %v", keysOf(items))
	}
	if _, ok := it["versionId"]; ok {
		t.Errorf("versionId stored for an unversioned object: %v", it["versionId"])
	}
	if l, ok := it["content"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 3 {
		t.Errorf("content = %#v, want a list", it["content"])
	}
}

func TestS3ProcessorMissingObjectFailsWithAJSONErrorLine(t *testing.T) {
	sb := startSandbox(t)
	sb.createTable(t, DefaultTable)
	sb.createBucket(t, "missing-objects", true)
	var logs testLogs
	p := &S3ProcessorFunc{S3: sb.s3, DB: sb.ddb, Table: DefaultTable, Log: logs.logger()}
	_, err := p.Handle(invocation("req-missing"), s3Event(t, s3Rec{"missing-objects", "gone.json", "", "01", 1}))
	if err == nil {
		t.Fatal("no error for a missing object")
	}
	lines := logs.errorLines(t)
	if len(lines) != 1 {
		t.Fatalf("%d error lines: %v", len(lines), lines)
	}
	l := lines[0]
	if l["level"] != "error" || l["requestId"] != "req-missing" || l["bucket"] != "missing-objects" || l["key"] != "gone.json" || l["error"] != "NoSuchKey" {
		t.Errorf("error line %v", l)
	}
}

func TestEventProcessorAgainstSandboxFeedsTheQueueProcessor(t *testing.T) {
	sb := startSandbox(t)
	ctx := context.Background()
	const table = "summary-source"
	t.Setenv("TABLE_NAME", table)
	sb.createTable(t, table)
	for i := 0; i < 12; i++ {
		item := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: fmt.Sprintf("b/k%02d.json#v1", i)}}
		if i%2 == 0 {
			item["fileName"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("k%02d.json", i)}
			item["processedAt"] = &types.AttributeValueMemberS{Value: "2026-11-27T12:00:00.000Z"}
		}
		must[*dynamodb.PutItemOutput](t, "dynamodb PutItem")(sb.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}))
	}
	topic := must[*sns.CreateTopicOutput](t, "sns CreateTopic")(sb.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("lambda-integration-notifications")}))
	q := must[*sqs.CreateQueueOutput](t, "sqs CreateQueue")(sb.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("lambda-integration-queue")}))
	qa := must[*sqs.GetQueueAttributesOutput](t, "sqs GetQueueAttributes")(sb.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}}))
	queueArn := qa.Attributes["QueueArn"]
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`,
		queueArn, aws.ToString(topic.TopicArn))
	must[*sqs.SetQueueAttributesOutput](t, "sqs SetQueueAttributes")(sb.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": policy}}))
	must[*sns.SubscribeOutput](t, "sns Subscribe")(sb.sns.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)}))

	t.Setenv("SNS_TOPIC_ARN", aws.ToString(topic.TopicArn))
	var logs testLogs
	p := NewEventProcessor(sb.ddb, sb.sns)
	p.Log = logs.logger()
	if p.Table != table || p.TopicARN != aws.ToString(topic.TopicArn) {
		t.Fatalf("from env: table %q topic %q", p.Table, p.TopicARN)
	}
	res, err := p.Handle(invocation("req-ev"), json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`))
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.err.String())
	}
	if res.StatusCode != 200 || res.Body != "Successfully published summary to SNS" || res.MessageID == "" {
		t.Fatalf("result %+v", res)
	}

	// The summary arrives in the queue wrapped in SNS's envelope.
	var msgs []sqstypes.Message
	deadline := time.Now().Add(20 * time.Second)
	for len(msgs) == 0 && time.Now().Before(deadline) {
		out := must[*sqs.ReceiveMessageOutput](t, "sqs ReceiveMessage")(sb.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1}))
		msgs = out.Messages
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages in the queue, want the one summary", len(msgs))
	}
	var env struct{ Type, MessageId, Subject, Message string }
	if err := json.Unmarshal([]byte(aws.ToString(msgs[0].Body)), &env); err != nil {
		t.Fatalf("queue message is not an SNS envelope: %v", err)
	}
	if env.Type != "Notification" || env.MessageId != res.MessageID || env.Subject != SummarySubject {
		t.Errorf("envelope %+v, want MessageId %s", env, res.MessageID)
	}
	var summary struct {
		Timestamp   string           `json:"timestamp"`
		ItemCount   int              `json:"itemCount"`
		LatestItems []map[string]any `json:"latestItems"`
	}
	if err := json.Unmarshal([]byte(env.Message), &summary); err != nil {
		t.Fatal(err)
	}
	if summary.ItemCount != 10 || len(summary.LatestItems) != 10 || !isISOMillis(summary.Timestamp) {
		t.Errorf("summary %+v, want Limit 10", summary)
	}
	for _, li := range summary.LatestItems {
		if _, ok := li["id"].(string); !ok {
			t.Errorf("latest item without id: %v", li)
		}
		if _, has := li["fileName"]; has != (li["processedAt"] != nil) {
			t.Errorf("latest item %v: fileName and processedAt should be both present or both left out", li)
		}
	}
	if !strings.HasPrefix(env.Message, "{\n  \"timestamp\": ") {
		t.Errorf("message not indented as JSON.stringify(summary, null, 2):\n%s", env.Message)
	}

	// The queue processor stores the summary under the SNS MessageId, once
	// however often the message is delivered.
	qp := NewQueueProcessor(sb.ddb)
	qp.Log = logs.logger()
	sqsEv := events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(msgs[0].MessageId), Body: aws.ToString(msgs[0].Body)}}}
	for i := 0; i < 2; i++ {
		resp, err := qp.Handle(invocation("req-q"), sqsEv)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("queue processor: %+v %v\n%s", resp, err, logs.err.String())
		}
	}
	items := sb.scanAll(t, table)
	it, ok := items["summary-"+res.MessageID]
	if !ok {
		t.Fatalf("no summary item: %v", keysOf(items))
	}
	if attrS(t, it, "type") != "summary" || attrS(t, it, "snsMessageId") != res.MessageID || attrS(t, it, "timestamp") != summary.Timestamp {
		t.Errorf("summary item %v", it)
	}
	if n, ok := it["itemCount"].(*types.AttributeValueMemberN); !ok || n.Value != "10" {
		t.Errorf("itemCount %#v", it["itemCount"])
	}
	if len(items) != 13 {
		t.Errorf("%d items, want 12 + 1 summary", len(items))
	}
}

func TestEventProcessorWithoutTopicFailsClearlyBeforeAnyCall(t *testing.T) {
	sb := startSandbox(t)
	t.Setenv("SNS_TOPIC_ARN", "")
	var logs testLogs
	p := NewEventProcessor(sb.ddb, sb.sns)
	p.Log = logs.logger()
	mark := sb.srv.AuditMark()
	_, err := p.Handle(invocation("req-empty"), json.RawMessage(`{}`))
	if err == nil || !strings.Contains(err.Error(), "SNS_TOPIC_ARN is empty") {
		t.Fatalf("err = %v", err)
	}
	if calls := sb.srv.AuditSince(mark); len(calls) != 0 {
		t.Errorf("%d AWS calls made without a topic", len(calls))
	}
	lines := logs.errorLines(t)
	if len(lines) != 1 || lines[0]["requestId"] != "req-empty" || !strings.Contains(fmt.Sprint(lines[0]["message"]), "SNS_TOPIC_ARN") {
		t.Errorf("error lines %v", lines)
	}
}

func TestQueueProcessorPartialBatchAgainstSandbox(t *testing.T) {
	sb := startSandbox(t)
	const table = "queue-target"
	t.Setenv("TABLE_NAME", table)
	sb.createTable(t, table)
	good := snsEnvelope("11111111-aaaa-bbbb-cccc-000000000001", `{"timestamp":"2026-11-27T12:00:00.000Z","itemCount":3,"latestItems":[]}`)
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m-good", Body: good},
		{MessageId: "m-raw", Body: `{"test":"message"}`}, // the guide's debug send-message, or raw delivery
		{MessageId: "m-notjson-message", Body: snsEnvelope("22222222-aaaa-bbbb-cccc-000000000002", "plain text")},
		{MessageId: "m-notjson-body", Body: "hello"},
		{MessageId: "m-array-message", Body: snsEnvelope("33333333-aaaa-bbbb-cccc-000000000003", "[1,2]")},
		{MessageId: "m-good-again", Body: good}, // the same SNS message delivered twice
	}}
	var logs testLogs
	p := NewQueueProcessor(sb.ddb)
	p.Log = logs.logger()
	for round := 0; round < 2; round++ {
		resp, err := p.Handle(invocation("req-batch"), ev)
		if err != nil {
			t.Fatal(err)
		}
		var failed []string
		for _, f := range resp.BatchItemFailures {
			failed = append(failed, f.ItemIdentifier)
		}
		if got, want := strings.Join(failed, ","), "m-raw,m-notjson-message,m-notjson-body,m-array-message"; got != want {
			t.Fatalf("round %d: failures %s, want %s", round, got, want)
		}
	}
	items := sb.scanAll(t, table)
	if len(items) != 1 {
		t.Fatalf("items %v, want only the good summary", keysOf(items))
	}
	it := items["summary-11111111-aaaa-bbbb-cccc-000000000001"]
	if it == nil || attrS(t, it, "type") != "summary" || !isISOMillis(attrS(t, it, "processedAt")) {
		t.Fatalf("summary item %v", it)
	}
	lines := logs.errorLines(t)
	if len(lines) != 8 {
		t.Fatalf("%d error lines, want 4 per round: %v", len(lines), lines)
	}
	for _, l := range lines {
		if l["requestId"] != "req-batch" || l["error"] != "PoisonMessageError" || l["messageId"] == "" {
			t.Errorf("error line %v", l)
		}
	}
	if !strings.Contains(logs.err.String(), "is RawMessageDelivery on?") {
		t.Errorf("no hint about raw message delivery:\n%s", logs.err.String())
	}

	// A write that fails (no such table) is that record's failure alone.
	p.Table = "no-such-table"
	resp, err := p.Handle(invocation("req-nt"), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-1", Body: good}}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-1" {
		t.Fatalf("missing table: %+v %v", resp, err)
	}
	if last := logs.errorLines(t)[len(logs.errorLines(t))-1]; last["error"] != "ResourceNotFoundException" {
		t.Errorf("last error line %v", last)
	}
}

func snsEnvelope(messageID, message string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": messageID,
		"TopicArn": "arn:aws:sns:us-east-1:000000000000:lambda-integration-notifications",
		"Subject":  SummarySubject, "Message": message, "Timestamp": "2026-11-27T12:00:00.000Z",
	})
	return string(b)
}

func keysOf[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// sameNumber compares DynamoDB numbers, which the service normalises.
func sameNumber(a, b string) bool {
	var x, y json.Number = json.Number(a), json.Number(b)
	fx, err1 := x.Float64()
	fy, err2 := y.Float64()
	return err1 == nil && err2 == nil && fx == fy
}
