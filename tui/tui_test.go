package tui

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/color"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
)

func TestMain(m *testing.M) {
	// Check times are shown in local time; goldens need one zone.
	time.Local = time.UTC
	os.Exit(m.Run())
}

var testNow = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

// store is a Save func that keeps what was written.
type store struct {
	mu    sync.Mutex
	saves []*state.State
}

func (s *store) save(st *state.State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves = append(s.saves, cloneState(st))
	return nil
}

func (s *store) last() *state.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.saves) == 0 {
		return nil
	}
	return s.saves[len(s.saves)-1]
}

func sandboxOptions(st *store) Options {
	names := lab.DefaultNames()
	names.Bucket = "lambda-integration-000000000000-1793604600"
	s := state.New("sandbox")
	s.ID = "0a1b2c3d"
	// A lab already under way: a fresh one opens on the overview
	// (TestFreshLabOpensOnTheOverview).
	s.Current = lab.StepIAMRole
	return Options{
		Target:        Target{Kind: "sandbox", Describe: "SANDBOX 000000000000 us-east-1 (http://127.0.0.1:4566)", Account: "000000000000", Region: "us-east-1"},
		State:         s,
		Save:          st.save,
		Render:        steps.Context{Target: "sandbox", Region: "us-east-1", Account: "000000000000", Endpoint: "http://127.0.0.1:4566", StateID: s.ID, Names: names},
		SandboxExport: steps.SandboxExport("http://127.0.0.1:4566", "us-east-1"),
		Profile:       colorprofile.ASCII,
		Now:           func() time.Time { return testNow },
	}
}

// snapshotMsg asks the running program for its current screen. The filter
// answers it on the event loop, after every message queued before it.
type snapshotMsg struct{ ch chan snapshot }

type snapshot struct {
	screen  string
	settled bool
}

// inspectMsg runs f on the model, on the event loop.
type inspectMsg struct {
	f    func(*Model)
	done chan struct{}
}

// inspect runs f on the running model between two messages.
func (h *harness) inspect(f func(*Model)) {
	done := make(chan struct{})
	h.tm.Send(inspectMsg{f: f, done: done})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		h.t.Fatal("no inspection: the program is stuck")
	}
}

func snapshotFilter(m tea.Model, msg tea.Msg) tea.Msg {
	if in, ok := msg.(inspectMsg); ok {
		in.f(m.(*Model))
		close(in.done)
		return nil
	}
	if s, ok := msg.(snapshotMsg); ok {
		tm := m.(*Model)
		s.ch <- snapshot{screen: tm.View().Content, settled: tm.settled()}
		return nil
	}
	return msg
}

// settled reports that nothing is in flight: no job, no render, and the
// lesson shown is the one rendered for the current size.
func (m *Model) settled() bool {
	if len(m.jobs) > 0 || len(m.rendering) > 0 || (m.doc != nil && m.doc.loading) {
		return false
	}
	cur := m.lesson.current
	return cur != nil && cur.Key == m.lessonKeyFor(m.sel)
}

type harness struct {
	t  *testing.T
	tm *teatest.TestModel
}

func start(t *testing.T, o Options, w, h int) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tm := teatest.NewTestModel(t, New(ctx, o),
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ASCII), tea.WithFilter(snapshotFilter)))
	hs := &harness{t: t, tm: tm}
	t.Cleanup(func() { _ = tm.Quit() })
	return hs
}

// screen is the current screen as plain text, trailing spaces trimmed.
func (h *harness) screen() (string, bool) {
	ch := make(chan snapshot, 1)
	h.tm.Send(snapshotMsg{ch: ch})
	select {
	case s := <-ch:
		return plain(s.screen), s.settled
	case <-time.After(5 * time.Second):
		h.t.Fatal("no snapshot: the program is stuck")
		return "", false
	}
}

