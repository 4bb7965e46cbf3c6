package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	itypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/policy"
)

func iamChecks() []Check {
	roleRead := []string{"iam:GetRole"}
	perms := []string{"iam:GetRole", "iam:SimulatePrincipalPolicy", "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListRolePolicies", "iam:GetRolePolicy"}
	return []Check{
		{ID: "iam-role.exists", Title: "The execution role exists", Weight: 2, Actions: roleRead, Run: wrap(checkRoleExists)},
		{ID: "iam-role.trust-policy", Title: "Lambda may assume the role", Weight: 2, Actions: roleRead, Run: wrap(checkTrust)},
		{ID: "iam-role.logging", Title: "The functions may write their logs", Weight: 1, Actions: perms, Run: wrap(checkLogging)},
		{ID: "iam-role.s3-read", Title: "The role may read the uploaded objects", Weight: 1, Actions: append(perms, "s3:ListAllMyBuckets", "s3:GetBucketLocation"), Run: wrap(checkS3Read)},
		{ID: "iam-role.dynamodb-write", Title: "The role may write and scan the table", Weight: 1, Actions: perms, Run: wrap(checkDynamoWrite)},
		{ID: "iam-role.sns-publish", Title: "The role may publish to the topic", Weight: 1, Actions: perms, Run: wrap(checkSNSPublish)},
		{ID: "iam-role.sqs-consume", Title: "The role may consume the queue", Weight: 1, Actions: perms, Run: wrap(checkSQSConsume)},
	}
}

func (r *run) needRole(ctx context.Context) (roleInfo, *Result) {
	ri, err := r.role(ctx)
	if err != nil {
		res := errorResult(err, "the role "+r.names.Role)
		return ri, &res
	}
	if !ri.Exists {
		res := skip("needs the role "+r.names.Role+", which does not exist", "iam-role.exists")
		return ri, &res
	}
	return ri, nil
}

func checkRoleExists(ctx context.Context, r *run) Result {
	ri, err := r.role(ctx)
	if err != nil {
		return errorResult(err, "the role "+r.names.Role)
	}
	if !ri.Exists {
		return fail("role "+r.names.Role+" does not exist", hint(redo(lab.StepIAMRole), see(tsRolePropagation)),
			"iam:GetRole "+r.names.Role+": NoSuchEntity")
	}
	return pass("role "+r.names.Role+" exists", "iam:GetRole: "+ri.Arn)
}

func checkTrust(ctx context.Context, r *run) Result {
	ri, stop := r.needRole(ctx)
	if stop != nil {
		return *stop
	}
	doc, err := policy.Parse(ri.Trust)
	if err != nil {
		return fail("the role's trust policy does not parse: "+err.Error(), hint(redo(lab.StepIAMRole), see(tsRolePropagation)))
	}
	ev := []string{"trust policy: " + compactJSON(doc)}
	res := policy.EvaluateResource(policy.Request{
		Principal: policy.ServicePrincipal("lambda.amazonaws.com"), Action: "sts:AssumeRole", Resource: ri.Arn,
		Context: map[string][]string{"aws:SourceAccount": {r.env.Account}},
	}, doc)
	switch res.Decision {
	case policy.Allowed:
		return pass("lambda.amazonaws.com may assume "+r.names.Role, ev...)
	case policy.ExplicitDeny:
		return fail("the trust policy denies lambda.amazonaws.com sts:AssumeRole", hint("remove the Deny statement", see(tsRolePropagation)), append(ev, statementsOf(res)...)...)
	}
	return fail("the trust policy does not let lambda.amazonaws.com assume the role",
		hint("the Principal must be {\"Service\": \"lambda.amazonaws.com\"} with Action sts:AssumeRole: `aws iam update-assume-role-policy --role-name "+r.names.Role+" --policy-document file://lambda-trust-policy.json`", see(tsRolePropagation)), ev...)
}

// ---- what the role may do

// need is one permission the functions need: the action on any of the
// resources (alternative ARN spellings of the same thing).
type need struct {
	Action    string
	Resources []string
	// Optional needs make a Warn, not a Fail, when missing.
	Optional bool
	Why      string
}

type decision struct {
	Action, Resource string
	Decision         policy.Decision
	Sources          []string
	// Missing are the condition keys IAM's simulation needed and slab
	// could not supply (MissingContextValues): a deny with them is a
	// conditional allow that could not be evaluated, not a deny.
	Missing []string
}

// evaluation is what the role may do, and how slab found out.
type evaluation struct {
	Via       string
	Decisions map[[2]string]decision
}

