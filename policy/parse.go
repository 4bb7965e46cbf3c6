// Package policy parses and evaluates AWS IAM policy documents: identity
// policies (attached to roles), trust policies, and resource policies (SQS
// queue policies, Lambda function policies, S3 bucket policies).
//
// It has no dependency beyond the standard library so that both the sandbox
// (which enforces policies) and slab's checks (which explain to a learner why
// a policy does or does not grant something) share one implementation of the
// evaluation rules: explicit Deny beats Allow beats the implicit deny,
// case-insensitive action and condition-key matching, ARN wildcards per
// colon-separated segment, and the condition operators with their IfExists,
// ForAnyValue: and ForAllValues: variants.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Effect is a statement's Effect element.
type Effect string

// The two effects a statement may have.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is a parsed policy document.
type Document struct {
	Version    string
	ID         string
	Statements []*Statement
	// JSON is the document text after URL-decoding, as given.
	JSON string

	// pos turns byte offsets into positions while parsing.
	pos positioner
}

// Position is a 1-based line and column in the document text, the shape IAM
// uses for SimulatePrincipalPolicy's matched statements.
type Position struct {
	Line   int
	Column int
}

// Statement is one statement of a document.
type Statement struct {
	Sid    string
	Effect Effect
	// Index is the statement's position in the document, from 0.
	Index int

	Principal    *Principals // nil when the element is absent
	NotPrincipal *Principals

	Action, NotAction     []string
	Resource, NotResource []string
	// HasAction etc. tell an absent element from an empty list.
	HasAction, HasNotAction, HasResource, HasNotResource bool

	Conditions []Condition

	// Start and End delimit the statement in Document.JSON.
	Start, End Position
}

// Principals is a Principal or NotPrincipal element.
type Principals struct {
	// Any is true for "Principal": "*".
	Any           bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one key of one operator block: {"Operator": {"Key": Values}}.
type Condition struct {
	// Operator is the operator as written, e.g. "ForAnyValue:StringLikeIfExists".
	Operator string
	// Base is the operator without qualifier and IfExists, canonically
	// capitalised ("StringLike").
	Base string
	// Set is "", "ForAnyValue" or "ForAllValues".
	Set      string
	IfExists bool
	// Key is the condition key as written ("aws:SourceArn").
	Key    string
	Values []string
}

// Error is a malformed document. Msg is worded as IAM words it, so a service
// can return it as the MalformedPolicyDocument message; Detail says what was
// wrong for people and logs.
type Error struct {
	Msg    string
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Msg
	}
	return e.Msg + " (" + e.Detail + ")"
}

// Messages IAM uses for documents it cannot parse.
const (
	MsgInvalidJSON = "This policy contains invalid Json"
	MsgSyntax      = "Syntax errors in policy."
)

func syntaxErr(format string, args ...any) *Error {
	return &Error{Msg: MsgSyntax, Detail: fmt.Sprintf(format, args...)}
}

// Parse parses a policy document. It also accepts the URL-encoded form IAM
// returns from GetRolePolicy, GetPolicyVersion and GetRole.
func Parse(doc string) (*Document, error) {
	text := strings.TrimSpace(doc)
	if !strings.HasPrefix(text, "{") && strings.Contains(text, "%") {
		// IAM encodes with RFC 3986 percent-escapes; '+' stays a literal
		// plus (the AWS CLI decodes with unquote, not unquote_plus).
		if dec, err := url.PathUnescape(text); err == nil {
			text = strings.TrimSpace(dec)
		}
	}
	if !strings.HasPrefix(text, "{") {
		return nil, &Error{Msg: MsgInvalidJSON, Detail: "a policy document is a JSON object"}
	}
	d := &Document{JSON: text}
	if err := d.parse(); err != nil {
		return nil, err
	}
	return d, nil
}

// MustParse is Parse for documents known to be valid (tests, embedded data).
func MustParse(doc string) *Document {
	d, err := Parse(doc)
	if err != nil {
		panic(err)
	}
	return d
}

