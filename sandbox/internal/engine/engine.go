// Package engine is the sandbox's event engine: it makes the services'
// integrations run the way they run on AWS. S3 notifications invoke Lambda
// functions, SNS fans messages out to SQS queues and Lambda functions,
// Lambda event source mappings poll SQS queues, and scheduled EventBridge
// rules fire on time.
//
// Every delivery makes the authorisation decision the AWS service makes, with
// the same policies: a function's resource-based policy must let the calling
// service invoke it for the source ARN, a queue's policy must let SNS or
// EventBridge send to it. When AWS would drop an event silently, so does the
// engine (a misconfigured lab fails here as it fails on AWS); it only writes
// down why in its delivery log, which the sandbox serves on a sandbox-only
// endpoint so a learner can find out what AWS would not say.
//
// The engine owns no resource state: it reads the services through their Go
// APIs and runs functions through the core.Invoker the Lambda runtime
// registers. Deliveries run on worker goroutines, never on the goroutine of
// the API call that caused them.
package engine

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/events"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/s3"
	"github.com/slab-lab/slab/sandbox/internal/sns"
	"github.com/slab-lab/slab/sandbox/internal/sqs"
)

// Options tune the engine.
type Options struct {
	// TimeScale compresses schedule time: 60 fires a rate(5 minutes) rule
	// every 5 seconds. Zero or less means real time.
	TimeScale float64
	// Workers is the number of delivery goroutines (default 4).
	Workers int
	// PollInterval is how often the engine rereads event source mappings
	// and rules to pick up changes (default 200 ms).
	PollInterval time.Duration
	// LogSize is how many delivery records the engine keeps (default 2000).
	LogSize int
}

// Engine runs the sandbox's event sources.
type Engine struct {
	c  *core.Core
	s3 *s3.Service
	sn *sns.Service
	sq *sqs.Service
	lm *lambda.Service
	ev *events.Service

	timeScale float64
	poll      time.Duration

	work    *workers
	log     *deliveryLog
	metrics *snsMetrics

	mu      sync.Mutex
	started bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// schedMu guards the scheduler's virtual clock origin.
	schedMu   sync.Mutex
	realStart time.Time
}

// New builds an engine over the services it finds among services (any of
// S3, SNS, SQS, Lambda and EventBridge may be absent: the event sources
// that need a missing one are off) and registers the engine's hooks:
// "s3.events", "s3.validate-destinations" and "sns.published". Nothing
// runs until Start.
func New(c *core.Core, services []core.Service, o Options) *Engine {
	e := &Engine{c: c, timeScale: o.TimeScale, poll: o.PollInterval}
	for _, s := range services {
		switch v := s.(type) {
		case *s3.Service:
			e.s3 = v
		case *sns.Service:
			e.sn = v
		case *sqs.Service:
			e.sq = v
		case *lambda.Service:
			e.lm = v
		case *events.Service:
			e.ev = v
		}
	}
	if e.timeScale <= 0 {
		e.timeScale = 1
	}
	if e.poll <= 0 {
		e.poll = 200 * time.Millisecond
	}
	n := o.Workers
	if n <= 0 {
		n = 4
	}
	size := o.LogSize
	if size <= 0 {
		size = 2000
	}
	e.work = newWorkers(n)
	e.log = newDeliveryLog(size)
	e.metrics = newSNSMetrics()
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if e.lm != nil {
		c.SetHook(s3.HookValidateDestinations, s3.ValidateDestinations(e.validateS3Destinations))
	}
	if e.s3 != nil {
		c.SetHook(s3.HookEvents, e.onS3Event)
	}
	if e.sn != nil {
		c.SetHook(sns.HookPublished, e.onPublished)
	}
	return e
}

// Start launches the delivery workers, the event source mapping pollers and
// the scheduler. Events raised before Start wait in the queue.
func (e *Engine) Start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started || e.ctx.Err() != nil {
		return
	}
	e.started = true
	e.work.start(e.ctx, &e.wg)
	if e.lm != nil && e.sq != nil {
		e.wg.Add(1)
		go e.superviseMappings()
	}
	if e.ev != nil {
		e.wg.Add(1)
		go e.runScheduler()
	}
}

// Stop tells every goroutine of the engine to end and returns at once:
// queued deliveries that have not started are dropped, pollers stop
// receiving, and a batch whose invocation is cut short by the shutdown is
// left on its queue without being recorded as a failure. Call it before
// closing the Lambda runtime, then Close.
func (e *Engine) Stop() {
	e.mu.Lock()
	e.cancel()
	e.mu.Unlock()
	e.work.close()
}

// Close stops the engine (see Stop) and waits for its goroutines.
func (e *Engine) Close() {
	e.Stop()
	e.wg.Wait()
}

// Drain waits until every queued delivery has run, or ctx ends. Tests use
// it to observe the effects of an API call without sleeping.
func (e *Engine) Drain(ctx context.Context) error {
	return e.work.drain(ctx)
}

// invoker is the Lambda runtime, looked up at call time: it is registered
// by another package and may come after the engine.
func (e *Engine) invoker() core.Invoker {
	inv, _ := e.c.Hook(core.HookInvoker).(core.Invoker)
	return inv
}

// now is the sandbox clock.
func (e *Engine) now() time.Time { return e.c.Now() }

// --- the delivery queue ---

// workers runs jobs on a fixed set of goroutines. A job carries a key (the
// topic or bucket it came from): jobs with one key run on one goroutine in
// order, as a FIFO topic needs, while different keys run in parallel.
type workers struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queues  [][]job
	pending int
	closed  bool
	idle    *sync.Cond
}

type job struct {
	run func(ctx context.Context)
}

func newWorkers(n int) *workers {
	w := &workers{queues: make([][]job, n)}
	w.cond = sync.NewCond(&w.mu)
	w.idle = sync.NewCond(&w.mu)
	return w
}

func (w *workers) start(ctx context.Context, wg *sync.WaitGroup) {
	for i := range w.queues {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w.loop(ctx, i)
		}(i)
	}
}

func (w *workers) loop(ctx context.Context, i int) {
	for {
		w.mu.Lock()
		for len(w.queues[i]) == 0 && !w.closed {
			w.cond.Wait()
		}
		if w.closed {
			w.mu.Unlock()
			return
		}
		j := w.queues[i][0]
		w.queues[i][0] = job{}
		w.queues[i] = w.queues[i][1:]
		w.mu.Unlock()
		j.run(ctx)
		w.mu.Lock()
		w.pending--
		if w.pending == 0 {
			w.idle.Broadcast()
		}
		w.mu.Unlock()
	}
}

// submit queues fn under key; it never blocks.
func (w *workers) submit(key string, fn func(ctx context.Context)) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	i := int(h.Sum32() % uint32(len(w.queues)))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.queues[i] = append(w.queues[i], job{run: fn})
	w.pending++
	w.cond.Broadcast()
}

func (w *workers) close() {
	w.mu.Lock()
	w.closed = true
	for i := range w.queues {
		w.pending -= len(w.queues[i])
		w.queues[i] = nil
	}
	w.cond.Broadcast()
	w.idle.Broadcast()
	w.mu.Unlock()
}

func (w *workers) drain(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.idle.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.pending > 0 && !w.closed {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.idle.Wait()
	}
	return nil
}
