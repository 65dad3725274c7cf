package correlate

import (
	"fmt"
	"testing"
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
			for _, ms := range s.Messages {
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
