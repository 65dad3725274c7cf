package correlate

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// Hop is one capture point of the path, as given to Compare.
type Hop struct {
	Name    string
	Files   []string         // the capture files, for the report
	Capture *capture.Capture // what was read at this hop; nil when nothing could be read
	// ClockOffset is the known offset of this hop's clock against the first hop's (this hop's
	// clock minus the first's), or nil to estimate it.
	ClockOffset *time.Duration
	// Err is why the capture could not be read, in full or at all; nil when it was.
	Err error
	// Dropped is how many packets the capturing program said it dropped at this hop (tcpdump's
	// "packets dropped by kernel" at exit); 0 when not known. pcapng files carry their own count.
	Dropped int64
	// src is the position of the Hop given to Compare that this one was made from (splitSides).
	src int
}

// withEntries returns the sessions with their Entries: a session that holds Messages without
// Entries (made by hand, or by a bridge hop) is replaced by a copy with Entries made from its
// Messages, so the caller's sessions are left as they are.
func withEntries(ss []*capture.Session) []*capture.Session {
	for i, s := range ss {
		ss[i] = capture.WithEntries(s)
	}
	return ss
}

// Options tune Compare. The zero value means the defaults.
type Options struct {
	// Incident is a label copied to Result.Incident.
	Incident string
	// MaxClockSkew bounds how far apart, after known clock offsets, two sessions at different
	// hops may start and still be matched without a Sec-WebSocket-Key. 0 means 10s.
	MaxClockSkew time.Duration
	// Tolerance is the slack for comparing times across hops: latency, clock offset estimates,
	// a message in flight when a capture stopped. 0 means 1s.
	Tolerance time.Duration
}

func (o *Options) maxClockSkew() time.Duration {
	if o.MaxClockSkew > 0 {
		return o.MaxClockSkew
	}
	return 10 * time.Second
}

func (o *Options) tolerance() time.Duration {
	if o.Tolerance > 0 {
		return o.Tolerance
	}
	return time.Second
}

// hopState is a hop during a comparison.
type hopState struct {
	name      string
	files     []string
	cap       *capture.Capture
	sessions  []*capture.Session
	off       time.Duration // this hop's clock minus the first hop's
	offKnown  bool
	offSource string
	latency   []time.Duration
	matched   int
	drops     []dropCount // what the capture admits it dropped
	// excluded: the hop's capture cannot take part (no WebSocket, another run); warnings say why.
	excluded bool
	warnings []string
	err      error // reading the capture failed
	// src is the position of the Hop this state was made from (splitSides makes two of one).
	src int
	// evidence holds the full Message of the messages a report names, read again after a
	// Compact read (see Analysis); wants collects those the judges asked for and found neither
	// there nor in the session.
	evidence map[capture.Want]*capture.Message
	wants    map[capture.Want]bool
	asked    int // how many times the judges missed a full Message (see Analysis.asked)
	// leftover is what matching left unpaired at this hop (see noteLeftovers).
	leftover leftovers
}

// ident is one message followed across hops: the message at each hop (at), nil where not seen.
// Which entry that is lives in its track's slab, an entry index a hop, so that a message costs a
// few bytes a hop and no pointer for the garbage collector to follow per hop.
type ident struct {
	tr   *track
	slot int32 // its hops' entry indices are tr.slab[slot*n : (slot+1)*n], -1 where not seen
}

// at returns the message at hop h, or nil.
func (id *ident) at(h int) *capture.Entry {
	tr := id.tr
	i := tr.slab[int(id.slot)*len(tr.sess)+h]
	if i < 0 {
		return nil
	}
	return &tr.sess[h].Entries(tr.dir)[i]
}

// set records that the message at hop h is the entry of index i there.
func (id *ident) set(h int, i int32) { id.tr.slab[int(id.slot)*len(id.tr.sess)+h] = i }

// markUnsure records that id's pairing at hop h was a guess: one of several identical messages
// around a capture hole that offsets and times could not tell apart.
func (id *ident) markUnsure(h int) {
	tr := id.tr
	if tr.unsure == nil {
		tr.unsure = map[int32][]bool{}
	}
	u := tr.unsure[id.slot]
	if u == nil {
		u = make([]bool, len(tr.sess))
		tr.unsure[id.slot] = u
	}
	u[h] = true
}

