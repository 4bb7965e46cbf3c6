package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	snssvc "github.com/slab-lab/slab/sandbox/internal/sns"
)

var ctx = context.Background()

type fixture struct {
	env *sbtest.Env
	svc *snssvc.Service
	cli *sns.Client

	mu        sync.Mutex
	published []snssvc.Published
}

func start(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{}
	f.env = sbtest.Start(t, func(c *core.Core) []core.Service {
		f.svc = snssvc.New(c)
		return []core.Service{f.svc}
	})
	f.env.Core.SetHook(snssvc.HookPublished, func(ev snssvc.Published) {
		f.mu.Lock()
		f.published = append(f.published, ev)
		f.mu.Unlock()
	})
	f.cli = sns.NewFromConfig(f.env.Config)
	return f
}

func (f *fixture) events() []snssvc.Published {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]snssvc.Published(nil), f.published...)
}

func (f *fixture) topic(t testing.TB, name string) string {
	t.Helper()
	out, err := f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

func (f *fixture) topicAttrs(t testing.TB, arn string) map[string]string {
	t.Helper()
	out, err := f.cli.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func (f *fixture) subAttrs(t testing.TB, arn string) map[string]string {
	t.Helper()
	out, err := f.cli.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantNotFound(t *testing.T, err error, msg string) {
	t.Helper()
	var nf *types.NotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != msg {
		t.Fatalf("want NotFound %q, got %v", msg, err)
	}
}

func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Fatalf("want InvalidParameter, got %v", err)
	}
	if msg != "" && ip.ErrorMessage() != msg {
		t.Fatalf("message %q, want %q", ip.ErrorMessage(), msg)
	}
}

const queueArn = "arn:aws:sqs:us-east-1:000000000000:lambda-integration-queue"

func TestCreateTopicIsIdempotent(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "lambda-integration-notifications")
	if arn != "arn:aws:sns:us-east-1:000000000000:lambda-integration-notifications" {
		t.Fatalf("arn %s", arn)
	}
	if again := f.topic(t, "lambda-integration-notifications"); again != arn {
		t.Fatalf("second create gave %s", again)
	}
	out, err := f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("with-attrs"), Attributes: map[string]string{"DisplayName": "Lab"},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("lab")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("with-attrs"), Attributes: map[string]string{"DisplayName": "Other"}})
	wantInvalid(t, err, "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
	if a := f.topicAttrs(t, aws.ToString(out.TopicArn)); a["DisplayName"] != "Lab" {
		t.Fatalf("DisplayName %q", a["DisplayName"])
	}
	for _, name := range []string{"", "has space", "bad!", strings.Repeat("x", 257), "plain.fifo"} {
		_, err := f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		wantInvalid(t, err, "")
	}
	_, err = f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("x"), Attributes: map[string]string{"Colour": "blue"}})
	wantInvalid(t, err, "")
	_, err = f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("x"), Attributes: map[string]string{"Policy": "{nope"}})
	wantInvalid(t, err, "")
	fifo, err := f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders.fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil || !strings.HasSuffix(aws.ToString(fifo.TopicArn), ":orders.fifo") {
		t.Fatalf("fifo topic %v %v", fifo, err)
	}
}

func TestGetTopicAttributesDefaults(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "notify")
	a := f.topicAttrs(t, arn)
	for k, v := range map[string]string{
		"TopicArn": arn, "Owner": "000000000000", "DisplayName": "", "SubscriptionsConfirmed": "0",
		"SubscriptionsPending": "0", "SubscriptionsDeleted": "0",
	} {
		if got, ok := a[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	var policy struct {
		Version   string
		Id        string
		Statement []struct {
			Sid       string
			Effect    string
			Principal map[string]string
			Action    []string
			Resource  string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(a["Policy"]), &policy); err != nil {
		t.Fatalf("policy %q: %v", a["Policy"], err)
	}
	st := policy.Statement[0]
	if policy.Version != "2008-10-17" || policy.Id != "__default_policy_ID" || st.Sid != "__default_statement_ID" || st.Principal["AWS"] != "*" ||
		st.Resource != arn || st.Condition["StringEquals"]["AWS:SourceOwner"] != "000000000000" || len(st.Action) != 8 {
		t.Fatalf("default policy %s", a["Policy"])
	}
	if !strings.Contains(a["EffectiveDeliveryPolicy"], `"defaultHealthyRetryPolicy"`) {
		t.Fatalf("EffectiveDeliveryPolicy %s", a["EffectiveDeliveryPolicy"])
	}
	_, err := f.cli.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:missing")})
	wantNotFound(t, err, "Topic does not exist")
	_, err = f.cli.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("not-an-arn")})
	wantInvalid(t, err, "Invalid parameter: TopicArn")
	_, err = f.cli.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:eu-west-1:000000000000:notify")})
	wantInvalid(t, err, "Invalid parameter: TopicArn")
}

