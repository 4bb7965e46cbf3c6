package steps

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/lambdas"
	"github.com/slab-lab/slab/policy"
)

// The lab's function settings and the ids its lessons use.
const (
	FunctionTimeout    = 30
	FunctionMemory     = 256
	NotificationID     = "slab-s3-processor"
	S3StatementID      = "s3-trigger"
	EventsStatementID  = "eventbridge-trigger"
	RuleTargetID       = "1"
	Schedule           = "rate(5 minutes)"
	MappingBatchSize   = 10
	ruleDescription    = "Runs the lab's event processor"
	propagationMessage = "cannot be assumed by Lambda"
)

// functionSpec is one of the lab's three functions.
type functionSpec struct {
	name     string // the learner's function name
	function string // lambdas' name: s3-processor, event-processor, queue-processor
	key      string // state key
	env      map[string]string
}

// deployFunction converges a function: created from the lab's package, or
// its code, configuration and tags corrected. It returns the function's ARN
// and whether the function exists now (false only in a dry run).
func (p *performer) deployFunction(s functionSpec) (string, bool, error) {
	c := p.c.lambda
	fnArn := p.functionArn(s.name)
	r := p.resource("Lambda function "+s.name, s.key, fnArn)
	got, err := c.GetFunction(p.ctx, &lambda.GetFunctionInput{FunctionName: str(s.name)})
	if err != nil && !isCode(err, "ResourceNotFoundException") {
		return fnArn, false, r.fail(err)
	}
	exists := err == nil
	runtime := p.o.Runtime
	if runtime == "" {
		runtime = lambdas.RuntimeGo
		if exists && strings.HasPrefix(string(got.Configuration.Runtime), "nodejs") {
			runtime = lambdas.RuntimeNodejs // keep what the learner chose
		}
	}
	// What the package will be; the package itself is built only when
	// needed (creating, or comparing with deployed code), as a first
	// build cross-compiles.
	info := lambdas.PackInfo{Function: s.function, Runtime: runtime, LambdaRuntime: lambdas.LambdaRuntimeGo, Handler: s.function}
	if runtime == lambdas.RuntimeNodejs {
		info.LambdaRuntime, info.Handler = lambdas.LambdaRuntimeNodejs, "index.handler"
	}
	var zip []byte
	if exists || !p.o.DryRun {
		z, built, err := p.functionZip(s.function, runtime)
		if err != nil {
			return fnArn, exists, r.fail(fmt.Errorf("package %s: %w", s.function, err))
		}
		zip, info = z, built
	}
	if !exists {
		var tags = p.tags()
		in := &lambda.CreateFunctionInput{
			FunctionName:  str(s.name),
			Runtime:       ltypes.Runtime(info.LambdaRuntime),
			Handler:       str(info.Handler),
			Role:          str(p.roleArn()),
			Code:          &ltypes.FunctionCode{ZipFile: zip},
			Timeout:       aws.Int32(FunctionTimeout),
			MemorySize:    aws.Int32(FunctionMemory),
			Architectures: []ltypes.Architecture{ltypes.Architecture(p.o.Arch)},
			Environment:   &ltypes.Environment{Variables: s.env},
			Tags:          tags,
		}
		if err := r.create("does not exist", func(ctx context.Context) error {
			out, err := p.createFunction(r, ctx, in)
			if out != "" {
				r.id = out
				fnArn = out
			}
			return err
		}); err != nil {
			return fnArn, false, err
		}
		r.note("%s, %s", info.LambdaRuntime, p.o.Arch)
		if !p.o.DryRun {
			if err := p.waitFunction(r, s.name, true); err != nil {
				return fnArn, true, err
			}
		}
		r.finish()
		return fnArn, !p.o.DryRun, nil
	}

	cfg := got.Configuration
	fnArn = aws.ToString(cfg.FunctionArn)
	r.id = fnArn
	if cfg.State == ltypes.StatePending {
		if err := p.waitFunction(r, s.name, true); err != nil {
			return fnArn, true, err
		}
	}
	if cfg.LastUpdateStatus == ltypes.LastUpdateStatusInProgress {
		if err := p.waitFunction(r, s.name, false); err != nil {
			return fnArn, true, err
		}
	}
	// Configuration first: a function on a blocked runtime (nodejs18.x)
	// refuses code updates until its runtime changes.
	var diffs []string
	if string(cfg.Runtime) != info.LambdaRuntime {
		diffs = append(diffs, fmt.Sprintf("runtime %s, want %s", orNone(string(cfg.Runtime)), info.LambdaRuntime))
	}
	if aws.ToString(cfg.Handler) != info.Handler {
		diffs = append(diffs, fmt.Sprintf("handler %s, want %s", orNone(aws.ToString(cfg.Handler)), info.Handler))
	}
	if aws.ToString(cfg.Role) != p.roleArn() {
		diffs = append(diffs, fmt.Sprintf("role %s, want %s", aws.ToString(cfg.Role), p.roleArn()))
	}
	if aws.ToInt32(cfg.Timeout) != FunctionTimeout {
		diffs = append(diffs, fmt.Sprintf("timeout %d s, want %d", aws.ToInt32(cfg.Timeout), FunctionTimeout))
	}
	if aws.ToInt32(cfg.MemorySize) != FunctionMemory {
		diffs = append(diffs, fmt.Sprintf("memory %d MB, want %d", aws.ToInt32(cfg.MemorySize), FunctionMemory))
	}
	vars := map[string]string{}
	if cfg.Environment != nil {
		for k, v := range cfg.Environment.Variables {
			vars[k] = v
		}
	}
	for _, k := range sortedKeys(s.env) {
		if have, ok := vars[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("environment %s missing", k))
		} else if have != s.env[k] {
			diffs = append(diffs, fmt.Sprintf("environment %s is %q, want %q", k, have, s.env[k]))
		}
		vars[k] = s.env[k] // other variables the learner set stay
	}
	if len(diffs) > 0 {
		if err := r.update(strings.Join(diffs, ", "), func(ctx context.Context) error {
			// A role just created or fixed propagates first, as for a create.
			return p.retryPropagation(r, ctx, waitingIAM, roleNotAssumable, nil, func(ctx context.Context) error {
				_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
					FunctionName: str(s.name),
					Runtime:      ltypes.Runtime(info.LambdaRuntime),
					Handler:      str(info.Handler),
					Role:         str(p.roleArn()),
					Timeout:      aws.Int32(FunctionTimeout),
					MemorySize:   aws.Int32(FunctionMemory),
					Environment:  &ltypes.Environment{Variables: vars},
				})
				return err
			})
		}); err != nil {
			return fnArn, true, err
		}
		if !p.o.DryRun {
			if err := p.waitFunction(r, s.name, false); err != nil {
				return fnArn, true, err
			}
		}
	}
	arch := "x86_64"
	if len(cfg.Architectures) > 0 {
		arch = string(cfg.Architectures[0])
	}
	wantSha := lambdas.CodeSha256(zip)
	var codeWhy []string
	if aws.ToString(cfg.CodeSha256) != wantSha {
		codeWhy = append(codeWhy, fmt.Sprintf("code differs from the lab's %s package (CodeSha256 %s, want %s)", info.Runtime, short(aws.ToString(cfg.CodeSha256)), short(wantSha)))
	}
	if arch != p.o.Arch {
		codeWhy = append(codeWhy, fmt.Sprintf("architecture %s, want %s", arch, p.o.Arch))
	}
	if len(codeWhy) > 0 {
		if err := r.update(strings.Join(codeWhy, ", "), func(ctx context.Context) error {
			_, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
				FunctionName: str(s.name), ZipFile: zip, Architectures: []ltypes.Architecture{ltypes.Architecture(p.o.Arch)},
			})
			return err
		}); err != nil {
			return fnArn, true, err
		}
		if !p.o.DryRun {
			if err := p.waitFunction(r, s.name, false); err != nil {
				return fnArn, true, err
			}
		}
	}
	if why, set := p.missingTags(got.Tags); why != "" {
		if err := r.update(why, func(ctx context.Context) error {
			_, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: str(fnArn), Tags: set})
			return err
		}); err != nil {
			return fnArn, true, err
		}
	}
	r.finish()
	return fnArn, true, nil
}

