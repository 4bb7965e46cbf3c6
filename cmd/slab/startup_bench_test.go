package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/internal/extern"
)

// BenchmarkStartupToFirstFrame measures the real binary from exec to the
// tutor's first full frame, in a 120x40 tmux pane, on the embedded sandbox,
// with a warm state file (a first run made it). The binary reports the frame
// through SLAB_FIRST_FRAME_FILE, so tmux's own start and pane polling are
// not counted. Goal: under 150 ms. It also reports the quit: from the Q key
// to the process gone (goal: under 50 ms).
func BenchmarkStartupToFirstFrame(b *testing.B) {
	extern.Tool(b, "tmux", "Debian's tmux")
	dir := b.TempDir()
	bin := filepath.Join(dir, "slab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	home, stateDir := filepath.Join(dir, "home"), filepath.Join(dir, "state")
	if err := os.MkdirAll(home, 0o700); err != nil {
		b.Fatal(err)
	}
	socket := fmt.Sprintf("slab-bench-%d", os.Getpid())
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
		return string(out), err
	}
	b.Cleanup(func() { _, _ = tmux("kill-server") })
	// The pane stays after slab exits so that a server is always there to
	// take the next run's window.
	if out, err := tmux("new-session", "-d", "-s", "keep", "-x", "120", "-y", "40", "sleep", "3600"); err != nil {
		b.Fatalf("tmux: %v: %s", err, out)
	}
	once := func(i int) (time.Duration, time.Duration) {
		mark := filepath.Join(dir, fmt.Sprintf("frame-%d", i))
		script := fmt.Sprintf("env -i PATH=%q HOME=%q TERM=xterm-256color AWS_EC2_METADATA_DISABLED=true %s=%q %q --state-dir %q",
			os.Getenv("PATH"), home, firstFrameEnv, mark, bin, stateDir)
		start := time.Now()
		if out, err := tmux("new-window", "-d", "-t", "keep", "-n", fmt.Sprintf("w%d", i), "sh", "-c", script); err != nil {
			b.Fatalf("tmux new-window: %v: %s", err, out)
		}
		var took time.Duration
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			if raw, err := os.ReadFile(mark); err == nil && len(raw) > 0 {
				ns, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
				if err != nil {
					b.Fatalf("first-frame file: %v", err)
				}
				took = time.Unix(0, ns).Sub(start)
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("slab drew no frame within 20 s")
			}
		}
		// Quit, and wait for the window to close (the process has exited,
		// its sandbox closed): the next run needs the sandbox's port and
		// data directory free again. The wait is the quit's time.
		quit := time.Now()
		_, _ = tmux("send-keys", "-t", fmt.Sprintf("keep:w%d", i), "Q")
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if out, _ := tmux("list-windows", "-t", "keep", "-F", "#{window_name}"); !strings.Contains(out, fmt.Sprintf("w%d\n", i)) {
				break
			}
		}
		return took, time.Since(quit)
	}
	once(-1) // the warm state file
	b.ResetTimer()
	var total time.Duration
	quits := make([]time.Duration, 0, b.N)
	frames := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		frame, quit := once(i)
		total += frame
		quits = append(quits, quit)
		frames = append(frames, frame)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/first-frame")
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	b.ReportMetric(float64(frames[len(frames)/2].Microseconds())/1000, "frame-p50-ms")
	b.ReportMetric(float64(frames[min(len(frames)-1, len(frames)*95/100)].Microseconds())/1000, "frame-p95-ms")
	b.ReportMetric(float64(frames[len(frames)-1].Microseconds())/1000, "frame-max-ms")
	// The quit includes tmux noticing the exit and answering list-windows.
	sort.Slice(quits, func(i, j int) bool { return quits[i] < quits[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(quits[len(quits)/2]), "quit-p50-ms")
	b.ReportMetric(ms(quits[min(len(quits)-1, len(quits)*95/100)]), "quit-p95-ms")
	b.ReportMetric(ms(quits[len(quits)-1]), "quit-max-ms")
}
