package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/slab-lab/slab/policy"
)

// The queues' settings in the corrected lab.
const (
	QueueVisibilityTimeout = 180 // 6 x the function timeout
	MaxReceiveCount        = 5
	dlqRetention           = "1209600" // 14 days: time to look at what failed
	queuePolicySid         = "AllowLabTopic"
)

func performSNSSQS(p *performer) error {
	topicArn, topicExists, err := p.ensureTopic()
	if err != nil {
		return err
	}
	_, dlqArn, _, _, err := p.ensureQueue(p.n.DLQ, "dlq", map[string]string{"MessageRetentionPeriod": dlqRetention})
	if err != nil {
		return err
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqArn, "maxReceiveCount": MaxReceiveCount})
	queueURL, queueArn, queueExists, attrs, err := p.ensureQueue(p.n.Queue, "queue", map[string]string{
		"VisibilityTimeout": strconv.Itoa(QueueVisibilityTimeout),
		"RedrivePolicy":     string(redrive),
	})
	if err != nil {
		return err
	}
	if err := p.ensureQueuePolicy(queueURL, queueArn, queueExists, attrs["Policy"], topicArn); err != nil {
		return err
	}
	return p.ensureSubscription(topicArn, topicExists, queueArn)
}

func (p *performer) ensureTopic() (string, bool, error) {
	c := p.c.sns
	topicArn := p.topicArn()
	r := p.resource("SNS topic "+p.n.Topic, "topic", topicArn)
	_, err := c.GetTopicAttributes(p.ctx, &sns.GetTopicAttributesInput{TopicArn: str(topicArn)})
	switch {
	case isCode(err, "NotFound", "NotFoundException"):
		if err := r.create("does not exist", func(ctx context.Context) error {
			in := &sns.CreateTopicInput{Name: str(p.n.Topic)}
			for _, k := range sortedKeys(p.tags()) {
				in.Tags = append(in.Tags, snstypes.Tag{Key: str(k), Value: str(p.tags()[k])})
			}
			out, err := c.CreateTopic(ctx, in)
			if err == nil {
				r.id = aws.ToString(out.TopicArn)
			}
			return err
		}); err != nil {
			return topicArn, false, err
		}
		r.finish()
		return r.id, !p.o.DryRun, nil
	case err != nil:
		return topicArn, false, r.fail(err)
	}
	tl, err := c.ListTagsForResource(p.ctx, &sns.ListTagsForResourceInput{ResourceArn: str(topicArn)})
	if err != nil {
		return topicArn, true, r.fail(err)
	}
	have := map[string]string{}
	for _, t := range tl.Tags {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if why, set := p.missingTags(have); why != "" {
		if err := r.update(why, func(ctx context.Context) error {
			in := &sns.TagResourceInput{ResourceArn: str(topicArn)}
			for _, k := range sortedKeys(set) {
				in.Tags = append(in.Tags, snstypes.Tag{Key: str(k), Value: str(set[k])})
			}
			_, err := c.TagResource(ctx, in)
			return err
		}); err != nil {
			return topicArn, true, err
		}
	}
	r.finish()
	return topicArn, true, nil
}

// ensureQueue converges a queue and the given attributes. It returns the
// queue's URL, ARN, whether it exists, and its attributes as read.
func (p *performer) ensureQueue(name, key string, want map[string]string) (string, string, bool, map[string]string, error) {
	c := p.c.sqs
	arn := p.arn("sqs", name)
	r := p.resource("SQS queue "+name, key, "")
	gu, err := c.GetQueueUrl(p.ctx, &sqs.GetQueueUrlInput{QueueName: str(name)})
	if err != nil && !isCode(err, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist") {
		return "", arn, false, nil, r.fail(err)
	}
	if err != nil {
		url := ""
		if err := r.create("does not exist", func(ctx context.Context) error {
			u, err := p.createQueue(ctx, name, want)
			url = u
			r.id = u
			return err
		}); err != nil {
			return url, arn, false, nil, err
		}
		if keys := sortedKeys(want); len(keys) > 0 {
			var parts []string
			for _, k := range keys {
				v := want[k]
				if k == "RedrivePolicy" {
					v = fmt.Sprintf("to %s after %d receives", p.n.DLQ, MaxReceiveCount)
				}
				parts = append(parts, k+" "+v)
			}
			r.note("%s", strings.Join(parts, ", "))
		}
		r.finish()
		return url, arn, !p.o.DryRun, nil, nil
	}
	url := aws.ToString(gu.QueueUrl)
	r.id = url
	ga, err := c.GetQueueAttributes(p.ctx, &sqs.GetQueueAttributesInput{QueueUrl: str(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return url, arn, true, nil, r.fail(err)
	}
	attrs := ga.Attributes
	if a := attrs["QueueArn"]; a != "" {
		arn = a
	}
	fix := map[string]string{}
	var whys []string
	for _, k := range sortedKeys(want) {
		have, w := attrs[k], want[k]
		same := have == w
		if k == "RedrivePolicy" {
			same = sameRedrive(have, w)
		}
		if !same {
			fix[k] = w
			if have == "" {
				whys = append(whys, k+" missing")
			} else {
				whys = append(whys, fmt.Sprintf("%s %s, want %s", k, have, w))
			}
		}
	}
	if len(fix) > 0 {
		if err := r.update(strings.Join(whys, ", "), func(ctx context.Context) error {
			_, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: str(url), Attributes: fix})
			return err
		}); err != nil {
			return url, arn, true, attrs, err
		}
		if err := p.awaitQueueAttributes(r, url, fix); err != nil {
			return url, arn, true, attrs, err
		}
	}
	tl, err := c.ListQueueTags(p.ctx, &sqs.ListQueueTagsInput{QueueUrl: str(url)})
	if err != nil {
		return url, arn, true, attrs, r.fail(err)
	}
	if why, set := p.missingTags(tl.Tags); why != "" {
		if err := r.update(why, func(ctx context.Context) error {
			_, err := c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: str(url), Tags: set})
			return err
		}); err != nil {
			return url, arn, true, attrs, err
		}
	}
	r.finish()
	return url, arn, true, attrs, nil
}