// createFunction creates a function, retrying while IAM propagates a new
// role ("The role defined for the function cannot be assumed by Lambda.").
// Waiting between attempts is a safe point.
func (p *performer) createFunction(r *resource, ctx context.Context, in *lambda.CreateFunctionInput) (string, error) {
	var arn string
	roleExists := func() error {
		// Propagation is worth waiting for only if the role exists.
		if _, gerr := p.c.iam.GetRole(p.ctx, &iam.GetRoleInput{RoleName: str(p.n.Role)}); isCode(gerr, "NoSuchEntity") {
			return fmt.Errorf("role %s does not exist: do step 1 (iam-role) first", p.n.Role)
		}
		return nil
	}
	err := p.retryPropagation(r, ctx, waitingIAM, roleNotAssumable, roleExists, func(ctx context.Context) error {
		out, err := p.c.lambda.CreateFunction(ctx, in)
		if err == nil {
			arn = aws.ToString(out.FunctionArn)
			return nil
		}
		if isCode(err, "ResourceConflictException") && strings.Contains(err.Error(), "already exist") {
			return nil // created by a concurrent run; the next run converges it
		}
		return err
	})
	return arn, err
}

// waitFunction waits for a new function to be Active, or an update to finish.
func (p *performer) waitFunction(r *resource, name string, active bool) error {
	start := time.Now()
	in := &lambda.GetFunctionInput{FunctionName: str(name)}
	var err error
	if active {
		err = lambda.NewFunctionActiveV2Waiter(p.c.lambda, func(o *lambda.FunctionActiveV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = 500*time.Millisecond, 5*time.Second
		}).Wait(p.ctx, in, 5*time.Minute)
	} else {
		err = lambda.NewFunctionUpdatedV2Waiter(p.c.lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = 500*time.Millisecond, 5*time.Second
		}).Wait(p.ctx, in, 5*time.Minute)
	}
	if err != nil {
		return r.fail(err)
	}
	if active {
		r.note("Active after %s", roundDur(time.Since(start)))
	}
	return nil
}