// markByOrder records that id, one of several identical copies, is missing at some hop by
// order alone: which of the copies went missing there is not known.
func (tr *track) markByOrder(id *ident) {
	if tr.byOrder == nil {
		tr.byOrder = map[int32]bool{}
	}
	tr.byOrder[id.slot] = true
}

// unsureAt reports whether id's pairing at hop h was a guess.
func (id *ident) unsureAt(h int) bool {
	u := id.tr.unsure[id.slot]
	return u != nil && u[h]
}

// track is one direction of one connection, aligned across hops.
type track struct {
	dir    capture.Direction
	travel []int    // hop indices in the direction of travel
	ids    []*ident // in stream order
	// sess are the connection's sessions, per hop; slab holds the idents' entry indices (see
	// ident); unsure the hops of each ident (by slot) whose pairing was a guess, for the few.
	sess   []*capture.Session
	slab   []int32
	unsure map[int32][]bool
	// byOrder holds the idents (by slot) of copies that some hop lacks, one of a run of
	// identical messages whose times could not tell which copies went missing: placed by
	// order, counted from the last.
	byOrder map[int32]bool
	// free is the unused part of the block idents are carved from; left bounds the idents yet
	// to make, so a short track takes a block of its size.
	free []ident
	left int
}

// newIdent returns a new ident of the track, seen at no hop yet.
func (tr *track) newIdent() *ident {
	if len(tr.free) == 0 {
		tr.free = make([]ident, max(min(identBlock, tr.left), 1))
	}
	tr.left--
	id := &tr.free[0]
	tr.free = tr.free[1:]
	*id = ident{tr: tr, slot: int32(len(tr.slab) / len(tr.sess))}
	for range tr.sess {
		tr.slab = append(tr.slab, -1)
	}
	return id
}

// identBlock is how many idents are allocated at once.
const identBlock = 256

// Compare follows WebSocket connections across the hops of a path (in path order, client side
// first), aligns their messages hop by hop and decides, per connection and direction, whether
// messages were delivered and where they disappeared. It is a pure function of its inputs: it
// does not read files, print, or look at the clock, and its Result is deterministic. The
// captures are only read; the Result refers to nothing in them.
//
// The evidence of the messages a verdict names (full digest, last packet, where a changed
// message first differs) comes from the sessions' Messages. For captures read with
// capture.Options.Compact, which keep none, use Analyze, ReadEvidence and Analysis.Result.
func Compare(hops []Hop, opts Options) *schema.Result {
	return Analyze(hops, opts).Result(nil)
}

// Analysis is a comparison decided (connections matched, messages aligned, clocks estimated)
// but not yet written up: its Result needs the full Message of the few messages the verdicts
// name, which a Compact read does not keep. The stages are
//
//	a := Analyze(hops, opts)                            // the Entries of every hop
//	ev, err := ReadEvidence(ctx, cfg, copts, a.Wanted()) // a second read of those few messages
//	res := a.Result(ev)
//
// An Analysis is not safe for concurrent use.
type Analysis struct {
	hs      []*hopState
	conns   []*conn
	tracks  [][2]*track
	order   []int // conns in report order
	opts    Options
	nhops   int            // hops given to Analyze
	refused *schema.Result // the comparison was refused: the Result whatever the evidence
	// judged holds, by report position, the connections Wanted judged without asking for any
	// evidence, for the next Result; nil for those to judge again.
	judged []*schema.Connection
}

