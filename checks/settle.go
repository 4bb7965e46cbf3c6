package checks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// "Wrong" or "not yet". On AWS most of the lab's changes take effect after
// a delay (docs/timing.md): a queue policy, a role's permissions, a bucket
// notification. A check that fails right after such a change may be
// looking at the old value. So when a change is recent (the caller's last
// perform, Options.ChangedAt, or a modification time the API itself
// reports) a failing check is run again, with every read made afresh
// (single reads, list reads such as ListSubscriptionsByTopic and
// ListAttachedRolePolicies, and SimulatePrincipalPolicy alike), with
// bounded backoff. If it still fails when the bound is reached, it is a
// warning that says the change may still be propagating and when to check
// again: a learner is never told "wrong" about something that is only
// "not yet". Past the window the same failure is a failure.

// propagationWindow is how long after a change a failure may still be
// propagation: S3 documents five minutes for a notification configuration.
const propagationWindow = 5 * time.Minute

// DefaultSettle is the bound of the re-reads on real AWS (and on a sandbox
// with AWS's timing, see Options.Settle).
const DefaultSettle = 30 * time.Second

// recentChange is the newest change, inside the window, that the check's
// reads or the caller report; zero when none.
func (r *run) recentChange(c Check) (time.Time, string) {
	now := time.Now()
	var at time.Time
	what := ""
	consider := func(t time.Time, w string) {
		if !t.IsZero() && now.Sub(t) < propagationWindow && t.After(at) {
			at, what = t, w
		}
	}
	consider(r.changedAt, "your last perform")
	if role, ok := peek[roleInfo](r, "role"); ok {
		consider(role.Created, "role "+r.names.Role+" created")
	}
	if q, ok := peek[queueInfo](r, "queue"); ok {
		if s, err := strconv.ParseInt(q.Attrs["LastModifiedTimestamp"], 10, 64); err == nil {
			consider(time.Unix(s, 0), "queue "+r.names.Queue+" modified")
		}
	}
	if fn := functionOf(c.Step, r.names); fn != "" {
		if cfg, ok := peek[*lambda.GetFunctionConfigurationOutput](r, "fn:"+fn); ok && cfg != nil {
			if t, err := time.Parse("2006-01-02T15:04:05.000-0700", aws.ToString(cfg.LastModified)); err == nil {
				consider(t, "function "+fn+" modified")
			}
		}
		if ms, ok := peek[[]ltypes.EventSourceMappingConfiguration](r, "esm:"+fn); ok {
			for _, m := range ms {
				consider(aws.ToTime(m.LastModified), "event source mapping modified")
			}
		}
	}
	if t, ok := peek[*dtypes.TableDescription](r, "table"); ok && t != nil {
		consider(aws.ToTime(t.CreationDateTime), "table "+r.names.Table+" created")
	}
	return at, what
}

// peek returns a value the run already read, without reading.
func peek[T any](r *run, key string) (T, bool) {
	var zero T
	r.mu.Lock()
	e, ok := r.memo[key]
	r.mu.Unlock()
	if !ok {
		return zero, false
	}
	select {
	case <-e.done:
	default:
		return zero, false
	}
	if e.err != nil {
		return zero, false
	}
	v, ok := e.val.(T)
	return v, ok
}

// settle re-runs a failing check while a recent change may still be
// propagating; see the comment at the top of this file.
func (r *run) settle(ctx context.Context, c Check, res Result, rerun func(ctx context.Context) Result) Result {
	if res.Status != Fail || c.Probe || r.settleBound <= 0 {
		return res
	}
	changed, what := r.recentChange(c)
	if changed.IsZero() {
		return res
	}
	start := time.Now()
	deadline := start.Add(r.settleBound)
	delay := r.settleDelay
	reads := 0
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return res
		case <-t.C:
		}
		// A fresh run: every read is made again, none from the cache.
		fresh := r.fork()
		again := rerun(context.WithValue(ctx, runKey{}, fresh))
		reads++
		if again.Status != Fail {
			again.Evidence = append(again.Evidence, fmt.Sprintf("failed at first right after a change (%s %s ago); %s after %d re-read(s) over %s",
				what, roundSeconds(start.Sub(changed)), again.Status, reads, roundSeconds(time.Since(start))))
			return again
		}
		res = again
		if time.Now().Add(delay).After(deadline) {
			break
		}
		if delay *= 2; delay > 5*time.Second {
			delay = 5 * time.Second
		}
	}
	recheck := changed.Add(propagationWindow)
	if min := time.Now().Add(time.Minute); recheck.After(min) {
		recheck = min
	}
	return Result{
		CheckID: res.CheckID, Step: res.Step, Weight: res.Weight, Duration: res.Duration,
		Status:  Warn,
		Summary: "not yet? " + res.Summary + " (still propagating: " + what + " " + roundSeconds(time.Since(changed)) + " ago)",
		Evidence: append(res.Evidence, fmt.Sprintf("still failing after %d re-read(s) over %s; AWS applies most changes within a minute, S3 notifications within five",
			reads, roundSeconds(time.Since(start)))),
		Hint: hint("check again after "+recheck.Format("15:04:05")+" (`slab check`); if it still fails then, "+lowerFirst(res.Hint), see(tsNotReady)),
	}
}

// fork is a run with the same options and an empty cache.
func (r *run) fork() *run {
	f := &run{env: r.env, names: r.names, c: r.c, now: r.now, retries: r.retries, retryDelay: r.retryDelay, probeWait: r.probeWait,
		changedAt: r.changedAt, settleBound: 0, settleDelay: r.settleDelay, memo: map[string]*entry{}}
	return f
}

func roundSeconds(d time.Duration) string {
	if d < time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func lowerFirst(s string) string {
	if s == "" {
		return "it is wrong"
	}
	if s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}