// createQueue creates a queue, waiting out AWS's 60 seconds after a queue
// of the same name was deleted (QueueDeletedRecently).
func (p *performer) createQueue(ctx context.Context, name string, attrs map[string]string) (string, error) {
	deadline := time.Now().Add(75 * time.Second)
	for {
		out, err := p.c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: str(name), Attributes: attrs, Tags: p.tags()})
		if err == nil {
			return aws.ToString(out.QueueUrl), nil
		}
		if !isCode(err, "AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently") || time.Now().After(deadline) {
			return "", err
		}
		if err := sleep(p.ctx, 5*time.Second); err != nil {
			return "", err
		}
	}
}

// sameRedrive compares two redrive policies by meaning (maxReceiveCount
// may be a number or a string).
func sameRedrive(have, want string) bool {
	type rp struct {
		Target string `json:"deadLetterTargetArn"`
		Max    any    `json:"maxReceiveCount"`
	}
	var h, w rp
	if json.Unmarshal([]byte(have), &h) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	return h.Target == w.Target && fmt.Sprint(h.Max) == fmt.Sprint(w.Max)
}

// ensureQueuePolicy makes sure the topic may send to the queue, adding the
// lab's statement to any policy the queue already has.
func (p *performer) ensureQueuePolicy(queueURL, queueArn string, queueExists bool, have, topicArn string) error {
	r := p.resource("queue policy of "+p.n.Queue, "", queueArn)
	if queueExists && have != "" && queuePolicyAllows(have, queueArn, topicArn) {
		r.finish()
		return nil
	}
	stmt := map[string]any{
		"Sid":       queuePolicySid,
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "sns.amazonaws.com"},
		"Action":    "sqs:SendMessage",
		"Resource":  queueArn,
		"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicArn}},
	}
	doc := map[string]any{"Version": "2012-10-17"}
	var stmts []any
	why := "missing: SNS deliveries to the queue would be dropped silently"
	if have != "" {
		why = "does not let topic " + p.n.Topic + " send to the queue"
		var old map[string]any
		if json.Unmarshal([]byte(have), &old) == nil {
			for k, v := range old {
				doc[k] = v
			}
			switch s := old["Statement"].(type) {
			case []any:
				stmts = s
			case map[string]any:
				stmts = []any{s}
			}
		}
	}
	// Keep what the learner added, except what stops the topic's
	// deliveries: a Deny that matches them overrides any Allow, so
	// appending the lab's statement alone would "repair" nothing.
	var kept []any
	for _, s := range stmts {
		m, ok := s.(map[string]any)
		if ok && m["Sid"] == queuePolicySid {
			continue
		}
		if ok && deniesDelivery(m, queueArn, topicArn) {
			r.note("removes the Deny statement %v, which blocks the topic's deliveries", orUnnamed(m["Sid"]))
			continue
		}
		kept = append(kept, s)
	}
	doc["Statement"] = append(kept, stmt)
	b, _ := json.Marshal(doc)
	if !queuePolicyAllows(string(b), queueArn, topicArn) {
		return r.fail(fmt.Errorf("the queue policy would still not let topic %s send after the repair: %s", p.n.Topic, b))
	}
	set := func(ctx context.Context) error {
		// The policy is a string attribute holding JSON (the guide's
		// --attributes '{"Policy": {...}}' is refused for that reason).
		_, err := p.c.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: str(queueURL), Attributes: map[string]string{"Policy": string(b)}})
		return err
	}
	var err error
	if have == "" {
		err = r.create(why, set)
	} else {
		err = r.update(why, set)
	}
	if err != nil {
		return err
	}
	if err := p.awaitQueueAttributes(r, queueURL, map[string]string{"Policy": string(b)}); err != nil {
		return err
	}
	r.finish()
	return nil
}