// Analyze matches, aligns and judges the hops as Compare does, short of writing the Result.
func Analyze(hops []Hop, opts Options) *Analysis {
	a := &Analysis{opts: opts, nhops: len(hops)}
	hops = splitSides(hops)
	hs := make([]*hopState, len(hops))
	for i, h := range hops {
		st := &hopState{name: h.Name, files: h.Files, cap: h.Capture, err: h.Err, drops: dropsOf(h)}
		if h.Dropped > 0 {
			st.warnings = append(st.warnings, droppedWarning(h.Dropped))
		}
		if w := copiesWarning(h.Capture); w != "" {
			st.warnings = append(st.warnings, w)
		}
		st.sessions = withEntries(sessionsByStart(h.Capture))
		st.src = h.src
		hs[i] = st
	}
	a.hs = hs
	if len(hs) < 2 {
		a.refused = refused(hs, singleHop(hops))
		return a
	}
	conns := connect(hops, hs, &opts)
	if out := leaveOut(conns, hs); len(out) > 0 {
		for h, why := range out {
			hs[h].excluded = true
			hs[h].warnings = append(hs[h].warnings, why)
		}
		conns = connect(hops, hs, &opts)
	}

	// Align with the preliminary offsets, then estimate the offsets again from the messages.
	tracks := buildTracks(conns, hs, &opts)
	refineOffsets(conns, tracks, hs)
	measureLatency(tracks, hs)
	if why := checkOrder(conns, tracks, hs); why != "" {
		a.refused = refused(hs, why)
		return a
	}
	clockWarnings(hs)

	order := make([]int, len(conns))
	starts := make([]time.Time, len(conns))
	for i, c := range conns {
		order[i] = i
		starts[i] = c.refStart(hs)
		for h, s := range c.sess {
			if s != nil {
				hs[h].matched++
			}
		}
	}
	slices.SortStableFunc(order, func(x, y int) int {
		if c := starts[x].Compare(starts[y]); c != 0 {
			return c
		}
		return cmp.Compare(firstKey(conns[x]), firstKey(conns[y]))
	})
	noteLeftovers(conns, hs)
	a.conns, a.tracks, a.order = conns, tracks, order
	return a
}

// Wanted lists, per hop given to Analyze, the messages whose full Message the Result needs and
// the sessions do not hold (none when they hold Messages): what ReadEvidence reads again. It
// judges every connection to find them, and keeps for the next Result the connections judged
// without asking for any (most of them, as only messages a verdict names are asked for).
func (a *Analysis) Wanted() [][]capture.Want {
	out := make([][]capture.Want, a.nhops)
	if a.refused != nil {
		return out
	}
	a.judged = make([]*schema.Connection, len(a.order))
	a.useEvidence(nil)
	for id, i := range a.order {
		asked := a.asked()
		cn := buildConnection(id+1, a.conns[i], a.tracks[i], a.hs, &a.opts)
		if a.asked() == asked {
			a.judged[id] = &cn // judged in full without evidence: Result would judge it the same
		}
	}
	for _, st := range a.hs {
		for w := range st.wants {
			out[st.src] = append(out[st.src], w)
		}
	}
	for _, ws := range out {
		slices.SortFunc(ws, func(x, y capture.Want) int {
			return cmp.Or(cmp.Compare(x.Session, y.Session), cmp.Compare(x.Direction, y.Direction), cmp.Compare(x.Index, y.Index))
		})
	}
	return out
}

// Result writes up the comparison. evidence holds, per hop given to Analyze, the full Messages
// that Wanted listed (ReadEvidence); nil when the sessions hold their Messages. A message named
// without its full Message has no digest, last packet or first difference in the Result.
func (a *Analysis) Result(evidence []map[capture.Want]*capture.Message) *schema.Result {
	if a.refused != nil {
		return a.refused
	}
	hs, opts := a.hs, &a.opts
	a.useEvidence(evidence)
	r := &schema.Result{Schema: schema.Schema, Incident: opts.Incident, Connections: []schema.Connection{}}
	for id, i := range a.order {
		if id < len(a.judged) && a.judged[id] != nil {
			r.Connections = append(r.Connections, *a.judged[id])
			continue
		}
		r.Connections = append(r.Connections, buildConnection(id+1, a.conns[i], a.tracks[i], hs, opts))
	}
	a.judged = nil // the Result holds them now; a later Result judges afresh
	r.Hops = hopResults(hs)
	r.Segments = segments(a.conns, a.tracks, hs)
	r.Summary = summarize(r)
	for _, h := range hs {
		if h.excluded {
			r.Summary.LeftOut = append(r.Summary.LeftOut, h.name)
		}
	}
	if len(r.Summary.LeftOut) > 0 {
		r.Summary.Reason += fmt.Sprintf("; judged without %s, left out (see the warnings)", strings.Join(r.Summary.LeftOut, " and "))
	}
	return r
}

