package correlate

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_UnpairedThroughRelay checks a connection not found at the hop after a relay that
// opens its own upstream connection (a fresh key), all connections opening with the same
// messages: when that hop holds sessions paired with nothing before it, in the time the
// connection's continuation would have begun, the connection is undecided, not lost; without
// such a session (a real drop) it stays lost.
func TestCompare_UnpairedThroughRelay(t *testing.T) {
	// Irregular starts pin the clock offset; the messages are the same on every connection.
	starts := []int{0, 23, 41, 70, 88, 117, 131, 160}
	n := len(starts)
	// late moves the connection's session at hop 1 later by d: the relay was slow to open it.
	late := func(ci int, d time.Duration) func(caps []*capture.Capture) {
		return func(caps []*capture.Capture) { shift(caps[1].Sessions[ci], d) }
	}
	// gone removes the connection's session at hop 1: the relay never opened it.
	gone := func(ci int) func(caps []*capture.Capture) {
		return func(caps []*capture.Capture) { caps[1].Sessions[ci] = nil }
	}
	tests := []struct {
		name     string
		keepKeys bool                            // the hop passes the key through (no terminating hop)
		silent   bool                            // the connections carry no message: only the handshake tells
		tweaks   []func(caps []*capture.Capture) // applied to the crafted captures
		unpaired []int                           // connections (by client start) undecided at hop1
		lost     []int                           // connections lost before hop1
		warning  string                          // a warning hop1 carries, "" for none
	}{
		{name: "relay slow to open three", tweaks: []func([]*capture.Capture){late(5, 300*time.Millisecond), late(6, 300*time.Millisecond), late(7, 300*time.Millisecond)},
			unpaired: []int{5, 6, 7}, warning: "3 connections seen from hop1 onward were not paired with any at hop0"},
		{name: "relay slow to open one", tweaks: []func([]*capture.Capture){late(7, 400*time.Millisecond)},
			unpaired: []int{7}, warning: "1 connections seen from hop1 onward were not paired with any at hop0"},
		{name: "handshakes only, relay slow to open two", silent: true, tweaks: []func([]*capture.Capture){late(6, 300*time.Millisecond), late(7, 300*time.Millisecond)},
			unpaired: []int{6, 7}, warning: "2 connections seen from hop1 onward were not paired with any at hop0"},
		{name: "handshakes only, relay dropped one", silent: true, tweaks: []func([]*capture.Capture){gone(2)}, lost: []int{2}},
		{name: "relay dropped one", tweaks: []func([]*capture.Capture){gone(3)}, lost: []int{3}},
		{name: "unpaired session long after", tweaks: []func([]*capture.Capture){late(7, 5*time.Second)}, lost: []int{7}},
		{name: "key kept: another key is no partner", keepKeys: true, tweaks: []func([]*capture.Capture){func(caps []*capture.Capture) {
			// A connection of its own at hop1, at the time the dropped one would have been there.
			s := *caps[1].Sessions[3]
			r := *s.Request
			r.Key, s.Request, s.ID = keyN(99), &r, 99
			for _, d := range capture.Directions {
				s.SetMessages(d, slices.Clone(s.Messages(d)))
				for i := range s.Messages(d) {
					s.Messages(d)[i].Digest = sha256.Sum256([]byte("other"))
				}
			}
			caps[1].Sessions = append(caps[1].Sessions, &s)
		}, gone(3)}, lost: []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			specs := make([]connSpec, n)
			for i := range specs {
				specs[i] = connSpec{key: keyN(i), startMs: starts[i], c2s: same("hello", 3), s2c: same("ok", 3)}
				if tc.silent {
					specs[i].c2s, specs[i].s2c = nil, nil
				}
				if !tc.keepKeys {
					i := i
					specs[i].keyAt = func(h int) string { return keyN(100*h + i) } // the relay's own key
				}
			}
			caps := simulate(simOpts{hops: 2, latency: 10 * time.Millisecond}, specs)
			for _, tw := range tc.tweaks {
				tw(caps)
			}
			kept := caps[1].Sessions[:0]
			for _, s := range caps[1].Sessions {
				if s != nil {
					kept = append(kept, s)
				}
			}
			caps[1].Sessions = kept
			r := Compare(hopsOf(caps), Options{MaxClockSkew: 100 * time.Millisecond})
			// The connections seen at hop0, by start: the first n of the report's order that
			// have a session there.
			var at0 []schema.Connection
			for _, c := range r.Connections {
				if v := c.Hops.Get("hop0"); v != nil {
					at0 = append(at0, c)
				}
			}
			if len(at0) != n {
				t.Fatalf("%d connections at hop0, want %d", len(at0), n)
			}
			for i, c := range at0 {
				c2s, s2c := c.Directions.ClientToServer, c.Directions.ServerToClient
				name := fmt.Sprintf("connection %d", i)
				missing := 3 // each of the connection's messages is undecided
				if tc.silent {
					missing = 0 // the handshake is
				}
				switch {
				case contains(tc.unpaired, i):
					checkDir(t, name+" c2s", c2s, dirWant{verdict: schema.Undecided, firstMiss: "hop1", missing: missing, index: -1, low: true,
						reason: fmt.Sprintf("hop1 has %d connections not paired with any at hop0 in that time; their pairing through a terminating hop is uncertain", len(tc.unpaired))})
					if !hasNote(c2s.Evidence.Notes, "warning at hop1") {
						t.Errorf("%s: notes %q lack hop1's warning", name, c2s.Evidence.Notes)
					}
				case contains(tc.lost, i):
					checkDir(t, name+" c2s", c2s, dirWant{verdict: schema.Lost, firstMiss: "hop1", index: -1,
						reason: "never reached hop1: the connection was never set up beyond hop0"})
				default:
					checkDir(t, name+" c2s", c2s, delivered)
				}
				// The answer came from the relay: what hop0 shows is still reported.
				checkDir(t, name+" s2c", s2c, delivered)
			}
			var warned bool
			for _, h := range r.Hops {
				for _, w := range h.Warnings {
					if strings.Contains(w, "were not paired with any at") {
						warned = warned || (h.Name == "hop1" && tc.warning != "" && strings.Contains(w, tc.warning))
						if h.Name != "hop1" || tc.warning == "" || !strings.Contains(w, tc.warning) {
							t.Errorf("unexpected warning at %s: %s", h.Name, w)
						}
					}
				}
			}
			if tc.warning != "" && !warned {
				t.Errorf("hop1 lacks the warning %q", tc.warning)
			}
			if tc.lost != nil && r.Summary.Connections.Lost != len(tc.lost) {
				t.Errorf("summary lost = %d, want %d", r.Summary.Connections.Lost, len(tc.lost))
			}
		})
	}
}

// shift moves everything a session saw later by d.
func shift(s *capture.Session, d time.Duration) {
	s.Start, s.End = s.Start.Add(d), s.End.Add(d)
	if s.Request != nil {
		r := *s.Request
		r.Time = r.Time.Add(d)
		s.Request = &r
	}
	if s.Response != nil {
		r := *s.Response
		r.Time = r.Time.Add(d)
		s.Response = &r
	}
	for _, dir := range capture.Directions {
		for i := range s.Messages(dir) {
			m := &s.Messages(dir)[i]
			m.First, m.Last = m.First.Add(d), m.Last.Add(d)
		}
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func hasNote(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}
