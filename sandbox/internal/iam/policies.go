package iam

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/sandbox/internal/core"
)

// managed_policies.json holds the AWS-managed policies the lab attaches,
// with the documents AWS publishes and the date they were taken.
//
//go:embed managed_policies.json
var managedPoliciesJSON []byte

// ManagedPolicy is an AWS-managed policy (arn:aws:iam::aws:policy/...).
type ManagedPolicy struct {
	PolicyName       string          `json:"PolicyName"`
	Path             string          `json:"Path"`
	PolicyID         string          `json:"PolicyId"`
	Description      string          `json:"Description"`
	CreateDate       string          `json:"CreateDate"`
	UpdateDate       string          `json:"UpdateDate"`
	DefaultVersionID string          `json:"DefaultVersionId"`
	Document         json.RawMessage `json:"Document"`
	// Arn is derived from Path and PolicyName.
	Arn string `json:"-"`
	// SyntheticID is set when AWS's real PolicyId was not known and one
	// was derived from the ARN.
	SyntheticID bool `json:"-"`
	// Parsed is Document, parsed.
	Parsed *policy.Document `json:"-"`
}

var (
	managedPolicies []*ManagedPolicy
	managedByArn    = map[string]*ManagedPolicy{}
	// ManagedPoliciesRetrieved is the date the documents were taken from
	// AWS's published reference.
	ManagedPoliciesRetrieved string
)

func init() {
	var file struct {
		Retrieved string           `json:"retrieved"`
		Policies  []*ManagedPolicy `json:"policies"`
	}
	if err := json.Unmarshal(managedPoliciesJSON, &file); err != nil {
		panic("iam: managed_policies.json: " + err.Error())
	}
	ManagedPoliciesRetrieved = file.Retrieved
	for _, p := range file.Policies {
		p.Arn = "arn:aws:iam::aws:policy" + p.Path + p.PolicyName
		if p.PolicyID == "" {
			p.PolicyID, p.SyntheticID = policyIDFor(p.Arn), true
		}
		p.Parsed = policy.MustParse(string(p.Document))
		managedPolicies = append(managedPolicies, p)
		managedByArn[p.Arn] = p
	}
	sort.Slice(managedPolicies, func(i, j int) bool { return managedPolicies[i].PolicyName < managedPolicies[j].PolicyName })
}

// policyIDFor derives a stable ANPA... id from an ARN.
func policyIDFor(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	b := []byte("ANPA")
	for i := 0; i < 17; i++ {
		b = append(b, idAlphabet[sum[i]%32])
	}
	return string(b)
}

// ManagedPolicies returns the AWS-managed policies the sandbox knows, by name.
func ManagedPolicies() []*ManagedPolicy { return managedPolicies }

// validPolicyArn checks the shape arn:aws:iam::<account|aws>:policy/...
func validPolicyArn(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] == "aws" && parts[2] == "iam" && parts[3] == "" &&
		(parts[4] == "aws" || len(parts[4]) == 12) && strings.HasPrefix(parts[5], "policy/") && len(parts[5]) > len("policy/")
}

func (s *Service) lookupPolicy(arn string) (*ManagedPolicy, error) {
	if !validPolicyArn(arn) {
		return nil, core.Errorf("InvalidInput", "ARN %s is not valid.", arn)
	}
	p, ok := managedByArn[arn]
	if !ok {
		return nil, core.ErrorStatus(404, "NoSuchEntity", "Policy %s was not found.", arn)
	}
	return p, nil
}

func (s *Service) attachmentCount(tx *core.Tx, account, arn string) int {
	n := 0
	s.roles.Scan(tx, accountPrefix(account), func(_ string, r Role) bool {
		for _, a := range r.Attached {
			if a == arn {
				n++
			}
		}
		return true
	})
	return n
}

// Managed policies attached to a role: IAM's default quota.
const attachedPerRoleLimit = 10

