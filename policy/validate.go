package policy

import (
	"fmt"
	"strings"
)

// Messages IAM returns (as MalformedPolicyDocument) for documents that parse
// but do not fit where they are used.
const (
	MsgPrincipalInIdentity = "Policy document should not specify a principal."
	MsgNoActions           = "Policy statement must contain actions."
	MsgNoResources         = "Policy statement must contain resources."
	MsgResourceInTrust     = "Has prohibited field Resource"
	MsgNoPrincipalInTrust  = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"
)

// ValidateIdentity checks a document meant to be attached to a role, user
// or group (PutRolePolicy, CreatePolicy).
func (d *Document) ValidateIdentity() error {
	for _, st := range d.Statements {
		switch {
		case st.Principal != nil || st.NotPrincipal != nil:
			return &Error{Msg: MsgPrincipalInIdentity, Detail: fmt.Sprintf("statement %d names a principal", st.Index)}
		case !st.HasAction && !st.HasNotAction:
			return &Error{Msg: MsgNoActions, Detail: fmt.Sprintf("statement %d", st.Index)}
		case !st.HasResource && !st.HasNotResource:
			return &Error{Msg: MsgNoResources, Detail: fmt.Sprintf("statement %d", st.Index)}
		}
	}
	return nil
}

// ValidateTrust checks a role's trust policy (CreateRole,
// UpdateAssumeRolePolicy): every statement names who may assume the role,
// names no resource, and its principals are well formed.
func (d *Document) ValidateTrust() error {
	for _, st := range d.Statements {
		switch {
		case st.HasResource || st.HasNotResource:
			return &Error{Msg: MsgResourceInTrust, Detail: fmt.Sprintf("statement %d", st.Index)}
		case st.Principal == nil && st.NotPrincipal == nil:
			return &Error{Msg: MsgNoPrincipalInTrust, Detail: fmt.Sprintf("statement %d", st.Index)}
		case !st.HasAction && !st.HasNotAction:
			return &Error{Msg: MsgNoActions, Detail: fmt.Sprintf("statement %d", st.Index)}
		}
		for _, ps := range []*Principals{st.Principal, st.NotPrincipal} {
			if err := ps.validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidateResource checks a resource-based policy (queue, topic, function
// policy): every statement names a principal and actions.
func (d *Document) ValidateResource() error {
	for _, st := range d.Statements {
		switch {
		case st.Principal == nil && st.NotPrincipal == nil:
			return &Error{Msg: MsgNoPrincipalInTrust, Detail: fmt.Sprintf("statement %d", st.Index)}
		case !st.HasAction && !st.HasNotAction:
			return &Error{Msg: MsgNoActions, Detail: fmt.Sprintf("statement %d", st.Index)}
		}
		for _, ps := range []*Principals{st.Principal, st.NotPrincipal} {
			if err := ps.validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate rejects principal values IAM would not accept, in IAM's wording
// ("Invalid principal in policy: "SERVICE":"lamda.amazonaws.com""): a
// misspelt service principal is a classic reason a role cannot be assumed.
func (ps *Principals) validate() error {
	if ps == nil || ps.Any {
		return nil
	}
	for _, v := range ps.AWS {
		if v == "*" || isAccountID(v) || validIAMARN(v) {
			continue
		}
		return invalidPrincipal("AWS", v)
	}
	for _, v := range ps.Service {
		if !validServicePrincipal(v) {
			return invalidPrincipal("SERVICE", v)
		}
	}
	for _, v := range ps.Federated {
		if v == "" {
			return invalidPrincipal("FEDERATED", v)
		}
	}
	return nil
}

func invalidPrincipal(kind, v string) *Error {
	return &Error{Msg: fmt.Sprintf("Invalid principal in policy: %q:%q", kind, v)}
}

func validIAMARN(v string) bool {
	parts := strings.SplitN(v, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && strings.HasPrefix(parts[1], "aws") &&
		(parts[2] == "iam" || parts[2] == "sts") && isAccountID(parts[4]) && parts[5] != ""
}

// validServicePrincipal accepts the shapes AWS service principals have:
// lower-case DNS names under amazonaws.com (or the China and legacy
// suffixes).
func validServicePrincipal(v string) bool {
	var host string
	for _, suffix := range []string{".amazonaws.com.cn", ".amazonaws.com", ".amazon.com", ".aws.internal"} {
		if strings.HasSuffix(v, suffix) {
			host = strings.TrimSuffix(v, suffix)
			break
		}
	}
	if host == "" {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
