package engine

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/s3"
)

// validateS3Destinations is the "s3.validate-destinations" hook, called by
// PutBucketNotificationConfiguration in a read transaction: S3 refuses a
// Lambda destination it could not invoke, whether the function is missing
// or its policy does not let s3.amazonaws.com invoke it for this bucket,
// with one ArgumentName/ArgumentValue pair per refused destination. It
// returns the check, which the caller runs after the transaction, since it
// evaluates the functions' policies.
func (e *Engine) validateS3Destinations(tx *core.Tx, scope core.Scope, bucket string, lambdaArns []string) func() error {
	type dest struct {
		arn   string
		found bool
		grant grant
	}
	dests := make([]dest, 0, len(lambdaArns))
	for _, arn := range lambdaArns {
		_, g, _, ok := e.functionFor(tx, scopeOf(arn, scope), arn, principalS3, bucketARN(bucket), scope.Account)
		dests = append(dests, dest{arn: arn, found: ok, grant: g})
	}
	return func() error {
		fields := map[string]string{}
		n := 0
		for _, d := range dests {
			if d.found {
				if _, ok := d.grant.check(); ok {
					continue
				}
			}
			n++
			fields[fmt.Sprintf("ArgumentName%d", n)] = d.arn + ", null"
			fields[fmt.Sprintf("ArgumentValue%d", n)] = "Not authorized to invoke function [" + d.arn + "]"
		}
		if n == 0 {
			return nil
		}
		return &core.Error{Code: "InvalidArgument", Message: "Unable to validate the following destination configurations", Fields: fields}
	}
}

func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

// onS3Event is the "s3.events" hook: it runs on the request's goroutine, so
// it only queues the event. Events of one bucket are delivered in order.
func (e *Engine) onS3Event(ev s3.Event) {
	e.work.submit("s3/"+ev.Bucket, func(ctx context.Context) { e.deliverS3(ctx, ev) })
}

type s3Delivery struct {
	target s3.Target
	scope  core.Scope
	fn     string // resolved function ARN
	queue  string // resolved queue ARN
	reason string
	grant  grant
}

// deliverS3 matches the event against the bucket's notification
// configuration as it is now and delivers one record per matching
// destination, re-checking each destination's permission: a function whose
// policy no longer lets S3 invoke it, or a queue whose policy no longer
// lets S3 send, loses the event silently, as on AWS.
func (e *Engine) deliverS3(ctx context.Context, ev s3.Event) {
	var plan []s3Delivery
	_ = e.c.Store.View(func(tx *core.Tx) error {
		cfg, ok := e.s3.NotificationConfig(tx, ev.Bucket)
		if !ok {
			return nil
		}
		for _, t := range cfg.Targets(ev.Name, ev.Key) {
			d := s3Delivery{target: t, scope: scopeOf(t.Arn, ev.Scope)}
			switch t.Kind {
			case s3.KindLambda:
				if f, g, reason, ok := e.functionFor(tx, d.scope, t.Arn, principalS3, bucketARN(ev.Bucket), ev.Scope.Account); ok {
					d.fn, d.grant = f.Arn, g
				} else {
					d.reason = reason
				}
			case s3.KindQueue:
				if q, g, reason, ok := e.queueFor(tx, t.Arn, principalS3, bucketARN(ev.Bucket), ev.Scope.Account); ok {
					d.queue, d.grant = q.Arn, g
				} else {
					d.reason = reason
				}
			default:
				d.reason = "S3 notifications to SNS topics are not emulated by the sandbox"
			}
			plan = append(plan, d)
		}
		return nil
	})
	for i := range plan {
		if d := &plan[i]; d.fn != "" || d.queue != "" {
			if reason, ok := d.grant.check(); !ok {
				d.reason, d.fn, d.queue = reason, "", ""
			}
		}
	}
	for _, d := range plan {
		rec := Delivery{Source: "s3", From: bucketARN(ev.Bucket), To: d.target.Arn, Detail: ev.Name + " " + ev.Key}
		body, _ := json.Marshal(map[string][]s3Record{"Records": {e.s3Record(ev, d.target.ConfigurationID)}})
		switch {
		case d.fn != "":
			e.invokeAsync(ctx, rec, d.scope, d.fn, body, "s3")
		case d.queue != "":
			e.enqueue(rec, d.queue, string(body), nil, senderID(principalS3))
		default:
			rec.Outcome, rec.Reason = Dropped, d.reason
			if d.target.Kind == s3.KindTopic {
				rec.Outcome = Failed
			}
			e.record(rec)
		}
	}
}

