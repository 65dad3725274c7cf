package correlate

import (
	"time"

	"github.com/wspath/wspath/capture"
)

// Identical copies (heartbeats, pings, a key pressed twice) are paired in order by the walk, so
// when some of a run of copies did not reach the next hop, order puts the loss on the last ones:
// "message 19 at 10:00:01.910 never arrived" for a loss at 10:00:00.310. The engineer who reads
// the ticket then searches the wrong second of the logs. Times tell the copies apart when the
// delay between the two hops is known and steady: retimeCopies re-pairs such a run by time, and
// only where each pair is unambiguous; elsewhere the run stays in order and is reported as such.

// maxRetimeMissing bounds the copies of one run missing downstream that retimeCopies places by
// time; a run missing more stays paired in order.
const maxRetimeMissing = 32

// maxRetimeCells bounds the work of one run (paired copies x missing ones).
const maxRetimeCells = 1 << 22

// copyRun is a maximal run of consecutive identical items a[p:q] of which some were not paired,
// and the consecutive items b[r:s] paired into it.
type copyRun struct{ p, q, r, s int }

// retimeCopies re-pairs, by time, the runs of identical copies in a that lost some copies in b,
// where the delay from each copy's hop to b's is known and makes every pair unambiguous; it
// returns the runs it left paired in order, whose first missing copy is the last ones' by order,
// not a fact. The delay from a hop is the usual one of the pairs from it that need no time to be
// told apart, else known's (from other connections, or the handshake).
func retimeCopies(a, b []item, al *alignment, known func(src int) (int64, bool)) (unplaced []copyRun) {
	runs := lossyRuns(a, b, al)
	if len(runs) == 0 {
		return nil
	}
	delays := pairDelays(a, b, al)
	delayFrom := func(src int) (int64, bool) {
		if d, ok := delays[src]; ok {
			return d, true
		}
		return known(src)
	}
	for _, run := range runs {
		if !placeByTime(a, b, al, run, delayFrom) {
			unplaced = append(unplaced, run)
		}
	}
	return unplaced
}

// unpaired returns the positions of the run's copies in a that al left unpaired, gone ones aside.
func (run copyRun) unpaired(a []item, al alignment) []int {
	var out []int
	j := run.r
	for i := run.p; i < run.q; i++ {
		if j < run.s && al.mb[j] == i {
			j++
			continue
		}
		if !a[i].gone {
			out = append(out, i) // a gone copy's loss is placed where it went
		}
	}
	return out
}

// lossyRuns finds the runs of identical complete items of a, with times and no guessed pairing, in streams
// without capture holes, where some copies are unpaired and the paired ones take consecutive items of b.
func lossyRuns(a, b []item, al *alignment) []copyRun {
	if al.matched == len(a) || anyHole(a) || anyHole(b) {
		// Copies missing beside a capture hole may lie in it: the hole rules weigh them
		// (holeRoom), times do not.
		return nil
	}
	ma := make([]int, len(a)) // the b item paired with each a item, -1 when none
	for i := range ma {
		ma[i] = -1
	}
	for j, i := range al.mb {
		if i >= 0 {
			ma[i] = j
		}
	}
	var runs []copyRun
	for p := 0; p < len(a); {
		q := p + 1
		for q < len(a) && a[q].digest == a[p].digest {
			q++
		}
		if run, ok := lossyRun(a, b, al, ma, p, q); ok {
			runs = append(runs, run)
		}
		p = q
	}
	return runs
}

