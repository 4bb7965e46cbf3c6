package tui

import (
	"context"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
)

// Options is everything the tutor gets from outside. Anything with a side
// effect arrives as a function, so the tutor itself never touches AWS or the
// disk, and tests inject fakes.
type Options struct {
	// Target says where the learner's resources live; every screen shows it.
	Target Target
	// State is the learner's progress. The tutor owns it while it runs and
	// hands copies to Save.
	State *state.State
	// Save writes the state (atomically). It runs in a command, never in Update.
	Save func(*state.State) error
	// Render is what lessons are rendered for (names, region, endpoint).
	Render steps.Context
	// SandboxExport is the line that points the AWS CLI at the sandbox;
	// empty on AWS and other endpoints.
	SandboxExport string
	// Cost is what the cost panel shows until the Cost hook answers; nil when
	// nothing is known yet.
	Cost *CostReport
	// Hooks do the work. A nil hook makes its key say plainly that the
	// feature is not in this build.
	Hooks Hooks

	// Accessible turns off animation and spells statuses out in words.
	Accessible bool
	// Profile is the terminal's colour profile (Run detects it); Ascii and
	// below mean no colour (NO_COLOR, --no-color).
	Profile colorprofile.Profile
	// Now is the clock (tests pin it).
	Now func() time.Time
	// FirstFrame, when set, is called once, as the first full frame (the
	// terminal's size known) is drawn; slab's start-up benchmark uses it.
	FirstFrame func()
}

// Target describes the target for the header.
type Target struct {
	Kind     string // "sandbox", "aws" or "endpoint"
	Describe string // awsenv.Env.Describe(): SANDBOX ... / AWS account ... / ENDPOINT ...
	Account  string
	Region   string
}

// TargetOf describes an environment.
func TargetOf(env *awsenv.Env) Target {
	return Target{Kind: string(env.Target.Kind), Describe: env.Describe(), Account: env.Account, Region: env.Region}
}

// IsAWS reports whether the target is real AWS, where things cost money and
// cleanup asks for the account id.
func (t Target) IsAWS() bool { return t.Kind == string(awsenv.AWS) }

// Hooks are the tutor's side effects. Each runs in a command with a context
// derived from the program's; esc cancels it. Progress callbacks may be
// called from any goroutine until the hook returns.
type Hooks struct {
	// RunChecks verifies one step with read-only calls, reporting each result
	// as it comes. Probes are not part of it.
	RunChecks func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error)
	// PlanPerform lists what Perform would create or change with the
	// learner's choice, and which prerequisite steps are missing, for the
	// confirmation. Optional: without it the confirmation is generic.
	PlanPerform func(ctx context.Context, stepID string, c PerformChoice) (PerformPlan, error)
	// Perform does the step (idempotently) on the chosen road, reporting
	// each resource.
	Perform func(ctx context.Context, stepID string, c PerformChoice, progress func(ResourceProgress)) (steps.Outcome, error)
	// Probe runs the end-to-end probes (they write test data and remove it).
	Probe func(ctx context.Context, progress func(checks.Result)) ([]checks.Result, error)
	// CleanupPlan discovers the lab's resources and orders their deletion.
	CleanupPlan func(ctx context.Context) (CleanupPlan, error)
	// Cleanup deletes what the plan lists, then verifies nothing is left.
	Cleanup func(ctx context.Context, plan CleanupPlan, progress func(ResourceProgress)) (CleanupReport, error)
	// Copy puts text on the clipboard without the terminal's help (wl-copy,
	// xclip, pbcopy) or, with none of those, saves it to a file: OSC 52,
	// which the tutor always sends too, is dropped by tmux by default and
	// by many terminals. how names what was used ("xclip", or the file).
	Copy func(ctx context.Context, text string) (how string, err error)
	// AWSCLIVersion runs the learner's `aws --version` (awscli.Detect), so
	// the sandbox note says whether the export line's AWS_ENDPOINT_URL
	// applies to their CLI. ok false: no aws, or no version in its output.
	AWSCLIVersion func(ctx context.Context) (v awscli.Version, ok bool)
	// Cost estimates what the deployed lab costs.
	Cost func(ctx context.Context) (CostReport, error)
}

// ProgressState is where one resource is in a perform or cleanup.
type ProgressState int

// Progress states.
const (
	Started ProgressState = iota
	Done
	Failed
	Skipped
)

// ResourceProgress reports one resource during a perform or a cleanup.
type ResourceProgress struct {
	Resource string // "IAM role lambda-integration-role"
	Action   string // "create", "update", "delete", "wait", ...
	State    ProgressState
	Detail   string
}

// CleanupPlan is what a cleanup would delete, in deletion order.
type CleanupPlan struct {
	Groups []CleanupGroup
	Notes  []string
}

// CleanupGroup is one kind of resource, e.g. "Lambda functions".
type CleanupGroup struct {
	Title string
	Items []CleanupItem
}

// CleanupItem is one resource to delete.
type CleanupItem struct {
	Resource string
	Detail   string
}

// Count is the number of resources in the plan.
func (p CleanupPlan) Count() int {
	n := 0
	for _, g := range p.Groups {
		n += len(g.Items)
	}
	return n
}

// CleanupReport is what a cleanup did and what its verification found.
type CleanupReport struct {
	Deleted []string
	// Leftovers are resources still there after the verification, with the
	// command that removes each by hand.
	Leftovers []Leftover
	// Verified is true when the final verification found nothing left.
	Verified bool
}

// Leftover is a resource the cleanup could not remove.
type Leftover struct {
	Resource string
	Reason   string
	Command  string
}

// CostReport is what the cost panel shows.
type CostReport struct {
	PricesAsOf string // the price table's date, e.g. "2026-11"
	Lines      []CostLine
	Total      CostLine
	Notes      []string
}

// CostLine is one estimate in US dollars.
type CostLine struct {
	Item     string
	Step     string // the step that creates it, "" for totals
	Once     float64
	PerDay   float64
	PerMonth float64
}

// PerformChoice is the road the learner picked where the lesson teaches two
// (step 1: a least-privilege inline policy, or the guide's AWS managed
// FullAccess policies), as `slab do --least-privilege` picks on the
// command line.
type PerformChoice struct {
	LeastPrivilege bool
}

// PerformPlan is what a perform would do, for its confirmation.
type PerformPlan struct {
	// Items name each change truthfully ("attach AWS managed policy ...").
	Items []string
	// Missing are the prerequisite steps that do not exist yet, in lab
	// order: the tutor offers to perform them first.
	Missing []string
}

// HasRoads reports whether a step's lesson teaches two roads.
func HasRoads(stepID string) bool { return stepID == lab.StepIAMRole }