// useEvidence gives each hop its part of evidence (see Result).
func (a *Analysis) useEvidence(evidence []map[capture.Want]*capture.Message) {
	for _, st := range a.hs {
		st.evidence = nil
		if st.src < len(evidence) {
			st.evidence = evidence[st.src]
		}
	}
}

// asked counts the times judges asked for a full Message that neither the sessions nor the
// evidence held (judger.full).
func (a *Analysis) asked() int {
	n := 0
	for _, st := range a.hs {
		n += st.asked
	}
	return n
}

// buildTracks aligns both directions of every connection, on every core: a track's alignment
// reads the sessions and hop states and writes only the track.
func buildTracks(conns []*conn, hs []*hopState, opts *Options) [][2]*track {
	tracks := make([][2]*track, len(conns))
	n := 2 * len(conns)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			var bufs trackBufs
			for k := int(next.Add(1) - 1); k < n; k = int(next.Add(1) - 1) {
				dir := capture.Directions[k%2]
				tracks[k/2][dir] = buildTrack(conns[k/2], hs, dir, opts, &bufs, nil)
			}
		})
	}
	wg.Wait()
	// Runs of identical copies whose delay between two hops nothing in their own connection
	// told (every message a heartbeat, behind a component with its own handshake) are built
	// again with the delay the other connections show there.
	var delays map[delayKey]int64
	var bufs trackBufs
	for k := range tracks {
		for dir, tr := range tracks[k] {
			if tr == nil || tr.byOrder == nil {
				continue
			}
			if delays == nil {
				delays = steadyDelays(tracks, hs)
			}
			tracks[k][dir] = buildTrack(conns[k], hs, capture.Direction(dir), opts, &bufs, delays)
		}
	}
	return tracks
}

// connect matches the sessions of the hops not excluded into connections and estimates the
// hops' clock offsets from the matches.
func connect(hops []Hop, hs []*hopState, opts *Options) []*conn {
	sess := make([][]*capture.Session, len(hs))
	// The clock reference is the first hop, or the first hop not left out.
	ref := 0
	for ref+1 < len(hs) && hs[ref].excluded {
		ref++
	}
	for i, st := range hs {
		st.off, st.offKnown, st.offSource = 0, false, "none"
		switch {
		case i == ref && (i == 0 || hops[i].ClockOffset == nil):
			st.offKnown, st.offSource = true, "reference"
		case hops[i].ClockOffset != nil && !st.excluded:
			st.off, st.offKnown, st.offSource = *hops[i].ClockOffset, true, "given"
		}
		if !st.excluded {
			sess[i] = st.sessions
		}
	}
	conns := matchByKey(sess)
	for h := 1; h < len(hs); h++ {
		if !hs[h].offKnown {
			if off, ok := estimateOffset(handshakeSamples(conns, hs, h)); ok {
				hs[h].off, hs[h].offKnown, hs[h].offSource = off, true, "estimated"
			}
		}
	}
	return mergeFallback(conns, hs, opts)
}

// refused is the Result of a comparison refused for its input: the hops as read and why.
func refused(hs []*hopState, why string) *schema.Result {
	r := &schema.Result{Schema: schema.Schema, Connections: []schema.Connection{}, Segments: []schema.HopPair{}, Refused: []string{why}}
	r.Hops = hopResults(hs)
	r.Summary = schema.Summary{Verdict: schema.Undecided, Reason: "comparison refused: " + why}
	return r
}

// firstKey is the key of a connection's first keyed session, for ordering.
func firstKey(c *conn) string {
	for _, s := range c.sess {
		if s != nil && s.Key() != "" {
			return s.Key()
		}
	}
	return ""
}

// passedAt reports whether message k of the track is seen at a hop after h in travel order: it
// went past h, whatever h's capture shows.
func (tr *track) passedAt(k, h int) bool {
	after := false
	for _, g := range tr.travel {
		if after && tr.ids[k].at(g) != nil {
			return true
		}
		after = after || g == h
	}
	return false
}

// travelOrder lists hop indices in the order dir travels: forward for client to server.
func travelOrder(n int, dir capture.Direction) []int {
	t := make([]int, n)
	for i := range t {
		if dir == capture.ClientToServer {
			t[i] = i
		} else {
			t[i] = n - 1 - i
		}
	}
	return t
}

