package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/tui"
)

// isolateKeepCache is isolate, keeping the user's cache directory so the
// functions' bootstrap (cross-compiled once, cached by source hash) and Go's
// build cache are not rebuilt for every test.
func isolateKeepCache(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	// The Go toolchain's own directories follow HOME too; keep them, so
	// no module is fetched again.
	goenv, _ := exec.Command("go", "env", "GOMODCACHE", "GOCACHE", "GOPATH").Output()
	dir := isolate(t)
	if err == nil {
		t.Setenv("XDG_CACHE_HOME", cache)
	}
	if v := strings.Split(strings.TrimSpace(string(goenv)), "\n"); len(v) == 3 {
		t.Setenv("GOMODCACHE", v[0])
		t.Setenv("GOCACHE", v[1])
		t.Setenv("GOPATH", v[2])
	}
	t.Setenv("GOPROXY", "off")
	return dir
}

// runSlabIO runs the CLI in-process with a given stdin and TTY flags.
func runSlabIO(t *testing.T, stdin string, tty bool, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	ios.SetTTY(tty, tty)
	code = run(args, ios)
	return out.String(), errOut.String(), code
}

var outcomeLine = regexp.MustCompile(`(?m)^  (created|updated|already correct|done|would create|would update|would do|failed) +(.*)$`)

// actions maps each reported resource to its action.
func actions(out string) map[string]string {
	m := map[string]string{}
	for _, l := range outcomeLine.FindAllStringSubmatch(out, -1) {
		res, _, _ := strings.Cut(l[2], ": ")
		m[res] = l[1]
	}
	return m
}

