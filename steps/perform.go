package steps

// Perform: every step done for the learner through the AWS SDK, safe to run
// again. Each action reads first and only creates what is missing or corrects
// what differs from the corrected lab, and reports per resource "created",
// "updated" or "already correct". A dry run makes the same reads and reports
// what it would do. A mutating call, once started, is never cut short by a
// cancelled context (it runs to completion on a detached one), so Ctrl-C stops
// at the next safe point and the outcome says what exists.

import (
	"context"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/awserr"
	"github.com/slab-lab/slab/checks"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/lambdas"
)

// PerformOptions tune a perform.
type PerformOptions struct {
	// LeastPrivilege gives the role AWSLambdaSQSQueueExecutionRole and the
	// scoped inline policy slab-lab-access instead of the guide's four
	// FullAccess policies (and detaches those).
	LeastPrivilege bool
	// Runtime is "go" (provided.al2023), "nodejs" (nodejs22.x), or "" to
	// keep the runtime of a function that is already deployed (go for new ones).
	Runtime string
	// Arch is arm64 (default) or x86_64.
	Arch string
	// StateID goes into the slab:state tag of everything created.
	StateID string
	// Progress, when set, gets each resource's outcome as soon as it is known.
	Progress func(ResourceOutcome)
	// DryRun makes only read-only calls and reports what would change.
	DryRun bool
	// Version is slab's version, recorded in the Go functions' zips.
	Version string
	// Now picks the bucket's unix time when the bucket is not chosen yet.
	Now func() time.Time
	// E2ETimeout bounds each wait of the end-to-end step (default 2 minutes).
	E2ETimeout time.Duration
	// BuildProgress gets a line before slow local work (a cross-compile).
	BuildProgress func(string)
	// SandboxPackages says the target is slab's sandbox, which runs
	// slab-made packages with its own slab: a build without embedded
	// bootstraps packages at once instead of cross-compiling (see
	// lambdas.ZipOptions.Sandbox). Perform sets it from the target.
	SandboxPackages bool
	// Waiting, when set, is told when perform starts waiting for AWS to
	// propagate a change to a resource ("waiting for IAM to propagate
	// (≈10 s)"), once per resource and reason.
	Waiting func(resource, why string)
}

// Actions of a ResourceOutcome.
const (
	ActionCreated     = "created"
	ActionUpdated     = "updated"
	ActionCorrect     = "already correct"
	ActionWouldCreate = "would create"
	ActionWouldUpdate = "would update"
	ActionFailed      = "failed"
	// ActionDone is for the end-to-end test's actions (uploads, invokes).
	ActionDone = "done"
	// ActionWouldDo is a dry run's ActionDone.
	ActionWouldDo = "would do"
)

// Changed reports whether the outcome changed (or would change) anything.
func (o Outcome) Changed() bool {
	for _, r := range o.Resources {
		if r.Action != ActionCorrect {
			return true
		}
	}
	return false
}

// Count returns how many resources had each action.
func (o Outcome) Count() map[string]int {
	m := map[string]int{}
	for _, r := range o.Resources {
		m[r.Action]++
	}
	return m
}

// Prerequisites are the steps a step needs done first.
var Prerequisites = map[string][]string{
	lab.StepS3Processor:    {lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepS3Bucket},
	lab.StepEventProcessor: {lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepSNSSQS},
	lab.StepQueueProcessor: {lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepSNSSQS},
	lab.StepEndToEnd:       {lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepS3Bucket, lab.StepS3Processor, lab.StepSNSSQS, lab.StepEventProcessor, lab.StepQueueProcessor},
}

// performers are the steps' performs, by step id.
var performers = map[string]func(p *performer) error{
	lab.StepIAMRole:        performIAMRole,
	lab.StepDynamoDBTable:  performTable,
	lab.StepS3Bucket:       performBucket,
	lab.StepS3Processor:    performS3Processor,
	lab.StepSNSSQS:         performSNSSQS,
	lab.StepEventProcessor: performEventProcessor,
	lab.StepQueueProcessor: performQueueProcessor,
	lab.StepEndToEnd:       performEndToEnd,
}

func init() {
	for _, s := range All {
		if f, ok := performers[s.ID]; ok {
			s.Perform = performFunc(s.ID, f)
		}
	}
}

func performFunc(id string, f func(p *performer) error) func(context.Context, *awsenv.Env, lab.Names, PerformOptions) (Outcome, error) {
	return func(ctx context.Context, env *awsenv.Env, n lab.Names, o PerformOptions) (Outcome, error) {
		p := newPerformer(ctx, env, n, o, id)
		err := f(p)
		if err != nil {
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w (%v)", ctx.Err(), err)
			}
			err = fmt.Errorf("step %s: %w", id, err)
		}
		return p.out, err
	}
}

