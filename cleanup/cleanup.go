// Package cleanup finds the lab's resources in a target, however they were
// created (by slab, by the lessons' CLI commands, by hand), plans their
// deletion in dependency order, deletes them, and verifies nothing is left.
//
// A resource belongs to the lab only by its exact name (the learner's names
// from the state file, or the guide's defaults), the bucket prefix followed
// by this account's id, or the slab:lab tag; the links between resources
// (the queue's mapping, the rule's targets, the bucket's notification, the
// functions' log groups, the queue's dead-letter queue) find more candidates,
// which must still qualify by name or tag. Anything that merely looks like
// the lab's (lambda-integration-data-prod, sqs-processor-v2) is reported as
// kept, with the reason, and never touched: a learner's account may hold a
// colleague's production table with a similar name.
//
// Every deletion is idempotent: "not found" counts as done, each deletion is
// confirmed by a fresh read, and transient conflicts are retried with
// backoff. A run that is interrupted resumes by rediscovery; a second run
// finds nothing and says so.
package cleanup

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
)

// Kind is a kind of lab resource. The values are stable (JSON, the TUI).
type Kind string

// Resource kinds, listed in deletion order.
const (
	KindRule         Kind = "events-rule"
	KindNotification Kind = "s3-notification"
	KindMapping      Kind = "lambda-event-source-mapping"
	KindFunction     Kind = "lambda-function"
	KindTopic        Kind = "sns-topic"
	KindQueue        Kind = "sqs-queue"
	KindBucket       Kind = "s3-bucket"
	KindTable        Kind = "dynamodb-table"
	KindLogGroup     Kind = "log-group"
	KindRole         Kind = "iam-role"
)

// Order is the deletion order: what sends events before what receives
// them, what is billed by storage after everything that could still write
// to it, and the role the functions ran as last.
var Order = []Kind{KindRule, KindNotification, KindMapping, KindFunction, KindTopic, KindQueue, KindBucket, KindTable, KindLogGroup, KindRole}

// Label is the kind as a learner reads it.
func (k Kind) Label() string {
	switch k {
	case KindRule:
		return "EventBridge rule"
	case KindNotification:
		return "S3 bucket notification"
	case KindMapping:
		return "event source mapping"
	case KindFunction:
		return "Lambda function"
	case KindTopic:
		return "SNS topic"
	case KindQueue:
		return "SQS queue"
	case KindBucket:
		return "S3 bucket"
	case KindTable:
		return "DynamoDB table"
	case KindLogGroup:
		return "log group"
	case KindRole:
		return "IAM role"
	}
	return string(k)
}

func rank(k Kind) int {
	for i, o := range Order {
		if o == k {
			return i
		}
	}
	return len(Order)
}

// Resource is one lab resource to delete, with the parts deleted with it.
type Resource struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"` // rule, bucket, function, queue, table, log group or role name; a mapping's UUID
	ARN  string `json:"arn,omitempty"`
	URL  string `json:"url,omitempty"` // a queue's URL
	// Why says why it belongs to the lab: "exact name", "tag slab:lab", ...
	Why    string `json:"why"`
	Detail string `json:"detail,omitempty"`
	// Parts are removed first, in order (targets, subscriptions, object
	// versions, policies).
	Parts []Part `json:"parts,omitempty"`

	// notification: the configurations to remove, by id or target ARN.
	labTargets []string
	// bucket: how many versions and delete markers the plan saw.
	versions int
}

// Part is something removed as part of a resource.
type Part struct {
	What string `json:"what"`
	Why  string `json:"why,omitempty"`
}

// Key identifies a resource across rediscoveries.
func (r *Resource) Key() string { return string(r.Kind) + "/" + r.Name }

// Title is "Lambda function sqs-processor".
func (r *Resource) Title() string { return r.Kind.Label() + " " + r.Name }

// Kept is something that looked like the lab's but is not touched.
type Kept struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	Why  string `json:"why"`
}

// Plan is what cleanup would delete, in order, and what it keeps.
type Plan struct {
	Target    string      `json:"target"`
	Account   string      `json:"account"`
	Region    string      `json:"region"`
	Resources []*Resource `json:"resources"`
	Kept      []Kept      `json:"kept,omitempty"`
	// Problems are listings that failed (AccessDenied, throttled): the plan
	// may be incomplete there.
	Problems []string `json:"problems,omitempty"`
}

// Empty reports whether there is nothing to delete.
func (p *Plan) Empty() bool { return len(p.Resources) == 0 }

// Identity is where the cleaner works.
type Identity struct {
	Target    string // the one-line target description
	Account   string
	Region    string
	Partition string
}