func TestSetTopicAttributes(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "settable")
	set := func(name, value string) error {
		_, err := f.cli.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String(name), AttributeValue: aws.String(value)})
		return err
	}
	if err := set("DisplayName", "Lab notifications"); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"SNS:Publish","Resource":"` + arn + `"}]}`
	if err := set("Policy", policy); err != nil {
		t.Fatal(err)
	}
	if err := set("DeliveryPolicy", `{"http":{"defaultHealthyRetryPolicy":{"numRetries":5}}}`); err != nil {
		t.Fatal(err)
	}
	a := f.topicAttrs(t, arn)
	if a["DisplayName"] != "Lab notifications" || a["Policy"] != policy || a["EffectiveDeliveryPolicy"] != `{"http":{"defaultHealthyRetryPolicy":{"numRetries":5}}}` {
		t.Fatalf("attributes %v", a)
	}
	wantInvalid(t, set("Colour", "blue"), "Invalid parameter: AttributeName")
	wantInvalid(t, set("FifoTopic", "true"), "Invalid parameter: AttributeName")
	wantInvalid(t, set("Policy", "{broken"), "")
	wantInvalid(t, set("TracingConfig", "Sometimes"), "")
	_, err := f.cli.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn + "x"), AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("x")})
	wantNotFound(t, err, "Topic does not exist")
}

func TestListTopicsPaginates(t *testing.T) {
	f := start(t)
	for i := 0; i < 205; i++ {
		f.topic(t, fmt.Sprintf("t-%03d", i))
	}
	p := sns.NewListTopicsPaginator(f.cli, &sns.ListTopicsInput{})
	var arns []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Topics) > 100 {
			t.Fatalf("page of %d", len(out.Topics))
		}
		for _, tp := range out.Topics {
			arns = append(arns, aws.ToString(tp.TopicArn))
		}
	}
	if pages != 3 || len(arns) != 205 || !strings.HasSuffix(arns[0], ":t-000") || !strings.HasSuffix(arns[204], ":t-204") {
		t.Fatalf("%d pages, %d topics", pages, len(arns))
	}
	other := sns.NewFromConfig(f.env.For("AKIDSANDBOXTEST", "eu-west-1"))
	out, err := other.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil || len(out.Topics) != 0 {
		t.Fatalf("other region sees %v %v", out, err)
	}
	_, err = f.cli.ListTopics(ctx, &sns.ListTopicsInput{NextToken: aws.String("***")})
	wantInvalid(t, err, "")
}

func TestDeleteTopicRemovesSubscriptionsAndIsIdempotent(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "doomed")
	sub, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	_, err = f.cli.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
	wantNotFound(t, err, "Subscription does not exist")
	list, err := f.cli.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
	if err != nil || len(list.Subscriptions) != 0 {
		t.Fatalf("%v %v", list, err)
	}
	// Recreating starts with no subscriptions.
	f.topic(t, "doomed")
	if a := f.topicAttrs(t, arn); a["SubscriptionsConfirmed"] != "0" {
		t.Fatalf("recreated topic %v", a)
	}
}

func TestSubscribeSQSAndLambdaConfirmAtOnce(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "fanout")
	out, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)})
	if err != nil {
		t.Fatal(err)
	}
	subArn := aws.ToString(out.SubscriptionArn)
	if !strings.HasPrefix(subArn, arn+":") || len(subArn) != len(arn)+37 {
		t.Fatalf("subscription arn %s", subArn)
	}
	again, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)})
	if err != nil || aws.ToString(again.SubscriptionArn) != subArn {
		t.Fatalf("resubscribe %v %v", again, err)
	}
	a := f.subAttrs(t, subArn)
	want := map[string]string{
		"SubscriptionArn": subArn, "TopicArn": arn, "Protocol": "sqs", "Endpoint": queueArn, "Owner": "000000000000",
		"RawMessageDelivery": "false", "PendingConfirmation": "false", "ConfirmationWasAuthenticated": "true",
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	if _, ok := a["FilterPolicy"]; ok {
		t.Error("FilterPolicy reported without one")
	}
	lam, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("lambda"), Endpoint: aws.String("arn:aws:lambda:us-east-1:000000000000:function:sqs-processor")})
	if err != nil || !strings.HasPrefix(aws.ToString(lam.SubscriptionArn), arn+":") {
		t.Fatalf("lambda %v %v", lam, err)
	}
	if ta := f.topicAttrs(t, arn); ta["SubscriptionsConfirmed"] != "2" || ta["SubscriptionsPending"] != "0" {
		t.Fatalf("counts %v", ta)
	}
	// A queue of another account needs confirmation.
	cross, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:111111111111:theirs")})
	if err != nil || aws.ToString(cross.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("cross-account %v %v", cross, err)
	}
}

func TestSubscribePendingAndConfirm(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "mail")
	out, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"), Endpoint: aws.String("student@example.com")})
	if err != nil || aws.ToString(out.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("%v %v", out, err)
	}
	withArn, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"), Endpoint: aws.String("student@example.com"), ReturnSubscriptionArn: true})
	if err != nil || !strings.HasPrefix(aws.ToString(withArn.SubscriptionArn), arn+":") {
		t.Fatalf("ReturnSubscriptionArn %v %v", withArn, err)
	}
	a := f.subAttrs(t, aws.ToString(withArn.SubscriptionArn))
	if a["PendingConfirmation"] != "true" || a["ConfirmationWasAuthenticated"] != "false" {
		t.Fatalf("attributes %v", a)
	}
	list, err := f.cli.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	if err != nil || len(list.Subscriptions) != 1 || aws.ToString(list.Subscriptions[0].SubscriptionArn) != "PendingConfirmation" {
		t.Fatalf("%v %v", list, err)
	}
	if ta := f.topicAttrs(t, arn); ta["SubscriptionsPending"] != "1" || ta["SubscriptionsConfirmed"] != "0" {
		t.Fatalf("counts %v", ta)
	}
	// The engine delivers the token; ConfirmSubscription completes it.
	var token string
	_ = f.env.Core.Store.View(func(tx *core.Tx) error {
		for _, s := range f.svc.Subscriptions(tx, arn) {
			token = s.ConfirmationToken
		}
		return nil
	})
	_, err = f.cli.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String(arn), Token: aws.String("wrong")})
	wantInvalid(t, err, "Invalid parameter: Token")
	conf, err := f.cli.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String(arn), Token: aws.String(token)})
	if err != nil || aws.ToString(conf.SubscriptionArn) != aws.ToString(withArn.SubscriptionArn) {
		t.Fatalf("confirm %v %v", conf, err)
	}
	if f.subAttrs(t, aws.ToString(conf.SubscriptionArn))["PendingConfirmation"] != "false" {
		t.Fatal("still pending")
	}
	for _, c := range []struct{ proto, endpoint string }{
		{"https", "https://example.com/hook"}, {"http", "http://example.com/hook"},
	} {
		out, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String(c.proto), Endpoint: aws.String(c.endpoint)})
		if err != nil || aws.ToString(out.SubscriptionArn) != "pending confirmation" {
			t.Fatalf("%s: %v %v", c.proto, out, err)
		}
	}
}

func TestSubscribeValidation(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "strict")
	cases := []struct {
		proto, endpoint string
		attrs           map[string]string
		msg             string
	}{
		{"sqs", "not-an-arn", nil, "Invalid parameter: SQS endpoint ARN"},
		{"lambda", "arn:aws:sqs:us-east-1:000000000000:q", nil, "Invalid parameter: Lambda endpoint ARN"},
		{"email", "nobody", nil, "Invalid parameter: Email address"},
		{"https", "http://example.com", nil, "Invalid parameter: Endpoint must match the specified protocol"},
		{"carrier-pigeon", "coop", nil, "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"},
		{"sqs", queueArn, map[string]string{"FilterPolicy": "{not json"}, ""},
		{"sqs", queueArn, map[string]string{"FilterPolicy": `{"kind":"order"}`}, ""},
		{"sqs", queueArn, map[string]string{"FilterPolicy": `{"a":{"b":["c"]}}`}, "Invalid parameter: FilterPolicy: Filter policy scope MessageAttributes does not support nested filter policy"},
		{"sqs", queueArn, map[string]string{"FilterPolicy": `{"a":[{"bogus":1}]}`}, "Invalid parameter: FilterPolicy: Unrecognized match type bogus"},
		{"sqs", queueArn, map[string]string{"FilterPolicy": `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`}, "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"},
		{"sqs", queueArn, map[string]string{"RawMessageDelivery": "maybe"}, ""},
		{"lambda", "arn:aws:lambda:us-east-1:000000000000:function:f", map[string]string{"RawMessageDelivery": "true"}, "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery."},
		{"sqs", queueArn, map[string]string{"Colour": "blue"}, ""},
	}
	for _, c := range cases {
		_, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String(c.proto), Endpoint: aws.String(c.endpoint), Attributes: c.attrs})
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) || (c.msg != "" && ip.ErrorMessage() != c.msg) {
			t.Errorf("%s %s %v: %v", c.proto, c.endpoint, c.attrs, err)
		}
	}
	_, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn + "-nope"), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)})
	wantNotFound(t, err, "Topic does not exist")
}

func TestSubscribeWithAttributes(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "filtered")
	policy := `{"kind":["order",{"prefix":"inv-"}],"amount":[{"numeric":[">",0,"<=",100]}],"region":[{"anything-but":["eu-west-1"]}],"vip":[{"exists":true}]}`
	out, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn),
		Attributes: map[string]string{"RawMessageDelivery": "true", "FilterPolicy": policy}})
	if err != nil {
		t.Fatal(err)
	}
	a := f.subAttrs(t, aws.ToString(out.SubscriptionArn))
	if a["RawMessageDelivery"] != "true" || a["FilterPolicy"] != policy || a["FilterPolicyScope"] != "MessageAttributes" {
		t.Fatalf("attributes %v", a)
	}
	// Same endpoint, different attributes: refused.
	_, err = f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn),
		Attributes: map[string]string{"RawMessageDelivery": "false"}})
	wantInvalid(t, err, "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
	body, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("lambda"), Endpoint: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f"),
		Attributes: map[string]string{"FilterPolicyScope": "MessageBody", "FilterPolicy": `{"detail":{"state":["ok"]}}`}})
	if err != nil {
		t.Fatalf("MessageBody scope with nested policy: %v", err)
	}
	var subs []snssvc.Subscription
	_ = f.env.Core.Store.View(func(tx *core.Tx) error {
		subs = f.svc.Subscriptions(tx, arn)
		return nil
	})
	if len(subs) != 2 {
		t.Fatalf("subscriptions %+v", subs)
	}
	for _, s := range subs {
		switch s.Arn {
		case aws.ToString(out.SubscriptionArn):
			if !s.RawMessageDelivery || s.FilterPolicy != policy || s.FilterPolicyScope != "MessageAttributes" || s.Protocol != "sqs" || s.PendingConfirmation {
				t.Fatalf("sqs subscription %+v", s)
			}
		case aws.ToString(body.SubscriptionArn):
			if s.FilterPolicyScope != "MessageBody" || s.Endpoint != "arn:aws:lambda:us-east-1:000000000000:function:f" {
				t.Fatalf("lambda subscription %+v", s)
			}
		default:
			t.Fatalf("unexpected %+v", s)
		}
	}
}

func TestSetSubscriptionAttributes(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "mutable")
	out, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)})
	if err != nil {
		t.Fatal(err)
	}
	sub := out.SubscriptionArn
	set := func(name, value string) error {
		_, err := f.cli.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: sub, AttributeName: aws.String(name), AttributeValue: aws.String(value)})
		return err
	}
	for _, kv := range [][2]string{
		{"RawMessageDelivery", "true"}, {"FilterPolicy", `{"kind":["order"]}`}, {"FilterPolicyScope", "MessageBody"},
		{"RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}`},
	} {
		if err := set(kv[0], kv[1]); err != nil {
			t.Fatalf("%s: %v", kv[0], err)
		}
	}
	a := f.subAttrs(t, aws.ToString(sub))
	if a["RawMessageDelivery"] != "true" || a["FilterPolicy"] != `{"kind":["order"]}` || a["FilterPolicyScope"] != "MessageBody" || !strings.Contains(a["RedrivePolicy"], ":dlq") {
		t.Fatalf("attributes %v", a)
	}
	wantInvalid(t, set("Protocol", "http"), "Invalid parameter: AttributeName")
	wantInvalid(t, set("Owner", "x"), "Invalid parameter: AttributeName")
	wantInvalid(t, set("RawMessageDelivery", "yes"), "")
	wantInvalid(t, set("FilterPolicy", "[1]"), "")
	wantInvalid(t, set("FilterPolicyScope", "Everything"), "")
	wantInvalid(t, set("DeliveryPolicy", `{"healthyRetryPolicy":{}}`), "")
	_, err = f.cli.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn + ":00000000-0000-4000-a000-000000000000"), AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")})
	wantNotFound(t, err, "Subscription does not exist")
}

