package sqs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// queueRecord is one queue. Attributes holds every settable attribute with
// its current value (defaults filled in at creation), as strings, the way
// the API carries them.
type queueRecord struct {
	Name       string            `json:"name"`
	Account    string            `json:"account"`
	Region     string            `json:"region"`
	Attributes map[string]string `json:"attributes"`
	Tags       map[string]string `json:"tags,omitempty"`
	Created    time.Time         `json:"created"`
	Modified   time.Time         `json:"modified"`
	LastPurge  time.Time         `json:"last_purge,omitzero"`
	// AttributesBefore and AttributesAt model SetQueueAttributes'
	// propagation (see propagation.go).
	AttributesBefore map[string]string `json:"attributes_before,omitempty"`
	AttributesAt     time.Time         `json:"attributes_at,omitzero"`
}

func (q *queueRecord) scope() core.Scope { return core.Scope{Account: q.Account, Region: q.Region} }
func (q *queueRecord) key() string       { return q.scope().Key(q.Name) }
func (q *queueRecord) arn() string       { return q.scope().ARN("sqs", q.Name) }
func (q *queueRecord) fifo() bool        { return q.Attributes["FifoQueue"] == "true" }

func (q *queueRecord) intAttr(name string) int {
	n, _ := strconv.Atoi(q.Attributes[name])
	return n
}

// messageRecord is one message. Its state is derived from timestamps:
// delayed while never received and VisibleAt is ahead, in flight while
// received and VisibleAt is ahead, visible otherwise; expired once Sent plus
// the queue's retention has passed.
type messageRecord struct {
	ID           string                      `json:"id"`
	Seq          int64                       `json:"seq"`
	Body         string                      `json:"body"`
	Attributes   map[string]MessageAttribute `json:"attributes,omitempty"`
	MD5Body      string                      `json:"md5_body"`
	MD5Attrs     string                      `json:"md5_attributes,omitempty"`
	TraceHeader  string                      `json:"trace_header,omitempty"`
	SenderID     string                      `json:"sender_id"`
	Sent         time.Time                   `json:"sent"`
	VisibleAt    time.Time                   `json:"visible_at"`
	ReceiveCount int                         `json:"receive_count"`
	FirstReceive time.Time                   `json:"first_receive,omitzero"`
	LastReceive  time.Time                   `json:"last_receive,omitzero"`
	Receipt      string                      `json:"receipt,omitempty"`
	GroupID      string                      `json:"group_id,omitempty"`
	DedupID      string                      `json:"dedup_id,omitempty"`
	DLQSource    string                      `json:"dlq_source,omitempty"`
}

func (m *messageRecord) inFlight(now time.Time) bool {
	return m.ReceiveCount > 0 && m.VisibleAt.After(now)
}

func (m *messageRecord) delayed(now time.Time) bool {
	return m.ReceiveCount == 0 && m.VisibleAt.After(now)
}

// tombstone remembers when a queue name was deleted (QueueDeletedRecently).
type tombstone struct {
	Deleted time.Time `json:"deleted"`
}

// dedupRecord remembers a FIFO deduplication id for the dedup window.
type dedupRecord struct {
	MessageID string    `json:"message_id"`
	Seq       int64     `json:"seq"`
	Sent      time.Time `json:"sent"`
}