// ensurePermission converges one statement of a function's resource policy:
// principal may invoke the function for sourceArn (and sourceAccount).
func (p *performer) ensurePermission(fn, fnArn string, fnExists bool, sid, principal, sourceArn, sourceAccount string) error {
	c := p.c.lambda
	r := p.resource(fmt.Sprintf("permission %s on function %s", sid, fn), "", fnArn)
	var found *policy.Statement
	if fnExists {
		gp, err := c.GetPolicy(p.ctx, &lambda.GetPolicyInput{FunctionName: str(fn)})
		if err != nil && !isCode(err, "ResourceNotFoundException") {
			return r.fail(err)
		}
		if err == nil {
			doc, perr := policy.Parse(aws.ToString(gp.Policy))
			if perr == nil {
				for _, st := range doc.Statements {
					if st.Sid == sid {
						found = st
					}
				}
			}
		}
	}
	add := func(ctx context.Context) error {
		in := &lambda.AddPermissionInput{
			FunctionName: str(fn), StatementId: str(sid), Action: str("lambda:InvokeFunction"),
			Principal: str(principal), SourceArn: str(sourceArn),
		}
		if sourceAccount != "" {
			in.SourceAccount = str(sourceAccount)
		}
		_, err := c.AddPermission(ctx, in)
		return err
	}
	if found == nil {
		if err := r.create("missing", add); err != nil {
			return err
		}
	} else if why := permissionProblem(found, principal, sourceArn, sourceAccount); why != "" {
		if err := r.update(why, func(ctx context.Context) error {
			if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: str(fn), StatementId: str(sid)}); err != nil && !isCode(err, "ResourceNotFoundException") {
				return err
			}
			return add(ctx)
		}); err != nil {
			return err
		}
	}
	r.finish()
	return nil
}

