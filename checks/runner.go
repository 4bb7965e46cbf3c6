package checks

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
)

// Options tune a run.
type Options struct {
	// Steps limits the run to these step ids (lab order is kept); empty
	// means every step.
	Steps []string
	// IDs limits the run to these check ids; empty means every check of
	// the selected steps.
	IDs []string
	// Probe adds the end-to-end probes, which write test data (and remove
	// it). They run after the regular checks.
	Probe bool
	// Concurrency bounds the checks running at once (default 8).
	Concurrency int
	// Clients replaces the AWS clients built from the env (tests).
	Clients *Clients
	// Now is the clock for the runtime table and log windows (default time.Now).
	Now func() time.Time
	// Retries is how often a "not found" answer is asked again before a
	// check fails, for AWS's eventual consistency (a role or subscription
	// created a moment ago). 0 means the default: 2 on real AWS, none on
	// the sandbox and other endpoints, which are consistent. -1: none.
	Retries int
	// RetryDelay is the first pause between retries (default 700 ms, doubling).
	RetryDelay time.Duration
	// ChangedAt is when the caller last changed the lab's resources (a
	// perform); a check failing within minutes of it, or of a modification
	// time the API reports, is re-read before it is reported (settle.go).
	ChangedAt time.Time
	// Settle bounds those re-reads: 0 means DefaultSettle on real AWS and
	// none elsewhere (pass DefaultSettle for a sandbox with AWS's timing);
	// -1 none. SettleDelay is the first pause (default 500 ms, doubling).
	Settle, SettleDelay time.Duration
	// ProbeTimeout is how long a probe waits for its row (default 60 s).
	ProbeTimeout time.Duration
	// OnResult, when set, is called with each result as its check finishes
	// (serialised; from the runner's goroutines).
	OnResult func(Result)
}

// Target says where the checks ran, for reports.
type Target struct {
	Kind        string `json:"kind"`
	Account     string `json:"account"`
	Region      string `json:"region"`
	Endpoint    string `json:"endpoint,omitempty"`
	Description string `json:"-"`
}

// StepReport is one step's outcome.
type StepReport struct {
	ID       string
	Status   Status
	Score    int
	MaxScore int
	Results  []Result
}

// Summary counts the results.
type Summary struct {
	Pass, Fail, Warn, Error, Skip int
	Score, MaxScore               int
}

// Report is a run's outcome.
type Report struct {
	Target   Target
	Started  time.Time
	Duration time.Duration
	Probe    bool
	// Results in check order (lab order of steps, then registry order).
	Results []Result
	Steps   []StepReport
	Summary Summary
	// Bucket is the lab bucket the checks used, and BucketSource how it was
	// found: "state" (names.Bucket) or "discovered" (ListBuckets). Empty when
	// no bucket was looked for or none was found.
	Bucket, BucketSource string
	// BucketCandidates are the lab buckets discovery found, when it ran.
	BucketCandidates []string
}

// Failed reports whether any check failed: the learner's resources are wrong.
func (r Report) Failed() bool { return r.Summary.Fail > 0 }

// Errored reports whether any check could not tell.
func (r Report) Errored() bool { return r.Summary.Error > 0 }

