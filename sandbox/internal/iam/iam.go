// Package iam emulates the part of AWS IAM the lab and its tools use: roles
// with trust policies, tags, attached AWS-managed policies and inline
// policies; instance profiles (so cleanup of a role held by one can be
// exercised); the AWS-managed policies the lab attaches, with their real
// documents; and SimulatePrincipalPolicy, evaluated by package policy.
//
// IAM is global: every record is keyed by account only (Scope.Global), and
// names are unique without regard to case, as on AWS. Policy documents are
// returned URL-encoded, as IAM returns them.
//
// Other services reach IAM through hooks: core.HookIAM (core.IAMView: does a
// role exist, do its policies allow an action) and "iam.assume-check" (may
// an account assume a role, used by STS).
package iam

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const xmlns = "https://iam.amazonaws.com/doc/2010-05-08/"

// Service is the IAM emulator.
type Service struct {
	c        *core.Core
	roles    *core.Table[Role]
	profiles *core.Table[InstanceProfile]
}

// Role is an IAM role as stored.
type Role struct {
	Account     string    `json:"account"`
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	RoleID      string    `json:"role_id"`
	Arn         string    `json:"arn"`
	Created     time.Time `json:"created"`
	TrustPolicy string    `json:"trust_policy"`
	Description string    `json:"description,omitempty"`
	// MaxSessionDuration is in seconds.
	MaxSessionDuration int   `json:"max_session_duration"`
	Tags               []Tag `json:"tags,omitempty"`
	// Attached holds managed policy ARNs in the order they were attached.
	Attached []string `json:"attached,omitempty"`
	// Inline maps inline policy names to their documents (decoded JSON).
	Inline map[string]string `json:"inline,omitempty"`
	// AssumableAt, PoliciesBefore and PoliciesAt model IAM's propagation
	// (see propagation.go); zero when nothing is propagating.
	AssumableAt    time.Time     `json:"assumable_at,omitempty"`
	PoliciesBefore *RolePolicies `json:"policies_before,omitempty"`
	PoliciesAt     time.Time     `json:"policies_at,omitempty"`
}

// Tag is a key-value tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// InstanceProfile is an EC2 instance profile: a container for one role.
type InstanceProfile struct {
	Account string    `json:"account"`
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	ID      string    `json:"id"`
	Arn     string    `json:"arn"`
	Created time.Time `json:"created"`
	// Roles holds role names (at most one, as on AWS).
	Roles []string `json:"roles,omitempty"`
	Tags  []Tag    `json:"tags,omitempty"`
}

// New registers the service's tables and hooks.
func New(c *core.Core) *Service {
	s := &Service{
		c:        c,
		roles:    core.Register[Role](c.Store, "iam.roles"),
		profiles: core.Register[InstanceProfile](c.Store, "iam.instance-profiles"),
	}
	c.SetHook(core.HookIAM, s)
	c.SetHook("iam.assume-check", s.AssumeCheck)
	return s
}

// Name implements core.Service.
func (s *Service) Name() string { return "iam" }

type handler func(s *Service, r *core.Request, f form) error

