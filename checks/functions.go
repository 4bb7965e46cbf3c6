package checks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/runtimes"
)

// The lab's settings every function is created with.
const (
	labTimeout = 30
	labMemory  = 256
	labRule    = "rate(5 minutes)"
	labBatch   = 10
)

// functionOf names the function a step deploys.
func functionOf(step string, n lab.Names) string {
	switch step {
	case lab.StepS3Processor:
		return n.S3Function
	case lab.StepEventProcessor:
		return n.EventFunction
	case lab.StepQueueProcessor:
		return n.QueueFunction
	}
	return ""
}

// functionChecks are the three checks every function step has.
func functionChecks(step string) []Check {
	get := []string{"lambda:GetFunctionConfiguration"}
	return []Check{
		{ID: step + ".function", Title: "The function exists, is Active and runs as the lab role", Weight: 2, Actions: append(get, "iam:GetRole"),
			Run: wrap(func(ctx context.Context, r *run) Result { return checkFunction(ctx, r, step) })},
		{ID: step + ".runtime", Title: "The runtime is supported", Weight: 2, Actions: get,
			Run: wrap(func(ctx context.Context, r *run) Result { return checkRuntime(ctx, r, step) })},
		{ID: step + ".config", Title: "Timeout 30 s and memory 256 MB", Weight: 1, Actions: get,
			Run: wrap(func(ctx context.Context, r *run) Result { return checkConfig(ctx, r, step) })},
	}
}

func s3ProcessorChecks() []Check {
	return append(functionChecks(lab.StepS3Processor),
		Check{ID: "s3-processor.invoke-permission", Title: "S3 may invoke the function for this bucket", Weight: 2,
			Actions: []string{"lambda:GetFunctionConfiguration", "lambda:GetPolicy", "s3:GetBucketLocation", "s3:ListAllMyBuckets"}, Run: wrap(checkS3InvokePermission)},
		Check{ID: "s3-processor.notification", Title: "Uploads of .json files notify the function", Weight: 2,
			Actions: []string{"lambda:GetFunctionConfiguration", "s3:GetBucketNotification", "s3:GetBucketLocation", "s3:ListAllMyBuckets"}, Run: wrap(checkNotification)},
	)
}

func eventProcessorChecks() []Check {
	return append(functionChecks(lab.StepEventProcessor),
		Check{ID: "event-processor.topic-env", Title: "SNS_TOPIC_ARN names the topic", Weight: 2, Actions: []string{"lambda:GetFunctionConfiguration"}, Run: wrap(checkTopicEnv)},
		Check{ID: "event-processor.rule", Title: "The rule runs every 5 minutes", Weight: 2, Actions: []string{"events:DescribeRule", "dynamodb:DescribeTable", "dynamodb:Scan"}, Run: wrap(checkRule)},
		Check{ID: "event-processor.rule-target", Title: "The rule targets the function", Weight: 2,
			Actions: []string{"events:DescribeRule", "events:ListTargetsByRule", "lambda:GetFunctionConfiguration"}, Run: wrap(checkRuleTarget)},
		Check{ID: "event-processor.invoke-permission", Title: "EventBridge may invoke the function for this rule", Weight: 2,
			Actions: []string{"lambda:GetFunctionConfiguration", "lambda:GetPolicy", "events:DescribeRule"}, Run: wrap(checkEventsInvokePermission)},
	)
}

