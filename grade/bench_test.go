package grade_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slab-lab/slab/grade"
	"github.com/slab-lab/slab/lab"
)

// BenchmarkGrade200 grades 200 students (nothing done) against a sandbox
// answering every call after 50 ms, as a far-away region would.
// go test ./grade -run '^$' -bench Grade200 -benchtime 1x
func BenchmarkGrade200(b *testing.B) {
	c := newClass(b, 200, 50*time.Millisecond)
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			for b.Loop() {
				start := time.Now()
				rows := grade.Run(context.Background(), c.students, grade.Options{Base: c.base(), Names: lab.DefaultNames(), Concurrency: conc, Rubric: &grade.Rubric{}})
				if len(rows) != 200 {
					b.Fatalf("%d rows", len(rows))
				}
				for _, r := range rows {
					if r.Error != "" || r.Summary.Error > 0 {
						b.Fatalf("%s: %s %+v", r.Student, r.Error, r.Summary)
					}
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/class")
				var sum int64
				for _, r := range rows {
					sum += r.DurationMS
				}
				b.ReportMetric(float64(sum)/float64(len(rows)), "ms/student")
			}
		})
	}
}