// seenTravel drops from travel the hops whose capture holds not one packet of this direction of
// the connection while it holds the other's (asymmetric routing, a one-way capture filter): they
// cannot say whether a message passed, so the direction is judged without them, as if they were
// not on the path.
func seenTravel(c *conn, dir capture.Direction, travel []int) []int {
	out := travel[:0]
	for _, h := range travel {
		if s := c.sess[h]; s != nil {
			if d, ok := s.Unseen(); ok && d == dir {
				continue
			}
		}
		out = append(out, h)
	}
	return out
}

// onPath reports whether hop h is in the track's travel (see seenTravel).
func (tr *track) onPath(h int) bool { return slices.Contains(tr.travel, h) }

// buildTrack aligns one direction of a connection across its readable hops in travel order,
// keeping a merged reference sequence of every message seen so far so that a message missing at
// one hop and present further along is still recognised.
func buildTrack(c *conn, hs []*hopState, dir capture.Direction, opts *Options, bufs *trackBufs, delays map[delayKey]int64) *track {
	n := len(hs)
	tr := &track{dir: dir, travel: seenTravel(c, dir, travelOrder(n, dir)), sess: c.sess}
	most := 0
	for _, s := range c.sess {
		if readable(s) {
			k := countData(s.Entries(dir))
			tr.left += k
			most = max(most, k)
		}
	}
	// As many idents as the hop with the most messages has, when the hops agree.
	tr.slab = make([]int32, 0, most*n)
	R := reference{items: bufs.ref[:0]}
	for _, h := range tr.travel {
		s := c.sess[h]
		if !readable(s) {
			continue
		}
		bufs.items, bufs.msgs = hopMessages(bufs.items, bufs.msgs, s, dir, h, hs[h])
		items, msgs := bufs.items, bufs.msgs
		if len(msgs) == 0 {
			continue
		}
		al := alignToReference(R.items, items, opts)
		delayFrom := func(src int) (int64, bool) {
			if d, ok := delays[delayKey{src, h, dir}]; ok {
				return d, true
			}
			return handshakeDelay(c, hs, dir, src, h)
		}
		for _, run := range retimeCopies(R.items, items, &al, delayFrom) {
			for _, k := range run.unpaired(R.items, al) {
				tr.markByOrder(R.ids[k])
			}
		}
		markGone(R.items, items, al)
		for k, u := range al.unsureA {
			if u {
				R.ids[k].markUnsure(h)
			}
		}
		old := R.items
		var moved bool
		if R, moved = tr.mergeHop(R, items, msgs, al, h, bufs.spare); moved {
			bufs.spare = old // R is in the spare's memory now, the old one is spare
		}
	}
	bufs.ref = R.items
	tr.ids = slices.Clip(R.ids)
	if cap(tr.slab) > len(tr.slab)+len(tr.slab)/4 {
		tr.slab = slices.Clone(tr.slab) // appending left up to half of it unused
	}
	tr.free = nil
	return tr
}

// trackBufs hold the items buildTrack aligns, for the next track of the goroutine to reuse:
// they are copied into one another, never kept.
type trackBufs struct {
	ref, spare, items []item
	msgs              []int32
}

// reference is the sequence buildTrack grows, one message after another: the item each aligns
// by (from the latest hop that had it whole) and its identity across hops.
type reference struct {
	items []item
	ids   []*ident
}

// appendRange appends src's messages i to k (excluded), items and idents alike.
func (r *reference) appendRange(src reference, i, k int) {
	r.items, r.ids = append(r.items, src.items[i:k]...), append(r.ids, src.ids[i:k]...)
}

// hopMessages returns the items of session s in direction dir at hop h, as aligned, and the
// entry index of each data message they stand for, in ibuf and mbuf's memory; without a known
// clock offset the items carry no time.
func hopMessages(ibuf []item, mbuf []int32, s *capture.Session, dir capture.Direction, h int, hs *hopState) ([]item, []int32) {
	items := streamItems(ibuf, s, dir, h, hs.off, 0)
	msgs := slices.Grow(mbuf[:0], len(items)) // the entry index of each data message
	for k := range s.Entries(dir) {
		if s.Entries(dir)[k].Opcode().IsData() {
			msgs = append(msgs, int32(k))
		}
	}
	if !hs.offKnown {
		for k := range items {
			items[k].t = 0 // no time preference on an unknown clock
		}
	}
	return items, msgs
}

