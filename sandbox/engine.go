package sandbox

import (
	"context"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/engine"
)

// TopicMetrics are an SNS topic's CloudWatch counters (namespace AWS/SNS)
// since the sandbox started: NumberOfMessagesPublished,
// NumberOfNotificationsDelivered, NumberOfNotificationsFailed (deliveries
// an endpoint refused, such as a queue whose policy does not let SNS send)
// and NumberOfNotificationsFilteredOut.
type TopicMetrics = engine.TopicMetrics

// Delivery is one decision of the event engine: an invocation, a message
// put on a queue, or an event dropped and why.
type Delivery = engine.Delivery

// FireResult is what firing an EventBridge rule did, target by target.
type FireResult = engine.FireResult

// SNSMetrics returns the counters of every topic that has published.
func (s *Server) SNSMetrics() []TopicMetrics { return s.engine.SNSMetrics() }

// TopicMetrics returns one topic's counters.
func (s *Server) TopicMetrics(topicArn string) TopicMetrics { return s.engine.TopicMetrics(topicArn) }

// Deliveries returns the event engine's decisions after mark (0 for all
// kept); DeliveryMark is the current position.
func (s *Server) Deliveries(mark uint64) []Delivery { return s.engine.Deliveries(mark) }

// DeliveryMark is the position of the event engine's last decision.
func (s *Server) DeliveryMark() uint64 { return s.engine.DeliveryMark() }

// TriggerRule fires an EventBridge rule now (name or ARN; account and
// region default to the sandbox's), as POST
// /_slab/events/rules/<name>/trigger does.
func (s *Server) TriggerRule(ctx context.Context, account, region, nameOrArn string) (FireResult, error) {
	if account == "" {
		account = core.DefaultAccount
	}
	if region == "" {
		region = s.core.DefaultRegion
	}
	return s.engine.TriggerRule(ctx, core.Scope{Account: account, Region: region}, nameOrArn)
}

// DrainEvents waits until the event engine has handed every queued event
// to its destination (asynchronous invocations are then queued in the
// Lambda runtime), or ctx ends.
func (s *Server) DrainEvents(ctx context.Context) error { return s.engine.Drain(ctx) }
