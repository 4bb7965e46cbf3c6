package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/sns"
)

// The matching rules of SNS filter policies and of Lambda's event filter
// criteria, which share EventBridge's pattern grammar: an object whose
// leaves are arrays of alternatives (literal values or one-operator
// objects), nested objects for nested fields, "$or" for alternatives of
// whole sub-patterns. Every key must match; within an array one entry
// must. A field holding an array matches when one of its elements does.
// Values are typed: the string "5" does not match the number 5.

// filterMatches applies a subscription's filter policy to a message. With
// scope MessageAttributes the policy tests message attributes (String
// attributes as strings, Number ones as numbers, String.Array ones
// element-wise; Binary ones never match); with MessageBody it tests the
// message, which must be a JSON object. A policy that does not parse
// matches nothing (SNS validated it when it was set).
func filterMatches(policyDoc, scope string, attrs map[string]sns.MessageAttribute, message string) bool {
	pat, ok := decodeObject(policyDoc)
	if !ok {
		return false
	}
	if scope == "MessageBody" {
		doc, ok := decodeObject(message)
		return ok && matchObject(pat, doc)
	}
	doc := make(map[string]any, len(attrs))
	for name, a := range attrs {
		base, _, _ := strings.Cut(a.DataType, ".")
		switch {
		case a.DataType == "String.Array":
			var arr []any
			dec := json.NewDecoder(strings.NewReader(a.StringValue))
			dec.UseNumber()
			if dec.Decode(&arr) == nil {
				doc[name] = arr
			} else {
				doc[name] = binaryValue{}
			}
		case base == "Number":
			doc[name] = json.Number(a.StringValue)
		case base == "String":
			doc[name] = a.StringValue
		default:
			doc[name] = binaryValue{}
		}
	}
	return matchObject(pat, doc)
}

// binaryValue stands for an attribute that exists but that no value
// matches.
type binaryValue struct{}

func decodeObject(s string) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil || dec.More() {
		return nil, false
	}
	return m, true
}

