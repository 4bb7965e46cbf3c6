package sqs

import (
	"maps"
	"time"
)

// SetQueueAttributes propagates: "When you change a queue's attributes, the
// change can take up to 60 seconds for most of the attributes to propagate
// throughout the Amazon SQS system" (SQS API Reference, SetQueueAttributes).
// Until queueRecord.AttributesAt, GetQueueAttributes and the queue as other
// services see it (its policy for SNS and S3 deliveries, its visibility
// timeout for an event source mapping) keep the attributes before the
// change; LastModifiedTimestamp already shows the change, as on AWS, which
// is what lets a reader tell "not yet" from "wrong".

// attributesChanging remembers the attributes still in effect before a
// change, unless an earlier change is still propagating (then the oldest
// values stay in effect and the window ends after the last change).
func (s *Service) attributesChanging(now time.Time, q *queueRecord) {
	d := s.c.Timing.SQSAttributes
	if d <= 0 {
		q.AttributesBefore, q.AttributesAt = nil, time.Time{}
		return
	}
	if q.AttributesBefore == nil || !now.Before(q.AttributesAt) {
		q.AttributesBefore = maps.Clone(q.Attributes)
		if q.AttributesBefore == nil {
			q.AttributesBefore = map[string]string{}
		}
	}
	q.AttributesAt = now.Add(d)
}

// effective is q as observed at now.
func (q queueRecord) effective(now time.Time) queueRecord {
	if q.AttributesBefore != nil && now.Before(q.AttributesAt) {
		q.Attributes = q.AttributesBefore
	}
	return q
}