func TestUnsubscribe(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "leaving")
	out, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: out.SubscriptionArn}); err != nil {
		t.Fatal(err)
	}
	_, err = f.cli.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: out.SubscriptionArn})
	wantNotFound(t, err, "Subscription does not exist")
	_, err = f.cli.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String("garbage")})
	wantInvalid(t, err, "")
	if a := f.topicAttrs(t, arn); a["SubscriptionsDeleted"] != "1" || a["SubscriptionsConfirmed"] != "0" {
		t.Fatalf("counts %v", a)
	}
}

func TestListSubscriptionsPaginates(t *testing.T) {
	f := start(t)
	a := f.topic(t, "a")
	b := f.topic(t, "b")
	for i := 0; i < 120; i++ {
		topic := a
		if i%2 == 1 {
			topic = b
		}
		if _, err := f.cli.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(fmt.Sprintf("arn:aws:sqs:us-east-1:000000000000:q%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(p interface {
		HasMorePages() bool
	}, next func() (int, error)) (int, int) {
		total, pages := 0, 0
		for p.HasMorePages() {
			n, err := next()
			if err != nil {
				t.Fatal(err)
			}
			total += n
			pages++
		}
		return total, pages
	}
	all := sns.NewListSubscriptionsPaginator(f.cli, &sns.ListSubscriptionsInput{})
	total, pages := count(all, func() (int, error) {
		out, err := all.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		return len(out.Subscriptions), nil
	})
	if total != 120 || pages != 2 {
		t.Fatalf("ListSubscriptions: %d in %d pages", total, pages)
	}
	byTopic := sns.NewListSubscriptionsByTopicPaginator(f.cli, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(a)})
	total, _ = count(byTopic, func() (int, error) {
		out, err := byTopic.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, s := range out.Subscriptions {
			if aws.ToString(s.TopicArn) != a || aws.ToString(s.Protocol) != "sqs" || aws.ToString(s.Owner) != "000000000000" {
				return 0, fmt.Errorf("member %+v", s)
			}
		}
		return len(out.Subscriptions), nil
	})
	if total != 60 {
		t.Fatalf("ListSubscriptionsByTopic: %d", total)
	}
	_, err := f.cli.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(a + "zz")})
	wantNotFound(t, err, "Topic does not exist")
}

