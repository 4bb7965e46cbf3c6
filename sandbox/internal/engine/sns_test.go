package engine_test

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	snsapi "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/slab-lab/slab/sandbox/internal/engine"
)

func (e *env) publish(t testing.TB, in *snsapi.PublishInput) string {
	t.Helper()
	out, err := e.sns.Publish(ctx, in)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return aws.ToString(out.MessageId)
}

func TestSNSToSQSEnvelope(t *testing.T) {
	e := start(t, engine.Options{})
	topic := e.topic(t, "lambda-integration-notifications")
	url, qarn := e.queue(t, "lambda-integration-queue", nil)
	e.setQueuePolicy(t, url, snsQueuePolicy(qarn, topic))
	sub := e.subscribe(t, topic, "sqs", qarn, nil)

	id := e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Subject: aws.String("Lambda Integration - Periodic Summary"),
		Message: aws.String(`{"itemCount":3}`), MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("summary")},
			"count": {DataType: aws.String("Number"), StringValue: aws.String("3")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		}})
	e.drain(t)
	msgs := e.receive(t, url, 1)
	if len(msgs) != 1 {
		t.Fatalf("want the notification on the queue, got %d messages", len(msgs))
	}
	body := msgs[0].Body
	if len(msgs[0].Attrs) != 0 {
		t.Errorf("an envelope delivery carries no SQS message attributes: %v", msgs[0].Attrs)
	}
	// SNS's own layout: pretty-printed, " : " separators, fixed key order.
	if !strings.HasPrefix(body, "{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : \""+id+"\",\n  \"TopicArn\" : \""+topic+"\",\n  \"Subject\" : ") {
		t.Errorf("envelope layout:\n%s", body)
	}
	env := decode(t, []byte(body))
	if env["Message"] != `{"itemCount":3}` || env["Subject"] != "Lambda Integration - Periodic Summary" || env["SignatureVersion"] != "1" {
		t.Errorf("envelope %v", env)
	}
	if ts, _ := env["Timestamp"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("Timestamp %q", ts)
	}
	if sig, err := base64.StdEncoding.DecodeString(env["Signature"].(string)); err != nil || len(sig) != 256 {
		t.Errorf("Signature %v (%d bytes)", err, len(sig))
	}
	if u, _ := env["SigningCertURL"].(string); !strings.HasPrefix(u, "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-") || !strings.HasSuffix(u, ".pem") {
		t.Errorf("SigningCertURL %q", u)
	}
	if u, _ := env["UnsubscribeURL"].(string); !strings.Contains(u, "Action=Unsubscribe&SubscriptionArn="+strings.ReplaceAll(sub, ":", "%3A")) {
		t.Errorf("UnsubscribeURL %q (sub %s)", u, sub)
	}
	attrs := env["MessageAttributes"]
	if path(attrs, "kind", "Type") != "String" || path(attrs, "kind", "Value") != "summary" ||
		path(attrs, "count", "Type") != "Number" || path(attrs, "count", "Value") != "3" ||
		path(attrs, "blob", "Type") != "Binary" || path(attrs, "blob", "Value") != "AQID" {
		t.Errorf("MessageAttributes %v", attrs)
	}

	// Without a subject the key is absent.
	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String("plain")})
	e.drain(t)
	msgs = e.receive(t, url, 1)
	if len(msgs) != 1 {
		t.Fatalf("second message: %d", len(msgs))
	}
	if _, ok := decode(t, []byte(msgs[0].Body))["Subject"]; ok {
		t.Errorf("Subject present without a subject: %s", msgs[0].Body)
	}
	m := e.eng.TopicMetrics(topic)
	if m.NumberOfMessagesPublished != 2 || m.NumberOfNotificationsDelivered != 2 || m.NumberOfNotificationsFailed != 0 {
		t.Errorf("metrics %+v", m)
	}
}

func TestSNSRawMessageDelivery(t *testing.T) {
	e := start(t, engine.Options{})
	topic := e.topic(t, "t")
	url, qarn := e.queue(t, "raw", nil)
	e.setQueuePolicy(t, url, snsQueuePolicy(qarn, topic))
	e.subscribe(t, topic, "sqs", qarn, map[string]string{"RawMessageDelivery": "true"})
	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String(`{"test":"message"}`),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("raw")}}})
	e.drain(t)
	msgs := e.receive(t, url, 1)
	if len(msgs) != 1 || msgs[0].Body != `{"test":"message"}` || msgs[0].Attrs["kind"] != "String=raw" {
		t.Fatalf("raw delivery %+v", msgs)
	}
}

