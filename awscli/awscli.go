// Package awscli is the one place that renders the AWS CLI command lines a
// learner is shown: the lessons' commands, the checks' `fix:` hints,
// cleanup's by-hand leftovers and the export line. On the sandbox (or any
// endpoint) every command carries --endpoint-url, because the AWS CLI only
// honours AWS_ENDPOINT_URL from version 2.13 on and Debian and many other
// distributions ship older ones: a command without the flag goes to real
// AWS. Keeping one renderer means the lessons and the hints cannot drift.
package awscli

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// CLI renders commands for one target.
type CLI struct {
	// Endpoint is the sandbox URL or --endpoint-url; "" on real AWS.
	Endpoint string
	// Profile and Region are added when set (cleanup's leftovers name them
	// so the command works whatever the learner's shell exports).
	Profile, Region string
}

// Prefix is how every command starts: "aws", then the flags the target needs.
func (c CLI) Prefix() string {
	parts := []string{"aws"}
	if c.Endpoint != "" {
		parts = append(parts, "--endpoint-url", c.Endpoint)
	}
	if c.Profile != "" {
		parts = append(parts, "--profile", c.Profile)
	}
	if c.Region != "" {
		parts = append(parts, "--region", c.Region)
	}
	return strings.Join(parts, " ")
}

// Command renders one command: args is what follows "aws" ("sts get-caller-identity").
func (c CLI) Command(args string) string { return c.Prefix() + " " + strings.TrimSpace(args) }

// codeSpan is one `inline code` span of a hint or a line of prose.
var codeSpan = regexp.MustCompile("`[^`\n]+`")

// commandStart finds "aws " where a shell command begins inside a code span:
// at its start, after $( or a backtick-free pipe, &&, || or ;.
var commandStart = regexp.MustCompile(`(^|\$\(|&&\s*|\|\|\s*|;\s*|\|\s*)aws `)

// Text rewrites every AWS CLI command inside the `code spans` of s (a hint, a
// note) into a command for this target. Text outside code spans is prose
// ("the aws CLI") and is left alone; commands that already carry the
// target's flags are not changed twice.
func (c CLI) Text(s string) string {
	prefix := c.Prefix()
	if prefix == "aws" || !strings.Contains(s, "aws ") {
		return s
	}
	return codeSpan.ReplaceAllStringFunc(s, func(span string) string {
		inner := span[1 : len(span)-1]
		return "`" + c.line(inner, prefix) + "`"
	})
}

// Lines rewrites every command of a shell script (a command block).
func (c CLI) Lines(script string) string {
	prefix := c.Prefix()
	if prefix == "aws" {
		return script
	}
	lines := strings.Split(script, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		lines[i] = c.line(l, prefix)
	}
	return strings.Join(lines, "\n")
}

func (c CLI) line(l, prefix string) string {
	var b strings.Builder
	rest := l
	for {
		loc := commandStart.FindStringSubmatchIndex(rest)
		if loc == nil {
			b.WriteString(rest)
			return b.String()
		}
		// loc[3] is the end of the separator, where "aws " begins.
		b.WriteString(rest[:loc[3]])
		after := rest[loc[3]+len("aws "):]
		if c.Endpoint != "" && strings.HasPrefix(after, "--endpoint-url") {
			b.WriteString("aws ")
		} else {
			b.WriteString(prefix + " ")
		}
		rest = after
	}
}

// MinEndpointEnv is the first AWS CLI version that reads AWS_ENDPOINT_URL.
var MinEndpointEnv = Version{Major: 2, Minor: 13, Patch: 0}

// Export is the line a learner pastes into another terminal for the
// sandbox: credentials (the sandbox verifies SigV4 with test/test), region,
// no pager, and AWS_ENDPOINT_URL for CLI 2.13+ and the SDKs.
func Export(endpoint, region string) string {
	return fmt.Sprintf("export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=%s AWS_DEFAULT_REGION=%s AWS_PAGER=\"\"", endpoint, region, region)
}

// ExportNote says whether the export line's AWS_ENDPOINT_URL applies, for
// the learner's CLI version when it is known (ok false: not detected).
func ExportNote(v Version, ok bool) string {
	switch {
	case !ok:
		return "its AWS_ENDPOINT_URL needs AWS CLI 2.13+ (`aws --version`), which is why every command also carries --endpoint-url"
	case v.Major < 2:
		return fmt.Sprintf("your aws-cli/%s is version 1: the lessons need AWS CLI v2 (2.13+ also reads the export's AWS_ENDPOINT_URL)", v)
	case v.Less(MinEndpointEnv):
		return fmt.Sprintf("your aws-cli/%s ignores its AWS_ENDPOINT_URL (that needs 2.13+), so keep --endpoint-url on every command", v)
	default:
		return fmt.Sprintf("your aws-cli/%s reads its AWS_ENDPOINT_URL (2.13+), so after it --endpoint-url is optional", v)
	}
}

// Version is an AWS CLI version.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Less orders versions.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor < o.Minor
	}
	return v.Patch < o.Patch
}

var versionRe = regexp.MustCompile(`aws-cli/(\d+)\.(\d+)\.(\d+)`)

// ParseVersion reads `aws --version` output ("aws-cli/2.9.19 Python/3.11.2 ...").
func ParseVersion(out string) (Version, bool) {
	m := versionRe.FindStringSubmatch(out)
	if m == nil {
		return Version{}, false
	}
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(m[i+1])
		if err != nil {
			return Version{}, false
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, true
}

// Detect runs the learner's `aws --version` (the first aws on PATH), bounded
// by a short timeout: the CLI is a Python program and may be slow to start.
// ok is false when there is no aws or its output is not a version.
func Detect(ctx context.Context) (Version, bool) {
	path, err := exec.LookPath("aws")
	if err != nil {
		return Version{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		return Version{}, false
	}
	return ParseVersion(string(out))
}
