package lambdas

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// Fakes for what the sandbox cannot easily be made to do (an item-size
// rejection) and for exact output bytes. Behaviour is tested against the
// sandbox in handlers_sandbox_test.go.

type fakeS3 struct {
	body        string
	contentType string
	length      *int64
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(f.body)), ContentType: aws.String(f.contentType), ContentLength: f.length}, nil
}

type fakeDB struct {
	puts    []*dynamodb.PutItemInput
	putErrs []error
	scanOut *dynamodb.ScanOutput
	scanned []*dynamodb.ScanInput
}

func (f *fakeDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, in)
	if len(f.putErrs) > 0 {
		err := f.putErrs[0]
		f.putErrs = f.putErrs[1:]
		return nil, err
	}
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeDB) Scan(ctx context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.scanned = append(f.scanned, in)
	return f.scanOut, nil
}

type fakeSNS struct{ in *sns.PublishInput }

func (f *fakeSNS) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = in
	return &sns.PublishOutput{MessageId: aws.String("msg-1")}, nil
}

func fixedNow() time.Time { return time.Date(2026, 11, 27, 12, 34, 56, 789_000_000, time.UTC) }

func TestS3ProcessorFallsBackToAPointerWhenTheItemIsTooLarge(t *testing.T) {
	// Small as bytes, too large once marshalled: DynamoDB says so, the
	// handler retries with a pointer (the Node version does the same).
	db := &fakeDB{putErrs: []error{&smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}}}
	var logs testLogs
	p := &S3ProcessorFunc{S3: &fakeS3{body: `{"a":[1,2,3]}`, contentType: "application/json"}, DB: db, Table: "t", Now: fixedNow, Log: logs.logger()}
	if _, err := p.Handle(invocation("r"), s3Event(t, s3Rec{"b", "k.json", "v1", "s1", 13})); err != nil {
		t.Fatal(err)
	}
	if len(db.puts) != 2 {
		t.Fatalf("%d puts, want 2", len(db.puts))
	}
	second := db.puts[1].Item
	if _, ok := second["content"]; ok {
		t.Error("retry still carries the content")
	}
	ptr := second["pointer"].(*types.AttributeValueMemberM).Value
	if ptr["size"].(*types.AttributeValueMemberN).Value != "13" {
		t.Errorf("pointer %v", ptr)
	}
	if aws.ToString(db.puts[1].ConditionExpression) != "attribute_not_exists(id)" {
		t.Errorf("condition %q", aws.ToString(db.puts[1].ConditionExpression))
	}
	if got := second["processedAt"].(*types.AttributeValueMemberS).Value; got != "2026-11-27T12:34:56.789Z" {
		t.Errorf("processedAt %q", got)
	}
}

func TestS3ProcessorConditionalCheckFailedIsSuccess(t *testing.T) {
	db := &fakeDB{putErrs: []error{&types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}}}
	var logs testLogs
	p := &S3ProcessorFunc{S3: &fakeS3{body: "x", contentType: "text/plain"}, DB: db, Table: "t", Log: logs.logger()}
	if _, err := p.Handle(invocation("r"), s3Event(t, s3Rec{"b", "k.json", "", "s1", 1})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.out.String(), "Duplicate delivery of b/k.json#s1, already stored") {
		t.Errorf("out: %s", logs.out.String())
	}
}

func TestS3ProcessorContentLengthAboveTheLimitIsAPointerUnread(t *testing.T) {
	n := int64(MaxInlineBytes + 1)
	db := &fakeDB{}
	p := &S3ProcessorFunc{S3: &fakeS3{body: "{}", contentType: "", length: &n}, DB: db, Table: "t", Log: (&testLogs{}).logger()}
	if _, err := p.Handle(invocation("r"), s3Event(t, s3Rec{"b", "k.json", "", "s", 2})); err != nil {
		t.Fatal(err)
	}
	ptr := db.puts[0].Item["pointer"].(*types.AttributeValueMemberM).Value
	if ptr["contentType"].(*types.AttributeValueMemberS).Value != "application/octet-stream" || ptr["size"].(*types.AttributeValueMemberN).Value != "350001" {
		t.Errorf("pointer %v", ptr)
	}
}