// MessageAttribute is a message attribute as the API carries it (and as
// SNS hands them over). Binary values are raw bytes; encoding/json renders
// them as base64, which is the JSON protocol's blob encoding.
type MessageAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      string   `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

func msgKey(qkey string, seq int64) string { return fmt.Sprintf("%s/%019d", qkey, seq) }

// nextSeq orders messages across queues and restarts: nanoseconds since the
// epoch, bumped when two sends share a tick, so keys sort in send order.
func (s *Service) nextSeq() int64 {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	n := time.Now().UnixNano()
	if n <= s.lastSeq {
		n = s.lastSeq + 1
	}
	s.lastSeq = n
	return n
}

// --- queue attributes ---

var defaultAttributes = map[string]string{
	"VisibilityTimeout":             "30",
	"MaximumMessageSize":            "262144",
	"MessageRetentionPeriod":        "345600",
	"DelaySeconds":                  "0",
	"ReceiveMessageWaitTimeSeconds": "0",
	"SqsManagedSseEnabled":          "true",
}

type intRange struct{ min, max int }

// maxMessageSizeLimit is the largest MaximumMessageSize (1 MiB since
// August 2025); a queue's default stays 256 KiB.
const maxMessageSizeLimit = 1048576

var intAttributes = map[string]intRange{
	"VisibilityTimeout":             {0, 43200},
	"MaximumMessageSize":            {1024, maxMessageSizeLimit},
	"MessageRetentionPeriod":        {60, 1209600},
	"DelaySeconds":                  {0, 900},
	"ReceiveMessageWaitTimeSeconds": {0, 20},
	"KmsDataKeyReusePeriodSeconds":  {60, 86400},
}

// settable lists the attributes CreateQueue and SetQueueAttributes accept.
var settable = map[string]bool{
	"VisibilityTimeout": true, "MaximumMessageSize": true, "MessageRetentionPeriod": true,
	"DelaySeconds": true, "ReceiveMessageWaitTimeSeconds": true, "Policy": true,
	"RedrivePolicy": true, "RedriveAllowPolicy": true, "KmsMasterKeyId": true,
	"KmsDataKeyReusePeriodSeconds": true, "SqsManagedSseEnabled": true, "FifoQueue": true,
	"ContentBasedDeduplication": true, "DeduplicationScope": true, "FifoThroughputLimit": true,
}

// computed lists the read-only attributes GetQueueAttributes reports.
var computed = []string{
	"QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
}

func validBool(v string) bool { return v == "true" || v == "false" }

// maxPolicyBytes is SQS's policy size quota, checked before the document is
// parsed (a student once stored 6 MB policies, which every SNS delivery then
// evaluated): https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html
const maxPolicyBytes = 8192

// errPolicyOverLimit is SQS's answer to a policy over the quota (403
// OverLimit, as SetQueueAttributes returns it).
func errPolicyOverLimit() *core.Error {
	return core.ErrorStatus(403, "OverLimit", "Submitted policy is over max allowed size.")
}

// validateAttributes checks attrs for CreateQueue (creating) or
// SetQueueAttributes against the queue q (the queue being created, with its
// name set). It returns the normalised values to store; an empty Policy,
// RedrivePolicy or RedriveAllowPolicy means "remove".
func (s *Service) validateAttributes(tx *core.Tx, q *queueRecord, attrs map[string]string, creating bool) (map[string]string, error) {
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string]string, len(attrs))
	fifo := strings.HasSuffix(q.Name, ".fifo")
	for _, name := range names {
		v := attrs[name]
		if !settable[name] {
			return nil, core.Errorf("InvalidAttributeName", "Unknown Attribute %s.", name)
		}
		if r, ok := intAttributes[name]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < r.min || n > r.max {
				return nil, errInvalidAttrValue(name)
			}
			out[name] = strconv.Itoa(n)
			continue
		}
		switch name {
		case "Policy", "RedriveAllowPolicy":
			if name == "Policy" && len(v) > maxPolicyBytes {
				return nil, errPolicyOverLimit()
			}
			if v != "" {
				var doc map[string]any
				if json.Unmarshal([]byte(v), &doc) != nil {
					return nil, errInvalidAttrValue(name)
				}
				if name == "Policy" {
					if _, ok := doc["Statement"]; !ok {
						return nil, errInvalidAttrValue(name)
					}
				}
			}
			out[name] = v
		case "RedrivePolicy":
			if v != "" {
				norm, err := s.validateRedrive(tx, q, v)
				if err != nil {
					return nil, err
				}
				v = norm
			}
			out[name] = v
		case "SqsManagedSseEnabled", "ContentBasedDeduplication":
			if !validBool(v) {
				return nil, errInvalidAttrValue(name)
			}
			if name == "ContentBasedDeduplication" && !fifo && v == "true" {
				return nil, errInvalidAttrValue(name)
			}
			out[name] = v
		case "FifoQueue":
			if !creating {
				return nil, errInvalidAttrValue(name)
			}
			if !validBool(v) {
				return nil, errInvalidAttrValue(name)
			}
			out[name] = v
		case "DeduplicationScope":
			if !fifo || (v != "messageGroup" && v != "queue") {
				return nil, errInvalidAttrValue(name)
			}
			out[name] = v
		case "FifoThroughputLimit":
			if !fifo || (v != "perQueue" && v != "perMessageGroupId") {
				return nil, errInvalidAttrValue(name)
			}
			out[name] = v
		default: // KmsMasterKeyId: any key id, alias or ARN
			out[name] = v
		}
	}
	return out, nil
}

type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

// parseRedrive reads a stored (normalised) redrive policy.
func parseRedrive(v string) (redrivePolicy, bool) {
	var p redrivePolicy
	if v == "" || json.Unmarshal([]byte(v), &p) != nil || p.DeadLetterTargetArn == "" {
		return p, false
	}
	return p, true
}

// validateRedrive checks a RedrivePolicy as AWS does (the target must be
// an existing queue of the same type, maxReceiveCount 1..1000, given as a
// number or a numeric string) and returns its normalised JSON.
func (s *Service) validateRedrive(tx *core.Tx, q *queueRecord, v string) (string, error) {
	bad := func(reason string) error {
		return errInvalidParam("Value %s for parameter RedrivePolicy is invalid. Reason: %s", v, reason)
	}
	var raw map[string]any
	if json.Unmarshal([]byte(v), &raw) != nil {
		return "", errInvalidAttrValue("RedrivePolicy")
	}
	arn, _ := raw["deadLetterTargetArn"].(string)
	if arn == "" {
		return "", bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
	}
	var count int
	switch c := raw["maxReceiveCount"].(type) {
	case float64:
		count = int(c)
		if float64(count) != c {
			count = 0
		}
	case string:
		count, _ = strconv.Atoi(c)
	case nil:
		return "", bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.")
	}
	if count < 1 || count > 1000 {
		return "", bad(fmt.Sprintf("Invalid value for maxReceiveCount: %v, valid values are from 1 to 1000 both inclusive.", raw["maxReceiveCount"]))
	}
	dlq, ok := s.queueByARN(tx, arn)
	if !ok || dlq.Account != q.Account || dlq.Region != q.Region {
		return "", bad("Dead letter target does not exist.")
	}
	if dlq.fifo() != strings.HasSuffix(q.Name, ".fifo") {
		return "", bad("Dead-letter queue must be same type of queue as the source.")
	}
	b, _ := json.Marshal(redrivePolicy{DeadLetterTargetArn: arn, MaxReceiveCount: count})
	return string(b), nil
}

// --- names, URLs and ARNs ---

var queueNameRE = core.NewPattern(`A-Za-z0-9_-`, 1, 80)

func validateQueueName(name string, fifoAttr string) error {
	if name == "" {
		return errMissing("QueueName")
	}
	if base, ok := strings.CutSuffix(name, ".fifo"); ok {
		if fifoAttr != "true" {
			return errInvalidParam("Value %s for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.", name)
		}
		if len(name) > 80 || !queueNameRE.MatchString(base) {
			return errInvalidParam("Value %s for parameter QueueName is invalid. Reason: The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.", name)
		}
		return nil
	}
	if fifoAttr == "true" {
		return errInvalidParam("Value %s for parameter QueueName is invalid. Reason: The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.", name)
	}
	if !queueNameRE.MatchString(name) {
		return errInvalidParam("Value %s for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.", name)
	}
	return nil
}

// queueURL is <endpoint>/<account>/<name>, the shape LocalStack and the
// real service (https://sqs.<region>.amazonaws.com/<account>/<name>) share.
func (s *Service) queueURL(q *queueRecord) string {
	base := strings.TrimRight(s.c.Endpoint, "/")
	if base == "" {
		base = "https://sqs." + q.Region + ".amazonaws.com"
	}
	return base + "/" + q.Account + "/" + q.Name
}

// splitQueueURL extracts account and name from a queue URL (any host: a
// URL minted by another endpoint of the sandbox still names the queue).
func splitQueueURL(raw string) (account, name string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return "", "", false
	}
	return parts[len(parts)-2], parts[len(parts)-1], true
}

// splitQueueARN parses arn:aws:sqs:<region>:<account>:<name>.
func splitQueueARN(arn string) (core.Scope, string, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[3] == "" || parts[4] == "" || parts[5] == "" {
		return core.Scope{}, "", false
	}
	return core.Scope{Account: parts[4], Region: parts[3]}, parts[5], true
}

func (s *Service) queueByARN(tx *core.Tx, arn string) (queueRecord, bool) {
	sc, name, ok := splitQueueARN(arn)
	if !ok {
		return queueRecord{}, false
	}
	return s.queues.Get(tx, sc.Key(name))
}

// resolveQueue finds the queue a request addresses: the QueueUrl parameter,
// or failing that the request path (Query requests may be posted to the
// queue URL itself). The URL's account must be the caller's.
func (s *Service) resolveQueue(tx *core.Tx, r *core.Request, queueURL string) (queueRecord, error) {
	raw := queueURL
	if raw == "" {
		p := strings.Trim(r.HTTP.URL.Path, "/")
		if strings.Count(p, "/") != 1 {
			return queueRecord{}, errMissing("QueueUrl")
		}
		raw = "/" + p
	}
	account, name, ok := splitQueueURL(raw)
	if !ok {
		return queueRecord{}, errQueueDoesNotExist()
	}
	if account != r.Scope.Account {
		return queueRecord{}, core.ErrorStatus(403, "AccessDeniedException", "Access to the resource %s is denied.", raw)
	}
	q, found := s.queues.Get(tx, r.Scope.Key(name))
	if !found {
		return queueRecord{}, errQueueDoesNotExist()
	}
	return q, nil
}

// --- receipt handles ---

// A receipt handle names the queue, the message and the receive that
// issued it, so a handle from an earlier receive is recognisably stale.
type receipt struct {
	QueueKey string
	Seq      int64
	Nonce    string
}

const receiptPrefix = "AQEB"

func (h receipt) String() string {
	raw := h.QueueKey + "\x00" + strconv.FormatInt(h.Seq, 10) + "\x00" + h.Nonce
	return receiptPrefix + base64.StdEncoding.EncodeToString([]byte(raw))
}

func parseReceipt(s string) (receipt, bool) {
	rest, ok := strings.CutPrefix(s, receiptPrefix)
	if !ok {
		return receipt{}, false
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return receipt{}, false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return receipt{}, false
	}
	seq, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || seq <= 0 {
		return receipt{}, false
	}
	return receipt{QueueKey: parts[0], Seq: seq, Nonce: parts[2]}, true
}

// --- long-poll wake-ups ---

// notifier hands out a channel per queue that is closed on the next change
// that could make a message receivable. Waiters take the channel before
// looking at the queue, so a change between the look and the wait is not
// missed.
type notifier struct {
	mu    sync.Mutex
	chans map[string]chan struct{}
}

func newNotifier() *notifier { return &notifier{chans: map[string]chan struct{}{}} }

func (n *notifier) wait(key string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.chans[key]
	if !ok {
		ch = make(chan struct{})
		n.chans[key] = ch
	}
	return ch
}

func (n *notifier) notify(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ch, ok := n.chans[key]; ok {
		close(ch)
		delete(n.chans, key)
	}
}

func newMessageID() string {
	h := core.RandomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + "a" + h[17:20] + "-" + h[20:32]
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