func (s *Service) attachRolePolicy(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	arn, err := f.required("PolicyArn")
	if err != nil {
		return err
	}
	if !validPolicyArn(arn) {
		return core.Errorf("InvalidInput", "ARN %s is not valid.", arn)
	}
	if _, ok := managedByArn[arn]; !ok {
		return core.ErrorStatus(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		for _, a := range role.Attached {
			if a == arn {
				return nil // attaching twice is a no-op on AWS
			}
		}
		if len(role.Attached) >= attachedPerRoleLimit {
			return core.ErrorStatus(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerRole: %d", attachedPerRoleLimit)
		}
		role = s.policyChange(r.Now(), role)
		role.Attached = append(role.Attached, arn)
		s.roles.Put(tx, roleKey(r.Scope.Account, name), role)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) detachRolePolicy(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	arn, err := f.required("PolicyArn")
	if err != nil {
		return err
	}
	if !validPolicyArn(arn) {
		return core.Errorf("InvalidInput", "ARN %s is not valid.", arn)
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		role = s.policyChange(r.Now(), role)
		for i, a := range role.Attached {
			if a == arn {
				role.Attached = append(role.Attached[:i], role.Attached[i+1:]...)
				s.roles.Put(tx, roleKey(r.Scope.Account, name), role)
				return nil
			}
		}
		return core.ErrorStatus(404, "NoSuchEntity", "Policy %s was not found.", arn)
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

// indexKeys gives list items that keep their stored order sortable keys
// for paging.
func indexKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%08d", i)
	}
	return keys
}

func (s *Service) listAttachedRolePolicies(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	prefix, err := f.pathPrefix()
	if err != nil {
		return err
	}
	pg, err := f.page()
	if err != nil {
		return err
	}
	var role Role
	if err := s.c.Store.View(func(tx *core.Tx) error {
		role, err = s.role(tx, r.Scope.Account, name)
		return err
	}); err != nil {
		return err
	}
	var items []attachedPolicyXML
	for _, arn := range role.Attached {
		p := managedByArn[arn]
		if p == nil || !strings.HasPrefix(p.Path, prefix) {
			continue
		}
		items = append(items, attachedPolicyXML{PolicyName: p.PolicyName, PolicyArn: arn})
	}
	start, end, next := pg.window(indexKeys(len(items)))
	core.WriteQuery(r, xmlns, struct {
		AttachedPolicies members[attachedPolicyXML] `xml:"AttachedPolicies"`
		IsTruncated      bool                       `xml:"IsTruncated"`
		Marker           string                     `xml:"Marker,omitempty"`
	}{members[attachedPolicyXML]{items[start:end]}, next != "", next})
	return nil
}

// Inline policies of one role may add up to 10,240 characters, whitespace
// not counted: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
const inlinePerRoleLimit = 10240

func (s *Service) putRolePolicy(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	policyName, err := f.name("PolicyName", 128)
	if err != nil {
		return err
	}
	raw, err := f.required("PolicyDocument")
	if err != nil {
		return err
	}
	// The quota is checked before the document is parsed: a 5 MB document
	// once took two minutes to be refused.
	if nonSpaceLen(raw) > inlinePerRoleLimit {
		return core.ErrorStatus(409, "LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", inlinePerRoleLimit, name)
	}
	doc, err := policy.Parse(raw)
	if err != nil {
		return malformed(err)
	}
	if err := doc.ValidateIdentity(); err != nil {
		return malformed(err)
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		role = s.policyChange(r.Now(), role)
		if role.Inline == nil {
			role.Inline = map[string]string{}
		}
		role.Inline[policyName] = doc.JSON
		size := 0
		for _, d := range role.Inline {
			size += compactLen(d)
		}
		if size > inlinePerRoleLimit {
			return core.ErrorStatus(409, "LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", inlinePerRoleLimit, role.Name)
		}
		s.roles.Put(tx, roleKey(r.Scope.Account, name), role)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

// compactLen is a document's length without insignificant whitespace,
// which is what IAM's size quotas count.
// nonSpaceLen counts the characters of doc that are not JSON whitespace. It
// is at most the compact length (whitespace inside strings is not counted
// here but counts there), so a document over a quota by this measure is over
// it by IAM's, and the count needs no parse.
func nonSpaceLen(doc string) int {
	// IAM also takes the URL-encoded form GetRolePolicy returns.
	if t := strings.TrimSpace(doc); !strings.HasPrefix(t, "{") && strings.Contains(t, "%") {
		if dec, err := url.PathUnescape(t); err == nil {
			doc = dec
		}
	}
	n := 0
	for _, r := range doc {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

func compactLen(doc string) int {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		return len(doc)
	}
	return buf.Len()
}

func noSuchRolePolicy(name string) *core.Error {
	return core.ErrorStatus(404, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
}

func (s *Service) getRolePolicy(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	policyName, err := f.name("PolicyName", 128)
	if err != nil {
		return err
	}
	var role Role
	if err := s.c.Store.View(func(tx *core.Tx) error {
		role, err = s.role(tx, r.Scope.Account, name)
		return err
	}); err != nil {
		return err
	}
	doc, ok := role.Inline[policyName]
	if !ok {
		return noSuchRolePolicy(policyName)
	}
	core.WriteQuery(r, xmlns, struct {
		RoleName       string `xml:"RoleName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{role.Name, policyName, encodeDocument(doc)})
	return nil
}

func (s *Service) deleteRolePolicy(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	policyName, err := f.name("PolicyName", 128)
	if err != nil {
		return err
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		if _, ok := role.Inline[policyName]; !ok {
			return noSuchRolePolicy(policyName)
		}
		role = s.policyChange(r.Now(), role)
		delete(role.Inline, policyName)
		s.roles.Put(tx, roleKey(r.Scope.Account, name), role)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) listRolePolicies(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	pg, err := f.page()
	if err != nil {
		return err
	}
	var role Role
	if err := s.c.Store.View(func(tx *core.Tx) error {
		role, err = s.role(tx, r.Scope.Account, name)
		return err
	}); err != nil {
		return err
	}
	names := make([]string, 0, len(role.Inline))
	for n := range role.Inline {
		names = append(names, n)
	}
	sort.Strings(names)
	start, end, next := pg.window(names)
	core.WriteQuery(r, xmlns, struct {
		PolicyNames members[string] `xml:"PolicyNames"`
		IsTruncated bool            `xml:"IsTruncated"`
		Marker      string          `xml:"Marker,omitempty"`
	}{members[string]{names[start:end]}, next != "", next})
	return nil
}

type policyXML struct {
	PolicyName                    string `xml:"PolicyName"`
	PolicyID                      string `xml:"PolicyId"`
	Arn                           string `xml:"Arn"`
	Path                          string `xml:"Path"`
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int    `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int    `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool   `xml:"IsAttachable"`
	Description                   string `xml:"Description,omitempty"`
	CreateDate                    string `xml:"CreateDate"`
	UpdateDate                    string `xml:"UpdateDate"`
}

func (p *ManagedPolicy) toXML(attachments int, withDescription bool) policyXML {
	x := policyXML{
		PolicyName: p.PolicyName, PolicyID: p.PolicyID, Arn: p.Arn, Path: p.Path,
		DefaultVersionID: p.DefaultVersionID, AttachmentCount: attachments, IsAttachable: true,
		CreateDate: p.CreateDate, UpdateDate: p.UpdateDate,
	}
	if withDescription {
		x.Description = p.Description
	}
	return x
}

func (s *Service) getPolicy(r *core.Request, f form) error {
	arn, err := f.required("PolicyArn")
	if err != nil {
		return err
	}
	p, err := s.lookupPolicy(arn)
	if err != nil {
		return err
	}
	var n int
	_ = s.c.Store.View(func(tx *core.Tx) error {
		n = s.attachmentCount(tx, r.Scope.Account, arn)
		return nil
	})
	core.WriteQuery(r, xmlns, struct {
		Policy policyXML `xml:"Policy"`
	}{p.toXML(n, true)})
	return nil
}

func (s *Service) getPolicyVersion(r *core.Request, f form) error {
	arn, err := f.required("PolicyArn")
	if err != nil {
		return err
	}
	version, err := f.required("VersionId")
	if err != nil {
		return err
	}
	p, err := s.lookupPolicy(arn)
	if err != nil {
		return err
	}
	// Only the default version is kept: it is what attached roles get.
	if version != p.DefaultVersionID {
		return core.ErrorStatus(404, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", arn, version)
	}
	type versionXML struct {
		Document         string `xml:"Document"`
		VersionID        string `xml:"VersionId"`
		IsDefaultVersion bool   `xml:"IsDefaultVersion"`
		CreateDate       string `xml:"CreateDate"`
	}
	core.WriteQuery(r, xmlns, struct {
		PolicyVersion versionXML `xml:"PolicyVersion"`
	}{versionXML{encodeDocument(string(p.Document)), p.DefaultVersionID, true, p.UpdateDate}})
	return nil
}

func (s *Service) listPolicies(r *core.Request, f form) error {
	scope := "All"
	if f.has("Scope") {
		scope = f.get("Scope")
	}
	if scope != "All" && scope != "AWS" && scope != "Local" {
		return validation("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	usage := f.get("PolicyUsageFilter")
	if usage != "" && usage != "PermissionsPolicy" && usage != "PermissionsBoundary" {
		return validation("1 validation error detected: Value '%s' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]", usage)
	}
	onlyAttached := strings.EqualFold(f.get("OnlyAttached"), "true")
	prefix, err := f.pathPrefix()
	if err != nil {
		return err
	}
	pg, err := f.page()
	if err != nil {
		return err
	}
	var items []policyXML
	var keys []string
	_ = s.c.Store.View(func(tx *core.Tx) error {
		if scope == "Local" || usage == "PermissionsBoundary" {
			return nil // no customer-managed policies, no boundaries
		}
		for _, p := range managedPolicies {
			n := s.attachmentCount(tx, r.Scope.Account, p.Arn)
			if (onlyAttached && n == 0) || !strings.HasPrefix(p.Path, prefix) {
				continue
			}
			items = append(items, p.toXML(n, false))
			keys = append(keys, p.PolicyName)
		}
		return nil
	})
	start, end, next := pg.window(keys)
	core.WriteQuery(r, xmlns, struct {
		Policies    members[policyXML] `xml:"Policies"`
		IsTruncated bool               `xml:"IsTruncated"`
		Marker      string             `xml:"Marker,omitempty"`
	}{members[policyXML]{items[start:end]}, next != "", next})
	return nil
}

func (s *Service) listEntitiesForPolicy(r *core.Request, f form) error {
	arn, err := f.required("PolicyArn")
	if err != nil {
		return err
	}
	if _, err := s.lookupPolicy(arn); err != nil {
		return err
	}
	filter := f.get("EntityFilter")
	switch filter {
	case "", "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
	default:
		return validation("1 validation error detected: Value '%s' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]", filter)
	}
	pg, err := f.page()
	if err != nil {
		return err
	}
	type policyRoleXML struct {
		RoleName string `xml:"RoleName"`
		RoleID   string `xml:"RoleId"`
	}
	var roles []policyRoleXML
	var keys []string
	if filter == "" || filter == "Role" || filter == "LocalManagedPolicy" || filter == "AWSManagedPolicy" {
		_ = s.c.Store.View(func(tx *core.Tx) error {
			s.roles.Scan(tx, accountPrefix(r.Scope.Account), func(k string, role Role) bool {
				for _, a := range role.Attached {
					if a == arn {
						roles = append(roles, policyRoleXML{role.Name, role.RoleID})
						keys = append(keys, k)
					}
				}
				return true
			})
			return nil
		})
	}
	start, end, next := pg.window(keys)
	core.WriteQuery(r, xmlns, struct {
		PolicyGroups members[struct{}]      `xml:"PolicyGroups"`
		PolicyUsers  members[struct{}]      `xml:"PolicyUsers"`
		PolicyRoles  members[policyRoleXML] `xml:"PolicyRoles"`
		IsTruncated  bool                   `xml:"IsTruncated"`
		Marker       string                 `xml:"Marker,omitempty"`
	}{members[struct{}]{}, members[struct{}]{}, members[policyRoleXML]{roles[start:end]}, next != "", next})
	return nil
}

// RoleDocument is one identity policy of a role, with the id and type
// SimulatePrincipalPolicy reports for it.
type RoleDocument struct {
	// ID is the policy name (inline or AWS-managed).
	ID string
	// Type is "role" for inline policies, "aws-managed" for managed ones.
	Type string
	// Arn is the managed policy's ARN, "" for inline policies.
	Arn string
	Doc *policy.Document
}

// roleSnapshot copies, inside a transaction, what evaluating a role's
// identity policies needs, so that parsing and evaluation run after it
// (the stored role shares its slices and map with later transactions).
func roleSnapshot(role Role) Role {
	return Role{Arn: role.Arn, Attached: slices.Clone(role.Attached), Inline: maps.Clone(role.Inline)}
}

// roleDocuments returns a role's attached managed policies (in attach
// order) then its inline policies (by name), parsed. Given a roleSnapshot
// it runs outside any transaction.
func roleDocuments(role Role) []RoleDocument {
	var out []RoleDocument
	for _, arn := range role.Attached {
		if p := managedByArn[arn]; p != nil {
			out = append(out, RoleDocument{ID: p.PolicyName, Type: "aws-managed", Arn: arn, Doc: p.Parsed})
		}
	}
	names := make([]string, 0, len(role.Inline))
	for n := range role.Inline {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d, err := parseCached(role.Inline[n])
		if err != nil {
			continue // stored documents were validated on the way in
		}
		out = append(out, RoleDocument{ID: n, Type: "role", Doc: d})
	}
	return out
}

// parsed caches inline documents by their text: a role session's every
// call evaluates its role's policies, and a parsed Document is only read.
// Past maxParsed the cache starts over.
var (
	parsed      sync.Map // document text -> *policy.Document
	parsedCount atomic.Int64
)

const maxParsed = 4096

func parseCached(doc string) (*policy.Document, error) {
	if d, ok := parsed.Load(doc); ok {
		return d.(*policy.Document), nil
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return nil, err
	}
	if parsedCount.Add(1) > maxParsed {
		parsed.Clear()
		parsedCount.Store(1)
	}
	parsed.Store(doc, d)
	return d, nil
}