// alignToReference aligns a hop's items with the reference, by wire digests when either side
// has messages known only by them.
func alignToReference(ritems, items []item, opts *Options) alignment {
	if anyWireOnly(items) || anyWireOnly(ritems) {
		return alignHoles(byWire(ritems), byWire(items), 2*opts.tolerance())
	}
	return alignHoles(ritems, items, 2*opts.tolerance())
}

// mergeHop merges hop h's messages (entry indices msgs, items items) into the reference R by
// alignment al: a matched message joins its reference entry (whose item it replaces when
// whole), an unmatched one becomes a new entry in its place. It returns the new reference:
// R itself, updated, when every message matched (the hops agree), else one in spare's memory
// (unused items), and then moved.
func (tr *track) mergeHop(R reference, items []item, msgs []int32, al alignment, h int, spare []item) (merged reference, moved bool) {
	// All matched: in order, so message j is the reference's j.
	inPlace := al.matched == len(R.items) && al.matched == len(items)
	merged = R
	if !inPlace {
		n := len(R.items) + len(items) - al.matched
		merged = reference{items: slices.Grow(spare[:0], n), ids: make([]*ident, 0, n)}
	}
	i := 0
	for j, m := range msgs {
		k := al.mb[j]
		if k < 0 {
			if k := al.before[j]; k > i {
				merged.appendRange(R, i, k) // R's messages that came before it
				i = k
			}
			id := tr.newIdent()
			id.set(h, m)
			if al.unsureB[j] {
				id.markUnsure(h)
			}
			merged.items, merged.ids = append(merged.items, items[j]), append(merged.ids, id)
			continue
		}
		if !inPlace {
			merged.appendRange(R, i, k+1)
		}
		i = k + 1
		at, id := &merged.items[len(merged.items)-1], merged.ids[len(merged.ids)-1]
		if inPlace {
			at, id = &merged.items[k], merged.ids[k]
		}
		id.set(h, m)
		if al.unsureB[j] {
			id.markUnsure(h)
		}
		if !items[j].incomplete {
			*at = items[j]
		} else {
			at.t = items[j].t
		}
	}
	if !inPlace {
		merged.appendRange(R, i, len(R.items))
	}
	// A hole in one hop's stream is no hole in the reference where another hop's messages
	// fill it: an item keeps the part of its hole that the items of other hops merged in
	// before it (since its own hop's previous item) do not fill. Where no hop had the
	// messages the reference still lacks them, and copies of a repeated message must not be
	// paired by order across that.
	for k := range merged.items {
		it := &merged.items[k]
		if it.hole == 0 {
			continue
		}
		var filled uint64
		for p := k - 1; p >= 0 && merged.items[p].src != it.src; p-- {
			filled += merged.items[p].end - merged.items[p].off
		}
		it.hole -= min(filled, it.hole)
	}
	return merged, !inPlace
}

// refineOffsets estimates the clock offset of every hop not given one from the messages seen
// both there and at an earlier hop, plus the handshakes, falling back to the preliminary
// estimate.
func refineOffsets(conns []*conn, tracks [][2]*track, hs []*hopState) {
	for h := 1; h < len(hs); h++ {
		if hs[h].offSource == "given" || hs[h].offSource == "reference" {
			continue
		}
		s := handshakeSamples(conns, hs, h)
		for _, tt := range tracks {
			for _, tr := range tt {
				for _, id := range tr.ids {
					b := id.at(h)
					if b == nil || b.First().IsZero() {
						continue
					}
					for p := h - 1; p >= 0; p-- {
						a := id.at(p)
						if a == nil || a.First().IsZero() {
							continue
						}
						if hs[p].offKnown {
							dd := b.First().Sub(a.First()) + hs[p].off
							if tr.dir == capture.ClientToServer {
								addSample(&s.c2s, dd)
							} else {
								addSample(&s.s2c, dd)
							}
						}
						break
					}
				}
			}
		}
		if off, ok := estimateOffset(s); ok {
			hs[h].off, hs[h].offKnown, hs[h].offSource = off, true, "estimated"
		}
	}
}

