package correlate

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// streamOf lays out the messages named by names ('t', 'h': repeated payloads, other letters
// distinct ones) as one hop's TCP stream would carry them, each frame 6 bytes longer than its
// payload, 10ms apart, and returns the items of the hop (src) that captured all but those in
// missing: the first item after a run of missing ones has the run's bytes as its hole, of the
// given reason.
func streamOf(names string, src int, missing map[int]bool, reason capture.GapReason) []item {
	var out []item
	var off, hole uint64
	for i, c := range names {
		n := uint64(4 + strings.IndexRune("thabcdefghijklmnopqrstuvwxyz", c))
		frame := n + 6
		if missing[i] {
			hole += frame
			off += frame
			continue
		}
		it := item{digest: capture.Digest(sha256.Sum256([]byte{byte(c)})).Prefix(), length: int64(n), t: base().Add(time.Duration(i) * 10 * time.Millisecond).UnixNano(),
			src: src, off: off, end: off + frame, raw: off, hole: hole, holeKnown: true}
		if hole > 0 {
			it.holeGap = reason
		}
		out = append(out, it)
		off += frame
		hole = 0
	}
	return out
}

// positions returns, for a stream with the messages in missing left out, the full-stream index
// of each item kept.
func positions(n int, missing map[int]bool) []int {
	var out []int
	for i := 0; i < n; i++ {
		if !missing[i] {
			out = append(out, i)
		}
	}
	return out
}

func set(idx ...int) map[int]bool {
	m := map[int]bool{}
	for _, i := range idx {
		m[i] = true
	}
	return m
}

// TestAlignHoles_RepeatedPayloads: two hops watching the same TCP stream, one of which lost a
// run of packets to its capture: every message it has must pair with its own copy upstream, not
// with the first identical one, whatever the hole's reason, and whichever hop has the hole.
func TestAlignHoles_RepeatedPayloads(t *testing.T) {
	const chatter = "thtathtbthtcthtdthtethtf"
	tests := []struct {
		name    string
		names   string
		missing map[int]bool
	}{
		{name: "inside_a_run", names: chatter, missing: set(4, 5, 6)},
		{name: "numbered_swallowed", names: chatter, missing: set(2, 3, 4, 5, 6, 7, 8)},
		{name: "at_the_start", names: "tttthtttt", missing: set(0)},
		{name: "only_copies", names: "tttttttttttt", missing: set(3, 4)},
		{name: "two_holes", names: chatter, missing: set(1, 2, 13, 14, 15, 16, 17)},
		{name: "at_the_end", names: chatter, missing: set(21, 22, 23)},
		{name: "one_copy_between_holes", names: "tttttttttt", missing: set(2, 3, 5, 6)},
	}
	reasons := []capture.GapReason{capture.GapAcked, capture.GapSnaplen, capture.GapBufferLimit, capture.GapLost}
	for _, tt := range tests {
		for _, r := range reasons {
			full := streamOf(tt.names, 0, nil, r)
			holed := streamOf(tt.names, 1, tt.missing, r)
			pos := positions(len(tt.names), tt.missing)
			t.Run(tt.name+"/"+r.String()+"/hole_downstream", func(t *testing.T) {
				al := alignHoles(full, holed, time.Second)
				if !slices.Equal(al.mb, pos) {
					t.Errorf("pairs %v, want %v", al.mb, pos)
				}
				if slices.Contains(al.unsureA, true) || slices.Contains(al.unsureB, true) {
					t.Errorf("offsets place every copy, yet unsure a %v b %v", al.unsureA, al.unsureB)
				}
			})
			t.Run(tt.name+"/"+r.String()+"/hole_upstream", func(t *testing.T) {
				al := alignHoles(holed, full, time.Second)
				want := make([]int, len(full))
				for j := range want {
					want[j] = slices.Index(pos, j) // -1 for the messages in the hole
				}
				if !slices.Equal(al.mb, want) {
					t.Errorf("pairs %v, want %v", al.mb, want)
				}
			})
		}
	}
}

