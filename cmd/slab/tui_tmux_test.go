package main

import (
	"encoding/json"
	"fmt"
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives the real binary in a detached tmux server of its own
// (-L: a private socket), so the test never touches the user's tmux.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func (s *tmuxSession) run(args ...string) (string, error) {
	full := append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)
	out, err := exec.Command("tmux", full...).CombinedOutput()
	return string(out), err
}

func (s *tmuxSession) capture() string {
	out, err := s.run("capture-pane", "-p", "-t", s.name)
	if err != nil {
		s.t.Fatalf("capture-pane: %v: %s", err, out)
	}
	return out
}

func (s *tmuxSession) keys(keys ...string) {
	if out, err := s.run(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatalf("send-keys %v: %v: %s", keys, err, out)
	}
}

// waitFor polls the pane until it shows every string.
func (s *tmuxSession) waitFor(timeout time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.capture()
		ok := true
		for _, w := range want {
			if !strings.Contains(screen, w) {
				ok = false
			}
		}
		if ok {
			return screen
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("the pane never showed %q; it shows:\n%s", want, screen)
	return ""
}

func requireTmux(t *testing.T) {
	t.Helper()
	extern.Tool(t, "tmux", "Debian's tmux")
}

// TestTutorInTmux runs `slab` in a real terminal: the tutor opens on the
// sandbox, moves between steps, answers the check key, quits with Q and
// leaves the terminal as it found it (no alternate screen left behind).
func TestTutorInTmux(t *testing.T) {
	requireTmux(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "slab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(dir, "home")
	stateDir := filepath.Join(dir, "state")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("slab-test-%d-%d", os.Getpid(), time.Now().UnixNano()), name: "slab"}
	t.Cleanup(func() { _, _ = s.run("kill-server") })
	// The shell prints a marker once slab has exited, then keeps the pane
	// open so the test can see what the terminal looks like afterwards.
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("env -i PATH=%q HOME=%q TMPDIR=%q TERM=xterm-256color AWS_EC2_METADATA_DISABLED=true %q --state-dir %q; echo \"slab exited $?\"; exec sleep 120",
		os.Getenv("PATH"), home, tmp, bin, stateDir)
	startAt := time.Now()
	if out, err := s.run("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	s.waitFor(15*time.Second, "steps verified", "Overview")
	t.Logf("first frame after %v (tmux start included)", time.Since(startAt).Round(time.Millisecond))
	// A fresh lab opens on the overview; esc goes to step 1.
	s.waitFor(15*time.Second, "The lab at a glance", "The chain you build")
	s.keys("Escape")
	screen := s.waitFor(15*time.Second, "Step 1/8", "What and why", "SANDBOX 000000000000 us-east-1")
	if !strings.Contains(screen, "export AWS_ENDPOINT_URL=http://127.0.0.1:") {
		t.Errorf("the sandbox export line is not shown:\n%s", screen)
	}

	s.keys("j")
	s.waitFor(10*time.Second, "Step 2/8 · Create the DynamoDB table")
	// Perform the step from the tutor: the plan, the confirmation, the
	// progress, then the step's checks on what it made.
	s.keys("p")
	s.waitFor(15*time.Second, "Perform step 2: Create the DynamoDB table", "create DynamoDB table lambda-integration-data", "Perform it now?")
	s.keys("y")
	s.waitFor(20*time.Second, "✓ DynamoDB table lambda-integration-data · created", "Done.")
	s.keys("Enter")
	screen = s.waitFor(20*time.Second, "Checks · 4 passed", "✓ The table is ACTIVE", "step 2 verified (4 passed)")
	if !strings.Contains(screen, "1/8 steps verified") {
		t.Errorf("the header does not count the verified step:\n%s", screen)
	}
	// c checks again, read-only, with the same verdict.
	s.keys("c")
	s.waitFor(20*time.Second, "Checks · 4 passed", "✓ The table is on-demand")

	// p on step 4 names the missing steps and offers to do them first.
	s.keys("4", "p")
	s.waitFor(20*time.Second, "Step 4 needs step 1 (iam-role), 3 (s3-bucket) first", "Perform step 1, 3 first, then step 4?")
	s.keys("n")
	// y copies from the rendered lesson: wait for it (under load it can
	// take longer than the plan).
	s.waitFor(10*time.Second, "nothing performed", "Step 4/8", "What and why", "cmd 1/")
	// y without a clipboard program (no DISPLAY here) saves the command
	// to a private file and says where.
	s.keys("y")
	var saved []string
	for deadline := time.Now().Add(15 * time.Second); len(saved) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		saved, _ = filepath.Glob(filepath.Join(tmp, "slab-command-*.sh"))
	}
	if len(saved) != 1 {
		t.Errorf("no command file in %s:\n%s", tmp, s.capture())
	} else {
		if b, _ := os.ReadFile(saved[0]); !strings.HasPrefix(string(b), "export AWS_ENDPOINT_URL=http://127.0.0.1:") {
			t.Errorf("the saved command: %q", b)
		}
		s.waitFor(10*time.Second, "saved to "+tmp)
	}
	// At 80x24 the footer keeps ? help and quit.
	if out, err := s.run("resize-window", "-t", s.name, "-x", "80", "-y", "24"); err != nil {
		t.Fatalf("resize: %v %s", err, out)
	}
	s.waitFor(10*time.Second, "? help", "ctrl+c/Q quit", "←/→ steps")
	if out, err := s.run("resize-window", "-t", s.name, "-x", "120", "-y", "40"); err != nil {
		t.Fatalf("resize: %v %s", err, out)
	}
	s.keys("2")
	s.waitFor(10*time.Second, "Step 2/8")

	s.keys("Q")
	screen = s.waitFor(15*time.Second, "slab exited 0")
	for _, gone := range []string{"steps verified", "Step 2/8", "What and why"} {
		if strings.Contains(screen, gone) {
			t.Errorf("the tutor's screen is still there after quitting (%q):\n%s", gone, screen)
		}
	}
	if out, _ := s.run("display-message", "-p", "-t", s.name, "#{alternate_on}"); strings.TrimSpace(out) != "0" {
		t.Errorf("the terminal is still in the alternate screen: %q", out)
	}

	// Reopening resumes on the step the learner left.
	b, err := os.ReadFile(filepath.Join(stateDir, "state-sandbox.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Current   string            `json:"current"`
		Resources map[string]string `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Current != "dynamodb-table" {
		t.Errorf("state current %q (%v), want dynamodb-table", st.Current, err)
	}
	if got := st.Resources["table"]; got != "arn:aws:dynamodb:us-east-1:000000000000:table/lambda-integration-data" {
		t.Errorf("the state does not record the table the tutor made: %v", st.Resources)
	}
}
