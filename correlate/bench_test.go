package correlate

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// benchCaptures is 1000 connections over 5 hops with 100 messages each (60 client to server, 40
// back), every tenth connection without its key at the middle hop, and some losses.
func benchCaptures() ([]Hop, int64) {
	specs := make([]connSpec, 1000)
	for i := range specs {
		i := i
		specs[i] = connSpec{key: keyN(i), startMs: i * 7, everyMs: 50,
			c2s: append(same(`{"type":"typing"}`, 30), seq(fmt.Sprint("c", i), 30)...),
			s2c: append(same(`{"type":"heartbeat"}`, 20), seq(fmt.Sprint("s", i), 20)...)}
		if i%10 == 0 {
			specs[i].keyAt = func(h int) string {
				if h == 2 {
					return ""
				}
				return keyN(i)
			}
		}
		if i%50 == 7 {
			specs[i].dropC2S = map[int]int{40: 3}
		}
	}
	caps := simulate(simOpts{hops: 5}, specs)
	var n int64
	for _, c := range caps {
		for _, s := range c.Sessions {
			for _, d := range capture.Directions {
				ms := s.Messages(d)
				for _, m := range ms {
					n += m.WireLength
				}
			}
		}
	}
	return hopsOf(caps), n
}

func BenchmarkCompare(b *testing.B) {
	hops, n := benchCaptures()
	b.ReportAllocs()
	b.SetBytes(n)
	b.ResetTimer()
	for b.Loop() {
		r := Compare(hops, Options{})
		if r.Summary.Connections.Lost != 20 {
			b.Fatalf("lost connections = %d, want 20", r.Summary.Connections.Lost)
		}
	}
}

// BenchmarkCompare_4Hops is the comparison alone over four hops of 100 connections carrying
// 2,000 small messages each (200k messages a hop), one lost. Per message and hop, it reports
// the heap the comparison allocates (alloc-B/msg) and its peak (peak-B/msg), beyond the captures
// it is given, and what comparing keeps once the messages are aligned (kept-B/msg): the hops'
// Entries, as a Compact read gives them, and what Analyze holds for the verdicts (the rest of a
// read's memory per message is BenchmarkRead_BytesPerMessage's).
func BenchmarkCompare_4Hops(b *testing.B) {
	specs := make([]connSpec, 100)
	for i := range specs {
		specs[i] = connSpec{key: keyN(i), startMs: i * 3, everyMs: 5,
			c2s: seq(fmt.Sprint("c", i, "-"), 1000), s2c: seq(fmt.Sprint("s", i, "-"), 1000)}
	}
	specs[7].dropC2S = map[int]int{500: 2}
	caps := simulate(simOpts{hops: 4}, specs)
	var bytes, msgs int64
	for _, c := range caps {
		for _, s := range c.Sessions {
			for _, d := range capture.Directions {
				ms := s.Messages(d)
				for _, m := range ms {
					bytes += m.WireLength
					msgs++
				}
			}
		}
	}
	hops := compactHops(hopsOf(caps))
	var st runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&st)
	before := st.HeapAlloc
	a := Analyze(hops, Options{})
	runtime.GC()
	runtime.ReadMemStats(&st)
	kept := float64(st.HeapAlloc-before) / float64(msgs) // the Analysis
	runtime.KeepAlive(a)
	a = nil
	for _, h := range hops {
		for _, s := range h.Capture.Sessions {
			for _, d := range capture.Directions {
				kept += float64(len(s.Entries(d))) * float64(unsafe.Sizeof(capture.Entry{})) / float64(msgs)
			}
		}
	}
	b.ReportAllocs()
	b.SetBytes(bytes)
	b.ResetTimer()
	var alloc uint64
	var peak float64
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&st)
		before, live := st.TotalAlloc, st.HeapAlloc
		stop := peakHeap()
		r := Compare(hops, Options{})
		peak = stop() - float64(live)/1e6
		runtime.ReadMemStats(&st)
		alloc = st.TotalAlloc - before
		if r.Summary.Connections.Lost != 1 {
			b.Fatalf("lost connections = %d, want 1", r.Summary.Connections.Lost)
		}
	}
	b.ReportMetric(float64(alloc)/float64(msgs), "alloc-B/msg")
	b.ReportMetric(peak*1e6/float64(msgs), "peak-B/msg")
	b.ReportMetric(kept, "kept-B/msg")
}

// BenchmarkCompare_LongLoss is one connection of 20000 messages whose last 10000 never reach the
// third hop: the search for changed messages must not rescan the loss for every lost message.
func BenchmarkCompare_LongLoss(b *testing.B) {
	const n = 20000
	drop := map[int]int{}
	for i := n / 2; i < n; i++ {
		drop[i] = 2
	}
	caps := simulate(simOpts{hops: 4}, []connSpec{{key: keyN(1), c2s: seq("m", n), everyMs: 1, dropC2S: drop}})
	hops := hopsOf(caps)
	b.ReportAllocs()
	b.SetBytes(int64(n * 8 * 4))
	b.ResetTimer()
	for b.Loop() {
		r := Compare(hops, Options{})
		if d := r.Connections[0].Directions.ClientToServer; d.Verdict != schema.Lost || d.Missing != n/2 {
			b.Fatalf("verdict %s, %d missing; want lost, %d", d.Verdict, d.Missing, n/2)
		}
	}
}

// compactHops turns crafted captures into what a Compact read gives: Entries, no Messages.
func compactHops(hops []Hop) []Hop {
	for _, h := range hops {
		c := h.Capture
		for i, s := range c.Sessions {
			s = capture.WithEntries(s)
			s.SetMessages(capture.ClientToServer, nil)
			s.SetMessages(capture.ServerToClient, nil)
			c.Sessions[i] = s
		}
	}
	return hops
}

// peakHeap samples the heap's live objects every few milliseconds until stop is called, which
// returns the largest value seen, in MB.
func peakHeap() (stop func() float64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			top = max(top, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- top
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		return float64(<-peak) / 1e6
	}
}

// cpuTime is the CPU time the process has used (user and system, all threads: the garbage
// collector's too), which a machine shared with other work disturbs less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