// permissionProblem says what is wrong with a function policy statement.
func permissionProblem(st *policy.Statement, principal, sourceArn, sourceAccount string) string {
	if st.Effect != policy.Allow {
		return "statement denies"
	}
	if st.Principal == nil || !st.Principal.Matches(policy.ServicePrincipal(principal)) {
		return "principal is not " + principal
	}
	okAction := false
	for _, a := range st.Action {
		if policy.MatchAction(a, "lambda:InvokeFunction") {
			okAction = true
		}
	}
	if !okAction {
		return "action is not lambda:InvokeFunction"
	}
	cond := func(key, want string) bool {
		for _, c := range st.Conditions {
			if strings.EqualFold(c.Key, key) {
				for _, v := range c.Values {
					if v == want {
						return true
					}
				}
			}
		}
		return false
	}
	if !cond("aws:SourceArn", sourceArn) {
		return "not scoped to source " + sourceArn
	}
	if sourceAccount != "" && !cond("aws:SourceAccount", sourceAccount) {
		return "not scoped to source account " + sourceAccount
	}
	return ""
}

// ensureNotification converges the bucket's notification to the function,
// keeping every other configuration the bucket has.
func (p *performer) ensureNotification(fnArn string) error {
	c := p.c.s3
	bucket := p.bucket()
	r := p.resource(fmt.Sprintf("notification %s on bucket %s", NotificationID, bucket), "", bucket)
	cur, err := c.GetBucketNotificationConfiguration(p.ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: str(bucket)})
	if err != nil {
		if !(p.o.DryRun && isCode(err, "NoSuchBucket", "NotFound")) {
			return r.fail(err)
		}
		cur = &s3.GetBucketNotificationConfigurationOutput{}
	}
	want := s3types.LambdaFunctionConfiguration{
		Id:                str(NotificationID),
		LambdaFunctionArn: str(fnArn),
		Events:            []s3types.Event{"s3:ObjectCreated:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{
			FilterRules: []s3types.FilterRule{{Name: s3types.FilterRuleNameSuffix, Value: str(".json")}},
		}},
	}
	var keep []s3types.LambdaFunctionConfiguration
	var ours []s3types.LambdaFunctionConfiguration
	for _, lc := range cur.LambdaFunctionConfigurations {
		if aws.ToString(lc.Id) == NotificationID || aws.ToString(lc.LambdaFunctionArn) == fnArn {
			ours = append(ours, lc)
		} else {
			keep = append(keep, lc)
		}
	}
	for _, lc := range ours {
		if notificationMatches(lc, fnArn) {
			r.finish() // the learner's own equivalent configuration counts
			return nil
		}
	}
	why := "missing"
	if len(ours) > 0 {
		why = describeNotification(ours[0], fnArn)
	}
	put := func(ctx context.Context) error {
		_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: str(bucket),
			NotificationConfiguration: &s3types.NotificationConfiguration{
				LambdaFunctionConfigurations: append(keep, want),
				QueueConfigurations:          cur.QueueConfigurations,
				TopicConfigurations:          cur.TopicConfigurations,
				EventBridgeConfiguration:     cur.EventBridgeConfiguration,
			},
		})
		return err
	}
	if len(ours) == 0 {
		err = r.create(why, put)
	} else {
		err = r.update(why, put)
	}
	if err != nil {
		return err
	}
	if n := len(keep) + len(cur.QueueConfigurations) + len(cur.TopicConfigurations); n > 0 {
		r.note("kept the bucket's %d other notification configuration(s)", n)
	}
	r.finish()
	return nil
}

func notificationMatches(lc s3types.LambdaFunctionConfiguration, fnArn string) bool {
	return describeNotification(lc, fnArn) == ""
}

