package engine

import (
	"fmt"
	"strings"

	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
)

// Service principals of the services that deliver events.
const (
	principalS3     = "s3.amazonaws.com"
	principalSNS    = "sns.amazonaws.com"
	principalEvents = "events.amazonaws.com"
)

// serviceRequest is what a service asks of a resource-based policy when it
// acts for a customer: SourceArn is the resource that caused the call (the
// bucket, topic or rule), SourceAccount its owner.
func serviceRequest(service, action, resource, sourceArn, sourceAccount string) policy.Request {
	ctx := map[string][]string{"aws:SourceArn": {sourceArn}}
	if sourceAccount != "" {
		ctx["aws:SourceAccount"] = []string{sourceAccount}
	}
	return policy.Request{Principal: policy.ServicePrincipal(service), Action: action, Resource: resource, Context: ctx}
}

// allows evaluates a resource-based policy document; an absent or
// unparsable policy allows nothing.
func allows(doc string, req policy.Request) bool {
	if strings.TrimSpace(doc) == "" {
		return false
	}
	if testHookEvaluate != nil {
		testHookEvaluate()
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return false
	}
	return policy.EvaluateResource(req, d).Allowed()
}

// testHookEvaluate, when a test sets it, runs before each evaluation of a
// stored resource policy.
var testHookEvaluate func()

// grant is a resource-policy check read inside a transaction and evaluated
// after it: a policy is a student's document of up to megabytes, and
// evaluating it while holding the store would stall every account's calls.
type grant struct {
	doc     string
	req     policy.Request
	refusal string // the reason when the policy says no
}

// check evaluates the policy; outside any transaction.
func (g grant) check() (reason string, ok bool) {
	if allows(g.doc, g.req) {
		return "", true
	}
	return g.refusal, false
}

// functionFor resolves the function a delivery targets and reads its
// resource-based policy, to be checked (grant.check, after the transaction)
// for letting service invoke it on behalf of sourceArn. The reason explains
// a function that does not exist.
func (e *Engine) functionFor(tx *core.Tx, scope core.Scope, fn, service, sourceArn, sourceAccount string) (lambda.FunctionConfig, grant, string, bool) {
	if e.lm == nil {
		return lambda.FunctionConfig{}, grant{}, "the sandbox has no Lambda service", false
	}
	f, ok := e.lm.Function(tx, scope, fn)
	if !ok {
		return lambda.FunctionConfig{}, grant{}, fmt.Sprintf("function %s does not exist", fn), false
	}
	doc, _ := e.lm.Policy(tx, f.Arn)
	return f, grant{doc: doc, req: serviceRequest(service, "lambda:InvokeFunction", f.Arn, sourceArn, sourceAccount),
		refusal: fmt.Sprintf("the resource-based policy of %s does not allow %s to call lambda:InvokeFunction with aws:SourceArn %s (aws lambda add-permission --principal %s --source-arn %s)",
			f.Name, service, sourceArn, service, sourceArn)}, "", true
}

// queueFor resolves a destination queue and reads its policy, to be checked
// (grant.check, after the transaction) for letting service send to it on
// behalf of sourceArn. Queues without a policy accept nothing from a
// service, even in the owner's account, as on AWS.
func (e *Engine) queueFor(tx *core.Tx, queueArn, service, sourceArn, sourceAccount string) (core.QueueInfo, grant, string, bool) {
	if e.sq == nil {
		return core.QueueInfo{}, grant{}, "the sandbox has no SQS service", false
	}
	q, ok := e.sq.QueueByARN(tx, queueArn)
	if !ok {
		return core.QueueInfo{}, grant{}, fmt.Sprintf("queue %s does not exist", queueArn), false
	}
	if q.Policy == "" {
		return q, grant{}, fmt.Sprintf("queue %s has no access policy, so %s may not send to it", q.Name, service), false
	}
	return q, grant{doc: q.Policy, req: serviceRequest(service, "sqs:SendMessage", q.Arn, sourceArn, sourceAccount),
		refusal: fmt.Sprintf("the access policy of queue %s does not allow %s to call sqs:SendMessage with aws:SourceArn %s", q.Name, service, sourceArn)}, "", true
}

// arnAccount and arnRegion read fields of an ARN ("" when absent).
func arnField(arn string, i int) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 {
		return ""
	}
	return p[i]
}

func arnService(arn string) string { return arnField(arn, 2) }
func arnRegion(arn string) string  { return arnField(arn, 3) }
func arnAccount(arn string) string { return arnField(arn, 4) }

// scopeOf is the account and region of an ARN, defaulting to def.
func scopeOf(arn string, def core.Scope) core.Scope {
	sc := def
	if a := arnAccount(arn); a != "" {
		sc.Account = a
	}
	if r := arnRegion(arn); r != "" {
		sc.Region = r
	}
	return sc
}
