package events_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/events"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

var ctx = context.Background()

const fnArn = "arn:aws:lambda:us-east-1:000000000000:function:event-to-sns-processor"

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func start(t *testing.T) (*eb.Client, *events.Service, *core.Core, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	var svc *events.Service
	var c *core.Core
	env := sbtest.Start(t, func(cc *core.Core) []core.Service {
		cc.Now = clk.now
		c = cc
		svc = events.New(cc)
		return []core.Service{svc}
	})
	return eb.NewFromConfig(env.Config), svc, c, clk
}

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
}

func TestRuleLifecycle(t *testing.T) {
	cli, svc, c, clk := start(t)
	out, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("lambda-integration-schedule"), ScheduleExpression: aws.String("rate(5 minutes)")})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:events:us-east-1:000000000000:rule/lambda-integration-schedule"
	if aws.ToString(out.RuleArn) != arn {
		t.Fatalf("arn %s", aws.ToString(out.RuleArn))
	}
	d, err := cli.DescribeRule(ctx, &eb.DescribeRuleInput{Name: aws.String("lambda-integration-schedule")})
	if err != nil || aws.ToString(d.Arn) != arn || d.State != types.RuleStateEnabled || aws.ToString(d.ScheduleExpression) != "rate(5 minutes)" ||
		aws.ToString(d.EventBusName) != "default" || aws.ToString(d.CreatedBy) != "000000000000" {
		t.Fatalf("describe: %+v %v", d, err)
	}

	// The guide's typo and friends.
	for _, bad := range []string{"rate(1 minutes)", "rate(5 minute)", "rate(5 mins)", "cron(0 12 * * *)", "every 5 minutes"} {
		_, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("bad"), ScheduleExpression: aws.String(bad)})
		wantCode(t, err, "ValidationException", "Parameter ScheduleExpression is not valid.")
	}
	_, err = cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("empty")})
	wantCode(t, err, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
	_, err = cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("bad name"), ScheduleExpression: aws.String("rate(1 day)")})
	wantCode(t, err, "ValidationException", "")
	_, err = cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("p"), EventPattern: aws.String(`{"source":"aws.s3"}`)})
	var badPattern *types.InvalidEventPatternException
	if !errors.As(err, &badPattern) {
		t.Fatalf("pattern with a bare string: %v", err)
	}
	if _, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("p"), EventPattern: aws.String(`{"source":["aws.s3"],"detail":{"object":{"key":[{"suffix":".json"}]}}}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("q"), ScheduleExpression: aws.String("rate(1 day)"), EventBusName: aws.String("custom")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("custom bus: %v", err)
	}

	// Idempotent update keeps targets and the running schedule's anchor.
	if _, err := cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: aws.String("lambda-integration-schedule"), Targets: []types.Target{{Id: aws.String("1"), Arn: aws.String(fnArn)}}}); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(7 * time.Minute)
	if _, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("lambda-integration-schedule"), ScheduleExpression: aws.String("rate(5 minutes)"), Description: aws.String("again")}); err != nil {
		t.Fatal(err)
	}
	var rules []events.Rule
	_ = c.Store.View(func(tx *core.Tx) error { rules = svc.Rules(tx); return nil })
	if len(rules) != 2 {
		t.Fatalf("rules %d", len(rules))
	}
	var sched events.Rule
	for _, r := range rules {
		if r.Name == "lambda-integration-schedule" {
			sched = r
		}
	}
	sch, ok := sched.Schedule()
	if !ok || len(sched.Targets) != 1 || sched.Description != "again" || !sched.Enabled() || sched.Arn != arn {
		t.Fatalf("rule after update: %+v", sched)
	}
	if next := sch.Next(clk.t); !next.Equal(time.Date(2026, 11, 27, 12, 10, 0, 0, time.UTC)) {
		t.Fatalf("next firing %s", next)
	}

	// Disable and enable; enabling restarts the rate's counting.
	if _, err := cli.DisableRule(ctx, &eb.DisableRuleInput{Name: aws.String("lambda-integration-schedule")}); err != nil {
		t.Fatal(err)
	}
	d, _ = cli.DescribeRule(ctx, &eb.DescribeRuleInput{Name: aws.String("lambda-integration-schedule")})
	if d.State != types.RuleStateDisabled {
		t.Fatalf("state %s", d.State)
	}
	clk.t = clk.t.Add(time.Minute)
	if _, err := cli.EnableRule(ctx, &eb.EnableRuleInput{Name: aws.String("lambda-integration-schedule")}); err != nil {
		t.Fatal(err)
	}
	_ = c.Store.View(func(tx *core.Tx) error {
		sched, _ = svc.Rule(tx, core.Scope{Account: "000000000000", Region: "us-east-1"}, "lambda-integration-schedule")
		return nil
	})
	sch, _ = sched.Schedule()
	if next := sch.Next(clk.t); !next.Equal(clk.t.Add(5 * time.Minute)) {
		t.Fatalf("after enable next %s", next)
	}
	_, err = cli.EnableRule(ctx, &eb.EnableRuleInput{Name: aws.String("nope")})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Rule nope does not exist on EventBus default." {
		t.Fatalf("enable missing: %v", err)
	}
	_, err = cli.DisableRule(ctx, &eb.DisableRuleInput{Name: aws.String("nope")})
	if !errors.As(err, &nf) {
		t.Fatalf("disable missing: %v", err)
	}
	_, err = cli.DescribeRule(ctx, &eb.DescribeRuleInput{Name: aws.String("nope")})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Rule nope does not exist on EventBus default." {
		t.Fatalf("describe missing: %v", err)
	}

	// DeleteRule refuses while targets remain, then succeeds, twice.
	_, err = cli.DeleteRule(ctx, &eb.DeleteRuleInput{Name: aws.String("lambda-integration-schedule")})
	wantCode(t, err, "ValidationException", "Rule can't be deleted since it has targets.")
	rt, err := cli.RemoveTargets(ctx, &eb.RemoveTargetsInput{Rule: aws.String("lambda-integration-schedule"), Ids: []string{"1"}})
	if err != nil || rt.FailedEntryCount != 0 {
		t.Fatalf("remove targets: %+v %v", rt, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := cli.DeleteRule(ctx, &eb.DeleteRuleInput{Name: aws.String("lambda-integration-schedule")}); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	_, err = cli.DescribeRule(ctx, &eb.DescribeRuleInput{Name: aws.String("lambda-integration-schedule")})
	if !errors.As(err, &nf) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestTargets(t *testing.T) {
	cli, _, _, _ := start(t)
	rule := aws.String("r")
	_, err := cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: rule, Targets: []types.Target{{Id: aws.String("1"), Arn: aws.String(fnArn)}}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Rule r does not exist on EventBus default." {
		t.Fatalf("targets of missing rule: %v", err)
	}
	if _, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: rule, ScheduleExpression: aws.String("cron(0 12 * * ? *)")}); err != nil {
		t.Fatal(err)
	}
	out, err := cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: rule, Targets: []types.Target{
		{Id: aws.String("1"), Arn: aws.String(fnArn)},
		{Id: aws.String("2"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), Input: aws.String(`{"a":1}`)},
		{Id: aws.String("bad"), Arn: aws.String("not-an-arn")},
		{Id: aws.String("worse"), Arn: aws.String(fnArn), Input: aws.String("{"), InputPath: aws.String("$.detail")},
	}})
	if err != nil || out.FailedEntryCount != 2 || len(out.FailedEntries) != 2 || aws.ToString(out.FailedEntries[0].TargetId) != "bad" || aws.ToString(out.FailedEntries[0].ErrorCode) != "ValidationException" {
		t.Fatalf("partial failure: %+v %v", out, err)
	}
	// Same Id replaces; more than five targets in all is refused.
	if _, err := cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: rule, Targets: []types.Target{{Id: aws.String("2"), Arn: aws.String(fnArn)}}}); err != nil {
		t.Fatal(err)
	}
	var more []types.Target
	for i := 3; i <= 6; i++ {
		more = append(more, types.Target{Id: aws.String(fmt.Sprint(i)), Arn: aws.String(fnArn)})
	}
	_, err = cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: rule, Targets: more})
	var limit *types.LimitExceededException
	if !errors.As(err, &limit) {
		t.Fatalf("sixth target: %v", err)
	}
	if _, err := cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: rule, Targets: more[:3]}); err != nil {
		t.Fatal(err)
	}
	lt, err := cli.ListTargetsByRule(ctx, &eb.ListTargetsByRuleInput{Rule: rule, Limit: aws.Int32(2)})
	if err != nil || len(lt.Targets) != 2 || lt.NextToken == nil || aws.ToString(lt.Targets[1].Arn) != fnArn {
		t.Fatalf("list targets: %+v %v", lt, err)
	}
	var ids []string
	var token *string
	for {
		page, err := cli.ListTargetsByRule(ctx, &eb.ListTargetsByRuleInput{Rule: rule, Limit: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range page.Targets {
			ids = append(ids, aws.ToString(tg.Id))
		}
		if token = page.NextToken; token == nil || len(ids) > 10 {
			break
		}
	}
	if fmt.Sprint(ids) != "[1 2 3 4 5]" {
		t.Fatalf("paged targets %v", ids)
	}
	_, err = cli.ListTargetsByRule(ctx, &eb.ListTargetsByRuleInput{Rule: aws.String("nope")})
	if !errors.As(err, &nf) {
		t.Fatalf("list targets of missing rule: %v", err)
	}

	if _, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("other"), ScheduleExpression: aws.String("rate(1 hour)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: aws.String("other"), Targets: []types.Target{{Id: aws.String("x"), Arn: aws.String(fnArn)}}}); err != nil {
		t.Fatal(err)
	}
	names, err := cli.ListRuleNamesByTarget(ctx, &eb.ListRuleNamesByTargetInput{TargetArn: aws.String(fnArn)})
	if err != nil || fmt.Sprint(names.RuleNames) != "[other r]" {
		t.Fatalf("rule names by target: %v %v", names, err)
	}
	names, _ = cli.ListRuleNamesByTarget(ctx, &eb.ListRuleNamesByTargetInput{TargetArn: aws.String(fnArn), Limit: aws.Int32(1)})
	if len(names.RuleNames) != 1 || names.NextToken == nil {
		t.Fatalf("first page of names: %v", names)
	}
	names, _ = cli.ListRuleNamesByTarget(ctx, &eb.ListRuleNamesByTargetInput{TargetArn: aws.String(fnArn), Limit: aws.Int32(1), NextToken: names.NextToken})
	if fmt.Sprint(names.RuleNames) != "[r]" || names.NextToken != nil {
		t.Fatalf("second page of names: %v", names)
	}
}

func TestListRulesPaging(t *testing.T) {
	cli, _, _, _ := start(t)
	for i := 0; i < 5; i++ {
		if _, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String(fmt.Sprintf("lab-%d", i)), ScheduleExpression: aws.String("rate(1 day)")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("zzz"), ScheduleExpression: aws.String("rate(1 day)")}); err != nil {
		t.Fatal(err)
	}
	var names []string
	var token *string
	pages := 0
	for {
		out, err := cli.ListRules(ctx, &eb.ListRulesInput{NamePrefix: aws.String("lab-"), Limit: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Rules {
			names = append(names, aws.ToString(r.Name))
			if aws.ToString(r.ScheduleExpression) != "rate(1 day)" || r.State != types.RuleStateEnabled {
				t.Fatalf("rule %+v", r)
			}
		}
		if token = out.NextToken; token == nil || pages > 10 {
			break
		}
	}
	if pages != 3 || fmt.Sprint(names) != "[lab-0 lab-1 lab-2 lab-3 lab-4]" {
		t.Fatalf("pages %d names %v", pages, names)
	}
	_, err := cli.ListRules(ctx, &eb.ListRulesInput{NextToken: aws.String("***")})
	wantCode(t, err, "ValidationException", "")
	_, err = cli.ListRules(ctx, &eb.ListRulesInput{Limit: aws.Int32(0)})
	wantCode(t, err, "ValidationException", "")
}

func TestTags(t *testing.T) {
	cli, _, _, _ := start(t)
	out, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("t"), ScheduleExpression: aws.String("rate(1 day)"), Tags: []types.Tag{{Key: aws.String("lab"), Value: aws.String("slab")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.TagResource(ctx, &eb.TagResourceInput{ResourceARN: out.RuleArn, Tags: []types.Tag{{Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UntagResource(ctx, &eb.UntagResourceInput{ResourceARN: out.RuleArn, TagKeys: []string{"lab"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := cli.ListTagsForResource(ctx, &eb.ListTagsForResourceInput{ResourceARN: out.RuleArn})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "b" {
		t.Fatalf("tags: %+v %v", lt, err)
	}
	_, err = cli.ListTagsForResource(ctx, &eb.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:events:us-east-1:000000000000:rule/none")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("tags of missing rule: %v", err)
	}
	_, err = cli.TagResource(ctx, &eb.TagResourceInput{ResourceARN: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "ValidationException", "")
}

// TestRulesSurviveRestart checks that rules and their targets round-trip
// through the store's journal.
func TestRulesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	var c1 *core.Core
	env := sbtest.Start(t, func(c *core.Core) []core.Service {
		svc := events.New(c)
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		c1 = c
		return []core.Service{svc}
	})
	cli := eb.NewFromConfig(env.Config)
	if _, err := cli.PutRule(ctx, &eb.PutRuleInput{Name: aws.String("r"), ScheduleExpression: aws.String("rate(5 minutes)"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.PutTargets(ctx, &eb.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("1"), Arn: aws.String(fnArn),
		InputTransformer: &types.InputTransformer{InputTemplate: aws.String(`{"a":<a>}`), InputPathsMap: map[string]string{"a": "$.detail"}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := c1.Store.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := core.New()
	s2 := events.New(c2)
	if err := c2.Store.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer c2.Store.Close()
	_ = c2.Store.View(func(tx *core.Tx) error {
		rules := s2.Rules(tx)
		if len(rules) != 1 || rules[0].Tags["k"] != "v" || len(rules[0].Targets) != 1 || rules[0].Targets[0].InputTransformer == nil ||
			rules[0].Targets[0].InputTransformer.InputPathsMap["a"] != "$.detail" || rules[0].ScheduledFrom.IsZero() {
			t.Errorf("after restart: %+v", rules)
		}
		if sch, ok := rules[0].Schedule(); !ok || sch.Every != 5*time.Minute {
			t.Errorf("schedule after restart: %+v", sch)
		}
		return nil
	})
}