// Status of a progress event.
type Status string

// Progress statuses.
const (
	StatusStart   Status = "start"   // about to delete the resource
	StatusStep    Status = "step"    // a part removed, a batch of versions deleted
	StatusWait    Status = "wait"    // waiting for AWS to finish in the background
	StatusRetry   Status = "retry"   // a transient conflict; retrying after a pause
	StatusDeleted Status = "deleted" // deleted and confirmed gone
	StatusGone    Status = "gone"    // it was already gone
	StatusFailed  Status = "failed"  // could not delete it (for now)
	StatusVerify  Status = "verify"  // rediscovering to verify
)

// Event reports progress on one resource; the TUI shows them live.
type Event struct {
	Resource *Resource // nil for StatusVerify
	Index    int       // 1-based position in the run
	Total    int
	Status   Status
	Detail   string
	Err      error
}

// Options tune a run. Zero values pick sensible defaults.
type Options struct {
	// KeepLogs keeps the functions' log groups.
	KeepLogs bool
	// Progress is called for every event, from the goroutine running the
	// cleanup; it must not block for long.
	Progress func(Event)
	// CLI prefixes the by-hand commands ("aws --endpoint-url URL").
	CLI string
	// Backoff is the first pause after a transient conflict, doubling up to
	// MaxBackoff, for at most Attempts tries.
	Backoff, MaxBackoff time.Duration
	Attempts            int
	// Poll is the interval between reads while AWS deletes in the
	// background; Timeout bounds one such wait.
	Poll, Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.CLI == "" {
		o.CLI = "aws"
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 8 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 8
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	return o
}

// Cleaner discovers and deletes one learner's lab resources in one target.
type Cleaner struct {
	c       Clients
	id      Identity
	names   lab.Names // the learner's names (state overrides applied)
	stateID string
	opts    Options
}

// New builds a cleaner for an environment with SDK clients.
func New(env *awsenv.Env, names lab.Names, stateID string, opts Options) *Cleaner {
	return NewWithClients(ClientsFor(env), Identity{Target: env.Describe(), Account: env.Account, Region: env.Region, Partition: env.Partition}, names, stateID, opts)
}

// NewWithClients builds a cleaner over given clients (tests, other callers).
func NewWithClients(c Clients, id Identity, names lab.Names, stateID string, opts Options) *Cleaner {
	if id.Partition == "" {
		id.Partition = awsenv.PartitionOf(id.Region)
	}
	return &Cleaner{c: c, id: id, names: names, stateID: stateID, opts: opts.withDefaults()}
}

// Result is what a run did.
type Result struct {
	Deleted   []*Resource `json:"deleted"`                // deleted and confirmed gone
	Gone      []*Resource `json:"already_gone,omitempty"` // gone before we got to them
	Leftovers []Leftover  `json:"leftovers,omitempty"`    // still present after the run
	Kept      []Kept      `json:"kept,omitempty"`
	Problems  []string    `json:"problems,omitempty"`
	// Verified is set once a fresh listing after the deletions finished;
	// a run interrupted before that has verified nothing.
	Verified bool `json:"verified"`
}

// Clean reports whether the run verified that nothing is left.
func (r *Result) Clean() bool { return r.Verified && len(r.Leftovers) == 0 && len(r.Problems) == 0 }

// Leftover is a resource still present after the run.
type Leftover struct {
	Resource *Resource `json:"resource"`
	Reason   string    `json:"reason"`
	// Command finishes the job by hand.
	Command string `json:"command"`
}

// ForgetResources clears what the state remembers about the target's
// resources after a verified cleanup: the created resources, the step
// statuses and the bucket name (a new run picks a new one). The state id,
// the other names, quiz scores and the current step stay.
func ForgetResources(st *state.State) {
	st.Resources = map[string]string{}
	st.Steps = map[string]state.StepRecord{}
	delete(st.Names, "bucket")
}

func (c *Cleaner) emit(e Event) {
	if c.opts.Progress != nil {
		c.opts.Progress(e)
	}
}

// sortPlan orders resources for deletion: by kind, then the lab's own order
// within a kind (queues before the dead-letter queues they feed).
func sortPlan(rs []*Resource, dlqs map[string]bool) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if rank(a.Kind) != rank(b.Kind) {
			return rank(a.Kind) < rank(b.Kind)
		}
		if a.Kind == KindQueue && dlqs[a.Name] != dlqs[b.Name] {
			return !dlqs[a.Name]
		}
		return a.Name < b.Name
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%s %s", commas(int64(n)), many)
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
