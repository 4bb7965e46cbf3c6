package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/internal/testenv"
)

// BenchmarkCheckProcess measures `slab check` as a learner runs it: a
// process of its own, against a `slab sandbox` process serving a complete
// lab, plain and with 50 ms added to every call (a real AWS round trip).
// Goals: under 300 ms plain, under 1 s with latency.
//
//	go test ./cmd/slab -run '^$' -bench CheckProcess -benchtime 10x
func BenchmarkCheckProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "slab")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("build slab: %v", err)
	}
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run("latency="+latency.String(), func(b *testing.B) {
			home := b.TempDir()
			stateDir := filepath.Join(home, "state")
			env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_DATA_HOME=" + filepath.Join(home, ".local"),
				"PATH=" + os.Getenv("PATH"), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
				"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"), "NO_COLOR=1"}
			addr := freeAddr(b)
			sb := exec.Command(bin, "--state-dir", stateDir, "sandbox", "--addr", addr, "--latency", latency.String())
			sb.Env = env
			if err := sb.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() {
				_ = sb.Process.Signal(os.Interrupt)
				done := make(chan struct{})
				go func() { _ = sb.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					_ = sb.Process.Kill()
				}
			}()
			url := "http://" + addr
			waitHealthy(b, url)

			target, err := awsenv.Load(context.Background(), awsenv.Target{Kind: awsenv.Sandbox, Endpoint: url})
			if err != nil {
				b.Fatal(err)
			}
			f := testenv.FixtureFor(b, target, nil)
			n := f.Names()
			f.FullLab(n)
			args := append(append([]string{"--state-dir", stateDir}, namesArgs(n)...), "check", "--format", "json")

			// One run outside the clock: it records the names in the state
			// file and checks that the lab passes.
			if out, _, err := runProcess(bin, env, args); err != nil {
				b.Fatalf("slab check: %v\n%s", err, out)
			}
			b.ResetTimer()
			start := time.Now()
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				out, used, err := runProcess(bin, env, args)
				if err != nil {
					b.Fatalf("slab check: %v\n%s", err, out)
				}
				cpu += used
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/check")
			// CPU time does not grow with the machine's load as wall time
			// does (the benchmark shares its cores with whatever else runs).
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/check")
		})
	}
}

func runProcess(bin string, env, args []string) (string, time.Duration, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil && !strings.Contains(string(out), `"kind": "sandbox"`) {
		err = fmt.Errorf("not checked against the running sandbox")
	}
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return string(out), cpu, err
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(b *testing.B, url string) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/_slab/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("sandbox at %s never became healthy", url)
}
