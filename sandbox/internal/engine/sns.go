package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/sns"
	"github.com/slab-lab/slab/sandbox/internal/sqs"
)

// onPublished is the "sns.published" hook. The publish is counted at once
// (NumberOfMessagesPublished); the fan-out runs on a worker, in publish
// order per topic.
func (e *Engine) onPublished(p sns.Published) {
	e.metrics.add(p.TopicArn, func(t *TopicMetrics) { t.NumberOfMessagesPublished++ })
	e.work.submit("sns/"+p.TopicArn, func(ctx context.Context) { e.deliverSNS(ctx, p) })
}

type snsDelivery struct {
	sub     sns.Subscription
	message string
	queue   string // resolved queue ARN (protocol sqs)
	fn      string // resolved function ARN (protocol lambda)
	scope   core.Scope
	reason  string
	skip    bool // protocol the sandbox does not deliver to
	grant   grant
}

// deliverSNS delivers one message to every confirmed subscription of its
// topic. A subscription whose filter policy rejects the message is counted
// as filtered out; one whose endpoint refuses SNS (a queue policy or
// function policy without sns.amazonaws.com for this topic) is counted as
// failed and otherwise dropped without a trace, as on AWS.
func (e *Engine) deliverSNS(ctx context.Context, p sns.Published) {
	var plan []snsDelivery
	topicAccount := arnAccount(p.TopicArn)
	_ = e.c.Store.View(func(tx *core.Tx) error {
		for _, sub := range e.sn.Subscriptions(tx, p.TopicArn) {
			if sub.PendingConfirmation {
				continue
			}
			d := snsDelivery{sub: sub, message: protocolMessage(p, sub.Protocol), scope: scopeOf(sub.Endpoint, p.Scope)}
			switch sub.Protocol {
			case "sqs":
				if q, g, reason, ok := e.queueFor(tx, sub.Endpoint, principalSNS, p.TopicArn, topicAccount); ok {
					d.queue, d.grant = q.Arn, g
				} else {
					d.reason = reason
				}
			case "lambda":
				if f, g, reason, ok := e.functionFor(tx, d.scope, sub.Endpoint, principalSNS, p.TopicArn, topicAccount); ok {
					d.fn, d.grant = f.Arn, g
				} else {
					d.reason = reason
				}
			default:
				d.skip = true
				d.reason = fmt.Sprintf("the sandbox does not deliver to %s endpoints", sub.Protocol)
			}
			plan = append(plan, d)
		}
		return nil
	})
	// Filter and access policies are the subscriber's documents: they are
	// evaluated here, after the transaction, never inside it.
	for i := range plan {
		d := &plan[i]
		if d.skip {
			continue
		}
		if d.sub.FilterPolicy != "" && !filterMatches(d.sub.FilterPolicy, d.sub.FilterPolicyScope, p.MessageAttributes, d.message) {
			d.reason, d.queue, d.fn = "filtered", "", ""
			continue
		}
		if d.queue != "" || d.fn != "" {
			if reason, ok := d.grant.check(); !ok {
				d.reason, d.queue, d.fn = reason, "", ""
			}
		}
	}
	for _, d := range plan {
		rec := Delivery{Source: "sns", From: p.TopicArn, To: d.sub.Endpoint, Detail: p.MessageID}
		switch {
		case d.reason == "filtered":
			e.metrics.add(p.TopicArn, func(t *TopicMetrics) { t.NumberOfNotificationsFilteredOut++ })
			rec.Outcome, rec.Reason = Filtered, "the subscription's filter policy does not match the message"
			e.record(rec)
		case d.skip:
			rec.Outcome, rec.Reason = Dropped, d.reason
			e.record(rec)
		case d.reason != "":
			e.metrics.add(p.TopicArn, func(t *TopicMetrics) { t.NumberOfNotificationsFailed++ })
			rec.Outcome, rec.Reason = Dropped, d.reason
			e.record(rec)
		case d.queue != "":
			body, attrs := envelope(p, d.sub, d.message), map[string]sqs.MessageAttribute(nil)
			if d.sub.RawMessageDelivery {
				body, attrs = d.message, sqsAttributes(p.MessageAttributes)
			}
			e.countDelivery(p.TopicArn, e.enqueue(rec, d.queue, body, attrs, senderID(principalSNS)))
		case d.fn != "":
			payload, _ := json.Marshal(map[string][]snsLambdaRecord{"Records": {lambdaRecord(p, d.sub, d.message)}})
			_, ok := e.invokeAsync(ctx, rec, d.scope, d.fn, payload, "sns")
			e.countDelivery(p.TopicArn, ok)
		}
	}
}

