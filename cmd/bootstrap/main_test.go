package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchmarkColdInit measures a function's cold start in the bootstrap: from
// exec to its first request for an invocation (GET .../invocation/next),
// which is when Lambda's Init phase ends. Goal: under 10 ms. It reports the
// median, the 95th percentile and the maximum.
//
// SLAB_BOOTSTRAP_BIN measures another binary instead (slab itself, which
// older releases put in the zips).
//
//	go test ./cmd/bootstrap -run '^$' -bench ColdInit -benchtime 20x
func BenchmarkColdInit(b *testing.B) {
	bin := os.Getenv("SLAB_BOOTSTRAP_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "bootstrap")
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
	next := make(chan time.Time, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
			select {
			case next <- time.Now():
			default:
			}
		}
		<-r.Context().Done() // no invocation: the process is killed
	}))
	defer srv.Close()
	home := b.TempDir()
	once := func() time.Duration {
		cmd := exec.Command(bin)
		cmd.Env = []string{
			"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(srv.URL, "http://"), "_HANDLER=s3-processor", "HOME=" + home,
			"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDBENCH", "AWS_SECRET_ACCESS_KEY=secret", "TABLE_NAME=t",
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var at time.Time
		select {
		case at = <-next:
		case <-time.After(30 * time.Second):
			b.Fatal("the bootstrap never asked for an invocation")
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return at.Sub(start)
	}
	once()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = append(lat, once())
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*95/100)]), "p95-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