// lossyRun checks a[p:q], a run of one digest, and returns it with its paired b items.
func lossyRun(a, b []item, al *alignment, ma []int, p, q int) (copyRun, bool) {
	run := copyRun{p: p, q: q, r: -1}
	if q-p < 2 || a[p].incomplete {
		return run, false
	}
	for i := p; i < q; i++ {
		if a[i].t == 0 || al.unsureA[i] {
			return run, false
		}
		if j := ma[i]; j >= 0 {
			if run.r < 0 {
				run.r = j
			} else if j != run.s {
				return run, false // an unpaired (extra) item of b between the pairs
			}
			run.s = j + 1
		}
	}
	if run.r < 0 || run.s-run.r == q-p {
		return run, false // none of the run reached b, or all of it did
	}
	for j := run.r; j < run.s; j++ {
		if b[j].t == 0 || al.unsureB[j] {
			return run, false
		}
	}
	return run, true
}

// placeByTime pairs b[r:s] with the copies of a[p:q] due at b's hop nearest their times,
// keeping order, and applies it when each pair is unambiguous: its time error is under a third
// of the time to the neighbouring copies' arrivals. It reports whether the run is placed.
func placeByTime(a, b []item, al *alignment, run copyRun, delayFrom func(src int) (int64, bool)) bool {
	// A copy gone before this hop cannot be here: the others are the candidates.
	var cand []int
	for i := run.p; i < run.q; i++ {
		if !a[i].gone {
			cand = append(cand, i)
		}
	}
	m, n := run.s-run.r, len(cand)
	k := n - m
	switch {
	case k < 0 || k > maxRetimeMissing || m*(k+1) > maxRetimeCells:
		return false
	case k == 0:
		for j, i := range cand {
			al.mb[run.r+j] = i
		}
		return true
	}
	due := make([]int64, n) // when each candidate was due at b's hop
	for c, i := range cand {
		d, ok := delayFrom(a[i].src)
		if !ok {
			return false
		}
		due[c] = a[i].t + d
		if c > 0 && due[c] <= due[c-1] {
			return false // copies due out of order: times cannot tell them apart
		}
	}
	pick := cheapestPairs(m, k, func(j, c int) int64 { return absInt(b[run.r+j].t - due[c]) })
	for j, c := range pick {
		gap := int64(1<<63 - 1)
		if c > 0 {
			gap = due[c] - due[c-1]
		}
		if c+1 < n {
			gap = min(gap, due[c+1]-due[c])
		}
		if absInt(b[run.r+j].t-due[c])*3 >= gap {
			return false
		}
	}
	for j, c := range pick {
		al.mb[run.r+j] = cand[c]
	}
	return true
}

// cheapestPairs pairs m items in order with m of m+k candidates, in order, at the least total
// cost(item, candidate), and returns the candidate of each item.
func cheapestPairs(m, k int, cost func(j, c int) int64) []int {
	// best[s] is the least cost of pairing the items so far with the last one on candidate
	// j+s; from[j][s] the skip of the item before on that path (skips only grow).
	best := make([]int64, k+1)
	from := make([]uint8, m*(k+1))
	for s := range best {
		best[s] = cost(0, s)
	}
	for j := 1; j < m; j++ {
		low, at := best[0], 0
		for s := 0; s <= k; s++ {
			if best[s] < low {
				low, at = best[s], s
			}
			best[s] = low + cost(j, j+s)
			from[j*(k+1)+s] = uint8(at)
		}
	}
	s := 0
	for t := range best {
		if best[t] < best[s] {
			s = t
		}
	}
	pick := make([]int, m)
	for j := m - 1; j >= 0; j-- {
		pick[j] = j + s
		s = int(from[j*(k+1)+s])
	}
	return pick
}

// pairDelays is, per hop of a's items, the usual delay to b among the pairs that need no time to
// be told apart: the median over paired items whose neighbours in a carry other payloads.
func pairDelays(a, b []item, al *alignment) map[int]int64 {
	by := map[int][]time.Duration{}
	for j, i := range al.mb {
		if i < 0 || a[i].t == 0 || b[j].t == 0 || a[i].incomplete {
			continue
		}
		if (i > 0 && a[i-1].digest == a[i].digest) || (i+1 < len(a) && a[i+1].digest == a[i].digest) {
			continue
		}
		by[a[i].src] = append(by[a[i].src], time.Duration(b[j].t-a[i].t))
	}
	out := make(map[int]int64, len(by))
	for src, ds := range by {
		out[src] = median(ds).Nanoseconds()
	}
	return out
}

