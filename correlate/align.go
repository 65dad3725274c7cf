package correlate

import (
	"slices"
	"sort"
	"time"

	"github.com/wspath/wspath/capture"
)

// item is one data message reduced to what alignment compares.
type item struct {
	digest     capture.Digest64
	length     int64
	incomplete bool // digest unknown: matched by position and size only
	wireOnly   bool // the payload could not be inflated: only wire identifies it
	// t is the time on the first hop's clock, in Unix nanoseconds; 0 when unknown. Not a
	// time.Time, whose location pointer would have the garbage collector scan every item.
	t int64
	// wire is the digest of the payload as it travelled (still compressed), and wireLength its
	// size: what hops that pass bytes through share even where one of them could not inflate.
	wire       capture.Digest64
	wireLength int64
	// Where the message lies in its own hop's TCP stream (src): raw, the stream offset, and off,
	// the data bytes before it (the stream offset minus the control frames captured before it),
	// which pings and pongs, each TCP connection's own, do not shift, but a hole that swallowed
	// some does. A capture hole keeps raw offsets (they come from TCP sequence numbers); a
	// message a component dropped shifts both. hole is how many bytes the capture lacks between
	// the previous data message and this one.
	src       int
	off, end  uint64
	raw       uint64 // the stream offset itself, control frames included
	hole      uint64
	holeGap   capture.GapReason // reason of the first such hole
	holeKnown bool              // off, end and hole were filled in
	// gone: a reference message the last hop merged lacks though its capture has no hole in
	// this direction. It cannot have reached a hop further along, so a copy there pairs with
	// the next copy that got through.
	gone bool
}

// itemOf converts message m of direction dir of s; off is the offset of its hop's clock against the first hop's. A
// message that could not be inflated matches by position only, unless the hop is aligned on wire
// digests (byWire).
func itemOf(s *capture.Session, dir capture.Direction, m *capture.Entry, off time.Duration) item {
	it := item{digest: m.Digest(), length: m.Length(), incomplete: m.Flags().Has(capture.Incomplete) || m.Digest().IsZero(),
		wireOnly: m.Flags().Has(capture.Undecodable)}
	it.wire, it.wireLength = s.Wire(dir, m)
	if it.wireOnly {
		it.length = 0 // the inflated size is unknown: any size agrees
	}
	if !m.First().IsZero() {
		it.t = m.First().Add(-off).UnixNano()
	}
	return it
}

// streamItems returns the data messages of one direction of s as items, in order, with offsets
// and holes filled in (src names s's hop), times moved by off; at most limit when limit > 0.
// They are appended to buf[:0] (nil or a slice no longer used, for its memory).
func streamItems(buf []item, s *capture.Session, dir capture.Direction, src int, off time.Duration, limit int) []item {
	n := countData(s.Entries(dir))
	if limit > 0 {
		n = min(n, limit)
	}
	items := slices.Grow(buf[:0], n)
	gaps := s.TCP[dir].Gaps()
	var ctl, prevEnd uint64
	g := 0
	// unread counts the stream bytes between the entries since the previous data message that
	// no entry holds: holes the gap list may not name (it keeps the first 64 per direction), or
	// bytes skipped until frames were found again after one.
	var unread, lastEnd uint64
	for k := range s.Entries(dir) {
		m := &s.Entries(dir)[k]
		if k > 0 && m.Offset() > lastEnd {
			unread += m.Offset() - lastEnd
		}
		lastEnd = max(lastEnd, m.End())
		if !m.Opcode().IsData() {
			if m.End() > m.Offset() {
				ctl += m.End() - m.Offset()
			}
			continue
		}
		if limit > 0 && len(items) >= limit {
			break
		}
		it := itemOf(s, dir, m, off)
		// An HTTP/2 stream's offsets are positions in its connection's stream, where the
		// other streams' bytes lie between its messages: nothing another hop's offsets compare
		// with, and no hole but the connection's gaps (which may have held its bytes).
		h2 := s.HTTP2() != nil
		it.src, it.holeKnown = src, !h2
		it.off, it.end, it.raw = sat(m.Offset(), ctl), sat(m.End(), ctl), m.Offset()
		// Holes between the previous data message's end and this one's start.
		for g < len(gaps) && gaps[g].Offset+gaps[g].Length <= prevEnd {
			g++
		}
		for x := g; x < len(gaps) && gaps[x].Offset < m.Offset(); x++ {
			lo, hi := max(gaps[x].Offset, prevEnd), min(gaps[x].Offset+gaps[x].Length, m.Offset())
			if hi > lo {
				if it.hole == 0 {
					it.holeGap = gaps[x].Reason
				}
				it.hole += hi - lo
			}
		}
		if unread > it.hole && !h2 {
			it.hole = unread
		}
		unread = 0
		prevEnd = max(prevEnd, m.End())
		items = append(items, it)
	}
	return items
}

