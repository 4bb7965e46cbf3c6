package policy

import (
	"strings"
)

// Glob reports whether s matches pattern, where * matches any run of
// characters (including none) and ? exactly one. Matching is by byte, as
// IAM's is for the ASCII that actions and ARNs are made of.
func Glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			// Let the last * absorb one more character and retry.
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// MatchAction reports whether an action pattern from a policy ("SQS:*",
// "s3:Get*") matches a request's action ("sqs:SendMessage"). Service
// prefixes and action names are case-insensitive.
func MatchAction(pattern, action string) bool {
	return Glob(strings.ToLower(pattern), strings.ToLower(action))
}

// MatchARN reports whether an ARN pattern matches an ARN. As IAM does for
// Resource elements and the Arn* condition operators, each of the six
// colon-separated parts is matched on its own, so a wildcard in the region
// part cannot swallow the account part, and a pattern with fewer parts
// ("arn:aws:sqs:*") matches no ARN. "*" matches everything. Values that are
// not six-part ARNs are matched as plain strings.
func MatchARN(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	pp := strings.SplitN(pattern, ":", 6)
	ap := strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		if strings.HasPrefix(pattern, "arn:") && len(ap) == 6 {
			return false // an ARN pattern missing parts names no ARN
		}
		return Glob(pattern, arn)
	}
	for i := range pp {
		if !Glob(pp[i], ap[i]) {
			return false
		}
	}
	return true
}

// accountOf returns the account id an AWS principal value names: a bare
// 12-digit id or the account part of an IAM/STS ARN.
func accountOf(v string) string {
	if isAccountID(v) {
		return v
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && (parts[2] == "iam" || parts[2] == "sts") {
		return parts[4]
	}
	return ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isAccountRoot reports whether a policy's AWS principal value stands for a
// whole account (which delegates to every principal of that account).
func isAccountRoot(v string) bool {
	if isAccountID(v) {
		return true
	}
	parts := strings.SplitN(v, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root"
}

// assumedRoleToRole maps arn:aws:sts::A:assumed-role/R/session to
// arn:aws:iam::A:role/R, which is how a role session is named in policies.
func assumedRoleToRole(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" || !strings.HasPrefix(parts[5], "assumed-role/") {
		return ""
	}
	rest := strings.TrimPrefix(parts[5], "assumed-role/")
	role := rest
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		role = rest[:i]
	}
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + role
}

// Principal is who makes a request, for resource-based evaluation.
type Principal struct {
	// Type is "AWS", "Service", "Federated" or "CanonicalUser".
	Type string
	// ID is an ARN or account id for AWS, a service name such as
	// "sns.amazonaws.com" for Service.
	ID string
}

// AccountPrincipal is the root principal of an account.
func AccountPrincipal(account string) Principal {
	return Principal{Type: "AWS", ID: "arn:aws:iam::" + account + ":root"}
}

// ServicePrincipal is an AWS service acting on a customer's behalf.
func ServicePrincipal(service string) Principal {
	return Principal{Type: "Service", ID: service}
}

// Matches reports whether the principal element names p.
func (ps *Principals) Matches(p Principal) bool {
	if ps == nil {
		return false
	}
	if ps.Any {
		return true
	}
	switch p.Type {
	case "AWS":
		for _, v := range ps.AWS {
			if matchAWSPrincipal(v, p.ID) {
				return true
			}
		}
	case "Service":
		for _, v := range ps.Service {
			if v == "*" || strings.EqualFold(v, p.ID) {
				return true
			}
		}
	case "Federated":
		for _, v := range ps.Federated {
			if v == "*" || v == p.ID {
				return true
			}
		}
	case "CanonicalUser":
		for _, v := range ps.CanonicalUser {
			if v == "*" || v == p.ID {
				return true
			}
		}
	}
	// "AWS": "*" means everyone, service principals included.
	for _, v := range ps.AWS {
		if v == "*" {
			return true
		}
	}
	return false
}

func matchAWSPrincipal(policyValue, id string) bool {
	if policyValue == "*" || policyValue == id {
		return true
	}
	if isAccountRoot(policyValue) {
		return accountOf(policyValue) != "" && accountOf(policyValue) == accountOf(id)
	}
	if role := assumedRoleToRole(id); role != "" && role == policyValue {
		return true
	}
	return false
}

// substitute replaces policy variables (${aws:username}, ${aws:SourceAccount},
// ${key, 'default'}) with context values. ok is false when a variable has no
// value and no default: IAM then treats the element as not matching.
func substitute(s string, ctx map[string][]string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		inner := strings.TrimSpace(s[i+2 : i+j])
		s = s[i+j+1:]
		switch inner {
		case "*", "?", "$":
			// IAM's escapes for a literal *, ? or $. In a pattern the
			// * and ? still act as wildcards here, which can only widen
			// a match; no lab policy uses them.
			b.WriteString(inner)
			continue
		}
		key, def, hasDef := inner, "", false
		if k := strings.IndexByte(inner, ','); k >= 0 {
			key = strings.TrimSpace(inner[:k])
			def = strings.Trim(strings.TrimSpace(inner[k+1:]), "'")
			hasDef = true
		}
		vals := ctx[strings.ToLower(key)]
		switch {
		case len(vals) == 1:
			b.WriteString(vals[0])
		case hasDef:
			b.WriteString(def)
		default:
			return "", false
		}
	}
}