// describeNotification says how a configuration differs from the lab's.
func describeNotification(lc s3types.LambdaFunctionConfiguration, fnArn string) string {
	if aws.ToString(lc.LambdaFunctionArn) != fnArn {
		return "targets " + aws.ToString(lc.LambdaFunctionArn) + ", want " + fnArn
	}
	if len(lc.Events) != 1 || lc.Events[0] != "s3:ObjectCreated:*" {
		var ev []string
		for _, e := range lc.Events {
			ev = append(ev, string(e))
		}
		return fmt.Sprintf("events %v, want [s3:ObjectCreated:*]", ev)
	}
	var rules []string
	if lc.Filter != nil && lc.Filter.Key != nil {
		for _, fr := range lc.Filter.Key.FilterRules {
			rules = append(rules, strings.ToLower(string(fr.Name))+"="+aws.ToString(fr.Value))
		}
	}
	if len(rules) != 1 || rules[0] != "suffix=.json" {
		return fmt.Sprintf("filter %v, want suffix=.json (case-sensitive)", rules)
	}
	return ""
}

// --- step 4 ---

func performS3Processor(p *performer) error {
	fnArn, exists, err := p.deployFunction(functionSpec{
		name: p.n.S3Function, function: "s3-processor", key: "s3-function",
		env: map[string]string{"TABLE_NAME": p.n.Table},
	})
	if err != nil {
		return err
	}
	if err := p.ensurePermission(p.n.S3Function, fnArn, exists, S3StatementID, "s3.amazonaws.com", p.bucketArn(), p.account()); err != nil {
		return err
	}
	return p.ensureNotification(fnArn)
}

// --- step 6 ---

func performEventProcessor(p *performer) error {
	fnArn, exists, err := p.deployFunction(functionSpec{
		name: p.n.EventFunction, function: "event-processor", key: "event-function",
		env: map[string]string{"SNS_TOPIC_ARN": p.topicArn(), "TABLE_NAME": p.n.Table},
	})
	if err != nil {
		return err
	}
	ruleArn, ruleExists, err := p.ensureRule()
	if err != nil {
		return err
	}
	if err := p.ensurePermission(p.n.EventFunction, fnArn, exists, EventsStatementID, "events.amazonaws.com", ruleArn, ""); err != nil {
		return err
	}
	return p.ensureTarget(ruleExists, fnArn)
}

func (p *performer) ensureRule() (string, bool, error) {
	c := p.c.events
	ruleArn := p.ruleArn()
	r := p.resource("EventBridge rule "+p.n.Rule, "rule", ruleArn)
	got, err := c.DescribeRule(p.ctx, &eventbridge.DescribeRuleInput{Name: str(p.n.Rule)})
	put := func(ctx context.Context, tags bool) error {
		in := &eventbridge.PutRuleInput{
			Name: str(p.n.Rule), ScheduleExpression: str(Schedule), State: ebtypes.RuleStateEnabled, Description: str(ruleDescription),
		}
		if tags {
			for _, k := range sortedKeys(p.tags()) {
				in.Tags = append(in.Tags, ebtypes.Tag{Key: str(k), Value: str(p.tags()[k])})
			}
		}
		out, err := c.PutRule(ctx, in)
		if err == nil && out.RuleArn != nil {
			r.id = aws.ToString(out.RuleArn)
		}
		return err
	}
	switch {
	case isCode(err, "ResourceNotFoundException"):
		if err := r.create("does not exist", func(ctx context.Context) error { return put(ctx, true) }); err != nil {
			return ruleArn, false, err
		}
		r.note("%s, ENABLED", Schedule)
		r.finish()
		return r.id, !p.o.DryRun, nil
	case err != nil:
		return ruleArn, false, r.fail(err)
	}
	r.id = aws.ToString(got.Arn)
	if sched := aws.ToString(got.ScheduleExpression); sched != Schedule {
		if err := r.update(fmt.Sprintf("schedule %s, want %s", orNone(sched), Schedule), func(ctx context.Context) error { return put(ctx, false) }); err != nil {
			return r.id, true, err
		}
	} else if got.State != ebtypes.RuleStateEnabled {
		if err := r.update(fmt.Sprintf("state %s, want ENABLED", got.State), func(ctx context.Context) error {
			_, err := c.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: str(p.n.Rule)})
			return err
		}); err != nil {
			return r.id, true, err
		}
	}
	tl, err := c.ListTagsForResource(p.ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: str(r.id)})
	if err != nil {
		return r.id, true, r.fail(err)
	}
	have := map[string]string{}
	for _, t := range tl.Tags {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if why, set := p.missingTags(have); why != "" {
		if err := r.update(why, func(ctx context.Context) error {
			in := &eventbridge.TagResourceInput{ResourceARN: str(r.id)}
			for _, k := range sortedKeys(set) {
				in.Tags = append(in.Tags, ebtypes.Tag{Key: str(k), Value: str(set[k])})
			}
			_, err := c.TagResource(ctx, in)
			return err
		}); err != nil {
			return r.id, true, err
		}
	}
	r.finish()
	return r.id, true, nil
}

