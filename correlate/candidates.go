package correlate

import (
	"cmp"
	"slices"
	"time"

	"github.com/wspath/wspath/capture"
)

// Matching through a terminating hop has no key to join on, so every session at one hop could be
// the continuation of every session at the other. Scoring all pairs grows with the square of the
// connections (a gateway carries tens of thousands); candidateIndex instead keeps the other hop's
// sessions sorted by time and hands out, per session, the few nearest after correcting the
// clocks, which is all that the scoring ever looked at.

// Bounds that keep candidate generation near-linear.
const (
	// maxOffsetSessions is how many sessions of the earlier hop (evenly spread) contribute to
	// the clock offset estimate between two hops whose offset is unknown, fewer where their
	// partners would make more than maxOffsetDeltas differences; below both, every pair is used.
	maxOffsetSessions = 256
	maxOffsetDeltas   = 1 << 20
	// maxCandidateScan bounds the sessions looked at while searching one session's nearest
	// candidates, so that a session alone in a quiet stretch does not walk the whole capture.
	maxCandidateScan = 64 * maxCandidates
)

// candidateIndex holds the sessions at hop hb that are still unmatched, sorted by time.
type candidateIndex struct {
	ha, hb int
	bs     []*conn
	// byReq and byStart are positions in bs: sessions with a captured handshake sorted by its
	// time, and sessions without one by their start.
	byReq, byStart []int
	// all holds every position in bs by start, for the overlap scan of the offset estimate.
	all []int
	// maxLife is the longest lifetime at hb and maxReqLag the longest wait from a session's
	// start to its handshake: they bound how far a scan must go before nothing can overlap.
	maxLife, maxReqLag time.Duration
	// bySig maps a session's signature (its first data message) to positions in bs.
	bySig map[signature][]int
}

// signature is the first complete data message of a session, client to server if there is one:
// where it is unique, it pins a pair across hops better than any time can.
type signature struct {
	dir    capture.Direction
	digest capture.Digest64
}

func signatureOf(s *capture.Session) (signature, bool) {
	for _, dir := range capture.Directions {
		for i := range s.Entries(dir) {
			m := &s.Entries(dir)[i]
			if !m.Opcode().IsData() {
				continue
			}
			if m.Flags().Has(capture.Incomplete) || m.Digest().IsZero() {
				break
			}
			return signature{dir, m.Digest()}, true
		}
	}
	return signature{}, false
}

func newCandidateIndex(bs []*conn, ha, hb int) *candidateIndex {
	x := &candidateIndex{ha: ha, hb: hb, bs: bs, bySig: map[signature][]int{}}
	for i, c := range bs {
		s := c.sess[hb]
		x.all = append(x.all, i)
		if readable(s) {
			if sig, ok := signatureOf(s); ok {
				x.bySig[sig] = append(x.bySig[sig], i)
			}
		}
		x.maxLife = max(x.maxLife, s.End.Sub(s.Start))
		if s.Request != nil {
			x.byReq = append(x.byReq, i)
			x.maxReqLag = max(x.maxReqLag, s.Request.Time.Sub(s.Start))
		} else {
			x.byStart = append(x.byStart, i)
		}
	}
	byKey := func(key func(int) time.Time) func(i, j int) int {
		return func(i, j int) int {
			if c := key(i).Compare(key(j)); c != 0 {
				return c
			}
			return cmp.Compare(i, j)
		}
	}
	slices.SortFunc(x.byReq, byKey(x.reqTime))
	slices.SortFunc(x.byStart, byKey(x.startTime))
	slices.SortFunc(x.all, byKey(x.startTime))
	return x
}

func (x *candidateIndex) reqTime(i int) time.Time   { return x.bs[i].sess[x.hb].Request.Time }
func (x *candidateIndex) startTime(i int) time.Time { return x.bs[i].sess[x.hb].Start }

// overlaps reports whether a's session at ha and b's at hb can be one connection in time: their
// lifetimes overlap within window once b's clock is corrected by expected.
func (x *candidateIndex) overlaps(a, b *conn, expected, window time.Duration) bool {
	sa, sb := a.sess[x.ha], b.sess[x.hb]
	return !sb.Start.Add(-expected).After(sa.End.Add(window)) && !sb.End.Add(-expected).Before(sa.Start.Add(-window))
}