func (e evaluation) get(action, resource string) decision {
	if d, ok := e.Decisions[[2]string{action, resource}]; ok {
		return d
	}
	return decision{Action: action, Resource: resource, Decision: policy.ImplicitDeny}
}

// evaluateRole decides action x resource pairs for the role: by
// iam:SimulatePrincipalPolicy when the caller may use it (IAM's own answer,
// permission boundaries included), else with slab's evaluator over the
// role's attached and inline policies.
func (r *run) evaluateRole(ctx context.Context, roleArn string, actions, resources []string) (evaluation, error) {
	actions, resources = uniq(actions), uniq(resources)
	if !r.simulateDenied() {
		ev, err := r.simulate(ctx, roleArn, actions, resources)
		if err == nil {
			return ev, nil
		}
		if !isAccessDenied(err) {
			return evaluation{}, err
		}
		r.mu.Lock()
		r.memo["simulate.denied"] = doneEntry()
		r.mu.Unlock()
	}
	docs, err := r.roleDocs(ctx)
	if err != nil {
		return evaluation{}, err
	}
	parsed := make([]*policy.Document, 0, len(docs))
	names := make([]string, 0, len(docs))
	for _, d := range docs {
		p, err := policy.Parse(d.JSON)
		if err != nil {
			continue // IAM validated it on the way in; an unparsable one grants nothing here
		}
		parsed = append(parsed, p)
		names = append(names, d.Name)
	}
	ev := evaluation{Via: fmt.Sprintf("slab's policy evaluator over %d policies (iam:SimulatePrincipalPolicy not allowed)", len(parsed)), Decisions: map[[2]string]decision{}}
	for _, a := range actions {
		for _, res := range resources {
			out := policy.Evaluate(policy.Request{Action: a, Resource: res, Context: r.evaluatorContext()}, parsed...)
			d := decision{Action: a, Resource: res, Decision: out.Decision, Missing: out.MissingContext}
			for _, m := range out.Matched {
				d.Sources = append(d.Sources, names[m.Doc])
			}
			d.Sources = uniq(d.Sources)
			ev.Decisions[[2]string{a, res}] = d
		}
	}
	return ev, nil
}

func doneEntry() *entry {
	e := &entry{done: make(chan struct{}), val: true}
	close(e.done)
	return e
}

func (r *run) simulateDenied() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.memo["simulate.denied"]
	return ok
}

func (r *run) simulate(ctx context.Context, roleArn string, actions, resources []string) (evaluation, error) {
	return r.simulateInContext(ctx, roleArn, actions, resources)
}

// simulateOnce is one SimulatePrincipalPolicy run with the given context.
func (r *run) simulateOnce(ctx context.Context, roleArn string, actions, resources []string, entries []itypes.ContextEntry) (evaluation, error) {
	ev := evaluation{Via: "iam:SimulatePrincipalPolicy", Decisions: map[[2]string]decision{}}
	p := iam.NewSimulatePrincipalPolicyPaginator(r.c.IAM, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(roleArn), ActionNames: actions, ResourceArns: resources, ContextEntries: entries,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return evaluation{}, err
		}
		for _, er := range page.EvaluationResults {
			a := aws.ToString(er.EvalActionName)
			if len(er.ResourceSpecificResults) == 0 {
				d := decision{Action: a, Resource: aws.ToString(er.EvalResourceName), Decision: decisionOf(string(er.EvalDecision)), Missing: er.MissingContextValues}
				for _, st := range er.MatchedStatements {
					d.Sources = append(d.Sources, aws.ToString(st.SourcePolicyId))
				}
				d.Sources = uniq(d.Sources)
				targets := []string{d.Resource}
				if d.Resource == "*" || len(resources) == 1 {
					targets = resources
				}
				for _, res := range targets {
					d.Resource = res
					ev.Decisions[[2]string{a, res}] = d
				}
				continue
			}
			for _, rr := range er.ResourceSpecificResults {
				d := decision{Action: a, Resource: aws.ToString(rr.EvalResourceName), Decision: decisionOf(string(rr.EvalResourceDecision)), Missing: rr.MissingContextValues}
				for _, st := range rr.MatchedStatements {
					d.Sources = append(d.Sources, aws.ToString(st.SourcePolicyId))
				}
				d.Sources = uniq(d.Sources)
				ev.Decisions[[2]string{a, d.Resource}] = d
			}
		}
	}
	return ev, nil
}

