package engine

import (
	"sort"
	"sync"
	"time"
)

// Delivery outcomes.
const (
	// Invoked: a function invocation was started (asynchronous ones are
	// queued in the runtime, which retries them itself).
	Invoked = "invoked"
	// Delivered: a message was put on a queue.
	Delivered = "delivered"
	// Dropped: AWS would drop the event without telling anyone; Reason
	// says why (usually a missing permission).
	Dropped = "dropped"
	// Filtered: a filter policy or filter criteria did not match.
	Filtered = "filtered"
	// Failed: the delivery was attempted and failed (a function error for a
	// synchronous invocation, a queue that refused the message).
	Failed = "failed"
	// Processed: an event source mapping's batch succeeded and its
	// messages were deleted (Reason names partial failures).
	Processed = "processed"
)

// Delivery is one decision of the engine, for the delivery log.
type Delivery struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // s3, sns, sqs, events
	// From is the source's ARN (bucket, topic, queue or rule), To the
	// destination's (function or queue).
	From      string `json:"from"`
	To        string `json:"to"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	// Detail is the event's own id: the S3 key, the SNS message id, the
	// SQS message ids, the EventBridge event id.
	Detail string `json:"detail,omitempty"`
}

type deliveryLog struct {
	mu      sync.Mutex
	entries []Delivery
	max     int
	seq     uint64
}

func newDeliveryLog(max int) *deliveryLog { return &deliveryLog{max: max} }

func (l *deliveryLog) add(d Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	d.Seq = l.seq
	if len(l.entries) >= l.max {
		n := copy(l.entries, l.entries[len(l.entries)/2:])
		l.entries = l.entries[:n]
	}
	l.entries = append(l.entries, d)
}

func (l *deliveryLog) since(seq uint64) []Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].Seq > seq })
	return append([]Delivery(nil), l.entries[i:]...)
}

func (l *deliveryLog) mark() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// record adds a delivery stamped with the sandbox clock.
func (e *Engine) record(d Delivery) {
	d.Time = e.now().UTC()
	e.log.add(d)
}

// Deliveries returns the delivery records after mark (0 for all kept).
func (e *Engine) Deliveries(mark uint64) []Delivery { return e.log.since(mark) }

// DeliveryMark is the position of the last delivery record.
func (e *Engine) DeliveryMark() uint64 { return e.log.mark() }

// --- SNS metrics ---

// TopicMetrics are the CloudWatch metrics of one topic (namespace AWS/SNS)
// since the sandbox started, under their CloudWatch names.
type TopicMetrics struct {
	TopicArn                         string `json:"TopicArn"`
	TopicName                        string `json:"TopicName"`
	NumberOfMessagesPublished        int64  `json:"NumberOfMessagesPublished"`
	NumberOfNotificationsDelivered   int64  `json:"NumberOfNotificationsDelivered"`
	NumberOfNotificationsFailed      int64  `json:"NumberOfNotificationsFailed"`
	NumberOfNotificationsFilteredOut int64  `json:"NumberOfNotificationsFilteredOut"`
}

type snsMetrics struct {
	mu     sync.Mutex
	topics map[string]*TopicMetrics
}

func newSNSMetrics() *snsMetrics { return &snsMetrics{topics: map[string]*TopicMetrics{}} }

func (m *snsMetrics) add(topicArn string, fn func(*TopicMetrics)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.topics[topicArn]
	if t == nil {
		t = &TopicMetrics{TopicArn: topicArn, TopicName: topicArn[lastColon(topicArn)+1:]}
		m.topics[topicArn] = t
	}
	fn(t)
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

// TopicMetrics returns a topic's counters (zero for a topic that never
// published).
func (e *Engine) TopicMetrics(topicArn string) TopicMetrics {
	e.metrics.mu.Lock()
	defer e.metrics.mu.Unlock()
	if t := e.metrics.topics[topicArn]; t != nil {
		return *t
	}
	return TopicMetrics{TopicArn: topicArn, TopicName: topicArn[lastColon(topicArn)+1:]}
}

// SNSMetrics returns the counters of every topic that published, sorted by
// topic ARN.
func (e *Engine) SNSMetrics() []TopicMetrics {
	e.metrics.mu.Lock()
	defer e.metrics.mu.Unlock()
	out := make([]TopicMetrics, 0, len(e.metrics.topics))
	for _, t := range e.metrics.topics {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TopicArn < out[j].TopicArn })
	return out
}
