package iam

import (
	"time"
)

// IAM is eventually consistent: "changes that I make are not always
// immediately visible" (IAM User Guide, troubleshoot_general). The IAM API
// shows a change at once; what lags is its effect elsewhere. Two effects
// the lab meets are modelled, with the delays of core.Timing:
//
//   - a new role (or a new trust policy) is not yet assumable by Lambda,
//     which answers "The role defined for the function cannot be assumed
//     by Lambda." until Role.AssumableAt;
//   - a policy change is not yet enforced: until Role.PoliciesAt the
//     permissions the other services evaluate (an event source mapping's
//     check of its execution role, ...) are Role.PoliciesBefore.

// RolePolicies is a role's permissions at one moment.
type RolePolicies struct {
	Attached []string          `json:"attached,omitempty"`
	Inline   map[string]string `json:"inline,omitempty"`
}

// trustChanged starts the window in which Lambda cannot assume role yet.
func (s *Service) trustChanged(now time.Time, role *Role) {
	role.AssumableAt = time.Time{}
	if d := s.c.Timing.RoleAssumable; d > 0 {
		role.AssumableAt = now.Add(d)
	}
}

// policyChange returns a copy of role ready for a change of its
// permissions, remembering the ones still enforced while it propagates.
// Changes inside one window keep the oldest enforced set and push the end
// of the window out, as a burst of edits on AWS settles after the last.
func (s *Service) policyChange(now time.Time, role Role) Role {
	enforcedBefore := role.PoliciesBefore != nil && now.Before(role.PoliciesAt)
	role = cloneRole(role)
	d := s.c.Timing.IAMPolicy
	if d <= 0 {
		role.PoliciesBefore, role.PoliciesAt = nil, time.Time{}
		return role
	}
	if !enforcedBefore {
		before := cloneRole(role)
		role.PoliciesBefore = &RolePolicies{Attached: before.Attached, Inline: before.Inline}
	}
	role.PoliciesAt = now.Add(d)
	return role
}

// enforced is the role as the services that enforce its permissions see it
// at now.
func enforced(role Role, now time.Time) Role {
	if role.PoliciesBefore != nil && now.Before(role.PoliciesAt) {
		role.Attached, role.Inline = role.PoliciesBefore.Attached, role.PoliciesBefore.Inline
	}
	return role
}

// assumableAt is when Lambda may assume the role (zero: already).
func assumableAt(role Role) time.Time { return role.AssumableAt }