func TestDecodeS3Key(t *testing.T) {
	for in, want := range map[string]string{
		"a+b.json":              "a b.json",
		"a%2Bb.json":            "a+b.json",
		"dir%2Fsub/%C3%A9.json": "dir/sub/é.json",
		"plain.json":            "plain.json",
	} {
		got, err := DecodeS3Key(in)
		if err != nil || got != want {
			t.Errorf("DecodeS3Key(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"%", "%zz", "%FF.json"} {
		if _, err := DecodeS3Key(bad); err == nil || errName(err) != "URIError" {
			t.Errorf("DecodeS3Key(%q): err %v, want a URIError", bad, err)
		}
	}
}

func TestSummaryIsJSONStringifyOutput(t *testing.T) {
	db := &fakeDB{scanOut: &dynamodb.ScanOutput{Items: []map[string]types.AttributeValue{
		{"id": &types.AttributeValueMemberS{Value: "b/a&b <c>.json#v1"}, "fileName": &types.AttributeValueMemberS{Value: "a&b <c>.json"},
			"processedAt": &types.AttributeValueMemberS{Value: "2026-11-27T12:00:00.000Z"}, "content": &types.AttributeValueMemberM{}},
		{"id": &types.AttributeValueMemberS{Value: "summary-1"}, "itemCount": &types.AttributeValueMemberN{Value: "3"}},
	}}}
	pub := &fakeSNS{}
	p := &EventProcessorFunc{DB: db, SNS: pub, Table: "t", TopicARN: "arn:aws:sns:us-east-1:000000000000:x", Now: fixedNow, Log: (&testLogs{}).logger()}
	res, err := p.Handle(invocation("r"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res != (EventResult{StatusCode: 200, Body: "Successfully published summary to SNS", MessageID: "msg-1"}) {
		t.Errorf("result %+v", res)
	}
	if aws.ToInt32(db.scanned[0].Limit) != 10 || aws.ToString(db.scanned[0].TableName) != "t" {
		t.Errorf("scan %+v", db.scanned[0])
	}
	// What JSON.stringify(summary, null, 2) prints for the same items.
	want := `{
  "timestamp": "2026-11-27T12:34:56.789Z",
  "itemCount": 2,
  "latestItems": [
    {
      "id": "b/a&b <c>.json#v1",
      "fileName": "a&b <c>.json",
      "processedAt": "2026-11-27T12:00:00.000Z"
    },
    {
      "id": "summary-1"
    }
  ]
}`
	if got := aws.ToString(pub.in.Message); got != want {
		t.Errorf("message:\n%s\nwant:\n%s", got, want)
	}
	if aws.ToString(pub.in.Subject) != "Lambda Integration - Periodic Summary" {
		t.Errorf("subject %q", aws.ToString(pub.in.Subject))
	}
	b, _ := json.Marshal(res)
	if string(b) != `{"statusCode":200,"body":"Successfully published summary to SNS","messageId":"msg-1"}` {
		t.Errorf("response %s", b)
	}
}

func TestEmptySummaryHasAnEmptyList(t *testing.T) {
	pub := &fakeSNS{}
	p := &EventProcessorFunc{DB: &fakeDB{scanOut: &dynamodb.ScanOutput{}}, SNS: pub, Table: "t", TopicARN: "arn", Now: fixedNow, Log: (&testLogs{}).logger()}
	if _, err := p.Handle(invocation("r"), nil); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"timestamp\": \"2026-11-27T12:34:56.789Z\",\n  \"itemCount\": 0,\n  \"latestItems\": []\n}"; aws.ToString(pub.in.Message) != want {
		t.Errorf("message %s", aws.ToString(pub.in.Message))
	}
}

func TestQueueProcessorResponseShapeAndItem(t *testing.T) {
	db := &fakeDB{}
	p := &QueueProcessorFunc{DB: db, Table: "t", Now: fixedNow, Log: (&testLogs{}).logger()}
	resp, err := p.Handle(invocation("r"), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: snsEnvelope("sns-1", `{"timestamp":"T","itemCount":7}`)},
		{MessageId: "m2", Body: snsEnvelope("sns-2", `{"other":true}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp)
	if string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("response %s, want an empty list as the Node version returns", b)
	}
	it := db.puts[0].Item
	if it["id"].(*types.AttributeValueMemberS).Value != "summary-sns-1" || it["itemCount"].(*types.AttributeValueMemberN).Value != "7" ||
		it["timestamp"].(*types.AttributeValueMemberS).Value != "T" || it["snsMessageId"].(*types.AttributeValueMemberS).Value != "sns-1" ||
		it["processedAt"].(*types.AttributeValueMemberS).Value != "2026-11-27T12:34:56.789Z" {
		t.Errorf("item %v", it)
	}
	// Absent fields stay absent (the Node version drops undefined values).
	if _, ok := db.puts[1].Item["timestamp"]; ok {
		t.Errorf("timestamp stored for a message without one")
	}
	if len(db.puts[1].Item) != 4 {
		t.Errorf("item %v", db.puts[1].Item)
	}
}

func TestInvokeErrorCarriesTheAWSCode(t *testing.T) {
	err := invokeError(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed"})
	ie, ok := err.(messages.InvokeResponse_Error)
	if !ok || ie.Type != "AccessDeniedException" || ie.Message != "not allowed" {
		t.Fatalf("%#v", err)
	}
	if invokeError(nil) != nil {
		t.Fatal("nil error became non-nil")
	}
}

func TestNewHandlerRejectsUnknownNames(t *testing.T) {
	for _, name := range []string{"", "index.handler", "s3-to-dynamodb-processor"} {
		_, err := NewHandler(context.Background(), name)
		ie, ok := err.(*InitError)
		if !ok || ie.Type != "Runtime.HandlerNotFound" || !strings.Contains(ie.Message, "s3-processor") {
			t.Errorf("NewHandler(%q) = %v", name, err)
		}
	}
}

func TestDecodeUTF8ReplacesInvalidBytes(t *testing.T) {
	if got := decodeUTF8([]byte("a\xffb\xc3")); got != "a\uFFFDb\uFFFD" {
		t.Errorf("%q", got)
	}
	if !bytes.Equal([]byte(decodeUTF8([]byte("é"))), []byte("é")) {
		t.Error("valid UTF-8 changed")
	}
}