func decisionOf(s string) policy.Decision {
	switch s {
	case "allowed":
		return policy.Allowed
	case "explicitDeny":
		return policy.ExplicitDeny
	}
	return policy.ImplicitDeny
}

// permissionCheck evaluates the needs; broad says, per action, an unrelated
// resource of the same kind: when the role may act on it too, the grant is
// not scoped to the lab (a FullAccess policy), which is a Warn.
func (r *run) permissionCheck(ctx context.Context, subject string, needs []need, broad map[string]string, scoped string) Result {
	ri, stop := r.needRole(ctx)
	if stop != nil {
		return *stop
	}
	var actions, resources []string
	for _, n := range needs {
		actions = append(actions, n.Action)
		resources = append(resources, n.Resources...)
	}
	for a, res := range broad {
		actions = append(actions, a)
		resources = append(resources, res)
	}
	ev, err := r.evaluateRole(ctx, ri.Arn, actions, resources)
	if err != nil {
		return errorResult(err, "what "+r.names.Role+" may do")
	}
	evidence := []string{"evaluated with " + ev.Via}
	var missing, denied, optional, conditional []string
	for _, n := range needs {
		var best decision
		for i, res := range n.Resources {
			d := ev.get(n.Action, res)
			if i == 0 || d.Decision == policy.Allowed || (best.Decision != policy.Allowed && d.Decision == policy.ExplicitDeny) {
				best = d
			}
			if d.Decision == policy.Allowed {
				break
			}
		}
		line := fmt.Sprintf("%s on %s: %s", n.Action, best.Resource, best.Decision)
		if len(best.Sources) > 0 {
			line += " (" + strings.Join(best.Sources, ", ") + ")"
		}
		if len(best.Missing) > 0 {
			line += "; MissingContextValues: " + strings.Join(best.Missing, ", ")
		}
		evidence = append(evidence, line)
		switch {
		case best.Decision == policy.ImplicitDeny && len(best.Missing) > 0:
			conditional = append(conditional, fmt.Sprintf("%s (if %s)", n.Action, strings.Join(best.Missing, ", ")))
		case best.Decision == policy.ExplicitDeny:
			denied = append(denied, fmt.Sprintf("%s (denied by %s)", n.Action, strings.Join(orUnknown(best.Sources), ", ")))
		case best.Decision != policy.Allowed && n.Optional:
			optional = append(optional, n.Action+" ("+n.Why+")")
		case best.Decision != policy.Allowed:
			missing = append(missing, n.Action)
		}
	}
	missing, denied, optional = uniq(missing), uniq(denied), uniq(optional)
	fixHint := hint("grant them on "+subject+": "+redo(lab.StepIAMRole), see(tsPermissionErrors))
	switch {
	case len(denied) > 0:
		return fail(r.names.Role+" is explicitly denied "+strings.Join(denied, ", ")+" on "+subject,
			hint("a Deny overrides every Allow: remove or narrow that statement", see(tsPermissionErrors)), evidence...)
	case len(missing) > 0:
		return fail(r.names.Role+" may not "+strings.Join(missing, ", ")+" on "+subject, fixHint, evidence...)
	}
	var wide []string
	var wideSources []string
	actionsSorted := make([]string, 0, len(broad))
	for a := range broad {
		actionsSorted = append(actionsSorted, a)
	}
	sort.Strings(actionsSorted)
	for _, a := range actionsSorted {
		d := ev.get(a, broad[a])
		if d.Decision == policy.Allowed {
			wide = append(wide, a)
			wideSources = append(wideSources, d.Sources...)
		}
	}
	if len(optional) > 0 {
		return warn(r.names.Role+" may not "+strings.Join(optional, ", "), fixHint, evidence...)
	}
	if conditional = uniq(conditional); len(conditional) > 0 {
		return warn(r.names.Role+" may "+strings.Join(conditional, ", ")+" on "+subject+": allowed only under conditions slab could not evaluate",
			"IAM's simulation needed context keys the lab's calls do not carry (see evidence); make sure the condition holds for the functions' own calls", evidence...)
	}
	if len(wide) > 0 {
		src := strings.Join(orUnknown(uniq(wideSources)), ", ")
		return warn(fmt.Sprintf("allowed, but not only on %s: %s reaches every %s in the account (through %s)", subject, strings.Join(wide, ", "), scoped, src),
			"works; least privilege scopes it to this lab's resources (the inline policy of `slab show iam-role`, or `slab do iam-role --least-privilege`)", evidence...)
	}
	return pass(r.names.Role+" may "+strings.Join(needActions(needs), ", ")+" on "+subject, evidence...)
}

