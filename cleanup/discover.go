package cleanup

import (
	"github.com/slab-lab/slab/awserr"

	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/slab-lab/slab/lab"
)

// tagCap bounds how many resources of one service have their tags read
// one call at a time. Beyond it only names that match or resemble the lab's
// are inspected, and the plan says so: an account with thousands of roles
// should not cost thousands of calls to find eleven resources.
const tagCap = 300

// versionCountCap bounds the versions counted for the plan's detail line.
const versionCountCap = 100000

// Discover lists the lab's resources in the target, read-only.
func (c *Cleaner) Discover(ctx context.Context) (*Plan, error) {
	d := &discovery{
		c: c, ctx: ctx,
		plan:   &Plan{Target: c.id.Target, Account: c.id.Account, Region: c.id.Region},
		byKey:  map[string]*Resource{},
		kept:   map[string]Kept{},
		dlqs:   map[string]bool{},
		fns:    map[string]string{},
		queues: map[string]string{},
		topics: map[string]string{},
		fnRole: map[string]string{},
		custom: map[string]string{},

		otherFnRole: map[string]string{},
	}
	mine := c.names
	for _, n := range []string{mine.S3Function, mine.EventFunction, mine.QueueFunction} {
		d.fns[n] = ""
	}
	for _, n := range []string{mine.Queue, mine.DLQ} {
		d.queues[n] = ""
	}
	d.topics[mine.Topic] = ""

	// Stage 1: each service on its own; stage 2 follows the links, which
	// need stage 1's lab functions, queues, topics and buckets.
	d.parallel(d.functions, d.topics1, d.queues1, d.tables, d.buckets, d.roles)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.parallel(d.rules, d.mappings, d.notifications, d.logGroups, d.roleLinks)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, r := range d.byKey {
		d.plan.Resources = append(d.plan.Resources, r)
	}
	sortPlan(d.plan.Resources, d.dlqs)
	for _, k := range d.kept {
		if _, ok := d.byKey[string(k.Kind)+"/"+k.Name]; ok {
			continue
		}
		d.plan.Kept = append(d.plan.Kept, k)
	}
	sort.Slice(d.plan.Kept, func(i, j int) bool {
		a, b := d.plan.Kept[i], d.plan.Kept[j]
		if rank(a.Kind) != rank(b.Kind) {
			return rank(a.Kind) < rank(b.Kind)
		}
		return a.Name < b.Name
	})
	sort.Strings(d.plan.Problems)
	return d.plan, nil
}

type discovery struct {
	c    *Cleaner
	ctx  context.Context
	mu   sync.Mutex
	plan *Plan

	byKey map[string]*Resource
	kept  map[string]Kept
	dlqs  map[string]bool // queue names that are a lab queue's dead-letter queue
	// Lab resources by name, with their ARNs ("" for names from the state
	// that were not found: links to them still count, after a partial run).
	fns, queues, topics map[string]string
	fnRole              map[string]string // lab function -> its role name
	otherFnRole         map[string]string // role name -> a function that is not the lab's and runs as it
	custom              map[string]string // custom log group -> lab function
	labBuckets          []string
}

func (d *discovery) parallel(fns ...func()) {
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	wg.Wait()
}

func (d *discovery) add(r *Resource) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.byKey[r.Key()]; ok {
		if !strings.Contains(old.Why, r.Why) {
			old.Why += "; " + r.Why
		}
		return
	}
	d.byKey[r.Key()] = r
}

func (d *discovery) keep(k Kind, name, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := string(k) + "/" + name
	if _, ok := d.kept[key]; !ok {
		d.kept[key] = Kept{Kind: k, Name: name, Why: why}
	}
}

func (d *discovery) problem(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	for _, p := range d.plan.Problems {
		if p == msg {
			return
		}
	}
	d.plan.Problems = append(d.plan.Problems, msg)
}

func (d *discovery) listErr(what string, err error) bool {
	if err == nil {
		return false
	}
	if d.ctx.Err() == nil {
		d.problem("could not list %s: %s", what, awserr.Brief(err))
	}
	return true
}

// verdict is the judgement on one resource.
type verdict int

const (
	ignore verdict = iota
	isLab
	isKept
)

