package policy

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Decision is the outcome of evaluating a request.
type Decision int

// The three outcomes, named as IAM's simulator names them.
const (
	// ImplicitDeny: no statement allows the request (the default).
	ImplicitDeny Decision = iota
	// Allowed: a statement allows it and none denies it.
	Allowed
	// ExplicitDeny: a Deny statement matches; it overrides every Allow.
	ExplicitDeny
)

// String returns IAM's EvalDecision value.
func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

// Request is what is being decided.
type Request struct {
	// Principal is the caller; only resource-based evaluation uses it.
	Principal Principal
	// Action is "service:Operation", e.g. "sqs:SendMessage".
	Action string
	// Resource is the ARN acted on, or "*".
	Resource string
	// Context holds condition keys ("aws:SourceArn") and their values.
	// Keys are matched without regard to case.
	Context map[string][]string
}

// Match is a statement that decided the outcome.
type Match struct {
	// Doc is the index of the document among those evaluated.
	Doc       int
	Statement *Statement
}

// Result is the decision and the evidence for it.
type Result struct {
	Decision Decision
	// Matched holds the Deny statements that matched for ExplicitDeny,
	// the Allow statements that matched for Allowed, nothing otherwise.
	Matched []Match
	// MissingContext lists condition keys (as written in the policies) of
	// otherwise matching statements that the request context lacked.
	MissingContext []string
}

// Allowed reports whether the request is allowed.
func (r Result) Allowed() bool { return r.Decision == Allowed }

// Evaluate decides a request against identity-based policies (those
// attached to a role or user): Principal elements are ignored, as the
// principal is whoever holds the policy.
func Evaluate(req Request, docs ...*Document) Result {
	return evaluate(req, false, docs)
}

// EvaluateResource decides a request against resource-based policies (an
// SQS queue policy, a Lambda function policy, a role's trust policy): a
// statement applies only when its Principal (or NotPrincipal) admits
// req.Principal.
func EvaluateResource(req Request, docs ...*Document) Result {
	return evaluate(req, true, docs)
}

func evaluate(req Request, resourceBased bool, docs []*Document) Result {
	ctx := make(map[string][]string, len(req.Context))
	for k, v := range req.Context {
		lk := strings.ToLower(k)
		ctx[lk] = append(ctx[lk], v...)
	}
	var allows, denies []Match
	var missing []string
	seen := map[string]bool{}
	for di, d := range docs {
		if d == nil {
			continue
		}
		vars := d.Version == "2012-10-17"
		for _, st := range d.Statements {
			if !st.scopeMatches(req, ctx, resourceBased, vars) {
				continue
			}
			for _, c := range st.Conditions {
				lk := strings.ToLower(c.Key)
				if _, ok := ctx[lk]; !ok && c.Base != "Null" && !seen[lk] {
					seen[lk] = true
					missing = append(missing, c.Key)
				}
			}
			if !st.conditionsHold(ctx, vars) {
				continue
			}
			m := Match{Doc: di, Statement: st}
			if st.Effect == Deny {
				denies = append(denies, m)
			} else {
				allows = append(allows, m)
			}
		}
	}
	switch {
	case len(denies) > 0:
		return Result{Decision: ExplicitDeny, Matched: denies, MissingContext: missing}
	case len(allows) > 0:
		return Result{Decision: Allowed, Matched: allows, MissingContext: missing}
	}
	return Result{Decision: ImplicitDeny, MissingContext: missing}
}

// scopeMatches checks principal, action and resource, everything but the
// conditions.
func (st *Statement) scopeMatches(req Request, ctx map[string][]string, resourceBased, vars bool) bool {
	if resourceBased {
		switch {
		case st.Principal != nil:
			if !st.Principal.Matches(req.Principal) {
				return false
			}
		case st.NotPrincipal != nil:
			if st.NotPrincipal.Matches(req.Principal) {
				return false
			}
		default:
			return false // a resource policy statement must name a principal
		}
	}
	switch {
	case st.HasAction:
		if !anyAction(st.Action, req.Action) {
			return false
		}
	case st.HasNotAction:
		if anyAction(st.NotAction, req.Action) {
			return false
		}
	default:
		return false
	}
	switch {
	case st.HasResource:
		return anyResource(st.Resource, req.Resource, ctx, vars)
	case st.HasNotResource:
		return !anyResource(st.NotResource, req.Resource, ctx, vars)
	}
	// Trust policies have no Resource: the role itself is the resource.
	return true
}

