package correlate

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// changedAt looks for what message id (track position k, last seen intact at hop last) became at
// hop h, where its digest is missing: a message at h that matches nothing at any hop before h,
// at the same stream position (between the same neighbours matched at both last and h), with
// the same opcode and arriving when the original would have (within the latency bounds). It
// returns nil when there is none, and how sure the pairing is.
func (j *judger) changedAt(k int, id *ident, h, last int) (*capture.Entry, pairing) {
	return j.pairAt(k, id, h, last, -1, func(x *ident) bool { return j.onlyFrom(x, h) && !j.guessedCopy(x, h) })
}

// guessedCopy reports whether x, at hop h, is a copy of a payload whose pairing was a guess at
// h or before: it matching nothing upstream may only mean it was paired one copy off, so it is
// no evidence of a change.
func (j *judger) guessedCopy(x *ident, h int) bool {
	m := x.at(h)
	if m == nil {
		return false
	}
	p, ok := j.guessPos()[m.Digest()]
	return ok && p <= j.pos[h]
}

// pairing says on what a message and its changed version were paired.
type pairing uint8

const (
	pairNone    pairing = iota
	pairTimed           // stream position, opcode and time agree
	pairUntimed         // position and opcode: the clocks of the two hops could not be compared
	// pairLate: position (between two neighbours matched at both hops) and opcode, but it
	// arrived outside the time window: a slow rewriting proxy, or a different message.
	pairLate
)

// restoredAt reports what stands at hop h in the place of message id (seen at hop last, missing
// at h), when that is a message seen before id's first hop but not at last: id is then a changed
// copy in the captures of the hops from its first to last only (damaged there, or changed and
// changed back), and the message itself went on intact. It returns nil otherwise.
func (j *judger) restoredAt(k int, id *ident, h, last int) *capture.Entry {
	first := -1
	for _, u := range j.tr.travel {
		if id.at(u) != nil {
			first = u
			break
		}
	}
	m, how := j.pairAt(k, id, h, last, first, func(x *ident) bool { return j.seenBefore(x, first) })
	if how == pairLate {
		return nil
	}
	return m
}

// pairAt finds, at hop h, the message standing in the place of message id (track position k,
// seen at hop last, missing at h): among the messages at h between the same neighbours (matched
// at both last and h) that are not at last and satisfy candidate, the one in id's place. When the
// window holds as many candidates as messages missing at h, they pair in order; otherwise only an
// unambiguous pair is accepted. A pair must have the same opcode, be complete, and, when the
// clock offsets of both hops are known (timed), arrive within changeWindow of when id would have;
// except that with equal counts and a neighbour on either side, the order alone pairs a late
// message (pairLate). kind names the candidate test for the window cache: each window is paired
// once, so a long loss costs time in proportion to its length, not its square.
func (j *judger) pairAt(k int, id *ident, h, last, kind int, candidate func(*ident) bool) (*capture.Entry, pairing) {
	if id.at(h) != nil || !complete(id.at(last)) {
		return nil, pairNone // a partial copy at h, or a message without a digest: not comparable
	}
	anchors := j.anchorsOf(h, last)
	a := sort.SearchInts(anchors, k) // anchors[a-1] < k <= anchors[a]; k itself is not an anchor
	lo, hi := -1, len(j.tr.ids)
	if a > 0 {
		lo = anchors[a-1]
	}
	if a < len(anchors) {
		hi = anchors[a]
	}
	key := windowKey{h: h, last: last, lo: lo, kind: kind}
	w, ok := j.windows[key]
	if !ok {
		w = j.pairWindow(h, last, lo, hi, candidate)
		if j.windows == nil {
			j.windows = map[windowKey]map[int]windowPair{}
		}
		j.windows[key] = w
	}
	if p, ok := w[k]; ok {
		return j.tr.ids[p.cand].at(h), p.how
	}
	return nil, pairNone
}

// windowKey identifies one window of a track between neighbours matched at hops h and last, and
// the kind of candidates looked for in it.
type windowKey struct{ h, last, lo, kind int }

// windowPair is the candidate (track position) paired with a missing message, and on what.
type windowPair struct {
	cand int
	how  pairing
}

// anchorsOf lists, ascending, the track positions of the messages present at both hop h and
// hop last: the neighbours that delimit windows.
func (j *judger) anchorsOf(h, last int) []int {
	key := [2]int{h, last}
	if a, ok := j.anchors[key]; ok {
		return a
	}
	var a []int
	for p, x := range j.tr.ids {
		if x.at(last) != nil && j.present(x, h) {
			a = append(a, p)
		}
	}
	if j.anchors == nil {
		j.anchors = map[[2]int][]int{}
	}
	j.anchors[key] = a
	return a
}

// maxPairChecks bounds the pairs of missing messages and candidates tried in one window whose
// counts differ; past it nothing is paired there (the changes cannot be told from the losses
// cheaply, and saying nothing is better than guessing).
const maxPairChecks = 1 << 20

