package engine_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	s3api "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/sandbox/internal/engine"
)

// jsonNotification is the guide's configuration: ObjectCreated:* for keys
// ending in .json.
func jsonNotification(fnArn string) *s3types.NotificationConfiguration {
	return &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
		Id: aws.String("json-to-lambda"), LambdaFunctionArn: aws.String(fnArn), Events: []s3types.Event{"s3:ObjectCreated:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: "suffix", Value: aws.String(".json")}}}},
	}}}
}

func (e *env) notify(bucket string, cfg *s3types.NotificationConfiguration) error {
	_, err := e.s3.PutBucketNotificationConfiguration(ctx, &s3api.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket), NotificationConfiguration: cfg})
	return err
}

// Breakage: the notification is configured before (or without) the
// permission S3 needs. S3 refuses the configuration.
func TestS3NotificationWithoutPermissionIsInvalidArgument(t *testing.T) {
	e := start(t, engine.Options{})
	fn := e.function(t, "s3-to-dynamodb-processor", 30)
	e.bucket(t, "lab-bucket")

	err := e.notify("lab-bucket", jsonNotification(fn))
	ae := wantCode(t, err, "InvalidArgument")
	if ae.ErrorMessage() != "Unable to validate the following destination configurations" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// The error names the destination and the reason, as S3 does.
	body := `<NotificationConfiguration><CloudFunctionConfiguration><Id>x</Id><CloudFunction>` + fn + `</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>`
	status, resp := e.rawS3(t, "PUT", "/lab-bucket?notification", []byte(body))
	if status != 400 || !strings.Contains(resp, "<ArgumentName1>"+fn+", null</ArgumentName1>") ||
		!strings.Contains(resp, "<ArgumentValue1>Not authorized to invoke function ["+fn+"]</ArgumentValue1>") {
		t.Fatalf("raw error %d %s", status, resp)
	}

	// A permission for another bucket, another service or another source
	// account does not do either.
	e.permit(t, fn, "other-bucket", "s3.amazonaws.com", "arn:aws:s3:::other-bucket", "")
	e.permit(t, fn, "wrong-service", "sns.amazonaws.com", "arn:aws:s3:::lab-bucket", "")
	e.permit(t, fn, "wrong-account", "s3.amazonaws.com", "arn:aws:s3:::lab-bucket", "123456789012")
	wantCode(t, e.notify("lab-bucket", jsonNotification(fn)), "InvalidArgument")

	// A missing function is refused the same way.
	missing := strings.Replace(fn, "s3-to-dynamodb-processor", "nope", 1)
	wantCode(t, e.notify("lab-bucket", jsonNotification(missing)), "InvalidArgument")

	e.permit(t, fn, "s3-trigger", "s3.amazonaws.com", "arn:aws:s3:::lab-bucket", acct)
	if err := e.notify("lab-bucket", jsonNotification(fn)); err != nil {
		t.Fatalf("with the permission: %v", err)
	}
	// Two refused destinations are both listed.
	fn2 := e.function(t, "second", 3)
	fn3 := e.function(t, "third", 3)
	two := `<NotificationConfiguration>` +
		`<CloudFunctionConfiguration><Id>a</Id><CloudFunction>` + fn2 + `</CloudFunction><Event>s3:ObjectCreated:Put</Event></CloudFunctionConfiguration>` +
		`<CloudFunctionConfiguration><Id>b</Id><CloudFunction>` + fn3 + `</CloudFunction><Event>s3:ObjectRemoved:*</Event></CloudFunctionConfiguration>` +
		`</NotificationConfiguration>`
	status, resp = e.rawS3(t, "PUT", "/lab-bucket?notification", []byte(two))
	if status != 400 || !strings.Contains(resp, "<ArgumentName2>"+fn3+", null</ArgumentName2>") {
		t.Fatalf("two refused: %d %s", status, resp)
	}
}

