package iam

import (
	"strings"

	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/sandbox/internal/core"
)

// members renders a list as IAM does: the element is present, with a
// <member> per item, even when the list is empty (the AWS CLI then shows []).
type members[T any] struct {
	Member []T `xml:"member"`
}

type positionXML struct {
	Line   int `xml:"Line"`
	Column int `xml:"Column"`
}

type statementXML struct {
	SourcePolicyID   string      `xml:"SourcePolicyId"`
	SourcePolicyType string      `xml:"SourcePolicyType,omitempty"`
	StartPosition    positionXML `xml:"StartPosition"`
	EndPosition      positionXML `xml:"EndPosition"`
}

type resourceResultXML struct {
	EvalResourceName     string                `xml:"EvalResourceName"`
	EvalResourceDecision string                `xml:"EvalResourceDecision"`
	MatchedStatements    members[statementXML] `xml:"MatchedStatements"`
	MissingContextValues members[string]       `xml:"MissingContextValues"`
	EvalDecisionDetails  *struct{}             `xml:"EvalDecisionDetails,omitempty"`
}

type evalResultXML struct {
	EvalActionName          string                      `xml:"EvalActionName"`
	EvalResourceName        string                      `xml:"EvalResourceName"`
	EvalDecision            string                      `xml:"EvalDecision"`
	MatchedStatements       members[statementXML]       `xml:"MatchedStatements"`
	MissingContextValues    members[string]             `xml:"MissingContextValues"`
	ResourceSpecificResults *members[resourceResultXML] `xml:"ResourceSpecificResults,omitempty"`
}

var contextKeyTypes = map[string]bool{
	"string": true, "stringList": true, "numeric": true, "numericList": true, "boolean": true, "booleanList": true,
	"ip": true, "ipList": true, "binary": true, "binaryList": true, "date": true, "dateList": true,
}

// source is an evaluated document with the id and type reported for it.
type source struct {
	id, typ string
	doc     *policy.Document
}

// simulatePrincipalPolicy evaluates a role's identity policies (attached
// managed and inline, plus any PolicyInputList documents) for each action
// on each resource. As IAM now does, there is one result per action: its
// decision is the most restrictive over the resources, and the per-resource
// decisions are in ResourceSpecificResults when ResourceArns were given.
// Resource policies, permissions boundaries and SCPs are not simulated.
func (s *Service) simulatePrincipalPolicy(r *core.Request, f form) error {
	sourceArn, err := f.required("PolicySourceArn")
	if err != nil {
		return err
	}
	actions := f.members("ActionNames")
	if len(actions) == 0 {
		return validation("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := f.members("ResourceArns")
	perResource := len(resources) > 0
	if !perResource {
		resources = []string{"*"}
	}
	ctx := map[string][]string{}
	for i := 1; ; i++ {
		p := "ContextEntries.member." + itoa(i)
		if !f.has(p+".ContextKeyName") && !f.has(p+".ContextKeyType") && !f.has(p+".ContextKeyValues.member.1") {
			break
		}
		if t := f.get(p + ".ContextKeyType"); t != "" && !contextKeyTypes[t] {
			return validation("1 validation error detected: Value '%s' at 'contextEntries.%d.member.contextKeyType' failed to satisfy constraint: Member must satisfy enum value set: [string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList]", t, i)
		}
		key := f.get(p + ".ContextKeyName")
		if key == "" {
			return core.Errorf("InvalidInput", "Context key name must not be empty.")
		}
		ctx[key] = append(ctx[key], f.members(p+".ContextKeyValues")...)
	}
	var extra []source
	for i, doc := range f.members("PolicyInputList") {
		d, err := policy.Parse(doc)
		if err != nil {
			return malformed(err)
		}
		extra = append(extra, source{id: "PolicyInputList." + itoa(i+1), doc: d})
	}
	pg, err := f.page()
	if err != nil {
		return err
	}

	var sources []source
	var role Role
	if err := s.c.Store.View(func(tx *core.Tx) error {
		stored, err := s.roleByArn(tx, r.Scope.Account, sourceArn)
		role = roleSnapshot(stored)
		return err
	}); err != nil {
		return err
	}
	// Parsed and evaluated after the transaction, never holding the store.
	for _, d := range roleDocuments(role) {
		sources = append(sources, source{id: d.ID, typ: d.Type, doc: d.Doc})
	}
	sources = append(sources, extra...)
	docs := make([]*policy.Document, len(sources))
	for i, src := range sources {
		docs[i] = src.doc
	}

	var results []evalResultXML
	for _, action := range actions {
		top := evalResultXML{EvalActionName: action, EvalResourceName: "*"}
		if len(resources) == 1 {
			top.EvalResourceName = resources[0]
		}
		var perRes []resourceResultXML
		var decisions []policy.Result
		worst := policy.Allowed
		for _, res := range resources {
			out := policy.Evaluate(policy.Request{Action: action, Resource: res, Context: ctx}, docs...)
			decisions = append(decisions, out)
			if restrictiveness(out.Decision) > restrictiveness(worst) {
				worst = out.Decision
			}
			perRes = append(perRes, resourceResultXML{
				EvalResourceName: res, EvalResourceDecision: out.Decision.String(),
				MatchedStatements:    members[statementXML]{statementsXML(out, sources)},
				MissingContextValues: members[string]{out.MissingContext},
			})
		}
		top.EvalDecision = worst.String()
		seen := map[string]bool{}
		for _, out := range decisions {
			if out.Decision != worst {
				continue
			}
			for _, st := range statementsXML(out, sources) {
				k := st.SourcePolicyID + "/" + itoa(st.StartPosition.Line) + "/" + itoa(st.StartPosition.Column)
				if !seen[k] {
					seen[k] = true
					top.MatchedStatements.Member = append(top.MatchedStatements.Member, st)
				}
			}
			for _, m := range out.MissingContext {
				if !seen["ctx/"+strings.ToLower(m)] {
					seen["ctx/"+strings.ToLower(m)] = true
					top.MissingContextValues.Member = append(top.MissingContextValues.Member, m)
				}
			}
		}
		if perResource {
			top.ResourceSpecificResults = &members[resourceResultXML]{perRes}
		}
		results = append(results, top)
	}
	start, end, next := pg.window(indexKeys(len(results)))
	core.WriteQuery(r, xmlns, struct {
		EvaluationResults members[evalResultXML] `xml:"EvaluationResults"`
		IsTruncated       bool                   `xml:"IsTruncated"`
		Marker            string                 `xml:"Marker,omitempty"`
	}{members[evalResultXML]{results[start:end]}, next != "", next})
	return nil
}

func restrictiveness(d policy.Decision) int {
	switch d {
	case policy.ExplicitDeny:
		return 2
	case policy.ImplicitDeny:
		return 1
	}
	return 0
}

func statementsXML(res policy.Result, sources []source) []statementXML {
	out := make([]statementXML, 0, len(res.Matched))
	for _, m := range res.Matched {
		src := sources[m.Doc]
		out = append(out, statementXML{
			SourcePolicyID: src.id, SourcePolicyType: src.typ,
			StartPosition: positionXML{m.Statement.Start.Line, m.Statement.Start.Column},
			EndPosition:   positionXML{m.Statement.End.Line, m.Statement.End.Column},
		})
	}
	return out
}
