package iam

import (
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

type instanceProfileXML struct {
	Path                string           `xml:"Path"`
	InstanceProfileName string           `xml:"InstanceProfileName"`
	InstanceProfileID   string           `xml:"InstanceProfileId"`
	Arn                 string           `xml:"Arn"`
	CreateDate          string           `xml:"CreateDate"`
	Roles               members[roleXML] `xml:"Roles"`
	Tags                *members[tagXML] `xml:"Tags,omitempty"`
}

func noSuchProfile(name string) *core.Error {
	return core.ErrorStatus(404, "NoSuchEntity", "Instance Profile %s cannot be found.", name)
}

func (s *Service) profileXML(tx *core.Tx, p InstanceProfile) instanceProfileXML {
	x := instanceProfileXML{
		Path: p.Path, InstanceProfileName: p.Name, InstanceProfileID: p.ID, Arn: p.Arn,
		CreateDate: isoTime(p.Created), Tags: optionalTags(p.Tags),
	}
	for _, name := range p.Roles {
		if role, ok := s.roles.Get(tx, roleKey(p.Account, name)); ok {
			x.Roles.Member = append(x.Roles.Member, role.toXML(false))
		}
	}
	return x
}

// profilesOf lists the instance profiles that hold a role.
func (s *Service) profilesOf(tx *core.Tx, role Role) []InstanceProfile {
	var out []InstanceProfile
	s.profiles.Scan(tx, accountPrefix(role.Account), func(_ string, p InstanceProfile) bool {
		for _, n := range p.Roles {
			if strings.EqualFold(n, role.Name) {
				out = append(out, p)
			}
		}
		return true
	})
	return out
}

func (s *Service) profile(tx *core.Tx, account, name string) (InstanceProfile, error) {
	p, ok := s.profiles.Get(tx, roleKey(account, name))
	if !ok {
		return InstanceProfile{}, noSuchProfile(name)
	}
	return p, nil
}

func (s *Service) createInstanceProfile(r *core.Request, f form) error {
	name, err := f.name("InstanceProfileName", 128)
	if err != nil {
		return err
	}
	path, err := f.path("Path")
	if err != nil {
		return err
	}
	tags := f.tags("Tags")
	if err := validateTags(tags); err != nil {
		return err
	}
	p := InstanceProfile{
		Account: r.Scope.Account, Name: name, Path: path, ID: newID("AIPA"),
		Arn:     "arn:aws:iam::" + r.Scope.Account + ":instance-profile" + path + name,
		Created: r.Now().UTC().Truncate(time.Second), Tags: tags,
	}
	var out instanceProfileXML
	err = s.c.Store.Update(func(tx *core.Tx) error {
		key := roleKey(r.Scope.Account, name)
		if s.profiles.Has(tx, key) {
			return core.ErrorStatus(409, "EntityAlreadyExists", "Instance Profile %s already exists.", name)
		}
		s.profiles.Put(tx, key, p)
		out = s.profileXML(tx, p)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, struct {
		InstanceProfile instanceProfileXML `xml:"InstanceProfile"`
	}{out})
	return nil
}

func (s *Service) getInstanceProfile(r *core.Request, f form) error {
	name, err := f.name("InstanceProfileName", 128)
	if err != nil {
		return err
	}
	var out instanceProfileXML
	if err := s.c.Store.View(func(tx *core.Tx) error {
		p, err := s.profile(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		out = s.profileXML(tx, p)
		return nil
	}); err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, struct {
		InstanceProfile instanceProfileXML `xml:"InstanceProfile"`
	}{out})
	return nil
}

func (s *Service) deleteInstanceProfile(r *core.Request, f form) error {
	name, err := f.name("InstanceProfileName", 128)
	if err != nil {
		return err
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		p, err := s.profile(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return core.ErrorStatus(409, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
		}
		s.profiles.Delete(tx, roleKey(r.Scope.Account, name))
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) addRoleToInstanceProfile(r *core.Request, f form) error {
	name, err := f.name("InstanceProfileName", 128)
	if err != nil {
		return err
	}
	roleName, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		p, err := s.profile(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		role, err := s.role(tx, r.Scope.Account, roleName)
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			// An instance profile holds one role.
			return core.ErrorStatus(409, "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		p.Roles = []string{role.Name}
		s.profiles.Put(tx, roleKey(r.Scope.Account, name), p)
		return nil
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) removeRoleFromInstanceProfile(r *core.Request, f form) error {
	name, err := f.name("InstanceProfileName", 128)
	if err != nil {
		return err
	}
	roleName, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	err = s.c.Store.Update(func(tx *core.Tx) error {
		p, err := s.profile(tx, r.Scope.Account, name)
		if err != nil {
			return err
		}
		if _, err := s.role(tx, r.Scope.Account, roleName); err != nil {
			return err
		}
		for i, n := range p.Roles {
			if strings.EqualFold(n, roleName) {
				p.Roles = append(append([]string(nil), p.Roles[:i]...), p.Roles[i+1:]...)
				s.profiles.Put(tx, roleKey(r.Scope.Account, name), p)
				return nil
			}
		}
		return core.ErrorStatus(404, "NoSuchEntity", "The role with name %s cannot be found in instance profile %s.", roleName, name)
	})
	if err != nil {
		return err
	}
	core.WriteQuery(r, xmlns, nil)
	return nil
}

func (s *Service) listInstanceProfilesForRole(r *core.Request, f form) error {
	roleName, err := f.name("RoleName", 64)
	if err != nil {
		return err
	}
	pg, err := f.page()
	if err != nil {
		return err
	}
	var items []instanceProfileXML
	var keys []string
	if err := s.c.Store.View(func(tx *core.Tx) error {
		role, err := s.role(tx, r.Scope.Account, roleName)
		if err != nil {
			return err
		}
		for _, p := range s.profilesOf(tx, role) {
			items = append(items, s.profileXML(tx, p))
			keys = append(keys, strings.ToLower(p.Name))
		}
		return nil
	}); err != nil {
		return err
	}
	start, end, next := pg.window(keys)
	core.WriteQuery(r, xmlns, struct {
		InstanceProfiles members[instanceProfileXML] `xml:"InstanceProfiles"`
		IsTruncated      bool                        `xml:"IsTruncated"`
		Marker           string                      `xml:"Marker,omitempty"`
	}{members[instanceProfileXML]{items[start:end]}, next != "", next})
	return nil
}