// performer is one step's perform in progress.
type performer struct {
	ctx  context.Context
	env  *awsenv.Env
	n    lab.Names
	o    PerformOptions
	c    *clients
	step string
	out  Outcome
}

func newPerformer(ctx context.Context, env *awsenv.Env, n lab.Names, o PerformOptions, step string) *performer {
	if o.Arch == "" {
		o.Arch = DefaultArch
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.E2ETimeout <= 0 {
		o.E2ETimeout = 2 * time.Minute
	}
	if env != nil && env.Target.Kind == awsenv.Sandbox {
		o.SandboxPackages = true
	}
	return &performer{ctx: ctx, env: env, n: n, o: o, c: newClients(env), step: step, out: Outcome{Step: step}}
}

// clients are the SDK clients a perform uses.
type clients struct {
	iam    *iam.Client
	lambda *lambda.Client
	s3     *s3.Client
	ddb    *dynamodb.Client
	sns    *sns.Client
	sqs    *sqs.Client
	events *eventbridge.Client
}

func newClients(env *awsenv.Env) *clients {
	cfg := env.Config.Copy()
	// Throttling is retried by the SDK's retryer; a lab run makes bursts of
	// calls, so give it more attempts than the default three.
	if cfg.RetryMaxAttempts == 0 {
		cfg.RetryMaxAttempts = 8
	}
	pathStyle := env.Target.Kind != awsenv.AWS
	return &clients{
		iam:    iam.NewFromConfig(cfg),
		lambda: lambda.NewFromConfig(cfg),
		s3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		ddb:    dynamodb.NewFromConfig(cfg),
		sns:    sns.NewFromConfig(cfg),
		sqs:    sqs.NewFromConfig(cfg),
		events: eventbridge.NewFromConfig(cfg),
	}
}

// --- names and ARNs ---

func (p *performer) account() string { return p.env.Account }
func (p *performer) partition() string {
	if p.env.Partition != "" {
		return p.env.Partition
	}
	return awsenv.PartitionOf(p.env.Region)
}
func (p *performer) arn(svc, res string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", p.partition(), svc, p.env.Region, p.account(), res)
}
func (p *performer) roleArn() string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.partition(), p.account(), p.n.Role)
}
func (p *performer) tableArn() string { return p.arn("dynamodb", "table/"+p.n.Table) }
func (p *performer) topicArn() string { return p.arn("sns", p.n.Topic) }
func (p *performer) queueArn() string { return p.arn("sqs", p.n.Queue) }
func (p *performer) dlqArn() string   { return p.arn("sqs", p.n.DLQ) }
func (p *performer) ruleArn() string  { return p.arn("events", "rule/"+p.n.Rule) }
func (p *performer) functionArn(name string) string {
	return p.arn("lambda", "function:"+name)
}
func (p *performer) managedPolicyArn(path string) string {
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", p.partition(), path)
}

// bucket returns the lab's bucket name, choosing it once when the names have
// none (the outcome carries it so the caller saves it).
func (p *performer) bucket() string {
	if p.n.Bucket == "" {
		p.n.Bucket = p.n.BucketFor(p.account(), p.o.Now().Unix())
		p.out.Bucket = p.n.Bucket
	}
	return p.n.Bucket
}
func (p *performer) bucketArn() string {
	return fmt.Sprintf("arn:%s:s3:::%s", p.partition(), p.bucket())
}

// tags are the two tags every created resource carries.
func (p *performer) tags() map[string]string {
	t := map[string]string{lab.TagKey: lab.TagValue}
	if p.o.StateID != "" {
		t[lab.TagStateKey] = p.o.StateID
	}
	return t
}

// missingTags lists the lab tags that have is missing or has wrong, and the
// tags to set.
func (p *performer) missingTags(have map[string]string) (why string, set map[string]string) {
	var bad []string
	set = map[string]string{}
	for k, v := range p.tags() {
		got, ok := have[k]
		switch {
		case !ok:
			bad = append(bad, k+" missing")
		case got != v:
			bad = append(bad, fmt.Sprintf("%s is %q, want %q", k, got, v))
		default:
			continue
		}
		set[k] = v
	}
	if len(bad) == 0 {
		return "", nil
	}
	sortStrings(bad)
	return "tags: " + strings.Join(bad, ", "), set
}

// --- resources and their outcomes ---