func TestPublish(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "lambda-integration-notifications")
	out, err := f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Subject: aws.String("Data Processing Summary"), Message: aws.String(`{"itemCount":3}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("summary")},
			"count": {DataType: aws.String("Number"), StringValue: aws.String("3")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	evs := f.events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	if ev.MessageID != aws.ToString(out.MessageId) || ev.TopicArn != arn || ev.Subject != "Data Processing Summary" || ev.Message != `{"itemCount":3}` ||
		ev.Scope != (core.Scope{Account: "000000000000", Region: "us-east-1"}) || ev.Timestamp.IsZero() {
		t.Fatalf("event %+v", ev)
	}
	if ev.MessageAttributes["kind"].StringValue != "summary" || string(ev.MessageAttributes["blob"].BinaryValue) != "\x01\x02" || ev.MessageAttributes["count"].DataType != "Number" {
		t.Fatalf("attributes %+v", ev.MessageAttributes)
	}
	// TargetArn works like TopicArn.
	if _, err := f.cli.Publish(ctx, &sns.PublishInput{TargetArn: aws.String(arn), Message: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), MessageStructure: aws.String("json"), Message: aws.String(`{"default":"d","sqs":"q"}`)}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.events()); n != 3 {
		t.Fatalf("%d events after three publishes", n)
	}
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(""), Message: aws.String("x")})
	wantInvalid(t, err, "Invalid parameter: TopicArn")
	_, err = f.cli.Publish(ctx, &sns.PublishInput{Message: aws.String("x")})
	wantInvalid(t, err, "Invalid parameter: TopicArn")
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn + "-gone"), Message: aws.String("x")})
	wantNotFound(t, err, "Topic does not exist")
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("")})
	wantInvalid(t, err, "Invalid parameter: Empty message")
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), Subject: aws.String(strings.Repeat("s", 101))})
	wantInvalid(t, err, "Invalid parameter: Subject")
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), Subject: aws.String("line\nbreak")})
	wantInvalid(t, err, "Invalid parameter: Subject")
	if _, err := f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), Subject: aws.String(strings.Repeat("s", 100))}); err != nil {
		t.Fatalf("100-character subject: %v", err)
	}
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(strings.Repeat("m", 262145))})
	wantInvalid(t, err, "Invalid parameter: Message too long")
	if _, err := f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(strings.Repeat("m", 262144))}); err != nil {
		t.Fatalf("256 KiB message: %v", err)
	}
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), MessageStructure: aws.String("json"), Message: aws.String(`{"sqs":"q"}`)})
	wantInvalid(t, err, "Invalid parameter: Message Structure - No default entry in JSON message body")
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{
		"n": {DataType: aws.String("Number"), StringValue: aws.String("lots")},
	}})
	var pv *types.InvalidParameterValueException
	if !errors.As(err, &pv) || pv.ErrorCode() != "ParameterValueInvalid" {
		t.Fatalf("want InvalidParameterValueException, got %v", err)
	}
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{
		"t": {DataType: aws.String("Date"), StringValue: aws.String("today")},
	}})
	if !errors.As(err, &pv) {
		t.Fatalf("bad data type: %v", err)
	}
	if n := len(f.events()); n != 5 {
		t.Fatalf("failed publishes reached the hook: %d events", n)
	}
}

func TestPublishAcrossAccounts(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "owned")
	stranger := sns.NewFromConfig(f.env.For("111111111111", "us-east-1"))
	_, err := stranger.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x")})
	var denied *types.AuthorizationErrorException
	if !errors.As(err, &denied) {
		t.Fatalf("want AuthorizationError, got %v", err)
	}
	policy := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":["sns:Publish"],"Resource":"` + arn + `"}]}`
	if _, err := f.cli.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("Policy"), AttributeValue: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := stranger.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x")}); err != nil {
		t.Fatalf("publish allowed by topic policy: %v", err)
	}
	if ev := f.events(); len(ev) != 1 || ev[0].Scope.Account != "000000000000" {
		t.Fatalf("events %+v", ev)
	}
}