// Select returns the checks a run with these options executes, in order.
func Select(o Options) []Check {
	steps := map[string]bool{}
	for _, s := range o.Steps {
		steps[s] = true
	}
	ids := map[string]bool{}
	for _, id := range o.IDs {
		ids[id] = true
	}
	var out []Check
	for _, c := range All() {
		if len(steps) > 0 && !steps[c.Step] {
			continue
		}
		if len(ids) > 0 && !ids[c.ID] {
			continue
		}
		if c.Probe && !o.Probe {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Run executes the selected checks against env, all at once within the
// concurrency bound, sharing describe calls through a per-run cache. The
// regular checks only read; the probes (Options.Probe) run afterwards.
func Run(ctx context.Context, env *awsenv.Env, n lab.Names, o Options) Report {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	clock := time.Now()
	started := clock
	if o.Now != nil {
		started = o.Now()
	}
	sel := Select(o)
	rep := Report{Started: started, Probe: o.Probe}
	if env.Account == "" {
		if err := env.Identify(ctx); err != nil {
			rep.Target = targetOf(env)
			res := make([]Result, len(sel))
			for i, c := range sel {
				res[i] = finish(c, Result{Status: Error, Summary: "could not identify the account: " + err.Error(),
					Hint: "check your credentials and target (`slab target`)"})
			}
			rep.fill(res)
			rep.Duration = time.Since(clock)
			return rep
		}
	}
	rep.Target = targetOf(env)
	r := newRun(env, n, o)
	ctx = context.WithValue(ctx, runKey{}, r)

	results := make([]Result, len(sel))
	var emit sync.Mutex
	runPhase := func(probe bool) {
		sem := make(chan struct{}, o.Concurrency)
		var wg sync.WaitGroup
		for i, c := range sel {
			if c.Probe != probe {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				res := runOne(ctx, env, n, c)
				res = r.settle(ctx, c, res, func(ctx context.Context) Result { return runOne(ctx, env, n, c) })
				results[i] = res
				if o.OnResult != nil {
					emit.Lock()
					o.OnResult(res)
					emit.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	warmed := r.warm(ctx, sel)
	runPhase(false)
	if o.Probe {
		runPhase(true)
	}
	warmed.Wait()
	rep.fill(results)
	if b, ok := r.peekBucket(); ok && b.Name != "" {
		rep.Bucket, rep.BucketSource, rep.BucketCandidates = b.Name, b.Source, b.Candidates
	}
	rep.Duration = time.Since(clock)
	return rep
}

// runOne runs a check, turning a panic or a cancelled context into an Error.
func runOne(ctx context.Context, env *awsenv.Env, n lab.Names, c Check) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = finish(c, Result{Status: Error, Summary: fmt.Sprintf("internal error in the check: %v", p),
				Evidence: []string{string(debug.Stack())}, Hint: "please report this at https://github.com/slab-lab/slab/issues"})
		}
	}()
	if err := ctx.Err(); err != nil {
		return finish(c, Result{Status: Error, Summary: "cancelled before it ran"})
	}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	res = c.Run(ctx, env, n)
	if ctx.Err() != nil && res.Status != Pass && res.Status != Error {
		// A check cut short must not report what it could not finish seeing.
		res = Result{Status: Error, Summary: "cancelled before it finished", Evidence: res.Evidence}
	}
	res.Hint = CLIFor(env).Text(res.Hint)
	return finish(c, res)
}

// CLIFor is the command renderer for env's target. The checks write their
// hints' commands as plain `aws ...`; on the sandbox or an endpoint they
// gain --endpoint-url here, in one place, so a pasted hint never reaches
// real AWS.
func CLIFor(env *awsenv.Env) awscli.CLI {
	if env == nil || env.Target.Kind == awsenv.AWS {
		return awscli.CLI{}
	}
	return awscli.CLI{Endpoint: env.Target.Endpoint}
}

func finish(c Check, r Result) Result {
	r.CheckID, r.Step, r.Weight = c.ID, c.Step, c.Weight
	return deferToLaterStep(r)
}

func targetOf(env *awsenv.Env) Target {
	t := Target{Kind: string(env.Target.Kind), Account: env.Account, Region: env.Region, Description: env.Describe()}
	if env.Target.Kind != awsenv.AWS {
		t.Endpoint = env.Target.Endpoint
	}
	return t
}

// fill sets the results, the per-step reports and the summary.
func (rep *Report) fill(results []Result) {
	rep.Results = nil
	for _, r := range results {
		if r.CheckID != "" {
			rep.Results = append(rep.Results, r)
		}
	}
	byStep := map[string][]Result{}
	for _, r := range rep.Results {
		byStep[r.Step] = append(byStep[r.Step], r)
	}
	rep.Steps = nil
	for _, id := range lab.StepIDs {
		rs := byStep[id]
		if len(rs) == 0 {
			continue
		}
		st, score, max := Aggregate(rs)
		rep.Steps = append(rep.Steps, StepReport{ID: id, Status: st, Score: score, MaxScore: max, Results: rs})
	}
	var s Summary
	for _, r := range rep.Results {
		switch r.Status {
		case Pass:
			s.Pass++
		case Fail:
			s.Fail++
		case Warn:
			s.Warn++
		case Error:
			s.Error++
		case Skip:
			s.Skip++
		}
	}
	_, s.Score, s.MaxScore = Aggregate(rep.Results)
	rep.Summary = s
}

// ---- the per-run state

type runKey struct{}

// run is what the checks of one Run share: the clients, the clock and a
// cache of describe calls, so that nine checks reading one function make one
// GetFunctionConfiguration call.
type run struct {
	env        *awsenv.Env
	names      lab.Names
	c          *Clients
	now        func() time.Time
	retries    int
	retryDelay time.Duration
	probeWait  time.Duration
	// changedAt, settleBound and settleDelay: see Options and settle.go.
	changedAt                time.Time
	settleBound, settleDelay time.Duration

	mu   sync.Mutex
	memo map[string]*entry
}

type entry struct {
	done chan struct{}
	val  any
	err  error
}

func newRun(env *awsenv.Env, n lab.Names, o Options) *run {
	r := &run{env: env, names: n, c: o.Clients, now: o.Now, retries: o.Retries, retryDelay: o.RetryDelay, probeWait: o.ProbeTimeout,
		changedAt: o.ChangedAt, settleBound: o.Settle, settleDelay: o.SettleDelay, memo: map[string]*entry{}}
	switch {
	case r.settleBound < 0:
		r.settleBound = 0
	case r.settleBound == 0 && env.IsAWS():
		r.settleBound = DefaultSettle
	}
	if r.settleDelay <= 0 {
		r.settleDelay = 500 * time.Millisecond
	}
	if r.c == nil {
		r.c = NewClients(env)
	}
	if r.now == nil {
		r.now = time.Now
	}
	switch {
	case r.retries < 0:
		r.retries = 0
	case r.retries == 0 && env.IsAWS():
		r.retries = 2
	}
	if r.retryDelay <= 0 {
		r.retryDelay = 700 * time.Millisecond
	}
	if r.probeWait <= 0 {
		r.probeWait = 60 * time.Second
	}
	return r
}

// runFrom returns the run the runner put in ctx, or a fresh one when a
// check is called on its own (the TUI, tests).
func runFrom(ctx context.Context, env *awsenv.Env, n lab.Names) *run {
	if r, ok := ctx.Value(runKey{}).(*run); ok && r.env == env && r.names == n {
		return r
	}
	return newRun(env, n, Options{})
}

// memo runs fn once per key and run; concurrent callers wait for the first.
func memo[T any](r *run, key string, fn func() (T, error)) (T, error) {
	r.mu.Lock()
	e, ok := r.memo[key]
	if !ok {
		e = &entry{done: make(chan struct{})}
		r.memo[key] = e
		r.mu.Unlock()
		func() {
			defer close(e.done)
			defer func() {
				if p := recover(); p != nil {
					e.err = fmt.Errorf("internal error: %v", p)
				}
			}()
			e.val, e.err = fn()
		}()
	} else {
		r.mu.Unlock()
		<-e.done
	}
	if e.err != nil {
		var zero T
		return zero, e.err
	}
	v, _ := e.val.(T)
	return v, nil
}

// retry calls fn again, briefly, while it answers "not found" and the run
// allows retries.
func retry[T any](ctx context.Context, r *run, fn func() (T, error)) (T, error) {
	v, err := fn()
	delay := r.retryDelay
	for i := 0; i < r.retries && isRetryable(err); i++ {
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(delay):
		}
		delay *= 2
		v, err = fn()
	}
	return v, err
}

// warm starts, all at once and outside the concurrency bound, the describe
// calls the selected checks share, so that a check waits for the slowest of
// its inputs rather than for each in turn. Only calls the selected checks
// declare (and would make) are started.
func (r *run) warm(ctx context.Context, sel []Check) *sync.WaitGroup {
	var wg sync.WaitGroup
	started := map[string]bool{}
	start := func(key string, f func()) {
		if started[key] {
			return
		}
		started[key] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	for _, c := range sel {
		if c.Probe {
			continue
		}
		for _, a := range c.Actions {
			switch a {
			case "iam:GetRole":
				start(a, func() { _, _ = r.role(ctx) })
			case "dynamodb:DescribeTable":
				start(a, func() { _, _ = r.table(ctx) })
			case "s3:GetBucketLocation":
				start(a, func() { _, _ = r.bucket(ctx) })
			case "sns:GetTopicAttributes":
				start(a, func() { _, _ = r.topic(ctx) })
			case "sns:ListSubscriptionsByTopic":
				start(a, func() { _, _ = r.subscriptions(ctx) })
			case "sqs:GetQueueUrl":
				start(a, func() { _, _ = r.queue(ctx) })
			case "events:DescribeRule":
				start(a, func() { _, _ = r.rule(ctx) })
			case "events:ListTargetsByRule":
				start(a, func() { _, _ = r.targets(ctx) })
			case "logs:DescribeLogGroups":
				start(a, func() { _, _ = r.logGroups(ctx) })
			case "lambda:GetFunctionConfiguration":
				fns := []string{functionOf(c.Step, r.names)}
				if c.Step == lab.StepEndToEnd {
					fns = r.functions()
				}
				for _, fn := range fns {
					if fn != "" {
						start("fn:"+fn, func() { _, _ = r.function(ctx, fn) })
					}
				}
			}
		}
	}
	return &wg
}