// deniesDelivery reports a statement that, alone, explicitly denies the
// topic's deliveries to the queue.
func deniesDelivery(stmt map[string]any, queueArn, topicArn string) bool {
	_, ok := statementDenies(stmt, true, snsDelivery(queueArn, topicArn))
	return ok
}

func orUnnamed(sid any) string {
	if s, ok := sid.(string); ok && s != "" {
		return s
	}
	return "(no Sid)"
}

// snsDelivery is the request SNS makes to deliver the topic's messages.
func snsDelivery(queueArn, topicArn string) policy.Request {
	return policy.Request{
		Principal: policy.ServicePrincipal("sns.amazonaws.com"), Action: "sqs:SendMessage", Resource: queueArn,
		Context: map[string][]string{"aws:SourceArn": {topicArn}},
	}
}

func queuePolicyAllows(doc, queueArn, topicArn string) bool {
	d, err := policy.Parse(doc)
	if err != nil {
		return false
	}
	return policy.EvaluateResource(snsDelivery(queueArn, topicArn), d).Allowed()
}

func (p *performer) ensureSubscription(topicArn string, topicExists bool, queueArn string) error {
	c := p.c.sns
	r := p.resource(fmt.Sprintf("subscription %s -> %s", p.n.Topic, p.n.Queue), "subscription", "")
	subArn := ""
	if topicExists {
		pg := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: str(topicArn)})
		for pg.HasMorePages() && subArn == "" {
			page, err := pg.NextPage(p.ctx)
			if err != nil {
				return r.fail(err)
			}
			for _, s := range page.Subscriptions {
				if aws.ToString(s.Protocol) == "sqs" && aws.ToString(s.Endpoint) == queueArn && strings.HasPrefix(aws.ToString(s.SubscriptionArn), "arn:") {
					subArn = aws.ToString(s.SubscriptionArn)
					break
				}
			}
		}
	}
	if subArn == "" {
		if err := r.create("missing", func(ctx context.Context) error {
			out, err := c.Subscribe(ctx, &sns.SubscribeInput{
				TopicArn: str(topicArn), Protocol: str("sqs"), Endpoint: str(queueArn),
				Attributes:            map[string]string{"RawMessageDelivery": "false"},
				ReturnSubscriptionArn: true,
			})
			if err == nil {
				r.id = aws.ToString(out.SubscriptionArn)
			}
			return err
		}); err != nil {
			return err
		}
		r.note("raw message delivery off")
		r.finish()
		return nil
	}
	r.id = subArn
	ga, err := c.GetSubscriptionAttributes(p.ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: str(subArn)})
	if err != nil {
		return r.fail(err)
	}
	if strings.EqualFold(ga.Attributes["RawMessageDelivery"], "true") {
		if err := r.update("raw message delivery is on: the queue processor expects the SNS envelope", func(ctx context.Context) error {
			_, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{
				SubscriptionArn: str(subArn), AttributeName: str("RawMessageDelivery"), AttributeValue: str("false"),
			})
			return err
		}); err != nil {
			return err
		}
	}
	r.finish()
	return nil
}