// resource tracks one resource through a perform.
type resource struct {
	p        *performer
	name     string
	key, id  string
	created  bool
	did      bool // an ActionDone resource
	changed  bool // a mutating call of this resource succeeded
	whys     []string
	details  []string
	waited   []string // reasons already shown by waiting
	finished bool
}

func (p *performer) resource(name, key, id string) *resource {
	return &resource{p: p, name: name, key: key, id: id}
}

// safe is the safe point before a mutating call: a cancelled run starts no
// new change.
func (p *performer) safe() error { return p.ctx.Err() }

// mutCtx is the context of a mutating call: detached from cancellation, so
// a call that started finishes and its result is recorded.
func (p *performer) mutCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(p.ctx), 2*time.Minute)
}

// create creates the resource (not in a dry run); why says why it is needed.
func (r *resource) create(why string, fn func(ctx context.Context) error) error {
	r.created = true
	r.whys = append(r.whys, why)
	return r.mutate(fn)
}

// update corrects one thing about the resource.
func (r *resource) update(why string, fn func(ctx context.Context) error) error {
	r.whys = append(r.whys, why)
	return r.mutate(fn)
}

// do is an action that is neither a create nor an update (upload, invoke).
func (r *resource) do(what string, fn func(ctx context.Context) error) error {
	r.did = true
	r.whys = append(r.whys, what)
	return r.mutate(fn)
}

func (r *resource) mutate(fn func(ctx context.Context) error) error {
	if r.p.o.DryRun {
		return nil
	}
	if err := r.p.safe(); err != nil {
		return r.fail(err)
	}
	ctx, cancel := r.p.mutCtx()
	defer cancel()
	if err := fn(ctx); err != nil {
		return r.fail(err)
	}
	r.changed = true
	return nil
}

// note adds a detail shown with the outcome (e.g. "ACTIVE after 3 s").
func (r *resource) note(format string, args ...any) {
	r.details = append(r.details, fmt.Sprintf(format, args...))
}

// finish records the outcome.
func (r *resource) finish() {
	if r.finished {
		return
	}
	r.finished = true
	ro := ResourceOutcome{Step: r.p.step, Resource: r.name, Key: r.key, ID: r.id}
	dry := r.p.o.DryRun
	switch {
	case r.did && dry:
		ro.Action = ActionWouldDo
	case r.did:
		ro.Action = ActionDone
	case r.created && dry:
		ro.Action = ActionWouldCreate
	case r.created:
		ro.Action = ActionCreated
	case len(r.whys) > 0 && dry:
		ro.Action = ActionWouldUpdate
	case len(r.whys) > 0:
		ro.Action = ActionUpdated
	default:
		ro.Action = ActionCorrect
	}
	if dry && (r.created || r.did) {
		ro.ID = "" // nothing exists yet to remember
	}
	ro.Detail = strings.Join(append(append([]string{}, r.whys...), r.details...), "; ")
	r.p.record(ro)
}

// fail records the resource as failed (or, when the run was interrupted
// after the resource was created, as created) and returns the error with
// the resource named and an access denial explained.
func (r *resource) fail(err error) error {
	err = explain(err, r.id)
	interrupted := r.p.ctx.Err() != nil && errors.Is(err, r.p.ctx.Err())
	if !r.finished {
		switch {
		case interrupted && r.changed:
			r.note("interrupted while waiting for it; the next run checks it again")
			r.finish()
		case interrupted:
			// Cancelled before any change to it: nothing to report; the
			// next run reads it afresh.
			r.finished = true
		default:
			r.finished = true
			r.p.record(ResourceOutcome{Step: r.p.step, Resource: r.name, Action: ActionFailed, Detail: err.Error(), Key: r.key, ID: r.createdID()})
		}
	}
	return fmt.Errorf("%s: %w", r.name, err)
}

// createdID is the id worth remembering for a failed resource: only when it
// exists (it was not being created, or the create call returned).
func (r *resource) createdID() string {
	if r.created {
		return ""
	}
	return r.id
}

func (p *performer) record(ro ResourceOutcome) {
	p.out.Resources = append(p.out.Resources, ro)
	if p.o.Progress != nil {
		p.o.Progress(ro)
	}
}

// --- errors ---

// DeniedError is an access denial, naming the IAM action the caller lacks
// and the resource it was for.
type DeniedError struct {
	Action   string // e.g. "iam:CreateRole"
	Resource string // ARN or name, "" when unknown
	Code     string
	Message  string
}

