package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Converging on an eventually consistent AWS. Most of the lab's changes
// take effect after a delay (docs/timing.md): a new role is not assumable
// by Lambda for seconds, a queue's new attributes propagate. A perform
// waits on the SDK's waiters where AWS has them (function Active and
// Updated, table exists, role exists), polls where it has none (event
// source mapping state, queue attributes), and retries AWS's own
// propagation errors with bounded backoff, telling the learner what it
// waits for, so that it never reports success before the result is
// observable.

// Typical propagation times the waiting lines quote (AWS's, and the
// sandbox's under --consistency aws).
const (
	iamPropagation = 10 * time.Second
	sqsPropagation = 5 * time.Second
)

// propagationBound is how long a perform keeps retrying a propagation
// error before reporting it: far beyond AWS's usual seconds, short of
// leaving a learner staring at a frozen screen.
const propagationBound = 2 * time.Minute

// waitingIAM is the line shown while IAM propagates.
var waitingIAM = fmt.Sprintf("waiting for IAM to propagate (≈%d s)", int(iamPropagation.Seconds()))

// waiting tells the learner, once per reason, that perform is waiting for
// AWS rather than stuck.
func (r *resource) waiting(why string) {
	for _, w := range r.waited {
		if w == why {
			return
		}
	}
	r.waited = append(r.waited, why)
	if r.p.o.Waiting != nil {
		r.p.o.Waiting(r.name, why)
	}
}

// retryPropagation calls fn until it succeeds, fails with an error that is
// not propagation, or the bound passes; between attempts it sleeps with
// backoff (1 s doubling to 10 s) on the run's context, a safe point.
// before, when set, runs before each retry and may end the wait with an
// error (the role is gone: waiting would not help).
func (p *performer) retryPropagation(r *resource, ctx context.Context, why string, propagating func(error) bool, before func() error, fn func(ctx context.Context) error) error {
	delay := time.Second
	deadline := time.Now().Add(propagationBound)
	for {
		err := fn(ctx)
		if err == nil || !propagating(err) || time.Now().After(deadline) {
			return err
		}
		if before != nil {
			if berr := before(); berr != nil {
				return berr
			}
		}
		r.waiting(why)
		if err := sleep(p.ctx, delay); err != nil {
			return err
		}
		if delay *= 2; delay > 10*time.Second {
			delay = 10 * time.Second
		}
	}
}

// roleNotAssumable is Lambda's answer while a new role propagates.
func roleNotAssumable(err error) bool {
	return isCode(err, "InvalidParameterValueException") && strings.Contains(err.Error(), propagationMessage)
}

// roleLacksQueueAccess is Lambda's answer to CreateEventSourceMapping while
// the role's SQS permissions propagate.
func roleLacksQueueAccess(err error) bool {
	return isCode(err, "InvalidParameterValueException") && strings.Contains(err.Error(), "execution role does not have permissions")
}

// awaitQueueAttributes polls GetQueueAttributes until it shows want: "the
// change can take up to 60 seconds for most of the attributes to propagate"
// (SetQueueAttributes), and a perform that reported the queue policy set
// while the queue still refused the topic would be reporting success early.
func (p *performer) awaitQueueAttributes(r *resource, url string, want map[string]string) error {
	if p.o.DryRun {
		return nil
	}
	start := time.Now()
	err := poll(p.ctx, propagationBound, 250*time.Millisecond, 5*time.Second, func() (bool, string, error) {
		out, err := p.c.sqs.GetQueueAttributes(p.ctx, &sqs.GetQueueAttributesInput{QueueUrl: str(url), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
		if err != nil {
			return false, "", err
		}
		for _, k := range sortedKeys(want) {
			have := out.Attributes[k]
			same := have == want[k]
			switch k {
			case "RedrivePolicy":
				same = sameRedrive(have, want[k])
			case "Policy":
				same = sameJSON(have, want[k])
			}
			if !same {
				r.waiting(fmt.Sprintf("waiting for SQS to apply %s (≈%d s, up to 60 s on AWS)", k, int(sqsPropagation.Seconds())))
				return false, k + " not applied yet", nil
			}
		}
		return true, "", nil
	})
	if err != nil {
		return r.fail(err)
	}
	if d := time.Since(start); d >= time.Second {
		r.note("applied after %s", roundDur(d))
	}
	return nil
}

// sameJSON compares two JSON documents by value: AWS may hand a stored
// policy back with its own spacing and key order.
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
