package correlate

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

var hbTrials = flag.Int("hbtrials", 400, "random heartbeat trials TestCompare_HeartbeatRandom runs (-short: 100)")

// hbHole is a capture hole made with holeAt in connection 1 (the first session at every hop):
// hop h's capture lacks its messages from..to-1 of direction dir.
type hbHole struct{ h, dir, from, to int }

// hbTrial is one random path: hops, one-way latency per hop, clock skews, connections (with
// the messages components really dropped) and capture holes.
type hbTrial struct {
	hops  int
	lat   time.Duration
	skew  []time.Duration
	conns []connSpec
	holes []hbHole
	// fin: every session ends with a FIN each way finAfter after its last message (a
	// connection closed while captured); otherwise the captures stop with it open.
	fin      bool
	finAfter time.Duration
}

// captures builds the trial's captures.
func (tr hbTrial) captures() []*capture.Capture {
	caps := simulate(simOpts{hops: tr.hops, latency: tr.lat, skew: tr.skew}, tr.conns)
	for _, h := range tr.holes {
		holeAt(caps, h.h, capture.Direction(h.dir), h.from, h.to, capture.GapAcked)
	}
	if tr.fin {
		for _, c := range caps {
			for _, s := range c.Sessions {
				s.End = s.End.Add(tr.finAfter)
				for d := range s.TCP {
					s.TCP[d].FIN = &capture.TCPEvent{Time: s.End}
				}
			}
		}
	}
	return caps
}

// randomHBTrial draws a trial: 2-4 hops, 1-3 connections of 4-33 identical heartbeats each way
// (half of them with some client messages made unique), up to 2 real drops per direction, up
// to 3 acknowledged capture holes of 1-2 messages in connection 1, skews of up to a second.
func randomHBTrial(rng *rand.Rand) hbTrial {
	tr := hbTrial{hops: 2 + rng.IntN(3)}
	n := 4 + rng.IntN(30)
	for c := 0; c < 1+rng.IntN(3); c++ {
		cs := connSpec{key: keyN(c + 1), startMs: c * 7, c2s: same("beat", n), s2c: same("ack", n), everyMs: 5 + rng.IntN(200),
			dropC2S: map[int]int{}, dropS2C: map[int]int{}}
		for k := 0; k < rng.IntN(3); k++ {
			cs.dropC2S[rng.IntN(n)] = 1 + rng.IntN(tr.hops-1)
		}
		for k := 0; k < rng.IntN(3); k++ {
			cs.dropS2C[rng.IntN(n)] = 1 + rng.IntN(tr.hops-1)
		}
		if rng.IntN(2) == 0 {
			for i := range cs.c2s {
				if rng.IntN(4) == 0 {
					cs.c2s[i] = fmt.Sprintf("u%d", i)
				}
			}
		}
		tr.conns = append(tr.conns, cs)
	}
	tr.lat = time.Duration(1+rng.IntN(40000)) * time.Microsecond
	for h := 0; h < tr.hops; h++ {
		tr.skew = append(tr.skew, time.Duration(rng.IntN(2000)-1000)*time.Millisecond*time.Duration(rng.IntN(2)))
	}
	tr.skew[0] = 0
	caps := tr.captures()
	for k := 0; k < rng.IntN(4); k++ {
		h, d := rng.IntN(tr.hops), rng.IntN(2)
		s := caps[h].Sessions[0]
		ms := s.Messages(capture.Direction(d))
		if len(ms) < 6 {
			continue
		}
		from := 1 + rng.IntN(len(ms)-3)
		to := from + 1 + rng.IntN(2)
		overlap := false
		for _, g := range s.TCP[d].Gaps() {
			if g.Offset <= ms[to-1].End && ms[from].Offset <= g.Offset+g.Length+10 {
				overlap = true
			}
		}
		if !overlap {
			holeAt(caps, h, capture.Direction(d), from, to, capture.GapAcked)
			tr.holes = append(tr.holes, hbHole{h, d, from, to})
		}
	}
	return tr
}

// hbOutcome classifies one direction's verdict against the trial's truth.
type hbOutcome int