func (d *Document) parse() error {
	if !json.Valid([]byte(d.JSON)) {
		return &Error{Msg: MsgInvalidJSON, Detail: "not valid JSON"}
	}
	dec := json.NewDecoder(strings.NewReader(d.JSON))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
		}
		key, _ := tok.(string)
		if seen[key] {
			return syntaxErr("duplicate element %q", key)
		}
		seen[key] = true
		switch key {
		case "Version":
			var v any
			if err := dec.Decode(&v); err != nil {
				return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
			}
			s, ok := v.(string)
			if !ok || (s != "2012-10-17" && s != "2008-10-17") {
				return syntaxErr("Version must be \"2012-10-17\" or \"2008-10-17\", got %v", v)
			}
			d.Version = s
		case "Id":
			var v any
			if err := dec.Decode(&v); err != nil {
				return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
			}
			s, ok := v.(string)
			if !ok {
				return syntaxErr("Id must be a string")
			}
			d.ID = s
		case "Statement":
			if err := d.parseStatements(dec); err != nil {
				return err
			}
		default:
			return syntaxErr("unknown element %q", key)
		}
	}
	if !seen["Statement"] {
		return syntaxErr("missing Statement")
	}
	return nil
}

// parseStatements reads the Statement value, an object or a list of objects,
// recording where each statement starts and ends in the text.
func (d *Document) parseStatements(dec *json.Decoder) error {
	start := skipSpace(d.JSON, int(dec.InputOffset()), true)
	if start >= len(d.JSON) {
		return &Error{Msg: MsgInvalidJSON, Detail: "truncated Statement"}
	}
	switch d.JSON[start] {
	case '{':
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
		}
		return d.addStatement(raw, start, int(dec.InputOffset()))
	case '[':
		if _, err := dec.Token(); err != nil {
			return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
		}
		for dec.More() {
			begin := skipSpace(d.JSON, int(dec.InputOffset()), true)
			var v any
			if err := dec.Decode(&v); err != nil {
				return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
			}
			raw, ok := v.(map[string]any)
			if !ok {
				return syntaxErr("each statement must be an object")
			}
			if err := d.addStatement(raw, begin, int(dec.InputOffset())); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return &Error{Msg: MsgInvalidJSON, Detail: err.Error()}
		}
		return nil
	default:
		return syntaxErr("Statement must be an object or a list of objects")
	}
}

// skipSpace moves past whitespace and, when commas is set, the separators
// between values, which json.Decoder's InputOffset leaves before the next value.
func skipSpace(s string, i int, commas bool) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		case ',', ':':
			if !commas {
				return i
			}
		default:
			return i
		}
		i++
	}
	return i
}

// positioner turns byte offsets into lines and columns. Statements come in
// document order, so it resumes from the last offset asked for instead of
// counting newlines from the start each time: counting from the start made
// parsing quadratic (8,000 statements took 5.4 s).
type positioner struct {
	off, line, lineStart int
	// scanned counts the bytes examined, for the test that parsing is linear.
	scanned int
}

func (d *Document) position(off int) Position {
	p := &d.pos
	off = min(off, len(d.JSON))
	if off < p.off || p.line == 0 {
		p.off, p.line, p.lineStart = 0, 1, 0
	}
	for {
		i := strings.IndexByte(d.JSON[p.off:off], '\n')
		if i < 0 {
			break
		}
		p.scanned += i + 1
		p.off += i + 1
		p.line++
		p.lineStart = p.off
	}
	p.scanned += off - p.off
	p.off = off
	return Position{Line: p.line, Column: off - p.lineStart + 1}
}

