package iam

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/sandbox/internal/core"
)

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type roleLastUsedXML struct{}

type roleXML struct {
	Path                     string           `xml:"Path"`
	RoleName                 string           `xml:"RoleName"`
	RoleID                   string           `xml:"RoleId"`
	Arn                      string           `xml:"Arn"`
	CreateDate               string           `xml:"CreateDate"`
	AssumeRolePolicyDocument string           `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string           `xml:"Description,omitempty"`
	MaxSessionDuration       int              `xml:"MaxSessionDuration,omitempty"`
	Tags                     *members[tagXML] `xml:"Tags,omitempty"`
	RoleLastUsed             *roleLastUsedXML `xml:"RoleLastUsed,omitempty"`
}

// optionalTags is nil for no tags: IAM leaves the element out then.
func optionalTags(tags []Tag) *members[tagXML] {
	if len(tags) == 0 {
		return nil
	}
	return &members[tagXML]{tagsXML(tags)}
}

func tagsXML(tags []Tag) []tagXML {
	out := make([]tagXML, 0, len(tags))
	for _, t := range tags {
		out = append(out, tagXML(t))
	}
	return out
}

// toXML renders a role. ListRoles leaves out tags and last use, as IAM does.
func (r Role) toXML(full bool) roleXML {
	x := roleXML{
		Path: r.Path, RoleName: r.Name, RoleID: r.RoleID, Arn: r.Arn, CreateDate: isoTime(r.Created),
		AssumeRolePolicyDocument: encodeDocument(r.TrustPolicy), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration,
	}
	if full {
		x.Tags = optionalTags(r.Tags)
		x.RoleLastUsed = &roleLastUsedXML{}
	}
	return x
}

// malformed turns a package policy error into IAM's MalformedPolicyDocument.
func malformed(err error) error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return core.Errorf("MalformedPolicyDocument", "%s", pe.Msg)
	}
	return core.Errorf("MalformedPolicyDocument", "%s", err.Error())
}

// Trust policies are limited to 2,048 characters without whitespace (the
// default quota, raisable to 4,096):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
const trustPolicyLimit = 2048

func parseTrustPolicy(doc string) (string, error) {
	if nonSpaceLen(doc) > trustPolicyLimit {
		return "", core.ErrorStatus(409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", trustPolicyLimit)
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return "", malformed(err)
	}
	if err := d.ValidateTrust(); err != nil {
		return "", malformed(err)
	}
	if len(d.Compact()) > trustPolicyLimit {
		return "", core.ErrorStatus(409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", trustPolicyLimit)
	}
	return d.JSON, nil
}

func (s *Service) createRole(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	path, err := f.path("Path")
	if err != nil {
		return err
	}
	rawTrust, err := f.required("AssumeRolePolicyDocument")
	if err != nil {
		return err
	}
	desc := f.get("Description")
	if len(desc) > 1000 {
		return validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	maxSession := 3600
	if f.has("MaxSessionDuration") {
		n, err := strconv.Atoi(f.get("MaxSessionDuration"))
		if err != nil || n < 3600 || n > 43200 {
			return validation("1 validation error detected: Value '%s' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", f.get("MaxSessionDuration"))
		}
		maxSession = n
	}
	tags := f.tags("Tags")
	if err := validateTags(tags); err != nil {
		return err
	}
	trust, err := parseTrustPolicy(rawTrust)
	if err != nil {
		return err
	}
	role := Role{
		Account: r.Scope.Account, Name: name, Path: path, RoleID: newID("AROA"),
		Arn:     "arn:aws:iam::" + r.Scope.Account + ":role" + path + name,
		Created: r.Now().UTC().Truncate(time.Second), TrustPolicy: trust, Description: desc,
		MaxSessionDuration: maxSession, Tags: tags,
	}
	s.trustChanged(r.Now(), &role)
	err = s.c.Store.Update(func(tx *core.Tx) error {
		key := roleKey(r.Scope.Account, name)
		if s.roles.Has(tx, key) {
			return core.ErrorStatus(409, "EntityAlreadyExists", "Role with name %s already exists.", name)
		}
		s.roles.Put(tx, key, role)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, struct {
		Role roleXML `xml:"Role"`
	}{role.toXML(true)})
	return nil
}

// role reads a role of the caller's account by name.
func (s *Service) role(tx *core.Tx, account, name string) (Role, error) {
	role, ok := s.roles.Get(tx, roleKey(account, name))
	if !ok {
		return Role{}, noSuchRole(name)
	}
	return role, nil
}

func (s *Service) getRole(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
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
	core.WriteQuery(r, xmlns, struct {
		Role roleXML `xml:"Role"`
	}{role.toXML(true)})
	return nil
}

func (s *Service) deleteRole(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		if len(role.Attached) > 0 {
			return core.ErrorStatus(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
		}
		if len(role.Inline) > 0 {
			return core.ErrorStatus(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
		}
		if len(s.profilesOf(tx, role)) > 0 {
			return core.ErrorStatus(409, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
		}
		s.roles.Delete(tx, roleKey(r.Scope.Account, name))
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) listRoles(r *core.Request, f form) error {
	prefix, err := f.pathPrefix()
	if err != nil {
		return err
	}
	pg, err := f.page()
	if err != nil {
		return err
	}
	var out struct {
		Roles       members[roleXML] `xml:"Roles"`
		IsTruncated bool             `xml:"IsTruncated"`
		Marker      string           `xml:"Marker,omitempty"`
	}
	_ = s.c.Store.View(func(tx *core.Tx) error {
		var keys []string
		byKey := map[string]Role{}
		s.roles.Scan(tx, accountPrefix(r.Scope.Account), func(k string, role Role) bool {
			if strings.HasPrefix(role.Path, prefix) {
				keys = append(keys, k)
				byKey[k] = role
			}
			return true
		})
		start, end, next := pg.window(keys)
		for _, k := range keys[start:end] {
			out.Roles.Member = append(out.Roles.Member, byKey[k].toXML(false))
		}
		out.Marker, out.IsTruncated = next, next != ""
		return nil
	})
	core.WriteQuery(r, xmlns, out)
	return nil
}

func (s *Service) updateRole(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	desc, setDesc := f.get("Description"), f.has("Description")
	if len(desc) > 1000 {
		return validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	maxSession := 0
	if f.has("MaxSessionDuration") {
		n, err := strconv.Atoi(f.get("MaxSessionDuration"))
		if err != nil || n < 3600 || n > 43200 {
			return validation("1 validation error detected: Value '%s' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", f.get("MaxSessionDuration"))
		}
		maxSession = n
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		role = cloneRole(role)
		if setDesc {
			role.Description = desc
		}
		if maxSession > 0 {
			role.MaxSessionDuration = maxSession
		}
		s.roles.Put(tx, roleKey(r.Scope.Account, name), role)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, struct{}{})
	return nil
}

func (s *Service) updateAssumeRolePolicy(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	raw, err := f.required("PolicyDocument")
	if err != nil {
		return err
	}
	trust, err := parseTrustPolicy(raw)
	if err != nil {
		return err
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		role = cloneRole(role)
		role.TrustPolicy = trust
		s.trustChanged(r.Now(), &role)
		s.roles.Put(tx, roleKey(r.Scope.Account, name), role)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) tagRole(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	tags := f.tags("Tags")
	if len(tags) == 0 {
		return validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		role = cloneRole(role)
		role.Tags = mergeTags(role.Tags, tags)
		if len(role.Tags) > 50 {
			return core.ErrorStatus(409, "LimitExceeded", "The number of tags has reached the maximum limit.")
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

func (s *Service) untagRole(r *core.Request, f form) error {
	name, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	keys := f.members("TagKeys")
	if len(keys) == 0 {
		return validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		role = cloneRole(role)
		kept := role.Tags[:0]
		for _, t := range role.Tags {
			drop := false
			for _, k := range keys {
				if strings.EqualFold(k, t.Key) {
					drop = true
				}
			}
			if !drop {
				kept = append(kept, t)
			}
		}
		role.Tags = kept
		s.roles.Put(tx, roleKey(r.Scope.Account, name), role)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) listRoleTags(r *core.Request, f form) error {
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
	// Tags page in the order they are stored.
	start, end, next := pg.window(indexKeys(len(role.Tags)))
	core.WriteQuery(r, xmlns, struct {
		Tags        members[tagXML] `xml:"Tags"`
		IsTruncated bool            `xml:"IsTruncated"`
		Marker      string          `xml:"Marker,omitempty"`
	}{members[tagXML]{tagsXML(role.Tags[start:end])}, next != "", next})
	return nil
}