const (
	hbRight         hbOutcome = iota // nothing lost and none said
	hbLostRight                      // lost, right in first missing hop, count and index
	hbUndecidedNone                  // nothing lost, undecided (a refusal to guess: allowed)
	hbUndecidedLoss                  // something lost, undecided (allowed)
	hbWrongLoss                      // nothing lost, yet lost, closed or modified: a confident wrong verdict
	hbMissedLoss                     // something lost, yet delivered or capture_gap
	hbWrongHop                       // lost or closed, first missing at a hop where nothing of this direction was dropped
	hbPastBlind                      // lost or closed at low confidence, first missing past the hop that dropped it, whose capture (with holes) the reason says could not tell
	hbWrongCount                     // lost or closed at a hop that dropped some, but with the wrong count
	hbSplitClosed                    // FIN right after the last message: fewer lost than dropped, the rest judged closed (lost, all of them, with the FIN later)
	hbOtherCopy                      // lost with the right count, first at a hop that did lose a copy, but another copy named first
	hbWrongIndex                     // lost at the right hop and count, but another copy named first
	hbHidden                         // something lost that no hop's capture holds (a hole covers it): any verdict but a wrong hop
	hbOutcomes
)

var hbNames = [hbOutcomes]string{"right (nothing lost)", "lost right", "undecided (nothing lost)", "undecided (loss)", "WRONG lost", "MISSED loss",
	"WRONG hop", "lost past a blind hop", "WRONG count", "lost and closed", "other copy first", "wrong index", "hidden by a hole"}

// hbWant is what one direction's truth says: the messages dropped (index -> hop in path order
// that first lacks it), how many, and where the first one was last seen.
type hbWant struct {
	missing   int
	firstMiss string
	index     int             // the first dropped message's number at the hop before, among the messages that reached it
	hopsLost  map[string]bool // the hops where some message was first missing
	hidden    bool            // some dropped message is in a capture hole at every hop that carried it
	travel    []string        // the hops in travel order
	holed     map[string]bool // the hops whose capture has holes (in any connection or direction)
}

// blindBefore reports whether a loss placed at hop fm is honest about the hop that dropped it:
// at low confidence, with a hop that dropped some message of the direction between the last hop
// that saw it and fm, whose capture has holes (a capture that dropped packets then may have
// dropped this one too: blind), and the reason saying that whether it got there is not known.
func (w hbWant) blindBefore(fm string, got schema.DirectionResult) bool {
	if !got.LowConfidence || got.LastSeenHop == nil {
		return false
	}
	last, at := slices.Index(w.travel, *got.LastSeenHop), slices.Index(w.travel, fm)
	if last < 0 || at < 0 {
		return false
	}
	for _, h := range w.travel[last+1 : max(at, last+1)] {
		if w.hopsLost[h] && w.holed[h] && strings.Contains(got.Reason, "whether it reached "+h+" before is not known") {
			return true
		}
	}
	return false
}