func (e *Engine) countDelivery(topicArn string, ok bool) {
	e.metrics.add(topicArn, func(t *TopicMetrics) {
		if ok {
			t.NumberOfNotificationsDelivered++
		} else {
			t.NumberOfNotificationsFailed++
		}
	})
}

// enqueue sends a message to a queue and logs the outcome.
func (e *Engine) enqueue(rec Delivery, queueArn, body string, attrs map[string]sqs.MessageAttribute, sender string) bool {
	if e.sq == nil {
		rec.Outcome, rec.Reason = Failed, "the sandbox has no SQS service"
		e.record(rec)
		return false
	}
	id, err := e.sq.Enqueue(queueArn, body, attrs, sender)
	if err != nil {
		rec.Outcome, rec.Reason = Failed, err.Error()
		e.record(rec)
		return false
	}
	e.auditInternal(scopeOf(queueArn, core.Scope{}), "sqs", "SendMessage")
	rec.Outcome, rec.RequestID = Delivered, id
	e.record(rec)
	return true
}

// protocolMessage picks the message a protocol gets: with MessageStructure
// "json" the protocol's own entry, else the "default" one.
func protocolMessage(p sns.Published, protocol string) string {
	if p.MessageStructure != "json" {
		return p.Message
	}
	var m map[string]any
	if json.Unmarshal([]byte(p.Message), &m) != nil {
		return p.Message
	}
	if s, ok := m[protocol].(string); ok {
		return s
	}
	s, _ := m["default"].(string)
	return s
}

func sqsAttributes(in map[string]sns.MessageAttribute) map[string]sqs.MessageAttribute {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]sqs.MessageAttribute, len(in))
	for k, a := range in {
		out[k] = sqs.MessageAttribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	}
	return out
}

// --- the SNS notification document ---

const snsTimeFormat = "2006-01-02T15:04:05.000Z"

func signingCertURL(region string) string {
	sum := sha256.Sum256([]byte("slab-sns-signing-cert/" + region))
	return "https://sns." + region + ".amazonaws.com/SimpleNotificationService-" + hex.EncodeToString(sum[:16]) + ".pem"
}

func unsubscribeURL(region, subArn string) string {
	return "https://sns." + region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(subArn)
}

// signature is a stand-in for SNS's RSA signature: as long as a real one
// (256 bytes, base64) and derived from the string SNS signs, so it is
// stable for a message; nothing can verify it against the certificate URL.
func signature(p sns.Published, message string) string {
	var b strings.Builder
	b.WriteString("Message\n" + message + "\nMessageId\n" + p.MessageID + "\n")
	if p.Subject != "" {
		b.WriteString("Subject\n" + p.Subject + "\n")
	}
	b.WriteString("Timestamp\n" + p.Timestamp.UTC().Format(snsTimeFormat) + "\nTopicArn\n" + p.TopicArn + "\nType\nNotification\n")
	out := make([]byte, 0, 256)
	seed := sha256.Sum256([]byte(b.String()))
	for i := byte(0); len(out) < 256; i++ {
		block := sha256.Sum256(append(seed[:], i))
		out = append(out, block[:]...)
	}
	return base64.StdEncoding.EncodeToString(out[:256])
}

// jsonText encodes v without HTML escaping, as SNS writes its documents.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

type snsAttr struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