// offsetEstimate estimates hb's clock minus ha's (plus the latency between them) when neither is
// known, from the handshake (or start) time differences of pairs that overlap in time. Three
// estimates, most certain first:
//   - pairs pinned by a first message that no other overlapping session shares: their median;
//   - otherwise (sessions all carry the same messages) the difference shared by far more pairs
//     than any other, since every session has its partner at the true offset and the others
//     spread around it;
//   - otherwise the median of all differences, which is the offset when sessions are spread
//     evenly around it.
//
// Past maxOffsetSessions sessions (or maxOffsetDeltas differences), evenly spread sessions with
// all their partners stand for all pairs. ok is false when no pair overlaps; vague is true when
// only the median was left although enough sessions were there to pin the offset: their
// messages and times did not tell them apart, so the pairing may be wrong.
func (x *candidateIndex) offsetEstimate(as []*conn, window time.Duration) (d time.Duration, ok, vague bool) {
	// Sample evenly spread sessions, as many as keep all their partners within the budget.
	probe := max(1, len(as)/8)
	var ds []time.Duration
	partners := 0
	for k := 0; k < len(as); k += probe {
		partners = max(partners, len(x.partnerDeltas(as[k], window, ds[:0])))
	}
	sampled := min(len(as), maxOffsetSessions)
	if partners > 0 {
		sampled = max(1, min(sampled, maxOffsetDeltas/partners))
	}
	stride := (len(as) + sampled - 1) / sampled
	ds = ds[:0]
	for k := 0; k < len(as); k += stride {
		ds = x.partnerDeltas(as[k], window, ds)
	}
	if len(ds) == 0 {
		return 0, false, false
	}
	if d, ok := x.pinnedOffset(as, window, stride); ok {
		return d, true, false
	}
	n := (len(as) + stride - 1) / stride
	if d, ok := densestDelta(ds, x.typicalGap()/8, n); ok {
		return d, true, false
	}
	return median(ds), true, n >= minVagueSessions && len(x.bs) >= minVagueSessions
}

// minVagueSessions is how many sessions on each side make a vague offset worth a warning: with
// fewer, the pairing rests on few candidates and their scores say enough.
const minVagueSessions = 8

// partnerDeltas appends to ds the handshake (or start) time differences between a and every
// session at hb that overlaps it in time on uncorrected clocks.
func (x *candidateIndex) partnerDeltas(a *conn, window time.Duration, ds []time.Duration) []time.Duration {
	sa := a.sess[x.ha]
	// Sessions starting after sa ended (plus the window) cannot overlap; nor can those that
	// started more than the longest lifetime before sa began.
	from := sa.Start.Add(-window - x.maxLife)
	lo, _ := slices.BinarySearchFunc(x.all, from, func(i int, t time.Time) int { return x.startTime(i).Compare(t) })
	for _, i := range x.all[lo:] {
		b := x.bs[i]
		if x.startTime(i).After(sa.End.Add(window)) {
			break
		}
		if x.overlaps(a, b, 0, window) && disjoint(a, b) {
			ds = append(ds, quickDelta(sa, b.sess[x.hb]))
		}
	}
	return ds
}

// minPinned is how many pinned pairs make an offset estimate.
const minPinned = 3

// pinnedOffset is the median time difference of sampled pairs whose signature is unique among
// the sessions overlapping a's; ok is false with fewer than minPinned such pairs.
func (x *candidateIndex) pinnedOffset(as []*conn, window time.Duration, stride int) (time.Duration, bool) {
	var ds []time.Duration
	for k := 0; k < len(as); k += stride {
		a := as[k]
		sa := a.sess[x.ha]
		if !readable(sa) {
			continue
		}
		sig, ok := signatureOf(sa)
		if !ok {
			continue
		}
		partner := -1
		for _, i := range x.bySig[sig] {
			if !x.overlaps(a, x.bs[i], 0, window) || !disjoint(a, x.bs[i]) {
				continue
			}
			if partner >= 0 {
				partner = -2 // shared: pins nothing
				break
			}
			partner = i
		}
		if partner >= 0 {
			ds = append(ds, quickDelta(sa, x.bs[partner].sess[x.hb]))
		}
	}
	if len(ds) < minPinned {
		return 0, false
	}
	return median(ds), true
}

// typicalGap is the median time between consecutive session starts at hb.
func (x *candidateIndex) typicalGap() time.Duration {
	if len(x.all) < 2 {
		return 0
	}
	gaps := make([]time.Duration, 0, len(x.all)-1)
	for k := 1; k < len(x.all); k++ {
		gaps = append(gaps, x.startTime(x.all[k]).Sub(x.startTime(x.all[k-1])))
	}
	return median(gaps)
}

