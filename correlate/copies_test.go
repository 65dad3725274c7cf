package correlate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/schema"
)

// TestCompare_CopiesPlacedByTime: connections of identical heartbeats only, one copy dropped.
// The copy is named by time (its index and time as the hop before saw it), not by order (the
// last copy, which a close right after would make read as cut off by the close); behind a relay
// with its own handshake, whose own delay no pair of its connection tells, by the delay the
// other connections show. And the relay answering the client before it opens its own connection
// is no evidence that the hops are listed the wrong way round.
func TestCompare_CopiesPlacedByTime(t *testing.T) {
	for _, relay := range []bool{false, true} {
		conns := []connSpec{
			{key: keyN(1), c2s: same("beat", 12), s2c: same("ack", 12), everyMs: 200},
			{key: keyN(2), startMs: 7, c2s: same("beat", 12), s2c: same("ack", 12), everyMs: 200, dropC2S: map[int]int{3: 2}},
			{key: keyN(3), startMs: 14, c2s: same("beat", 12), s2c: same("ack", 12), everyMs: 200, dropS2C: map[int]int{7: 1}},
		}
		for i := range conns {
			k := conns[i].key
			if relay {
				conns[i].keyAt = func(h int) string {
					if h == 2 {
						return "up-" + k
					}
					return k
				}
			}
		}
		caps := simulate(simOpts{hops: 3, latency: 3 * time.Millisecond}, conns)
		for _, c := range caps {
			for i, s := range c.Sessions {
				s.Request.Path = fmt.Sprintf("/chat/%d", i+1) // what tells the relay's connections apart
			}
		}
		if relay {
			// The relay (between hop1 and hop2) answers the client at once, and only then
			// opens its own connection.
			for h := 0; h < 2; h++ {
				for _, s := range caps[h].Sessions {
					s.Response.Time = s.Request.Time.Add(time.Duration(2-h) * time.Millisecond)
				}
			}
		}
		r := Compare(hopsOf(caps), Options{})
		if len(r.Refused) > 0 {
			t.Fatalf("relay %v: refused: %v", relay, r.Refused)
		}
		want := map[string][2]int{keyN(2): {3, -1}, keyN(3): {-1, 7}}
		for _, c := range r.Connections {
			for d, dr := range []schema.DirectionResult{c.Directions.ClientToServer, c.Directions.ServerToClient} {
				w := want[*c.Key][d]
				if _, ok := want[*c.Key]; !ok || w < 0 {
					if dr.Verdict != schema.Delivered {
						t.Errorf("relay %v: %s dir %d: %s, want delivered (%s)", relay, *c.Key, d, dr.Verdict, dr.Reason)
					}
					continue
				}
				hop := []string{"hop2", "hop1"}[d]
				gotHop, gotIndex := "-", -1
				if dr.FirstMissingHop != nil && dr.Index != nil {
					gotHop, gotIndex = *dr.FirstMissingHop, *dr.Index
				}
				if dr.Verdict != schema.Lost || dr.Missing != 1 || gotHop != hop || gotIndex != w || strings.Contains(dr.Reason, "not known") {
					t.Errorf("relay %v: %s dir %d: %s %d at %s index %d, want lost 1 at %s index %d (%s)",
						relay, *c.Key, d, dr.Verdict, dr.Missing, gotHop, gotIndex, hop, w, dr.Reason)
				}
			}
		}
	}
}

// TestRetimeCopies_Ambiguous: where times cannot tell the copies apart (no known delay, or one
// that does not single a copy out), the run stays paired in order and is reported as such.
func TestRetimeCopies_Ambiguous(t *testing.T) {
	beat := func(ms ...int) []item {
		var s []item
		for _, m := range ms {
			s = append(s, item{digest: [8]byte{1}, length: 4, t: int64(1000+m) * 1e6})
		}
		return s
	}
	a := beat(0, 100, 200, 300, 400)
	tests := []struct {
		name     string
		b        []item
		delay    int64
		known    bool
		unplaced int
		mb       []int
	}{
		{name: "placed", b: beat(2, 102, 302, 402), delay: 2e6, known: true, mb: []int{0, 1, 3, 4}},
		{name: "no delay", b: beat(2, 102, 302, 402), mb: []int{0, 1, 2, 3}, unplaced: 1},
		{name: "delay half a spacing off", b: beat(2, 102, 302, 402), delay: 52e6, known: true, mb: []int{0, 1, 2, 3}, unplaced: 1},
	}
	for _, tt := range tests {
		al := alignHoles(a, tt.b, 2*time.Second)
		un := retimeCopies(a, tt.b, &al, func(int) (int64, bool) { return tt.delay, tt.known })
		if len(un) != tt.unplaced || !slices.Equal(al.mb, tt.mb) {
			t.Errorf("%s: pairs %v, %d left in order; want %v, %d", tt.name, al.mb, len(un), tt.mb, tt.unplaced)
		}
	}
}
