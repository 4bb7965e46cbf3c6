package lambda

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const maxPolicyBytes = 20480

// Statement is one statement of a function's resource-based policy, kept in
// AddPermission's terms and rendered the way Lambda renders it.
type Statement struct {
	Sid                 string `json:"sid"`
	PrincipalKey        string `json:"principal_key,omitempty"` // "Service" or "AWS"; "" renders "*"
	Principal           string `json:"principal"`
	Action              string `json:"action"`
	Resource            string `json:"resource"`
	SourceAccount       string `json:"source_account,omitempty"`
	SourceArn           string `json:"source_arn,omitempty"`
	PrincipalOrgID      string `json:"principal_org_id,omitempty"`
	EventSourceToken    string `json:"event_source_token,omitempty"`
	FunctionURLAuthType string `json:"function_url_auth_type,omitempty"`
}

var (
	sidRE       = core.NewPattern(`a-zA-Z0-9-_.`, 1, 100)
	actionRE    = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
	sourceArnRE = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$`)
	accountRE   = regexp.MustCompile(`^\d{12}$`)
)

// jsonString encodes s as a JSON string without HTML escaping, as AWS does.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// render writes the statement with Lambda's key order: Sid, Effect,
// Principal, Action, Resource, Condition (StringEquals before ArnLike).
func (st Statement) render() string {
	var b strings.Builder
	b.WriteString(`{"Sid":` + jsonString(st.Sid) + `,"Effect":"Allow","Principal":`)
	if st.PrincipalKey == "" {
		b.WriteString(jsonString(st.Principal))
	} else {
		b.WriteString(`{` + jsonString(st.PrincipalKey) + `:` + jsonString(st.Principal) + `}`)
	}
	b.WriteString(`,"Action":` + jsonString(st.Action) + `,"Resource":` + jsonString(st.Resource))
	var eq []string
	if st.SourceAccount != "" {
		eq = append(eq, `"AWS:SourceAccount":`+jsonString(st.SourceAccount))
	}
	if st.PrincipalOrgID != "" {
		eq = append(eq, `"aws:PrincipalOrgID":`+jsonString(st.PrincipalOrgID))
	}
	if st.EventSourceToken != "" {
		eq = append(eq, `"lambda:EventSourceToken":`+jsonString(st.EventSourceToken))
	}
	if st.FunctionURLAuthType != "" {
		eq = append(eq, `"lambda:FunctionUrlAuthType":`+jsonString(st.FunctionURLAuthType))
	}
	var cond []string
	if len(eq) > 0 {
		cond = append(cond, `"StringEquals":{`+strings.Join(eq, ",")+`}`)
	}
	if st.SourceArn != "" {
		cond = append(cond, `"ArnLike":{"AWS:SourceArn":`+jsonString(st.SourceArn)+`}`)
	}
	if len(cond) > 0 {
		b.WriteString(`,"Condition":{` + strings.Join(cond, ",") + `}`)
	}
	b.WriteString(`}`)
	return b.String()
}

func renderPolicy(stmts []Statement) string {
	parts := make([]string, len(stmts))
	for i, st := range stmts {
		parts[i] = st.render()
	}
	return `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(parts, ",") + `]}`
}

type addPermissionInput struct {
	StatementID         string `json:"StatementId"`
	Action              string `json:"Action"`
	Principal           string `json:"Principal"`
	SourceArn           string `json:"SourceArn"`
	SourceAccount       string `json:"SourceAccount"`
	EventSourceToken    string `json:"EventSourceToken"`
	RevisionID          string `json:"RevisionId"`
	PrincipalOrgID      string `json:"PrincipalOrgID"`
	FunctionURLAuthType string `json:"FunctionUrlAuthType"`
}

