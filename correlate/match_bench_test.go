package correlate

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// terminatingCaptures is n connections through a terminating hop: two hops whose keys differ
// (the second hop's component made a fresh handshake upstream), so every connection is matched by
// time and message digests. Connections start every 3 ms and each carries 6 small messages each
// way over 600 ms, so about 200 are open at once, as on a busy chat gateway.
func terminatingCaptures(n int, identical bool) []Hop {
	specs := make([]connSpec, n)
	for i := range specs {
		i := i
		c2s := seq(fmt.Sprint("c", i), 6)
		s2c := seq(fmt.Sprint("s", i), 6)
		if identical {
			c2s, s2c = same(`{"type":"heartbeat"}`, 6), same(`{"type":"heartbeat"}`, 6)
		}
		specs[i] = connSpec{startMs: i * 3, everyMs: 100, c2s: c2s, s2c: s2c,
			keyAt: func(h int) string { return fmt.Sprintf("k%d-%06d==", h, i) }}
	}
	return hopsOf(simulate(simOpts{hops: 2}, specs))
}

func BenchmarkMatchTerminating(b *testing.B) {
	for _, n := range []int{2000, 5000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			hops := compactHops(terminatingCaptures(n, false))
			b.ReportAllocs()
			b.ResetTimer()
			var peak float64
			var cpu time.Duration
			for b.Loop() {
				runtime.GC() // the peak is what Compare makes of the captures, not their making
				stop, t0 := peakHeap(), cpuTime()
				r := Compare(hops, Options{})
				cpu += cpuTime() - t0
				peak = stop()
				if r.Summary.Connections.Delivered != n {
					b.Fatalf("delivered = %d, want %d", r.Summary.Connections.Delivered, n)
				}
			}
			// The peak of the whole heap, the captures given included, as the target is.
			b.ReportMetric(peak, "peak-heap-MB")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