// TestAlignHoles_Unplaceable: when offsets cannot be compared (the hops' streams differ, no
// message appears once on both sides to anchor them) and times do not tell the copies apart,
// the pairs made across the hole are marked unsure instead of passing for facts.
func TestAlignHoles_Unplaceable(t *testing.T) {
	full := streamOf("tttttttt", 0, nil, capture.GapAcked)
	holed := streamOf("tttttttt", 1, set(2, 3), capture.GapAcked)
	for i := range holed {
		holed[i].holeKnown = false // offsets of another stream: nothing to compare
		holed[i].t = full[0].t     // and no time to go by
	}
	holed[2].hole = 1 // the hole is still known to be there
	al := alignHoles(full, holed, time.Second)
	if al.matched != len(holed) {
		t.Errorf("matched %d, want %d", al.matched, len(holed))
	}
	if !slices.Contains(al.unsureB, true) {
		t.Errorf("no pair marked unsure: %v", al.unsureB)
	}
	if slices.Contains(al.unsureB[:2], true) {
		t.Errorf("pairs before the hole marked unsure: %v", al.unsureB)
	}
}

// TestAlignHoles_RealDropStaysInOrder: a message a component dropped leaves no hole; the pairing
// of identical copies around it stays in order and sure, as before.
func TestAlignHoles_RealDropStaysInOrder(t *testing.T) {
	a := streamOf("tatbtc", 0, nil, capture.GapAcked)
	b := streamOf("tabtc", 1, nil, capture.GapAcked) // the second t never sent: offsets shift
	al := alignHoles(a, b, time.Second)
	if want := []int{0, 1, 3, 4, 5}; !slices.Equal(al.mb, want) {
		t.Errorf("pairs %v, want %v", al.mb, want)
	}
	if slices.Contains(al.unsureB, true) {
		t.Errorf("unsure %v without a hole", al.unsureB)
	}
}

// holeAt removes messages from..to-1 of direction dir of hop h's only session and records the
// bytes they took as a TCP gap of the given reason.
func holeAt(caps []*capture.Capture, h int, dir capture.Direction, from, to int, r capture.GapReason) {
	s := caps[h].Sessions[0]
	ms := s.Messages(dir)
	g := capture.Gap{Offset: ms[from].Offset, Length: ms[to-1].End - ms[from].Offset, Time: ms[from].First, Reason: r}
	// Gaps are in stream order, as the capture stage gives them, whatever order holes are made in.
	a := s.TCP[dir].Anomalies()
	a.Gaps = append(a.Gaps, g)
	slices.SortFunc(a.Gaps, func(x, y capture.Gap) int { return cmp.Compare(x.Offset, y.Offset) })
	s.TCP[dir].SetAnomalies(a)
	s.SetMessages(dir, slices.Delete(slices.Clone(ms), from, to))
	for i := range s.Messages(dir) {
		s.Messages(dir)[i].Index = i
	}
}

// TestCompare_CaptureHoles: a hop whose capture has a hole where repeated messages would be is
// a capture gap there, in either direction (the hop first or last in travel order), for every
// reason a capture lacks bytes; a hole the receiver never acknowledged at the last hop is a loss.
func TestCompare_CaptureHoles(t *testing.T) {
	payloads := []string{"typing", "beat", "typing", "n-3", "typing", "beat", "typing", "n-7", "typing", "beat", "typing", "n-11"}
	tests := []struct {
		reason  capture.GapReason
		word    string
		verdict schema.VerdictKind
	}{
		{capture.GapAcked, "reason acked", schema.CaptureGap},
		{capture.GapSnaplen, "reason snaplen", schema.CaptureGap},
		{capture.GapBufferLimit, "reason buffer_limit", schema.CaptureGap},
		{capture.GapLost, "never reached hop1", schema.Lost},
	}
	for _, tt := range tests {
		t.Run(tt.reason.String(), func(t *testing.T) {
			caps := simulate(simOpts{hops: 2}, []connSpec{{key: keyN(1), c2s: payloads, s2c: payloads}})
			// hop1 lacks messages 4, 5, 6 both ways: last in travel order for client to server,
			// first for server to client.
			holeAt(caps, 1, capture.ClientToServer, 4, 7, tt.reason)
			holeAt(caps, 1, capture.ServerToClient, 4, 7, tt.reason)
			r := Compare(hopsOf(caps), Options{})
			if len(r.Connections) != 1 {
				t.Fatalf("%d connections, want 1", len(r.Connections))
			}
			d := r.Connections[0].Directions
			checkDir(t, "client_to_server", d.ClientToServer, dirWant{verdict: tt.verdict, firstMiss: "hop1", missing: 3, index: 4, reason: tt.word})
			// Server to client: hop0, further along, has them; hop1's capture missed them, also
			// for a hole hop1 never saw acknowledged.
			word := tt.word
			if tt.reason == capture.GapLost {
				word = "reason lost"
			}
			checkDir(t, "server_to_client", d.ServerToClient, dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 3, index: 4, reason: word})
		})
	}
}

