package sns

import (
	"encoding/json"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// topicRecord is one topic. Attributes holds only what was set; defaults
// (Policy, DisplayName, EffectiveDeliveryPolicy) are computed on read.
type topicRecord struct {
	Name                 string            `json:"name"`
	Account              string            `json:"account"`
	Region               string            `json:"region"`
	Attributes           map[string]string `json:"attributes,omitempty"`
	Tags                 []Tag             `json:"tags,omitempty"`
	Created              time.Time         `json:"created"`
	SubscriptionsDeleted int               `json:"subscriptions_deleted,omitempty"`
	LastSequence         int64             `json:"last_sequence,omitempty"`
}

func (t *topicRecord) scope() core.Scope { return core.Scope{Account: t.Account, Region: t.Region} }
func (t *topicRecord) key() string       { return t.scope().Key(t.Name) }
func (t *topicRecord) arn() string       { return t.scope().ARN("sns", t.Name) }
func (t *topicRecord) fifo() bool        { return t.Attributes["FifoTopic"] == "true" }

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key" xml:"Key"`
	Value string `json:"value" xml:"Value"`
}

// dedupRecord remembers a FIFO topic's deduplication id.
type dedupRecord struct {
	MessageID string    `json:"message_id"`
	Sequence  string    `json:"sequence"`
	Sent      time.Time `json:"sent"`
}

var topicNameRE = core.NewPattern(`A-Za-z0-9_-`, 1, 256)

// defaultPolicy is the policy AWS attaches to a new topic: every action on
// the topic for principals of the owning account.
func defaultPolicy(arn, account string) string {
	return `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"` +
		arn + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + account + `"}}}]}`
}

