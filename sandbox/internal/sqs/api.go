package sqs

import (
	"context"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// This file is the Go API the event engine uses (SNS deliveries, Lambda
// event source mapping pollers): the same semantics as the HTTP operations,
// addressed by queue ARN, without HTTP.

// QueueByARN implements core.SQSView.
func (s *Service) QueueByARN(tx *core.Tx, arn string) (core.QueueInfo, bool) {
	q, ok := s.queueByARN(tx, arn)
	if !ok {
		return core.QueueInfo{}, false
	}
	q = q.effective(s.c.Now())
	return core.QueueInfo{
		Name: q.Name, URL: s.queueURL(&q), Arn: q.arn(),
		VisibilityTimeout: q.intAttr("VisibilityTimeout"),
		Policy:            q.Attributes["Policy"],
		RedrivePolicy:     q.Attributes["RedrivePolicy"],
	}, true
}

func (s *Service) mustQueue(tx *core.Tx, queueArn string) (queueRecord, error) {
	q, ok := s.queueByARN(tx, queueArn)
	if !ok {
		return queueRecord{}, errQueueDoesNotExist()
	}
	return q, nil
}

// EnqueueTx sends a message inside the caller's transaction, validated as
// SendMessage validates it, so a delivery can commit with other changes.
// Long-polling receivers are woken; they see the message once tx commits.
func (s *Service) EnqueueTx(tx *core.Tx, queueArn, body string, attrs map[string]MessageAttribute, senderID string) (string, error) {
	q, err := s.mustQueue(tx, queueArn)
	if err != nil {
		return "", err
	}
	si := sendInput{Body: body, Attributes: attrs, SenderID: senderID}
	if q.fifo() {
		// The Go API carries no group or deduplication id: one group keeps
		// send order and a fresh id per call keeps every message.
		si.GroupID = "default"
		si.DedupID = newMessageID()
	}
	res, err := s.sendTx(tx, q, si)
	return res.MessageID, err
}

// Enqueue sends a message to the queue with the given ARN in its own
// Update and returns the new message id. Errors are *core.Error values
// (QueueDoesNotExist, InvalidParameterValueException, ...).
func (s *Service) Enqueue(queueArn, body string, attrs map[string]MessageAttribute, senderID string) (string, error) {
	var id string
	err := s.c.Store.Update(func(tx *core.Tx) error {
		var err error
		id, err = s.EnqueueTx(tx, queueArn, body, attrs, senderID)
		return err
	})
	return id, err
}

// ReceiveOptions are the Go API's ReceiveMessage parameters.
type ReceiveOptions struct {
	// MaxMessages is 1..10; 0 means 1.
	MaxMessages int
	// VisibilityTimeout overrides the queue's when not nil.
	VisibilityTimeout *int
	// WaitTime is the long-poll time, up to 20 s; 0 returns at once.
	WaitTime time.Duration
	// AttributeNames are system attributes ("All", "ApproximateReceiveCount",
	// "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp", ...).
	AttributeNames []string
	// MessageAttributeNames selects message attributes ("All", "name", "prefix.*").
	MessageAttributeNames []string
}

// Message is a received message.
type Message struct {
	MessageID              string
	ReceiptHandle          string
	Body                   string
	MD5OfBody              string
	Attributes             map[string]string
	MessageAttributes      map[string]MessageAttribute
	MD5OfMessageAttributes string
}

// Receive takes messages from the queue as ReceiveMessage does, including
// long polling (woken as soon as a message arrives), visibility timeouts and
// redrive to the dead-letter queue. It returns early when ctx ends.
func (s *Service) Receive(ctx context.Context, queueArn string, o ReceiveOptions) ([]Message, error) {
	wait := int(o.WaitTime / time.Second)
	if o.WaitTime > 0 && wait == 0 {
		wait = 1
	}
	ro := receiveOptions{
		Max: o.MaxMessages, VisibilityTimeout: o.VisibilityTimeout, WaitSeconds: &wait,
		AttributeNames: o.AttributeNames, MessageAttrNames: o.MessageAttributeNames,
	}
	if err := validateReceive(&ro); err != nil {
		return nil, err
	}
	var qkey string
	if err := s.c.Store.View(func(tx *core.Tx) error {
		q, err := s.mustQueue(tx, queueArn)
		qkey = q.key()
		return err
	}); err != nil {
		return nil, err
	}
	got, err := s.receive(ctx, qkey, ro)
	if err != nil {
		return nil, err
	}
	out := make([]Message, len(got))
	for i, d := range got {
		out[i] = Message{
			MessageID: d.MessageID, ReceiptHandle: d.ReceiptHandle, Body: d.Body, MD5OfBody: d.MD5OfBody,
			Attributes: d.Attributes, MessageAttributes: d.MessageAttributes, MD5OfMessageAttributes: d.MD5OfMessageAttrs,
		}
	}
	return out, nil
}

// Delete deletes a received message, as DeleteMessage does.
func (s *Service) Delete(queueArn, receiptHandle string) error {
	return s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.mustQueue(tx, queueArn)
		if err != nil {
			return err
		}
		return s.deleteTx(tx, q, receiptHandle)
	})
}

// ChangeVisibility sets a received message's remaining invisibility, as
// ChangeMessageVisibility does (0 makes it receivable again at once).
func (s *Service) ChangeVisibility(queueArn, receiptHandle string, timeout time.Duration) error {
	return s.c.Store.Update(func(tx *core.Tx) error {
		q, err := s.mustQueue(tx, queueArn)
		if err != nil {
			return err
		}
		return s.changeVisibilityTx(tx, q, receiptHandle, int(timeout/time.Second))
	})
}

// Wait blocks until something happens on the queue that may make a
// message receivable (a send, a visibility change, a redrive into it, its
// deletion), until d passes, or until ctx ends. It does not look at what
// the queue already holds: pollers Receive first and Wait when that came
// back empty (or use Receive's own WaitTime). A wake-up is a hint, not a
// promise; messages whose delay or visibility timeout simply runs out do
// not wake it, so d bounds the wait.
func (s *Service) Wait(ctx context.Context, queueArn string, d time.Duration) {
	sc, name, ok := splitQueueARN(queueArn)
	if !ok {
		return
	}
	ch := s.wake.wait(sc.Key(name))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}

// QueueARNs lists the ARNs of every queue in scope (for pollers that
// rediscover their sources after a restart).
func (s *Service) QueueARNs(tx *core.Tx, scope core.Scope) []string {
	var out []string
	s.queues.Scan(tx, scope.Prefix(), func(_ string, q queueRecord) bool {
		out = append(out, q.arn())
		return true
	})
	return out
}
