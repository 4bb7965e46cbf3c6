package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/tui"
)

// realismScale shrinks AWS's delays for CI: the shortest (SQS attributes,
// a new function's Pending) become 500 ms, still many round trips long, so
// every waiting and retrying path runs; a new role is unassumable for 1 s.
const realismScale = 0.1

// e2eOps are the calls the end-to-end step makes on purpose every time it
// runs (test data, invocations and what the functions then do): the rest
// of a second `do --all` must change nothing.
var e2eOps = map[string]bool{
	"s3:PutObject": true, "lambda:Invoke": true, "dynamodb:PutItem": true, "sns:Publish": true,
	"sqs:SendMessage": true, "sqs:DeleteMessage": true, "sqs:DeleteMessageBatch": true, "sqs:ChangeMessageVisibility": true,
	"logs:CreateLogStream": true, "logs:PutLogEvents": true, "logs:CreateLogGroup": true,
}

// TestRealismSuite runs the whole lab against a sandbox with AWS's timing:
// do --all, check, a second do --all that changes nothing, check --probe,
// grade of three accounts, cleanup. Each step must pass without slab
// reporting success before the result is observable or a failure for
// something that is only propagating.
func TestRealismSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole lab three times over")
	}
	dir := isolateKeepCache(t)
	files := t.TempDir()
	var acc strings.Builder
	acc.WriteString("access_key_id,secret_access_key,account_id\n")
	for i := range 3 {
		fmt.Fprintf(&acc, "AKIAREALISM%d,secret,3000000000%02d\n", i, i)
	}
	accounts := filepath.Join(files, "accounts.csv")
	if err := os.WriteFile(accounts, []byte(acc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.New(sandbox.Options{AccountsFile: accounts, Consistency: sandbox.AWS, TimingScale: realismScale})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tm := sandbox.TimingFor(sandbox.AWS, realismScale)
	t.Logf("delays: role %s, IAM policy %s, SQS %s, function Pending %s, mapping %s, table %s, S3 notification %s",
		tm.RoleAssumable, tm.IAMPolicy, tm.SQSAttributes, tm.FunctionPending, tm.MappingState, tm.TableCreating, tm.S3Notification)

	as := func(i int) {
		t.Setenv("AWS_ACCESS_KEY_ID", fmt.Sprintf("AKIAREALISM%d", i))
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		t.Setenv("AWS_REGION", "us-east-1")
	}
	slab := func(what string, wantCode int, args ...string) string {
		t.Helper()
		start := time.Now()
		out, errOut, code := runSlab(t, append([]string{"--state-dir", dir, "--endpoint-url", srv.URL()}, args...)...)
		last := strings.TrimSpace(out)
		if i := strings.LastIndex(last, "\n"); i >= 0 {
			last = last[i+1:]
		}
		t.Logf("%-28s %-8s %s", what, time.Since(start).Round(10*time.Millisecond), last)
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", what, code, wantCode, out, errOut)
		}
		return out + errOut
	}

	as(0)
	out := slab("do --all", 0, "do", "--all", "--arch", "x86_64", "--e2e-timeout", "60s")
	if !strings.Contains(out, "waiting for IAM to propagate") && !strings.Contains(out, "waiting for SQS to apply") {
		t.Errorf("do --all waited for nothing: no waiting line\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "waiting for ") {
			t.Logf("  %s", strings.TrimSpace(l))
		}
	}
	out = slab("check", 0, "check")
	if strings.Contains(out, "FAIL") {
		t.Errorf("check right after do --all reported a failure:\n%s", out)
	}
	mark := srv.AuditMark()
	slab("second do --all", 0, "do", "--all", "--arch", "x86_64", "--e2e-timeout", "60s")
	for _, e := range srv.MutatingSince(mark) {
		if op := e.Service + ":" + e.Operation; !e2eOps[op] {
			t.Errorf("second do --all changed something: %s (%d)", op, e.Status)
		}
	}
	slab("check --probe", 0, "check", "--probe")

	for i := 1; i < 3; i++ {
		as(i)
		slab(fmt.Sprintf("do --all (account %d)", i), 0, "do", "--all", "--arch", "x86_64", "--e2e-timeout", "60s")
	}
	roster := filepath.Join(files, "roster.csv")
	if err := os.WriteFile(roster, []byte("student,access_key_id,secret_access_key\nada,AKIAREALISM0,secret\nbea,AKIAREALISM1,secret\ncy,AKIAREALISM2,secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mark = srv.AuditMark()
	slab("grade of three accounts", 0, "grade", "--roster", roster)
	if m := srv.MutatingSince(mark); len(m) > 0 {
		t.Errorf("grading mutated: %+v", m)
	}
	for i := range 3 {
		as(i)
		slab(fmt.Sprintf("cleanup --yes (account %d)", i), 0, "cleanup", "--yes")
	}
}

// TestTutorCheckAfterPerform: in the tutor, p then c on a sandbox with AWS's
// timing. Perform shows what it waits for and returns only once the change
// is observable; the check right after it passes.
func TestTutorCheckAfterPerform(t *testing.T) {
	t.Setenv(envConsistency, string(sandbox.AWS))
	t.Setenv(envTimingScale, "0.2") // SQS attributes take 1 s
	s, h := tutorSession(t)
	if s.consistency != sandbox.AWS {
		t.Fatalf("the tutor's sandbox runs %q", s.consistency)
	}
	ctx := context.Background()
	var waits []string
	out, err := h.Perform(ctx, "sns-sqs", tui.PerformChoice{}, func(p tui.ResourceProgress) {
		if p.Action == "wait" {
			waits = append(waits, p.Resource+": "+p.Detail)
		}
	})
	if err != nil {
		t.Fatalf("perform: %v %+v", err, out)
	}
	if len(waits) == 0 || !strings.Contains(strings.Join(waits, "\n"), "waiting for SQS to apply Policy") {
		t.Errorf("perform showed no wait: %q", waits)
	}
	results, err := h.RunChecks(ctx, "sns-sqs", func(checks.Result) {})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Status == checks.Fail || r.Status == checks.Error {
			t.Errorf("%s right after perform: %s %s\n%s", r.CheckID, r.Status, r.Summary, strings.Join(r.Evidence, "\n"))
		}
	}
}