// judge decides whether a resource is the lab's: an exact name from the
// learner's names, the slab:lab tag, or an exact name of the guide's
// defaults. A tag naming another learner's state keeps it (a classmate's
// lab in a shared account), unless the name is exactly one of this
// learner's. A name that merely contains a lab name is kept, with why.
func (d *discovery) judge(name string, mine, guide []string, tags map[string]string) (verdict, string) {
	if containsStr(mine, name) {
		return isLab, "exact name"
	}
	owner := tags[lab.TagStateKey]
	other := owner != "" && owner != d.c.stateID
	if tags[lab.TagKey] == lab.TagValue {
		if other {
			return isKept, fmt.Sprintf("tagged %s=%s: another learner's lab (yours is %s)", lab.TagStateKey, owner, d.c.stateID)
		}
		if owner != "" {
			return isLab, fmt.Sprintf("tag %s and %s=%s", lab.TagKey, lab.TagStateKey, owner)
		}
		return isLab, "tag " + lab.TagKey
	}
	if containsStr(guide, name) {
		if other {
			return isKept, fmt.Sprintf("tagged %s=%s: another learner's lab (yours is %s)", lab.TagStateKey, owner, d.c.stateID)
		}
		return isLab, "exact name (the guide's default)"
	}
	if like := resembles(name, append(append([]string{}, mine...), guide...)); like != "" {
		return isKept, fmt.Sprintf("not the lab's: the name resembles %s but is not exact, and there is no %s tag", like, lab.TagKey)
	}
	return ignore, ""
}

// candidate reports whether a name is worth reading tags for when a
// service holds more than tagCap resources.
func candidate(name string, mine, guide []string) bool {
	return containsStr(mine, name) || containsStr(guide, name) || resembles(name, append(append([]string{}, mine...), guide...)) != ""
}

func resembles(name string, names []string) string {
	ln := strings.ToLower(name)
	best := ""
	for _, n := range names {
		n = strings.Trim(strings.ToLower(n), "-")
		if len(n) < 6 || n == ln {
			continue
		}
		if strings.Contains(ln, n) && len(n) > len(best) {
			best = n
		}
	}
	return best
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s && s != "" {
			return true
		}
	}
	return false
}

func (d *discovery) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", d.c.id.Partition, service, d.c.id.Region, d.c.id.Account, resource)
}