func (e *DeniedError) Error() string {
	res := e.Resource
	if res == "" {
		res = "the resource"
	}
	extra := ""
	if e.Action == "lambda:CreateFunction" || e.Action == "lambda:UpdateFunctionConfiguration" {
		extra = " (it also needs iam:PassRole on the execution role)"
	}
	return fmt.Sprintf("access denied: your identity may not call %s on %s%s (%s: %s); grant it, or use a profile that has it",
		e.Action, res, extra, e.Code, e.Message)
}

// explain turns an access denial into a DeniedError; other errors pass.
func explain(err error, res string) error {
	var oe *smithy.OperationError
	var de *DeniedError
	if errors.As(err, &de) || !awserr.IsAccessDenied(err) || !errors.As(err, &oe) {
		return err
	}
	return &DeniedError{Action: checks.IAMAction(oe.ServiceID, oe.OperationName), Resource: res, Code: awserr.Code(err), Message: awserr.Message(err)}
}

// code is an API error's code, "" for other errors.
func code(err error) string { return awserr.Code(err) }

func isCode(err error, codes ...string) bool { return awserr.Is(err, codes...) }

// --- function packages, built once per process ---

type zipKey struct {
	function, runtime, arch, version string
	sandbox                          bool
}

type zipResult struct {
	ready chan struct{} // closed when zip, info and err are set
	zip   []byte
	info  lambdas.PackInfo
	err   error
}

var (
	zipMu    sync.Mutex
	zipCache = map[zipKey]*zipResult{}
)

// functionZip builds (once per process) a function's package.
func (p *performer) functionZip(function, runtime string) ([]byte, lambdas.PackInfo, error) {
	return buildZip(p.ctx, p.o, function, runtime)
}

func buildZip(ctx context.Context, o PerformOptions, function, runtime string) ([]byte, lambdas.PackInfo, error) {
	arch := o.Arch
	if arch == "" {
		arch = DefaultArch
	}
	k := zipKey{function, runtime, arch, o.Version, o.SandboxPackages}
	zipMu.Lock()
	r, ok := zipCache[k]
	if !ok {
		r = &zipResult{ready: make(chan struct{})}
		zipCache[k] = r
	}
	zipMu.Unlock()
	if ok {
		select {
		case <-r.ready:
			return r.zip, r.info, r.err
		case <-ctx.Done():
			return nil, lambdas.PackInfo{}, ctx.Err()
		}
	}
	zo := lambdas.ZipOptions{Function: function, Arch: arch, Runtime: runtime, Version: o.Version, Sandbox: o.SandboxPackages}
	if o.BuildProgress != nil {
		zo.Progress = progressWriter(o.BuildProgress)
	}
	r.zip, r.info, r.err = lambdas.Zip(ctx, zo)
	if r.err != nil && ctx.Err() != nil {
		zipMu.Lock()
		delete(zipCache, k) // not kept: a later run may finish the build
		zipMu.Unlock()
	}
	close(r.ready)
	return r.zip, r.info, r.err
}

// PrefetchPackages starts building, in the background, the packages of the
// functions the given steps deploy, so that building them (a cross-compile
// or compressing a bootstrap of tens of megabytes) overlaps with the steps
// before. A perform that needs a package waits for its build.
func PrefetchPackages(ctx context.Context, o PerformOptions, stepIDs ...string) {
	runtime := o.Runtime
	if runtime == "" {
		runtime = lambdas.RuntimeGo // what new functions get; a deployed Node.js one is built when met
	}
	fns := map[string]string{lab.StepS3Processor: "s3-processor", lab.StepEventProcessor: "event-processor", lab.StepQueueProcessor: "queue-processor"}
	for _, id := range stepIDs {
		if f, ok := fns[id]; ok {
			go func() { _, _, _ = buildZip(ctx, o, f, runtime) }()
		}
	}
}

type progressWriter func(string)

func (w progressWriter) Write(b []byte) (int, error) {
	w(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// --- small helpers ---

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// poll calls check every interval (growing to max) until it reports done,
// fails, or timeout passes; it returns the last "not yet" reason on timeout.
func poll(ctx context.Context, timeout, interval, max time.Duration, check func() (done bool, why string, err error)) error {
	deadline := time.Now().Add(timeout)
	why := ""
	for {
		done, w, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		why = w
		if time.Now().After(deadline) {
			return &timeoutError{after: timeout, why: why}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if interval *= 2; interval > max {
			interval = max
		}
	}
}

type timeoutError struct {
	after time.Duration
	why   string
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("still not ready after %s: %s", e.after, e.why)
}

func str(s string) *string { return aws.String(s) }