// TestCompare_HolesInBothOrders: the two captures of one spot, one with holes, listed either way
// round: only delivered or capture_gap, never lost or closed.
func TestCompare_HolesInBothOrders(t *testing.T) {
	var payloads []string
	for i := 0; i < 60; i++ {
		switch {
		case i%4 == 3:
			payloads = append(payloads, fmt.Sprintf("n-%d", i))
		case i%2 == 0:
			payloads = append(payloads, "typing")
		default:
			payloads = append(payloads, "beat")
		}
	}
	for _, tc := range []struct {
		first    int
		unlisted bool // the gap list names only the first hole (the capture stage keeps 64)
	}{{0, false}, {1, false}, {0, true}, {1, true}} {
		t.Run(fmt.Sprintf("holed_hop%d_unlisted_%v", tc.first, tc.unlisted), func(t *testing.T) {
			first := tc.first
			caps := simulate(simOpts{hops: 2, latency: time.Nanosecond}, []connSpec{{key: keyN(1), c2s: payloads, s2c: payloads}})
			for _, dir := range capture.Directions {
				holeAt(caps, first, dir, 40, 45, capture.GapAcked)
				holeAt(caps, first, dir, 20, 26, capture.GapAcked)
				holeAt(caps, first, dir, 5, 7, capture.GapAcked)
				if tc.unlisted {
					s := caps[first].Sessions[0]
					a := s.TCP[dir].Anomalies()
					a.GapsDropped, a.Gaps = len(a.Gaps)-1, a.Gaps[:1]
					s.TCP[dir].SetAnomalies(a)
					s.TCP[dir].End = s.TCP[dir].Bytes
				}
			}
			r := Compare(hopsOf(caps), Options{})
			if len(r.Refused) > 0 || len(r.Connections) != 1 {
				t.Fatalf("refused %q, %d connections: want one connection compared", r.Refused, len(r.Connections))
			}
			for _, c := range r.Connections {
				for _, d := range []schema.DirectionResult{c.Directions.ClientToServer, c.Directions.ServerToClient} {
					if tc.unlisted {
						// Holes the gap list does not name: their reason is unknown, so the
						// messages in them are undecided (or capture_gap), never lost.
						if d.Verdict != schema.Undecided && d.Verdict != schema.CaptureGap {
							t.Errorf("%s, %d missing: want undecided or capture_gap (%s)", d.Verdict, d.Missing, d.Reason)
						}
						continue
					}
					if d.Verdict != schema.CaptureGap || d.Missing != 13 || d.Index == nil || *d.Index != 5 {
						t.Errorf("%s, %d missing from %v: want capture_gap, 13 missing from 5 (%s)", d.Verdict, d.Missing, d.Index, d.Reason)
					}
				}
			}
		})
	}
}

// TestCompare_UnsurePairingIsUndecided: a hop whose stream frames each copy 4 bytes longer than
// the first hop's (offsets drift, so they cannot place copies across its hole) has a hole in a
// run of identical messages, and the next hop really lacks one copy: which copy went missing is
// a guess, so the direction is undecided, not lost.
func TestCompare_UnsurePairingIsUndecided(t *testing.T) {
	caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: same("typing", 10), dropC2S: map[int]int{8: 2}}})
	for h := 1; h < 3; h++ {
		ms := caps[h].Sessions[0].Messages(capture.ClientToServer)
		var off uint64
		for i := range ms {
			ms[i].Offset, ms[i].End = off, off+uint64(ms[i].WireLength)+10
			off = ms[i].End
		}
	}
	holeAt(caps, 1, capture.ClientToServer, 3, 5, capture.GapAcked)
	r := Compare(hopsOf(caps), Options{})
	if len(r.Connections) != 1 {
		t.Fatalf("%d connections, want 1", len(r.Connections))
	}
	d := r.Connections[0].Directions.ClientToServer
	if d.Verdict != schema.Undecided || !strings.Contains(d.Reason, "identical messages around a hole in hop1's capture") {
		t.Errorf("%s: want undecided for a guessed copy (%s)", d.Verdict, d.Reason)
	}
}