// matchObject reports whether doc matches every key of pattern pat.
func matchObject(pat, doc map[string]any) bool {
	for k, pv := range pat {
		if k == "$or" {
			branches, _ := pv.([]any)
			hit := false
			for _, b := range branches {
				if bo, ok := b.(map[string]any); ok && matchObject(bo, doc) {
					hit = true
					break
				}
			}
			if !hit {
				return false
			}
			continue
		}
		field, present := doc[k]
		switch p := pv.(type) {
		case []any:
			if !matchField(p, present, field) {
				return false
			}
		case map[string]any:
			sub, _ := field.(map[string]any)
			if sub == nil {
				sub = map[string]any{}
			}
			if !matchObject(p, sub) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// matchField applies the alternatives of one key to the field's value.
func matchField(rules []any, present bool, field any) bool {
	var vals []any
	switch f := field.(type) {
	case []any:
		vals = f
	case map[string]any, binaryValue:
	default:
		vals = []any{f}
	}
	for _, r := range rules {
		if m, ok := r.(map[string]any); ok {
			if want, ok := m["exists"].(bool); ok && len(m) == 1 {
				if want == present {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, v := range vals {
			if matchRule(r, v) {
				return true
			}
		}
	}
	return false
}

// matchRule tests one alternative against one value.
func matchRule(rule, v any) bool {
	switch r := rule.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == r
	case json.Number:
		return numberEquals(r, v)
	case bool:
		b, ok := v.(bool)
		return ok && b == r
	case nil:
		return v == nil
	case map[string]any:
		if len(r) != 1 {
			return false
		}
		for op, arg := range r {
			return matchOperator(op, arg, v)
		}
	}
	return false
}

func numberEquals(n json.Number, v any) bool {
	vn, ok := v.(json.Number)
	if !ok {
		return false
	}
	a, err1 := strconv.ParseFloat(string(n), 64)
	b, err2 := strconv.ParseFloat(string(vn), 64)
	return err1 == nil && err2 == nil && a == b
}

func matchOperator(op string, arg, v any) bool {
	switch op {
	case "prefix", "suffix":
		s, ok := v.(string)
		if !ok {
			return false
		}
		want, fold := stringArg(arg)
		if fold {
			s, want = strings.ToLower(s), strings.ToLower(want)
		}
		if op == "prefix" {
			return strings.HasPrefix(s, want)
		}
		return strings.HasSuffix(s, want)
	case "equals-ignore-case":
		s, ok := v.(string)
		want, _ := arg.(string)
		return ok && strings.EqualFold(s, want)
	case "wildcard":
		s, ok := v.(string)
		want, _ := arg.(string)
		return ok && wildcard(want, s)
	case "cidr":
		s, ok := v.(string)
		want, _ := arg.(string)
		if !ok {
			return false
		}
		pfx, err := netip.ParsePrefix(want)
		ip, err2 := netip.ParseAddr(s)
		return err == nil && err2 == nil && pfx.Contains(ip)
	case "numeric":
		return numericMatches(arg, v)
	case "anything-but":
		switch a := arg.(type) {
		case []any:
			for _, x := range a {
				if matchRule(x, v) {
					return false
				}
			}
			return true
		case map[string]any:
			return !matchRule(a, v)
		default:
			return !matchRule(a, v)
		}
	}
	return false
}

// stringArg reads a prefix or suffix argument: a string, or
// {"equals-ignore-case": string}.
func stringArg(arg any) (string, bool) {
	if s, ok := arg.(string); ok {
		return s, false
	}
	if m, ok := arg.(map[string]any); ok {
		if s, ok := m["equals-ignore-case"].(string); ok {
			return s, true
		}
	}
	return "\x00no match", false
}

func numericMatches(arg, v any) bool {
	vn, ok := v.(json.Number)
	if !ok {
		return false
	}
	x, err := strconv.ParseFloat(string(vn), 64)
	if err != nil {
		return false
	}
	conds, _ := arg.([]any)
	if len(conds) == 0 || len(conds)%2 != 0 {
		return false
	}
	for i := 0; i < len(conds); i += 2 {
		op, _ := conds[i].(string)
		n, _ := conds[i+1].(json.Number)
		y, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return false
		}
		var hold bool
		switch op {
		case "=":
			hold = x == y
		case "<":
			hold = x < y
		case "<=":
			hold = x <= y
		case ">":
			hold = x > y
		case ">=":
			hold = x >= y
		}
		if !hold {
			return false
		}
	}
	return true
}

// wildcard matches s against a pattern whose '*' stands for any run of
// characters.
func wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// --- Lambda event filtering (FilterCriteria of event source mappings) ---

// filterCriteria are a mapping's patterns; nil keeps every record.
type filterCriteria []map[string]any

func parseFilterCriteria(raw json.RawMessage) filterCriteria {
	if len(raw) == 0 {
		return nil
	}
	var fc struct {
		Filters []struct {
			Pattern string `json:"Pattern"`
		} `json:"Filters"`
	}
	if json.Unmarshal(raw, &fc) != nil {
		return nil
	}
	var out filterCriteria
	for _, f := range fc.Filters {
		if p, ok := decodeObject(f.Pattern); ok {
			out = append(out, p)
		}
	}
	return out
}

// keeps reports whether an SQS record passes the filters: one pattern must
// match the record, whose body is matched as JSON when it is a JSON
// object and as a plain string otherwise.
func (fc filterCriteria) keeps(rec sqsRecord) bool {
	if len(fc) == 0 {
		return true
	}
	doc := map[string]any{
		"messageId": rec.MessageID, "receiptHandle": rec.ReceiptHandle, "md5OfBody": rec.MD5OfBody,
		"eventSource": rec.EventSource, "eventSourceARN": rec.EventSourceARN, "awsRegion": rec.AwsRegion,
	}
	if body, ok := decodeObject(rec.Body); ok {
		doc["body"] = body
	} else {
		doc["body"] = rec.Body
	}
	attrs := map[string]any{}
	for k, v := range rec.Attributes {
		attrs[k] = v
	}
	doc["attributes"] = attrs
	mattrs := map[string]any{}
	for k, a := range rec.MessageAttributes {
		m := map[string]any{"dataType": a.DataType}
		if a.StringValue != nil {
			m["stringValue"] = *a.StringValue
		}
		if a.BinaryValue != nil {
			m["binaryValue"] = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		mattrs[k] = m
	}
	doc["messageAttributes"] = mattrs
	for _, p := range fc {
		if matchObject(p, doc) {
			return true
		}
	}
	return false
}