func needActions(needs []need) []string {
	var out []string
	for _, n := range needs {
		out = append(out, n.Action)
	}
	return uniq(out)
}

func orUnknown(s []string) []string {
	if len(s) == 0 {
		return []string{"a policy"}
	}
	return s
}

func checkLogging(ctx context.Context, r *run) Result {
	var needs []need
	for _, fn := range []string{r.names.S3Function, r.names.EventFunction, r.names.QueueFunction} {
		group := r.arn("logs", r.env.Region, "log-group:"+logGroupOf(fn))
		stream := group + ":log-stream:2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
		// Policies name log groups as "...:log-group:NAME" or
		// "...:log-group:NAME:*"; CloudWatch Logs authorizes with either
		// form depending on the action, so either spelling counts.
		needs = append(needs,
			need{Action: "logs:CreateLogGroup", Resources: []string{group, group + ":*"}},
			need{Action: "logs:CreateLogStream", Resources: []string{stream, group}},
			need{Action: "logs:PutLogEvents", Resources: []string{stream}},
		)
	}
	return r.permissionCheck(ctx, "the functions' log groups /aws/lambda/*", needs, nil, "")
}

func checkS3Read(ctx context.Context, r *run) Result {
	if _, stop := r.needRole(ctx); stop != nil {
		return *stop
	}
	b, err := r.bucket(ctx)
	if err != nil {
		return errorResult(err, "which bucket is the lab's")
	}
	if b.Name == "" {
		return skip("needs the lab bucket, which does not exist yet", "s3-bucket.exists")
	}
	obj := r.bucketArn(b.Name) + "/test-data.json"
	return r.permissionCheck(ctx, "the objects of "+b.Name, []need{
		{Action: "s3:GetObject", Resources: []string{obj}},
		{Action: "s3:GetObjectVersion", Resources: []string{obj}, Optional: true, Why: "the corrected s3 processor reads the version it was notified of"},
	}, map[string]string{"s3:GetObject": r.bucketArn("slab-unrelated-bucket") + "/data.json"}, "bucket")
}

func checkDynamoWrite(ctx context.Context, r *run) Result {
	t := r.tableArn()
	other := r.arn("dynamodb", r.env.Region, "table/slab-unrelated-table")
	return r.permissionCheck(ctx, "table "+r.names.Table, []need{
		{Action: "dynamodb:PutItem", Resources: []string{t}},
		{Action: "dynamodb:Scan", Resources: []string{t}},
	}, map[string]string{"dynamodb:PutItem": other}, "table")
}

func checkSNSPublish(ctx context.Context, r *run) Result {
	other := r.arn("sns", r.env.Region, "slab-unrelated-topic")
	return r.permissionCheck(ctx, "topic "+r.names.Topic, []need{
		{Action: "sns:Publish", Resources: []string{r.topicArn()}},
	}, map[string]string{"sns:Publish": other}, "topic")
}

func checkSQSConsume(ctx context.Context, r *run) Result {
	q := r.queueArn(ctx)
	other := r.arn("sqs", r.env.Region, "slab-unrelated-queue")
	res := r.permissionCheck(ctx, "queue "+r.names.Queue, []need{
		{Action: "sqs:ReceiveMessage", Resources: []string{q}},
		{Action: "sqs:DeleteMessage", Resources: []string{q}},
		{Action: "sqs:GetQueueAttributes", Resources: []string{q}},
	}, map[string]string{"sqs:DeleteQueue": other}, "queue") // AWSLambdaSQSQueueExecutionRole reads any queue by design; FullAccess also deletes them
	if res.Status == Fail && !strings.Contains(res.Summary, "denied") {
		res.Hint = hint("attach AWSLambdaSQSQueueExecutionRole (least privilege) or AmazonSQSFullAccess", see(tsESMPermission))
	}
	return res
}

// ---- small helpers

func uniq(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func compactJSON(d *policy.Document) string {
	if d == nil {
		return ""
	}
	return d.Compact()
}

// statementsOf describes the statements that decided a resource-policy
// evaluation.
func statementsOf(res policy.Result) []string {
	var out []string
	for _, m := range res.Matched {
		st := m.Statement
		name := st.Sid
		if name == "" {
			name = fmt.Sprintf("statement %d", st.Index+1)
		}
		out = append(out, fmt.Sprintf("%s %s (line %d)", st.Effect, name, st.Start.Line))
	}
	return out
}