func (p *performer) ensureTarget(ruleExists bool, fnArn string) error {
	c := p.c.events
	r := p.resource(fmt.Sprintf("target %s of rule %s", RuleTargetID, p.n.Rule), "", fnArn)
	var byID *ebtypes.Target
	if ruleExists {
		var next *string
		for first := true; first || next != nil; first = false {
			page, err := c.ListTargetsByRule(p.ctx, &eventbridge.ListTargetsByRuleInput{Rule: str(p.n.Rule), NextToken: next})
			if err != nil {
				return r.fail(err)
			}
			next = page.NextToken
			for i, t := range page.Targets {
				if aws.ToString(t.Arn) == fnArn {
					if aws.ToString(t.Id) != RuleTargetID {
						r.note("the function is the rule's target %s", aws.ToString(t.Id))
					}
					r.finish()
					return nil
				}
				if aws.ToString(t.Id) == RuleTargetID {
					byID = &page.Targets[i]
				}
			}
		}
	}
	put := func(ctx context.Context) error {
		out, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{
			Rule: str(p.n.Rule), Targets: []ebtypes.Target{{Id: str(RuleTargetID), Arn: str(fnArn)}},
		})
		if err == nil && out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
			fe := out.FailedEntries[0]
			return fmt.Errorf("PutTargets: %s: %s", aws.ToString(fe.ErrorCode), aws.ToString(fe.ErrorMessage))
		}
		return err
	}
	var err error
	if byID != nil {
		err = r.update(fmt.Sprintf("target %s points at %s", RuleTargetID, aws.ToString(byID.Arn)), put)
	} else {
		err = r.create("missing", put)
	}
	if err != nil {
		return err
	}
	r.finish()
	return nil
}

// --- step 7 ---

func performQueueProcessor(p *performer) error {
	fnArn, exists, err := p.deployFunction(functionSpec{
		name: p.n.QueueFunction, function: "queue-processor", key: "queue-function",
		env: map[string]string{"TABLE_NAME": p.n.Table},
	})
	if err != nil {
		return err
	}
	return p.ensureMapping(fnArn, exists)
}