// hbTruth derives the truth of direction dir of connection ci.
func hbTruth(tr hbTrial, ci, dir int) hbWant {
	cs := tr.conns[ci]
	drops := cs.dropC2S
	if dir == 1 {
		drops = cs.dropS2C
	}
	w := hbWant{missing: len(drops), index: -1, holed: map[string]bool{}}
	for p := 0; p < tr.hops; p++ {
		h := p
		if dir == 1 {
			h = tr.hops - 1 - p
		}
		w.travel = append(w.travel, fmt.Sprintf("hop%d", h))
	}
	for _, hl := range tr.holes {
		w.holed[fmt.Sprintf("hop%d", hl.h)] = true
	}
	if len(drops) == 0 {
		return w
	}
	idx := make([]int, 0, len(drops))
	for i := range drops {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	// travel position -> path hop
	hopAt := func(p int) int {
		if dir == 1 {
			return tr.hops - 1 - p
		}
		return p
	}
	w.hopsLost = map[string]bool{}
	for _, p := range drops {
		w.hopsLost[fmt.Sprintf("hop%d", hopAt(p))] = true
	}
	first := idx[0]
	w.firstMiss = fmt.Sprintf("hop%d", hopAt(drops[first]))
	last := drops[first] - 1 // travel position that last saw it
	w.index = first
	for i, p := range drops {
		if i < first && p <= last {
			w.index--
		}
	}
	if ci == 0 {
		// A dropped message is hidden when every hop that carried it has it in a hole.
		for _, i := range idx {
			seen := false
			for p := 0; p < drops[i]; p++ {
				if !hbInHole(tr, hopAt(p), dir, drops, i, p) {
					seen = true
				}
			}
			if !seen {
				w.hidden = true
			}
		}
	}
	return w
}

// hbInHole reports whether message i of connection 1, direction dir, lies in a capture hole at
// path hop h (travel position p): the holes number the messages h captured, in the order they
// were made.
func hbInHole(tr hbTrial, h, dir int, drops map[int]int, i, p int) bool {
	// The message indices h's capture holds, before any hole.
	var at []int
	n := len(tr.conns[0].c2s)
	if dir == 1 {
		n = len(tr.conns[0].s2c)
	}
	for k := 0; k < n; k++ {
		if dp, ok := drops[k]; ok && p >= dp {
			continue
		}
		at = append(at, k)
	}
	for _, hl := range tr.holes {
		if hl.h != h || hl.dir != dir {
			continue
		}
		for _, k := range at[hl.from:hl.to] {
			if k == i {
				return true
			}
		}
		at = append(at[:hl.from:hl.from], at[hl.to:]...)
	}
	return false
}

// hbClassify judges one direction's result against its truth.
func hbClassify(w hbWant, got schema.DirectionResult) hbOutcome {
	fm := ""
	if got.FirstMissingHop != nil {
		fm = *got.FirstMissingHop
	}
	switch {
	case w.missing == 0 && (got.Verdict == schema.Lost || got.Verdict == schema.Closed || got.Verdict == schema.Modified):
		return hbWrongLoss
	case w.missing == 0 && got.Verdict == schema.Undecided:
		return hbUndecidedNone
	case w.missing == 0:
		return hbRight
	case w.hidden && (got.Verdict != schema.Lost || fm == w.firstMiss):
		return hbHidden
	case got.Verdict == schema.Undecided:
		return hbUndecidedLoss
	case got.Verdict != schema.Lost && got.Verdict != schema.Closed:
		return hbMissedLoss
	case !w.hopsLost[fm] && w.blindBefore(fm, got):
		return hbPastBlind
	case !w.hopsLost[fm]:
		return hbWrongHop
	case got.Missing != w.missing:
		return hbWrongCount
	case fm != w.firstMiss:
		return hbOtherCopy
	case got.Index == nil || *got.Index != w.index:
		return hbWrongIndex
	}
	return hbLostRight
}

// runHBTrial compares one trial and classifies every direction, returning the outcomes and a
// line per direction that is not right.
func runHBTrial(tr hbTrial) ([]hbOutcome, []string, bool) {
	r := Compare(hopsOf(tr.captures()), Options{})
	var out []hbOutcome
	var lines []string
	for _, c := range r.Connections {
		ci := -1
		for k, cs := range tr.conns {
			if c.Key != nil && cs.key == *c.Key {
				ci = k
			}
		}
		if ci < 0 {
			continue
		}
		for di, dd := range []schema.DirectionResult{c.Directions.ClientToServer, c.Directions.ServerToClient} {
			w := hbTruth(tr, ci, di)
			o := hbClassify(w, dd)
			if o == hbWrongCount && dd.Missing < w.missing && hbClosedRest(tr, ci, di, w) {
				o = hbSplitClosed
			}
			out = append(out, o)
			if o != hbRight && o != hbLostRight {
				fm := "-"
				if dd.FirstMissingHop != nil {
					fm = *dd.FirstMissingHop
				}
				idx := -1
				if dd.Index != nil {
					idx = *dd.Index
				}
				low := ""
				if dd.LowConfidence {
					low = " (low confidence)"
				}
				lines = append(lines, fmt.Sprintf("conn %d dir %d: %s: got %s%s %d at %s index %d, want %d at %s index %d: %s",
					ci+1, di, hbNames[o], dd.Verdict, low, dd.Missing, fm, idx, w.missing, w.firstMiss, w.index, dd.Reason))
			}
		}
	}
	return out, lines, len(r.Refused) > 0
}

// hbClosedRest reports, for a direction that ends with a FIN right after its last message and
// counts fewer missing than were dropped, whether the close alone explains the difference: with
// the FIN seconds later the same direction is lost, all of them, at a hop that dropped some.
// `missing` counts the messages of the worst verdict only, and which identical copies are missing
// is not known: order pairing puts the missing copies last, where a close right after cuts them
// off (closed), whichever copies were really dropped.
func hbClosedRest(tr hbTrial, ci, di int, w hbWant) bool {
	if !tr.fin || tr.finAfter >= time.Second {
		return false
	}
	tr.finAfter = 5 * time.Second
	r := Compare(hopsOf(tr.captures()), Options{})
	for _, c := range r.Connections {
		if c.Key == nil || *c.Key != tr.conns[ci].key {
			continue
		}
		d := c.Directions.ClientToServer
		if di == 1 {
			d = c.Directions.ServerToClient
		}
		switch hbClassify(w, d) {
		case hbLostRight, hbOtherCopy, hbWrongIndex:
			return true
		}
	}
	return false
}

// TestCompare_HeartbeatRandom: random paths carrying identical heartbeats, with real drops,
// capture holes at several hops and clock skews. Identical copies can only be told apart by
// order, stream offsets and time, so around holes the pairing may be a guess; a guess must
// never become a confident verdict: nothing lost is never lost, closed or modified, and a loss
// that some hop captured is lost (right first missing hop and count) or undecided. -hbtrials
// sets the number of trials; -v logs every direction judged wrong and the counts per outcome.
//
// A wrong lost (trouble where nothing was lost) and a WRONG hop (a loss first missing at a hop
// where nothing of the direction was dropped: that hop's team would be sent to the wrong
// component) fail the test. The harness still logs (-v) losses judged capture_gap (MISSED) and
// losses at a hop that did drop some but with the wrong count (WRONG count). Not wrong: a loss
// placed past the hop that dropped it, at low confidence, when that hop's capture could not tell
// (it was dropping packets then, or has a hole that may hold another message) and the reason
// says whether it got there is not known (lost past a blind hop); and, where the FIN comes right
// after the last message, fewer lost than dropped with the rest closed (lost and closed: `missing`
// counts the worst verdict's messages only).
func TestCompare_HeartbeatRandom(t *testing.T) {
	trials := *hbTrials
	if testing.Short() {
		trials = min(trials, 100)
	}
	var counts [3][hbOutcomes]int // by mode: no FIN, FIN well after, FIN right after
	refused := 0
	for trial := 0; trial < trials; trial++ {
		rng := rand.New(rand.NewPCG(7, uint64(trial)))
		tr := randomHBTrial(rng)
		// A third stop with the connection open, a third close it well after the last
		// message, a third right after it (what was missing then was cut off by the close,
		// at the hop that first lacks it: closed, not lost).
		tr.fin = trial%3 != 0
		tr.finAfter = 5 * time.Second
		if trial%3 == 2 {
			tr.finAfter = time.Millisecond
		}
		outs, lines, ref := runHBTrial(tr)
		if ref {
			refused++
			t.Errorf("trial %d refused", trial)
		}
		for _, o := range outs {
			counts[trial%3][o]++
		}
		for _, l := range lines {
			// A confident verdict of trouble where there was none, or at a hop that lost
			// nothing, fails; the misses and wrong counts the harness still finds are logged
			// (see the doc comment).
			if strings.Contains(l, ": "+hbNames[hbWrongLoss]+":") || strings.Contains(l, ": "+hbNames[hbWrongHop]+":") {
				t.Errorf("trial %d: %s\n\t%s", trial, l, hbSpec(tr))
			} else if testing.Verbose() && (strings.Contains(l, "WRONG") || strings.Contains(l, "MISSED")) {
				t.Logf("trial %d: %s\n\t%s", trial, l, hbSpec(tr))
			}
		}
	}
	var sum []string
	for o := range hbOutcomes {
		sum = append(sum, fmt.Sprintf("%s %d+%d+%d", hbNames[o], counts[0][o], counts[1][o], counts[2][o]))
	}
	t.Logf("%d trials, %d refused; directions per outcome, no FIN + FIN well after + FIN right after the last message: %s",
		trials, refused, strings.Join(sum, ", "))
}

// hbSpec prints a trial as the Go literal of a regression case.
func hbSpec(tr hbTrial) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{hops: %d, lat: %d, skew: %#v, fin: %v, finAfter: %d, holes: %#v, conns: []connSpec{", tr.hops, tr.lat, tr.skew, tr.fin, tr.finAfter, tr.holes)
	for _, cs := range tr.conns {
		fmt.Fprintf(&b, "{key: %q, startMs: %d, everyMs: %d, c2s: %#v, s2c: %#v, dropC2S: %#v, dropS2C: %#v}, ",
			cs.key, cs.startMs, cs.everyMs, cs.c2s, cs.s2c, cs.dropC2S, cs.dropS2C)
	}
	b.WriteString("}}")
	return b.String()
}