func TestDoStepsPrerequisitesAndRerun(t *testing.T) {
	dir := isolateKeepCache(t)
	g := []string{"--state-dir", dir}

	// A step whose prerequisites are missing names them and changes nothing.
	out, errOut, code := runSlab(t, append(g, "do", "s3-processor")...)
	if code != exitUsage {
		t.Fatalf("do 4 without its prerequisites: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"step 4 (s3-processor) needs step 1 (iam-role) first: IAM role lambda-integration-role does not exist",
		"needs step 3 (s3-bucket) first", "--with-deps"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("missing %q in:\n%s%s", want, out, errOut)
		}
	}

	// --with-deps does them.
	start := time.Now()
	out, errOut, code = runSlab(t, append(g, "do", "4", "--with-deps")...)
	if code != 0 {
		t.Fatalf("do 4 --with-deps: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("slab do 4 --with-deps (steps 1-4) took %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "--with-deps: also doing the missing prerequisite steps 1 (iam-role), 2 (dynamodb-table), 3 (s3-bucket)") {
		t.Errorf("no --with-deps line:\n%s", out)
	}
	a := actions(out)
	for _, res := range []string{"IAM role lambda-integration-role", "DynamoDB table lambda-integration-data", "Lambda function s3-to-dynamodb-processor", "permission s3-trigger on function s3-to-dynamodb-processor"} {
		if a[res] != "created" {
			t.Errorf("%s: %q\n%s", res, a[res], out)
		}
	}
	if !regexp.MustCompile(`summary: \d+ created \(in [0-9.]+m?s\)`).MatchString(out) {
		t.Errorf("no summary line:\n%s", out)
	}

	// State remembers the bucket and what was created.
	st, _, err := state.ForTarget(dir, "sandbox").Load("sandbox")
	if err != nil {
		t.Fatal(err)
	}
	bucket := st.Names["bucket"]
	if bucket == "" || st.Resources["bucket"] != bucket || !strings.HasPrefix(st.Resources["role"], "arn:aws:iam::000000000000:role/") ||
		!strings.HasSuffix(st.Resources["s3-function"], ":function:s3-to-dynamodb-processor") {
		t.Errorf("state names %v resources %v", st.Names, st.Resources)
	}

	// The dry run of the rest plans it, read-only.
	out, errOut, code = runSlab(t, append(g, "do", "5", "6", "7", "--dry-run")...)
	if code != 0 || !strings.Contains(out, "would create     SNS topic lambda-integration-notifications: does not exist") ||
		!strings.Contains(out, "nothing was changed (dry run)") || strings.Contains(out, "  created ") {
		t.Errorf("dry run: exit %d\n%s%s", code, out, errOut)
	}

	// Steps 1-7 again: 1-4 already correct, 5-7 created.
	out, errOut, code = runSlab(t, append(g, "do", "1", "2", "3", "4", "5", "6", "7")...)
	if code != 0 {
		t.Fatalf("do 1-7: exit %d\n%s%s", code, out, errOut)
	}
	before, after, ok := strings.Cut(out, "\nStep 5 ")
	if !ok {
		t.Fatalf("no step 5:\n%s", out)
	}
	for res, act := range actions(before) {
		if act != "already correct" {
			t.Errorf("steps 1-4 again: %s: %s", res, act)
		}
	}
	for res, act := range actions(after) {
		if act != "created" {
			t.Errorf("steps 5-7: %s: %s", res, act)
		}
	}
	st, _, _ = state.ForTarget(dir, "sandbox").Load("sandbox")
	if st.Names["bucket"] != bucket || st.Resources["mapping"] == "" || !strings.Contains(st.Resources["queue"], "lambda-integration-queue") {
		t.Errorf("state after 1-7: %v %v", st.Names, st.Resources)
	}
}

// TestDoOnAWSAsksFirst drives the --aws confirmation against a sandbox
// reached through AWS_ENDPOINT_URL (the SDK honours it): no terminal and no
// --yes refuses with exit 2 and changes nothing; "n" cancels; "y" goes on.
func TestDoOnAWSAsksFirst(t *testing.T) {
	dir := isolateKeepCache(t)
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	args := []string{"--state-dir", dir, "--aws", "do", "iam-role"}

	mark := srv.AuditMark()
	out, errOut, code := runSlabIO(t, "", false, args...)
	if code != exitUsage || !strings.Contains(errOut, "refusing to change AWS account 000000000000 without confirmation") {
		t.Fatalf("no TTY, no --yes: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"This will change AWS account 000000000000 in us-east-1", "would create     IAM role lambda-integration-role", "cost estimate (list prices of ", "a month"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runSlabIO(t, "n\n", true, args...)
	if code != exitCancelled || !strings.Contains(out, "not confirmed: nothing was changed") {
		t.Fatalf("answered n: exit %d\n%s", code, out)
	}
	if m := srv.MutatingSince(mark); len(m) > 0 {
		t.Fatalf("refused runs mutated: %v", m)
	}
	out, errOut, code = runSlabIO(t, "y\n", true, args...)
	if code != 0 || actions(out)["IAM role lambda-integration-role"] != "created" {
		t.Fatalf("answered y: exit %d\n%s%s", code, out, errOut)
	}
	// Nothing to change: no question asked, even without a terminal.
	out, errOut, code = runSlabIO(t, "", false, args...)
	if code != 0 || !strings.Contains(out, "everything is already correct; nothing will change") {
		t.Fatalf("rerun: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDoThroughTheBinary builds slab once and drives `slab do` as separate
// processes, as a learner would.
func TestDoThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds slab")
	}
	dir := isolateKeepCache(t)
	bin := filepath.Join(t.TempDir(), "slab")
	build := exec.Command("go", "build", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	t.Run("endpoint do --all", func(t *testing.T) { doAllAgainstAnEndpoint(t, bin, dir) })
	t.Run("ctrl-c then converge", func(t *testing.T) { doInterruptedThenConverge(t, bin, filepath.Join(dir, "interrupt")) })
}

// doInterruptedThenConverge sends SIGINT to `slab do --all` (its in-process
// sandbox persisting in the state dir) while it deploys the first function:
// exit 130, the state file lists what exists, and the next run converges.
func doInterruptedThenConverge(t *testing.T, bin, dir string) {
	env := append(os.Environ(), "NO_COLOR=1")
	cmd := exec.Command(bin, "--state-dir", dir, "do", "--all", "--e2e-timeout", "45s")
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if !sent && strings.HasPrefix(line, "Step 4 ") {
			_ = cmd.Process.Signal(os.Interrupt)
			sent = true
		}
	}
	_ = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != exitCancelled || !strings.Contains(out.String(), "interrupted during step 4 (s3-processor)") {
		t.Fatalf("interrupted run: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	st, _, err := state.ForTarget(dir, "sandbox").Load("sandbox")
	if err != nil || st.Resources["role"] == "" || st.Resources["table"] == "" || st.Resources["bucket"] == "" || st.Resources["mapping"] != "" {
		t.Fatalf("state after the interrupt: %v %v", st.Resources, err)
	}
	again := exec.Command(bin, "--state-dir", dir, "do", "--all", "--e2e-timeout", "45s")
	again.Env = env
	b, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("run after the interrupt: %v\n%s", err, b)
	}
	a := actions(string(b))
	if a["IAM role lambda-integration-role"] != "already correct" || a["event source mapping lambda-integration-queue -> sqs-processor"] != "created" {
		t.Errorf("run after the interrupt:\n%s", b)
	}
	third := exec.Command(bin, "--state-dir", dir, "do", "1", "2", "3", "4", "5", "6", "7")
	third.Env = env
	b, err = third.CombinedOutput()
	if err != nil || !regexp.MustCompile(`summary: \d+ already correct \(in`).Match(b) {
		t.Errorf("third run: %v\n%s", err, b)
	}
}

// doAllAgainstAnEndpoint starts `slab sandbox` as a separate process (or
// uses SLAB_TEST_ENDPOINT) and drives `slab --endpoint-url URL do --all`.
func doAllAgainstAnEndpoint(t *testing.T, bin, dir string) {
	url := os.Getenv("SLAB_TEST_ENDPOINT")
	if url == "aws" {
		t.Skip("SLAB_TEST_ENDPOINT=aws: this test drives an AWS-compatible endpoint, not real AWS")
	}
	if url == "" {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sb := exec.CommandContext(ctx, bin, "--state-dir", t.TempDir(), "sandbox", "--addr", "127.0.0.1:0", "--memory")
		stdout, err := sb.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		sb.Stderr = os.Stderr
		if err := sb.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = sb.Wait() }()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "slab sandbox serving "); ok {
				url = strings.TrimSpace(u)
				break
			}
		}
		if url == "" {
			t.Fatal("slab sandbox printed no URL")
		}
		go func() {
			for sc.Scan() {
			}
		}()
	}
	cmd := exec.Command(bin, "--state-dir", dir, "--endpoint-url", url, "do", "--all", "--e2e-timeout", "45s")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := cmd.ProcessState.ExitCode()
	t.Logf("slab --endpoint-url %s do --all: exit %d in %s\n%s%s", url, code, took.Round(time.Millisecond), out.String(), errOut.String())
	external := os.Getenv("SLAB_TEST_ENDPOINT") != ""
	if err != nil && (code != 1 || !external) {
		t.Fatalf("exit %d: %v", code, err)
	}
	a := actions(out.String())
	for res, act := range a {
		if strings.HasPrefix(res, "DynamoDB row") || strings.HasPrefix(res, "invocation") || strings.HasPrefix(res, "test upload") {
			continue // the end-to-end step's actions
		}
		if act != "created" {
			t.Errorf("%s: %s", res, act)
		}
	}
	if code == 0 {
		for _, res := range []string{"test upload", "invocation of event-to-sns-processor"} {
			found := false
			for r, act := range a {
				found = found || strings.HasPrefix(r, res) && act == "done"
			}
			if !found {
				t.Errorf("end-to-end: no %q done", res)
			}
		}
	}
	if len(a) < 25 {
		t.Errorf("only %d resources reported", len(a))
	}
	if code == 1 {
		// On another endpoint only the end-to-end step may fail (it may
		// not run the lab's functions), naming the part of the chain
		// that did not deliver.
		if !strings.Contains(out.String(), "did not deliver") || !strings.Contains(errOut.String(), "failed: end-to-end") {
			t.Fatalf("a step other than end-to-end failed, or without a diagnosis")
		}
		t.Logf("end-to-end did not complete on %s: %s", url, firstLine(out.String(), "did not deliver"))
	}
	if !strings.Contains(out.String(), "summary: ") {
		t.Error("no summary")
	}
	// The JSON the state file holds is valid and names the resources.
	b, err := os.ReadFile(filepath.Join(dir, "state-"+sanitize(state.TargetKey("endpoint", url, "000000000000", "us-east-1"))+".json"))
	if err == nil {
		var st state.State
		if json.Unmarshal(b, &st) != nil || st.Resources["rule"] == "" {
			t.Errorf("state file: %s", b)
		}
	}
}

func firstLine(s, containing string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, containing) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func sanitize(key string) string {
	return regexp.MustCompile(`[^a-zA-Z0-9._-]+`).ReplaceAllString(key, "_")
}

// TestTutorPerformHooks: the tutor's plan and perform go through the same
// performs, refuse a step whose prerequisites are missing, and say when
// there is nothing to change.
func TestTutorPerformHooks(t *testing.T) {
	dir := isolateKeepCache(t)
	ctx := context.Background()
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	s, err := openSession(ctx, ios, &globalOptions{StateDir: dir}, online, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := s.ensureBucket(time.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	h := tutorHooks(s)
	if h.PlanPerform == nil || h.Perform == nil {
		t.Fatal("perform hooks not wired")
	}
	plan, err := h.PlanPerform(ctx, "sns-sqs", tui.PerformChoice{})
	if err != nil || len(plan.Items) != 5 || plan.Items[0] != "create SNS topic lambda-integration-notifications: does not exist" || len(plan.Missing) != 0 {
		t.Fatalf("plan: %v %+v", err, plan)
	}
	var progress []string
	out, err := h.Perform(ctx, "sns-sqs", tui.PerformChoice{}, func(p tui.ResourceProgress) { progress = append(progress, p.Action+" "+p.Resource) })
	if err != nil || len(out.Resources) != 5 || len(progress) != 5 || progress[0] != "created SNS topic lambda-integration-notifications" {
		t.Fatalf("perform: %v %v %+v", err, progress, out)
	}
	plan, err = h.PlanPerform(ctx, "sns-sqs", tui.PerformChoice{})
	if err != nil || len(plan.Items) != 1 || !strings.Contains(plan.Items[0], "already correct") {
		t.Errorf("plan after perform: %v %+v", err, plan)
	}
	// Missing prerequisites are named as steps, for the tutor to offer
	// performing them first.
	plan, _ = h.PlanPerform(ctx, "queue-processor", tui.PerformChoice{})
	if len(plan.Missing) != 2 || plan.Missing[0] != "iam-role" || plan.Missing[1] != "dynamodb-table" || !strings.Contains(plan.Items[0], "step 1 (iam-role)") {
		t.Errorf("plan without prerequisites: %+v", plan)
	}
	if _, err := h.Perform(ctx, "queue-processor", tui.PerformChoice{}, func(tui.ResourceProgress) {}); err == nil || !strings.Contains(err.Error(), "do step 1 (iam-role) first") {
		t.Errorf("perform without prerequisites: %v", err)
	}
	// Step 1's two roads, each named truthfully.
	guide, err := h.PlanPerform(ctx, "iam-role", tui.PerformChoice{})
	if err != nil || !containsLine(guide.Items, "attach AWS managed policy AmazonS3FullAccess to role lambda-integration-role") {
		t.Errorf("the guide's road: %v %+v", err, guide)
	}
	least, err := h.PlanPerform(ctx, "iam-role", tui.PerformChoice{LeastPrivilege: true})
	if err != nil || containsLine(least.Items, "AmazonS3FullAccess") || !containsLine(least.Items, "put inline policy") {
		t.Errorf("least privilege: %v %+v", err, least)
	}
	if _, err := h.Perform(ctx, "iam-role", tui.PerformChoice{LeastPrivilege: true}, func(tui.ResourceProgress) {}); err != nil {
		t.Fatal(err)
	}
	again, _ := h.PlanPerform(ctx, "iam-role", tui.PerformChoice{LeastPrivilege: true})
	if len(again.Items) != 1 || !strings.Contains(again.Items[0], "already correct") {
		t.Errorf("least privilege performed, then planned again: %+v", again)
	}
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
