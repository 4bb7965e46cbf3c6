package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/policy"
)

func snsSQSChecks() []Check {
	q := []string{"sqs:GetQueueUrl", "sqs:GetQueueAttributes"}
	subs := []string{"sns:ListSubscriptionsByTopic"}
	return []Check{
		{ID: "sns-sqs.topic", Title: "The topic exists", Weight: 1, Actions: []string{"sns:GetTopicAttributes"}, Run: wrap(checkTopic)},
		{ID: "sns-sqs.queue", Title: "The queue exists", Weight: 1, Actions: q, Run: wrap(checkQueue)},
		{ID: "sns-sqs.subscription", Title: "The queue is subscribed to the topic", Weight: 2, Actions: append(subs, "sns:GetTopicAttributes"), Run: wrap(checkSubscription)},
		{ID: "sns-sqs.raw-delivery", Title: "Raw message delivery is off", Weight: 1, Actions: append(subs, "sns:GetTopicAttributes", "sns:GetSubscriptionAttributes"), Run: wrap(checkRawDelivery)},
		{ID: "sns-sqs.queue-policy", Title: "The queue policy lets the topic send", Weight: 3, Actions: q, Run: wrap(checkQueuePolicy)},
		{ID: "sns-sqs.dead-letter", Title: "The queue has a dead-letter queue", Weight: 1, Actions: q, Run: wrap(checkDeadLetter)},
	}
}

func checkTopic(ctx context.Context, r *run) Result {
	attrs, err := r.topic(ctx)
	if err != nil {
		return errorResult(err, "topic "+r.names.Topic)
	}
	if attrs == nil {
		return fail("topic "+r.names.Topic+" does not exist", redo(lab.StepSNSSQS), "sns:GetTopicAttributes "+r.topicArn()+": NotFound")
	}
	return pass("topic "+r.names.Topic+" exists", "sns:GetTopicAttributes: "+r.topicArn())
}

func (r *run) needQueue(ctx context.Context) (queueInfo, *Result) {
	q, err := r.queue(ctx)
	if err != nil {
		res := errorResult(err, "queue "+r.names.Queue)
		return q, &res
	}
	if !q.Exists {
		res := skip("needs queue "+r.names.Queue+", which does not exist", "sns-sqs.queue")
		return q, &res
	}
	return q, nil
}

func checkQueue(ctx context.Context, r *run) Result {
	q, err := r.queue(ctx)
	if err != nil {
		return errorResult(err, "queue "+r.names.Queue)
	}
	if !q.Exists {
		return fail("queue "+r.names.Queue+" does not exist", hint(redo(lab.StepSNSSQS), see(tsQueueDeleted)), "sqs:GetQueueUrl "+r.names.Queue+": QueueDoesNotExist")
	}
	return pass("queue "+r.names.Queue+" exists", "sqs:GetQueueAttributes: "+q.Arn)
}

func checkSubscription(ctx context.Context, r *run) Result {
	attrs, err := r.topic(ctx)
	if err != nil {
		return errorResult(err, "topic "+r.names.Topic)
	}
	if attrs == nil {
		return skip("needs topic "+r.names.Topic+", which does not exist", "sns-sqs.topic")
	}
	sub, others, err := r.labSubscription(ctx)
	if err != nil {
		return errorResult(err, "the subscriptions of "+r.names.Topic)
	}
	qArn := r.queueArn(ctx)
	fix := fmt.Sprintf("`aws sns subscribe --topic-arn %s --protocol sqs --notification-endpoint %s`", r.topicArn(), qArn)
	if sub == nil {
		if len(others) > 0 {
			return fail("the topic's sqs subscriptions go to "+strings.Join(others, ", ")+", not to "+qArn, hint(fix, see(tsLostVariables), see(tsSNSSQS)),
				"sns:ListSubscriptionsByTopic: "+strings.Join(others, ", "))
		}
		return fail("queue "+r.names.Queue+" is not subscribed to topic "+r.names.Topic, hint(fix, see(tsSNSSQS)), "sns:ListSubscriptionsByTopic: no sqs subscription")
	}
	arn := aws.ToString(sub.SubscriptionArn)
	ev := fmt.Sprintf("sns:ListSubscriptionsByTopic: %s -> %s (%s)", aws.ToString(sub.Protocol), aws.ToString(sub.Endpoint), arn)
	if arn == "" || strings.EqualFold(arn, "PendingConfirmation") || !strings.HasPrefix(arn, "arn:") {
		return fail("the subscription of "+r.names.Queue+" is not confirmed ("+quote(arn)+")",
			hint("a queue in another account must confirm: read the SubscribeURL from the queue's first message", see(tsSNSSQS)), ev)
	}
	return pass("queue "+r.names.Queue+" is subscribed to "+r.names.Topic+" and confirmed", ev)
}

