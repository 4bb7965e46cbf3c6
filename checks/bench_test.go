package checks_test

import (
	"testing"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/sandbox"
)

// BenchmarkRun is one checks.Run of every regular check over a complete lab
// in an in-process sandbox, plain and with 50 ms per call: the checks' own
// share of `slab check` (BenchmarkCheckProcess in cmd/slab adds the process).
func BenchmarkRun(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run("latency="+latency.String(), func(b *testing.B) {
			env, srv := testenv.OpenWith(b, sandbox.Options{Latency: latency})
			f := testenv.FixtureFor(b, env, srv)
			n := f.Names()
			f.FullLab(n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rep := checks.Run(f.Ctx, env, n, checks.Options{Retries: -1})
				if rep.Summary.Pass != len(rep.Results) {
					b.Fatalf("not all passed: %+v", rep.Summary)
				}
			}
		})
	}
}
