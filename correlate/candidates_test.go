package correlate

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// heartbeatCaptures is n connections through a terminating hop (fresh keys at the second hop)
// that all carry the same heartbeats, so that only their timing tells them apart. Starts are
// irregular, as real clients connect, and the second hop's clock runs skew ahead.
func heartbeatCaptures(n int, skew time.Duration, regular bool) []Hop {
	specs := make([]connSpec, n)
	rnd := rand.New(rand.NewPCG(1, 2)) // fixed seed: the same captures every run
	start := 0
	for i := range specs {
		i := i
		start += 2 + rnd.IntN(5) // 2 to 6 ms apart, at random as clients connect
		if regular {
			start = i * 4
		}
		specs[i] = connSpec{startMs: start, everyMs: 100,
			c2s: same(`{"type":"heartbeat"}`, 6), s2c: same(`{"type":"heartbeat"}`, 6),
			keyAt: func(h int) string { return fmt.Sprintf("k%d-%06d==", h, i) }}
	}
	return hopsOf(simulate(simOpts{hops: 2, skew: []time.Duration{0, skew}}, specs))
}

// TestMatch_TimingOnly checks that thousands of connections with identical messages through a
// terminating hop are each joined to their own continuation, by time alone.
func TestMatch_TimingOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		skew  time.Duration
		given bool
	}{
		{"same clock", 0, false},
		{"given offset", 2500 * time.Millisecond, true},
		{"unknown offset", 2500 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 3000
			hops := heartbeatCaptures(n, tc.skew, false)
			if tc.given {
				hops[1].ClockOffset = &tc.skew
			}
			r := Compare(hops, Options{})
			if len(r.Connections) != n {
				t.Fatalf("%d connections, want %d (unmatched sessions stay apart)", len(r.Connections), n)
			}
			wrong := 0
			for _, c := range r.Connections {
				a, b := c.Hops.Get("hop0"), c.Hops.Get("hop1")
				if a == nil || b == nil || a.Key == nil || b.Key == nil {
					t.Fatalf("connection %d not matched across both hops", c.ID)
				}
				if strings.TrimPrefix(*a.Key, "k0-") != strings.TrimPrefix(*b.Key, "k1-") {
					wrong++
				}
			}
			if wrong > 0 {
				t.Errorf("%d of %d connections joined to another connection's continuation", wrong, n)
			}
			if r.Summary.Connections.Delivered != n {
				t.Errorf("delivered = %d, want %d", r.Summary.Connections.Delivered, n)
			}
		})
	}
}

// TestMatch_TimingAmbiguous checks that when neither messages nor timing can tell connections
// apart (identical heartbeats, clients starting every 4 ms like clockwork, clocks not given),
// the hop says that its pairing may be wrong instead of presenting it as certain.
func TestMatch_TimingAmbiguous(t *testing.T) {
	hops := heartbeatCaptures(500, 2500*time.Millisecond, true)
	r := Compare(hops, Options{})
	var found bool
	for _, w := range r.Hops[1].Warnings {
		found = found || strings.Contains(w, "pairing of connections may be wrong")
	}
	if !found {
		t.Errorf("hop1 warnings %q: want one saying the pairing may be wrong", r.Hops[1].Warnings)
	}
	// With random start times, the same connections pair without doubt.
	r = Compare(heartbeatCaptures(500, 2500*time.Millisecond, false), Options{})
	for _, h := range r.Hops {
		for _, w := range h.Warnings {
			if strings.Contains(w, "pairing") {
				t.Errorf("random starts: %s warns %q", h.Name, w)
			}
		}
	}
}

// TestMatch_RelayDelayVaries checks connections through a relay whose delay before opening its
// own connection grows with its load, from 10 to 110 ms over the capture, while clients start
// 2 ms apart: the offset estimated over the whole capture is then far from most pairs' own, and
// only their messages (each connection's own) tell the partner. Measured on python relays in
// examples/netlab/perf-relay.sh, where such captures were reported lost.
func TestMatch_RelayDelayVaries(t *testing.T) {
	const n = 400
	specs := make([]connSpec, n)
	for i := range specs {
		i := i
		specs[i] = connSpec{startMs: 2 * i, everyMs: 20,
			c2s: seq(fmt.Sprintf("c%d m", i), 6), s2c: seq(fmt.Sprintf("c%d r", i), 6),
			keyAt: func(h int) string { return fmt.Sprintf("k%d-%06d==", h, i) }}
	}
	caps := simulate(simOpts{hops: 2}, specs)
	for i, s := range caps[1].Sessions {
		d := 10*time.Millisecond + time.Duration(i)*n*time.Microsecond/4
		s.Start, s.End = s.Start.Add(d), s.End.Add(d)
		s.Request.Time, s.Response.Time = s.Request.Time.Add(d), s.Response.Time.Add(d)
		for _, dir := range capture.Directions {
			for k := range s.Messages(dir) {
				m := &s.Messages(dir)[k]
				m.First, m.Last = m.First.Add(d), m.Last.Add(d)
			}
		}
	}
	r := Compare(hopsOf(caps), Options{})
	if len(r.Connections) != n {
		t.Fatalf("%d connections, want %d (each joined to its continuation)", len(r.Connections), n)
	}
	for _, c := range r.Connections {
		a, b := c.Hops.Get("hop0"), c.Hops.Get("hop1")
		if a == nil || b == nil || a.Key == nil || b.Key == nil {
			t.Fatalf("connection %d not matched across both hops", c.ID)
		}
		if strings.TrimPrefix(*a.Key, "k0-") != strings.TrimPrefix(*b.Key, "k1-") {
			t.Errorf("connection %s joined to %s", *a.Key, *b.Key)
		}
	}
	if r.Summary.Connections.Delivered != n || r.Summary.Verdict != schema.Delivered {
		t.Errorf("summary %s, delivered %d: want delivered, %d", r.Summary.Verdict, r.Summary.Connections.Delivered, n)
	}
}