// handshakeDelay is the delay of the handshake message travelling in direction dir (the
// request, or the response) from hop a to hop b, clocks corrected as items' times are: what a
// message takes between them when no message pair tells it.
func handshakeDelay(c *conn, hs []*hopState, dir capture.Direction, a, b int) (int64, bool) {
	sa, sb := c.sess[a], c.sess[b]
	if sa == nil || sb == nil || !hs[a].offKnown || !hs[b].offKnown || !sameHandshake(sa, sb) {
		return 0, false // a component that terminates the WebSocket answers on its own time
	}
	ta, tb := sa.Request.Time, sb.Request.Time
	if dir == capture.ServerToClient {
		if sa.Response == nil || sb.Response == nil {
			return 0, false
		}
		ta, tb = sa.Response.Time, sb.Response.Time
	}
	if ta.IsZero() || tb.IsZero() {
		return 0, false
	}
	return tb.Add(-hs[b].off).Sub(ta.Add(-hs[a].off)).Nanoseconds(), true
}

// anyHole reports whether the capture of any item's hop lacks bytes before it.
func anyHole(s []item) bool {
	for _, it := range s {
		if it.hole > 0 {
			return true
		}
	}
	return false
}

// markGone marks the reference items a that b, a hop's items aligned by al, lacks though b's
// capture has no hole: gone past b's hop. Those b has are not gone. A hop with a hole keeps what
// the hops before it said: a message that never passed a hop whose capture is whole cannot be
// at a hop further along, whatever hop's hole lies between.
func markGone(a, b []item, al alignment) {
	if !anyHole(b) {
		for i := range a {
			a[i].gone = true
		}
	}
	for _, i := range al.mb {
		if i >= 0 {
			a[i].gone = false
		}
	}
}

// delayKey names the delay from hop src to hop h in direction dir, clocks corrected.
type delayKey struct {
	src, h int
	dir    capture.Direction
}

// steadyDelays measures, for each two hops next to each other in a track's travel, the usual
// delay of messages between them over the tracks where both hops have the same number of
// messages and no capture hole: there every pair is sure, identical copies included.
func steadyDelays(tracks [][2]*track, hs []*hopState) map[delayKey]int64 {
	samples := map[delayKey][]time.Duration{}
	for _, tt := range tracks {
		for _, tr := range tt {
			if tr == nil {
				continue
			}
			p := -1
			for _, h := range tr.travel {
				if !readable(tr.sess[h]) {
					continue
				}
				if p >= 0 && steadyPair(tr, hs, p, h) {
					k := delayKey{p, h, tr.dir}
					ds := samples[k]
					for _, id := range tr.ids {
						ma, mb := id.at(p), id.at(h)
						if ma != nil && mb != nil && !ma.First().IsZero() && !mb.First().IsZero() {
							addSample(&ds, mb.First().Add(-hs[h].off).Sub(ma.First().Add(-hs[p].off)))
						}
					}
					samples[k] = ds
				}
				p = h
			}
		}
	}
	out := make(map[delayKey]int64, len(samples))
	for k, ds := range samples {
		out[k] = median(ds).Nanoseconds()
	}
	return out
}

// steadyPair reports whether hops p and h of tr saw the same number of its messages, with known
// clocks and no capture hole in its direction at either.
func steadyPair(tr *track, hs []*hopState, p, h int) bool {
	sp, sh := tr.sess[p], tr.sess[h]
	if !hs[p].offKnown || !hs[h].offKnown || countData(sp.Entries(tr.dir)) != countData(sh.Entries(tr.dir)) {
		return false
	}
	return len(sp.TCP[tr.dir].Gaps()) == 0 && len(sh.TCP[tr.dir].Gaps()) == 0
}