func (s *Service) addPermission(r *core.Request, ref string) (result, error) {
	var in addPermissionInput
	if err := r.DecodeJSON(&in); err != nil {
		return result{}, err
	}
	switch {
	case in.StatementID == "":
		return result{}, validation("1 validation error detected: Value null at 'statementId' failed to satisfy constraint: Member must not be null")
	case !sidRE.MatchString(in.StatementID):
		return result{}, validation("1 validation error detected: Value '%s' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)", in.StatementID)
	case in.Action == "":
		return result{}, validation("1 validation error detected: Value null at 'action' failed to satisfy constraint: Member must not be null")
	case !actionRE.MatchString(in.Action):
		return result{}, validation("1 validation error detected: Value '%s' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])", in.Action)
	case in.Principal == "":
		return result{}, validation("1 validation error detected: Value null at 'principal' failed to satisfy constraint: Member must not be null")
	case strings.ContainsAny(in.Principal, " \t\n"):
		return result{}, validation(`1 validation error detected: Value '%s' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\s]+`, in.Principal)
	case in.SourceArn != "" && !sourceArnRE.MatchString(in.SourceArn):
		return result{}, validation(`1 validation error detected: Value '%s' at 'sourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)`, in.SourceArn)
	case in.SourceAccount != "" && !accountRE.MatchString(in.SourceAccount):
		return result{}, validation(`1 validation error detected: Value '%s' at 'sourceAccount' failed to satisfy constraint: Member must satisfy regular expression pattern: \d{12}`, in.SourceAccount)
	}
	st := Statement{Sid: in.StatementID, Action: in.Action, SourceAccount: in.SourceAccount, SourceArn: in.SourceArn,
		PrincipalOrgID: in.PrincipalOrgID, EventSourceToken: in.EventSourceToken, FunctionURLAuthType: in.FunctionURLAuthType}
	switch p := in.Principal; {
	case p == "*":
		st.Principal = "*"
	case accountRE.MatchString(p):
		st.PrincipalKey, st.Principal = "AWS", "arn:aws:iam::"+p+":root"
	case strings.HasPrefix(p, "arn:"):
		st.PrincipalKey, st.Principal = "AWS", p
	default:
		st.PrincipalKey, st.Principal = "Service", p
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		f, fr, err := s.lookup(tx, r, ref)
		if err != nil {
			return err
		}
		if err := checkRevision(f, in.RevisionID); err != nil {
			return err
		}
		st.Resource = f.Arn
		if fr.qualifier != "" {
			st.Resource += ":" + fr.qualifier
		}
		for _, old := range f.Policy {
			if old.Sid == in.StatementID {
				return conflict("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", in.StatementID)
			}
		}
		policy := append(append([]Statement(nil), f.Policy...), st)
		if n := len(renderPolicy(policy)); n > maxPolicyBytes {
			return core.Errorf("PolicyLengthExceededException", "The final policy size (%d) is bigger than the limit (%d).", n, maxPolicyBytes)
		}
		f.Policy = policy
		f.RevisionID = core.NewRequestID()
		s.functions.Put(tx, r.Scope.Key(f.Name), f)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusCreated, map[string]string{"Statement": st.render()}}, nil
}

func (s *Service) getPolicy(r *core.Request, ref string) (result, error) {
	var f Function
	err := s.c.Store.View(func(tx *core.Tx) error {
		var err error
		f, _, err = s.lookup(tx, r, ref)
		return err
	})
	if err != nil {
		return result{}, err
	}
	if len(f.Policy) == 0 {
		return result{}, notFound("The resource you requested does not exist.")
	}
	return result{http.StatusOK, map[string]string{"Policy": renderPolicy(f.Policy), "RevisionId": f.RevisionID}}, nil
}

func (s *Service) removePermission(r *core.Request, ref, sid string) (result, error) {
	if !sidRE.MatchString(sid) {
		return result{}, validation("1 validation error detected: Value '%s' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)", sid)
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		f, _, err := s.lookup(tx, r, ref)
		if err != nil {
			return err
		}
		if err := checkRevision(f, r.HTTP.URL.Query().Get("RevisionId")); err != nil {
			return err
		}
		if len(f.Policy) == 0 {
			return notFound("The resource you requested does not exist.")
		}
		var kept []Statement
		for _, st := range f.Policy {
			if st.Sid != sid {
				kept = append(kept, st)
			}
		}
		if len(kept) == len(f.Policy) {
			return notFound("Statement %s is not found in resource policy.", sid)
		}
		f.Policy = kept
		f.RevisionID = core.NewRequestID()
		s.functions.Put(tx, r.Scope.Key(f.Name), f)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusNoContent}, nil
}
