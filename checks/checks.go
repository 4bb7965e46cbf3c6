// Package checks holds the verification model: a Check inspects the
// learner's resources with read-only API calls and returns a Result.
//
// Fail means the learner's resource is wrong. Error means slab could not
// tell (access denied, throttled, endpoint down) and says why; it never
// counts as a Fail. Skip means a prerequisite is missing. Warn means it works
// but deviates from the corrected lab or from best practice.
package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
)

// Status is a check outcome.
type Status int

// Statuses, ordered from best to worst for aggregation (Skip sorts apart).
const (
	Pass Status = iota
	Warn
	Skip
	Error
	Fail
)

var statusNames = []string{"pass", "warn", "skip", "error", "fail"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalJSON writes the lower-case name ("pass", "fail", ...).
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the lower-case name.
func (s *Status) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	for i, n := range statusNames {
		if n == name {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("unknown check status %q", name)
}

// Result is what one check found.
type Result struct {
	CheckID  string   `json:"id"`
	Step     string   `json:"step"`
	Status   Status   `json:"status"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
	Hint     string   `json:"hint,omitempty"`
	Weight   int      `json:"weight"`
	// VerifiedIn is set on a Skip whose missing resource a later step
	// creates (the number of that step): the check waits for it, so it is
	// verified there and does not keep its own, correct step from passing.
	VerifiedIn int `json:"verified_in,omitempty"`
	// Duration is how long the check took (reports; not persisted).
	Duration time.Duration `json:"-"`
	// needs is the check whose resource a Skip waits for (skip's becauseOf).
	needs string
}

// Deferred reports a skip that waits for a later step's resource.
func (r Result) Deferred() bool { return r.Status == Skip && r.VerifiedIn > 0 }

// Check is one verification.
type Check struct {
	ID     string
	Step   string
	Title  string
	Weight int
	// Probe marks the active end-to-end probes, which write and clean up
	// test data and run only when asked (--probe, the TUI's probe key).
	Probe bool
	// Actions are the IAM actions the check may call (as "service:Action").
	// `slab grader-policy` is generated from them, and a test proves every
	// call a check makes is among them.
	Actions []string
	Run     func(ctx context.Context, env *awsenv.Env, n lab.Names) Result
}

// Aggregate is a step's status and score from its results. The worst status
// wins (Pass < Warn < Skip < Error < Fail), so an Error never turns into a
// Fail and one Fail is never hidden by an Error. A Pass earns the check's
// weight and a Warn half of it (rounded up). An Error earns nothing and does
// not count towards maxScore either: slab could not tell, so the check is
// neither won nor lost (the report counts it as an error instead).
func Aggregate(rs []Result) (status Status, score, maxScore int) {
	if len(rs) == 0 {
		return Skip, 0, 0
	}
	status = Pass
	counted := 0
	for _, r := range rs {
		if r.Deferred() {
			continue // verified in its later step; neither won nor lost here
		}
		counted++
		if r.Status > status {
			status = r.Status
		}
		w := r.Weight
		if w <= 0 {
			w = 1
		}
		switch r.Status {
		case Error:
			continue
		case Pass:
			score += w
		case Warn:
			score += (w + 1) / 2
		}
		maxScore += w
	}
	if counted == 0 {
		return Skip, 0, 0
	}
	return status, score, maxScore
}
