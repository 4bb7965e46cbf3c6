package s3

import (
	"time"

	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// NotificationConfiguration is a bucket's event notification configuration
// as PutBucketNotificationConfiguration stored it (Ids filled in, filter rule
// names normalised to "Prefix" and "Suffix" as S3 returns them).
type NotificationConfiguration struct {
	TopicConfigurations          []NotificationTarget `json:"topics,omitempty"`
	QueueConfigurations          []NotificationTarget `json:"queues,omitempty"`
	LambdaFunctionConfigurations []NotificationTarget `json:"lambdas,omitempty"`
	// EventBridge is true when an EventBridgeConfiguration is present:
	// every event of the bucket then goes to the default event bus.
	EventBridge bool `json:"eventbridge,omitempty"`
}

// NotificationTarget is one Topic, Queue or CloudFunction configuration.
type NotificationTarget struct {
	ID string `json:"id"`
	// Arn is the topic, queue or function ARN.
	Arn    string       `json:"arn"`
	Events []string     `json:"events"` // e.g. "s3:ObjectCreated:*"
	Filter []FilterRule `json:"filter,omitempty"`
}

// FilterRule is a key name filter; Name is "Prefix" or "Suffix". Values are
// matched case-sensitively, after URL-decoding (S3 documents that special
// characters in filter values are given percent-encoded, a space as '+').
type FilterRule struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Destination kinds of a Target.
const (
	KindLambda = "lambda"
	KindQueue  = "sqs"
	KindTopic  = "sns"
)

// Target is a destination an event must be delivered to.
type Target struct {
	Kind            string // KindLambda, KindQueue or KindTopic
	Arn             string
	ConfigurationID string
}

// Targets returns the destinations whose configuration matches an event
// (name as in Event.Name, "ObjectCreated:Put", with or without the "s3:"
// prefix) on key: a configured "s3:ObjectCreated:*" matches every
// ObjectCreated event, and every filter rule must match the key.
func (n NotificationConfiguration) Targets(eventName, key string) []Target {
	name := "s3:" + strings.TrimPrefix(eventName, "s3:")
	var out []Target
	add := func(kind string, cfgs []NotificationTarget) {
		for _, cfg := range cfgs {
			if cfg.matches(name, key) {
				out = append(out, Target{Kind: kind, Arn: cfg.Arn, ConfigurationID: cfg.ID})
			}
		}
	}
	add(KindLambda, n.LambdaFunctionConfigurations)
	add(KindQueue, n.QueueConfigurations)
	add(KindTopic, n.TopicConfigurations)
	return out
}

func (t NotificationTarget) matches(event, key string) bool {
	hit := false
	for _, e := range t.Events {
		if eventCovers(e, event) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	for _, r := range t.Filter {
		v := filterValue(r.Value)
		switch r.Name {
		case "Prefix":
			if !strings.HasPrefix(key, v) {
				return false
			}
		case "Suffix":
			if !strings.HasSuffix(key, v) {
				return false
			}
		}
	}
	return true
}

func filterValue(v string) string {
	if d, err := url.QueryUnescape(v); err == nil {
		return d
	}
	return v
}

// eventCovers reports whether configured event pattern p covers event e.
func eventCovers(p, e string) bool {
	if p == e {
		return true
	}
	if base, ok := strings.CutSuffix(p, "*"); ok {
		return strings.HasPrefix(e, base)
	}
	return false
}

// NotificationConfig returns a bucket's notification configuration; ok is
// false when the bucket does not exist. An existing bucket without
// configuration returns an empty one and true.
func (s *Service) NotificationConfig(tx *core.Tx, bucket string) (NotificationConfiguration, bool) {
	b, ok := s.buckets.Get(tx, bucket)
	if !ok {
		return NotificationConfiguration{}, false
	}
	if b.NotificationBefore != nil && s.c.Now().Before(b.NotificationAt) {
		return *b.NotificationBefore, true // the change is still propagating
	}
	if b.Notification == nil {
		return NotificationConfiguration{}, true
	}
	return *b.Notification, true
}

// BucketInfo returns a bucket's owner account and region, for consumers
// that build event records or check resource policies (aws:SourceAccount).
func (s *Service) BucketInfo(tx *core.Tx, bucket string) (core.Scope, bool) {
	b, ok := s.buckets.Get(tx, bucket)
	if !ok {
		return core.Scope{}, false
	}
	return b.Scope(), true
}

// notificationEvents are the event types S3 accepts in a configuration.
var notificationEvents = map[string]bool{
	"s3:ReducedRedundancyLostObject": true, "s3:ObjectCreated:*": true, "s3:ObjectCreated:Put": true,
	"s3:ObjectCreated:Post": true, "s3:ObjectCreated:Copy": true, "s3:ObjectCreated:CompleteMultipartUpload": true,
	"s3:ObjectRemoved:*": true, "s3:ObjectRemoved:Delete": true, "s3:ObjectRemoved:DeleteMarkerCreated": true,
	"s3:ObjectRestore:*": true, "s3:ObjectRestore:Post": true, "s3:ObjectRestore:Completed": true,
	"s3:ObjectRestore:Delete": true, "s3:Replication:*": true, "s3:Replication:OperationFailedReplication": true,
	"s3:Replication:OperationNotTracked": true, "s3:Replication:OperationMissedThreshold": true,
	"s3:Replication:OperationReplicatedAfterThreshold": true, "s3:LifecycleExpiration:*": true,
	"s3:LifecycleExpiration:Delete": true, "s3:LifecycleExpiration:DeleteMarkerCreated": true,
	"s3:LifecycleTransition": true, "s3:IntelligentTiering": true, "s3:ObjectTagging:*": true,
	"s3:ObjectTagging:Put": true, "s3:ObjectTagging:Delete": true, "s3:ObjectAcl:Put": true,
}

type notificationXML struct {
	XMLName     xml.Name        `xml:"NotificationConfiguration"`
	Topics      []destinationIn `xml:"TopicConfiguration"`
	Queues      []destinationIn `xml:"QueueConfiguration"`
	Lambdas     []destinationIn `xml:"CloudFunctionConfiguration"`
	EventBridge *struct{}       `xml:"EventBridgeConfiguration"`
}

type destinationIn struct {
	ID            string   `xml:"Id"`
	Topic         string   `xml:"Topic"`
	Queue         string   `xml:"Queue"`
	CloudFunction string   `xml:"CloudFunction"`
	Events        []string `xml:"Event"`
	Filter        *struct {
		S3Key *struct {
			Rules []struct {
				Name  *string `xml:"Name"`
				Value *string `xml:"Value"`
			} `xml:"FilterRule"`
		} `xml:"S3Key"`
	} `xml:"Filter"`
}

type notificationOut struct {
	XMLName     xml.Name         `xml:"http://s3.amazonaws.com/doc/2006-03-01/ NotificationConfiguration"`
	Topics      []destinationOut `xml:"TopicConfiguration"`
	Queues      []destinationOut `xml:"QueueConfiguration"`
	Lambdas     []destinationOut `xml:"CloudFunctionConfiguration"`
	EventBridge *struct{}        `xml:"EventBridgeConfiguration"`
}

type destinationOut struct {
	ID            string     `xml:"Id"`
	Topic         string     `xml:"Topic,omitempty"`
	Queue         string     `xml:"Queue,omitempty"`
	CloudFunction string     `xml:"CloudFunction,omitempty"`
	Events        []string   `xml:"Event"`
	Filter        *filterOut `xml:"Filter"`
}

type filterOut struct {
	Rules []struct {
		Name  string `xml:"Name"`
		Value string `xml:"Value"`
	} `xml:"S3Key>FilterRule"`
}

// parseNotification validates a NotificationConfiguration document in the
// order S3 does: shape, event names, filters, destination ARNs, overlaps.
func parseNotification(body []byte, bucketRegion string) (NotificationConfiguration, error) {
	var in notificationXML
	if xml.Unmarshal(body, &in) != nil {
		return NotificationConfiguration{}, errMalformedXML()
	}
	var out NotificationConfiguration
	out.EventBridge = in.EventBridge != nil
	var all []NotificationTarget
	conv := func(list []destinationIn, service string, arnOf func(destinationIn) string) ([]NotificationTarget, error) {
		var res []NotificationTarget
		for _, d := range list {
			t, err := convertDestination(d, service, arnOf(d), bucketRegion)
			if err != nil {
				return nil, err
			}
			res = append(res, t)
			all = append(all, t)
		}
		return res, nil
	}
	var err error
	if out.TopicConfigurations, err = conv(in.Topics, "sns", func(d destinationIn) string { return d.Topic }); err != nil {
		return NotificationConfiguration{}, err
	}
	if out.QueueConfigurations, err = conv(in.Queues, "sqs", func(d destinationIn) string { return d.Queue }); err != nil {
		return NotificationConfiguration{}, err
	}
	if out.LambdaFunctionConfigurations, err = conv(in.Lambdas, "lambda", func(d destinationIn) string { return d.CloudFunction }); err != nil {
		return NotificationConfiguration{}, err
	}
	seen := map[string]bool{}
	for i, a := range all {
		if seen[a.ID] {
			return NotificationConfiguration{}, errInvalidArgument("Same ID used for multiple configurations. IDs must be unique", "Id", a.ID)
		}
		seen[a.ID] = true
		for _, b := range all[i+1:] {
			if overlap(a, b) {
				return NotificationConfiguration{}, errInvalidArgument("Configurations overlap. Configurations on the same bucket cannot share a common event type.", "Event", strings.Join(a.Events, ","))
			}
		}
	}
	return out, nil
}

func convertDestination(d destinationIn, service, arn, bucketRegion string) (NotificationTarget, error) {
	if arn == "" || len(d.Events) == 0 {
		return NotificationTarget{}, errMalformedXML()
	}
	t := NotificationTarget{ID: d.ID, Arn: arn}
	if t.ID == "" {
		t.ID = base64.StdEncoding.EncodeToString([]byte(newUUID()))
	}
	if len(t.ID) > 255 {
		return NotificationTarget{}, errInvalidArgument("The ID must not exceed 255 characters", "Id", t.ID)
	}
	for _, e := range d.Events {
		if !notificationEvents[e] {
			return NotificationTarget{}, errInvalidArgument("The event is not supported for notifications", "Event", e)
		}
		dup := false
		for _, have := range t.Events {
			dup = dup || have == e
		}
		if !dup {
			t.Events = append(t.Events, e)
		}
	}
	if d.Filter != nil {
		if d.Filter.S3Key == nil {
			return NotificationTarget{}, errMalformedXML()
		}
		var havePrefix, haveSuffix bool
		for _, r := range d.Filter.S3Key.Rules {
			if r.Name == nil || r.Value == nil {
				return NotificationTarget{}, errMalformedXML()
			}
			if len(*r.Value) > 1024 {
				return NotificationTarget{}, errInvalidArgument("The maximum length of a filter rule value is 1024", "FilterRule", *r.Value)
			}
			switch strings.ToLower(*r.Name) {
			case "prefix":
				if havePrefix {
					return NotificationTarget{}, errInvalidArgument("Cannot specify more than one prefix rule in a filter.", "FilterRule", *r.Name)
				}
				havePrefix = true
				t.Filter = append(t.Filter, FilterRule{Name: "Prefix", Value: *r.Value})
			case "suffix":
				if haveSuffix {
					return NotificationTarget{}, errInvalidArgument("Cannot specify more than one suffix rule in a filter.", "FilterRule", *r.Name)
				}
				haveSuffix = true
				t.Filter = append(t.Filter, FilterRule{Name: "Suffix", Value: *r.Value})
			default:
				return NotificationTarget{}, errInvalidArgument("filter rule name must be either prefix or suffix", "FilterRule", *r.Name)
			}
		}
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != service || parts[3] == "" || parts[5] == "" ||
		service == "lambda" && !strings.HasPrefix(parts[5], "function:") {
		return NotificationTarget{}, destinationError(arn, "The destination ARN is not valid")
	}
	if parts[3] != bucketRegion {
		return NotificationTarget{}, errInvalidArgument("The notification destination service region is not valid for the bucket location constraint", "Destination", arn)
	}
	return t, nil
}

// destinationError is S3's error for destinations it could not validate:
// each failing ARN and its reason as ArgumentName<n>/ArgumentValue<n>.
func destinationError(arn, reason string) *core.Error {
	return &core.Error{Code: "InvalidArgument", Message: "Unable to validate the following destination configurations",
		Fields: map[string]string{"ArgumentName1": arn, "ArgumentValue1": reason}}
}

// overlap reports configurations S3 refuses together: a common event type
// and key filters that can both match one key.
func overlap(a, b NotificationTarget) bool {
	common := false
	for _, ea := range a.Events {
		for _, eb := range b.Events {
			if eventCovers(ea, eb) || eventCovers(eb, ea) {
				common = true
			}
		}
	}
	if !common {
		return false
	}
	ap, as := filterRules(a)
	bp, bs := filterRules(b)
	prefixes := strings.HasPrefix(ap, bp) || strings.HasPrefix(bp, ap)
	suffixes := strings.HasSuffix(as, bs) || strings.HasSuffix(bs, as)
	return prefixes && suffixes
}

func filterRules(t NotificationTarget) (prefix, suffix string) {
	for _, r := range t.Filter {
		if r.Name == "Prefix" {
			prefix = filterValue(r.Value)
		} else {
			suffix = filterValue(r.Value)
		}
	}
	return prefix, suffix
}

func newUUID() string {
	h := core.RandomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (c *call) putBucketNotification() {
	c.r.Operation = "PutBucketNotificationConfiguration"
	b, err := c.viewBucket()
	if err != nil {
		c.fail(err)
		return
	}
	cfg, err := parseNotification(c.r.Body, b.Region)
	if err != nil {
		c.fail(err)
		return
	}
	skip, _ := strconv.ParseBool(c.h.Get("x-amz-skip-destination-validation"))
	if !skip {
		// Destinations are read in a transaction but their policies are
		// evaluated after it, never holding the store.
		var vet func() error
		err := c.s.c.Store.View(func(tx *core.Tx) error {
			b, err := c.ownedBucket(tx)
			if err != nil {
				return err
			}
			vet, err = c.s.validateDestinations(tx, b, cfg)
			return err
		})
		if err == nil && vet != nil {
			err = vet()
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		b, err := c.ownedBucket(tx)
		if err != nil {
			return err
		}
		now := c.s.c.Now()
		if d := c.s.c.Timing.S3Notification; d <= 0 {
			b.NotificationBefore, b.NotificationAt = nil, time.Time{}
		} else {
			if !now.Before(b.NotificationAt) {
				b.NotificationBefore = &NotificationConfiguration{}
				if b.Notification != nil {
					b.NotificationBefore = b.Notification
				}
			}
			b.NotificationAt = now.Add(d)
		}
		if len(cfg.TopicConfigurations)+len(cfg.QueueConfigurations)+len(cfg.LambdaFunctionConfigurations) == 0 && !cfg.EventBridge {
			b.Notification = nil
		} else {
			b.Notification = &cfg
		}
		c.s.buckets.Put(tx, c.bucket, b)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.empty(http.StatusOK)
}

// validateDestinations checks destinations S3 would test before accepting
// the configuration: queues must exist (through the SQS hook), and Lambda
// functions are vetted by the "s3.validate-destinations" hook (the Lambda
// service checks the function exists and its resource policy lets S3
// invoke it for this bucket). Without the hooks nothing is checked. The
// returned check evaluates policies: run it after the transaction.
func (s *Service) validateDestinations(tx *core.Tx, b Bucket, cfg NotificationConfiguration) (func() error, error) {
	if view, ok := s.c.Hook(core.HookSQS).(core.SQSView); ok {
		for _, q := range cfg.QueueConfigurations {
			if _, found := view.QueueByARN(tx, q.Arn); !found {
				return nil, destinationError(q.Arn, "The destination queue does not exist")
			}
		}
	}
	if len(cfg.LambdaFunctionConfigurations) == 0 {
		return nil, nil
	}
	check, ok := s.c.Hook(HookValidateDestinations).(ValidateDestinations)
	if !ok {
		return nil, nil
	}
	var arns []string
	seen := map[string]bool{}
	for _, l := range cfg.LambdaFunctionConfigurations {
		if !seen[l.Arn] {
			seen[l.Arn] = true
			arns = append(arns, l.Arn)
		}
	}
	return check(tx, b.Scope(), b.Name, arns), nil
}

func (c *call) getBucketNotification() {
	c.r.Operation = "GetBucketNotificationConfiguration"
	b, err := c.viewBucket()
	if err != nil {
		c.fail(err)
		return
	}
	out := notificationOut{}
	if n := b.Notification; n != nil {
		conv := func(list []NotificationTarget, set func(*destinationOut, string)) []destinationOut {
			var res []destinationOut
			for _, t := range list {
				d := destinationOut{ID: t.ID, Events: t.Events}
				set(&d, t.Arn)
				if len(t.Filter) > 0 {
					d.Filter = &filterOut{}
					for _, r := range t.Filter {
						d.Filter.Rules = append(d.Filter.Rules, struct {
							Name  string `xml:"Name"`
							Value string `xml:"Value"`
						}{r.Name, r.Value})
					}
				}
				res = append(res, d)
			}
			return res
		}
		out.Topics = conv(n.TopicConfigurations, func(d *destinationOut, a string) { d.Topic = a })
		out.Queues = conv(n.QueueConfigurations, func(d *destinationOut, a string) { d.Queue = a })
		out.Lambdas = conv(n.LambdaFunctionConfigurations, func(d *destinationOut, a string) { d.CloudFunction = a })
		if n.EventBridge {
			out.EventBridge = &struct{}{}
		}
	}
	c.ok(out)
}

// String renders a target for logs and test failures.
func (t Target) String() string { return fmt.Sprintf("%s %s (%s)", t.Kind, t.Arn, t.ConfigurationID) }