var handlers = map[string]handler{
	"CreateRole":                    (*Service).createRole,
	"GetRole":                       (*Service).getRole,
	"DeleteRole":                    (*Service).deleteRole,
	"ListRoles":                     (*Service).listRoles,
	"UpdateRole":                    (*Service).updateRole,
	"TagRole":                       (*Service).tagRole,
	"UntagRole":                     (*Service).untagRole,
	"ListRoleTags":                  (*Service).listRoleTags,
	"UpdateAssumeRolePolicy":        (*Service).updateAssumeRolePolicy,
	"AttachRolePolicy":              (*Service).attachRolePolicy,
	"DetachRolePolicy":              (*Service).detachRolePolicy,
	"ListAttachedRolePolicies":      (*Service).listAttachedRolePolicies,
	"PutRolePolicy":                 (*Service).putRolePolicy,
	"GetRolePolicy":                 (*Service).getRolePolicy,
	"DeleteRolePolicy":              (*Service).deleteRolePolicy,
	"ListRolePolicies":              (*Service).listRolePolicies,
	"GetPolicy":                     (*Service).getPolicy,
	"GetPolicyVersion":              (*Service).getPolicyVersion,
	"ListPolicies":                  (*Service).listPolicies,
	"ListEntitiesForPolicy":         (*Service).listEntitiesForPolicy,
	"CreateInstanceProfile":         (*Service).createInstanceProfile,
	"GetInstanceProfile":            (*Service).getInstanceProfile,
	"DeleteInstanceProfile":         (*Service).deleteInstanceProfile,
	"AddRoleToInstanceProfile":      (*Service).addRoleToInstanceProfile,
	"RemoveRoleFromInstanceProfile": (*Service).removeRoleFromInstanceProfile,
	"ListInstanceProfilesForRole":   (*Service).listInstanceProfilesForRole,
	"SimulatePrincipalPolicy":       (*Service).simulatePrincipalPolicy,
}

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) {
	values, err := r.Form()
	if err != nil {
		core.WriteQueryError(r, xmlns, err)
		return
	}
	f := form(values)
	r.Operation = f.get("Action")
	h, ok := handlers[r.Operation]
	if !ok {
		core.WriteQueryError(r, xmlns, core.Errorf("InvalidAction", "Could not find operation %s for version 2010-05-08", r.Operation))
		return
	}
	if err := h(s, r, f); err != nil {
		core.WriteQueryError(r, xmlns, err)
	}
}

// --- request parameters ---

// form wraps the Query parameters with IAM's list and map encodings.
type form url.Values