func TestPublishBatch(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "batch")
	out, err := f.cli.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(arn), PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String("one")},
		{Id: aws.String("b"), Message: aws.String("")},
		{Id: aws.String("c"), Message: aws.String("three"), Subject: aws.String("s")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "b" || aws.ToString(out.Failed[0].Code) != "InvalidParameter" || !out.Failed[0].SenderFault {
		t.Fatalf("%+v", out)
	}
	if n := len(f.events()); n != 2 {
		t.Fatalf("%d events", n)
	}
	_, err = f.cli.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(arn), PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String("one")}, {Id: aws.String("a"), Message: aws.String("two")},
	}})
	var dup *types.BatchEntryIdsNotDistinctException
	if !errors.As(err, &dup) {
		t.Fatalf("want BatchEntryIdsNotDistinct, got %v", err)
	}
	var many []types.PublishBatchRequestEntry
	for i := 0; i < 11; i++ {
		many = append(many, types.PublishBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), Message: aws.String("x")})
	}
	_, err = f.cli.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(arn), PublishBatchRequestEntries: many})
	var tooMany *types.TooManyEntriesInBatchRequestException
	if !errors.As(err, &tooMany) {
		t.Fatalf("want TooManyEntriesInBatchRequest, got %v", err)
	}
	_, err = f.cli.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(arn), PublishBatchRequestEntries: []types.PublishBatchRequestEntry{}})
	var emptyBatch *types.EmptyBatchRequestException
	if !errors.As(err, &emptyBatch) {
		t.Fatalf("want EmptyBatchRequest, got %v", err)
	}
	_, err = f.cli.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(arn + "x"), PublishBatchRequestEntries: []types.PublishBatchRequestEntry{{Id: aws.String("a"), Message: aws.String("m")}}})
	wantNotFound(t, err, "Topic does not exist")
}

