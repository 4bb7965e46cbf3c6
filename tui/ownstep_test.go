package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

// A correct step 1 is ✓ before step 3 exists: the check that needs the
// bucket is listed as verified in step 3 and does not hold the step back.
func TestStepVerifiedWhileALaterStepIsMissing(t *testing.T) {
	rs := []checks.Result{
		{CheckID: "iam-role.exists", Step: lab.StepIAMRole, Status: checks.Pass, Summary: "role lambda-integration-role exists", Weight: 2},
		{CheckID: "iam-role.trust-policy", Step: lab.StepIAMRole, Status: checks.Pass, Summary: "lambda.amazonaws.com may assume the role", Weight: 2},
		{CheckID: "iam-role.s3-read", Step: lab.StepIAMRole, Status: checks.Skip, VerifiedIn: 3, Weight: 1,
			Summary: "verified in step 3 (s3-bucket): needs the lab bucket, which does not exist yet (see s3-bucket.exists)"},
	}
	o := sandboxOptions(&store{})
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return rs, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("c")
	s := h.golden("verified", "Checks · 2 passed, 1 verified in step 3", "1/8 steps verified")
	if !strings.Contains(s, "✓ 1 iam-role") && !strings.Contains(s, "✓ 1") {
		t.Errorf("step 1 is not shown as verified:\n%s", s)
	}
	m := h.quit()
	if rec := m.State().Steps[lab.StepIAMRole]; rec.Status != "pass" || rec.Score != 4 || rec.MaxScore != 4 {
		t.Errorf("record %+v", rec)
	}
}
