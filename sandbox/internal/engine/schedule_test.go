package engine_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/engine"
)

func TestScheduleFiresWithCompressedTime(t *testing.T) {
	// 600x: rate(1 minute) fires every 100 ms of real time.
	e := start(t, engine.Options{TimeScale: 600})
	fn := e.function(t, "event-to-sns-processor", 30)
	ruleArn := e.rule(t, "lambda-integration-schedule", "rate(1 minute)")
	e.permit(t, fn, "eventbridge-trigger", "events.amazonaws.com", ruleArn, "")
	e.target(t, "lambda-integration-schedule", ebtypes.Target{Id: aws.String("1"), Arn: aws.String(fn)})

	eventually(t, "two scheduled invocations", func() bool { return len(e.inv.asyncCalls()) >= 2 })
	calls := e.inv.asyncCalls()
	in := calls[0]
	if in.Function != fn || in.Source != "events" {
		t.Fatalf("invocation %+v", in)
	}
	ev := decode(t, in.Payload)
	if ev["version"] != "0" || ev["detail-type"] != "Scheduled Event" || ev["source"] != "aws.events" || ev["account"] != acct ||
		ev["region"] != region || path(ev, "resources", 0) != ruleArn || len(ev["detail"].(map[string]any)) != 0 {
		t.Fatalf("scheduled event %v", ev)
	}
	if s, _ := ev["time"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(s) {
		t.Errorf("time %q", s)
	}
	if id, _ := ev["id"].(string); len(id) != 36 || id == decode(t, calls[1].Payload)["id"] {
		t.Errorf("event ids %v / %v", id, decode(t, calls[1].Payload)["id"])
	}

	// Disabled rules do not fire.
	if _, err := e.eb.DisableRule(ctx, &eb.DisableRuleInput{Name: aws.String("lambda-integration-schedule")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	n := len(e.inv.asyncCalls())
	time.Sleep(400 * time.Millisecond)
	if m := len(e.inv.asyncCalls()); m != n {
		t.Fatalf("a disabled rule fired %d more times", m-n)
	}
}

// Breakage: put-targets without add-permission for events.amazonaws.com
// (or with the permission for another rule). EventBridge accepts the
// target and the function never runs.
func TestScheduleWithoutEventsPermissionDoesNotInvoke(t *testing.T) {
	e := start(t, engine.Options{TimeScale: 600})
	fn := e.function(t, "event-to-sns-processor", 30)
	e.rule(t, "lambda-integration-schedule", "rate(1 minute)")
	e.permit(t, fn, "other-rule", "events.amazonaws.com", "arn:aws:events:us-east-1:000000000000:rule/other", "")
	e.target(t, "lambda-integration-schedule", ebtypes.Target{Id: aws.String("1"), Arn: aws.String(fn)})

	eventually(t, "the rule to fire", func() bool { return len(e.deliveries(engine.Dropped)) >= 2 })
	if n := len(e.inv.asyncCalls()); n != 0 {
		t.Fatalf("the function ran %d times without events.amazonaws.com's permission", n)
	}
	d := e.deliveries(engine.Dropped)[0]
	if d.Source != "events" || d.To != fn || !strings.Contains(d.Reason, "does not allow events.amazonaws.com") {
		t.Fatalf("delivery %+v", d)
	}
}

func TestTriggerRuleEndpoint(t *testing.T) {
	e := start(t, engine.Options{})
	fn := e.function(t, "event-to-sns-processor", 30)
	ruleArn := e.rule(t, "lambda-integration-schedule", "rate(5 minutes)")
	url, qarn := e.queue(t, "rule-queue", nil)
	e.target(t, "lambda-integration-schedule",
		ebtypes.Target{Id: aws.String("fn"), Arn: aws.String(fn)},
		ebtypes.Target{Id: aws.String("q"), Arn: aws.String(qarn), Input: aws.String(`{"constant":true}`)})

	var res engine.FireResult
	if code := e.httpJSON(t, "POST", "/_slab/events/rules/lambda-integration-schedule/trigger", &res); code != 200 {
		t.Fatalf("trigger: %d %+v", code, res)
	}
	if res.Rule != ruleArn || len(res.Targets) != 2 || res.Targets[0].Delivered || !strings.Contains(res.Targets[0].Reason, "events.amazonaws.com") ||
		res.Targets[1].Delivered || !strings.Contains(res.Targets[1].Reason, "no access policy") {
		t.Fatalf("without permissions: %+v", res)
	}

	e.permit(t, fn, "eventbridge-trigger", "events.amazonaws.com", ruleArn, "")
	e.setQueuePolicy(t, url, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"`+qarn+`","Condition":{"ArnEquals":{"aws:SourceArn":"`+ruleArn+`"}}}]}`)
	// The ARN form, with the account and region in the ARN.
	if code := e.httpJSON(t, "POST", "/_slab/events/rules/"+ruleArn+"/trigger", &res); code != 200 {
		t.Fatalf("trigger by ARN: %d", code)
	}
	if !res.Targets[0].Delivered || res.Targets[0].RequestID == "" || !res.Targets[1].Delivered {
		t.Fatalf("with permissions: %+v", res)
	}
	if calls := e.inv.asyncCalls(); len(calls) != 1 || decode(t, calls[0].Payload)["detail-type"] != "Scheduled Event" {
		t.Fatalf("calls %+v", calls)
	}
	if msgs := e.receive(t, url, 1); len(msgs) != 1 || msgs[0].Body != `{"constant":true}` {
		t.Fatalf("queue target got %+v", msgs)
	}

	var errBody map[string]string
	if code := e.httpJSON(t, "POST", "/_slab/events/rules/nope/trigger", &errBody); code != 404 || !strings.Contains(errBody["error"], "nope") {
		t.Fatalf("unknown rule: %d %v", code, errBody)
	}
	if code := e.httpJSON(t, "POST", "/_slab/events/rules/lambda-integration-schedule/trigger?account=123456789012", &errBody); code != 404 {
		t.Fatalf("rule of another account: %d", code)
	}
	if _, err := e.eb.DisableRule(ctx, &eb.DisableRuleInput{Name: aws.String("lambda-integration-schedule")}); err != nil {
		t.Fatal(err)
	}
	if code := e.httpJSON(t, "POST", "/_slab/events/rules/lambda-integration-schedule/trigger", &errBody); code != 409 {
		t.Fatalf("disabled rule: %d %v", code, errBody)
	}
}

func TestTriggerRuleInputTransformer(t *testing.T) {
	e := start(t, engine.Options{})
	fn := e.function(t, "fn", 3)
	ruleArn := e.rule(t, "transformed", "cron(0 12 * * ? *)")
	e.permit(t, fn, "eb", "events.amazonaws.com", ruleArn, acct)
	e.target(t, "transformed",
		ebtypes.Target{Id: aws.String("path"), Arn: aws.String(fn), InputPath: aws.String("$.resources[0]")},
		ebtypes.Target{Id: aws.String("tpl"), Arn: aws.String(fn), InputTransformer: &ebtypes.InputTransformer{
			InputPathsMap: map[string]string{"kind": "$.detail-type", "src": "$.source"},
			InputTemplate: aws.String(`{"what":"<kind> from <src>","src":<src>,"rule":"<aws.events.rule-name>"}`),
		}})
	res, err := e.eng.TriggerRule(context.Background(), core.Scope{Account: acct, Region: region}, "transformed")
	if err != nil || len(res.Targets) != 2 {
		t.Fatalf("%v %+v", err, res)
	}
	calls := e.inv.asyncCalls()
	if len(calls) != 2 {
		t.Fatalf("calls %d", len(calls))
	}
	if string(calls[0].Payload) != `"`+ruleArn+`"` {
		t.Errorf("InputPath payload %s", calls[0].Payload)
	}
	if got := string(calls[1].Payload); got != `{"what":"Scheduled Event from aws.events","src":"aws.events","rule":"transformed"}` {
		t.Errorf("InputTransformer payload %s", got)
	}
}
