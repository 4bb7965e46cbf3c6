package core

import (
	"fmt"
	"time"
)

// Consistency names how quickly the sandbox lets a change take effect.
type Consistency string

const (
	// Instant applies every change at once; life-cycle states (a new
	// function's Pending, a table's CREATING, a mapping's Creating) still
	// last a brief moment so that code which does not wait meets the
	// ResourceConflictException it would meet on AWS.
	Instant Consistency = "instant"
	// AWS applies the delays of the timing table below, with AWS's own
	// behaviour during each (the old value, or AWS's own error).
	AWS Consistency = "aws"
)

// ParseConsistency accepts "aws" or "instant" ("" is Instant).
func ParseConsistency(s string) (Consistency, error) {
	switch Consistency(s) {
	case "", Instant:
		return Instant, nil
	case AWS:
		return AWS, nil
	}
	return "", fmt.Errorf("consistency %q: want aws or instant", s)
}

// Timing is the sandbox's table of propagation delays and life-cycle state
// durations: how long after a change its effect is observable. Each value
// is read when the change is made and stored as a timestamp, so states are
// computed when read and no goroutine flips them. The AWS sources of the
// `aws` column are in docs/timing.md.
type Timing struct {
	// RoleAssumable: after CreateRole or UpdateAssumeRolePolicy, Lambda
	// refuses the role ("The role defined for the function cannot be
	// assumed by Lambda.") until this has passed.
	RoleAssumable time.Duration
	// IAMPolicy: after Attach/Detach/Put/DeleteRolePolicy the role's
	// previous permissions are still the ones enforced (the IAM API itself
	// already shows the new ones).
	IAMPolicy time.Duration
	// SQSAttributes: after SetQueueAttributes, GetQueueAttributes and the
	// queue's behaviour (its policy, visibility timeout) keep the old values.
	SQSAttributes time.Duration
	// MappingState: how long an event source mapping stays Creating,
	// Enabling, Updating, Disabling or Deleting.
	MappingState time.Duration
	// FunctionPending: how long a new function stays Pending;
	// FunctionUpdate how long LastUpdateStatus stays InProgress.
	FunctionPending, FunctionUpdate time.Duration
	// SNSSubscription: a new subscription receives no messages until then.
	SNSSubscription time.Duration
	// S3Notification: after PutBucketNotificationConfiguration, events
	// follow the previous configuration until then.
	S3Notification time.Duration
	// EventsTarget: a target added by PutTargets is not invoked until then.
	EventsTarget time.Duration
	// TableCreating: how long a new table stays CREATING; TableDeleting
	// how long a deleted one stays DELETING.
	TableCreating, TableDeleting time.Duration
}

// TimingFor returns the table of a consistency mode, every entry
// multiplied by scale (tests shrink AWS's delays; 0 means 1).
func TimingFor(c Consistency, scale float64) Timing {
	var t Timing
	switch c {
	case AWS:
		t = Timing{
			RoleAssumable:   10 * time.Second,
			IAMPolicy:       10 * time.Second,
			SQSAttributes:   5 * time.Second,
			MappingState:    5 * time.Second,
			FunctionPending: 5 * time.Second,
			FunctionUpdate:  3 * time.Second,
			SNSSubscription: 5 * time.Second,
			S3Notification:  10 * time.Second,
			EventsTarget:    5 * time.Second,
			TableCreating:   5 * time.Second,
			TableDeleting:   5 * time.Second,
		}
	default:
		t = Timing{
			MappingState:    time.Second,
			FunctionPending: time.Second,
			FunctionUpdate:  time.Second,
			TableCreating:   300 * time.Millisecond,
			TableDeleting:   300 * time.Millisecond,
		}
	}
	if scale > 0 && scale != 1 {
		t = t.Scaled(scale)
	}
	return t
}

// Scaled multiplies every entry by f.
func (t Timing) Scaled(f float64) Timing {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	return Timing{
		RoleAssumable: s(t.RoleAssumable), IAMPolicy: s(t.IAMPolicy), SQSAttributes: s(t.SQSAttributes),
		MappingState: s(t.MappingState), FunctionPending: s(t.FunctionPending), FunctionUpdate: s(t.FunctionUpdate),
		SNSSubscription: s(t.SNSSubscription), S3Notification: s(t.S3Notification), EventsTarget: s(t.EventsTarget),
		TableCreating: s(t.TableCreating), TableDeleting: s(t.TableDeleting),
	}
}
