package tui

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
)

// sgrOnly matches the tutor's own styling (SGR sequences); anything else
// that drives the terminal must have come from a student's value.
var sgrOnly = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// rawScreen is the current frame as written to the terminal, escapes and all.
func (h *harness) rawScreen() string {
	ch := make(chan snapshot, 1)
	h.tm.Send(snapshotMsg{ch: ch})
	select {
	case s := <-ch:
		return s.screen
	case <-time.After(5 * time.Second):
		h.t.Fatal("no snapshot: the program is stuck")
		return ""
	}
}

// The hostile set in check summaries, evidence and hints reaches the
// tutor's screen only as visible escapes.
func TestTutorShowsHostileValuesInert(t *testing.T) {
	var ev []string
	for _, h := range safetext.Hostile {
		ev = append(ev, "value "+h)
	}
	rs := []checks.Result{{CheckID: "iam-role.exists", Step: lab.StepIAMRole, Status: checks.Fail, Weight: 1,
		Summary: "saw " + strings.Join(safetext.Hostile, " "), Evidence: ev, Hint: "fix " + safetext.Hostile[0]}}
	// The hint comes after the evidence: the first items are enough to
	// keep it on a 40-line screen.
	rs[0].Evidence = rs[0].Evidence[:8]
	o := sandboxOptions(&store{})
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return rs, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("c")
	h.settle(`saw \x1b]0;pwned title\x07`)
	h.keys("tab", "tab")
	h.settle(`value \x1b]0;pwned title\x07`, `value all good\rFAIL`, `fix \x1b]0;pwned title\x07`)
	raw := sgrOnly.ReplaceAllString(h.rawScreen(), "")
	if r, i := safetext.Unsafe(raw); i >= 0 {
		t.Errorf("%U at byte %d of the screen: %q", r, i, raw[max(0, i-40):min(len(raw), i+40)])
	}
	if strings.Contains(raw, "\x1b") {
		t.Errorf("an escape other than styling reached the screen")
	}
}

// assertInert fails when the frame drives the terminal beyond the tutor's
// own styling.
func (h *harness) assertInert(what string) {
	h.t.Helper()
	raw := sgrOnly.ReplaceAllString(h.rawScreen(), "")
	if r, i := safetext.Unsafe(raw); i >= 0 {
		h.t.Errorf("%s: %U at byte %d of the screen: %q", what, r, i, raw[max(0, i-40):min(len(raw), i+40)])
	}
	if strings.Contains(raw, "\x1b") {
		h.t.Errorf("%s: an escape other than styling reached the screen", what)
	}
}

// The perform and cleanup screens show resource names, details, leftovers
// and AWS's error texts, all of which can quote what a student stored: they
// reach the screen as visible escapes too.
func TestPerformAndCleanupScreensShowHostileValuesInert(t *testing.T) {
	bad := safetext.Hostile[0] // an OSC title sequence
	o := sandboxOptions(&store{})
	o.Hooks.PlanPerform = func(ctx context.Context, stepID string, c PerformChoice) (PerformPlan, error) {
		return PerformPlan{Items: []string{"update queue policy " + bad}}, nil
	}
	o.Hooks.Perform = func(ctx context.Context, stepID string, c PerformChoice, progress func(ResourceProgress)) (steps.Outcome, error) {
		progress(ResourceProgress{Resource: "queue " + bad, Action: "update", State: Done, Detail: "saw " + bad})
		return steps.Outcome{}, errors.New("AccessDenied: policy says " + bad)
	}
	o.Hooks.CleanupPlan = func(ctx context.Context) (CleanupPlan, error) {
		return CleanupPlan{Groups: []CleanupGroup{{Title: "Lambda functions", Items: []CleanupItem{{Resource: "fn " + bad, Detail: "tag " + bad}}}},
			Notes: []string{"kept role " + bad}}, nil
	}
	o.Hooks.Cleanup = func(ctx context.Context, p CleanupPlan, progress func(ResourceProgress)) (CleanupReport, error) {
		progress(ResourceProgress{Resource: "fn " + bad, Action: "delete", State: Failed, Detail: "refused " + bad})
		return CleanupReport{Leftovers: []Leftover{{Resource: "fn " + bad, Reason: "still " + bad, Command: "aws lambda delete-function --function-name " + bad}}}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("5", "p")
	h.settle(`update queue policy \x1b]0;pwned title\x07`)
	h.assertInert("perform plan")
	h.keys("y")
	h.settle(`Failed: AccessDenied: policy says \x1b]0;pwned title\x07`)
	h.assertInert("perform result")
	h.keys("esc")
	h.keys("x")
	h.settle(`fn \x1b]0;pwned title\x07`, `kept role \x1b]0;pwned title\x07`)
	h.assertInert("cleanup plan")
	h.keys("y")
	h.settle(`still \x1b]0;pwned title\x07`)
	h.assertInert("cleanup leftovers")
	h.quit()
}

// The finish screen quotes the chain's evidence, rows a student wrote into
// the table among it: Markdown rendering must not let them drive the
// terminal or turn into links.
func TestFinishScreenShowsHostileEvidenceInert(t *testing.T) {
	o := sandboxOptions(&store{})
	o.State.Steps = map[string]state.StepRecord{}
	for _, s := range steps.All[:7] {
		o.State.Steps[s.ID] = state.StepRecord{Status: "pass", Score: 4, MaxScore: 4, CheckedAt: testNow}
	}
	o.State.Current = lab.StepEndToEnd
	var ev []string
	for _, h := range safetext.Hostile {
		ev = append(ev, "row "+h)
	}
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return []checks.Result{{CheckID: "end-to-end.s3-rows", Status: checks.Pass, Weight: 2,
			Summary: "a .json upload reached the table (row " + safetext.Hostile[0] + ")", Evidence: ev[:6]}}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("7/8 steps verified")
	h.keys("c")
	h.settle("The chain works: all 8 steps verified", `\x1b]0;pwned title\x07`)
	h.assertInert("finish screen")
	h.quit()
}
