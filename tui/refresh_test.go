package tui

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
)

// After a verified cleanup everything derived from the lab is redone: the
// progress, the checks and the cost line, even when an estimate was in
// flight while the cleanup ran.
func TestCleanupRefreshesCostProgressAndChecks(t *testing.T) {
	o := sandboxOptions(&store{})
	o.State.Resources = map[string]string{"role": "arn:aws:iam::000000000000:role/lambda-integration-role"}
	o.State.Steps = map[string]state.StepRecord{lab.StepIAMRole: {Status: "pass", Score: 8, MaxScore: 8, CheckedAt: testNow}}
	var mu sync.Mutex
	estimates := 0
	release := make(chan struct{})
	o.Hooks.Cost = func(ctx context.Context) (CostReport, error) {
		mu.Lock()
		estimates++
		n := estimates
		mu.Unlock()
		if n == 2 {
			<-release // an estimate still running when the cleanup ends
		}
		return CostReport{PricesAsOf: "2026-11", Total: CostLine{PerDay: 0.01, PerMonth: 0.31}}, nil
	}
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return nil, nil
	}
	o.Hooks.CleanupPlan = func(ctx context.Context) (CleanupPlan, error) {
		return CleanupPlan{Groups: []CleanupGroup{{Title: "IAM role", Items: []CleanupItem{{Resource: "lambda-integration-role"}}}}}, nil
	}
	o.Hooks.Cleanup = func(ctx context.Context, p CleanupPlan, progress func(ResourceProgress)) (CleanupReport, error) {
		return CleanupReport{Deleted: []string{"IAM role lambda-integration-role"}, Verified: true}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("1/8 steps verified", "$0.31/month if left running")
	h.keys("$") // starts estimate 2, which hangs
	h.keys("esc", "x")
	h.waitFor("Delete them now?")
	h.keys("y")
	h.waitFor("cleanup verified")
	close(release)
	s := h.golden("after", "0/8 steps verified", "cleaned up: nothing left to bill")
	if strings.Contains(s, "if left running") || strings.Contains(s, "✓ 1") {
		t.Errorf("stale lab state after cleanup:\n%s", s)
	}
	m := h.quit()
	mu.Lock()
	defer mu.Unlock()
	if estimates < 3 {
		t.Errorf("the estimate in flight during the cleanup was not redone (%d estimates)", estimates)
	}
	if len(m.State().Resources) != 0 || len(m.State().Steps) != 0 {
		t.Errorf("state not cleared: %+v", m.State())
	}
}