// lastSegment is the name at the end of an ARN (after ':' or '/').
func lastSegment(arn string) string {
	if i := strings.LastIndexAny(arn, ":/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// functionName extracts the name from a function ARN with or without a
// version or alias qualifier.
func functionName(arn string) string {
	parts := strings.Split(arn, ":")
	for i, p := range parts {
		if p == "function" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return arn
}

func (d *discovery) isLabFn(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.fns[name]
	return ok
}

func (d *discovery) isLabQueue(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.queues[name]
	return ok
}

func (d *discovery) isLabTopic(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.topics[name]
	return ok
}

func (d *discovery) labFunctionARNs() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]string{}
	for n, a := range d.fns {
		if a == "" {
			a = d.arn("lambda", "function:"+n)
		}
		out[n] = a
	}
	return out
}

// --- Lambda ---

func (d *discovery) functions() {
	n, g := d.c.names, lab.DefaultNames()
	mine := []string{n.S3Function, n.EventFunction, n.QueueFunction}
	guide := []string{g.S3Function, g.EventFunction, g.QueueFunction}
	type fn struct{ name, arn, role, logGroup string }
	var all []fn
	in := &lambda.ListFunctionsInput{}
	for {
		out, err := d.c.c.Lambda.ListFunctions(d.ctx, in)
		if d.listErr("Lambda functions", err) {
			return
		}
		for _, f := range out.Functions {
			x := fn{name: aws.ToString(f.FunctionName), arn: aws.ToString(f.FunctionArn), role: lastSegment(aws.ToString(f.Role))}
			if f.LoggingConfig != nil {
				x.logGroup = aws.ToString(f.LoggingConfig.LogGroup)
			}
			all = append(all, x)
		}
		if out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	for _, f := range all {
		var tags map[string]string
		if len(all) <= tagCap || candidate(f.name, mine, guide) {
			out, err := d.c.c.Lambda.ListTags(d.ctx, &lambda.ListTagsInput{Resource: aws.String(f.arn)})
			if err != nil && !awserr.IsNotFound(err) {
				d.problem("could not read the tags of Lambda function %s: %s", f.name, awserr.Brief(err))
			} else if out != nil {
				tags = out.Tags
			}
		}
		v, why := d.judge(f.name, mine, guide, tags)
		if v != isLab && f.role != "" {
			d.mu.Lock()
			if _, seen := d.otherFnRole[f.role]; !seen {
				d.otherFnRole[f.role] = f.name
			}
			d.mu.Unlock()
		}
		switch v {
		case isLab:
			d.mu.Lock()
			d.fns[f.name] = f.arn
			d.fnRole[f.name] = f.role
			if f.logGroup != "" && f.logGroup != "/aws/lambda/"+f.name {
				d.custom[f.logGroup] = f.name
			}
			d.mu.Unlock()
			d.add(&Resource{Kind: KindFunction, Name: f.name, ARN: f.arn, Why: why, Detail: "runs as role " + f.role + "; its invoke permissions go with it"})
		case isKept:
			d.keep(KindFunction, f.name, why)
		}
	}
	if len(all) > tagCap {
		d.problem("%d Lambda functions: only those named like the lab's were checked for the %s tag", len(all), lab.TagKey)
	}
}

func (d *discovery) mappings() {
	in := &lambda.ListEventSourceMappingsInput{}
	for {
		out, err := d.c.c.Lambda.ListEventSourceMappings(d.ctx, in)
		if d.listErr("event source mappings", err) {
			return
		}
		for _, m := range out.EventSourceMappings {
			src, fnArn := aws.ToString(m.EventSourceArn), aws.ToString(m.FunctionArn)
			q, f := lastSegment(src), functionName(fnArn)
			sameAccount := strings.Contains(src, ":"+d.c.id.Account+":") || strings.Contains(fnArn, ":"+d.c.id.Account+":")
			if !sameAccount {
				continue
			}
			var why string
			switch {
			case strings.Contains(src, ":sqs:") && d.isLabQueue(q) && d.isLabFn(f):
				why = fmt.Sprintf("mapping of lab queue %s to lab function %s", q, f)
			case strings.Contains(src, ":sqs:") && d.isLabQueue(q):
				why = fmt.Sprintf("mapping of lab queue %s (to function %s)", q, f)
			case d.isLabFn(f):
				why = fmt.Sprintf("mapping to lab function %s (from %s)", f, src)
			default:
				continue
			}
			d.add(&Resource{Kind: KindMapping, Name: aws.ToString(m.UUID), ARN: src, Why: why, Detail: fmt.Sprintf("%s -> %s, state %s", q, f, aws.ToString(m.State))})
		}
		if out.NextMarker == nil {
			return
		}
		in.Marker = out.NextMarker
	}
}

// --- EventBridge ---

func (d *discovery) rules() {
	n, g := d.c.names, lab.DefaultNames()
	mine, guide := []string{n.Rule}, []string{g.Rule}
	type rule struct{ name, arn string }
	var all []rule
	in := &eventbridge.ListRulesInput{}
	for {
		out, err := d.c.c.Events.ListRules(d.ctx, in)
		if d.listErr("EventBridge rules", err) {
			return
		}
		for _, r := range out.Rules {
			all = append(all, rule{aws.ToString(r.Name), aws.ToString(r.Arn)})
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	// Rules that target a lab function are candidates too, whatever their
	// name: the link finds them, the name or tag must still qualify them.
	targeting := map[string]string{}
	for fnName, fnArn := range d.labFunctionARNs() {
		in := &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String(fnArn)}
		for {
			out, err := d.c.c.Events.ListRuleNamesByTarget(d.ctx, in)
			if err != nil {
				if !awserr.IsNotFound(err) {
					d.problem("could not list the rules targeting %s: %s", fnName, awserr.Brief(err))
				}
				break
			}
			for _, r := range out.RuleNames {
				targeting[r] = fnName
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	for _, r := range all {
		var tags map[string]string
		_, linked := targeting[r.name]
		if len(all) <= tagCap || linked || candidate(r.name, mine, guide) {
			out, err := d.c.c.Events.ListTagsForResource(d.ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(r.arn)})
			if err != nil && !awserr.IsNotFound(err) {
				d.problem("could not read the tags of rule %s: %s", r.name, awserr.Brief(err))
			} else if out != nil {
				tags = map[string]string{}
				for _, t := range out.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
		}
		v, why := d.judge(r.name, mine, guide, tags)
		if fn, ok := targeting[r.name]; ok {
			switch v {
			case isLab:
				why += "; it targets lab function " + fn
			case ignore:
				v, why = isKept, fmt.Sprintf("targets lab function %s, but neither its name nor a %s tag makes it the lab's (remove its target by hand if the rule is yours)", fn, lab.TagKey)
			}
		}
		switch v {
		case isLab:
			res := &Resource{Kind: KindRule, Name: r.name, ARN: r.arn, Why: why}
			tin := &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.name)}
			for {
				out, err := d.c.c.Events.ListTargetsByRule(d.ctx, tin)
				if err != nil {
					if !awserr.IsNotFound(err) {
						d.problem("could not list the targets of rule %s: %s", r.name, awserr.Brief(err))
					}
					break
				}
				for _, t := range out.Targets {
					res.Parts = append(res.Parts, Part{What: fmt.Sprintf("target %s -> %s", aws.ToString(t.Id), aws.ToString(t.Arn)), Why: "target of rule " + r.name})
				}
				if out.NextToken == nil {
					break
				}
				tin.NextToken = out.NextToken
			}
			d.add(res)
		case isKept:
			d.keep(KindRule, r.name, why)
		}
	}
}

// --- SNS ---

func (d *discovery) topics1() {
	n, g := d.c.names, lab.DefaultNames()
	mine, guide := []string{n.Topic}, []string{g.Topic}
	var all []string
	in := &sns.ListTopicsInput{}
	for {
		out, err := d.c.c.SNS.ListTopics(d.ctx, in)
		if d.listErr("SNS topics", err) {
			return
		}
		for _, t := range out.Topics {
			all = append(all, aws.ToString(t.TopicArn))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	for _, arn := range all {
		name := lastSegment(arn)
		var tags map[string]string
		if len(all) <= tagCap || candidate(name, mine, guide) {
			out, err := d.c.c.SNS.ListTagsForResource(d.ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil && !awserr.IsNotFound(err) {
				d.problem("could not read the tags of topic %s: %s", name, awserr.Brief(err))
			} else if out != nil {
				tags = map[string]string{}
				for _, t := range out.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
		}
		v, why := d.judge(name, mine, guide, tags)
		switch v {
		case isLab:
			d.mu.Lock()
			d.topics[name] = arn
			d.mu.Unlock()
			res := &Resource{Kind: KindTopic, Name: name, ARN: arn, Why: why}
			sin := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)}
			for {
				out, err := d.c.c.SNS.ListSubscriptionsByTopic(d.ctx, sin)
				if err != nil {
					if !awserr.IsNotFound(err) {
						d.problem("could not list the subscriptions of topic %s: %s", name, awserr.Brief(err))
					}
					break
				}
				for _, s := range out.Subscriptions {
					sub := aws.ToString(s.SubscriptionArn)
					if !strings.HasPrefix(sub, "arn:") {
						continue // PendingConfirmation, Deleted: nothing to unsubscribe
					}
					res.Parts = append(res.Parts, Part{What: fmt.Sprintf("subscription %s (%s -> %s)", sub, aws.ToString(s.Protocol), aws.ToString(s.Endpoint)), Why: "subscription of topic " + name})
				}
				if out.NextToken == nil {
					break
				}
				sin.NextToken = out.NextToken
			}
			d.add(res)
		case isKept:
			d.keep(KindTopic, name, why)
		}
	}
}

// --- SQS ---

func (d *discovery) queues1() {
	n, g := d.c.names, lab.DefaultNames()
	mine, guide := []string{n.Queue, n.DLQ}, []string{g.Queue, g.DLQ}
	var urls []string
	in := &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)}
	for {
		out, err := d.c.c.SQS.ListQueues(d.ctx, in)
		if d.listErr("SQS queues", err) {
			return
		}
		urls = append(urls, out.QueueUrls...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	byName := map[string]string{}
	verdicts := map[string]verdict{}
	whys := map[string]string{}
	redrive := map[string]string{} // lab queue -> its dead-letter queue's name
	for _, u := range urls {
		name := lastSegment(u)
		byName[name] = u
		var tags map[string]string
		if len(urls) <= tagCap || candidate(name, mine, guide) {
			out, err := d.c.c.SQS.ListQueueTags(d.ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(u)})
			if err != nil && !awserr.IsNotFound(err) {
				d.problem("could not read the tags of queue %s: %s", name, awserr.Brief(err))
			} else if out != nil {
				tags = out.Tags
			}
		}
		v, why := d.judge(name, mine, guide, tags)
		verdicts[name], whys[name] = v, why
		if v != isLab {
			continue
		}
		arn := d.arn("sqs", name)
		out, err := d.c.c.SQS.GetQueueAttributes(d.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameRedrivePolicy}})
		if err != nil && !awserr.IsNotFound(err) {
			d.problem("could not read the attributes of queue %s: %s", name, awserr.Brief(err))
		} else if out != nil {
			if a := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]; a != "" {
				arn = a
			}
			var rp struct {
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			}
			if p := out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]; p != "" && json.Unmarshal([]byte(p), &rp) == nil && rp.DeadLetterTargetArn != "" {
				redrive[name] = lastSegment(rp.DeadLetterTargetArn)
			}
		}
		d.mu.Lock()
		d.queues[name] = arn
		d.mu.Unlock()
		d.add(&Resource{Kind: KindQueue, Name: name, ARN: arn, URL: u, Why: why})
	}
	for q, dlq := range redrive {
		if _, ok := byName[dlq]; !ok {
			continue // in another account or region, or already gone
		}
		d.mu.Lock()
		d.dlqs[dlq] = true
		d.mu.Unlock()
		switch verdicts[dlq] {
		case isLab:
			d.add(&Resource{Kind: KindQueue, Name: dlq, Why: "dead-letter queue of lab queue " + q})
		default:
			why := fmt.Sprintf("dead-letter queue of lab queue %s, but neither its name nor a %s tag makes it the lab's (it may serve other queues)", q, lab.TagKey)
			if verdicts[dlq] == isKept {
				why = whys[dlq] + "; it is the dead-letter queue of lab queue " + q
			}
			d.keep(KindQueue, dlq, why)
		}
	}
	for name, v := range verdicts {
		if v == isKept {
			d.keep(KindQueue, name, whys[name])
		}
	}
}

// --- DynamoDB ---

func (d *discovery) tables() {
	n, g := d.c.names, lab.DefaultNames()
	mine, guide := []string{n.Table}, []string{g.Table}
	var all []string
	in := &dynamodb.ListTablesInput{}
	for {
		out, err := d.c.c.DynamoDB.ListTables(d.ctx, in)
		if d.listErr("DynamoDB tables", err) {
			return
		}
		all = append(all, out.TableNames...)
		if out.LastEvaluatedTableName == nil {
			break
		}
		in.ExclusiveStartTableName = out.LastEvaluatedTableName
	}
	for _, name := range all {
		arn := d.arn("dynamodb", "table/"+name)
		var tags map[string]string
		if len(all) <= tagCap || candidate(name, mine, guide) {
			tags = map[string]string{}
			tin := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
			for {
				out, err := d.c.c.DynamoDB.ListTagsOfResource(d.ctx, tin)
				if err != nil {
					if !awserr.IsNotFound(err) {
						d.problem("could not read the tags of table %s: %s", name, awserr.Brief(err))
					}
					break
				}
				for _, t := range out.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				if out.NextToken == nil {
					break
				}
				tin.NextToken = out.NextToken
			}
		}
		v, why := d.judge(name, mine, guide, tags)
		switch v {
		case isLab:
			res := &Resource{Kind: KindTable, Name: name, ARN: arn, Why: why}
			if out, err := d.c.c.DynamoDB.DescribeTable(d.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err == nil && out.Table != nil {
				res.Detail = fmt.Sprintf("status %s, about %s items", out.Table.TableStatus, commas(aws.ToInt64(out.Table.ItemCount)))
			}
			d.add(res)
		case isKept:
			d.keep(KindTable, name, why)
		}
	}
}

// --- S3 ---

func (d *discovery) buckets() {
	n, g := d.c.names, lab.DefaultNames()
	acct := d.c.id.Account
	type bucket struct{ name, region string }
	var all []bucket
	in := &s3.ListBucketsInput{}
	for {
		out, err := d.c.c.S3.ListBuckets(d.ctx, in)
		if d.listErr("S3 buckets", err) {
			return
		}
		for _, b := range out.Buckets {
			all = append(all, bucket{aws.ToString(b.Name), aws.ToString(b.BucketRegion)})
		}
		if out.ContinuationToken == nil || aws.ToString(out.ContinuationToken) == "" {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	stems := []string{n.BucketPrefix, g.BucketPrefix}
	for _, b := range all {
		byPrefix := n.IsLabBucket(b.name, acct) || g.IsLabBucket(b.name, acct)
		exact := n.Bucket != "" && b.name == n.Bucket
		like := resembles(b.name, stems)
		if !byPrefix && !exact && like == "" {
			continue
		}
		// A bucket in another region belongs to a lab run there; its tags
		// are only readable through that region's endpoint, so it is
		// judged by name alone.
		region := b.region
		if region == "" {
			region = d.bucketRegion(b.name)
		}
		if region != "" && region != d.c.id.Region {
			if byPrefix || exact {
				d.keep(KindBucket, b.name, fmt.Sprintf("the lab's (its name), but in region %s: run `slab cleanup --region %s` there", region, region))
			} else {
				d.keep(KindBucket, b.name, fmt.Sprintf("not the lab's: the name starts like the lab's (%s) but not with the prefix followed by this account, and it is in region %s", like, region))
			}
			continue
		}
		tags, err := d.bucketTags(b.name)
		if err != nil {
			if awserr.IsNotFound(err) {
				continue // deleted while we listed
			}
			d.problem("could not read the tags of bucket %s: %s", b.name, awserr.Brief(err))
		}
		owner := tags[lab.TagStateKey]
		other := owner != "" && owner != d.c.stateID
		var why string
		switch {
		case exact:
			why = "exact name"
		case other:
			d.keep(KindBucket, b.name, fmt.Sprintf("tagged %s=%s: another learner's lab (yours is %s)", lab.TagStateKey, owner, d.c.stateID))
			continue
		case byPrefix:
			why = "bucket prefix + account"
		case tags[lab.TagKey] == lab.TagValue:
			why = "tag " + lab.TagKey
		default:
			d.keep(KindBucket, b.name, fmt.Sprintf("not the lab's: the name starts like the lab's (%s) but not with the prefix followed by this account (%s%s-<digits>), and there is no %s tag", like, n.BucketPrefix, acct, lab.TagKey))
			continue
		}
		res := &Resource{Kind: KindBucket, Name: b.name, ARN: fmt.Sprintf("arn:%s:s3:::%s", d.c.id.Partition, b.name), Why: why}
		nv, nm, size, more := d.c.countVersions(d.ctx, b.name)
		res.versions = nv + nm
		switch {
		case nv+nm == 0:
			res.Detail = "empty"
		default:
			res.Detail = fmt.Sprintf("%s and %s, %s", plural(nv, "object version", "object versions"), plural(nm, "delete marker", "delete markers"), bytesText(size))
			if more {
				res.Detail = "more than " + res.Detail
			}
			res.Parts = append(res.Parts, Part{What: "every object version and delete marker", Why: "a versioned bucket cannot be deleted until they are all gone"})
		}
		d.mu.Lock()
		d.labBuckets = append(d.labBuckets, b.name)
		d.mu.Unlock()
		d.add(res)
	}
}

func (d *discovery) bucketTags(name string) (map[string]string, error) {
	out, err := d.c.c.S3.GetBucketTagging(d.ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if err != nil {
		if awserr.Code(err) == "NoSuchTagSet" || awserr.Code(err) == "NoSuchTagSetError" {
			return map[string]string{}, nil
		}
		return map[string]string{}, err
	}
	tags := map[string]string{}
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

func (d *discovery) bucketRegion(name string) string {
	out, err := d.c.c.S3.GetBucketLocation(d.ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
	if err != nil {
		return ""
	}
	switch loc := string(out.LocationConstraint); loc {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	default:
		return loc
	}
}

// countVersions counts a bucket's versions and delete markers for the plan.
func (c *Cleaner) countVersions(ctx context.Context, bucket string) (versions, markers int, size int64, more bool) {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1000)}
	for {
		out, err := c.c.S3.ListObjectVersions(ctx, in)
		if err != nil {
			return
		}
		versions += len(out.Versions)
		markers += len(out.DeleteMarkers)
		for _, v := range out.Versions {
			size += aws.ToInt64(v.Size)
		}
		if !aws.ToBool(out.IsTruncated) {
			return
		}
		if versions+markers >= versionCountCap {
			return versions, markers, size, true
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// labConfigs splits a bucket's notification configuration into the
// lab's configurations and the rest.
func (d *discovery) labConfigs(cfg *s3.GetBucketNotificationConfigurationOutput) (labParts []Part, ids []string, others int) {
	for _, x := range cfg.LambdaFunctionConfigurations {
		fn := functionName(aws.ToString(x.LambdaFunctionArn))
		if d.isLabFn(fn) && strings.Contains(aws.ToString(x.LambdaFunctionArn), ":"+d.c.id.Account+":") {
			labParts = append(labParts, Part{What: fmt.Sprintf("Lambda configuration %s -> %s", aws.ToString(x.Id), fn), Why: "invokes lab function " + fn})
			ids = append(ids, aws.ToString(x.LambdaFunctionArn))
		} else {
			others++
		}
	}
	for _, x := range cfg.QueueConfigurations {
		q := lastSegment(aws.ToString(x.QueueArn))
		if d.isLabQueue(q) {
			labParts = append(labParts, Part{What: fmt.Sprintf("queue configuration %s -> %s", aws.ToString(x.Id), q), Why: "sends to lab queue " + q})
			ids = append(ids, aws.ToString(x.QueueArn))
		} else {
			others++
		}
	}
	for _, x := range cfg.TopicConfigurations {
		t := lastSegment(aws.ToString(x.TopicArn))
		if d.isLabTopic(t) {
			labParts = append(labParts, Part{What: fmt.Sprintf("topic configuration %s -> %s", aws.ToString(x.Id), t), Why: "publishes to lab topic " + t})
			ids = append(ids, aws.ToString(x.TopicArn))
		} else {
			others++
		}
	}
	if cfg.EventBridgeConfiguration != nil {
		others++
	}
	return
}

func (d *discovery) notifications() {
	d.mu.Lock()
	buckets := append([]string{}, d.labBuckets...)
	d.mu.Unlock()
	for _, b := range buckets {
		out, err := d.c.c.S3.GetBucketNotificationConfiguration(d.ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(b)})
		if err != nil {
			if !awserr.IsNotFound(err) {
				d.problem("could not read the notification configuration of bucket %s: %s", b, awserr.Brief(err))
			}
			continue
		}
		parts, ids, others := d.labConfigs(out)
		if len(parts) == 0 {
			continue
		}
		res := &Resource{Kind: KindNotification, Name: b, Why: "notification on lab bucket " + b, Parts: parts, labTargets: ids}
		if others > 0 {
			verb := "stay"
			if others == 1 {
				verb = "stays"
			}
			res.Detail = fmt.Sprintf("only the lab's configurations are removed; %s %s", plural(others, "other configuration", "other configurations"), verb)
		} else {
			res.Detail = "the bucket is left with an empty configuration"
		}
		d.add(res)
	}
}

// --- CloudWatch Logs ---

func (d *discovery) logGroups() {
	n, g := d.c.names, lab.DefaultNames()
	guide := []string{g.S3Function, g.EventFunction, g.QueueFunction}
	mine := []string{n.S3Function, n.EventFunction, n.QueueFunction}
	type group struct {
		name, arn string
		stored    int64
	}
	var all []group
	in := &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/")}
	for {
		out, err := d.c.c.Logs.DescribeLogGroups(d.ctx, in)
		if d.listErr("log groups", err) {
			return
		}
		for _, lg := range out.LogGroups {
			arn := aws.ToString(lg.LogGroupArn)
			if arn == "" {
				arn = strings.TrimSuffix(aws.ToString(lg.Arn), ":*")
			}
			all = append(all, group{aws.ToString(lg.LogGroupName), arn, aws.ToInt64(lg.StoredBytes)})
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	d.mu.Lock()
	custom := map[string]string{}
	for k, v := range d.custom {
		custom[k] = v
	}
	d.mu.Unlock()
	for name := range custom {
		out, err := d.c.c.Logs.DescribeLogGroups(d.ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
		if err != nil {
			continue
		}
		for _, lg := range out.LogGroups {
			if aws.ToString(lg.LogGroupName) == name {
				arn := aws.ToString(lg.LogGroupArn)
				if arn == "" {
					arn = strings.TrimSuffix(aws.ToString(lg.Arn), ":*")
				}
				all = append(all, group{name, arn, aws.ToInt64(lg.StoredBytes)})
			}
		}
	}
	for _, lg := range all {
		fn, std := strings.CutPrefix(lg.name, "/aws/lambda/")
		var why string
		switch {
		case std && (d.isLabFn(fn) || containsStr(mine, fn)):
			why = "log group of lab function " + fn
		case std && containsStr(guide, fn):
			why = "log group of the guide's function " + fn
		case custom[lg.name] != "":
			tags := d.logTags(lg.arn)
			if tags[lab.TagKey] != lab.TagValue {
				d.keep(KindLogGroup, lg.name, fmt.Sprintf("lab function %s logs here (its LoggingConfig), but the group has no %s tag and may be shared", custom[lg.name], lab.TagKey))
				continue
			}
			why = fmt.Sprintf("tag %s; log group of lab function %s", lab.TagKey, custom[lg.name])
		default:
			if !std || resembles(fn, append(append([]string{}, mine...), guide...)) == "" {
				continue
			}
			tags := d.logTags(lg.arn)
			v, w := d.judge(lg.name, nil, nil, tags)
			switch v {
			case isLab:
				why = w
			default:
				d.keep(KindLogGroup, lg.name, fmt.Sprintf("not the lab's: %s resembles a lab function's name but is not exact, and there is no %s tag", fn, lab.TagKey))
				continue
			}
		}
		if d.c.opts.KeepLogs {
			d.keep(KindLogGroup, lg.name, "--keep-logs ("+why+")")
			continue
		}
		d.add(&Resource{Kind: KindLogGroup, Name: lg.name, ARN: lg.arn, Why: why, Detail: bytesText(lg.stored) + " stored (never-expire retention keeps it forever)"})
	}
}

func (d *discovery) logTags(arn string) map[string]string {
	out, err := d.c.c.Logs.ListTagsForResource(d.ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || out == nil {
		return nil
	}
	return out.Tags
}

// --- IAM ---

// awsManaged reports whether a policy is AWS's own (the lab attaches only
// those: AWSLambdaBasicExecutionRole, AWSLambdaSQSQueueExecutionRole and the
// guide's FullAccess policies).
func awsManaged(arn string) bool { return strings.Contains(arn, ":iam::aws:policy/") }

func (d *discovery) roles() {
	n, g := d.c.names, lab.DefaultNames()
	mine, guide := []string{n.Role}, []string{g.Role}
	var all []string
	in := &iam.ListRolesInput{}
	for {
		out, err := d.c.c.IAM.ListRoles(d.ctx, in)
		if d.listErr("IAM roles", err) {
			return
		}
		for _, r := range out.Roles {
			all = append(all, aws.ToString(r.RoleName))
		}
		if !out.IsTruncated || out.Marker == nil {
			break
		}
		in.Marker = out.Marker
	}
	for _, name := range all {
		var tags map[string]string
		if len(all) <= tagCap || candidate(name, mine, guide) {
			tags = d.roleTags(name)
		}
		v, why := d.judge(name, mine, guide, tags)
		switch v {
		case isLab:
			d.labRole(name, why, tags[lab.TagKey] == lab.TagValue)
		case isKept:
			d.keep(KindRole, name, why)
		}
	}
	if len(all) > tagCap {
		d.problem("%d IAM roles: only those named like the lab's were checked for the %s tag", len(all), lab.TagKey)
	}
}

func (d *discovery) roleTags(name string) map[string]string {
	tags := map[string]string{}
	in := &iam.ListRoleTagsInput{RoleName: aws.String(name)}
	for {
		out, err := d.c.c.IAM.ListRoleTags(d.ctx, in)
		if err != nil {
			if !awserr.IsNotFound(err) {
				d.problem("could not read the tags of role %s: %s", name, awserr.Brief(err))
			}
			return tags
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if !out.IsTruncated || out.Marker == nil {
			return tags
		}
		in.Marker = out.Marker
	}
}

// labRole plans a role's deletion with its policies and instance profiles.
// A role that qualifies by name alone but carries customer-managed policies
// someone attached is kept: the lab only attaches AWS managed policies and
// inline ones, so such a role is probably not (only) the lab's.
func (d *discovery) labRole(name, why string, tagged bool) {
	res := &Resource{Kind: KindRole, Name: name, ARN: fmt.Sprintf("arn:%s:iam::%s:role/%s", d.c.id.Partition, d.c.id.Account, name), Why: why}
	var foreign []string
	ain := &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}
	for {
		out, err := d.c.c.IAM.ListAttachedRolePolicies(d.ctx, ain)
		if err != nil {
			if awserr.IsNotFound(err) {
				return
			}
			d.problem("could not list the policies of role %s: %s", name, awserr.Brief(err))
			break
		}
		for _, p := range out.AttachedPolicies {
			arn := aws.ToString(p.PolicyArn)
			what := "detach managed policy " + arn
			if !awsManaged(arn) {
				foreign = append(foreign, arn)
				what += " (the policy itself is kept)"
			}
			res.Parts = append(res.Parts, Part{What: what, Why: "attached to role " + name})
		}
		if !out.IsTruncated || out.Marker == nil {
			break
		}
		ain.Marker = out.Marker
	}
	if len(foreign) > 0 && !tagged {
		d.keep(KindRole, name, fmt.Sprintf("%s, but someone attached policies the lab never uses (%s) and the role has no %s tag: it may not be the lab's; delete it by hand if it is", why, strings.Join(foreign, ", "), lab.TagKey))
		return
	}
	var foreignInline []string
	pin := &iam.ListRolePoliciesInput{RoleName: aws.String(name)}
	for {
		out, err := d.c.c.IAM.ListRolePolicies(d.ctx, pin)
		if err != nil {
			if !awserr.IsNotFound(err) {
				d.problem("could not list the inline policies of role %s: %s", name, awserr.Brief(err))
			}
			break
		}
		for _, p := range out.PolicyNames {
			if p != lab.InlinePolicyName {
				foreignInline = append(foreignInline, p)
			}
			res.Parts = append(res.Parts, Part{What: "delete inline policy " + p, Why: "inline policy of role " + name})
		}
		if !out.IsTruncated || out.Marker == nil {
			break
		}
		pin.Marker = out.Marker
	}
	if len(foreignInline) > 0 && !tagged {
		d.keep(KindRole, name, fmt.Sprintf("%s, but it has inline policies the lab never writes (%s) and no %s tag: it may not be the lab's; delete it by hand if it is", why, strings.Join(foreignInline, ", "), lab.TagKey))
		return
	}
	iin := &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)}
	for {
		out, err := d.c.c.IAM.ListInstanceProfilesForRole(d.ctx, iin)
		if err != nil {
			if !awserr.IsNotFound(err) {
				d.problem("could not list the instance profiles of role %s: %s", name, awserr.Brief(err))
			}
			break
		}
		for _, p := range out.InstanceProfiles {
			res.Parts = append(res.Parts, Part{What: "remove from instance profile " + aws.ToString(p.InstanceProfileName) + " (the profile is kept)", Why: "role " + name + " is in it"})
		}
		if !out.IsTruncated || out.Marker == nil {
			break
		}
		iin.Marker = out.Marker
	}
	d.add(res)
}

// roleLinks reports the execution roles of lab functions that are not the
// lab's: they stay, and the learner should know why. A lab role that a
// function outside the lab runs as stays too, tag or not: deleting it would
// break that function.
func (d *discovery) roleLinks() {
	d.mu.Lock()
	for role, fn := range d.otherFnRole {
		key := string(KindRole) + "/" + role
		if r, ok := d.byKey[key]; ok {
			delete(d.byKey, key)
			d.kept[key] = Kept{Kind: KindRole, Name: role, Why: fmt.Sprintf("%s, but function %s, which is not the lab's, runs as it: deleting the role would break that function", r.Why, fn)}
		}
	}
	d.mu.Unlock()
	d.mu.Lock()
	links := map[string]string{}
	for fn, role := range d.fnRole {
		links[role] = fn
	}
	d.mu.Unlock()
	for role, fn := range links {
		if role == "" {
			continue
		}
		d.mu.Lock()
		_, isLabRole := d.byKey[string(KindRole)+"/"+role]
		_, kept := d.kept[string(KindRole)+"/"+role]
		d.mu.Unlock()
		if isLabRole || kept {
			continue
		}
		d.keep(KindRole, role, fmt.Sprintf("execution role of lab function %s, but neither its name nor a %s tag makes it the lab's", fn, lab.TagKey))
	}
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