func TestFIFOTopicPublish(t *testing.T) {
	f := start(t)
	out, err := f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events.fifo"), Attributes: map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.TopicArn
	first, err := f.cli.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), MessageGroupId: aws.String("g")})
	if err != nil || aws.ToString(first.SequenceNumber) == "" {
		t.Fatalf("%v %v", first, err)
	}
	dup, err := f.cli.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), MessageGroupId: aws.String("g")})
	if err != nil || aws.ToString(dup.MessageId) != aws.ToString(first.MessageId) {
		t.Fatalf("duplicate %v %v", dup, err)
	}
	second, err := f.cli.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("n"), MessageGroupId: aws.String("g")})
	if err != nil || aws.ToString(second.SequenceNumber) <= aws.ToString(first.SequenceNumber) {
		t.Fatalf("second %v %v", second, err)
	}
	if n := len(f.events()); n != 2 {
		t.Fatalf("duplicate announced: %d events", n)
	}
	_, err = f.cli.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("m")})
	wantInvalid(t, err, "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
	a := f.topicAttrs(t, aws.ToString(arn))
	if a["FifoTopic"] != "true" || a["ContentBasedDeduplication"] != "true" {
		t.Fatalf("attributes %v", a)
	}
}

func TestTags(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "tagged")
	if _, err := f.cli.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("lab")}, {Key: aws.String("team"), Value: aws.String("data")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	out, err := f.cli.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "team" || aws.ToString(out.Tags[0].Value) != "ops" {
		t.Fatalf("%+v %v", out, err)
	}
	_, err = f.cli.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn + "-none")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("want ResourceNotFound, got %v", err)
	}
	var lots []types.Tag
	for i := 0; i < 51; i++ {
		lots = append(lots, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err = f.cli.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: lots})
	var limit *types.TagLimitExceededException
	if !errors.As(err, &limit) {
		t.Fatalf("want TagLimitExceeded, got %v", err)
	}
	// Tags given at creation must match on an idempotent create.
	if _, err := f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}); err != nil {
		t.Fatalf("same tags: %v", err)
	}
	_, err = f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("x")}}})
	wantInvalid(t, err, "Invalid parameter: Tags Reason: Topic already exists with different tags")
}

func TestUnknownAction(t *testing.T) {
	f := start(t)
	_, err := f.cli.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:x"), Label: aws.String("l"), AWSAccountId: []string{"1"}, ActionName: []string{"Publish"}})
	if apiCode(err) != "InvalidAction" {
		t.Fatalf("want InvalidAction, got %v", err)
	}
}

// SNS's 30 KB policy quota is checked before the document is parsed.
func TestPolicyOverQuotaIsRefusedBeforeParsing(t *testing.T) {
	f := start(t)
	arn := f.topic(t, "t")
	_, err := f.cli.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("Policy"), AttributeValue: aws.String(strings.Repeat("{", 30*1024+1))})
	wantInvalid(t, err, "Invalid parameter: Policy Error: the policy is 30721 bytes, above the limit of 30720")
	_, err = f.cli.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t2"), Attributes: map[string]string{"DeliveryPolicy": strings.Repeat(" ", 40000)}})
	wantInvalid(t, err, "")
}