// Breakage: the queue policy is missing (the guide's broken
// set-queue-attributes), or names another topic. The subscription looks
// fine, and every message is dropped; only the topic's
// NumberOfNotificationsFailed tells.
func TestSNSMissingQueuePolicyDropsAndCounts(t *testing.T) {
	e := start(t, engine.Options{})
	topic := e.topic(t, "lambda-integration-notifications")
	url, qarn := e.queue(t, "lambda-integration-queue", nil)
	e.subscribe(t, topic, "sqs", qarn, nil)

	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String("one")})
	e.drain(t)
	if msgs := e.receive(t, url, 0); len(msgs) != 0 {
		t.Fatalf("delivered without a queue policy: %+v", msgs)
	}
	m := e.eng.TopicMetrics(topic)
	if m.NumberOfMessagesPublished != 1 || m.NumberOfNotificationsFailed != 1 || m.NumberOfNotificationsDelivered != 0 {
		t.Fatalf("metrics %+v", m)
	}
	d := e.deliveries(engine.Dropped)
	if len(d) != 1 || !strings.Contains(d[0].Reason, "has no access policy") {
		t.Fatalf("deliveries %+v", d)
	}

	// A policy for another topic is no better.
	e.setQueuePolicy(t, url, snsQueuePolicy(qarn, strings.Replace(topic, "notifications", "other", 1)))
	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String("two")})
	e.drain(t)
	if msgs := e.receive(t, url, 0); len(msgs) != 0 {
		t.Fatalf("delivered with another topic's policy: %+v", msgs)
	}
	// Principal list, SQS:* action, lower-case condition key and ArnLike:
	// all accepted, as by AWS's evaluator.
	e.setQueuePolicy(t, url, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["sns.amazonaws.com"]},"Action":"SQS:*","Resource":"`+qarn+`","Condition":{"ArnLike":{"AWS:SOURCEARN":"arn:aws:sns:us-east-1:000000000000:lambda-*"}}}]}`)
	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String("three")})
	e.drain(t)
	if msgs := e.receive(t, url, 1); len(msgs) != 1 {
		t.Fatalf("not delivered with a valid policy: %+v", msgs)
	}
	m = e.eng.TopicMetrics(topic)
	if m.NumberOfMessagesPublished != 3 || m.NumberOfNotificationsFailed != 2 || m.NumberOfNotificationsDelivered != 1 {
		t.Fatalf("metrics %+v", m)
	}
	// The same counters through the sandbox endpoint.
	var body struct {
		SNS []engine.TopicMetrics `json:"AWS/SNS"`
	}
	if code := e.httpJSON(t, "GET", "/_slab/metrics", &body); code != 200 || len(body.SNS) != 1 || body.SNS[0] != m {
		t.Fatalf("/_slab/metrics %d %+v", code, body)
	}
	// An explicit Deny wins.
	e.setQueuePolicy(t, url, `{"Statement":[`+
		`{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"`+qarn+`"},`+
		`{"Effect":"Deny","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"`+qarn+`"}]}`)
	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String("four")})
	e.drain(t)
	if msgs := e.receive(t, url, 0); len(msgs) != 0 {
		t.Fatalf("delivered despite a Deny: %+v", msgs)
	}
}

