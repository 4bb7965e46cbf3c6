package checks

import (
	"time"

	"github.com/slab-lab/slab/awsenv"
)

// Partial is the report of a run cut short by a deadline: the results that
// finished, and every other check o selects as an Error saying why. A
// grader bounds each student with it, since a check that does not heed its
// context (a CPU-bound evaluation of a huge document) must not hold the
// class past --timeout.
func Partial(env *awsenv.Env, o Options, started time.Time, done []Result, why string) Report {
	rep := Report{Started: started, Probe: o.Probe, Target: targetOf(env)}
	got := map[string]Result{}
	for _, r := range done {
		got[r.CheckID] = r
	}
	var results []Result
	for _, c := range Select(o) {
		if c.Probe && !o.Probe {
			continue
		}
		r, ok := got[c.ID]
		if !ok {
			r = finish(c, Result{Status: Error, Summary: why})
		}
		results = append(results, r)
	}
	rep.fill(results)
	rep.Duration = time.Since(started)
	return rep
}