// pairWindow pairs the messages missing at h in the window (lo, hi) of the track with the
// candidates there, as pairAt describes, keyed by the missing message's track position.
func (j *judger) pairWindow(h, last, lo, hi int, candidate func(*ident) bool) map[int]windowPair {
	ids := j.tr.ids
	var missing, cands []int
	for p := lo + 1; p < hi; p++ {
		switch {
		case ids[p].at(last) != nil && ids[p].at(h) == nil:
			missing = append(missing, p)
		case ids[p].at(h) != nil && ids[p].at(last) == nil && candidate(ids[p]):
			cands = append(cands, p)
		}
	}
	out := map[int]windowPair{}
	if len(cands) == 0 {
		return out
	}
	timed := j.hs[h].offKnown && j.hs[last].offKnown
	how := pairTimed
	if !timed {
		how = pairUntimed
	}
	// A candidate with the missing message's own payload is another copy of it, which
	// alignment placed elsewhere (identical messages around a capture hole), not a change.
	alike := func(m, c *capture.Entry) bool {
		return complete(m) && complete(c) && c.Opcode() == m.Opcode() && c.Digest() != m.Digest()
	}
	fits := func(m, c *capture.Entry) bool {
		return alike(m, c) && (!timed || j.inTime(m, last, c, h))
	}
	if len(missing) == len(cands) {
		for i, p := range missing {
			m, c := ids[p].at(last), ids[cands[i]].at(h)
			switch {
			case fits(m, c):
				out[p] = windowPair{cands[i], how}
			case alike(m, c) && lo >= 0 && hi < len(ids):
				out[p] = windowPair{cands[i], pairLate}
			}
		}
		return out
	}
	// Unequal counts (a message lost and another changed between the same neighbours): a pair
	// only where exactly one candidate fits a missing message and it fits no other one.
	if !timed || len(missing)*len(cands) > maxPairChecks {
		return out
	}
	fitsOf := make(map[int][]int, len(missing)) // missing position -> candidates that fit it
	fitCount := make(map[int]int, len(cands))   // candidate -> missing messages it fits
	for _, p := range missing {
		for _, o := range cands {
			if fits(ids[p].at(last), ids[o].at(h)) {
				fitsOf[p] = append(fitsOf[p], o)
				fitCount[o]++
			}
		}
	}
	for _, p := range missing {
		if f := fitsOf[p]; len(f) == 1 && fitCount[f[0]] == 1 {
			out[p] = windowPair{f[0], how}
		}
	}
	return out
}

// seenBefore reports whether message id was seen at a hop before hop h in travel order.
func (j *judger) seenBefore(id *ident, h int) bool {
	for _, u := range j.tr.travel {
		if u == h {
			return false
		}
		if id.at(u) != nil {
			return true
		}
	}
	return false
}

// onlyFrom reports whether message id was first seen at hop h: no hop before h in travel order
// has it, so it matches nothing upstream.
func (j *judger) onlyFrom(id *ident, h int) bool {
	for _, u := range j.tr.travel {
		if u == h {
			return true
		}
		if id.at(u) != nil {
			return false
		}
	}
	return false
}

// inTime reports whether c, seen at hop h, arrived when m, seen at hop last, would have: within
// changeWindow of the expected time, either side (clock offsets are estimates).
func (j *judger) inTime(m *capture.Entry, last int, c *capture.Entry, h int) bool {
	d := c.First().Sub(j.expected(m.First(), last, h))
	return absDur(d) <= j.changeWindow(last, h)
}

// changeWindow bounds how far from the expected time a message changed between hops last and h
// may arrive: three times the sum of the largest latencies measured on the segments between
// them (a rewriting proxy takes about as long as one that forwards), at least 50ms, at most the
// tolerance; the tolerance when nothing was measured.
func (j *judger) changeWindow(last, h int) time.Duration {
	tol := j.opts.tolerance()
	var sum time.Duration
	for x := min(last, h) + 1; x <= max(last, h); x++ {
		var worst time.Duration
		for _, l := range j.hs[x].latency {
			worst = max(worst, l)
		}
		sum += worst
	}
	if sum == 0 {
		return tol
	}
	return min(max(3*sum, 50*time.Millisecond), tol)
}

// complete reports whether m's whole payload was read, so its digest and size are its own.
func complete(m *capture.Entry) bool {
	return m != nil && !m.Digest().IsZero() && !m.Flags().Has(capture.Incomplete) && !m.Flags().Has(capture.Undecodable)
}