func (p *performer) ensureMapping(fnArn string, fnExists bool) error {
	c := p.c.lambda
	queueArn := p.queueArn()
	r := p.resource(fmt.Sprintf("event source mapping %s -> %s", p.n.Queue, p.n.QueueFunction), "mapping", "")
	var found *ltypes.EventSourceMappingConfiguration
	if fnExists {
		pg := lambda.NewListEventSourceMappingsPaginator(c, &lambda.ListEventSourceMappingsInput{FunctionName: str(p.n.QueueFunction), EventSourceArn: str(queueArn)})
		for pg.HasMorePages() && found == nil {
			page, err := pg.NextPage(p.ctx)
			if err != nil {
				return r.fail(err)
			}
			for i, m := range page.EventSourceMappings {
				if aws.ToString(m.State) != "Deleting" && aws.ToString(m.EventSourceArn) == queueArn {
					found = &page.EventSourceMappings[i]
					break
				}
			}
		}
	}
	if found == nil {
		if err := r.create("missing", func(ctx context.Context) error {
			uuid, err := p.createMapping(r, ctx, queueArn)
			r.id = uuid
			return err
		}); err != nil {
			return err
		}
		if !p.o.DryRun {
			if err := p.waitMapping(r, "Enabled"); err != nil {
				return err
			}
		}
		r.note("batch size %d, ReportBatchItemFailures", MappingBatchSize)
		r.finish()
		return nil
	}
	r.id = aws.ToString(found.UUID)
	state := aws.ToString(found.State)
	if state != "Enabled" && state != "Disabled" && !p.o.DryRun {
		// Creating, Enabling, Updating or Disabling: updates are refused
		// until it settles.
		if err := p.waitMapping(r, ""); err != nil {
			return err
		}
		m, err := c.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: found.UUID})
		if err != nil {
			return r.fail(err)
		}
		found = &ltypes.EventSourceMappingConfiguration{UUID: m.UUID, State: m.State, BatchSize: m.BatchSize, FunctionResponseTypes: m.FunctionResponseTypes}
		state = aws.ToString(found.State)
	}
	var diffs []string
	if aws.ToInt32(found.BatchSize) != MappingBatchSize {
		diffs = append(diffs, fmt.Sprintf("batch size %d, want %d", aws.ToInt32(found.BatchSize), MappingBatchSize))
	}
	hasRBIF := false
	for _, t := range found.FunctionResponseTypes {
		if t == ltypes.FunctionResponseTypeReportBatchItemFailures {
			hasRBIF = true
		}
	}
	if !hasRBIF {
		diffs = append(diffs, "ReportBatchItemFailures off")
	}
	if state == "Disabled" || state == "Disabling" {
		diffs = append(diffs, "state "+state+", want Enabled")
	}
	if len(diffs) > 0 {
		if err := r.update(strings.Join(diffs, ", "), func(ctx context.Context) error {
			_, err := c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{
				UUID: found.UUID, BatchSize: aws.Int32(MappingBatchSize), Enabled: aws.Bool(true),
				FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures},
			})
			return err
		}); err != nil {
			return err
		}
		if !p.o.DryRun {
			if err := p.waitMapping(r, "Enabled"); err != nil {
				return err
			}
		}
	}
	r.finish()
	return nil
}

// createMapping creates the mapping, retrying while IAM propagates the
// role's SQS permissions to Lambda.
func (p *performer) createMapping(r *resource, ctx context.Context, queueArn string) (string, error) {
	var uuid string
	err := p.retryPropagation(r, ctx, waitingIAM, roleLacksQueueAccess, nil, func(ctx context.Context) error {
		out, err := p.c.lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
			FunctionName:          str(p.n.QueueFunction),
			EventSourceArn:        str(queueArn),
			BatchSize:             aws.Int32(MappingBatchSize),
			Enabled:               aws.Bool(true),
			FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures},
			Tags:                  p.tags(),
		})
		if err == nil {
			uuid = aws.ToString(out.UUID)
		}
		return err
	})
	return uuid, err
}

// waitMapping polls the mapping until it is in state want ("" for any
// steady state: Enabled or Disabled). There is no SDK waiter for mappings.
func (p *performer) waitMapping(r *resource, want string) error {
	start := time.Now()
	last := ""
	err := poll(p.ctx, 3*time.Minute, 500*time.Millisecond, 5*time.Second, func() (bool, string, error) {
		m, err := p.c.lambda.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: str(r.id)})
		if err != nil {
			return false, "", err
		}
		last = aws.ToString(m.State)
		if want == "" {
			return last == "Enabled" || last == "Disabled", "mapping " + last, nil
		}
		return last == want, "mapping " + last, nil
	})
	if err != nil {
		var te *timeoutError
		if errors.As(err, &te) {
			reason := ""
			if m, gerr := p.c.lambda.GetEventSourceMapping(p.ctx, &lambda.GetEventSourceMappingInput{UUID: str(r.id)}); gerr == nil {
				reason = aws.ToString(m.StateTransitionReason)
			}
			err = fmt.Errorf("%w (%s)", err, reason)
		}
		return r.fail(err)
	}
	if want != "" {
		r.note("%s after %s", want, roundDur(time.Since(start)))
	}
	return nil
}

// --- helpers ---

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12] + "..."
	}
	return sha
}