func plain(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// waitFor polls the screen until it contains every string.
func (h *harness) waitFor(want ...string) string {
	h.t.Helper()
	return h.wait(false, want)
}

// settle waits like waitFor, and until nothing is in flight, so a golden
// never catches a half-finished screen.
func (h *harness) settle(want ...string) string {
	h.t.Helper()
	return h.wait(true, want)
}

func (h *harness) wait(settled bool, want []string) string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		var idle bool
		s, idle = h.screen()
		ok := idle || !settled
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
		time.Sleep(15 * time.Millisecond)
	}
	h.t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
	return ""
}

func (h *harness) keys(ks ...string) {
	for _, k := range ks {
		h.tm.Send(keyPress(k))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// golden compares the settled screen showing want with testdata/<test>/<name>.golden.
func (h *harness) golden(name string, want ...string) string {
	h.t.Helper()
	s := h.settle(want...)
	h.t.Run(name, func(t *testing.T) { golden.RequireEqual(t, s) })
	return s
}

// quit presses ctrl+c and returns the final model.
func (h *harness) quit() *Model {
	h.keys("ctrl+c")
	return h.tm.FinalModel(h.t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

func TestNavigateStepsAndRenderLesson(t *testing.T) {
	st := &store{}
	h := start(t, sandboxOptions(st), 120, 40)
	s := h.waitFor("Step 1/8 · Create the Lambda execution role", "What and why", "cmd 1/")
	if !strings.Contains(s, "export AWS_ENDPOINT_URL=http://127.0.0.1:4566") {
		t.Errorf("the sandbox export line is not on the lesson:\n%s", s)
	}
	h.keys("j", "j")
	h.golden("step3", "Step 3/8 · Create the versioned S3 bucket", "the upload bucket", "cmd 1/")
	// The "changed since the guide" section is part of every lesson; w
	// jumps to it.
	h.keys("w")
	h.golden("changed", "## Changed since the original guide", "LocationConstraint")
	// Command cycling jumps to the block; y copies it with OSC 52.
	h.keys("]", "y")
	h.waitFor("copied cmd 2/")
	var osc52 string
	teatest.WaitFor(t, h.tm.Output(), func(b []byte) bool {
		osc52 = string(b)
		return strings.Contains(osc52, "\x1b]52;c;")
	}, teatest.WithDuration(5*time.Second))
	m := h.quit()
	if m.State().Current != lab.StepS3Bucket {
		t.Errorf("current step %q, want s3-bucket", m.State().Current)
	}
	if last := st.last(); last == nil || last.Current != lab.StepS3Bucket {
		t.Errorf("the current step was not saved: %+v", last)
	}
	cmds := m.commands()
	want := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(cmds[1].Text))
	if !strings.Contains(osc52, want) {
		t.Errorf("no OSC 52 sequence with command 2 in the output")
	}
}

func TestMissingHooksSaySoPlainly(t *testing.T) {
	h := start(t, sandboxOptions(&store{}), 120, 40)
	h.waitFor("What and why")
	for _, c := range []struct{ key, want string }{
		{"c", "checks land with issue #7: not in this build"},
		{"p", "perform lands with issue #6: not in this build"},
		{"x", "cleanup lands with issue #8: not in this build"},
		{"$", "cost estimates land with issue #8: not in this build"},
		{"t", "probes test the whole chain from step 8"},
	} {
		h.keys(c.key)
		h.waitFor(c.want)
	}
	h.keys("8", "t")
	h.waitFor("end-to-end probes land with issue #7: not in this build")
}

var roleResults = []checks.Result{
	{CheckID: "test.role-exists", Status: checks.Pass, Summary: "role lambda-integration-role exists", Weight: 2,
		Evidence: []string{"iam:GetRole -> arn:aws:iam::000000000000:role/lambda-integration-role"}},
	{CheckID: "test.trust", Status: checks.Pass, Summary: "Lambda may assume the role", Weight: 2},
	{CheckID: "test.data-access", Status: checks.Fail, Summary: "the role cannot write to the table", Weight: 3,
		Evidence: []string{"iam:SimulatePrincipalPolicy dynamodb:PutItem on table/lambda-integration-data -> implicitDeny"},
		Hint:     "attach AmazonDynamoDBFullAccess or the lab's inline policy; see troubleshooting.md#lambda-permission-errors"},
	{CheckID: "test.least-privilege", Status: checks.Warn, Summary: "FullAccess policies: works, but broader than needed", Weight: 1},
}

func TestChecksShowResultsAndTroubleshooting(t *testing.T) {
	st := &store{}
	o := sandboxOptions(st)
	var calls []string
	var mu sync.Mutex
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		mu.Lock()
		calls = append(calls, stepID)
		mu.Unlock()
		for _, r := range roleResults {
			progress(r)
		}
		return roleResults, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("c")
	s := h.golden("results", "Checks · 2 passed, 1 warned, 1 failed · 09:30", "the role cannot write to the table")
	if !strings.Contains(s, "✗ the role cannot write to the table") || !strings.Contains(s, "! FullAccess policies") {
		t.Errorf("no status icons on the results:\n%s", s)
	}
	// Focus the checks: the worst one is selected, with evidence and hint.
	h.keys("tab", "tab")
	h.golden("details", "saw: iam:SimulatePrincipalPolicy", "fix: attach AmazonDynamoDBFullAccess", "f: troubleshooting › lambda-permission-errors")
	h.keys("f")
	s = h.golden("troubleshooting", "A function fails with permission errors", "simulate-principal-policy")
	h.keys("esc")
	h.waitFor("Checks · 2 passed")
	m := h.quit()
	rec := m.State().Steps[lab.StepIAMRole]
	if rec.Status != "fail" || rec.Score != 4+1 || rec.MaxScore != 8 || !rec.CheckedAt.Equal(testNow) {
		t.Errorf("record %+v", rec)
	}
	if last := st.last(); last == nil || last.Steps[lab.StepIAMRole].Status != "fail" {
		t.Errorf("results not saved: %+v", last)
	}
	if len(calls) != 1 {
		t.Errorf("RunChecks called %d times, want 1", len(calls))
	}
}

func TestResumeShowsEarlierResultsWithoutRunning(t *testing.T) {
	st := &store{}
	o := sandboxOptions(st)
	o.State.Current = lab.StepSNSSQS
	raw := []byte(`[{"id":"test.queue-policy","step":"sns-sqs","status":"pass","summary":"the queue policy lets the topic send","weight":3},{"id":"test.dlq","step":"sns-sqs","status":"warn","summary":"no dead-letter queue","weight":1}]`)
	o.State.Steps[lab.StepSNSSQS] = state.StepRecord{Status: "warn", Score: 4, MaxScore: 4, CheckedAt: time.Date(2026, 10, 30, 17, 5, 0, 0, time.UTC), Results: raw}
	calls := 0
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		calls++
		return nil, nil
	}
	h := start(t, o, 120, 40)
	h.golden("resumed", "Step 5/8 · Create the SNS topic and SQS queue", "30 Oct 17:05 (from earlier; c re-checks)", "no dead-letter queue", "1/8 steps verified")
	h.quit()
	if calls != 0 {
		t.Errorf("checks ran %d times on reopening; they must wait to be asked", calls)
	}
}

func TestPerformWithConfirmation(t *testing.T) {
	st := &store{}
	o := sandboxOptions(st)
	o.Hooks.PlanPerform = func(ctx context.Context, stepID string, c PerformChoice) (PerformPlan, error) {
		return PerformPlan{Items: []string{"create DynamoDB table lambda-integration-data (on-demand, key id)", "wait until the table is ACTIVE"}}, nil
	}
	performed := make(chan string, 1)
	o.Hooks.Perform = func(ctx context.Context, stepID string, c PerformChoice, progress func(ResourceProgress)) (steps.Outcome, error) {
		progress(ResourceProgress{Resource: "DynamoDB table lambda-integration-data", Action: "create", State: Started})
		progress(ResourceProgress{Resource: "DynamoDB table lambda-integration-data", Action: "create", State: Done, Detail: "ACTIVE"})
		performed <- stepID
		return steps.Outcome{Resources: []steps.ResourceOutcome{{Resource: "DynamoDB table lambda-integration-data", Action: "created", Detail: "ACTIVE after 3 s",
			Key: "table", ID: "arn:aws:dynamodb:us-east-1:000000000000:table/lambda-integration-data"}}}, nil
	}
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return []checks.Result{{CheckID: "test." + stepID, Status: checks.Pass, Summary: "table lambda-integration-data is ACTIVE", Weight: 2}}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("2", "p")
	h.golden("confirm", "Perform step 2: Create the DynamoDB table", "• create DynamoDB table lambda-integration-data", "Perform it now?")
	select {
	case <-performed:
		t.Fatal("performed before the learner confirmed")
	default:
	}
	h.keys("y")
	h.golden("performed", "✓ DynamoDB table lambda-integration-data · created · ACTIVE after 3 s", "Done.")
	if got := <-performed; got != lab.StepDynamoDBTable {
		t.Errorf("performed %q", got)
	}
	h.keys("enter")
	h.golden("after", "Checks · 1 passed", "step 2 verified (1 passed). Press q for a 4-question quiz on it")
	m := h.quit()
	if m.State().Steps[lab.StepDynamoDBTable].Status != "pass" {
		t.Errorf("step 2 not recorded as passing after perform: %+v", m.State().Steps)
	}
	// What the perform made is in the state file, as after `slab do`.
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/lambda-integration-data"
	if got := m.State().Resources["table"]; got != arn {
		t.Errorf("resources in memory: %+v", m.State().Resources)
	}
	if last := st.last(); last == nil || last.Resources["table"] != arn {
		t.Errorf("resources not saved: %+v", last)
	}
}

func TestPerformCancelledWithEsc(t *testing.T) {
	o := sandboxOptions(&store{})
	observed := make(chan error, 1)
	o.Hooks.Perform = func(ctx context.Context, stepID string, c PerformChoice, progress func(ResourceProgress)) (steps.Outcome, error) {
		progress(ResourceProgress{Resource: "IAM role lambda-integration-role", Action: "create", State: Done})
		progress(ResourceProgress{Resource: "policy AWSLambdaBasicExecutionRole", Action: "attach", State: Started})
		<-ctx.Done()
		observed <- ctx.Err()
		return steps.Outcome{Resources: []steps.ResourceOutcome{{Resource: "IAM role lambda-integration-role", Action: "created"}}}, ctx.Err()
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("p")
	h.waitFor("It creates what is missing and fixes what differs", "Perform it now?")
	h.keys("y")
	h.waitFor("✓ IAM role lambda-integration-role · create", "policy AWSLambdaBasicExecutionRole · attach")
	h.keys("esc")
	select {
	case err := <-observed:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the hook saw %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not cancel the perform's context")
	}
	h.golden("cancelled", "Cancelled. What was done is listed above; p runs the step again and finishes it.")
	h.keys("esc")
	h.waitFor("perform of step 1 cancelled")
	// The tutor is still alive and answers keys.
	h.keys("j")
	h.waitFor("Step 2/8")
	h.quit()
}

func awsOptions(st *store) Options {
	o := sandboxOptions(st)
	o.Target = Target{Kind: "aws", Describe: "AWS account 123456789012 eu-west-1", Account: "123456789012", Region: "eu-west-1"}
	o.Render.Target, o.Render.Endpoint, o.Render.Account, o.Render.Region = "aws", "", "123456789012", "eu-west-1"
	o.Render.Names.Bucket = "lambda-integration-123456789012-1793604600"
	o.SandboxExport = ""
	return o
}

func TestCleanupAsksForTheAccountIDOnAWS(t *testing.T) {
	o := awsOptions(&store{})
	plan := CleanupPlan{Groups: []CleanupGroup{
		{Title: "Lambda functions", Items: []CleanupItem{{Resource: "s3-to-dynamodb-processor"}, {Resource: "sqs-processor", Detail: "and its SQS event source mapping"}}},
		{Title: "S3 bucket", Items: []CleanupItem{{Resource: "lambda-integration-123456789012-1793604600", Detail: "3 object versions, 1 delete marker"}}},
	}}
	o.Hooks.CleanupPlan = func(ctx context.Context) (CleanupPlan, error) { return plan, nil }
	ran := make(chan struct{}, 1)
	o.Hooks.Cleanup = func(ctx context.Context, p CleanupPlan, progress func(ResourceProgress)) (CleanupReport, error) {
		ran <- struct{}{}
		var deleted []string
		for _, g := range p.Groups {
			for _, it := range g.Items {
				progress(ResourceProgress{Resource: it.Resource, Action: "delete", State: Done})
				deleted = append(deleted, it.Resource)
			}
		}
		return CleanupReport{Deleted: deleted, Verified: true}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("x")
	h.golden("plan", "These 3 resources will be deleted from AWS account 123456789012 eu-west-1", "└─ sqs-processor · and its SQS event source mapping", "Type the account id to confirm")
	// A wrong id deletes nothing; Q is text here, not quit.
	for _, k := range []string{"1", "2", "Q", "enter"} {
		h.keys(k)
	}
	h.waitFor("That is not the account id 123456789012.")
	h.keys("backspace", "backspace", "backspace")
	for _, r := range "123456789012" {
		h.keys(string(r))
	}
	select {
	case <-ran:
		t.Fatal("cleanup ran before the account id was confirmed")
	default:
	}
	h.keys("enter")
	h.golden("done", "Verified: 3 deleted, nothing of the lab is left.")
	h.quit()
}

func TestResizeFrom120x40To80x24(t *testing.T) {
	h := start(t, sandboxOptions(&store{}), 120, 40)
	s := h.golden("120x40", "Steps", "What and why", "cmd 1/")
	h.tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	s = h.golden("80x24", "←/→ steps", "What and why")
	for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d wide at 80 columns: %q", i, w, l)
		}
	}
	if n := strings.Count(s, "\n"); n != 24 {
		t.Errorf("%d lines at 24 rows", n)
	}
	h.quit()
}

func TestQuizScoresAndSaves(t *testing.T) {
	st := &store{}
	o := sandboxOptions(st)
	h := start(t, o, 80, 24)
	h.waitFor("What and why")
	h.keys("q")
	h.waitFor("Question 1 of 4")
	qs := Quiz(lab.StepIAMRole)
	// Answer all right but the third.
	for i, q := range qs {
		h.waitFor(fmt.Sprintf("Question %d of 4", i+1))
		pick := q.Answer
		if i == 2 {
			pick = (q.Answer + 1) % len(q.Choices)
			h.keys(string(rune('a' + pick)))
			h.golden("answered", "Not quite: the answer is "+string(rune('a'+q.Answer)), "lesson: step 1 › "+q.Section)
		} else {
			h.keys(string(rune('a' + pick)))
			h.waitFor("Right.")
		}
		h.keys("enter")
	}
	s := h.waitFor("You got 3 of 4 right.", "Saved as your best for this step.", "Missed: 1", "enter/esc close")
	if strings.Contains(s, "a-d answer") {
		t.Errorf("the results screen still offers the answering keys:\n%s", s)
	}
	h.keys("enter")
	h.waitFor("quiz 3/4")
	// The next attempt asks the missed question first.
	h.keys("q")
	h.waitFor("Question 1 of 4", "You missed this one last time.")
	s, _ = h.screen()
	if !strings.Contains(strings.Join(strings.Fields(s), " "), strings.Join(strings.Fields(qs[2].Prompt), " ")[:40]) {
		t.Errorf("the missed question is not first:\n%s", s)
	}
	h.keys("esc")
	m := h.quit()
	got := m.State().Quiz[lab.StepIAMRole]
	if got.Correct != 3 || got.Total != 4 || !got.AnsweredAt.Equal(testNow) || len(got.Missed) != 1 || got.Missed[0] != qs[2].ID {
		t.Errorf("quiz record %+v", got)
	}
	if last := st.last(); last == nil || len(last.Quiz[lab.StepIAMRole].Missed) != 1 {
		t.Errorf("quiz not saved: %+v", last)
	}
}

func TestAccessibleModeSpellsStatusesOut(t *testing.T) {
	o := sandboxOptions(&store{})
	o.Accessible = true
	o.State.Steps[lab.StepIAMRole] = state.StepRecord{Status: "pass", CheckedAt: testNow}
	h := start(t, o, 120, 40)
	s := h.waitFor("What and why")
	if !regexp.MustCompile(`PASS 1 iam-role`).MatchString(s) || !strings.Contains(s, "TODO 2 dynamodb-table") {
		t.Errorf("statuses are not spelled out:\n%s", s)
	}
	h.quit()
}

func TestCheckAllCancelledWithEsc(t *testing.T) {
	st := &store{}
	o := sandboxOptions(st)
	cancelled := make(chan error, 1)
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		if stepID == lab.StepS3Bucket {
			<-ctx.Done()
			cancelled <- ctx.Err()
			return nil, ctx.Err()
		}
		return []checks.Result{{CheckID: "test." + stepID, Status: checks.Pass, Summary: stepID + " is fine", Weight: 1}}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("C")
	h.waitFor("✓ 1 iam-role", "✓ 2 dynamodb-table", "checking all eight steps… esc cancels")
	h.keys("esc")
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the hook saw %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not cancel the running checks")
	}
	s := h.settle("checking all steps cancelled; results so far are kept", "2/8 steps verified")
	if !strings.Contains(s, "· 3 s3-bucket") || !strings.Contains(s, "· 4 s3-processor") {
		t.Errorf("steps after the cancelled one must stay unchecked:\n%s", s)
	}
	m := h.quit()
	if len(m.State().Steps) != 2 {
		t.Errorf("recorded %d steps, want 2: %+v", len(m.State().Steps), m.State().Steps)
	}
}

func TestProbeOnStep8MergesIntoItsResults(t *testing.T) {
	o := sandboxOptions(&store{})
	o.Hooks.Probe = func(ctx context.Context, progress func(checks.Result)) ([]checks.Result, error) {
		r := checks.Result{CheckID: "test.probe-s3", Status: checks.Pass, Summary: "an upload became a row in 2.1 s", Weight: 5}
		progress(r)
		return []checks.Result{r}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("8", "t")
	h.settle("Checks · 1 passed", "an upload became a row in 2.1 s", "✓ 8 end-to-end")
	h.quit()
}

func TestCostPanelAndHeaderEstimate(t *testing.T) {
	o := awsOptions(&store{})
	o.Hooks.Cost = func(ctx context.Context) (CostReport, error) {
		return CostReport{PricesAsOf: "2026-11", Lines: []CostLine{
			{Item: "Lambda event-to-sns-processor (288 runs/day)", Step: lab.StepEventProcessor, PerDay: 0.0012, PerMonth: 0.036},
			{Item: "DynamoDB lambda-integration-data storage", Step: lab.StepDynamoDBTable, PerMonth: 0.0025},
		}, Total: CostLine{PerDay: 0.0013, PerMonth: 0.0385}, Notes: []string{"The schedule runs until you delete it (x cleans up)."}}, nil
	}
	// Nothing is built yet: the header prices the lab once built.
	h := start(t, o, 120, 40)
	h.waitFor("est. $0.04/month once built and left running")
	h.keys("$")
	h.golden("panel", "Lambda event-to-sns-processor (288 runs/day)", "total if left running", "list prices as of 2026-11")
	h.keys("esc")
	h.waitFor("What and why")
	h.quit()
}

func TestLightBackgroundRestyles(t *testing.T) {
	h := start(t, sandboxOptions(&store{}), 100, 30)
	h.waitFor("What and why")
	h.tm.Send(tea.BackgroundColorMsg{Color: color.White})
	h.settle("What and why", "Steps")
	m := h.quit()
	if m.isDark {
		t.Error("a white background left the dark styles on")
	}
}

func TestHelpFitsAt80x24(t *testing.T) {
	h := start(t, sandboxOptions(&store{}), 80, 24)
	h.waitFor("What and why")
	h.keys("?")
	h.golden("help", "Do", "check all steps", "↑/↓ scroll")
	h.keys("G", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j")
	h.waitFor("Quitting: ctrl+c, ctrl+q or Q")
	h.keys("?")
	h.waitFor("What and why")
	h.quit()
}

func TestCleanupOnTheSandboxListsLeftovers(t *testing.T) {
	o := sandboxOptions(&store{})
	o.Hooks.CleanupPlan = func(ctx context.Context) (CleanupPlan, error) {
		return CleanupPlan{Groups: []CleanupGroup{{Title: "S3 bucket", Items: []CleanupItem{{Resource: "lambda-integration-000000000000-1793604600"}}}}}, nil
	}
	runs := 0
	o.Hooks.Cleanup = func(ctx context.Context, p CleanupPlan, progress func(ResourceProgress)) (CleanupReport, error) {
		runs++
		progress(ResourceProgress{Resource: "lambda-integration-000000000000-1793604600", Action: "delete", State: Failed, Detail: "BucketNotEmpty"})
		return CleanupReport{Leftovers: []Leftover{{
			Resource: "S3 bucket lambda-integration-000000000000-1793604600", Reason: "BucketNotEmpty: 2 versions left",
			Command: "aws s3api delete-bucket --bucket lambda-integration-000000000000-1793604600",
		}}}, nil
	}
	h := start(t, o, 120, 40)
	h.waitFor("What and why")
	h.keys("x")
	h.waitFor("Delete them now? y yes  n no")
	h.keys("n")
	h.waitFor("nothing deleted")
	h.keys("x")
	h.waitFor("Delete them now?")
	h.keys("y")
	h.golden("leftovers", "0 deleted, but these are still there:", "BucketNotEmpty: 2 versions left", "aws s3api delete-bucket")
	m := h.quit()
	if runs != 1 || m.overlay != ovCleanup {
		t.Errorf("cleanup ran %d times", runs)
	}
}

// The tutor writes the same step record `slab check` writes: an errored
// check counts neither for nor against (README, checks.Aggregate).
func TestTutorScoreLeavesErrorsOutOfTheMaximum(t *testing.T) {
	rs := []checks.Result{
		{CheckID: "a", Status: checks.Pass, Weight: 2},
		{CheckID: "b", Status: checks.Warn, Weight: 3},
		{CheckID: "c", Status: checks.Error, Weight: 5},
	}
	status, score, maxScore := aggregate(rs)
	if status != "error" || score != 2+2 || maxScore != 5 {
		t.Errorf("got %s %d/%d, want error 4/5", status, score, maxScore)
	}
	st, s2, m2 := checks.Aggregate(rs)
	if st.String() != status || s2 != score || m2 != maxScore {
		t.Errorf("tutor %s %d/%d, checks %s %d/%d", status, score, maxScore, st, s2, m2)
	}
}
