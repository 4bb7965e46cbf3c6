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
}

// Check is one verification.
type Check struct {
	ID     string
	Title  string
	Weight int
	// Probe marks the active end-to-end probes, which write and clean up
	// test data and run only when asked (--probe, the TUI's probe key).
	Probe bool
	Run   func(ctx context.Context, env *awsenv.Env, n lab.Names) Result
}