// invokeAsync starts an Event invocation through the runtime and logs it.
func (e *Engine) invokeAsync(_ context.Context, rec Delivery, scope core.Scope, fn string, payload []byte, source string) (string, bool) {
	inv := e.invoker()
	if inv == nil {
		rec.Outcome, rec.Reason = Failed, "no Lambda runtime is attached to the sandbox"
		e.record(rec)
		return "", false
	}
	id, err := inv.InvokeAsync(core.InvokeInput{Scope: scope, Function: fn, Payload: payload, Source: source})
	if err != nil {
		rec.Outcome, rec.Reason = Failed, err.Error()
		e.record(rec)
		return "", false
	}
	e.auditInternal(scope, "lambda", "Invoke")
	rec.Outcome, rec.RequestID = Invoked, id
	e.record(rec)
	return id, true
}

// auditInternal notes a call the engine made on a service's behalf.
func (e *Engine) auditInternal(scope core.Scope, service, op string) {
	e.c.Audit.Add(core.AuditEntry{Time: e.now(), Account: scope.Account, Region: scope.Region, Service: service,
		Operation: op, Mutating: !core.IsReadOnly(op), Status: 200, Internal: true})
}

// --- the S3 event message (structure version 2.1) ---

type s3Record struct {
	EventVersion      string `json:"eventVersion"`
	EventSource       string `json:"eventSource"`
	AwsRegion         string `json:"awsRegion"`
	EventTime         string `json:"eventTime"`
	EventName         string `json:"eventName"`
	UserIdentity      s3ID   `json:"userIdentity"`
	RequestParameters struct {
		SourceIPAddress string `json:"sourceIPAddress"`
	} `json:"requestParameters"`
	ResponseElements struct {
		RequestID string `json:"x-amz-request-id"`
		ID2       string `json:"x-amz-id-2"`
	} `json:"responseElements"`
	S3 struct {
		SchemaVersion   string `json:"s3SchemaVersion"`
		ConfigurationID string `json:"configurationId"`
		Bucket          struct {
			Name          string `json:"name"`
			OwnerIdentity s3ID   `json:"ownerIdentity"`
			Arn           string `json:"arn"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      *int64 `json:"size,omitempty"`
			ETag      string `json:"eTag,omitempty"`
			VersionID string `json:"versionId,omitempty"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

type s3ID struct {
	PrincipalID string `json:"principalId"`
}

func (e *Engine) s3Record(ev s3.Event, configurationID string) s3Record {
	var r s3Record
	r.EventVersion, r.EventSource, r.AwsRegion = "2.1", "aws:s3", ev.Scope.Region
	r.EventTime = ev.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	r.EventName = ev.Name
	requester := ev.RequesterAccount
	if requester == "" {
		requester = ev.Scope.Account
	}
	r.UserIdentity.PrincipalID = "AWS:" + requester
	r.RequestParameters.SourceIPAddress = "127.0.0.1"
	r.ResponseElements.RequestID = strings.ToUpper(core.RandomHex(8))
	id2 := sha256.Sum256([]byte(ev.Sequencer + ev.Key))
	r.ResponseElements.ID2 = base64.StdEncoding.EncodeToString(append(id2[:], id2[:16]...))
	r.S3.SchemaVersion, r.S3.ConfigurationID = "1.0", configurationID
	r.S3.Bucket.Name, r.S3.Bucket.Arn = ev.Bucket, bucketARN(ev.Bucket)
	r.S3.Bucket.OwnerIdentity.PrincipalID = ownerID(ev.Scope.Account)
	r.S3.Object.Key = eventKey(ev.Key)
	if strings.HasPrefix(ev.Name, "ObjectCreated:") {
		size := ev.Size
		r.S3.Object.Size = &size
		r.S3.Object.ETag = ev.ETag
	}
	r.S3.Object.VersionID = ev.VersionID
	r.S3.Object.Sequencer = ev.Sequencer
	return r
}

// ownerID is the short owner id S3 puts in ownerIdentity, stable per
// account.
func ownerID(account string) string {
	sum := sha256.Sum256([]byte("slab-s3-owner/" + account))
	return "A" + strings.ToUpper(hex.EncodeToString(sum[:]))[:13]
}

// senderID is the SenderId SQS reports for messages a service sent.
func senderID(service string) string {
	sum := sha256.Sum256([]byte("slab-service-sender/" + service))
	return "AIDA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:17]
}

// eventKey encodes a key as S3 event messages carry it: form encoding
// (space as '+', as Java's URLEncoder writes it) with '/' kept, so
// decodeURIComponent(key.replace(/\+/g, ' ')) gives the key back.
func eventKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '*', c == '_', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
