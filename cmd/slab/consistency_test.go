package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/slab-lab/slab/sandbox"
)

// TestMain runs this package's tests against an instant sandbox (they test
// slab, not AWS's delays; the realism suite opts into them), unless the
// environment already chose.
func TestMain(m *testing.M) {
	if os.Getenv(envConsistency) == "" {
		os.Setenv(envConsistency, string(sandbox.Instant))
	}
	os.Exit(m.Run())
}

func TestSandboxTimingResolution(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "slab.json")
	if err := os.WriteFile(cfgPath, []byte(`{"sandbox": {"consistency": "instant", "timing_scale": 0.5}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envConsistency, "")
	t.Setenv(envTimingScale, "")
	g := &globalOptions{}
	if c, s, err := g.sandboxTiming("", 0); err != nil || c != defaultConsistency || s != 1 {
		t.Fatalf("default: %v %v %v", c, s, err)
	}
	g.Config = cfgPath
	if c, s, err := g.sandboxTiming("", 0); err != nil || c != sandbox.Instant || s != 0.5 {
		t.Fatalf("config file: %v %v %v", c, s, err)
	}
	t.Setenv(envConsistency, "aws")
	t.Setenv(envTimingScale, "0.25")
	if c, s, err := g.sandboxTiming("", 0); err != nil || c != sandbox.AWS || s != 0.25 {
		t.Fatalf("environment over config: %v %v %v", c, s, err)
	}
	if c, s, err := g.sandboxTiming("instant", 2); err != nil || c != sandbox.Instant || s != 2 {
		t.Fatalf("flag over environment: %v %v %v", c, s, err)
	}
	t.Setenv(envConsistency, "eventual")
	if _, _, err := g.sandboxTiming("", 0); exitCode(err) != exitUsage {
		t.Fatalf("unknown mode: %v (exit %d)", err, exitCode(err))
	}
	t.Setenv(envConsistency, "")
	t.Setenv(envTimingScale, "-1")
	if _, _, err := g.sandboxTiming("", 0); exitCode(err) != exitUsage {
		t.Fatalf("negative scale: %v", err)
	}
}