const defaultDeliveryPolicy = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`

// topicAttributeNames are the attributes CreateTopic and
// SetTopicAttributes accept (feedback attributes per delivery protocol
// included).
var topicAttributeNames = func() map[string]bool {
	m := map[string]bool{
		"DeliveryPolicy": true, "DisplayName": true, "Policy": true, "SignatureVersion": true,
		"TracingConfig": true, "KmsMasterKeyId": true, "FifoTopic": true, "ContentBasedDeduplication": true,
		"ArchivePolicy": true, "FifoThroughputScope": true, "DataProtectionPolicy": true,
	}
	for _, p := range []string{"HTTP", "Lambda", "SQS", "Application", "Firehose"} {
		for _, a := range []string{"SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn"} {
			m[p+a] = true
		}
	}
	return m
}()

func isJSONObject(v string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(v), &m) == nil
}

// maxPolicyBytes is SNS's policy size quota (30 KB), checked before the
// document is parsed; the other JSON attributes get the same bound:
// https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html
const maxPolicyBytes = 30 << 10

// validateTopicAttribute checks one attribute value; fifo says whether the
// topic is (or is being created as) a FIFO topic.
func validateTopicAttribute(name, v string, fifo bool) error {
	switch name {
	case "Policy", "DeliveryPolicy", "DataProtectionPolicy", "ArchivePolicy":
		if len(v) > maxPolicyBytes {
			return errInvalidParameter("%s Error: the policy is %d bytes, above the limit of %d", name, len(v), maxPolicyBytes)
		}
		if !isJSONObject(v) {
			return errInvalidParameter("%s Error: the value is not a valid JSON document", name)
		}
		if name == "ArchivePolicy" && !fifo {
			return errInvalidParameter("ArchivePolicy Reason: The ArchivePolicy attribute is only supported for FIFO topics")
		}
	case "DisplayName":
		if len(v) > 100 {
			return errInvalidParameter("DisplayName")
		}
	case "SignatureVersion":
		if v != "1" && v != "2" {
			return errInvalidParameter("Attributes Reason: SignatureVersion: Invalid value [%s]. Must be 1 or 2.", v)
		}
	case "TracingConfig":
		if v != "PassThrough" && v != "Active" {
			return errInvalidParameter("Attributes Reason: TracingConfig: Invalid value [%s]. Must be PassThrough or Active.", v)
		}
	case "FifoTopic", "ContentBasedDeduplication":
		if v != "true" && v != "false" {
			return errInvalidParameter("Attributes Reason: %s: Invalid value [%s]. Must be true or false.", name, v)
		}
		if name == "ContentBasedDeduplication" && v == "true" && !fifo {
			return errInvalidParameter("Attributes Reason: Content-based deduplication can only be set for FIFO topics")
		}
	case "FifoThroughputScope":
		if !fifo || (v != "Topic" && v != "MessageGroup") {
			return errInvalidParameter("Attributes Reason: FifoThroughputScope: Invalid value [%s].", v)
		}
	default:
		if strings.HasSuffix(name, "SampleRate") {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100 {
				return errInvalidParameter("Attributes Reason: %s: Invalid value [%s]. Must be an integer from 0 to 100.", name, v)
			}
		}
	}
	return nil
}

func validateTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errInvalidParameter("Tags Reason: invalid tag key or value: %q", t.Key)
		}
		if seen[t.Key] {
			return errInvalidParameter("Tags Reason: Duplicated keys are not allowed.")
		}
		seen[t.Key] = true
	}
	if len(tags) > 50 {
		return core.Errorf("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
	}
	return nil
}

// resolveTopic finds the topic an ARN names, in the caller's region (a
// topic of another region is an invalid parameter, as on AWS).
func (s *Service) resolveTopic(tx *core.Tx, r *core.Request, param, arn string) (topicRecord, error) {
	sc, name, ok := splitTopicARN(arn)
	if !ok || sc.Region != r.Scope.Region {
		return topicRecord{}, errInvalidParameter("%s", param)
	}
	t, found := s.topics.Get(tx, sc.Key(name))
	if !found {
		return topicRecord{}, errTopicNotFound()
	}
	return t, nil
}

// authorize checks the topic policy for a caller of another account.
// Callers of the owning account are always allowed (their identity policies
// are IAM's business); others need a statement allowing them outright.
func authorize(r *core.Request, t topicRecord, action string) error {
	if r.Scope.Account == t.Account {
		return nil
	}
	policy := t.Attributes["Policy"]
	if policy == "" {
		policy = defaultPolicy(t.arn(), t.Account)
	}
	if policyAllows(policy, r.Scope.Account, action) {
		return nil
	}
	return errAuthorization(r.Scope.Account, action, t.arn())
}

// policyAllows is a deliberately small evaluator: an Allow statement
// without conditions, whose principal is "*" or the caller's account and
// whose actions cover the action. Conditions are not evaluated, so a
// conditional statement never grants.
func policyAllows(policy, account, action string) bool {
	var doc struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(doc.Statement, &one) != nil {
			return false
		}
		stmts = append(stmts, one)
	}
	for _, st := range stmts {
		var effect string
		_ = json.Unmarshal(st["Effect"], &effect)
		if effect != "Allow" || st["Condition"] != nil {
			continue
		}
		if !principalMatches(st["Principal"], account) || !stringsMatch(st["Action"], action) {
			continue
		}
		return true
	}
	return false
}

func principalMatches(raw json.RawMessage, account string) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	return stringsMatchFn(m["AWS"], func(p string) bool {
		return p == "*" || p == account || p == "arn:aws:iam::"+account+":root"
	})
}

func stringsMatch(raw json.RawMessage, action string) bool {
	return stringsMatchFn(raw, func(a string) bool {
		a = strings.ToLower(a)
		act := strings.ToLower(action)
		return a == "*" || a == "sns:*" || a == act
	})
}

func stringsMatchFn(raw json.RawMessage, fn func(string) bool) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return fn(one)
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return false
	}
	for _, v := range many {
		if fn(v) {
			return true
		}
	}
	return false
}

// --- CreateTopic ---

type topicArnResult struct {
	TopicArn string `xml:"TopicArn"`
}

func (s *Service) createTopic(r *core.Request, f form) (any, error) {
	name := f.get("Name")
	attrs := f.attributes("Attributes")
	if dp := f.get("DataProtectionPolicy"); dp != "" {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["DataProtectionPolicy"] = dp
	}
	tags := f.tags("Tags")
	fifo := attrs["FifoTopic"] == "true"
	base, isFifoName := strings.CutSuffix(name, ".fifo")
	switch {
	case name == "":
		return nil, errInvalidParameter("Topic Name")
	case fifo && !isFifoName:
		return nil, errInvalidParameter("Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
	case !topicNameRE.MatchString(base) || len(name) > 256 || (isFifoName && !fifo):
		return nil, errInvalidParameter("Topic Name")
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !topicAttributeNames[k] {
			return nil, errInvalidParameter("Attributes Reason: Unknown attribute %s", k)
		}
		if err := validateTopicAttribute(k, attrs[k], fifo); err != nil {
			return nil, err
		}
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	var arn string
	err := s.c.Store.Update(func(tx *core.Tx) error {
		key := r.Scope.Key(name)
		if t, ok := s.topics.Get(tx, key); ok {
			for k, v := range attrs {
				if cur := t.Attributes[k]; cur != v && !(k == "FifoTopic" && v == "false" && cur == "") {
					return errInvalidParameter("Attributes Reason: Topic already exists with different attributes")
				}
			}
			if len(tags) > 0 && !sameTags(t.Tags, tags) {
				return errInvalidParameter("Tags Reason: Topic already exists with different tags")
			}
			arn = t.arn()
			return nil
		}
		t := topicRecord{Name: name, Account: r.Scope.Account, Region: r.Scope.Region, Created: s.c.Now(), Tags: tags}
		if len(attrs) > 0 {
			t.Attributes = maps.Clone(attrs)
			if t.Attributes["FifoTopic"] == "false" {
				delete(t.Attributes, "FifoTopic")
			}
		}
		if fifo {
			if _, ok := t.Attributes["ContentBasedDeduplication"]; !ok {
				t.Attributes["ContentBasedDeduplication"] = "false"
			}
		}
		s.topics.Put(tx, key, t)
		arn = t.arn()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return topicArnResult{TopicArn: arn}, nil
}

func sameTags(a, b []Tag) bool {
	am := map[string]string{}
	for _, t := range a {
		am[t.Key] = t.Value
	}
	bm := map[string]string{}
	for _, t := range b {
		bm[t.Key] = t.Value
	}
	return maps.Equal(am, bm)
}

// --- GetTopicAttributes / SetTopicAttributes ---

type entry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type attributesResult struct {
	Attributes []entry `xml:"Attributes>entry"`
}

func entries(m map[string]string) attributesResult {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := attributesResult{Attributes: make([]entry, 0, len(keys))}
	for _, k := range keys {
		out.Attributes = append(out.Attributes, entry{Key: k, Value: m[k]})
	}
	return out
}

func (s *Service) topicAttributes(tx *core.Tx, t topicRecord) map[string]string {
	out := maps.Clone(t.Attributes)
	if out == nil {
		out = map[string]string{}
	}
	out["TopicArn"] = t.arn()
	out["Owner"] = t.Account
	if out["Policy"] == "" {
		out["Policy"] = defaultPolicy(t.arn(), t.Account)
	}
	if _, ok := out["DisplayName"]; !ok {
		out["DisplayName"] = ""
	}
	out["EffectiveDeliveryPolicy"] = defaultDeliveryPolicy
	if dp := t.Attributes["DeliveryPolicy"]; dp != "" {
		out["EffectiveDeliveryPolicy"] = dp
	}
	confirmed, pending := 0, 0
	now := s.c.Now()
	s.subs.Scan(tx, t.key()+"/", func(_ string, sub subscriptionRecord) bool {
		switch {
		case sub.Confirmed:
			confirmed++
		case now.Sub(sub.Created) < s.PendingExpiry:
			pending++
		}
		return true
	})
	out["SubscriptionsConfirmed"] = strconv.Itoa(confirmed)
	out["SubscriptionsPending"] = strconv.Itoa(pending)
	out["SubscriptionsDeleted"] = strconv.Itoa(t.SubscriptionsDeleted)
	return out
}

func (s *Service) getTopicAttributes(r *core.Request, f form) (any, error) {
	var out map[string]string
	err := s.c.Store.View(func(tx *core.Tx) error {
		t, err := s.resolveTopic(tx, r, "TopicArn", f.get("TopicArn"))
		if err != nil {
			return err
		}
		if err := authorize(r, t, "SNS:GetTopicAttributes"); err != nil {
			return err
		}
		out = s.topicAttributes(tx, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries(out), nil
}

func (s *Service) setTopicAttributes(r *core.Request, f form) (any, error) {
	name, value := f.get("AttributeName"), f.get("AttributeValue")
	err := s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolveTopic(tx, r, "TopicArn", f.get("TopicArn"))
		if err != nil {
			return err
		}
		if err := authorize(r, t, "SNS:SetTopicAttributes"); err != nil {
			return err
		}
		if !topicAttributeNames[name] || name == "FifoTopic" {
			return errInvalidParameter("AttributeName")
		}
		attrs := maps.Clone(t.Attributes)
		if attrs == nil {
			attrs = map[string]string{}
		}
		if value == "" && name != "DisplayName" && name != "Policy" {
			delete(attrs, name)
		} else {
			if err := validateTopicAttribute(name, value, t.fifo()); err != nil {
				return err
			}
			attrs[name] = value
		}
		t.Attributes = attrs
		s.topics.Put(tx, t.key(), t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return noResult{}, nil
}

// --- ListTopics / DeleteTopic ---

type listTopicsResult struct {
	Topics    []topicArnResult `xml:"Topics>member"`
	NextToken string           `xml:"NextToken,omitempty"`
}

func (s *Service) listTopics(r *core.Request, f form) (any, error) {
	var out listTopicsResult
	err := s.c.Store.View(func(tx *core.Tx) error {
		keys := s.topics.Keys(tx, r.Scope.Prefix())
		sel, next, err := page(keys, f.get("NextToken"), 100)
		if err != nil {
			return err
		}
		for _, k := range sel {
			t, _ := s.topics.Get(tx, k)
			out.Topics = append(out.Topics, topicArnResult{TopicArn: t.arn()})
		}
		out.NextToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) deleteTopic(r *core.Request, f form) (any, error) {
	err := s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolveTopic(tx, r, "TopicArn", f.get("TopicArn"))
		if err != nil {
			if core.AsError(err).Code == "NotFound" {
				return nil // deleting a missing topic is not an error on AWS
			}
			return err
		}
		if err := authorize(r, t, "SNS:DeleteTopic"); err != nil {
			return err
		}
		for _, k := range s.subs.Keys(tx, t.key()+"/") {
			s.subs.Delete(tx, k)
		}
		for _, k := range s.dedup.Keys(tx, t.key()+"/") {
			s.dedup.Delete(tx, k)
		}
		s.topics.Delete(tx, t.key())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return noResult{}, nil
}

// --- tags ---

// resolveTaggable finds the topic a ResourceArn names; tagging errors use
// ResourceNotFound rather than NotFound, as on AWS.
func (s *Service) resolveTaggable(tx *core.Tx, r *core.Request, arn string) (topicRecord, error) {
	t, err := s.resolveTopic(tx, r, "ResourceArn", arn)
	if err != nil && core.AsError(err).Code == "NotFound" {
		return t, core.ErrorStatus(404, "ResourceNotFound", "Resource does not exist")
	}
	return t, err
}

type tagsResult struct {
	Tags []Tag `xml:"Tags>member"`
}

type emptyResult struct{}

func (s *Service) tagResource(r *core.Request, f form) (any, error) {
	tags := f.tags("Tags")
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolveTaggable(tx, r, f.get("ResourceArn"))
		if err != nil {
			return err
		}
		if r.Scope.Account != t.Account {
			return errAuthorization(r.Scope.Account, "SNS:TagResource", t.arn())
		}
		merged := append([]Tag(nil), t.Tags...)
		for _, nt := range tags {
			replaced := false
			for i := range merged {
				if merged[i].Key == nt.Key {
					merged[i].Value, replaced = nt.Value, true
				}
			}
			if !replaced {
				merged = append(merged, nt)
			}
		}
		if len(merged) > 50 {
			return core.Errorf("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
		}
		t.Tags = merged
		s.topics.Put(tx, t.key(), t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return emptyResult{}, nil
}

func (s *Service) untagResource(r *core.Request, f form) (any, error) {
	keys := f.list("TagKeys")
	err := s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolveTaggable(tx, r, f.get("ResourceArn"))
		if err != nil {
			return err
		}
		if r.Scope.Account != t.Account {
			return errAuthorization(r.Scope.Account, "SNS:UntagResource", t.arn())
		}
		var kept []Tag
		for _, tag := range t.Tags {
			drop := false
			for _, k := range keys {
				drop = drop || tag.Key == k
			}
			if !drop {
				kept = append(kept, tag)
			}
		}
		t.Tags = kept
		s.topics.Put(tx, t.key(), t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return emptyResult{}, nil
}

func (s *Service) listTagsForResource(r *core.Request, f form) (any, error) {
	var out tagsResult
	err := s.c.Store.View(func(tx *core.Tx) error {
		t, err := s.resolveTaggable(tx, r, f.get("ResourceArn"))
		if err != nil {
			return err
		}
		out.Tags = append([]Tag(nil), t.Tags...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