func queueProcessorChecks() []Check {
	return append(functionChecks(lab.StepQueueProcessor),
		Check{ID: "queue-processor.mapping", Title: "The queue feeds the function in batches of 10", Weight: 3,
			Actions: []string{"lambda:GetFunctionConfiguration", "lambda:ListEventSourceMappings"}, Run: wrap(checkMapping)},
		Check{ID: "queue-processor.visibility-timeout", Title: "The queue's visibility timeout covers the function's", Weight: 1,
			Actions: []string{"lambda:GetFunctionConfiguration", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"}, Run: wrap(checkVisibility)},
	)
}

func (r *run) needFunction(ctx context.Context, name, check string) (*lambda.GetFunctionConfigurationOutput, *Result) {
	cfg, err := r.function(ctx, name)
	if err != nil {
		res := errorResult(err, "function "+name)
		return nil, &res
	}
	if cfg == nil {
		res := skip("needs function "+name+", which does not exist", check)
		return nil, &res
	}
	return cfg, nil
}

func roleNameOf(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func checkFunction(ctx context.Context, r *run, step string) Result {
	name := functionOf(step, r.names)
	cfg, err := r.function(ctx, name)
	if err != nil {
		return errorResult(err, "function "+name)
	}
	if cfg == nil {
		return fail("function "+name+" does not exist", hint(redo(step), see(tsRolePropagation)), "lambda:GetFunctionConfiguration "+name+": ResourceNotFoundException")
	}
	role := aws.ToString(cfg.Role)
	ev := []string{
		"FunctionArn: " + aws.ToString(cfg.FunctionArn),
		fmt.Sprintf("State: %s, LastUpdateStatus: %s", cfg.State, quote(string(cfg.LastUpdateStatus))),
		"Role: " + role,
	}
	if roleNameOf(role) != r.names.Role {
		// The lab role's ARN, so the hint pastes as it is; the role's own
		// check says when that role is missing.
		labRole := fmt.Sprintf("arn:%s:iam::%s:role/%s", awsenv.PartitionOf(r.env.Region), r.env.Account, r.names.Role)
		return fail(fmt.Sprintf("function %s runs as role %s, not the lab role %s", name, roleNameOf(role), r.names.Role),
			hint("`aws lambda update-function-configuration --function-name "+name+" --role "+labRole+"`", see(tsPermissionErrors)), ev...)
	}
	if ri, err := r.role(ctx); err == nil && ri.Exists && ri.Arn != role {
		return fail(fmt.Sprintf("function %s names role %s, but the lab role's ARN is %s (recreated since?)", name, role, ri.Arn),
			"update the function's role to the current ARN", ev...)
	}
	waitCmd := "`aws lambda wait function-active-v2 --function-name " + name + "`"
	switch cfg.State {
	case ltypes.StatePending:
		return warn("function "+name+" is Pending: not ready yet", hint("wait: "+waitCmd, see(tsNotReady)), ev...)
	case ltypes.StateFailed:
		return fail("function "+name+" failed to become Active: "+aws.ToString(cfg.StateReason), see(tsRolePropagation), ev...)
	case ltypes.StateInactive:
		return warn("function "+name+" is Inactive (idle for a long time); the next invocation reactivates it", see(tsNotReady), ev...)
	}
	switch cfg.LastUpdateStatus {
	case ltypes.LastUpdateStatusInProgress:
		return warn("function "+name+" is being updated: not ready yet", hint("wait: `aws lambda wait function-updated-v2 --function-name "+name+"`", see(tsNotReady)), ev...)
	case ltypes.LastUpdateStatusFailed:
		return fail("the last update of "+name+" failed: "+aws.ToString(cfg.LastUpdateStatusReason), redo(step), ev...)
	}
	return pass("function "+name+" is Active and runs as "+r.names.Role, ev...)
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// runtimeDates says when a runtime was or will be deprecated and blocked.
func runtimeDates(st runtimes.Status, now time.Time) string {
	var parts []string
	say := func(what string, d time.Time) {
		if d.IsZero() {
			return
		}
		if now.Before(d) {
			parts = append(parts, what+" from "+day(d))
		} else {
			parts = append(parts, what+" since "+day(d))
		}
	}
	say("deprecated", st.Deprecated)
	say("creating functions blocked", st.BlockCreate)
	say("updating functions blocked", st.BlockUpdate)
	return strings.Join(parts, ", ")
}

func checkRuntime(ctx context.Context, r *run, step string) Result {
	name := functionOf(step, r.names)
	cfg, stop := r.needFunction(ctx, name, step+".function")
	if stop != nil {
		return *stop
	}
	now := r.now()
	rt := string(cfg.Runtime)
	if cfg.PackageType == ltypes.PackageTypeImage {
		return warn("function "+name+" is a container image: no managed runtime to check", "the lab deploys zip packages on provided.al2023 or nodejs22.x", "PackageType: Image")
	}
	ev := fmt.Sprintf("Runtime: %s (runtime table as of %s)", rt, day(runtimes.AsOf))
	st, ok := runtimes.StatusAt(rt, now)
	if !ok {
		return warn("runtime "+quote(rt)+" is not in slab's runtime table", "the lab uses provided.al2023 (Go) or nodejs22.x", ev)
	}
	dates := runtimeDates(st, now)
	if st.Phase != runtimes.Supported {
		ev += "; dates from " + st.Source
	}
	fix := hint(fmt.Sprintf("move to provided.al2023 (the Go build) or nodejs22.x with SDK v3 code: `aws lambda update-function-configuration --function-name %s --runtime nodejs22.x --handler index.handler`, then deploy the v3 code", name), see(tsRuntime))
	switch st.Phase {
	case runtimes.Supported:
		if dates != "" {
			ev += "; " + dates
		}
		return pass(fmt.Sprintf("runtime %s (%s) is supported", rt, st.Name), ev)
	case runtimes.Deprecated:
		return fail(fmt.Sprintf("runtime %s is deprecated: no more security patches (%s)", rt, dates), fix, ev)
	case runtimes.CreateBlocked:
		return fail(fmt.Sprintf("runtime %s is blocked for new functions (%s)", rt, dates), fix, ev)
	}
	return fail(fmt.Sprintf("runtime %s is blocked: functions on it can no longer be created or updated (%s)", rt, dates), fix, ev)
}

func checkConfig(ctx context.Context, r *run, step string) Result {
	name := functionOf(step, r.names)
	cfg, stop := r.needFunction(ctx, name, step+".function")
	if stop != nil {
		return *stop
	}
	timeout, memory := aws.ToInt32(cfg.Timeout), aws.ToInt32(cfg.MemorySize)
	ev := []string{fmt.Sprintf("Timeout: %d s, MemorySize: %d MB", timeout, memory)}
	var off []string
	if timeout != labTimeout {
		off = append(off, fmt.Sprintf("timeout %d s (the lab: %d)", timeout, labTimeout))
	}
	if memory != labMemory {
		off = append(off, fmt.Sprintf("memory %d MB (the lab: %d)", memory, labMemory))
	}
	vars := map[string]string{}
	if cfg.Environment != nil {
		vars = cfg.Environment.Variables
	}
	if t, ok := vars["TABLE_NAME"]; ok {
		ev = append(ev, "TABLE_NAME: "+quote(t))
		if t != r.names.Table {
			off = append(off, fmt.Sprintf("TABLE_NAME is %s, not %s", quote(t), r.names.Table))
		}
	} else if r.names.Table != lab.DefaultNames().Table {
		off = append(off, "no TABLE_NAME: the function writes to "+lab.DefaultNames().Table+", not "+r.names.Table)
	}
	if len(off) > 0 {
		return warn("function "+name+": "+strings.Join(off, "; "),
			fmt.Sprintf("works, but deviates from the lab: `aws lambda update-function-configuration --function-name %s --timeout %d --memory-size %d`", name, labTimeout, labMemory), ev...)
	}
	return pass(fmt.Sprintf("function %s: timeout %d s, memory %d MB", name, timeout, memory), ev...)
}

// ---- resource-based permissions (who may invoke)

// invokePermission evaluates the function's policy for principal from
// source (and account); unrelated is another source of the same kind, to
// tell a statement scoped to source from one open to any.
func (r *run) invokePermission(ctx context.Context, fn, service, source, unrelated string, wantAccount bool, fix string, ts string) Result {
	cfg, err := r.function(ctx, fn)
	if err != nil {
		return errorResult(err, "function "+fn)
	}
	if cfg == nil {
		return skip("needs function "+fn+", which does not exist", "the function check")
	}
	fnArn := aws.ToString(cfg.FunctionArn)
	doc, err := r.functionPolicy(ctx, fn)
	if err != nil {
		return errorResult(err, "the resource policy of "+fn)
	}
	if doc == "" {
		return fail(fmt.Sprintf("function %s has no resource-based policy: %s may not invoke it", fn, service), hint(fix, see(ts)),
			"lambda:GetPolicy "+fn+": ResourceNotFoundException")
	}
	p, err := policy.Parse(doc)
	if err != nil {
		return fail("the function's policy does not parse: "+err.Error(), hint(fix, see(ts)))
	}
	ev := []string{"policy: " + p.Compact()}
	req := func(src, account string) policy.Result {
		c := map[string][]string{"aws:SourceArn": {src}}
		if account != "" {
			c["aws:SourceAccount"] = []string{account}
		}
		return policy.EvaluateResource(policy.Request{Principal: policy.ServicePrincipal(service), Action: "lambda:InvokeFunction", Resource: fnArn, Context: c}, p)
	}
	res := req(source, r.env.Account)
	ev = append(ev, fmt.Sprintf("%s lambda:InvokeFunction from %s: %s", service, source, res.Decision))
	switch res.Decision {
	case policy.ExplicitDeny:
		return fail(fmt.Sprintf("the policy of %s denies %s from %s", fn, service, source), hint("remove the Deny statement", see(ts)), append(ev, statementsOf(res)...)...)
	case policy.ImplicitDeny:
		why := fmt.Sprintf("no statement lets %s invoke %s from %s", service, fn, source)
		if mentions(p, service) {
			why += " (the statement for " + service + " names another source or account: a lost shell variable?)"
		}
		return fail(why, hint(fix, see(ts)), ev...)
	}
	var loose []string
	if req(unrelated, r.env.Account).Allowed() {
		loose = append(loose, "any source may invoke it (no aws:SourceArn condition)")
	}
	if wantAccount && req(source, "111122223333").Allowed() {
		loose = append(loose, "no aws:SourceAccount condition: a bucket of the same name in another account could invoke it")
	}
	if len(loose) > 0 {
		return warn(fmt.Sprintf("%s may invoke %s, but %s", service, fn, strings.Join(loose, "; ")), hint(fix, see(ts)), ev...)
	}
	return pass(fmt.Sprintf("%s may invoke %s from %s only", service, fn, source), ev...)
}

// mentions reports whether a statement of the policy names the service principal.
func mentions(p *policy.Document, service string) bool {
	for _, st := range p.Statements {
		if st.Principal != nil {
			for _, s := range st.Principal.Service {
				if strings.EqualFold(s, service) {
					return true
				}
			}
		}
	}
	return false
}

func checkS3InvokePermission(ctx context.Context, r *run) Result {
	fn := r.names.S3Function
	if _, stop := r.needFunction(ctx, fn, "s3-processor.function"); stop != nil {
		return *stop
	}
	b, stop := r.needBucket(ctx)
	if stop != nil {
		return *stop
	}
	fix := fmt.Sprintf("`aws lambda add-permission --function-name %s --statement-id s3-trigger --action lambda:InvokeFunction --principal s3.amazonaws.com --source-arn %s --source-account %s`",
		fn, r.bucketArn(b.Name), r.env.Account)
	return r.invokePermission(ctx, fn, "s3.amazonaws.com", r.bucketArn(b.Name), r.bucketArn("slab-unrelated-bucket"), true, fix, tsS3Permission)
}

func checkEventsInvokePermission(ctx context.Context, r *run) Result {
	fn := r.names.EventFunction
	if _, stop := r.needFunction(ctx, fn, "event-processor.function"); stop != nil {
		return *stop
	}
	ruleArn := r.ruleArn()
	if rule, err := r.rule(ctx); err == nil && rule != nil && aws.ToString(rule.Arn) != "" {
		ruleArn = aws.ToString(rule.Arn)
	}
	fix := fmt.Sprintf("`aws lambda add-permission --function-name %s --statement-id eventbridge-trigger --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn %s`", fn, ruleArn)
	return r.invokePermission(ctx, fn, "events.amazonaws.com", ruleArn, r.arn("events", r.env.Region, "rule/slab-unrelated-rule"), false, fix, tsEventsPermission)
}

// ---- the S3 notification

func sameFunction(a, b string) bool {
	trim := func(s string) string { return strings.TrimSuffix(s, ":$LATEST") }
	return trim(a) == trim(b)
}

func checkNotification(ctx context.Context, r *run) Result {
	fn := r.names.S3Function
	cfg, stop := r.needFunction(ctx, fn, "s3-processor.function")
	if stop != nil {
		return *stop
	}
	b, stop := r.needBucket(ctx)
	if stop != nil {
		return *stop
	}
	fnArn := aws.ToString(cfg.FunctionArn)
	out, err := r.c.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(b.Name)}, r.s3Region(b))
	if err != nil {
		return errorResult(err, "the notification configuration of "+b.Name)
	}
	var mine []s3types.LambdaFunctionConfiguration
	var others []string
	for _, c := range out.LambdaFunctionConfigurations {
		if sameFunction(aws.ToString(c.LambdaFunctionArn), fnArn) {
			mine = append(mine, c)
		} else {
			others = append(others, quote(aws.ToString(c.LambdaFunctionArn)))
		}
	}
	if len(mine) == 0 {
		if len(others) > 0 {
			return fail("the bucket notifies "+strings.Join(others, ", ")+", not "+fnArn, hint(redo(lab.StepS3Processor), see(tsLostVariables), see(tsNotificationFires)),
				"s3:GetBucketNotificationConfiguration: "+fmt.Sprint(len(others))+" Lambda configurations, none for "+fn)
		}
		return fail("bucket "+b.Name+" has no notification for "+fn, hint(redo(lab.StepS3Processor), see(tsNotificationFires)),
			"s3:GetBucketNotificationConfiguration: no LambdaFunctionConfigurations")
	}
	best := Result{Status: Fail}
	for _, c := range mine {
		res := judgeNotification(c, fn)
		if res.Status < best.Status || best.Summary == "" {
			best = res
		}
	}
	return best
}

func judgeNotification(c s3types.LambdaFunctionConfiguration, fn string) Result {
	var events []string
	all, some := false, false
	for _, e := range c.Events {
		events = append(events, string(e))
		switch {
		case e == "s3:ObjectCreated:*":
			all = true
		case strings.HasPrefix(string(e), "s3:ObjectCreated:"):
			some = true
		}
	}
	suffix, prefix, hasSuffix := "", "", false
	if c.Filter != nil && c.Filter.Key != nil {
		for _, fr := range c.Filter.Key.FilterRules {
			switch strings.ToLower(string(fr.Name)) {
			case "suffix":
				suffix, hasSuffix = aws.ToString(fr.Value), true
			case "prefix":
				prefix = aws.ToString(fr.Value)
			}
		}
	}
	ev := []string{fmt.Sprintf("events %s, suffix %s, prefix %s -> %s", strings.Join(events, " "), quote(suffix), quote(prefix), aws.ToString(c.LambdaFunctionArn))}
	fixCmd := hint("put the configuration of `slab show s3-processor` again (Events [\"s3:ObjectCreated:*\"], suffix \".json\")", see(tsNotificationFires))
	if !all && !some {
		return fail("the notification to "+fn+" is for "+strings.Join(events, ", ")+", not for uploads (s3:ObjectCreated:*)", fixCmd, ev...)
	}
	switch {
	case hasSuffix && suffix != ".json" && strings.EqualFold(suffix, ".json"):
		return fail(fmt.Sprintf("suffix filter %q: S3 filters are case-sensitive, so uploads named *.json do not match", suffix), fixCmd, ev...)
	case hasSuffix && suffix != ".json" && !strings.HasSuffix(".json", suffix):
		return fail(fmt.Sprintf("suffix filter %q: uploads named *.json do not match", suffix), fixCmd, ev...)
	}
	var warns []string
	if !all {
		warns = append(warns, "only "+strings.Join(events, ", ")+": multipart uploads or copies of .json files are missed (the lab uses s3:ObjectCreated:*)")
	}
	switch {
	case !hasSuffix || suffix == "":
		warns = append(warns, "no suffix filter: every upload invokes the function, not only .json files")
	case suffix != ".json":
		warns = append(warns, fmt.Sprintf("suffix %q also matches keys that do not end in .json", suffix))
	}
	if prefix != "" {
		warns = append(warns, fmt.Sprintf("prefix filter %q: only keys under it invoke the function", prefix))
	}
	if len(warns) > 0 {
		return warn(strings.Join(warns, "; "), fixCmd, ev...)
	}
	return pass("uploads of *.json (s3:ObjectCreated:*) notify "+fn, ev...)
}

// ---- event processor

func checkTopicEnv(ctx context.Context, r *run) Result {
	fn := r.names.EventFunction
	cfg, stop := r.needFunction(ctx, fn, "event-processor.function")
	if stop != nil {
		return *stop
	}
	want := r.topicArn()
	got, set := "", false
	if cfg.Environment != nil {
		got, set = cfg.Environment.Variables["SNS_TOPIC_ARN"]
	}
	ev := "Environment.Variables.SNS_TOPIC_ARN: " + quote(got)
	fix := hint(fmt.Sprintf("`aws lambda update-function-configuration --function-name %s --environment \"Variables={SNS_TOPIC_ARN=%s,TABLE_NAME=%s}\"`", fn, want, r.names.Table), see(tsTopicEnv))
	switch {
	case !set:
		return fail("function "+fn+" has no SNS_TOPIC_ARN variable: every run fails to publish", fix, ev)
	case strings.TrimSpace(got) == "":
		return fail("SNS_TOPIC_ARN of "+fn+" is empty (created from an empty shell variable?): every run fails to publish", hint(fix, see(tsLostVariables)), ev)
	case got != want:
		return fail(fmt.Sprintf("SNS_TOPIC_ARN is %s, not the topic's ARN %s", got, want), fix, ev)
	}
	return pass("SNS_TOPIC_ARN names "+want, ev)
}

func checkRule(ctx context.Context, r *run) Result {
	rule, err := r.rule(ctx)
	if err != nil {
		return errorResult(err, "rule "+r.names.Rule)
	}
	if rule == nil {
		return fail("rule "+r.names.Rule+" does not exist", redo(lab.StepEventProcessor), "events:DescribeRule "+r.names.Rule+": ResourceNotFoundException")
	}
	sched := aws.ToString(rule.ScheduleExpression)
	ev := []string{fmt.Sprintf("ScheduleExpression: %s, State: %s, Arn: %s", quote(sched), rule.State, aws.ToString(rule.Arn))}
	if sched == "" {
		return fail("rule "+r.names.Rule+" has no schedule (an event pattern rule?)", redo(lab.StepEventProcessor), ev...)
	}
	var warns []string
	if strings.Join(strings.Fields(sched), " ") != labRule {
		warns = append(warns, fmt.Sprintf("schedule %s, the lab uses %s", sched, labRule))
	}
	h := ""
	if rule.State == "DISABLED" {
		// Disabled is what the end-to-end lesson asks for once the chain
		// is tested (a running schedule costs and writes rows forever): in
		// that context it is correct. Before the chain ever ran, a rule
		// created disabled means the schedule never invokes the function.
		row, scanned, err := r.summaryRow(ctx)
		if err != nil {
			return errorResult(err, "the rows of "+r.names.Table+" (is the chain tested?)")
		}
		ev = append(ev, fmt.Sprintf("dynamodb:Scan %s for summary-*: %d items read, %s", r.names.Table, scanned, orNone(row)))
		if row == "" {
			return fail("rule "+r.names.Rule+" is DISABLED and the chain has never run end to end: the schedule never invokes the event processor (created with --state DISABLED?)",
				hint("enable it: `aws events enable-rule --name "+r.names.Rule+"`; disable it only after step 8's test, as the lesson says", see(tsSchedule)), ev...)
		}
		if len(warns) == 0 {
			return pass("rule "+r.names.Rule+" runs "+labRule+", DISABLED after the chain was tested (row "+row+"), as step 8 says; `aws events enable-rule --name "+r.names.Rule+"` runs it again", ev...)
		}
	} else if rule.State != "ENABLED" {
		warns = append(warns, "state "+string(rule.State))
	}
	if len(warns) > 0 {
		if h == "" {
			h = see(tsSchedule)
		}
		return warn(strings.Join(warns, "; "), h, ev...)
	}
	return pass("rule "+r.names.Rule+" runs "+labRule+" and is ENABLED", ev...)
}

func checkRuleTarget(ctx context.Context, r *run) Result {
	rule, err := r.rule(ctx)
	if err != nil {
		return errorResult(err, "rule "+r.names.Rule)
	}
	if rule == nil {
		return skip("needs rule "+r.names.Rule+", which does not exist", "event-processor.rule")
	}
	want := r.functionArnGuess(r.names.EventFunction)
	if cfg, err := r.function(ctx, r.names.EventFunction); err == nil && cfg != nil {
		want = aws.ToString(cfg.FunctionArn)
	}
	ts, err := r.targets(ctx)
	if err != nil {
		return errorResult(err, "the targets of "+r.names.Rule)
	}
	var got []string
	for _, t := range ts {
		got = append(got, quote(aws.ToString(t.Arn)))
		if sameFunction(aws.ToString(t.Arn), want) {
			return pass("rule "+r.names.Rule+" targets "+r.names.EventFunction, "events:ListTargetsByRule: "+strings.Join(got, ", "))
		}
	}
	fix := fmt.Sprintf("`aws events put-targets --rule %s --targets Id=1,Arn=%s`", r.names.Rule, want)
	if len(got) == 0 {
		return fail("rule "+r.names.Rule+" has no target", hint(fix, see(tsSchedule)), "events:ListTargetsByRule: none")
	}
	return fail("rule "+r.names.Rule+" targets "+strings.Join(got, ", ")+", not "+want, hint(fix, see(tsLostVariables), see(tsSchedule)),
		"events:ListTargetsByRule: "+strings.Join(got, ", "))
}

// ---- queue processor

func checkMapping(ctx context.Context, r *run) Result {
	fn := r.names.QueueFunction
	if _, stop := r.needFunction(ctx, fn, "queue-processor.function"); stop != nil {
		return *stop
	}
	qArn := r.queueArn(ctx)
	ms, err := r.mappings(ctx, fn)
	if err != nil {
		return errorResult(err, "the event source mappings of "+fn)
	}
	var m *ltypes.EventSourceMappingConfiguration
	var others []string
	for i := range ms {
		if aws.ToString(ms[i].EventSourceArn) == qArn {
			m = &ms[i]
			break
		}
		others = append(others, aws.ToString(ms[i].EventSourceArn))
	}
	create := fmt.Sprintf("`aws lambda create-event-source-mapping --function-name %s --event-source-arn %s --batch-size %d --function-response-types ReportBatchItemFailures`", fn, qArn, labBatch)
	if m == nil {
		if len(others) > 0 {
			return fail(fn+" is fed by "+strings.Join(others, ", ")+", not by "+qArn, hint(create, see(tsLostVariables)), "lambda:ListEventSourceMappings: "+strings.Join(others, ", "))
		}
		return fail("no event source mapping from "+r.names.Queue+" to "+fn, hint(create, see(tsESMPermission)), "lambda:ListEventSourceMappings: none")
	}
	uuid := aws.ToString(m.UUID)
	state := aws.ToString(m.State)
	reportFailures := false
	for _, t := range m.FunctionResponseTypes {
		if t == ltypes.FunctionResponseTypeReportBatchItemFailures {
			reportFailures = true
		}
	}
	ev := []string{fmt.Sprintf("UUID %s: State %s, BatchSize %d, FunctionResponseTypes %v, LastProcessingResult %s",
		uuid, state, aws.ToInt32(m.BatchSize), m.FunctionResponseTypes, quote(aws.ToString(m.LastProcessingResult)))}
	if reason := aws.ToString(m.StateTransitionReason); reason != "" {
		ev = append(ev, "StateTransitionReason: "+reason)
	}
	switch state {
	case "Enabled":
	case "Creating", "Enabling", "Updating":
		return warn("the mapping is "+state+": not ready yet", see(tsNotReady), ev...)
	case "Disabled", "Disabling":
		return fail("the mapping from "+r.names.Queue+" to "+fn+" is "+state+": messages wait in the queue",
			"`aws lambda update-event-source-mapping --uuid "+uuid+" --enabled`", ev...)
	default:
		return warn("the mapping is "+state, see(tsESMPermission), ev...)
	}
	var warns []string
	if b := aws.ToInt32(m.BatchSize); b != labBatch {
		warns = append(warns, fmt.Sprintf("batch size %d (the lab: %d)", b, labBatch))
	}
	if !reportFailures {
		warns = append(warns, "no ReportBatchItemFailures: one bad message makes the whole batch retry")
	}
	if len(warns) > 0 {
		return warn("the mapping works, but: "+strings.Join(warns, "; "),
			hint("`aws lambda update-event-source-mapping --uuid "+uuid+" --batch-size 10 --function-response-types ReportBatchItemFailures`", see(tsPoison)), ev...)
	}
	return pass("the queue feeds "+fn+" in batches of 10, reporting failed items", ev...)
}

func checkVisibility(ctx context.Context, r *run) Result {
	fn := r.names.QueueFunction
	cfg, stop := r.needFunction(ctx, fn, "queue-processor.function")
	if stop != nil {
		return *stop
	}
	q, err := r.queue(ctx)
	if err != nil {
		return errorResult(err, "queue "+r.names.Queue)
	}
	if !q.Exists {
		return skip("needs queue "+r.names.Queue+", which does not exist", "sns-sqs.queue")
	}
	vt, _ := strconv.Atoi(q.Attrs["VisibilityTimeout"])
	ft := int(aws.ToInt32(cfg.Timeout))
	ev := fmt.Sprintf("queue VisibilityTimeout %d s, function Timeout %d s", vt, ft)
	fix := hint(fmt.Sprintf("`aws sqs set-queue-attributes --queue-url %s --attributes VisibilityTimeout=%d`", q.URL, 6*ft), see(tsVisibility))
	switch {
	case vt < ft:
		return fail(fmt.Sprintf("visibility timeout %d s is shorter than the function's timeout %d s: messages come back while still being processed", vt, ft), fix, ev)
	case vt < 6*ft:
		return warn(fmt.Sprintf("visibility timeout %d s is under 6 x the function timeout (%d s), which AWS recommends", vt, 6*ft), fix, ev)
	}
	return pass(fmt.Sprintf("visibility timeout %d s covers 6 x the function timeout", vt), ev)
}