// densestDelta looks for the time difference that far more pairs share than any other: the
// window of width eps holding the most differences, when it holds at least half of the sessions
// sampled and twice as many as any window away from it. It returns the median of the differences
// in that window.
func densestDelta(ds []time.Duration, eps time.Duration, sessions int) (time.Duration, bool) {
	if eps <= 0 || len(ds) < minPinned {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	// count[i] is how many differences lie in [s[i], s[i]+eps].
	count := make([]int, len(s))
	j := 0
	best := 0
	for i := range s {
		for j < len(s) && s[j]-s[i] <= eps {
			j++
		}
		count[i] = j - i
		if count[i] > count[best] {
			best = i
		}
	}
	if 2*count[best] < sessions {
		return 0, false
	}
	lo, hi := s[best]-2*eps, s[best]+3*eps // windows overlapping the best one's neighbourhood
	for i := range s {
		if (s[i] < lo || s[i] > hi) && 2*count[i] > count[best] {
			return 0, false // a rival peak: the offset is ambiguous
		}
	}
	return median(s[best : best+count[best]]), true
}

// frontier walks one sorted list outwards from a target time.
type frontier struct {
	list   []int
	key    func(int) time.Time
	target time.Time
	lo, hi int // next positions to take on the left (lo, downwards) and right (hi, upwards)
}

func newFrontier(list []int, key func(int) time.Time, target time.Time) frontier {
	hi, _ := slices.BinarySearchFunc(list, target, func(i int, t time.Time) int { return key(i).Compare(t) })
	return frontier{list: list, key: key, target: target, lo: hi - 1, hi: hi}
}

// peek returns the nearer of the two next positions, its distance from the target and which
// side it is on; ok is false when both sides are used up.
func (f *frontier) peek() (pos int, dist time.Duration, left, ok bool) {
	var lp, rp = -1, -1
	var ld, rd time.Duration
	if f.lo >= 0 {
		lp = f.list[f.lo]
		ld = f.target.Sub(f.key(lp))
	}
	if f.hi < len(f.list) {
		rp = f.list[f.hi]
		rd = f.key(rp).Sub(f.target)
	}
	switch {
	case lp < 0 && rp < 0:
		return 0, 0, false, false
	case rp < 0 || (lp >= 0 && (ld < rd || ld == rd && lp < rp)):
		return lp, ld, true, true
	default:
		return rp, rd, false, true
	}
}

func (f *frontier) take(left bool) {
	if left {
		f.lo--
	} else {
		f.hi++
	}
}

// closeLeft and closeRight stop a side from being walked further.
func (f *frontier) closeLeft()  { f.lo = -1 }
func (f *frontier) closeRight() { f.hi = len(f.list) }

// nearest returns up to limit candidates for a: sessions at hb, not yet joined to a, overlapping
// it in time, nearest first by how far their time difference is from expected (ties by position
// in bs, as a stable sort of all pairs would give).
func (x *candidateIndex) nearest(a *conn, expected, window time.Duration, limit int) []*conn {
	sa := a.sess[x.ha]
	var fs []frontier
	if sa.Request != nil {
		fs = append(fs, newFrontier(x.byReq, x.reqTime, sa.Request.Time.Add(expected)),
			newFrontier(x.byStart, x.startTime, sa.Start.Add(expected)))
	} else {
		fs = append(fs, newFrontier(x.all, x.startTime, sa.Start.Add(expected)))
	}
	// Past these times (b's clock) no session can overlap sa: its start is too late, or its
	// end (at most maxLife after its start) too early.
	late := sa.End.Add(window + expected)
	early := sa.Start.Add(-window + expected)
	var out []*conn
	for scanned := 0; len(out) < limit && scanned < maxCandidateScan; scanned++ {
		k, pos, left := -1, -1, false
		var dist time.Duration
		for i := range fs {
			p, d, l, ok := fs[i].peek()
			if ok && (k < 0 || d < dist || d == dist && p < pos) {
				k, pos, dist, left = i, p, d, l
			}
		}
		if k < 0 {
			break
		}
		f := &fs[k]
		f.take(left)
		// A list is sorted by a key no earlier than the session's start and at most
		// maxReqLag after it, and a session ends at most maxLife after its start.
		switch {
		case left && f.key(pos).Add(x.maxLife).Before(early):
			f.closeLeft() // this one and everything further left ended before sa began
			continue
		case !left && f.key(pos).Add(-x.maxReqLag).After(late):
			f.closeRight() // this one and everything further right started after sa ended
			continue
		}
		b := x.bs[pos]
		if x.overlaps(a, b, expected, window) && disjoint(a, b) {
			out = append(out, b)
		}
	}
	return out
}

// withSignature returns cands followed by the sessions at hb, not among them, that open with the
// same first message as a (its signature), overlap it in time and share no hop with it. A
// signature carried by more than limit sessions pins nothing (a greeting every client sends) and
// adds none, so the candidates per session stay bounded.
func (x *candidateIndex) withSignature(a *conn, cands []*conn, expected, window time.Duration, limit int) []*conn {
	sa := a.sess[x.ha]
	if !readable(sa) {
		return cands
	}
	sig, ok := signatureOf(sa)
	if !ok || len(x.bySig[sig]) > limit {
		return cands
	}
	for _, i := range x.bySig[sig] {
		b := x.bs[i]
		if !slices.Contains(cands, b) && x.overlaps(a, b, expected, window) && disjoint(a, b) {
			cands = append(cands, b)
		}
	}
	return cands
}
