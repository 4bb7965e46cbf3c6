// Package sns emulates Amazon SNS topics and subscriptions over the Query
// protocol (form bodies with Action=..., XML responses) that both
// aws-sdk-go-v2 and the AWS CLI use for SNS.
//
// This package keeps topics and subscriptions and validates publishes; it
// does not deliver. After each successful Publish (and each successful
// PublishBatch entry) it calls the hook "sns.published", a func(Published)
// the event engine registers, which fans the message out to the topic's
// Subscriptions.
package sns

import (
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

// HookPublished is the name under which the event engine registers a
// func(Published). It is called once per committed message, after the
// transaction and outside the store lock, on the publishing request's
// goroutine: it should hand the message off rather than deliver inline.
const HookPublished = "sns.published"

// Service is the SNS emulator.
type Service struct {
	c      *core.Core
	topics *core.Table[topicRecord]
	subs   *core.Table[subscriptionRecord]
	dedup  *core.Table[dedupRecord]

	// PendingExpiry is how long an unconfirmed subscription lives (three
	// days on AWS); DedupWindow is the FIFO deduplication interval.
	PendingExpiry time.Duration
	DedupWindow   time.Duration
}

// New registers the service's tables.
func New(c *core.Core) *Service {
	return &Service{
		c:             c,
		topics:        core.Register[topicRecord](c.Store, "sns.topics"),
		subs:          core.Register[subscriptionRecord](c.Store, "sns.subscriptions"),
		dedup:         core.Register[dedupRecord](c.Store, "sns.dedup"),
		PendingExpiry: 72 * time.Hour,
		DedupWindow:   5 * time.Minute,
	}
}

// Name implements core.Service.
func (s *Service) Name() string { return "sns" }

type handler func(s *Service, r *core.Request, f form) (any, error)

var handlers = map[string]handler{
	"CreateTopic":               (*Service).createTopic,
	"GetTopicAttributes":        (*Service).getTopicAttributes,
	"SetTopicAttributes":        (*Service).setTopicAttributes,
	"ListTopics":                (*Service).listTopics,
	"DeleteTopic":               (*Service).deleteTopic,
	"Subscribe":                 (*Service).subscribe,
	"ConfirmSubscription":       (*Service).confirmSubscription,
	"Unsubscribe":               (*Service).unsubscribe,
	"ListSubscriptions":         (*Service).listSubscriptions,
	"ListSubscriptionsByTopic":  (*Service).listSubscriptionsByTopic,
	"GetSubscriptionAttributes": (*Service).getSubscriptionAttributes,
	"SetSubscriptionAttributes": (*Service).setSubscriptionAttributes,
	"Publish":                   (*Service).publish,
	"PublishBatch":              (*Service).publishBatch,
	"TagResource":               (*Service).tagResource,
	"UntagResource":             (*Service).untagResource,
	"ListTagsForResource":       (*Service).listTagsForResource,
}

// noResult marks operations whose response has no Result element.
type noResult struct{}

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) {
	vals, action, ok := core.QueryAction(r, xmlns, func(a string) bool { return handlers[a] != nil })
	if !ok {
		return
	}
	out, err := handlers[action](s, r, form(vals))
	if err != nil {
		core.WriteQueryError(r, xmlns, err)
		return
	}
	if _, none := out.(noResult); none {
		core.WriteQuery(r, xmlns, nil)
		return
	}
	core.WriteQuery(r, xmlns, out)
}

// --- errors, with AWS's codes and statuses ---

func errInvalidParameter(format string, args ...any) *core.Error {
	return core.Errorf("InvalidParameter", "Invalid parameter: "+format, args...)
}

func errValueInvalid(format string, args ...any) *core.Error {
	return core.Errorf("ParameterValueInvalid", format, args...)
}

func errTopicNotFound() *core.Error {
	return core.ErrorStatus(404, "NotFound", "Topic does not exist")
}

func errSubscriptionNotFound() *core.Error {
	return core.ErrorStatus(404, "NotFound", "Subscription does not exist")
}

func errAuthorization(account, action, resource string) *core.Error {
	return core.ErrorStatus(403, "AuthorizationError", "User: arn:aws:iam::%s:root is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action", account, action, resource, action)
}

// --- ARNs ---

// splitTopicARN parses arn:aws:sns:<region>:<account>:<topic>.
func splitTopicARN(arn string) (core.Scope, string, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "sns" || parts[3] == "" || parts[4] == "" || !topicNameRE.MatchString(strings.TrimSuffix(parts[5], ".fifo")) {
		return core.Scope{}, "", false
	}
	return core.Scope{Account: parts[4], Region: parts[3]}, parts[5], true
}

// splitSubscriptionARN parses <topic arn>:<id>.
func splitSubscriptionARN(arn string) (topicArn, id string, ok bool) {
	i := strings.LastIndex(arn, ":")
	if i < 0 {
		return "", "", false
	}
	topicArn, id = arn[:i], arn[i+1:]
	if _, _, ok := splitTopicARN(topicArn); !ok || id == "" {
		return "", "", false
	}
	return topicArn, id, true
}

func newUUID() string {
	h := core.RandomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
