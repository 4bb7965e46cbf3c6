package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

// Hints are written for the command line; in the tutor they point at what
// is on screen: this lesson, another step's lesson by its key, p and f.
func TestHintsAreWordedForTheTutor(t *testing.T) {
	m := New(context.Background(), sandboxOptions(&store{}))
	for in, want := range map[string]string{
		"run the commands of `slab show iam-role` (or `slab do iam-role`); see `slab show troubleshooting` → role-propagation": "run the commands of this lesson (or p on step 1); see troubleshooting › role-propagation (f opens it)",
		"write sqs-policy.json as in `slab show sns-sqs`, then `aws sqs set-queue-attributes`":                                 "write sqs-policy.json as in the commands of step 5's lesson (5 shows it), then `aws sqs set-queue-attributes`",
		"(the inline policy of `slab show iam-role`, or `slab do iam-role --least-privilege`)":                                 "(the inline policy of the commands of this lesson, or p on step 1)",
		"`slab show cleanup` has them": "`slab show cleanup` has them",
	} {
		if got := m.tutorHint(in); got != want {
			t.Errorf("tutorHint(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// y always sends OSC 52 and also copies through the Copy hook; the status
// says which way it took.
func TestCopySaysWhichWayItUsed(t *testing.T) {
	for _, tc := range []struct{ how, want string }{
		{"xclip", "copied cmd 1/7 (1 line) with xclip (and OSC 52)"},
		{"file /tmp/slab-command-1.sh", "cmd 1/7 (1 line) saved to /tmp/slab-command-1.sh (no wl-copy/xclip/pbcopy; OSC 52 sent too)"},
	} {
		o := sandboxOptions(&store{})
		var got string
		o.Hooks.Copy = func(ctx context.Context, text string) (string, error) { got = text; return tc.how, nil }
		h := start(t, o, 120, 40)
		h.waitFor("What and why", "cmd 1/")
		h.keys("y")
		h.waitFor(tc.want)
		h.quit()
		if !strings.HasPrefix(got, "export AWS_ENDPOINT_URL=") {
			t.Errorf("copied %q", got)
		}
	}
}

// The failing check's hint, as the tutor shows it.
func TestHintInTheChecksPane(t *testing.T) {
	o := sandboxOptions(&store{})
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return []checks.Result{{CheckID: "sns-sqs.queue-policy", Step: lab.StepSNSSQS, Status: checks.Fail, Weight: 2,
			Summary: "queue lambda-integration-queue has no policy",
			Hint:    "write sqs-policy.json as in `slab show sns-sqs`, then `aws --endpoint-url http://127.0.0.1:4566 sqs set-queue-attributes`; see `slab show troubleshooting` → queue-policy"}}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("5", "c")
	h.waitFor("Checks · 1 failed")
	h.keys("tab", "tab")
	h.golden("hint", "fix: write sqs-policy.json as in the commands of this lesson", "queue-policy (f opens it)")
	h.quit()
}
