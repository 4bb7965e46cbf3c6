// Package extern finds the external programs some tests drive (the AWS CLI
// v2, node, tmux, jq, bash) and applies one rule to all of them: when one is
// missing the test is skipped with a message naming what to install, unless
// SLAB_REQUIRE_EXTERNAL=1, which CI sets, turns the skip into a failure.
// Standard library only, so any test package can use it.
package extern

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// RequireEnv is the variable that makes a missing tool a failure.
const RequireEnv = "SLAB_REQUIRE_EXTERNAL"

// AWSCLIPath is Debian's AWS CLI v2 (package awscli). It is named by path:
// an older aws (v1 from pip or pyenv) may come first on PATH, and v1 reads
// endpoints, binary payloads and pagination differently.
const AWSCLIPath = "/usr/bin/aws"

// Required reports whether missing tools fail tests instead of skipping them.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing skips t, or fails it when Required, saying what is missing.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s, and %s=1 requires it", msg, RequireEnv)
		return
	}
	t.Skipf("skipping: %s (set %s=1 to make this a failure)", msg, RequireEnv)
}

// Tool returns the path of name on PATH, or skips (fails) t.
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not on PATH (install "+install+")")
	}
	return p
}

var cli struct {
	once    sync.Once
	version string
	err     error
}

// AWSCLIv2 returns AWSCLIPath once `aws --version` there has said
// aws-cli/2.x (asked once per test binary: each CLI start costs a second),
// or skips (fails) t.
func AWSCLIv2(t testing.TB) string {
	t.Helper()
	cli.once.Do(func() {
		out, err := exec.Command(AWSCLIPath, "--version").CombinedOutput()
		cli.version, cli.err = strings.TrimSpace(string(out)), err
	})
	switch {
	case cli.err != nil:
		Missing(t, "the AWS CLI v2 is not installed at "+AWSCLIPath+" (Debian package awscli)")
	case !strings.HasPrefix(cli.version, "aws-cli/2."):
		Missing(t, AWSCLIPath+" is not the AWS CLI v2: "+cli.version)
	}
	return AWSCLIPath
}
