package checks_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/sandbox"
)

// "Not yet" against "wrong", on a sandbox with AWS's timing: a queue policy
// set a moment ago is still the old one when the check first reads it.
func TestSettleSeparatesNotYetFromWrong(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a propagation window")
	}
	// Scale 0.3: SQS attributes take 1.5 s.
	f := &fx{testenv.NewFixtureWith(t, sandbox.Options{Consistency: sandbox.AWS, TimingScale: 0.3})}
	testenv.RequireSandbox(t, f.Srv, "the sandbox's propagation delays")
	n := f.Names()
	topicArn := f.Topic(n.Topic)

	// Within the bound: re-read until the change shows, then a pass that
	// says so in its evidence.
	url, arn := f.Queue(n.Queue, map[string]string{"VisibilityTimeout": "180"})
	time.Sleep(1600 * time.Millisecond) // the queue's own creation has settled
	f.SetQueuePolicy(url, testenv.QueuePolicy(arn, topicArn))
	got := f.one("sns-sqs.queue-policy", n, checks.Options{ChangedAt: time.Now(), Settle: 10 * time.Second, SettleDelay: 200 * time.Millisecond})
	if got.Status != checks.Pass || !strings.Contains(strings.Join(got.Evidence, "\n"), "failed at first right after a change") {
		t.Fatalf("queue policy right after setting it: want a pass after re-reading, got:\n%s", dump(got))
	}

	// Past the bound and still the old value: a warning saying when to
	// check again, never a failure.
	n2 := f.Names()
	n2.Topic = n.Topic
	url2, arn2 := f.Queue(n2.Queue, map[string]string{"VisibilityTimeout": "180"})
	f.SetQueuePolicy(url2, testenv.QueuePolicy(arn2, topicArn))
	got = f.one("sns-sqs.queue-policy", n2, checks.Options{ChangedAt: time.Now(), Settle: 300 * time.Millisecond, SettleDelay: 100 * time.Millisecond})
	if got.Status != checks.Warn || !strings.Contains(got.Summary, "still propagating") || !strings.Contains(got.Hint, "check again after") {
		t.Fatalf("queue policy still propagating after the bound: want a warning, got:\n%s", dump(got))
	}

	// Wrong, with nothing changed recently enough to excuse it: a failure.
	got = f.one("sns-sqs.queue-policy", n2, checks.Options{Settle: -1})
	if got.Status != checks.Fail && got.Status != checks.Pass {
		t.Fatalf("without settling: %s", dump(got))
	}
	n3 := f.Names()
	n3.Topic = n.Topic
	f.Queue(n3.Queue, map[string]string{"VisibilityTimeout": "180"})
	got = f.one("sns-sqs.queue-policy", n3, checks.Options{Settle: -1})
	if got.Status != checks.Fail {
		t.Fatalf("a queue without a policy: want a failure, got:\n%s", dump(got))
	}
}

// A learner's policy whose Allow carries a condition on what the lab's calls
// carry (the account, the calling function) passes through IAM's
// simulation; a condition on a key the lab cannot supply is reported with
// MissingContextValues, not called a deny.
func TestConditionalPolicyPassesSimulation(t *testing.T) {
	f := newFx(t)
	n := f.Names()
	f.Table(n.Table, nil)
	f.Topic(n.Topic)
	inline := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:GetItem","dynamodb:Scan"],"Resource":"%s","Condition":{"StringEquals":{"aws:SourceAccount":"%s"}}},
{"Effect":"Allow","Action":"sns:Publish","Resource":"%s","Condition":{"ArnLike":{"lambda:SourceFunctionArn":"%s"}}},
{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"%s","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-0123456789abcdef0"}}}]}`,
		f.ARN("dynamodb", "table/"+n.Table), f.Env.Account, f.ARN("sns", n.Topic), f.ARN("lambda", "function:"+n.EventFunction), f.ARN("sqs", n.Queue))
	f.Role(n.Role, testenv.LambdaTrust, []string{testenv.BasicExec}, map[string]string{"conditional": inline})
	for _, id := range []string{"iam-role.dynamodb-write", "iam-role.sns-publish"} {
		got := f.one(id, n, checks.Options{})
		if got.Status != checks.Pass || !strings.Contains(strings.Join(got.Evidence, "\n"), "iam:SimulatePrincipalPolicy") {
			t.Errorf("%s with a conditional allow: want a pass through the simulation, got:\n%s", id, dump(got))
		}
	}
	got := f.one("iam-role.sqs-consume", n, checks.Options{})
	if got.Status == checks.Fail || !strings.Contains(strings.Join(got.Evidence, "\n"), "MissingContextValues: aws:SourceVpc") {
		t.Errorf("condition on a key the lab cannot supply: want no failure and MissingContextValues in the evidence, got:\n%s", dump(got))
	}
}