// measureLatency collects one-way delays between adjacent hops, clocks corrected.
func measureLatency(tracks [][2]*track, hs []*hopState) {
	for h := 1; h < len(hs); h++ {
		if !hs[h].offKnown || !hs[h-1].offKnown {
			continue
		}
		for _, tt := range tracks {
			for _, tr := range tt {
				for _, id := range tr.ids {
					a, b := id.at(h-1), id.at(h)
					if a == nil || b == nil || a.First().IsZero() || b.First().IsZero() {
						continue
					}
					d := b.First().Add(-hs[h].off).Sub(a.First().Add(-hs[h-1].off))
					if tr.dir == capture.ServerToClient {
						d = -d
					}
					addSample(&hs[h].latency, d)
				}
			}
		}
	}
}

func hopResults(hs []*hopState) []schema.HopResult {
	out := make([]schema.HopResult, len(hs))
	for i, h := range hs {
		hr := schema.HopResult{
			Name: h.name, Files: append([]string{}, h.files...), Connections: len(h.sessions),
			Matched: h.matched, ClockOffsetSource: h.offSource, Warnings: append([]string{}, h.warnings...),
			Unused: []schema.FileUnused{},
		}
		if h.offKnown {
			d := schema.Duration(h.off)
			hr.ClockOffset = &d
		}
		if i > 0 {
			hr.Latency = latencyOf(h.latency)
		}
		if h.cap != nil {
			hr.Packets = h.cap.Stats.Packets
			if !h.cap.Start.IsZero() {
				t := h.cap.Start
				hr.Start = &t
			}
			if !h.cap.End.IsZero() {
				t := h.cap.End
				hr.End = &t
			}
			for _, w := range h.cap.Warnings {
				hr.Warnings = append(hr.Warnings, w.String())
			}
			hr.Unused = filesUnused(h.cap)
		} else {
			why := "no capture was read at this hop"
			if h.err != nil {
				why += ": " + h.err.Error()
			}
			hr.Warnings = append(hr.Warnings, why+"; the verdicts that depend on it are undecided")
		}
		out[i] = hr
	}
	return out
}

func buildConnection(id int, c *conn, tt [2]*track, hs []*hopState, opts *Options) schema.Connection {
	cn := schema.Connection{ID: id}
	for h, s := range c.sess {
		v := schema.HopValue[schema.ConnectionHop]{Hop: hs[h].name}
		if s != nil {
			ch := &schema.ConnectionHop{
				Client: addrString(s.Client), Server: addrString(s.Server), Session: s.ID,
				Start: s.Start, End: s.End, Ending: s.Ending.String(), MatchedBy: c.by[h],
			}
			if k := s.Key(); k != "" {
				ch.Key = &k
				if cn.Key == nil {
					cn.Key = &k
				}
			}
			if p := s.Path(); p != "" && cn.Path == nil {
				cn.Path = &p
			}
			if s.TLS() != nil {
				ch.TLS = "encrypted"
				if s.TLS().Decrypted {
					ch.TLS = "decrypted"
				}
			}
			v.Value = ch
		}
		cn.Hops = append(cn.Hops, v)
	}
	cn.Directions.ClientToServer = judge(c, tt[capture.ClientToServer], tt[capture.ServerToClient], hs, opts)
	cn.Directions.ServerToClient = judge(c, tt[capture.ServerToClient], tt[capture.ClientToServer], hs, opts)
	cn.Verdict = max(cn.Directions.ClientToServer.Verdict, cn.Directions.ServerToClient.Verdict)
	return cn
}

func addrString(a interface {
	IsValid() bool
	String() string
}) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// filesUnused lists, per file of a capture, the packets that could not be used and why.
func filesUnused(c *capture.Capture) []schema.FileUnused {
	out := []schema.FileUnused{}
	for _, f := range c.Files {
		fu := schema.FileUnused{File: f.Name, Packets: f.Stats.Packets, Unused: capture.UnusedPackets(f.Unused), Reasons: []schema.UnusedReason{}}
		for _, u := range f.Unused {
			fu.Reasons = append(fu.Reasons, schema.UnusedReason(u))
		}
		out = append(out, fu)
	}
	return out
}
