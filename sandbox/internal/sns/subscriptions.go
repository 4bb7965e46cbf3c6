package sns

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// subscriptionRecord is one subscription, stored under its topic's key so
// a topic's subscriptions are one prefix scan.
type subscriptionRecord struct {
	ID            string            `json:"id"`
	TopicArn      string            `json:"topic_arn"`
	Protocol      string            `json:"protocol"`
	Endpoint      string            `json:"endpoint"`
	Owner         string            `json:"owner"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Confirmed     bool              `json:"confirmed"`
	Authenticated bool              `json:"authenticated,omitempty"`
	Token         string            `json:"token,omitempty"`
	Created       time.Time         `json:"created"`
	// DeliversFrom is when a new subscription starts receiving messages:
	// a subscription takes a moment to propagate through SNS (see
	// core.Timing.SNSSubscription); zero for at once.
	DeliversFrom time.Time `json:"delivers_from,omitzero"`
}

func (sub *subscriptionRecord) arn() string { return sub.TopicArn + ":" + sub.ID }

// Subscription is what the event engine needs to deliver to a subscriber.
type Subscription struct {
	Arn                 string
	TopicArn            string
	Protocol            string // sqs, lambda, http, https, email, email-json, sms, application, firehose
	Endpoint            string
	Owner               string
	RawMessageDelivery  bool
	FilterPolicy        string // JSON, "" when none
	FilterPolicyScope   string // MessageAttributes (default) or MessageBody
	RedrivePolicy       string // JSON with deadLetterTargetArn, "" when none
	DeliveryPolicy      string
	SubscriptionRoleArn string
	// PendingConfirmation subscriptions receive nothing but the
	// SubscriptionConfirmation message carrying ConfirmationToken.
	PendingConfirmation bool
	ConfirmationToken   string
}

func (sub *subscriptionRecord) export() Subscription {
	scope := sub.Attributes["FilterPolicyScope"]
	if scope == "" {
		scope = "MessageAttributes"
	}
	return Subscription{
		Arn: sub.arn(), TopicArn: sub.TopicArn, Protocol: sub.Protocol, Endpoint: sub.Endpoint, Owner: sub.Owner,
		RawMessageDelivery: sub.Attributes["RawMessageDelivery"] == "true",
		FilterPolicy:       sub.Attributes["FilterPolicy"], FilterPolicyScope: scope,
		RedrivePolicy: sub.Attributes["RedrivePolicy"], DeliveryPolicy: sub.Attributes["DeliveryPolicy"],
		SubscriptionRoleArn: sub.Attributes["SubscriptionRoleArn"],
		PendingConfirmation: !sub.Confirmed, ConfirmationToken: sub.Token,
	}
}

// Subscriptions lists the live subscriptions of a topic (confirmed, and
// pending ones not yet expired), ordered by subscription id.
func (s *Service) Subscriptions(tx *core.Tx, topicArn string) []Subscription {
	sc, name, ok := splitTopicARN(topicArn)
	if !ok {
		return nil
	}
	now := s.c.Now()
	var out []Subscription
	s.subs.Scan(tx, sc.Key(name)+"/", func(_ string, sub subscriptionRecord) bool {
		if now.Before(sub.DeliversFrom) {
			return true // still propagating: SNS does not deliver to it yet
		}
		if sub.Confirmed || now.Sub(sub.Created) < s.PendingExpiry {
			out = append(out, sub.export())
		}
		return true
	})
	return out
}

func (s *Service) subKey(subArn string) (string, bool) {
	topicArn, id, ok := splitSubscriptionARN(subArn)
	if !ok {
		return "", false
	}
	sc, name, _ := splitTopicARN(topicArn)
	return sc.Key(name) + "/" + id, true
}

// lookupSub finds a live subscription by ARN.
func (s *Service) lookupSub(tx *core.Tx, r *core.Request, arn string) (subscriptionRecord, error) {
	key, ok := s.subKey(arn)
	if !ok {
		return subscriptionRecord{}, errInvalidParameter("SubscriptionArn Reason: An ARN must have at least 6 elements, not %d", len(strings.Split(arn, ":")))
	}
	if sc, _, _ := splitTopicARN(arn[:strings.LastIndex(arn, ":")]); sc.Region != r.Scope.Region {
		return subscriptionRecord{}, errInvalidParameter("SubscriptionArn")
	}
	sub, found := s.subs.Get(tx, key)
	if !found || (!sub.Confirmed && s.c.Now().Sub(sub.Created) >= s.PendingExpiry) {
		return subscriptionRecord{}, errSubscriptionNotFound()
	}
	return sub, nil
}

// --- attribute validation ---

var subscriptionAttributeNames = map[string]bool{
	"DeliveryPolicy": true, "FilterPolicy": true, "FilterPolicyScope": true,
	"RawMessageDelivery": true, "RedrivePolicy": true, "SubscriptionRoleArn": true,
}

func validateSubscriptionAttribute(protocol, name, v string, attrs map[string]string) error {
	switch name {
	case "RawMessageDelivery":
		if v != "true" && v != "false" {
			return errInvalidParameter("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", v)
		}
		if v == "true" && protocol != "sqs" && protocol != "http" && protocol != "https" && protocol != "firehose" {
			return errInvalidParameter("Attributes Reason: Delivery protocol [%s] does not support raw message delivery.", protocol)
		}
	case "FilterPolicyScope":
		if v != "MessageAttributes" && v != "MessageBody" {
			return errInvalidParameter("Attributes Reason: FilterPolicyScope: Invalid value [%s]. Please use either MessageBody or MessageAttributes", v)
		}
		if fp := attrs["FilterPolicy"]; fp != "" {
			return validateFilterPolicy(fp, v)
		}
	case "FilterPolicy":
		if v == "" {
			return nil
		}
		scope := attrs["FilterPolicyScope"]
		if scope == "" {
			scope = "MessageAttributes"
		}
		return validateFilterPolicy(v, scope)
	case "RedrivePolicy":
		if v == "" {
			return nil
		}
		var p struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		}
		if json.Unmarshal([]byte(v), &p) != nil {
			return errInvalidParameter("RedrivePolicy: failed to parse JSON.")
		}
		parts := strings.Split(p.DeadLetterTargetArn, ":")
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
			return errInvalidParameter("RedrivePolicy: deadLetterTargetArn is invalid.")
		}
	case "DeliveryPolicy":
		if protocol != "http" && protocol != "https" {
			return errInvalidParameter("Attributes Reason: DeliveryPolicy: Delivery policy can only be set for HTTP/S subscriptions")
		}
		if !isJSONObject(v) {
			return errInvalidParameter("DeliveryPolicy: failed to parse JSON.")
		}
	case "SubscriptionRoleArn":
		if !strings.HasPrefix(v, "arn:aws:iam::") {
			return errInvalidParameter("Attributes Reason: SubscriptionRoleArn: Invalid role ARN")
		}
	}
	return nil
}

// validateFilterPolicy applies SNS's filter policy grammar: an object
// whose leaves are arrays of match values (strings, numbers, booleans,
// null) or operator objects; nested objects only for the MessageBody scope;
// at most 5 keys and 150 value combinations.
func validateFilterPolicy(policy, scope string) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(policy)))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return errInvalidParameter("FilterPolicy: failed to parse JSON. %v", err)
	}
	if dec.More() {
		return errInvalidParameter("FilterPolicy: failed to parse JSON. trailing data")
	}
	keys := 0
	combos, err := walkFilter(doc, scope == "MessageBody", &keys)
	if err != nil {
		return err
	}
	if keys > 5 {
		return errInvalidParameter("FilterPolicy: Filter policy can not have more than 5 keys")
	}
	if combos > 150 {
		return errInvalidParameter("FilterPolicy: Filter policy is too complex")
	}
	return nil
}

func walkFilter(obj map[string]any, nested bool, keys *int) (int, error) {
	combos := 1
	for k, v := range obj {
		if k == "$or" {
			branches, ok := v.([]any)
			if !ok || len(branches) < 2 {
				return 0, errInvalidParameter("FilterPolicy: $or must be an array of at least two objects")
			}
			sum := 0
			for _, b := range branches {
				bo, ok := b.(map[string]any)
				if !ok {
					return 0, errInvalidParameter("FilterPolicy: $or must be an array of at least two objects")
				}
				n, err := walkFilter(bo, nested, keys)
				if err != nil {
					return 0, err
				}
				sum += n
			}
			combos *= sum
			continue
		}
		switch val := v.(type) {
		case []any:
			if len(val) == 0 {
				return 0, errInvalidParameter("FilterPolicy: Empty arrays are not allowed")
			}
			for _, rule := range val {
				if err := validateRule(k, rule); err != nil {
					return 0, err
				}
			}
			*keys++
			combos *= len(val)
		case map[string]any:
			if !nested {
				return 0, errInvalidParameter("FilterPolicy: Filter policy scope MessageAttributes does not support nested filter policy")
			}
			n, err := walkFilter(val, nested, keys)
			if err != nil {
				return 0, err
			}
			combos *= n
		default:
			return 0, errInvalidParameter("FilterPolicy: \"%s\" must be an object or an array", k)
		}
	}
	return combos, nil
}

func validateRule(key string, rule any) error {
	switch v := rule.(type) {
	case string, json.Number, bool, nil:
		return nil
	case map[string]any:
		if len(v) != 1 {
			return errInvalidParameter("FilterPolicy: Only one key allowed in match expression")
		}
		for op, arg := range v {
			switch op {
			case "prefix", "suffix":
				if _, ok := arg.(string); ok {
					return nil
				}
				if m, ok := arg.(map[string]any); ok {
					if s, ok := m["equals-ignore-case"].(string); ok && len(m) == 1 && s != "" {
						return nil
					}
				}
				return errInvalidParameter("FilterPolicy: %s match pattern must be a string", op)
			case "equals-ignore-case", "wildcard", "cidr":
				if _, ok := arg.(string); !ok {
					return errInvalidParameter("FilterPolicy: %s match pattern must be a string", op)
				}
				return nil
			case "exists":
				if _, ok := arg.(bool); !ok {
					return errInvalidParameter("FilterPolicy: exists match pattern must be either true or false.")
				}
				return nil
			case "anything-but":
				switch a := arg.(type) {
				case string, json.Number:
					return nil
				case []any:
					for _, x := range a {
						switch x.(type) {
						case string, json.Number:
						default:
							return errInvalidParameter("FilterPolicy: Inside anything but list, start|null|boolean is not supported.")
						}
					}
					return nil
				case map[string]any:
					if len(a) == 1 && (a["prefix"] != nil || a["suffix"] != nil || a["equals-ignore-case"] != nil || a["wildcard"] != nil) {
						return nil
					}
				}
				return errInvalidParameter("FilterPolicy: Value of anything-but must be an array or single string/number value.")
			case "numeric":
				return validateNumeric(arg)
			default:
				return errInvalidParameter("FilterPolicy: Unrecognized match type %s", op)
			}
		}
	}
	return errInvalidParameter("FilterPolicy: Match value must be String, number, true, false, or null")
}

func validateNumeric(arg any) error {
	list, ok := arg.([]any)
	bad := errInvalidParameter("FilterPolicy: Value of numeric must be an array.")
	if !ok || (len(list) != 2 && len(list) != 4) {
		return bad
	}
	for i := 0; i < len(list); i += 2 {
		op, _ := list[i].(string)
		if _, isNum := list[i+1].(json.Number); !isNum {
			return errInvalidParameter("FilterPolicy: Value of %s must be numeric", op)
		}
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return errInvalidParameter("FilterPolicy: Unrecognized numeric range operator: %s", op)
		}
		if i == 2 && (op == "=" || list[0] == "=") {
			return errInvalidParameter("FilterPolicy: Too many elements in numeric expression")
		}
	}
	return nil
}

// --- Subscribe ---

type subscribeResult struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
}

// validateEndpoint checks an endpoint for its protocol and returns the
// account that owns it ("" when the endpoint is outside AWS).
func validateEndpoint(protocol, endpoint string) (string, error) {
	switch protocol {
	case "sqs":
		p := strings.Split(endpoint, ":")
		if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" || p[3] == "" || p[4] == "" || p[5] == "" {
			return "", errInvalidParameter("SQS endpoint ARN")
		}
		return p[4], nil
	case "lambda":
		p := strings.Split(endpoint, ":")
		if len(p) < 7 || len(p) > 8 || p[0] != "arn" || p[2] != "lambda" || p[5] != "function" || p[6] == "" {
			return "", errInvalidParameter("Lambda endpoint ARN")
		}
		return p[4], nil
	case "firehose":
		p := strings.Split(endpoint, ":")
		if len(p) != 6 || p[2] != "firehose" || !strings.HasPrefix(p[5], "deliverystream/") {
			return "", errInvalidParameter("Firehose endpoint ARN")
		}
		return p[4], nil
	case "application":
		p := strings.Split(endpoint, ":")
		if len(p) != 6 || p[2] != "sns" || !strings.HasPrefix(p[5], "endpoint/") {
			return "", errInvalidParameter("Application endpoint ARN")
		}
		return p[4], nil
	case "email", "email-json":
		at := strings.Index(endpoint, "@")
		if at <= 0 || at == len(endpoint)-1 || strings.ContainsAny(endpoint, " \t\r\n") {
			return "", errInvalidParameter("Email address")
		}
	case "http", "https":
		if !strings.HasPrefix(endpoint, protocol+"://") || len(endpoint) == len(protocol)+3 {
			return "", errInvalidParameter("Endpoint must match the specified protocol")
		}
	case "sms":
		digits := strings.TrimPrefix(endpoint, "+")
		if digits == "" || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			return "", errInvalidParameter("Invalid SMS endpoint: %s", endpoint)
		}
	default:
		return "", errInvalidParameter("Amazon SNS does not support this protocol string: %s", protocol)
	}
	return "", nil
}

func (s *Service) subscribe(r *core.Request, f form) (any, error) {
	protocol, endpoint := strings.ToLower(f.get("Protocol")), f.get("Endpoint")
	attrs := f.attributes("Attributes")
	returnArn := strings.EqualFold(f.get("ReturnSubscriptionArn"), "true")
	if protocol == "" {
		return nil, errInvalidParameter("Protocol")
	}
	var result string
	err := s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolveTopic(tx, r, "TopicArn", f.get("TopicArn"))
		if err != nil {
			return err
		}
		if err := authorize(r, t, "SNS:Subscribe"); err != nil {
			return err
		}
		owner, err := validateEndpoint(protocol, endpoint)
		if err != nil {
			return err
		}
		for k, v := range attrs {
			if !subscriptionAttributeNames[k] {
				return errInvalidParameter("Attributes Reason: Unknown attribute %s", k)
			}
			if err := validateSubscriptionAttribute(protocol, k, v, attrs); err != nil {
				return err
			}
		}
		if protocol == "firehose" && attrs["SubscriptionRoleArn"] == "" {
			return errInvalidParameter("Attributes Reason: SubscriptionRoleArn is required for firehose protocol")
		}
		now := s.c.Now()
		var existing *subscriptionRecord
		s.subs.Scan(tx, t.key()+"/", func(_ string, sub subscriptionRecord) bool {
			if sub.Protocol == protocol && sub.Endpoint == endpoint && (sub.Confirmed || now.Sub(sub.Created) < s.PendingExpiry) {
				existing = &sub
				return false
			}
			return true
		})
		if existing != nil {
			for k, v := range attrs {
				if existing.Attributes[k] != v && !(k == "RawMessageDelivery" && v == "false" && existing.Attributes[k] == "") {
					return errInvalidParameter("Attributes Reason: Subscription already exists with different attributes")
				}
			}
			result = existing.arn()
			if !existing.Confirmed && !returnArn {
				result = "pending confirmation"
			}
			return nil
		}
		sub := subscriptionRecord{
			ID: newUUID(), TopicArn: t.arn(), Protocol: protocol, Endpoint: endpoint,
			Owner: r.Scope.Account, Created: now,
		}
		if d := s.c.Timing.SNSSubscription; d > 0 {
			sub.DeliversFrom = now.Add(d)
		}
		if len(attrs) > 0 {
			sub.Attributes = maps.Clone(attrs)
		}
		switch protocol {
		case "sqs", "lambda":
			// The endpoint's owner subscribing needs no confirmation; a
			// queue or function of another account gets a confirmation
			// message first.
			sub.Confirmed = owner == r.Scope.Account
		case "firehose", "application", "sms":
			sub.Confirmed = true
		}
		sub.Authenticated = sub.Confirmed
		if !sub.Confirmed {
			sub.Token = core.RandomHex(64)
		}
		s.subs.Put(tx, t.key()+"/"+sub.ID, sub)
		result = sub.arn()
		if !sub.Confirmed && !returnArn {
			result = "pending confirmation"
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return subscribeResult{SubscriptionArn: result}, nil
}

func (s *Service) confirmSubscription(r *core.Request, f form) (any, error) {
	token := f.get("Token")
	var arn string
	err := s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.resolveTopic(tx, r, "TopicArn", f.get("TopicArn"))
		if err != nil {
			return err
		}
		if token == "" {
			return errInvalidParameter("Token")
		}
		now := s.c.Now()
		var found *subscriptionRecord
		s.subs.Scan(tx, t.key()+"/", func(_ string, sub subscriptionRecord) bool {
			if sub.Token == token && (sub.Confirmed || now.Sub(sub.Created) < s.PendingExpiry) {
				found = &sub
				return false
			}
			return true
		})
		if found == nil {
			return errInvalidParameter("Token")
		}
		if !found.Confirmed {
			found.Confirmed = true
			found.Authenticated = strings.EqualFold(f.get("AuthenticateOnUnsubscribe"), "true")
			s.subs.Put(tx, t.key()+"/"+found.ID, *found)
		}
		arn = found.arn()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return subscribeResult{SubscriptionArn: arn}, nil
}

func (s *Service) unsubscribe(r *core.Request, f form) (any, error) {
	err := s.c.Store.Update(func(tx *core.Tx) error {
		sub, err := s.lookupSub(tx, r, f.get("SubscriptionArn"))
		if err != nil {
			return err
		}
		sc, name, _ := splitTopicARN(sub.TopicArn)
		if r.Scope.Account != sub.Owner && r.Scope.Account != sc.Account {
			return errAuthorization(r.Scope.Account, "SNS:Unsubscribe", sub.arn())
		}
		key := sc.Key(name)
		s.subs.Delete(tx, key+"/"+sub.ID)
		if t, ok := s.topics.Get(tx, key); ok {
			t.SubscriptionsDeleted++
			s.topics.Put(tx, key, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return noResult{}, nil
}

// --- listing ---

type subscriptionMember struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
	Owner           string `xml:"Owner"`
	Protocol        string `xml:"Protocol"`
	Endpoint        string `xml:"Endpoint"`
	TopicArn        string `xml:"TopicArn"`
}

type listSubscriptionsResult struct {
	Subscriptions []subscriptionMember `xml:"Subscriptions>member"`
	NextToken     string               `xml:"NextToken,omitempty"`
}

func (s *Service) listSubs(tx *core.Tx, prefix, token string) (listSubscriptionsResult, error) {
	now := s.c.Now()
	var keys []string
	for _, k := range s.subs.Keys(tx, prefix) {
		if sub, _ := s.subs.Get(tx, k); sub.Confirmed || now.Sub(sub.Created) < s.PendingExpiry {
			keys = append(keys, k)
		}
	}
	sel, next, err := page(keys, token, 100)
	if err != nil {
		return listSubscriptionsResult{}, err
	}
	out := listSubscriptionsResult{NextToken: next}
	for _, k := range sel {
		sub, _ := s.subs.Get(tx, k)
		arn := sub.arn()
		if !sub.Confirmed {
			arn = "PendingConfirmation"
		}
		out.Subscriptions = append(out.Subscriptions, subscriptionMember{SubscriptionArn: arn, Owner: sub.Owner, Protocol: sub.Protocol, Endpoint: sub.Endpoint, TopicArn: sub.TopicArn})
	}
	return out, nil
}

func (s *Service) listSubscriptions(r *core.Request, f form) (any, error) {
	var out listSubscriptionsResult
	err := s.c.Store.View(func(tx *core.Tx) error {
		var err error
		out, err = s.listSubs(tx, r.Scope.Prefix(), f.get("NextToken"))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) listSubscriptionsByTopic(r *core.Request, f form) (any, error) {
	var out listSubscriptionsResult
	err := s.c.Store.View(func(tx *core.Tx) error {
		t, err := s.resolveTopic(tx, r, "TopicArn", f.get("TopicArn"))
		if err != nil {
			return err
		}
		if err := authorize(r, t, "SNS:ListSubscriptionsByTopic"); err != nil {
			return err
		}
		out, err = s.listSubs(tx, t.key()+"/", f.get("NextToken"))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- Get/SetSubscriptionAttributes ---

func (s *Service) getSubscriptionAttributes(r *core.Request, f form) (any, error) {
	var out map[string]string
	err := s.c.Store.View(func(tx *core.Tx) error {
		sub, err := s.lookupSub(tx, r, f.get("SubscriptionArn"))
		if err != nil {
			return err
		}
		if sc, _, _ := splitTopicARN(sub.TopicArn); r.Scope.Account != sub.Owner && r.Scope.Account != sc.Account {
			return errAuthorization(r.Scope.Account, "SNS:GetSubscriptionAttributes", sub.arn())
		}
		out = maps.Clone(sub.Attributes)
		if out == nil {
			out = map[string]string{}
		}
		out["SubscriptionArn"] = sub.arn()
		out["TopicArn"] = sub.TopicArn
		out["Protocol"] = sub.Protocol
		out["Endpoint"] = sub.Endpoint
		out["Owner"] = sub.Owner
		out["SubscriptionPrincipal"] = "arn:aws:iam::" + sub.Owner + ":root"
		out["PendingConfirmation"] = boolString(!sub.Confirmed)
		out["ConfirmationWasAuthenticated"] = boolString(sub.Authenticated)
		if out["RawMessageDelivery"] == "" {
			out["RawMessageDelivery"] = "false"
		}
		if out["FilterPolicy"] != "" && out["FilterPolicyScope"] == "" {
			out["FilterPolicyScope"] = "MessageAttributes"
		}
		if out["FilterPolicy"] == "" {
			delete(out, "FilterPolicy")
		}
		if sub.Protocol == "http" || sub.Protocol == "https" {
			out["EffectiveDeliveryPolicy"] = defaultDeliveryPolicy
			if dp := sub.Attributes["DeliveryPolicy"]; dp != "" {
				out["EffectiveDeliveryPolicy"] = dp
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries(out), nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (s *Service) setSubscriptionAttributes(r *core.Request, f form) (any, error) {
	name, value := f.get("AttributeName"), f.get("AttributeValue")
	err := s.c.Store.Update(func(tx *core.Tx) error {
		sub, err := s.lookupSub(tx, r, f.get("SubscriptionArn"))
		if err != nil {
			return err
		}
		sc, tname, _ := splitTopicARN(sub.TopicArn)
		if r.Scope.Account != sub.Owner && r.Scope.Account != sc.Account {
			return errAuthorization(r.Scope.Account, "SNS:SetSubscriptionAttributes", sub.arn())
		}
		if !subscriptionAttributeNames[name] {
			return errInvalidParameter("AttributeName")
		}
		attrs := maps.Clone(sub.Attributes)
		if attrs == nil {
			attrs = map[string]string{}
		}
		if err := validateSubscriptionAttribute(sub.Protocol, name, value, attrs); err != nil {
			return err
		}
		if value == "" {
			delete(attrs, name)
		} else {
			attrs[name] = value
		}
		sub.Attributes = attrs
		s.subs.Put(tx, sc.Key(tname)+"/"+sub.ID, sub)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return noResult{}, nil
}