func envelopeAttrs(in map[string]sns.MessageAttribute) ([]string, map[string]snsAttr) {
	names := make([]string, 0, len(in))
	out := make(map[string]snsAttr, len(in))
	for k, a := range in {
		names = append(names, k)
		v := a.StringValue
		if strings.HasPrefix(a.DataType, "Binary") {
			v = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		out[k] = snsAttr{Type: a.DataType, Value: v}
	}
	sort.Strings(names)
	return names, out
}

// envelope renders the notification SNS delivers to an SQS queue without
// raw message delivery, in SNS's own layout (pretty-printed with " : ").
func envelope(p sns.Published, sub sns.Subscription, message string) string {
	region := arnRegion(p.TopicArn)
	type kv struct{ k, v string }
	fields := []kv{{"Type", jsonText("Notification")}, {"MessageId", jsonText(p.MessageID)}}
	if p.SequenceNumber != "" {
		fields = append(fields, kv{"SequenceNumber", jsonText(p.SequenceNumber)})
	}
	fields = append(fields, kv{"TopicArn", jsonText(p.TopicArn)})
	if p.Subject != "" {
		fields = append(fields, kv{"Subject", jsonText(p.Subject)})
	}
	fields = append(fields,
		kv{"Message", jsonText(message)},
		kv{"Timestamp", jsonText(p.Timestamp.UTC().Format(snsTimeFormat))},
		kv{"SignatureVersion", jsonText("1")},
		kv{"Signature", jsonText(signature(p, message))},
		kv{"SigningCertURL", jsonText(signingCertURL(region))},
		kv{"UnsubscribeURL", jsonText(unsubscribeURL(region, sub.Arn))},
	)
	if len(p.MessageAttributes) > 0 {
		names, attrs := envelopeAttrs(p.MessageAttributes)
		var b strings.Builder
		b.WriteString("{\n")
		for i, n := range names {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString("    " + jsonText(n) + " : " + jsonText(attrs[n]))
		}
		b.WriteString("\n  }")
		fields = append(fields, kv{"MessageAttributes", b.String()})
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range fields {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  " + jsonText(f.k) + " : " + f.v)
	}
	b.WriteString("\n}")
	return b.String()
}

// snsLambdaRecord is one record of the event SNS invokes a function with.
type snsLambdaRecord struct {
	EventVersion         string        `json:"EventVersion"`
	EventSubscriptionArn string        `json:"EventSubscriptionArn"`
	EventSource          string        `json:"EventSource"`
	Sns                  snsLambdaBody `json:"Sns"`
}

type snsLambdaBody struct {
	Type              string             `json:"Type"`
	MessageID         string             `json:"MessageId"`
	TopicArn          string             `json:"TopicArn"`
	Subject           *string            `json:"Subject"`
	Message           string             `json:"Message"`
	Timestamp         string             `json:"Timestamp"`
	SignatureVersion  string             `json:"SignatureVersion"`
	Signature         string             `json:"Signature"`
	SigningCertURL    string             `json:"SigningCertUrl"`
	UnsubscribeURL    string             `json:"UnsubscribeUrl"`
	MessageAttributes map[string]snsAttr `json:"MessageAttributes"`
}

func lambdaRecord(p sns.Published, sub sns.Subscription, message string) snsLambdaRecord {
	region := arnRegion(p.TopicArn)
	_, attrs := envelopeAttrs(p.MessageAttributes)
	body := snsLambdaBody{
		Type: "Notification", MessageID: p.MessageID, TopicArn: p.TopicArn, Message: message,
		Timestamp: p.Timestamp.UTC().Format(snsTimeFormat), SignatureVersion: "1", Signature: signature(p, message),
		SigningCertURL: signingCertURL(region), UnsubscribeURL: unsubscribeURL(region, sub.Arn), MessageAttributes: attrs,
	}
	if p.Subject != "" {
		subject := p.Subject
		body.Subject = &subject
	}
	return snsLambdaRecord{EventVersion: "1.0", EventSubscriptionArn: sub.Arn, EventSource: "aws:sns", Sns: body}
}
