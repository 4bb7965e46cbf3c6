package iam

import (
	"strings"

	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/sandbox/internal/core"
)

// parseRoleArn splits arn:aws:iam::<account>:role/<path><name>.
func parseRoleArn(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	res := parts[5]
	name = res[strings.LastIndex(res, "/")+1:]
	if name == "" || len(parts[4]) != 12 {
		return "", "", false
	}
	return parts[4], name, true
}

// roleByArn finds a role of account by its full ARN (path included).
func (s *Service) roleByArn(tx *core.Tx, account, arn string) (Role, error) {
	acct, name, ok := parseRoleArn(arn)
	if !ok {
		return Role{}, core.Errorf("InvalidInput", "Invalid ARN: %s", arn)
	}
	role, found := s.roles.Get(tx, roleKey(account, name))
	if acct != account || !found || role.Arn != arn {
		return Role{}, noSuchRole(name)
	}
	return role, nil
}

// RoleByARN implements core.IAMView.
func (s *Service) RoleByARN(tx *core.Tx, account, arn string) (core.RoleInfo, bool) {
	role, err := s.roleByArn(tx, account, arn)
	if err != nil {
		return core.RoleInfo{}, false
	}
	return core.RoleInfo{Name: role.Name, Arn: role.Arn, RoleID: role.RoleID, AssumeRolePolicy: role.TrustPolicy, AssumableAt: assumableAt(role)}, true
}

// RoleAllows implements core.IAMView: the role's attached managed and
// inline policies allow action on resource, and none denies it. It is the
// enforcing side, so a policy change still propagating is not seen yet.
func (s *Service) RoleAllows(tx *core.Tx, account, roleArn, action, resource string, ctx map[string]string) bool {
	multi := make(map[string][]string, len(ctx))
	for k, v := range ctx {
		multi[k] = []string{v}
	}
	role, err := s.roleByArn(tx, account, roleArn)
	if err != nil {
		return false
	}
	return evaluate(enforced(role, s.c.Now()), policy.Request{Action: action, Resource: resource, Context: multi}).Allowed()
}

// RolePolicies implements core.IAMView: it copies the role's identity
// policies in tx and returns their evaluation, to run after tx ends. It is
// the enforcing side, so a policy change still propagating is not seen yet.
func (s *Service) RolePolicies(tx *core.Tx, account, roleArn string) (core.RoleCheck, bool) {
	role, err := s.roleByArn(tx, account, roleArn)
	if err != nil {
		return nil, false
	}
	snap := roleSnapshot(enforced(role, s.c.Now()))
	return func(action, resource string, ctx map[string]string) bool {
		multi := make(map[string][]string, len(ctx))
		for k, v := range ctx {
			multi[k] = []string{v}
		}
		docs := roleDocuments(snap)
		parsed := make([]*policy.Document, len(docs))
		for i, d := range docs {
			parsed[i] = d.Doc
		}
		return policy.Evaluate(policy.Request{Action: action, Resource: resource, Context: multi}, parsed...).Allowed()
	}, true
}

// RoleDocuments implements core.RoleDecider: it copies the role's identity
// policies in tx and returns them, parsed after tx ends by the function.
// Its callers enforce (a role session's requests, a function's logging), so
// like RolePolicies it sees a policy change only once it has propagated.
func (s *Service) RoleDocuments(tx *core.Tx, account, roleArn string) (func() []*policy.Document, bool) {
	role, err := s.roleByArn(tx, account, roleArn)
	if err != nil {
		return nil, false
	}
	snap := roleSnapshot(enforced(role, s.c.Now()))
	return func() []*policy.Document {
		docs := roleDocuments(snap)
		out := make([]*policy.Document, len(docs))
		for i, d := range docs {
			out[i] = d.Doc
		}
		return out
	}, true
}

// EvaluateRole evaluates a request against a role's identity policies and
// returns the documents it used, so a caller can name the statement that
// allowed or denied (res.Matched[i].Doc indexes docs). ok is false when
// the role does not exist.
func (s *Service) EvaluateRole(tx *core.Tx, account, roleArn string, req policy.Request) (res policy.Result, docs []RoleDocument, ok bool) {
	role, err := s.roleByArn(tx, account, roleArn)
	if err != nil {
		return policy.Result{}, nil, false
	}
	docs = roleDocuments(role)
	return evaluateDocs(docs, req), docs, true
}

func evaluate(role Role, req policy.Request) policy.Result {
	return evaluateDocs(roleDocuments(role), req)
}

func evaluateDocs(docs []RoleDocument, req policy.Request) policy.Result {
	parsed := make([]*policy.Document, len(docs))
	for i, d := range docs {
		parsed[i] = d.Doc
	}
	return policy.Evaluate(req, parsed...)
}

// AssumeCheck is the "iam.assume-check" hook STS calls before AssumeRole:
// the role must exist in its account and its trust policy, evaluated with
// its conditions against ctx (sts:ExternalId, aws:SourceAccount,
// aws:SourceArn, aws:PrincipalAccount, ...), must let the caller perform
// sts:AssumeRole. The refusal is worded as AWS words it. It reads the
// trust policy in tx and returns the check, which parses and evaluates it
// after tx ends.
func (s *Service) AssumeCheck(tx *core.Tx, caller core.Principal, roleArn string, ctx map[string][]string) func() error {
	callerArn := caller.ARN
	if callerArn == "" {
		callerArn = "arn:aws:iam::" + caller.Account + ":root"
	}
	denied := core.ErrorStatus(403, "AccessDenied",
		"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", callerArn, roleArn)
	refuse := func() error { return denied }
	acct, _, ok := parseRoleArn(roleArn)
	if !ok {
		return refuse
	}
	role, err := s.roleByArn(tx, acct, roleArn)
	if err != nil {
		return refuse
	}
	doc := role.TrustPolicy
	return func() error {
		trust, err := policy.Parse(doc)
		if err != nil {
			return denied
		}
		p := policy.Principal{Type: "AWS", ID: callerArn}
		if caller.Type == "service" {
			p = policy.ServicePrincipal(caller.Name)
		}
		res := policy.EvaluateResource(policy.Request{Principal: p, Action: "sts:AssumeRole", Resource: roleArn, Context: ctx}, trust)
		if !res.Allowed() {
			return denied
		}
		return nil
	}
}

var _ core.IAMView = (*Service)(nil)
