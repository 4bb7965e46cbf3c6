package checks_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/cleanup"
	"github.com/slab-lab/slab/internal/extern"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/steps"
)

// awsStart finds where an AWS CLI command begins in a line of shell.
var awsStart = regexp.MustCompile(`(^|\$\(|&&\s*|\|\|\s*|;\s*|\|\s*|\s)aws ([^ ]*)`)

// bareAWS lists the commands in text that would not reach endpoint: an
// `aws` not followed by --endpoint-url endpoint.
func bareAWS(text, endpoint string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range awsStart.FindAllStringSubmatchIndex(line, -1) {
			rest := line[m[4]:]
			if !strings.HasPrefix(rest, "--endpoint-url "+endpoint) {
				out = append(out, strings.TrimSpace(line[m[0]:]))
			}
		}
	}
	return out
}

// hintCommands are the code spans of hints that run the AWS CLI.
func hintCommands(hints []string) []string {
	seen := map[string]bool{}
	var out []string
	span := regexp.MustCompile("`([^`\n]+)`")
	for _, h := range hints {
		for _, m := range span.FindAllStringSubmatch(h, -1) {
			c := m[1]
			if strings.Contains(c, "aws ") && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// runContained runs every script with the real AWS CLI, AWS_ENDPOINT_URL
// unset and every other host behind a trap proxy, and fails for anything
// that went elsewhere than the sandbox.
func runContained(t *testing.T, f *fx, scripts []string) {
	t.Helper()
	if f.Env.IsAWS() || f.Srv == nil {
		t.Skip("the commands are rendered for the sandbox; this target is external")
	}
	awsPath := extern.AWSCLIv2(t)
	sh := testenv.NewContained(t, f.Env.Target.Endpoint, awsPath)
	// The trap must catch a command without --endpoint-url, or proving
	// that none escaped means nothing.
	if out, _ := sh.Run("aws sts get-caller-identity", 60*time.Second); len(sh.Escaped()) == 0 {
		t.Fatalf("the trap proxy saw nothing from a bare aws command:\n%s", out)
	}
	before := len(sh.Escaped())
	work := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ran int
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				n0 := len(sh.Escaped())
				start := time.Now()
				out, _ := sh.Run(s, 20*time.Second)
				mu.Lock()
				ran++
				if d := time.Since(start); d > 15*time.Second {
					t.Logf("slow (%s, cut at 20 s): %.80q", d.Round(time.Second), s)
				}
				if esc := sh.Escaped(); len(esc) > n0 {
					t.Errorf("this command reached a host other than the sandbox (%v):\n%s\n--- output\n%s", esc[n0:], s, out)
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range scripts {
		work <- s
	}
	close(work)
	wg.Wait()
	if esc := sh.Escaped()[before:]; len(esc) > 0 {
		t.Errorf("%d requests left the sandbox: %v", len(esc), esc)
	}
	t.Logf("ran %d scripts with %s; none reached any host but the sandbox", ran, awsPath)
}

// TestEveryShownCommandReachesOnlyTheSandbox runs every command block of
// every lesson (the alternatives and the troubleshooting sections too) and
// cleanup's by-hand command for every lab resource, rendered for the
// sandbox, with the real AWS CLI and no AWS_ENDPOINT_URL: none may reach any
// host but the sandbox. The hints are run the same way at the end of
// TestCheckVariants, which produces them all.
func TestEveryShownCommandReachesOnlyTheSandbox(t *testing.T) {
	f := newFx(t)
	if f.Srv == nil {
		t.Skip("needs the in-process sandbox")
	}
	n := f.Names()
	f.FullLab(n)
	url := f.Env.Target.Endpoint
	rc := steps.Context{Target: "sandbox", Region: f.Env.Region, Account: f.Env.Account, Endpoint: url, StateID: "c0ffee00", Names: n}
	var scripts []string
	for _, id := range append(append([]string{}, lab.StepIDs...), "overview", "troubleshooting", "cleanup", "exam-tips") {
		md, err := steps.RenderLesson(id, rc)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range steps.Commands(md) {
			if bare := bareAWS(c.Text, url); len(bare) > 0 {
				t.Errorf("lesson %s, block %q: commands without --endpoint-url %s: %q", id, c.Title, url, bare)
			}
			scripts = append(scripts, c.Text)
		}
	}
	scripts = append(scripts, steps.SandboxExport(url, f.Env.Region)+" && aws --endpoint-url "+url+" sts get-caller-identity")
	// Cleanup's by-hand commands, for every resource it finds in a full lab.
	cl := cleanup.New(f.Env, n, "", cleanup.Options{CLI: awscli.CLI{Endpoint: url, Region: f.Env.Region}.Prefix()})
	plan, err := cl.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var manual []string
	for _, r := range plan.Resources {
		c := cl.Command(r)
		if bare := bareAWS(c, url); len(bare) > 0 {
			t.Errorf("cleanup command for %s without --endpoint-url: %q", r.Title(), bare)
		}
		manual = append(manual, c)
	}
	if len(manual) < 10 {
		t.Fatalf("cleanup found only %d resources in a full lab", len(manual))
	}
	if testing.Short() {
		t.Skip("runs every lesson command with the AWS CLI; skipped with -short (the rendering was checked above)")
	}
	runContained(t, f, scripts)
	// Cleanup's commands last: they delete what the lessons' commands use.
	runContained(t, f, manual)
}