func (f form) get(name string) string {
	if v := url.Values(f)[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (f form) has(name string) bool {
	_, ok := url.Values(f)[name]
	return ok
}

// members reads Name.member.1, Name.member.2, ... up to the first gap.
func (f form) members(name string) []string {
	var out []string
	for i := 1; ; i++ {
		k := name + ".member." + strconv.Itoa(i)
		if !f.has(k) {
			return out
		}
		out = append(out, f.get(k))
	}
}

// tags reads Tags.member.N.Key / .Value.
func (f form) tags(name string) []Tag {
	var out []Tag
	for i := 1; ; i++ {
		p := name + ".member." + strconv.Itoa(i)
		if !f.has(p+".Key") && !f.has(p+".Value") {
			return out
		}
		out = append(out, Tag{Key: f.get(p + ".Key"), Value: f.get(p + ".Value")})
	}
}

// lowerFirst turns a parameter name into the member name validation
// messages use ("RoleName" -> "roleName").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func validation(format string, args ...any) *core.Error {
	return core.Errorf("ValidationError", format, args...)
}

// required returns a parameter or IAM's "must not be null" error.
func (f form) required(name string) (string, error) {
	if !f.has(name) {
		return "", validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return f.get(name), nil
}

var namePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)

// name validates a role, policy or profile name parameter.
func (f form) name(param string, max int) (string, error) {
	v, err := f.required(param)
	if err != nil {
		return "", err
	}
	if len(v) < 1 {
		return "", validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", v, lowerFirst(param))
	}
	if len(v) > max {
		return "", validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, lowerFirst(param), max)
	}
	if !namePattern.MatchString(v) {
		return "", validation(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`, v, lowerFirst(param))
	}
	return v, nil
}

var pathPattern = regexp.MustCompile(`^/([\x21-\x7E]+/)?$`)

func (f form) path(param string) (string, error) {
	if !f.has(param) {
		return "/", nil
	}
	p := f.get(param)
	if len(p) > 512 || !pathPattern.MatchString(p) {
		return "", validation("The specified value for %s is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.", lowerFirst(param))
	}
	return p, nil
}

// pathPrefix reads a PathPrefix filter, which, unlike a path, need not
// end with '/' ("/service-role" is valid).
func (f form) pathPrefix() (string, error) {
	if !f.has("PathPrefix") {
		return "/", nil
	}
	p := f.get("PathPrefix")
	if len(p) > 512 || !strings.HasPrefix(p, "/") {
		return "", validation("The specified value for pathPrefix is invalid. It must begin with / and contain only alphanumeric characters and/or / characters.")
	}
	return p, nil
}

// page holds a list request's Marker and MaxItems.
type page struct {
	marker string
	max    int
}

func (f form) page() (page, error) {
	p := page{max: 100}
	if f.has("MaxItems") {
		n, err := strconv.Atoi(f.get("MaxItems"))
		if err != nil || n < 1 || n > 1000 {
			return p, validation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", f.get("MaxItems"))
		}
		p.max = n
	}
	if f.has("Marker") {
		b, err := base64.RawURLEncoding.DecodeString(f.get("Marker"))
		if err != nil || len(b) == 0 {
			return p, validation("Invalid Marker")
		}
		p.marker = string(b)
	}
	return p, nil
}

// window returns the slice bounds of one page over sorted keys and the
// marker of the next page ("" when this is the last).
func (p page) window(keys []string) (start, end int, next string) {
	start = sort.SearchStrings(keys, p.marker)
	end = start + p.max
	if end >= len(keys) {
		return start, len(keys), ""
	}
	return start, end, base64.RawURLEncoding.EncodeToString([]byte(keys[end]))
}

// --- identifiers and encodings ---

func itoa(i int) string { return strconv.Itoa(i) }

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newID returns an IAM unique id: a 4-letter type prefix (AROA for roles,
// AIPA for instance profiles) and 17 characters, 21 in all.
func newID(prefix string) string {
	raw := core.RandomHex(17)
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < 17; i++ {
		v, _ := strconv.ParseUint(raw[2*i:2*i+2], 16, 8)
		b.WriteByte(idAlphabet[v%32])
	}
	return b.String()
}

// encodeDocument URL-encodes a policy document as IAM returns it: RFC 3986
// escapes, spaces as %20 (the AWS CLI decodes with unquote, not unquote_plus).
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// roleKey and profileKey key records by account and lower-cased name: IAM
// names are unique without regard to case.
func roleKey(account, name string) string {
	return core.Scope{Account: account}.Global().Key(strings.ToLower(name))
}

func accountPrefix(account string) string {
	return core.Scope{Account: account}.Global().Prefix()
}

func noSuchRole(name string) *core.Error {
	return core.ErrorStatus(404, "NoSuchEntity", "The role with name %s cannot be found.", name)
}

// cloneRole copies a role so that changes made before a failing check do
// not leak into the stored value.
func cloneRole(r Role) Role {
	r.Tags = append([]Tag(nil), r.Tags...)
	r.Attached = append([]string(nil), r.Attached...)
	if r.Inline != nil {
		m := make(map[string]string, len(r.Inline))
		for k, v := range r.Inline {
			m[k] = v
		}
		r.Inline = m
	}
	return r
}

var (
	tagKeyPattern   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// validateTags applies IAM's tag limits.
func validateTags(tags []Tag) error {
	if len(tags) > 50 {
		return validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if len(t.Key) < 1 || len(t.Key) > 128 {
			return validation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", t.Key)
		}
		if !tagKeyPattern.MatchString(t.Key) {
			return validation(`1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`, t.Key)
		}
		if !tagValuePattern.MatchString(t.Value) {
			return validation(`1 validation error detected: Value '%s' at 'tags.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`, t.Value)
		}
		if len(t.Value) > 256 {
			return validation("1 validation error detected: Value '%s' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", t.Value)
		}
		lk := strings.ToLower(t.Key)
		if seen[lk] {
			return core.Errorf("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
	}
	return nil
}

// mergeTags adds or replaces tags by key (keys compare without case).
func mergeTags(have, add []Tag) []Tag {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}