// sat returns a-b, or 0 when b > a.
func sat(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// byWire returns the items keyed by wire digest, for aligning a hop that could not inflate some
// messages (a capture that began after permessage-deflate with context takeover was under way)
// with hops that forwarded the same compressed bytes.
func byWire(s []item) []item {
	out := make([]item, len(s))
	for i, it := range s {
		it.digest, it.length = it.wire, it.wireLength
		it.incomplete = it.wire.IsZero()
		out[i] = it
	}
	return out
}

// anyWireOnly reports whether some item could only be identified by its wire digest.
func anyWireOnly(s []item) bool {
	for _, it := range s {
		if it.wireOnly {
			return true
		}
	}
	return false
}

// digestIndex maps a digest to the ascending positions where it occurs in a sequence.
type digestIndex map[capture.Digest64][]int

func indexItems(s []item) digestIndex {
	idx := make(digestIndex, len(s))
	for i, it := range s {
		if !it.incomplete {
			idx[it.digest] = append(idx[it.digest], i)
		}
	}
	return idx
}

// next returns the first position >= from holding d, or -1.
func (idx digestIndex) next(d capture.Digest64, from int) int {
	pos := idx[d]
	k := sort.SearchInts(pos, from)
	if k == len(pos) {
		return -1
	}
	return pos[k]
}

// maxTimeScan bounds how many later duplicates are examined when picking the duplicate closest in
// time, so that long runs of identical messages stay linear.
const maxTimeScan = 64

// alignment is the result of aligning two sequences: for each element of b the index in a it
// matches or -1, how many matched, and which elements of either sequence were placed by a guess:
// identical messages around a capture hole that neither stream offsets nor times could tell apart.
// before gives, for each unmatched element of b, the index of the first element of a that comes
// after it in the stream (len(a): after all): where the walk left it, which stream offsets may
// have decided (a's items in b's hole come before b's items in a's hole that follow them).
type alignment struct {
	mb               []int
	before           []int
	matched          int
	unsureA, unsureB []bool
}

// align matches the messages of an upstream sequence a with a downstream sequence b, in order:
// b is expected to be a with some messages missing and maybe some extra. It returns, for each
// element of b, the index in a it matches or -1, and how many were matched. See alignHoles.
func align(a, b []item, window time.Duration) (mb []int, matched int) {
	al := alignHoles(a, b, window)
	return al.mb, al.matched
}

// alignHoles matches a and b in order. Identical digests are matched in order, never collapsed;
// when window > 0 and two candidates for a match are more than window apart, the one closer in
// time is preferred. Incomplete messages match by position when the sizes agree and the
// neighbours match.
//
// Across a capture hole (bytes missing from one stream since the last match) order alone would
// shift the pairing of repeated payloads: the hole swallowed some of them, and the first copy
// after it is not the next copy upstream. There the stream offsets decide: a hole keeps TCP
// offsets, so the pair must keep the offset difference (delta) of the last sure match, which
// picks the copy whose bytes come right after the hole. When no offsets are comparable and the
// copies are not told apart by time either, the pairs made there are marked unsure. The cost is
// O((len(a)+len(b)) log n).
func alignHoles(a, b []item, window time.Duration) alignment {
	return newHoleWalk(a, b, window).run()
}

// newHoleWalk starts alignHoles' walk at the start of a and b.
func newHoleWalk(a, b []item, window time.Duration) *holeWalk {
	w := &holeWalk{a: a, b: b, window: window,
		al: alignment{mb: make([]int, len(b)), before: make([]int, len(b)), unsureA: make([]bool, len(a)), unsureB: make([]bool, len(b))}}
	for j := range w.al.mb {
		w.al.mb[j] = -1
	}
	w.holeA = len(a) > 0 && a[0].hole > 0
	w.holeB = len(b) > 0 && b[0].hole > 0
	return w
}

// run walks a and b to the end of either and returns the alignment.
func (w *holeWalk) run() alignment {
	a, b := w.a, w.b
	for w.i < len(a) && w.j < len(b) {
		x, y := a[w.i], b[w.j]
		complete := !x.incomplete && !y.incomplete
		switch {
		case complete && (w.holeA || w.holeB) && w.acrossHole(x, y):
		case complete && x.digest == y.digest:
			w.sameDigest(x, y)
		case !complete && sizesAgree(x, y) && (neighboursAgree(a, b, w.i, w.j) || w.cutShort()):
			w.pair()
		default:
			w.skipToCopy(x, y)
		}
	}
	for j := w.j; j < len(b); j++ {
		w.al.before[j] = len(a)
	}
	if w.fuzzy {
		for i := w.i; i < len(a); i++ {
			w.al.unsureA[i] = true
		}
		for j := w.j; j < len(b); j++ {
			w.al.unsureB[j] = true
		}
	}
	return w.al
}

// holeWalk is alignHoles' walk through a and b: a[i] and b[j] are the next items to pair.
type holeWalk struct {
	a, b []item
	// ia and ib index a and b by digest, and anc starts as seedAnchor's: all made on first use
	// (index, anchor), as a walk through sequences that agree item for item, the common case,
	// needs none of them.
	ia, ib  digestIndex
	anc     anchor
	ancMade bool
	window  time.Duration
	al      alignment
	i, j    int
	// holeA/holeB: a hole was passed in a/b since the last sure match; fuzzy: the pairing is a
	// guess until the next sure match.
	holeA, holeB, fuzzy bool
}

// index makes ia and ib, once.
func (w *holeWalk) index() {
	if w.ia == nil {
		w.ia, w.ib = indexItems(w.a), indexItems(w.b)
	}
}

// anchor returns the anchor: the last sure match's, or seedAnchor's before there was one.
func (w *holeWalk) anchor() *anchor {
	if !w.ancMade {
		w.index()
		w.anc, w.ancMade = seedAnchor(w.a, w.b, w.ia, w.ib), true
	}
	return &w.anc
}

// stepA leaves a[i] behind (paired or not); stepB leaves b[j].
func (w *holeWalk) stepA() { w.step(&w.i, w.a, w.al.unsureA, &w.holeA) }
func (w *holeWalk) stepB() {
	w.al.before[w.j] = w.i
	w.step(&w.j, w.b, w.al.unsureB, &w.holeB)
}

// step moves position k of sequence s past its item, marking that item unsure in a fuzzy
// stretch, and notes a hole in s when the next item follows one.
func (w *holeWalk) step(k *int, s []item, unsure []bool, hole *bool) {
	if w.fuzzy {
		unsure[*k] = true
	}
	*k++
	if *k < len(s) && s[*k].hole > 0 {
		*hole = true
	}
}

// pair pairs a[i] with b[j].
func (w *holeWalk) pair() {
	w.al.mb[w.j] = w.i
	w.al.matched++
	w.stepA()
	w.stepB()
}

// acrossHole places x and y by their stream offsets after a hole, when the last sure match
// makes them comparable: it skips the items that lie in the other side's hole and reports
// whether it did. Otherwise the pairing becomes fuzzy where repeated payloads make order alone
// a guess.
func (w *holeWalk) acrossHole(x, y item) bool {
	w.index() // anchor() does not: a sure match may have set the anchor before any index
	a, b, anc := w.a, w.b, *w.anchor()
	if anc.usable(x) {
		// a[i:k] lie in b's hole (or did not reach b), or b[j:k] in a's (or are extra).
		if k := byOffset(a, w.ia, w.i, y, anc.src, int64(y.off)-anc.delta, int64(y.raw)-anc.raw); k > w.i && w.skipATo(k) {
			return true
		}
		if k := byOffset(b, w.ib, w.j, x, y.src, int64(x.off)+anc.delta, int64(x.raw)+anc.raw); k > w.j && w.skipBTo(k) {
			return true
		}
		// Neither has a copy at the other's offset: when the one that comes first in the
		// stream falls in the hole just before the other, it lies in that side's hole (both
		// sides may have one, where the hole of either swallowed the copy the other has).
		// Pairing them by order would tie copies a message or more apart.
		if y.holeKnown {
			sl := min(offsetSlack(x), offsetSlack(y))
			if inHoleBefore(int64(x.raw)+anc.raw, int64(x.off)+anc.delta, y, sl) && !w.pinnedOther(x, y, w.pinnedA(w.i)) {
				w.stepA()
				return true
			}
			if inHoleBefore(int64(y.raw)-anc.raw, int64(y.off)-anc.delta, x, sl) && !w.pinnedOther(x, y, w.pinnedB(w.j)) {
				w.stepB()
				return true
			}
		}
	}
	if !w.fuzzy && (repeats(w.ia, y.digest, w.i) || repeats(w.ib, x.digest, w.j)) {
		w.fuzzy = true
	}
	return false
}

// sameDigest pairs x and y, which carry the same payload, unless a later copy is closer in time
// (window); a sure pairing ends the fuzzy stretch and becomes the anchor.
func (w *holeWalk) sameDigest(x, y item) {
	if w.window > 0 && x.t != 0 && y.t != 0 && absDur(time.Duration(x.t-y.t)) > w.window {
		// Only then can closerLater find a copy closer in time, on either side.
		w.index()
		// a[i:k] did not reach b, or b[j:k] are extra.
		// Only a skip that reaches the closer copy: one stopped short by a pinned message would
		// leave x unpaired for a copy it can no longer reach (a TCP stall that delayed every
		// message past the window, the copies then arriving in a burst).
		if k := closerLater(w.a, w.ia, w.i, y.t, w.window); k > w.i && w.clearA(k) && w.skipATo(k) {
			return
		}
		if k := closerLater(w.b, w.ib, w.j, x.t, w.window); k > w.j && w.clearB(k) && w.skipBTo(k) {
			return
		}
	}
	if x.gone && w.i+1 < len(w.a) && w.a[w.i+1].digest == x.digest && !w.a[w.i+1].incomplete && !w.a[w.i+1].gone {
		w.stepA() // x did not get this far
		return
	}
	if w.fuzzy {
		w.index()
	}
	sure := !w.fuzzy || w.anchor().confirms(x, y) || (len(w.ia[x.digest]) == 1 && len(w.ib[x.digest]) == 1)
	if sure {
		w.fuzzy, w.holeA, w.holeB = false, false, false
		w.anc.set(x, y)
		w.ancMade = true
	}
	w.pair()
}

// skipToCopy moves past x or y, which do not pair: to the next copy of y in a or of x in b,
// whichever is nearer (the side with a hole lacks the items in between), or past both when
// neither has a later copy.
func (w *holeWalk) skipToCopy(x, y item) {
	w.index()
	ka, kb := -1, -1
	if !y.incomplete {
		ka = w.ia.next(y.digest, w.i)
	}
	if !x.incomplete {
		kb = w.ib.next(x.digest, w.j)
	}
	switch {
	case ka < 0 && kb < 0:
		w.stepA()
		w.stepB()
	case ka < 0:
		w.stepB()
	case kb < 0:
		w.stepA()
	case w.holeB && !w.holeA:
		// b's capture lacks bytes: a's messages up to y's copy lie in the hole.
		w.skipEither(ka, kb, true)
	case w.holeA && !w.holeB:
		w.skipEither(ka, kb, false)
	default:
		w.skipEither(ka, kb, w.skipA(ka, kb))
	}
}

// skipEither leaves a[i:ka] behind (aFirst) or b[j:kb], unless that would pass a pinned
// message: then the other side's, up to its own pinned message; where both are pinned (unique
// payloads in crossed order) the first as asked.
func (w *holeWalk) skipEither(ka, kb int, aFirst bool) {
	switch {
	case aFirst && (w.skipATo(ka) || w.skipBTo(kb)):
	case !aFirst && (w.skipBTo(kb) || w.skipATo(ka)):
	case aFirst:
		for w.i < ka {
			w.stepA()
		}
	default:
		for w.j < kb {
			w.stepB()
		}
	}
}

// pinnedA reports whether a[k] carries a payload that occurs once in a and once in b, its copy
// in b not yet passed: the same message at both hops. Leaving it behind unpaired would count one
// message missing at one hop and extra at the next, and shift the pairs of repeated copies
// around it. pinnedB is the same for b[k].
func (w *holeWalk) pinnedA(k int) bool {
	w.index()
	pa, pb := w.ia[w.a[k].digest], w.ib[w.a[k].digest]
	return !w.a[k].incomplete && len(pa) == 1 && len(pb) == 1 && pb[0] >= w.j
}

func (w *holeWalk) pinnedB(k int) bool {
	w.index()
	pa, pb := w.ia[w.b[k].digest], w.ib[w.b[k].digest]
	return !w.b[k].incomplete && len(pa) == 1 && len(pb) == 1 && pa[0] >= w.i
}

// pinnedOther reports whether the item the offsets would step past is pinned (pinned) while
// the item facing it is another message: the anchor, then, is off by a message dropped before.
// Facing its own copy, the step stands: the anchor's offsets put the copy in the hole, so the
// hole held a message the other side lacks, and pairing the two would hide that loss.
func (w *holeWalk) pinnedOther(x, y item, pinned bool) bool {
	return pinned && x.digest != y.digest
}

// clearA reports whether a[i:k] holds no pinned message, so that skipATo(k) gets to k; clearB
// does the same in b.
func (w *holeWalk) clearA(k int) bool {
	for i := w.i; i < k; i++ {
		if w.pinnedA(i) {
			return false
		}
	}
	return true
}

func (w *holeWalk) clearB(k int) bool {
	for j := w.j; j < k; j++ {
		if w.pinnedB(j) {
			return false
		}
	}
	return true
}

// skipATo leaves a[i:k] behind, stopping at a pinned message, and reports whether it moved;
// skipBTo does the same in b.
func (w *holeWalk) skipATo(k int) bool {
	i := w.i
	for w.i < k && !w.pinnedA(w.i) {
		w.stepA()
	}
	return w.i > i
}

func (w *holeWalk) skipBTo(k int) bool {
	j := w.j
	for w.j < k && !w.pinnedB(w.j) {
		w.stepB()
	}
	return w.j > j
}

// lookahead is how many pairs past a skip skipA compares.
const lookahead = 16

// skipA decides, where a's next copy of b[j] is a[ka] and b's next copy of a[i] is b[kb],
// between a[i:ka] missing downstream and b[j:kb] extra there: the skip after which more items
// pair in order, and on a tie the shorter one. The nearest copy alone would take a unique
// message for an extra one whenever a repeated one, which has copies everywhere, is nearer.
func (w *holeWalk) skipA(ka, kb int) bool {
	ra, rb := inStep(w.a, w.b, ka, w.j), inStep(w.a, w.b, w.i, kb)
	if ra != rb {
		return ra > rb
	}
	return ka-w.i <= kb-w.j
}

// inStep counts how many items of a from i and of b from j pair in order by digest, up to
// lookahead.
func inStep(a, b []item, i, j int) int {
	n := 0
	for ; n < lookahead && i+n < len(a) && j+n < len(b); n++ {
		x, y := a[i+n], b[j+n]
		if x.incomplete || y.incomplete || x.digest != y.digest {
			break
		}
	}
	return n
}

// anchor is the offset difference of the last sure match: b's offset minus a's, data (delta) and
// raw, with the hop a's offsets came from.
type anchor struct {
	ok         bool
	src        int
	delta, raw int64
}

func (n *anchor) set(x, y item) {
	if sameFrame(x, y) {
		*n = anchor{ok: true, src: x.src, delta: int64(y.off) - int64(x.off), raw: int64(y.raw) - int64(x.raw)}
	} else {
		*n = anchor{} // the hops frame this message differently: their offsets drift apart
	}
}

// usable reports whether x's offsets compare with the anchor's.
func (n *anchor) usable(x item) bool { return n.ok && x.holeKnown && x.src == n.src }

// confirms reports whether x and y keep the anchor's delta.
func (n *anchor) confirms(x, y item) bool {
	if !n.usable(x) || !y.holeKnown || !sameFrame(x, y) {
		return false
	}
	sl := offsetSlack(y)
	return absInt(int64(y.off)-int64(x.off)-n.delta) <= sl || absInt(int64(y.raw)-int64(x.raw)-n.raw) <= sl
}

// inHoleBefore reports whether a message at raw and data offsets raw and off, in the
// coordinates of item it's stream, lies in the hole just before it: before it by more than
// slack, and not before the hole.
func inHoleBefore(raw, off int64, it item, slack int64) bool {
	return it.hole > 0 && raw+slack < int64(it.raw) && off+slack < int64(it.off) &&
		raw+slack >= int64(it.raw)-int64(it.hole) && off+slack >= int64(it.off)-int64(it.hole)
}

// sameFrame reports whether x and y take the same bytes in their streams: only then do offsets
// carry across a hole (hops that frame messages differently, by compression or masking, drift by
// the difference for every message the hole swallowed).
func sameFrame(x, y item) bool {
	return x.holeKnown && y.holeKnown && x.end-x.off == y.end-y.off
}

// offsetSlack is how far a pair's delta may stray from the anchor's and still be the same
// message: less than half a copy, so that neighbouring copies of a repeated message are never
// mistaken for one another, and the few bytes two hops may frame differently (a masking key).
func offsetSlack(y item) int64 {
	return max(int64(y.end-y.off)/2-1, 0)
}

// maxOffsetScan bounds the copies of a message examined when placing one by offset.
const maxOffsetScan = 4096

// byOffset looks in s from position from for a message with y's digest (y being from the other
// sequence) at data offset want, or raw offset wantRaw, of hop src, give or take offsetSlack. It
// returns its position or -1.
func byOffset(s []item, idx digestIndex, from int, y item, src int, want, wantRaw int64) int {
	pos := idx[y.digest]
	k := sort.SearchInts(pos, from)
	slack := offsetSlack(y)
	for n := 0; k < len(pos) && n < maxOffsetScan; k, n = k+1, n+1 {
		c := s[pos[k]]
		if !c.holeKnown || c.src != src || !sameFrame(c, y) {
			continue
		}
		d, dr := int64(c.off)-want, int64(c.raw)-wantRaw
		if absInt(d) <= slack || absInt(dr) <= slack {
			return pos[k]
		}
		if d > slack && dr > slack {
			break // offsets only grow along one hop's stream
		}
	}
	return -1
}

// seedAnchor is the first anchor: the most common delta among messages whose digest occurs once
// in each sequence, from a's most common hop; none when there is no such message.
func seedAnchor(a, b []item, ia, ib digestIndex) anchor {
	type key struct {
		src        int
		delta, raw int64
	}
	count := map[key]int{}
	var best key
	bestN := 0
	for _, y := range b {
		if y.incomplete || !y.holeKnown || len(ib[y.digest]) != 1 || len(ia[y.digest]) != 1 {
			continue
		}
		x := a[ia[y.digest][0]]
		if !sameFrame(x, y) {
			continue
		}
		k := key{x.src, int64(y.off) - int64(x.off), int64(y.raw) - int64(x.raw)}
		count[k]++
		// Ties go to the earliest, so the result does not depend on map order.
		if count[k] > bestN {
			best, bestN = k, count[k]
		}
	}
	if bestN == 0 {
		return anchor{}
	}
	return anchor{ok: true, src: best.src, delta: best.delta, raw: best.raw}
}

// repeats reports whether digest d occurs more than once in the sequence from position from.
func repeats(idx digestIndex, d capture.Digest64, from int) bool {
	pos := idx[d]
	k := sort.SearchInts(pos, from)
	return len(pos)-k > 1
}

func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// closerLater looks, in s after position i, for a message with the same digest as s[i] that is
// closer in time to t, when s[i] is more than window away from t. It returns its position or -1.
func closerLater(s []item, idx digestIndex, i int, t int64, window time.Duration) int {
	if t == 0 || s[i].t == 0 {
		return -1
	}
	best := absDur(time.Duration(s[i].t - t))
	if best <= window {
		return -1
	}
	found := -1
	k := i
	for n := 0; n < maxTimeScan; n++ {
		k = idx.next(s[i].digest, k+1)
		if k < 0 {
			break
		}
		d := absDur(time.Duration(s[k].t - t))
		if d >= best {
			break
		}
		best, found = d, k
	}
	return found
}

// sizesAgree reports whether two messages, one of them incomplete, may be the same message:
// an incomplete message's length is a lower bound.
func sizesAgree(x, y item) bool {
	switch {
	case x.incomplete && y.incomplete:
		return true
	case x.incomplete:
		return x.length <= y.length
	default:
		return y.length <= x.length
	}
}

// cutShort reports whether the next items of a and b are the same message, one of them cut short
// at the end of its sequence (the capture or the connection ended inside it): its bytes are
// the start of the next message the other side has, as long as the items before them were
// paired with each other. Left unpaired, it would be a message of its own, counted as missing
// beside the one it is part of.
func (w *holeWalk) cutShort() bool {
	x, y := w.a[w.i], w.b[w.j]
	if !(x.incomplete && w.i+1 == len(w.a)) && !(y.incomplete && w.j+1 == len(w.b)) {
		return false
	}
	if w.i == 0 || w.j == 0 {
		return w.i == w.j
	}
	return w.al.mb[w.j-1] == w.i-1
}

// neighboursAgree reports whether the messages after a[i] and b[j] match, or both sequences end.
func neighboursAgree(a, b []item, i, j int) bool {
	switch {
	case i+1 == len(a) && j+1 == len(b):
		return true
	case i+1 == len(a) || j+1 == len(b):
		return false
	}
	x, y := a[i+1], b[j+1]
	return !x.incomplete && !y.incomplete && x.digest == y.digest
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