func TestS3ToLambda(t *testing.T) {
	e := start(t, engine.Options{})
	fn := e.function(t, "s3-to-dynamodb-processor", 30)
	e.bucket(t, "lab-bucket")
	if _, err := e.s3.PutBucketVersioning(ctx, &s3api.PutBucketVersioningInput{Bucket: aws.String("lab-bucket"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "Enabled"}}); err != nil {
		t.Fatal(err)
	}
	e.permit(t, fn, "s3-trigger", "s3.amazonaws.com", "arn:aws:s3:::lab-bucket", "")
	if err := e.notify("lab-bucket", jsonNotification(fn)); err != nil {
		t.Fatal(err)
	}

	out, err := e.s3.PutObject(ctx, &s3api.PutObjectInput{Bucket: aws.String("lab-bucket"), Key: aws.String("in/test data (1).json"), Body: strings.NewReader(`{"id":"test-item-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	e.put(t, "lab-bucket", "notes.txt", "not json")
	e.put(t, "lab-bucket", "UPPER.JSON", "{}") // the suffix filter is case-sensitive
	e.drain(t)

	calls := e.inv.asyncCalls()
	if len(calls) != 1 {
		t.Fatalf("want one invocation (the .json upload), got %d: %+v", len(calls), calls)
	}
	in := calls[0]
	if in.Function != fn || in.Source != "s3" || in.Scope.Account != acct || in.Scope.Region != region {
		t.Fatalf("invocation %+v", in)
	}
	ev := decode(t, in.Payload)
	rec := path(ev, "Records", 0)
	want := map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region, "eventName": "ObjectCreated:Put",
	}
	for k, v := range want {
		if got := path(rec, k); got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if s, _ := path(rec, "eventTime").(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(s) {
		t.Errorf("eventTime %q", s)
	}
	for _, p := range [][]any{{"userIdentity", "principalId"}, {"requestParameters", "sourceIPAddress"},
		{"responseElements", "x-amz-request-id"}, {"responseElements", "x-amz-id-2"}, {"s3", "bucket", "ownerIdentity", "principalId"}} {
		if s, _ := path(rec, p...).(string); s == "" {
			t.Errorf("%v is empty", p)
		}
	}
	s3part := path(rec, "s3")
	if path(s3part, "s3SchemaVersion") != "1.0" || path(s3part, "configurationId") != "json-to-lambda" ||
		path(s3part, "bucket", "name") != "lab-bucket" || path(s3part, "bucket", "arn") != "arn:aws:s3:::lab-bucket" {
		t.Errorf("s3 %v", s3part)
	}
	obj := path(s3part, "object")
	if path(obj, "key") != "in/test+data+%281%29.json" || path(obj, "size") != float64(20) ||
		path(obj, "eTag") != strings.Trim(aws.ToString(out.ETag), `"`) || path(obj, "versionId") != aws.ToString(out.VersionId) {
		t.Errorf("object %v (version %s)", obj, aws.ToString(out.VersionId))
	}
	if s, _ := path(obj, "sequencer").(string); s == "" {
		t.Errorf("no sequencer: %v", obj)
	}

	// Copy and multipart completion are ObjectCreated events too.
	if _, err := e.s3.CopyObject(ctx, &s3api.CopyObjectInput{Bucket: aws.String("lab-bucket"), Key: aws.String("copy.json"),
		CopySource: aws.String("lab-bucket/notes.txt")}); err != nil {
		t.Fatal(err)
	}
	mp, err := e.s3.CreateMultipartUpload(ctx, &s3api.CreateMultipartUploadInput{Bucket: aws.String("lab-bucket"), Key: aws.String("big.json")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := e.s3.UploadPart(ctx, &s3api.UploadPartInput{Bucket: aws.String("lab-bucket"), Key: aws.String("big.json"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("{}"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.CompleteMultipartUpload(ctx, &s3api.CompleteMultipartUploadInput{Bucket: aws.String("lab-bucket"), Key: aws.String("big.json"),
		UploadId: mp.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	// A deletion is no ObjectCreated event.
	if _, err := e.s3.DeleteObject(ctx, &s3api.DeleteObjectInput{Bucket: aws.String("lab-bucket"), Key: aws.String("copy.json")}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	calls = e.inv.asyncCalls()
	if len(calls) != 3 {
		t.Fatalf("want 3 invocations, got %d", len(calls))
	}
	if n := path(decode(t, calls[1].Payload), "Records", 0, "eventName"); n != "ObjectCreated:Copy" {
		t.Errorf("copy event %v", n)
	}
	if n := path(decode(t, calls[2].Payload), "Records", 0, "eventName"); n != "ObjectCreated:CompleteMultipartUpload" {
		t.Errorf("multipart event %v", n)
	}
}

func TestS3ObjectRemovedAndPrefix(t *testing.T) {
	e := start(t, engine.Options{})
	fn := e.function(t, "on-delete", 3)
	e.bucket(t, "plain")
	e.permit(t, fn, "s3", "s3.amazonaws.com", "arn:aws:s3:::plain", "")
	cfg := &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
		LambdaFunctionArn: aws.String(fn), Events: []s3types.Event{"s3:ObjectRemoved:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: "prefix", Value: aws.String("logs/")}}}},
	}}}
	if err := e.notify("plain", cfg); err != nil {
		t.Fatal(err)
	}
	e.put(t, "plain", "logs/a", "x")
	e.put(t, "plain", "other/a", "x")
	for _, k := range []string{"logs/a", "other/a"} {
		if _, err := e.s3.DeleteObject(ctx, &s3api.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	e.drain(t)
	calls := e.inv.asyncCalls()
	if len(calls) != 1 {
		t.Fatalf("want 1 invocation, got %d", len(calls))
	}
	obj := path(decode(t, calls[0].Payload), "Records", 0, "s3", "object").(map[string]any)
	if path(decode(t, calls[0].Payload), "Records", 0, "eventName") != "ObjectRemoved:Delete" || obj["key"] != "logs/a" {
		t.Fatalf("removal record %v", obj)
	}
	for _, absent := range []string{"size", "eTag", "versionId"} {
		if _, ok := obj[absent]; ok {
			t.Errorf("removal of an unversioned object carries %s: %v", absent, obj)
		}
	}
}

// Breakage: the permission is removed after the notification was set up.
// S3 keeps the configuration and its events are lost without a word.
func TestS3PermissionRemovedDropsEvents(t *testing.T) {
	e := start(t, engine.Options{})
	fn := e.function(t, "processor", 3)
	e.bucket(t, "lab-bucket")
	e.permit(t, fn, "s3-trigger", "s3.amazonaws.com", "arn:aws:s3:::lab-bucket", "")
	if err := e.notify("lab-bucket", jsonNotification(fn)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.lam.RemovePermission(ctx, &lam.RemovePermissionInput{FunctionName: aws.String("processor"), StatementId: aws.String("s3-trigger")}); err != nil {
		t.Fatal(err)
	}
	mark := e.eng.DeliveryMark()
	e.put(t, "lab-bucket", "a.json", "{}")
	e.drain(t)
	if n := len(e.inv.asyncCalls()); n != 0 {
		t.Fatalf("the function was invoked %d times without S3's permission", n)
	}
	d := e.eng.Deliveries(mark)
	if len(d) != 1 || d[0].Outcome != engine.Dropped || !strings.Contains(d[0].Reason, "does not allow s3.amazonaws.com") {
		t.Fatalf("delivery log %+v", d)
	}
}

// S3 also delivers to SQS queues whose policy lets it.
func TestS3ToSQS(t *testing.T) {
	e := start(t, engine.Options{})
	e.bucket(t, "to-queue")
	url, arn := e.queue(t, "s3-events", nil)
	e.setQueuePolicy(t, url, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"SQS:SendMessage","Resource":"`+arn+`","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::to-*"}}}]}`)
	cfg := &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{QueueArn: aws.String(arn), Events: []s3types.Event{"s3:ObjectCreated:Put"}}}}
	if err := e.notify("to-queue", cfg); err != nil {
		t.Fatal(err)
	}
	e.put(t, "to-queue", "k", "v")
	e.drain(t)
	msgs := e.receive(t, url, 1)
	if len(msgs) != 1 || path(decode(t, []byte(msgs[0].Body)), "Records", 0, "s3", "object", "key") != "k" {
		t.Fatalf("messages %+v", msgs)
	}
}