func TestSNSFilterPolicy(t *testing.T) {
	e := start(t, engine.Options{})
	topic := e.topic(t, "filtered")
	url, qarn := e.queue(t, "orders", nil)
	e.setQueuePolicy(t, url, snsQueuePolicy(qarn, topic))
	e.subscribe(t, topic, "sqs", qarn, map[string]string{
		"RawMessageDelivery": "true",
		"FilterPolicy":       `{"store":["example_corp"],"price":[{"numeric":[">=",100]}],"kind":[{"anything-but":["test"]}]}`,
	})
	bodyURL, bodyArn := e.queue(t, "body", nil)
	e.setQueuePolicy(t, bodyURL, snsQueuePolicy(bodyArn, topic))
	e.subscribe(t, topic, "sqs", bodyArn, map[string]string{
		"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
		"FilterPolicy": `{"order":{"status":[{"prefix":"ship"}]},"itemCount":[{"exists":true}]}`,
	})
	attr := func(typ, v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String(typ), StringValue: aws.String(v)}
	}
	pub := func(msg string, attrs map[string]snstypes.MessageAttributeValue) {
		e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String(msg), MessageAttributes: attrs})
	}
	pub("match", map[string]snstypes.MessageAttributeValue{"store": attr("String", "example_corp"), "price": attr("Number", "150"), "kind": attr("String", "real")})
	pub("cheap", map[string]snstypes.MessageAttributeValue{"store": attr("String", "example_corp"), "price": attr("Number", "99.5"), "kind": attr("String", "real")})
	pub("string price", map[string]snstypes.MessageAttributeValue{"store": attr("String", "example_corp"), "price": attr("String", "150"), "kind": attr("String", "real")})
	pub("test kind", map[string]snstypes.MessageAttributeValue{"store": attr("String", "example_corp"), "price": attr("Number", "150"), "kind": attr("String", "test")})
	pub("no kind", map[string]snstypes.MessageAttributeValue{"store": attr("String", "example_corp"), "price": attr("Number", "150")})
	pub(`{"order":{"status":"shipped"},"itemCount":0}`, nil)
	pub(`{"order":{"status":"pending"},"itemCount":0}`, nil)
	pub(`{"order":{"status":"shipped"}}`, nil)
	e.drain(t)

	if msgs := e.receive(t, url, 1); len(msgs) != 1 || msgs[0].Body != "match" {
		t.Fatalf("attribute-filtered queue got %+v", msgs)
	}
	if msgs := e.receive(t, bodyURL, 1); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "shipped") {
		t.Fatalf("body-filtered queue got %+v", msgs)
	}
	m := e.eng.TopicMetrics(topic)
	if m.NumberOfMessagesPublished != 8 || m.NumberOfNotificationsDelivered != 2 || m.NumberOfNotificationsFilteredOut != 14 || m.NumberOfNotificationsFailed != 0 {
		t.Fatalf("metrics %+v", m)
	}
}

func TestSNSToLambda(t *testing.T) {
	e := start(t, engine.Options{})
	topic := e.topic(t, "to-fn")
	fn := e.function(t, "sns-consumer", 3)
	sub := e.subscribe(t, topic, "lambda", fn, nil)

	// Without the permission: dropped and counted as failed.
	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String("first")})
	e.drain(t)
	if n := len(e.inv.asyncCalls()); n != 0 {
		t.Fatalf("invoked without permission: %d", n)
	}
	e.permit(t, fn, "sns", "sns.amazonaws.com", topic, "")
	id := e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), Message: aws.String("second"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"a": {DataType: aws.String("String"), StringValue: aws.String("b")}}})
	e.drain(t)
	calls := e.inv.asyncCalls()
	if len(calls) != 1 || calls[0].Function != fn || calls[0].Source != "sns" {
		t.Fatalf("calls %+v", calls)
	}
	rec := path(decode(t, calls[0].Payload), "Records", 0)
	if path(rec, "EventSource") != "aws:sns" || path(rec, "EventVersion") != "1.0" || path(rec, "EventSubscriptionArn") != sub {
		t.Errorf("record %v", rec)
	}
	s := path(rec, "Sns")
	if path(s, "Type") != "Notification" || path(s, "MessageId") != id || path(s, "TopicArn") != topic || path(s, "Message") != "second" ||
		path(s, "SignatureVersion") != "1" || path(s, "MessageAttributes", "a", "Value") != "b" || path(s, "SigningCertUrl") == nil || path(s, "UnsubscribeUrl") == nil {
		t.Errorf("Sns %v", s)
	}
	if v, ok := s.(map[string]any)["Subject"]; !ok || v != nil {
		t.Errorf("Subject should be null without a subject, got %v (present %v)", v, ok)
	}
	m := e.eng.TopicMetrics(topic)
	if m.NumberOfNotificationsFailed != 1 || m.NumberOfNotificationsDelivered != 1 {
		t.Errorf("metrics %+v", m)
	}
}

// MessageStructure json gives each protocol its own message.
func TestSNSMessageStructure(t *testing.T) {
	e := start(t, engine.Options{})
	topic := e.topic(t, "structured")
	url, qarn := e.queue(t, "q", nil)
	e.setQueuePolicy(t, url, snsQueuePolicy(qarn, topic))
	e.subscribe(t, topic, "sqs", qarn, map[string]string{"RawMessageDelivery": "true"})
	e.publish(t, &snsapi.PublishInput{TopicArn: aws.String(topic), MessageStructure: aws.String("json"),
		Message: aws.String(`{"default":"for everyone","sqs":"for queues"}`)})
	e.drain(t)
	if msgs := e.receive(t, url, 1); len(msgs) != 1 || msgs[0].Body != "for queues" {
		t.Fatalf("got %+v", msgs)
	}
}