func (d *Document) addStatement(raw map[string]any, start, end int) error {
	st := &Statement{Index: len(d.Statements), Start: d.position(start), End: d.position(end)}
	for key, v := range raw {
		var err error
		switch key {
		case "Sid":
			s, ok := v.(string)
			if !ok {
				return syntaxErr("Sid must be a string")
			}
			st.Sid = s
		case "Effect":
			s, _ := v.(string)
			if s != string(Allow) && s != string(Deny) {
				return syntaxErr("Effect must be \"Allow\" or \"Deny\", got %v", v)
			}
			st.Effect = Effect(s)
		case "Action":
			st.Action, err = stringList(key, v)
			st.HasAction = true
		case "NotAction":
			st.NotAction, err = stringList(key, v)
			st.HasNotAction = true
		case "Resource":
			st.Resource, err = stringList(key, v)
			st.HasResource = true
		case "NotResource":
			st.NotResource, err = stringList(key, v)
			st.HasNotResource = true
		case "Principal":
			st.Principal, err = parsePrincipals(key, v)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipals(key, v)
		case "Condition":
			st.Conditions, err = parseConditions(v)
		default:
			return syntaxErr("unknown statement element %q", key)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case st.Effect == "":
		return syntaxErr("statement %d has no Effect", st.Index)
	case st.HasAction && st.HasNotAction:
		return syntaxErr("statement %d has both Action and NotAction", st.Index)
	case st.HasResource && st.HasNotResource:
		return syntaxErr("statement %d has both Resource and NotResource", st.Index)
	case st.Principal != nil && st.NotPrincipal != nil:
		return syntaxErr("statement %d has both Principal and NotPrincipal", st.Index)
	}
	d.Statements = append(d.Statements, st)
	return nil
}

// stringList reads an element that is a string or a list of strings.
func stringList(name string, v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, syntaxErr("%s must hold strings", name)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, syntaxErr("%s must be a string or a list of strings", name)
}

func parsePrincipals(name string, v any) (*Principals, error) {
	switch t := v.(type) {
	case string:
		if t != "*" {
			return nil, syntaxErr("%s as a string must be \"*\"", name)
		}
		return &Principals{Any: true}, nil
	case map[string]any:
		p := &Principals{}
		for k, val := range t {
			list, err := stringList(name+"."+k, val)
			if err != nil {
				return nil, err
			}
			switch k {
			case "AWS":
				p.AWS = list
			case "Service":
				p.Service = list
			case "Federated":
				p.Federated = list
			case "CanonicalUser":
				p.CanonicalUser = list
			default:
				return nil, syntaxErr("unknown principal type %q", k)
			}
		}
		return p, nil
	}
	return nil, syntaxErr("%s must be \"*\" or an object", name)
}

// conditionValue renders a JSON scalar as the string IAM compares.
func conditionValue(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func parseConditions(v any) ([]Condition, error) {
	block, ok := v.(map[string]any)
	if !ok {
		return nil, syntaxErr("Condition must be an object")
	}
	var out []Condition
	for op, keys := range block {
		base, set, ifExists, ok := splitOperator(op)
		if !ok {
			return nil, syntaxErr("unknown condition operator %q", op)
		}
		km, ok := keys.(map[string]any)
		if !ok {
			return nil, syntaxErr("condition operator %q must map keys to values", op)
		}
		for key, val := range km {
			c := Condition{Operator: op, Base: base, Set: set, IfExists: ifExists, Key: key}
			switch t := val.(type) {
			case []any:
				for _, e := range t {
					s, ok := conditionValue(e)
					if !ok {
						return nil, syntaxErr("condition values must be strings, numbers or booleans")
					}
					c.Values = append(c.Values, s)
				}
			default:
				s, ok := conditionValue(t)
				if !ok {
					return nil, syntaxErr("condition values must be strings, numbers or booleans")
				}
				c.Values = []string{s}
			}
			out = append(out, c)
		}
	}
	// Map order is random; evaluation does not depend on order, but
	// reproducible output (and fuzz failures) do.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// operators maps each base operator, lower-cased, to its canonical spelling.
var operators = map[string]string{}

func init() {
	for _, op := range []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
		"StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
		"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
		"Null",
	} {
		operators[strings.ToLower(op)] = op
	}
}

// splitOperator takes "ForAnyValue:StringLikeIfExists" apart. Operators are
// matched without regard to case, as SQS and SNS accept policies that IAM's
// stricter parser would reject; an unknown operator is still an error.
func splitOperator(op string) (base, set string, ifExists, ok bool) {
	rest := op
	lower := strings.ToLower(rest)
	switch {
	case strings.HasPrefix(lower, "foranyvalue:"):
		set, rest = "ForAnyValue", rest[len("foranyvalue:"):]
	case strings.HasPrefix(lower, "forallvalues:"):
		set, rest = "ForAllValues", rest[len("forallvalues:"):]
	}
	lower = strings.ToLower(rest)
	if strings.HasSuffix(lower, "ifexists") && lower != "null" {
		ifExists = true
		lower = strings.TrimSuffix(lower, "ifexists")
	}
	base, ok = operators[lower]
	if ok && base == "Null" && ifExists {
		return "", "", false, false
	}
	return base, set, ifExists, ok
}

// Compact returns the document text without insignificant whitespace, the
// form IAM measures against its size quotas.
func (d *Document) Compact() string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(d.JSON)); err != nil {
		return d.JSON
	}
	return buf.String()
}
