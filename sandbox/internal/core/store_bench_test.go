package core

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkUpdate measures durable commits (each one fsynced before it
// returns) one at a time and from 16 goroutines, and how many commits
// each fsync carried.
func BenchmarkUpdate(b *testing.B) {
	for _, ways := range []int{1, 16} {
		b.Run(fmt.Sprintf("%d-way", ways), func(b *testing.B) {
			s, tb, err := openRows(b, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var flushes atomic.Int64
			testHookFlush = func() { flushes.Add(1) }
			defer func() { testHookFlush = nil }()
			var n atomic.Int64
			if ways == 1 {
				for b.Loop() {
					i := n.Add(1)
					if err := s.Update(func(tx *Tx) error { tb.Put(tx, strconv.FormatInt(i, 10), row{N: int(i)}); return nil }); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n.Load())/float64(max(flushes.Load(), 1)), "commits/fsync")
				return
			}
			b.SetParallelism((ways + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if err := s.Update(func(tx *Tx) error { tb.Put(tx, strconv.FormatInt(i, 10), row{N: int(i)}); return nil }); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(n.Load())/float64(max(flushes.Load(), 1)), "commits/fsync")
		})
	}
}
