package main

import (
	"strings"
	"testing"

	"github.com/slab-lab/slab/internal/extern"
	"github.com/slab-lab/slab/internal/nodesdk"
)

// The Node.js path on the default target: slab finds or installs (npm) the
// AWS SDK v3 that Lambda's Node.js runtime includes, deploys the lab's
// Node.js handlers, and the checks pass. CI installs npm for this.
func TestDoAllNodejsOnTheSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: installs the AWS SDK v3 clients with npm on a cold cache")
	}
	extern.Tool(t, "node", "nodejs")
	extern.Tool(t, "npm", "npm")
	dir := isolateKeepCache(t) // the SDK installed once per machine, as for a learner
	t.Setenv(nodesdk.EnvDir, "")
	t.Setenv("NODE_PATH", "")
	out, errOut, code := runSlab(t, "--state-dir", dir, "do", "--all", "--runtime", "nodejs", "--e2e-timeout", "60s")
	if code != exitOK {
		t.Fatalf("do --all --runtime nodejs: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runSlab(t, "--state-dir", dir, "check")
	if code != exitOK {
		t.Fatalf("check after do --all --runtime nodejs: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runSlab(t, "--state-dir", dir, "check", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"nodejs22.x`) && !strings.Contains(out, "nodejs22.x") {
		t.Errorf("the functions do not run nodejs22.x: exit %d\n%s", code, out)
	}
}

// Without npm and without the SDK anywhere, `do --runtime nodejs` stops
// before deploying anything, saying what to install.
func TestDoNodejsWithoutTheSDKStopsAtOnce(t *testing.T) {
	dir := isolate(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no npm
	t.Setenv(nodesdk.EnvDir, "")
	t.Setenv("NODE_PATH", "")
	if nodesdk.Has("/usr/lib/node_modules") || nodesdk.Has("/usr/local/lib/node_modules") {
		t.Skip("this machine has the SDK installed globally")
	}
	out, errOut, code := runSlab(t, "--state-dir", dir, "do", "--all", "--runtime", "nodejs")
	if code != exitUsage || !strings.Contains(errOut, "apt-get install npm") || !strings.Contains(errOut, nodesdk.EnvDir) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, "Step 1") {
		t.Errorf("deployed before stopping:\n%s", out)
	}
}
