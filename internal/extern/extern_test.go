package extern

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// recorder captures what Missing does without ending the real test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skipf(format string, args ...any)  { r.skipped = format }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = format }

func TestMissingSkipsOrFails(t *testing.T) {
	t.Setenv(RequireEnv, "")
	r := &recorder{TB: t}
	Missing(r, "x is not installed")
	if r.skipped == "" || r.failed != "" {
		t.Fatalf("without %s a missing tool skips: %+v", RequireEnv, r)
	}
	t.Setenv(RequireEnv, "1")
	r = &recorder{TB: t}
	Missing(r, "x is not installed")
	if r.failed == "" || r.skipped != "" {
		t.Fatalf("with %s=1 a missing tool fails: %+v", RequireEnv, r)
	}
}

func TestToolFindsOrReports(t *testing.T) {
	t.Setenv(RequireEnv, "1")
	r := &recorder{TB: t}
	if p := Tool(r, "slab-no-such-tool-here", "nothing"); p != "" || r.failed == "" {
		t.Fatalf("a missing tool: path %q, %+v", p, r)
	}
	if _, err := exec.LookPath("sh"); err == nil {
		r = &recorder{TB: t}
		if p := Tool(r, "sh", "a shell"); p == "" || r.failed != "" {
			t.Fatalf("sh: %q %+v", p, r)
		}
	}
}

func TestAWSCLIv2(t *testing.T) {
	if _, err := os.Stat(AWSCLIPath); err != nil && Required() {
		t.Fatalf("%s=1 and no %s", RequireEnv, AWSCLIPath)
	}
	p := AWSCLIv2(t)
	if !strings.HasPrefix(cli.version, "aws-cli/2.") || p != AWSCLIPath {
		t.Fatalf("AWSCLIv2 returned %q after version %q", p, cli.version)
	}
}