func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if MatchAction(p, action) {
			return true
		}
	}
	return false
}

func anyResource(patterns []string, resource string, ctx map[string][]string, vars bool) bool {
	for _, p := range patterns {
		if vars {
			var ok bool
			if p, ok = substitute(p, ctx); !ok {
				continue
			}
		}
		if MatchARN(p, resource) {
			return true
		}
	}
	return false
}

func (st *Statement) conditionsHold(ctx map[string][]string, vars bool) bool {
	for _, c := range st.Conditions {
		if !c.holds(ctx, vars) {
			return false
		}
	}
	return true
}

// positive maps each negated operator to the one it negates.
var positive = map[string]string{
	"StringNotEquals":           "StringEquals",
	"StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike":             "StringLike",
	"NumericNotEquals":          "NumericEquals",
	"DateNotEquals":             "DateEquals",
	"ArnNotEquals":              "ArnEquals",
	"ArnNotLike":                "ArnLike",
	"NotIpAddress":              "IpAddress",
}

// holds evaluates one condition key: the values of a key are ORed; the
// set qualifiers decide how a multi-valued context key is combined.
func (c Condition) holds(ctx map[string][]string, vars bool) bool {
	vals := ctx[strings.ToLower(c.Key)]
	if c.Base == "Null" {
		absent := len(vals) == 0
		for _, want := range c.Values {
			if strings.EqualFold(want, "true") == absent {
				return true
			}
		}
		return false
	}
	base, negated := c.Base, false
	if p, ok := positive[c.Base]; ok {
		base, negated = p, true
	}
	if len(vals) == 0 {
		switch {
		case c.IfExists:
			return true
		case c.Set == "ForAllValues":
			return true // vacuously: every one of no values matches
		case c.Set == "ForAnyValue":
			return false
		}
		// A missing key matches no value: a negated operator holds.
		return negated
	}
	policyVals := c.Values
	if vars && (strings.HasPrefix(base, "String") || strings.HasPrefix(base, "Arn")) {
		policyVals = make([]string, 0, len(c.Values))
		for _, v := range c.Values {
			if s, ok := substitute(v, ctx); ok {
				policyVals = append(policyVals, s)
			}
		}
	}
	matchesAny := func(ctxVal string) bool {
		for _, pv := range policyVals {
			if compare(base, pv, ctxVal) {
				return true
			}
		}
		return false
	}
	test := func(v string) bool { return matchesAny(v) != negated }
	switch c.Set {
	case "ForAllValues":
		for _, v := range vals {
			if !test(v) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, v := range vals {
			if test(v) {
				return true
			}
		}
		return false
	}
	if negated {
		for _, v := range vals {
			if matchesAny(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if matchesAny(v) {
			return true
		}
	}
	return false
}

// compare applies a positive base operator to a policy value and a context
// value.
func compare(op, policyVal, ctxVal string) bool {
	switch op {
	case "StringEquals", "BinaryEquals":
		return policyVal == ctxVal
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(policyVal, ctxVal)
	case "StringLike":
		return Glob(policyVal, ctxVal)
	case "Bool":
		return strings.EqualFold(policyVal, ctxVal)
	case "ArnEquals", "ArnLike":
		return MatchARN(policyVal, ctxVal)
	case "IpAddress":
		return ipMatch(policyVal, ctxVal)
	}
	if strings.HasPrefix(op, "Numeric") {
		p, err1 := strconv.ParseFloat(policyVal, 64)
		v, err2 := strconv.ParseFloat(ctxVal, 64)
		if err1 != nil || err2 != nil || math.IsNaN(p) || math.IsNaN(v) {
			return false
		}
		return order(strings.TrimPrefix(op, "Numeric"), cmpFloat(v, p))
	}
	if strings.HasPrefix(op, "Date") {
		p, ok1 := parseDate(policyVal)
		v, ok2 := parseDate(ctxVal)
		if !ok1 || !ok2 {
			return false
		}
		return order(strings.TrimPrefix(op, "Date"), v.Compare(p))
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// order applies Equals/LessThan/LessThanEquals/... to a comparison of the
// context value against the policy value.
func order(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func ipMatch(policyVal, ctxVal string) bool {
	addr, err := netip.ParseAddr(ctxVal)
	if err != nil {
		return false
	}
	if pfx, err := netip.ParsePrefix(policyVal); err == nil {
		return pfx.Contains(addr)
	}
	if a, err := netip.ParseAddr(policyVal); err == nil {
		return a == addr
	}
	return false
}