func checkRawDelivery(ctx context.Context, r *run) Result {
	attrs, err := r.topic(ctx)
	if err != nil {
		return errorResult(err, "topic "+r.names.Topic)
	}
	if attrs == nil {
		return skip("needs topic "+r.names.Topic+", which does not exist", "sns-sqs.topic")
	}
	sub, _, err := r.labSubscription(ctx)
	if err != nil {
		return errorResult(err, "the subscriptions of "+r.names.Topic)
	}
	if sub == nil || !strings.HasPrefix(aws.ToString(sub.SubscriptionArn), "arn:") {
		return skip("needs a confirmed subscription of the queue to the topic", "sns-sqs.subscription")
	}
	arn := aws.ToString(sub.SubscriptionArn)
	sa, err := r.subscriptionAttrs(ctx, arn)
	if err != nil {
		return errorResult(err, "the subscription's attributes")
	}
	raw := sa["RawMessageDelivery"]
	ev := "sns:GetSubscriptionAttributes: RawMessageDelivery " + quote(raw)
	if strings.EqualFold(raw, "true") {
		return fail("raw message delivery is on: the queue processor gets no SNS envelope and fails every message",
			hint(fmt.Sprintf("`aws sns set-subscription-attributes --subscription-arn %s --attribute-name RawMessageDelivery --attribute-value false`", arn), see(tsRawDelivery)), ev)
	}
	return pass("raw message delivery is off: messages arrive in the SNS envelope", ev)
}

// policyCommand is the corrected way to set the queue policy (the guide's
// splices a JSON object where the CLI needs a string).
func (r *run) policyCommand(q queueInfo) string {
	return fmt.Sprintf("write sqs-policy.json as in `slab show sns-sqs`, then `aws sqs set-queue-attributes --queue-url %s --attributes \"$(jq -c '{Policy: tojson}' sqs-policy.json)\"`", q.URL)
}

func checkQueuePolicy(ctx context.Context, r *run) Result {
	q, stop := r.needQueue(ctx)
	if stop != nil {
		return *stop
	}
	doc := q.Attrs["Policy"]
	fix := hint(r.policyCommand(q), see(tsQueuePolicy))
	if strings.TrimSpace(doc) == "" {
		return fail("queue "+r.names.Queue+" has no policy: SNS deliveries are dropped silently (if you ran the guide's set-queue-attributes, the CLI refused it: the policy must be a JSON string)",
			fix, "sqs:GetQueueAttributes Policy: absent")
	}
	p, err := policy.Parse(doc)
	if err != nil {
		return fail("the queue policy does not parse: "+err.Error(), fix, "Policy: "+doc)
	}
	topic := r.topicArn()
	ev := []string{"Policy: " + p.Compact()}
	decide := func(principal policy.Principal, source string) policy.Result {
		c := map[string][]string{"aws:SourceAccount": {r.env.Account}}
		if source != "" {
			c["aws:SourceArn"] = []string{source}
		}
		return policy.EvaluateResource(policy.Request{Principal: principal, Action: "sqs:SendMessage", Resource: q.Arn, Context: c}, p)
	}
	res := decide(policy.ServicePrincipal("sns.amazonaws.com"), topic)
	ev = append(ev, fmt.Sprintf("sns.amazonaws.com sqs:SendMessage on %s from %s: %s", q.Arn, topic, res.Decision))
	switch res.Decision {
	case policy.ExplicitDeny:
		return fail("the queue policy denies SNS's deliveries from "+r.names.Topic, hint("a Deny overrides every Allow: remove or narrow it", see(tsQueuePolicy)),
			append(ev, statementsOf(res)...)...)
	case policy.ImplicitDeny:
		why := "the queue policy does not let sns.amazonaws.com send from " + topic
		if mentions(p, "sns.amazonaws.com") {
			why += " (its statement names another topic, queue or condition)"
		}
		return fail(why, fix, ev...)
	}
	if decide(policy.Principal{Type: "AWS", ID: "arn:aws:iam::111122223333:root"}, "").Allowed() {
		return warn("SNS may send, but so may anyone: the policy has no aws:SourceArn condition", hint("add \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": \""+topic+"\"}}", see(tsQueuePolicy)), ev...)
	}
	if decide(policy.ServicePrincipal("sns.amazonaws.com"), r.arn("sns", r.env.Region, "slab-unrelated-topic")).Allowed() {
		return warn("SNS may send from any topic: the policy has no aws:SourceArn condition", hint("add \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": \""+topic+"\"}}", see(tsQueuePolicy)), ev...)
	}
	return pass("the queue policy lets "+r.names.Topic+" (and only it) send to "+r.names.Queue, ev...)
}

func checkDeadLetter(ctx context.Context, r *run) Result {
	q, stop := r.needQueue(ctx)
	if stop != nil {
		return *stop
	}
	rp := q.Attrs["RedrivePolicy"]
	inflight := q.Attrs["ApproximateNumberOfMessagesNotVisible"]
	ev := []string{"RedrivePolicy: " + quote(rp), "ApproximateNumberOfMessagesNotVisible: " + quote(inflight)}
	if strings.TrimSpace(rp) == "" {
		msg := "queue " + r.names.Queue + " has no dead-letter queue: a message that always fails is retried until it expires (4 days)"
		if inflight != "" && inflight != "0" {
			msg += "; " + inflight + " messages are in flight now"
		}
		return warn(msg, hint("create "+r.names.DLQ+" and set a RedrivePolicy (maxReceiveCount 5) as in `slab show sns-sqs`", see(tsPoison)), ev...)
	}
	var red struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(rp), &red); err != nil || red.DeadLetterTargetArn == "" {
		return warn("the queue's RedrivePolicy names no dead-letter queue", see(tsPoison), ev...)
	}
	return pass(fmt.Sprintf("failed messages move to %s after %v receives", red.DeadLetterTargetArn[strings.LastIndex(red.DeadLetterTargetArn, ":")+1:], red.MaxReceiveCount), ev...)
}