// modified turns f, a message missing by digest at hop h, into a modified finding when h has
// the message changed. It reports false when it has not.
func (j *judger) modified(f finding, k int, id *ident, h int) (finding, bool) {
	c, how := j.changedAt(k, id, h, f.lastHop)
	if c == nil {
		return f, false
	}
	m := f.msg
	f.verdict, f.changed, f.low = schema.Modified, c, f.low || how != pairTimed
	what := "same size"
	switch d := c.Length() - m.Length(); {
	case d < 0:
		what = fmt.Sprintf("%d bytes shorter", -d)
	case d > 0:
		what = fmt.Sprintf("%d bytes longer", d)
	}
	if off := firstDifference(j.full(f.lastHop, m), j.full(h, c)); off != nil {
		what += fmt.Sprintf(", first difference at byte %d", *off)
	}
	f.why = fmt.Sprintf("message %d (%d bytes, %s at %s, %s packet %d, digest %s) reached %s changed: in its place %s has a %d-byte %s message that matches nothing upstream (%s at %s, %s packet %d, digest %s), %s; the component between %s and %s altered it",
		j.num(f.lastHop, m), m.Length(), j.hs[f.lastHop].name, j.stampAt(m.First(), f.lastHop), filepath.Base(j.ref(f.lastHop, m).File), j.ref(f.lastHop, m).Number, m.Digest().Short(),
		j.hs[h].name, j.hs[h].name, c.Length(), c.Opcode(), j.hs[h].name, j.stampAt(c.First(), h), filepath.Base(j.ref(h, c).File), j.ref(h, c).Number, c.Digest().Short(),
		what, j.hs[f.lastHop].name, j.hs[h].name)
	switch how {
	case pairUntimed:
		f.why += fmt.Sprintf(" (matched by position only: the clock offset of %s or %s is unknown)", j.hs[f.lastHop].name, j.hs[h].name)
	case pairLate:
		d, when := c.First().Sub(j.expected(m.First(), f.lastHop, h)), "later"
		if d < 0 {
			d, when = -d, "earlier"
		}
		f.why += fmt.Sprintf(" (matched by position only, between the same neighbours at both hops: it arrived %s %s than the latency measured would have it, more than the %s allowed)",
			d.Round(time.Millisecond), when, j.changeWindow(f.lastHop, h))
	}
	return f, true
}

// firstDifference returns the offset of the first payload byte where a and b differ, from their
// previews: the first differing preview byte, or, when the previews agree over the whole of the
// shorter payload, its size. It returns nil when the previews end before any difference.
func firstDifference(a, b *capture.Message) *int64 {
	if a == nil || b == nil {
		return nil // not read again: the previews are not known
	}
	n := min(len(a.Preview), len(b.Preview))
	for i := range n {
		if a.Preview[i] != b.Preview[i] {
			v := int64(i)
			return &v
		}
	}
	if int64(n) == min(a.Length, b.Length) && a.Length != b.Length {
		v := int64(n)
		return &v
	}
	return nil
}

// changeOf describes a modified finding's two messages for the contract.
func (j *judger) changeOf(f *finding) *schema.Change {
	m, c := f.msg, f.changed
	fm, fc := j.full(f.lastHop, m), j.full(f.missHop, c)
	version := func(h int, x *capture.Entry, full *capture.Message) schema.MessageVersion {
		v := schema.MessageVersion{MessageRef: *j.messageRef(h, x, full), Size: x.Length()}
		if full != nil {
			v.Digest = full.Digest.String()
		}
		return v
	}
	return &schema.Change{Original: version(f.lastHop, m, fm), Changed: version(f.missHop, c, fc), SizeDelta: c.Length() - m.Length(),
		FirstDifference: firstDifference(fm, fc)}
}

// changedCopy explains a message that hop h's capture has changed while hops on both sides of it
// (prev before, later after) have it as sent.
func (j *judger) changedCopy(m *capture.Entry, prev int, c *capture.Entry, h, later int) string {
	return fmt.Sprintf("%s's capture has message %d changed (%d bytes, %s packet %d, digest %s, instead of %d bytes, digest %s at %s), but %s, further along, has it as sent: the network delivered it intact; the capture at %s is damaged, or the message was changed there and changed back",
		j.hs[h].name, j.num(prev, m), c.Length(), filepath.Base(j.ref(h, c).File), j.ref(h, c).Number, c.Digest().Short(),
		m.Length(), m.Digest().Short(), j.hs[prev].name, j.hs[later].name, j.hs[h].name)
}

// changedList says which messages reached which hop changed, for a direction with more than one
// or, as a note, with a worse verdict: "2 changed: #2, #5 at fw".
func (j *judger) changedList(fs []finding) string {
	var parts []string
	for i := 0; i < len(fs); {
		k := i
		var nums []string
		for ; k < len(fs) && fs[k].missHop == fs[i].missHop; k++ {
			nums = append(nums, fmt.Sprintf("#%d", j.num(fs[k].lastHop, fs[k].msg)))
		}
		parts = append(parts, fmt.Sprintf("%s at %s", strings.Join(nums, ", "), j.hs[fs[i].missHop].name))
		i = k
	}
	return fmt.Sprintf("%d changed: %s", len(fs), strings.Join(parts, "; "))
}
