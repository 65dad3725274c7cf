package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// finding is the fate of one message (or, for TLS shapes, of a count of them) in one direction.
type finding struct {
	verdict  schema.VerdictKind
	low      bool
	missHop  int            // first hop in travel order without it, -1 when delivered
	lastHop  int            // hop that saw it just before missHop
	msg      *capture.Entry // the message at lastHop, nil for count-only findings
	changed  *capture.Entry // for modified: what missHop has in msg's place
	count    int            // for count-only findings: how many are missing
	why      string         // the reason, one sentence
	end      *schema.EndNote
	acked    *bool
	laterHop int    // for a capture gap: a hop further along that has it, or -1
	seg      string // where the trouble is, when not between lastHop and missHop ("between fw and ingress")
	k        int    // the message's position in the track
	// blind says why missHop's capture cannot tell whether the message passed it (it admits
	// dropping packets then, or its hole list is cut short); hops further along place the loss if
	// they can. "" when it can.
	blind string
}

// judge decides the verdict of one direction of a connection; other is the other direction's
// track (see lostSight).
func judge(c *conn, tr, other *track, hs []*hopState, opts *Options) schema.DirectionResult {
	dr := schema.DirectionResult{Verdict: schema.Delivered, Evidence: schema.Evidence{TCP: []schema.TCPNote{}, Notes: []string{}}}
	pos := make([]int, len(hs))
	for p, h := range tr.travel {
		pos[h] = p
	}
	counts := perHopCounts(&dr, c, tr, hs)
	j := judger{c: c, tr: tr, hs: hs, opts: opts, pos: pos, counts: counts, blindFrom: lostSight(c, tr.dir, other, hs, opts)}
	w := j.worstFindings(&dr)
	if w.worst == nil {
		j.delivered(&dr)
		j.impossible(&dr)
		return dr
	}
	j.describe(&dr, w)
	j.addEvidence(&dr, w)
	j.impossible(&dr)
	return dr
}

// impossible lowers the confidence of a direction in which a message went on past a hop whose
// TCP never delivered it: at that hop it lay behind a hole its receiver never acknowledged
// (heldBehind), yet a hop further along has it. No component could have forwarded it, so the
// connection matched at that later hop is not this one (a capture from another host or run that
// carried the same messages, paired by time and digests) or the capture at the first hop missed
// the acknowledgements: the verdict, its count above all, rests on a pairing the evidence denies.
func (j *judger) impossible(dr *schema.DirectionResult) {
	for k, id := range j.tr.ids {
		for p, h := range j.tr.travel {
			m := id.at(h)
			if m == nil || !j.hasLostHole(h) || !j.tr.passedAt(k, h) {
				continue
			}
			if why := j.heldBehind(h, m); why != "" {
				later := -1
				for _, g := range j.tr.travel[p+1:] {
					if id.at(g) != nil {
						later = g
						break
					}
				}
				note := fmt.Sprintf("message %d is at %s although at %s %s: the connection matched at %s may not be this one (a capture from another host or run?), or %s's capture missed the acknowledgements",
					j.num(h, m), j.hs[later].name, j.hs[h].name, why, j.hs[later].name, j.hs[h].name)
				dr.LowConfidence = true
				dr.Reason += "; " + note
				dr.Evidence.Notes = append(dr.Evidence.Notes, note)
				return
			}
		}
	}
}

// hasLostHole reports whether hop h's stream of this direction has a hole never filled nor
// acknowledged (reason lost): only then can heldBehind say anything.
func (j *judger) hasLostHole(h int) bool {
	s := j.c.sess[h]
	if s == nil {
		return false
	}
	for _, g := range s.TCP[j.tr.dir].Gaps() {
		if g.Reason == capture.GapLost {
			return true
		}
	}
	return false
}

// perHopCounts fills dr.PerHop (in path order) and dr.Messages: each hop's data messages (or
// TLS records, without keys), and how many of them were matched at another hop. It returns the
// data message counts by hop.
func perHopCounts(dr *schema.DirectionResult, c *conn, tr *track, hs []*hopState) []int {
	counts := make([]int, len(hs))
	for _, h := range travelOrder(len(hs), tr.dir) {
		v := schema.HopValue[schema.HopCount]{Hop: hs[h].name}
		if s := c.sess[h]; s != nil && tr.onPath(h) {
			hc := &schema.HopCount{}
			if readable(s) {
				n := countData(s.Entries(tr.dir))
				counts[h] = n
				hc.Messages = &n
				if dr.Messages == 0 {
					dr.Messages = n
				}
			} else {
				n := len(s.TLS().Records[tr.dir])
				hc.TLSRecords = &n
			}
			v.Value = hc
		}
		dr.PerHop = append(dr.PerHop, v)
	}
	for _, id := range tr.ids {
		seenAt := 0
		for h := range hs {
			if id.at(h) != nil {
				seenAt++
			}
		}
		if seenAt < 2 {
			continue
		}
		for h := range hs {
			if id.at(h) != nil {
				if hc := dr.PerHop.Get(hs[h].name); hc != nil {
					hc.Matched++
				}
			}
		}
	}
	// PerHop was built in travel order; the contract wants path order.
	if tr.dir == capture.ServerToClient {
		slices.Reverse(dr.PerHop)
	}
	return counts
}

// judged is what judge found in one direction: the finding with the worst verdict, and the
// findings of messages behind it.
type judged struct {
	worst    *finding  // the worst finding, of a message or of the connection (TLS shapes, a close in the middle, the upgrade)
	msgWorst *finding  // the worst finding of a message
	items    []finding // the findings of msgWorst's verdict, for the breakdown
	changes  []finding // modified findings, told of even when a worse verdict hides them
}

// worstFindings judges every message of the track, then the connection as a whole, and counts
// in dr.Missing the messages given the worst verdict.
func (j *judger) worstFindings(dr *schema.DirectionResult) judged {
	var w judged
	for k, id := range j.tr.ids {
		f := j.message(k, id)
		if f.verdict == schema.Delivered {
			continue
		}
		f.k = k
		if f.verdict == schema.Modified {
			w.changes = append(w.changes, f)
		}
		if w.worst == nil || f.verdict > w.worst.verdict {
			w.worst = &f
			dr.Missing = 0
			w.items = w.items[:0]
		}
		if f.verdict == w.worst.verdict {
			dr.Missing++
			w.items = append(w.items, f)
		}
	}
	w.msgWorst = w.worst
	if f := j.tlsShapes(); f != nil && (w.worst == nil || f.verdict > w.worst.verdict) {
		w.worst, dr.Missing = f, f.count
	}
	if f := j.middleClose(); f != nil && (w.worst == nil || f.verdict > w.worst.verdict) {
		w.worst, dr.Missing = f, 0
	}
	if f := j.upgrade(); f != nil && (w.worst == nil || f.verdict > w.worst.verdict) {
		w.worst, dr.Missing = f, 0
	}
	if f := j.resetUnread(); f != nil && (w.worst == nil || f.verdict > w.worst.verdict) {
		w.worst, dr.Missing = f, f.count
	}
	return w
}

// delivered fills dr for a direction whose every message arrived.
func (j *judger) delivered(dr *schema.DirectionResult) {
	dr.Reason = j.deliveredReason()
	if last := j.lastSeen(); last >= 0 {
		dr.LastSeenHop = &j.hs[last].name
	}
	dr.LowConfidence = j.passedOpaque
	if j.passedOpaque {
		var opaque []string
		for _, h := range j.tr.travel {
			if s := j.c.sess[h]; s != nil && !readable(s) {
				opaque = append(opaque, j.hs[h].name)
			}
		}
		dr.Reason += fmt.Sprintf("; %s carried TLS without keys and matched by record counts only", strings.Join(opaque, " and "))
	}
}

// describe fills dr's verdict, reason, segment, hops and first missing message from the worst
// finding.
func (j *judger) describe(dr *schema.DirectionResult, w judged) {
	hs, f := j.hs, w.worst
	dr.Verdict, dr.LowConfidence, dr.Reason = f.verdict, f.low, f.why
	if f == w.msgWorst {
		dr.Probes = j.probeNumbers(w.items)
	}
	switch {
	case f.verdict == schema.Modified:
		if len(w.items) > 1 {
			dr.Reason = j.changedList(w.items) + ". First: " + dr.Reason
		}
	case f == w.msgWorst:
		if b := j.breakdown(w.items); b != "" {
			dr.Reason = b + ". " + strings.ToUpper(dr.Reason[:1]) + dr.Reason[1:]
		}
	}
	switch {
	case f.seg != "":
		dr.Segment = &f.seg
	case f.lastHop >= 0 && f.missHop >= 0:
		seg := fmt.Sprintf("between %s and %s", hs[f.lastHop].name, hs[f.missHop].name)
		dr.Segment = &seg
	}
	if f.missHop >= 0 {
		dr.FirstMissingHop = &hs[f.missHop].name
	}
	if f.lastHop >= 0 {
		dr.LastSeenHop = &hs[f.lastHop].name
	}
	if m := f.msg; m != nil {
		idx, size, t := j.num(f.lastHop, m), m.Length(), m.First()
		dr.Index, dr.Size, dr.Time = &idx, &size, &t
		full := j.full(f.lastHop, m)
		if full != nil && !full.Digest.IsZero() {
			dg := full.Digest.String()
			dr.Digest = &dg
		} else if dg := j.wholeDigest(f.lastHop, m); dg != "" {
			dr.Digest = &dg
		}
		dr.Evidence.LastSeen = j.messageRef(f.lastHop, m, full)
		if f.missHop >= 0 {
			dr.Evidence.FirstMiss = j.missRef(f)
		}
	}
}

// wholeDigest returns the digest of message m, known only in part at hop h (the hop last saw some
// of its bytes: a path that carried only its first segments), from a hop along the track that saw
// it whole; "" when none did.
func (j *judger) wholeDigest(h int, m *capture.Entry) string {
	id := j.identOf(h, m)
	if id == nil {
		return ""
	}
	for _, g := range j.tr.travel {
		if x := id.at(g); x != nil && !x.Flags().Has(capture.Incomplete) && !x.Digest().IsZero() {
			if full := j.full(g, x); full != nil && !full.Digest.IsZero() {
				return full.Digest.String()
			}
		}
	}
	return ""
}

// addEvidence fills the rest of dr's evidence from the worst finding: the change, the peer's
// acknowledgement, how the connection ended, the TCP state at the hops on both sides, notes.
func (j *judger) addEvidence(dr *schema.DirectionResult, w judged) {
	hs, c, f := j.hs, j.c, w.worst
	if f.changed != nil {
		dr.Evidence.Change = j.changeOf(f)
	}
	dr.Evidence.DownstreamAcked = f.acked
	dr.Evidence.Ending = f.end
	for _, h := range []int{f.lastHop, f.missHop} {
		if h < 0 || c.sess[h] == nil {
			continue
		}
		for _, d := range capture.Directions {
			dr.Evidence.TCP = append(dr.Evidence.TCP, tcpNote(hs[h].name, c.sess[h], d))
		}
	}
	if f.laterHop >= 0 {
		dr.Evidence.Notes = append(dr.Evidence.Notes, fmt.Sprintf("%s, further along, has the message", hs[f.laterHop].name))
	}
	dr.Evidence.Notes = append(dr.Evidence.Notes, j.hopWarnings(f)...)
	if f.verdict != schema.Modified && len(w.changes) > 0 {
		dr.Evidence.Notes = append(dr.Evidence.Notes, j.changedList(w.changes)+": "+w.changes[0].why)
	}
	if dr.Verdict == schema.Lost || dr.Verdict == schema.Closed {
		// Messages held up behind the loss at a hop without keys are only TLS records there.
		if u, note := j.opaqueTail(); u != nil {
			dr.Uncounted, dr.Reason = u, dr.Reason+note
		}
	}
}

// ref returns the packet that carried the first frame header of m, at hop h: evidence (see
// full), none when not known.
func (j *judger) ref(h int, m *capture.Entry) capture.PacketRef {
	if full := j.full(h, m); full != nil {
		return full.Packet
	}
	return capture.PacketRef{}
}

// full returns the whole Message of m, seen at hop h in this direction: from the session when it
// holds Messages, else from the evidence read again for it. It returns nil when neither has it,
// and notes it as wanted (see Analysis.Wanted).
func (j *judger) full(h int, m *capture.Entry) *capture.Message {
	s, st := j.c.sess[h], j.hs[h]
	if ms := s.Messages(j.tr.dir); m.Index() < len(ms) && ms[m.Index()].Index == m.Index() {
		return &ms[m.Index()]
	}
	w := capture.Want{Session: s.ID, Client: s.Client, Server: s.Server, Direction: j.tr.dir, Index: m.Index()}
	if x := st.evidence[w]; x != nil {
		return x
	}
	if st.wants == nil {
		st.wants = map[capture.Want]bool{}
	}
	st.wants[w] = true
	st.asked++
	return nil
}

// messageRef points at message m of hop h for the contract; full is its whole Message, when known.
func (j *judger) messageRef(h int, m *capture.Entry, full *capture.Message) *schema.MessageRef {
	p := j.ref(h, m)
	ref := &schema.MessageRef{Hop: j.hs[h].name, Session: j.c.sess[h].ID, Index: j.num(h, m), File: p.File,
		Packet: p.Number, Frames: m.Frames(), Time: m.First(), Filter: frameFilter(p.Number)}
	if full != nil {
		ref.LastPacket, ref.Frames = full.LastPacket.Number, full.Frames
	}
	return ref
}

// num returns the position of m among the data (text and binary) messages of its direction at
// hop h: what a reader counting the application's messages expects, unlike Message.Index, which
// counts control frames too.
func (j *judger) num(h int, m *capture.Entry) int {
	if j.partial(h) {
		// h's capture lacks bytes of this direction, or its start, so counting there
		// undercounts: count at a hop that saw the direction whole and has the same message, if any.
		if id := j.identOf(h, m); id != nil {
			for _, g := range j.tr.travel {
				if g != h && id.at(g) != nil && !j.partial(g) {
					return j.localNum(g, id.at(g))
				}
			}
		}
	}
	return j.localNum(h, m)
}

// partial reports whether hop h's stream of this direction has holes, or was picked up
// mid-connection (its capture began after the handshake, so its count starts late).
func (j *judger) partial(h int) bool {
	s := j.c.sess[h]
	return j.holed(h) || (s != nil && s.MidStream)
}

// holed reports whether hop h's stream of this direction has holes.
func (j *judger) holed(h int) bool {
	s := j.c.sess[h]
	return s != nil && len(s.TCP[j.tr.dir].Gaps()) > 0
}

// identOf returns the track's ident whose message at hop h is m, or nil.
func (j *judger) identOf(h int, m *capture.Entry) *ident {
	if j.idOf == nil {
		j.idOf = map[*capture.Entry]*ident{}
		for _, id := range j.tr.ids {
			for h := range j.c.sess {
				if x := id.at(h); x != nil {
					j.idOf[x] = id
				}
			}
		}
	}
	if id := j.idOf[m]; id != nil && id.at(h) == m {
		return id
	}
	return nil
}

// localNum is num counted at hop h itself.
func (j *judger) localNum(h int, m *capture.Entry) int {
	pos, ok := j.dataPos[h]
	if !ok {
		msgs := j.c.sess[h].Entries(j.tr.dir)
		pos = make([]int, len(msgs))
		n := 0
		for i := range msgs {
			pos[i] = n
			if msgs[i].Opcode().IsData() {
				n++
			}
		}
		if j.dataPos == nil {
			j.dataPos = map[int][]int{}
		}
		j.dataPos[h] = pos
	}
	if m.Index() >= 0 && m.Index() < len(pos) {
		return pos[m.Index()]
	}
	return m.Index()
}

// middleClose finds a connection ended by a component in the middle of the path (a proxy timeout,
// a firewall reset), even when no message was in flight: the hops upstream of it see the end come
// from the server side, the hops downstream see it come from the client side. A close started by
// the client or the server application is not a finding. It returns nil when there is none.
func (j *judger) middleClose() *finding {
	type seen struct {
		hop int
		e   *schema.EndNote
	}
	var ends []seen // hops with an end event, in path order
	for h, s := range j.c.sess {
		if !readable(s) || s.OneWay() {
			// Close frames inside TLS without keys are not visible, nor the ends of a side a
			// capture did not see: the order would lie.
			continue
		}
		if e := firstEnd(j.hs[h].name, s, farFuture()); e != nil {
			ends = append(ends, seen{h, e})
		}
	}
	if len(ends) < 2 {
		return nil
	}
	first, last := ends[0], ends[len(ends)-1]
	if first.e.Side == "client" || last.e.Side == "server" {
		return nil // the end came from beyond every hop that saw it: an endpoint, or unknown
	}
	for i := 0; i+1 < len(ends); i++ {
		a, b := ends[i], ends[i+1]
		if a.e.Side != "server" || b.e.Side != "client" || j.missedEnd(a.hop, b.hop, a.e, b.e) {
			continue
		}
		f := &finding{verdict: schema.Closed, missHop: a.hop, lastHop: -1, laterHop: -1, end: a.e,
			seg: fmt.Sprintf("between %s and %s", j.hs[a.hop].name, j.hs[b.hop].name)}
		by := j.endedBy(a.hop, b.hop)
		if by == "" {
			by = fmt.Sprintf("; the component between %s and %s ended it: %s saw %s from the server side at %s and %s saw %s from the client side at %s",
				j.hs[a.hop].name, j.hs[b.hop].name, j.hs[a.hop].name, endWhat(a.e), j.stampAt(a.e.Time, a.hop),
				j.hs[b.hop].name, endWhat(b.e), j.stampAt(b.e.Time, b.hop))
		}
		f.why = "the connection was ended in the middle of the path with no " + j.tr.dir.String() + " message in flight" + by
		return f
	}
	return nil
}

// farFuture is a time after every capture, for "any time" bounds.
func farFuture() time.Time { return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }

// judger holds what judging one direction needs.
type judger struct {
	c            *conn
	tr           *track
	hs           []*hopState
	opts         *Options
	pos          []int                            // travel position of each hop
	counts       []int                            // data messages per hop
	passedOpaque bool                             // some message crossed a TLS hop without keys, judged by counts only
	dataPos      map[int][]int                    // per hop: Message.Index -> position among data messages
	anchors      map[[2]int][]int                 // per (hop, last hop): see anchorsOf
	windows      map[windowKey]map[int]windowPair // paired windows: see pairAt
	idOf         map[*capture.Entry]*ident        // see identOf
	guesses      map[capture.Digest64]int         // see guessPos
	lastAnchor   map[int]int                      // per hop: see endsBefore
	blindFrom    []time.Time                      // per hop: see lostSight (zero: none)
}

func sideOf(d capture.Direction) string {
	if d == capture.ServerToClient {
		return "server"
	}
	return "client"
}

// downstream is the direction whose sender, at a hop, is the next component along tr.dir.
func (j *judger) downstream() capture.Direction { return 1 - j.tr.dir }

// lastSeen is the last hop in travel order with messages of this direction, or -1.
func (j *judger) lastSeen() int {
	last := -1
	for _, h := range j.tr.travel {
		if j.counts[h] > 0 {
			last = h
		}
	}
	return last
}

func (j *judger) deliveredReason() string {
	first, last := -1, j.lastSeen()
	for _, h := range j.tr.travel {
		if j.counts[h] > 0 {
			first = h
			break
		}
	}
	if first < 0 {
		return fmt.Sprintf("no %s messages were seen", j.tr.dir)
	}
	if first == last {
		return fmt.Sprintf("all %d messages were seen at %s, the only hop that could read them", j.counts[first], j.hs[first].name)
	}
	return fmt.Sprintf("all %d messages seen at %s reached %s", j.counts[first], j.hs[first].name, j.hs[last].name) + j.delayNote()
}

// delayNote tells, for a direction whose messages all arrived, whether some were held up: the
// largest hop-to-hop delay when it passed a second, and the zero windows the receivers advertised
// (backpressure). It returns "" when there is nothing to say.
func (j *judger) delayNote() string {
	var worst time.Duration
	var from, to int
	for _, id := range j.tr.ids {
		prev := -1
		for _, h := range j.tr.travel {
			m := id.at(h)
			if m == nil {
				continue
			}
			if prev >= 0 && j.hs[h].offKnown && j.hs[prev].offKnown {
				if d := m.First().Add(-j.hs[h].off).Sub(id.at(prev).First().Add(-j.hs[prev].off)); d > worst {
					worst, from, to = d, prev, h
				}
			}
			prev = h
		}
	}
	var zero []string
	for _, h := range j.tr.travel {
		if s := j.c.sess[h]; s != nil && s.TCP[1-j.tr.dir].ZeroWindows() > 0 {
			zero = append(zero, fmt.Sprintf("%s %d", j.hs[h].name, s.TCP[1-j.tr.dir].ZeroWindows()))
		}
	}
	note := ""
	if worst > time.Second {
		note = fmt.Sprintf(", some late: up to %s between %s and %s", worst.Round(time.Millisecond), j.hs[from].name, j.hs[to].name)
	}
	if len(zero) > 0 {
		note += fmt.Sprintf("; the receivers advertised zero windows (backpressure: %s)", strings.Join(zero, ", "))
	}
	return note
}

// expected returns when a message seen at hop from at time t would be at hop to, on to's clock.
func (j *judger) expected(t time.Time, from, to int) time.Time {
	return t.Add(-j.hs[from].off).Add(j.hs[to].off)
}

// message judges one message of the track.
func (j *judger) message(k int, id *ident) finding {
	tr := j.tr
	firstPos, lastPos := -1, -1
	for p, h := range tr.travel {
		if j.present(id, h) {
			if firstPos < 0 {
				firstPos = p
			}
			lastPos = p
		}
	}
	f := finding{verdict: schema.Delivered, missHop: -1, lastHop: -1, laterHop: -1}
	if firstPos < 0 {
		return f
	}
	prev := tr.travel[firstPos]
	var gap *finding
	// Hops before the first that has it: when a hole in their capture (or its time span) explains
	// it, the message passed them and their capture missed it; never a loss there. Without such
	// an explanation the component in between may have made the message itself: not judged. Nor
	// for a message known only in part, which alignment may not have tied to its whole copy.
	whole := !id.at(prev).Flags().Has(capture.Incomplete) && !id.at(prev).Digest().IsZero()
	for p := 0; p < firstPos && whole && gap == nil; p++ {
		h := tr.travel[p]
		if !readable(j.c.sess[h]) {
			continue
		}
		why := j.gapDetail(k, id, h, prev) + j.coverage(h, j.expected(id.at(prev).First(), prev, h))
		if why == "" {
			why = j.tailDetail(h, prev, id.at(prev))
		}
		if why == "" {
			continue
		}
		f = finding{verdict: schema.CaptureGap, missHop: h, lastHop: prev, msg: id.at(prev), laterHop: prev}
		f.why = fmt.Sprintf("%s's capture lacks message %d that %s, further along, has: the message passed %s and its capture missed it%s",
			j.hs[h].name, j.num(prev, id.at(prev)), j.hs[prev].name, j.hs[h].name, why)
		gap = gapWorse(gap, f)
	}
	for p := firstPos + 1; p < lastPos; p++ {
		h := tr.travel[p]
		if j.present(id, h) {
			prev = h
			continue
		}
		if j.hs[h].excluded || j.hs[h].cap == nil {
			// Left out (no WebSocket there, another run), or nothing could be read there: the
			// hops on both sides carried the message, which says nothing about h's capture.
			continue
		}
		if j.c.sess[h] == nil {
			// The connection was not found at h although hops on both sides carried the message:
			// h's capture, not the network, lacks it.
			later := tr.travel[lastPos]
			f = finding{verdict: schema.CaptureGap, missHop: h, lastHop: prev, msg: id.at(prev), laterHop: later}
			f.why = fmt.Sprintf("the connection was not found in %s's capture but %s, further along, has message %d: the network delivered it and %s's capture missed it%s",
				j.hs[h].name, j.hs[later].name, j.num(prev, id.at(prev)), j.hs[h].name, j.captureTrouble(h))
			gap = gapWorse(gap, f)
			continue
		}
		if readable(j.c.sess[h]) {
			later := tr.travel[lastPos]
			f = finding{verdict: schema.CaptureGap, missHop: h, lastHop: prev, msg: id.at(prev), laterHop: later}
			f.why = fmt.Sprintf("%s's capture lacks message %d but %s, further along, has it: the network delivered it and %s's capture missed it%s",
				j.hs[h].name, j.num(prev, id.at(prev)), j.hs[later].name, j.hs[h].name, j.gapDetail(k, id, h, prev)+j.coverage(h, j.expected(id.at(prev).First(), prev, h)))
			if c, _ := j.changedAt(k, id, h, prev); c != nil {
				f.why = j.changedCopy(id.at(prev), prev, c, h, later)
			}
			gap = gapWorse(gap, f)
		}
	}
	// Past the last hop that has it, the message may be missing for real; a capture gap in the
	// middle does not hide that.
	b := j.beyond(k, id, lastPos)
	b.k = k
	beyond := j.unsure(id, b)
	if gap != nil && gap.verdict > beyond.verdict {
		return *gap
	}
	return beyond
}

// unsure turns a loss or close of a message whose pairing was a guess (one of several identical
// messages around a capture hole) into undecided: which copy went missing is not known.
func (j *judger) unsure(id *ident, f finding) finding {
	if f.verdict != schema.Lost && f.verdict != schema.Closed {
		return f
	}
	g := j.guessed(id, f)
	if g < 0 {
		return f
	}
	var holes []string
	for _, h := range j.tr.travel {
		if j.holed(h) {
			holes = append(holes, fmt.Sprintf("%s's capture (%s)", j.hs[h].name, j.holeSummary(h)))
		}
		if h == g {
			break
		}
	}
	if len(holes) == 0 {
		holes = append(holes, fmt.Sprintf("%s's capture (%s)", j.hs[g].name, j.holeSummary(g)))
	}
	f.why = fmt.Sprintf("message %d is one of several identical messages around a hole in %s, and neither stream offsets nor times tell which of them %s paired with: whether it reached %s is not known; %s",
		j.num(f.lastHop, f.msg), strings.Join(holes, " and "), j.hs[g].name, j.hs[f.missHop].name, f.why)
	f.verdict, f.low, f.end, f.acked = schema.Undecided, true, nil, nil
	return f
}

// guessed returns the first hop, in travel order, where a pairing the finding f about message
// id rests on was a guess, or -1: id's own at any hop from the last that has it to the first
// missing it (a hop between with a hole in its capture is passed over), or that of any copy of
// its payload up to the first missing it, since a copy paired one place off there shifts
// which copies the hops after it are paired with.
func (j *judger) guessed(id *ident, f finding) int {
	if f.missHop < 0 || f.msg == nil {
		return -1
	}
	from := 0
	if f.lastHop >= 0 {
		from = j.pos[f.lastHop]
	}
	if f.verdict == schema.Lost && j.endsBefore(f.missHop, f.k) {
		// The first hop missing it has nothing at or after its place: no pairing of copies
		// can put it there.
		return -1
	}
	for p := from; p <= j.pos[f.missHop]; p++ {
		if id.unsureAt(j.tr.travel[p]) {
			return j.tr.travel[p]
		}
	}
	if p, ok := j.guessPos()[f.msg.Digest()]; ok && p <= j.pos[f.missHop] {
		return j.tr.travel[p]
	}
	return -1
}

// endsBefore reports whether hop h's stream of this direction ends, as far as its capture
// shows, with a message paired for certain at a track position before k: a payload found once
// in the direction at h, its pairing no guess, and no hole after it. Copies of other messages
// paired one place off cannot then put anything of h's at k or after.
func (j *judger) endsBefore(h, k int) bool {
	if j.lastAnchor == nil {
		j.lastAnchor = map[int]int{}
	}
	p, ok := j.lastAnchor[h]
	if !ok {
		p = j.findLastAnchor(h)
		j.lastAnchor[h] = p
	}
	return p >= 0 && p < k
}

// findLastAnchor is endsBefore's track position for hop h, -1 when h's last message is not
// such an anchor.
func (j *judger) findLastAnchor(h int) int {
	s := j.c.sess[h]
	if s == nil {
		return -1
	}
	for p := len(j.tr.ids) - 1; p >= 0; p-- {
		id := j.tr.ids[p]
		m := id.at(h)
		if m == nil {
			continue
		}
		if id.unsureAt(h) || m.Digest().IsZero() || m.Flags().Has(capture.Incomplete) {
			return -1
		}
		for _, g := range s.TCP[j.tr.dir].Gaps() {
			if g.Offset >= m.End() {
				return -1 // a hole after it may hold copies
			}
		}
		n := 0
		for _, e := range s.Entries(j.tr.dir) {
			if e.Digest() == m.Digest() {
				n++
			}
		}
		if n != 1 {
			return -1
		}
		return p
	}
	return -1
}

// guessPos maps each payload with a copy whose pairing was a guess somewhere to the first
// travel position of such a guess.
func (j *judger) guessPos() map[capture.Digest64]int {
	if j.guesses != nil {
		return j.guesses
	}
	j.guesses = map[capture.Digest64]int{}
	for slot, hops := range j.tr.unsure {
		id := &ident{tr: j.tr, slot: slot}
		var d capture.Digest64
		for h := range hops {
			if m := id.at(h); m != nil && !m.Digest().IsZero() {
				d = m.Digest()
				break
			}
		}
		if d.IsZero() {
			continue
		}
		for h, u := range hops {
			if p, ok := j.guesses[d]; u && (!ok || j.pos[h] < p) {
				j.guesses[d] = j.pos[h]
			}
		}
	}
	return j.guesses
}

// holeSummary describes the holes of hop h's stream in this direction: how many, how many bytes,
// and why.
func (j *judger) holeSummary(h int) string {
	s := j.c.sess[h]
	if s == nil {
		return "no session"
	}
	var n int
	var bytes uint64
	reasons := map[capture.GapReason]bool{}
	for _, g := range s.TCP[j.tr.dir].Gaps() {
		n++
		bytes += g.Length
		reasons[g.Reason] = true
	}
	var rs []string
	for _, r := range []capture.GapReason{capture.GapAcked, capture.GapSnaplen, capture.GapBufferLimit, capture.GapLost} {
		if reasons[r] {
			rs = append(rs, r.String())
		}
	}
	return fmt.Sprintf("%d holes, %d bytes: %s", n, bytes, strings.Join(rs, ", "))
}

// gapWorse keeps the first finding of the worst verdict found along the path (of capture gaps
// alone, the first).
func gapWorse(gap *finding, f finding) *finding {
	if gap == nil || f.verdict > gap.verdict {
		return &f
	}
	return gap
}

// beyond judges a message past lastPos, the last position in travel order that has it.
func (j *judger) beyond(k int, id *ident, lastPos int) finding {
	tr := j.tr
	var f finding
	last := tr.travel[lastPos]
	m := id.at(last)
	low := false
	var gap *finding // the first hop whose capture missed it; later hops may still show a loss
	for p := lastPos + 1; p < len(tr.travel); p++ {
		h := tr.travel[p]
		s := j.c.sess[h]
		f = finding{missHop: h, lastHop: last, msg: m, laterHop: -1, low: low}
		te := j.expected(m.First(), last, h)
		switch {
		case j.hs[h].excluded:
			continue
		case s == nil:
			return j.unseen(f, h, te)
		case !readable(s):
			if ok, why := j.opaqueCarried(h, last); !ok {
				f.verdict, f.low, f.why = schema.Undecided, true, why
				return f
			}
			low = true
			j.passedOpaque = true
			continue
		}
		g := j.missing(f, k, id, h, te)
		if (g.verdict == schema.CaptureGap || g.blind != "") && p+1 < len(tr.travel) {
			// h's capture has a hole where the message would be, or cannot tell: whether it
			// went further is for the next hops to say.
			gap = gapWorse(gap, g)
			continue
		}
		// A later hop's own evidence places a loss better than a hop that could not tell.
		if gap != nil && (g.verdict < gap.verdict || (g.verdict == gap.verdict && gap.blind == "")) {
			return *gap
		}
		if gap != nil && gap.blind != "" {
			g.why += fmt.Sprintf("; whether it reached %s before is not known: %s", j.hs[gap.missHop].name, gap.blind)
			// The message may have been lost before the blind hop, by the component its
			// segment also spans: the first missing hop is where the absence is proven, not
			// necessarily where it happened.
			g.low = g.low || g.verdict >= schema.Modified
		}
		return g
	}
	if gap != nil {
		return *gap
	}
	return finding{verdict: schema.Delivered, missHop: -1, lastHop: -1, laterHop: -1}
}

// unseen judges a message that reached a hop where the connection was not found at all.
func (j *judger) unseen(f finding, h int, te time.Time) finding {
	hn := j.hs[h].name
	cp := j.hs[h].cap
	switch {
	case cp == nil || cp.End.IsZero():
		f.verdict = schema.Undecided
		f.why = fmt.Sprintf("nothing was read at %s, so whether message %d reached it is unknown", hn, j.num(f.lastHop, f.msg))
	case !j.covered(h, nil, te):
		f.verdict = schema.CaptureGap
		f.why = fmt.Sprintf("%s's capture (%s to %s) does not cover %s, when message %d would have passed",
			hn, stamp(cp.Start), stamp(cp.End), stamp(te), j.num(f.lastHop, f.msg))
	case j.unpaired(&f, fmt.Sprintf("message %d", j.num(f.lastHop, f.msg))):
	default:
		f.verdict = schema.Undecided
		f.why = fmt.Sprintf("the connection was not found at %s although its capture covers the time; it may not have been forwarded, or it was changed beyond recognition (no key, no common messages)", hn)
	}
	return f
}

// opaqueCarried reports whether the TLS records at an undecryptable hop h can account for the
// messages seen at the readable hop last before it.
func (j *judger) opaqueCarried(h, last int) (bool, string) {
	recs := len(j.c.sess[h].TLS().Records[j.tr.dir])
	if recs >= j.counts[last] {
		return true, ""
	}
	return false, fmt.Sprintf("%d messages were seen at %s but only %d TLS records at %s, which has no keys: records can carry several messages, so this is not proof of loss",
		j.counts[last], j.hs[last].name, recs, j.hs[h].name)
}

// tlsShapes compares a TLS hop without keys upstream of every readable hop with the first
// readable hop after it: more records than messages suggests messages went missing.
func (j *judger) tlsShapes() *finding {
	for p, h := range j.tr.travel {
		s := j.c.sess[h]
		if s == nil {
			continue
		}
		if readable(s) && j.counts[h] > 0 {
			return nil // a readable hop comes first: messages are judged one by one
		}
		if readable(s) {
			continue
		}
		recs := len(s.TLS().Records[j.tr.dir])
		for _, n := range j.tr.travel[p+1:] {
			ns := j.c.sess[n]
			if !readable(ns) {
				continue
			}
			// Each write of the application is one record at least: the HTTP head and every
			// frame, control frames included. TLS 1.3 adds encrypted handshake records, tickets
			// and the closing alert under the same outer type.
			units := 0
			for _, m := range ns.Entries(j.tr.dir) {
				units += max(m.Frames(), 1)
			}
			if (j.tr.dir == capture.ClientToServer && ns.Request != nil) || (j.tr.dir == capture.ServerToClient && ns.Response != nil) {
				units++
			}
			extra := tlsOverheadRecords(s.TLS().Version, j.tr.dir)
			if recs <= units+extra {
				j.passedOpaque = recs > 0 // consistent, but only by counts
				return nil
			}
			f := &finding{verdict: schema.Undecided, low: true, missHop: n, lastHop: h, laterHop: -1, count: recs - units - extra}
			f.why = fmt.Sprintf("the %s sent %d TLS records at %s (no keys), %d messages and frames reached %s: some may be missing, but records and messages need not match one to one",
				sideOf(j.tr.dir), recs, j.hs[h].name, units, j.hs[n].name)
			return f
		}
		return nil
	}
	return nil
}

// tlsOverheadRecords is how many application-data records a TLS connection may carry that are not
// application writes: in TLS 1.3 the encrypted handshake (client Finished; server
// EncryptedExtensions, Certificate, CertificateVerify, Finished), session tickets and the closing
// alert all travel as application data.
func tlsOverheadRecords(version string, dir capture.Direction) int {
	if version != "TLS 1.3" {
		return 0
	}
	if dir == capture.ClientToServer {
		return 3
	}
	return 8
}

// missing judges a message absent from readable hop h, where the connection was seen.
func (j *judger) missing(f finding, k int, id *ident, h int, te time.Time) finding {
	s, su := j.c.sess[h], j.c.sess[f.lastHop]
	hn, un := j.hs[h].name, j.hs[f.lastHop].name
	m := f.msg
	desc := j.missingDesc(f, id)
	// Nothing h's capture shows of this direction after it lost sight of it says anything, holes
	// of its own making included.
	if u := j.outOfSight(h, te); u != "" {
		f.verdict, f.low, f.blind = schema.Undecided, true, u
		f.why = fmt.Sprintf("%s is not in %s's capture, but %s: whether it passed %s is not known", desc, hn, u, hn)
		return f
	}
	// A hole h's capture made itself (acknowledged there, cut by the snap length, given up by
	// reassembly) where the message would be: those bytes came before the connection's end in
	// its stream and reached h's receiver, so no end explains the absence; nor does a change,
	// when the message h has in its place matching nothing may be one the hole of last's
	// capture swallowed (identical copies placed by offsets).
	if j.ownHole(k, h, f.lastHop) {
		return j.inOwnHole(f, k, id, h, desc)
	}
	// A message that arrived changed is not missing: h has it, so neither the connection ending
	// nor h's capture explains an absence. Recognised first: a close right after the changed
	// message would otherwise be given as why it "did not pass".
	if mf, ok := j.modifiedOrUnknown(f, k, id, h, desc); ok {
		return mf
	}
	if j.restoredAt(k, id, h, f.lastHop) != nil {
		// A changed copy seen at one hop only, the message itself going on intact: judged, as a
		// capture gap there, with the message it stands for.
		return finding{verdict: schema.Delivered, missHop: -1, lastHop: -1, laterHop: -1}
	}
	if g, ok := j.ackedBeyond(f, desc, h); ok {
		return g
	}
	// A connection already gone when the message would have got there explains its absence,
	// whatever h's capture covers afterwards. For a copy placed by order, only if it does for
	// the earliest copy it may stand for.
	fc := j.firstCandidate(f, k, id, h)
	if cf, ok := j.endedBefore(fc, desc, h, id.at(h) != nil); ok {
		cf.msg = m
		return cf
	}
	// Stuck behind a hole at the last hop that saw it: the receiver there never acknowledged
	// past a hole before the message, so TCP never handed it on, whatever h's capture covers.
	if why := j.heldBehind(f.lastHop, m); why != "" {
		f.verdict = schema.Lost
		acked := false
		f.acked = &acked
		f.why = fmt.Sprintf("%s never got past %s: %s", desc, un, why)
		return f
	}
	// Capture gaps first: the hop's capture, not the network, may be what lacks the message.
	if cp := j.hs[h].cap; cp != nil && !cp.End.IsZero() && !j.covered(h, s, te) {
		f.verdict = schema.CaptureGap
		f.why = fmt.Sprintf("%s's capture (%s to %s) does not cover %s, when %s would have passed", hn, stamp(cp.Start), stamp(cp.End), stamp(te), desc)
		return f
	}
	if g := j.gapDetail(k, id, h, f.lastHop); g != "" {
		f.verdict = schema.CaptureGap
		f.why = fmt.Sprintf("%s was not read at %s%s", desc, hn, g)
		return f
	}
	if u := j.unlistedHole(k, h, f.lastHop); u != "" {
		f.verdict, f.low, f.blind = schema.Undecided, true, u
		f.why = fmt.Sprintf("%s was not read at %s, %s", desc, hn, u)
		return f
	}
	// A connection ended at h after the message would have got there (endedBefore above) is no
	// reason for its absence. The component before h may still have ended it in answer to the
	// message (a firewall's RST, a proxy's close), which the hop before h shows.
	// Within the time the message takes to be forwarded (the longest latency measured into h),
	// as a firewall's RST answering the message itself; a close later than that is no excuse
	// (for a copy placed by order, later than the earliest copy it may stand for).
	if e := firstEndFrom(un, su, j.downstream(), fc.msg.First().Add(j.latencyBound(h)+j.clockSlack(f.lastHop, h))); e != nil {
		f.verdict, f.end = schema.Closed, e
		f.why = fmt.Sprintf("%s passed %s but the %s side there ended the connection (%s) at %s, before the message could be forwarded to %s",
			desc, un, e.Side, endWhat(e), j.stampAt(e.Time, f.lastHop), hn)
		return f
	}
	return j.notForwarded(f, k, id, h, te, desc)
}

// modifiedOrUnknown judges a message that hop h has in a changed form (see modified): modified, or
// undecided when the message in its place may be one that the last hop's own capture hole
// swallowed (changed, or lost beside a message that capture missed, is not known).
func (j *judger) modifiedOrUnknown(f finding, k int, id *ident, h int, desc string) (finding, bool) {
	mf, ok := j.modified(f, k, id, h)
	if !ok || !j.ownHole(k, f.lastHop, h) {
		return mf, ok
	}
	f.verdict, f.low = schema.Undecided, true
	f.why = fmt.Sprintf("%s is not at %s, where a message matching nothing upstream stands in its place, but %s's capture has a hole of its own making there that may have held that one: whether the message was changed or lost is not known. %s",
		desc, j.hs[h].name, j.hs[f.lastHop].name, strings.ToUpper(mf.why[:1])+mf.why[1:])
	return f, true
}

// ackedBeyond judges f's message, absent from hop h, as passed h when the last hop that saw it
// and h see one TCP connection and the receiver beyond h acknowledged the message's bytes: h's
// capture stopped reading this connection, which a loss or a close between the hops would look
// like but for the acknowledgement.
func (j *judger) ackedBeyond(f finding, desc string, h int) (finding, bool) {
	s, su := j.c.sess[h], j.c.sess[f.lastHop]
	hn, un := j.hs[h].name, j.hs[f.lastHop].name
	acker := su.TCP[j.downstream()]
	if acker.Packets == 0 || acker.HighestAck < f.msg.End() || !sameSequence(su, s) {
		return f, false
	}
	f.verdict = schema.CaptureGap
	f.why = fmt.Sprintf("%s was not read at %s, but %s and %s see one TCP connection (the same initial sequence numbers both ways: nothing between them ends TCP) and its receiver, beyond %s, acknowledged the message's bytes at %s: the message passed %s and the capture there missed it",
		desc, hn, un, hn, hn, un, hn)
	return f, true
}

// firstCandidate returns f with, for a copy placed by order (track.byOrder), the earliest of
// the identical copies at f.lastHop that it may stand for in its place: which of them hop h lacks
// is not known, so an end explains the absence only if it explains it for that one. The copies
// go back to the last message of another payload that h also has, which pins the order of those
// before it.
func (j *judger) firstCandidate(f finding, k int, id *ident, h int) finding {
	if !j.tr.byOrder[id.slot] {
		return f
	}
	for i := k - 1; i >= 0; i-- {
		o := j.tr.ids[i]
		om := o.at(f.lastHop)
		switch {
		case om == nil:
		case om.Digest() == f.msg.Digest():
			f.msg = om
		case o.at(h) != nil:
			return f
		}
	}
	return f
}

// missingDesc names f's message as the hop before the first missing one saw it.
func (j *judger) missingDesc(f finding, id *ident) string {
	m, un := f.msg, j.hs[f.lastHop].name
	if j.tr.byOrder[id.slot] {
		return fmt.Sprintf("message %d (%d bytes, %s at %s; one of identical copies that times do not tell apart: which of them is not known, counted from the last)",
			j.num(f.lastHop, m), m.Length(), j.stampAt(m.First(), f.lastHop), un)
	}
	return fmt.Sprintf("message %d (%d bytes, %s at %s)", j.num(f.lastHop, m), m.Length(), j.stampAt(m.First(), f.lastHop), un)
}

// inOwnHole judges a message missing at h where h's capture has a hole of its own making: a
// capture gap, as many as the hole holds (beyondHole for the rest), blind where the hole may
// hold another copy.
func (j *judger) inOwnHole(f finding, k int, id *ident, h int, desc string) finding {
	hn := j.hs[h].name
	r := j.holeRoom(k, h, f.lastHop)
	if r.hole < r.miss {
		return j.beyondHole(f, h, desc, r)
	}
	f.verdict = schema.CaptureGap
	f.why = fmt.Sprintf("%s was not read at %s%s", desc, hn, j.gapDetail(k, id, h, f.lastHop))
	switch {
	case r.miss > 0 && r.hole > r.miss && j.plainAround(k, h, f.lastHop):
		// More hole than messages missing: some message h is paired with elsewhere lies in
		// it, so the copies around it are paired off and this one may never have got there.
		f.blind = fmt.Sprintf("%s's capture has holes of its own making there (%d bytes) larger than the %d bytes of messages missing at %s between the same neighbours, so identical copies around them are paired off and which of them it lacks is not known",
			hn, r.hole+r.taken, r.miss+r.taken, hn)
	case j.copyBeside(k, h, f.lastHop):
		// The hole may as well hold the copy beside it, this one dropped before h: h's
		// pairs would shift by one copy, offsets and sizes all the same.
		f.blind = fmt.Sprintf("%s's capture has a hole of its own making beside a copy of the message, and whether the hole holds this copy or that one is not known", hn)
	}
	return f
}

// notForwarded judges a message that hop h lacks while the connection was up there: lost, unless
// the capture at h admits dropping packets, which makes it a capture gap. desc describes the
// message.
func (j *judger) notForwarded(f finding, k int, id *ident, h int, te time.Time, desc string) finding {
	su := j.c.sess[f.lastHop]
	hn := j.hs[h].name
	m := f.msg
	f.verdict = schema.Lost
	acker := su.TCP[j.downstream()]
	if acker.Packets > 0 && su.TLS() == nil { // a TLS session's message offsets are in plaintext, not TCP, bytes
		acked := acker.HighestAck >= m.End()
		f.acked = &acked
	}
	// Packets the capture at h admits dropping (a counter, not merely holes elsewhere) may
	// explain the absence, unless the receiver upstream never acknowledged the bytes: then they
	// did not get through, whatever h recorded.
	dropped, d := j.droppedHere(k, h, te)
	if dropped != "" && !d.burst && (f.acked == nil || *f.acked) {
		f.verdict = schema.CaptureGap
		f.why = fmt.Sprintf("%s was not read at %s: %s", desc, hn, dropped)
		return f
	}
	f.why = j.lostWhy(f, id, h, desc)
	if n := capturedTwice(su); n > 0 || su.Forwarded() {
		// The last hop's capture took segments twice, arriving and leaving a host that forwards
		// them (tcpdump -i any without the interface of each packet: Linux cooked v1), and a
		// segment seen once may have been dropped between the two: inside that host, before h.
		f.low = true
		how := fmt.Sprintf("%d segments captured again at once", n)
		if su.Forwarded() {
			how = "its packets captured both arriving at that host and leaving it"
		}
		f.why += fmt.Sprintf("; %s's capture holds this connection twice (%s, as tcpdump -i any records a host that forwards it, here without the interface of each packet), so it may have been dropped inside that host: a capture that records each packet's interface would tell (tcpdump 4.99 and later -i any: Linux cooked v2; dumpcap -i IF1 -i IF2; mergecap -I none)",
			j.hs[f.lastHop].name, how)
	}
	if dropped != "" {
		// Lost, but h's capture may have dropped it even if it got there: hops further along
		// place the loss if they can.
		f.blind = dropped
		f.why += fmt.Sprintf("; %s, so it may have been lost beyond %s", dropped, hn)
	}
	return f
}

// capturedTwice returns how many of a session's segments its capture took twice at once, when
// that is how the capture saw the connection (an eighth of its packets or more: a forwarding
// host's -i any capture doubles about every data segment), 0 otherwise: a stray copy (a
// retransmission right behind the original) says nothing.
func capturedTwice(s *capture.Session) int {
	n := s.TCP[0].CaptureCopies() + s.TCP[1].CaptureCopies()
	if n < 4 || n*8 < s.TCP[0].Packets+s.TCP[1].Packets {
		return 0
	}
	return n
}

// lostWhy says why message f (described by desc) is lost before hop h: never or partly there,
// whether the next component acknowledged it, retransmissions and zero windows.
func (j *judger) lostWhy(f finding, id *ident, h int, desc string) string {
	su := j.c.sess[f.lastHop]
	hn, un := j.hs[h].name, j.hs[f.lastHop].name
	acker := su.TCP[j.downstream()]
	why := fmt.Sprintf("%s never reached %s while the connection was up", desc, hn)
	if id.at(h) != nil {
		why = fmt.Sprintf("%s reached %s only in part (a TCP hole there was never filled nor acknowledged) while the connection was up", desc, hn)
	}
	switch {
	case f.acked != nil && *f.acked:
		why += fmt.Sprintf("; the next component's TCP at %s acknowledged its bytes, so the component between %s and %s received it and did not forward it", un, un, hn)
	case f.acked != nil:
		why += fmt.Sprintf("; its bytes were never acknowledged at %s, which points at the network between %s and %s or backpressure", un, un, hn)
	}
	st := su.TCP[j.tr.dir]
	if st.Retransmissions() > 0 || acker.ZeroWindows() > 0 {
		why += fmt.Sprintf(" (%d retransmissions, %d zero windows at %s)", st.Retransmissions(), acker.ZeroWindows(), un)
	}
	return why
}

// present reports whether message id was seen at hop h. A message there that is incomplete
// because the receiver never got some of its bytes (a TCP hole that was never acknowledged), or
// because the connection ended while it was being sent (cutByEnd), did not arrive: it counts as
// absent, so the loss or the close is placed where it happened.
func (j *judger) present(id *ident, h int) bool {
	m := id.at(h)
	if m == nil {
		return false
	}
	if !m.Flags().Has(capture.Incomplete) {
		return true
	}
	for _, g := range j.c.sess[h].TCP[j.tr.dir].Gaps() {
		if g.Reason == capture.GapLost && g.Offset < m.End() && g.Offset+g.Length > m.Offset() {
			return false
		}
	}
	return !j.cutByEnd(h, m)
}

// cutByEnd reports whether m, incomplete at hop h, was cut short by the connection's end: its
// stream there stops inside it with no hole, the receiver acknowledged nothing past it, and h's
// capture saw the connection reset (either way) or its sender's FIN. The rest was never sent (a
// proxy reset while forwarding it), not merely not captured: a capture that stopped mid-message
// shows no end, one that dropped the rest shows it acknowledged.
func (j *judger) cutByEnd(h int, m *capture.Entry) bool {
	s := j.c.sess[h]
	st := &s.TCP[j.tr.dir]
	if m.End() < st.End || len(st.Gaps()) > 0 || s.TCP[1-j.tr.dir].HighestAck > st.End {
		return false
	}
	return st.FIN != nil || st.RST != nil || s.TCP[1-j.tr.dir].RST != nil
}

// coverage explains a message expected at hop h at te outside what h's capture covers: the
// capture ended before it, or began while the connection was already open. It returns "" otherwise.
func (j *judger) coverage(h int, te time.Time) string {
	s := j.c.sess[h]
	if cp := j.hs[h].cap; cp != nil && !cp.End.IsZero() && te.After(cp.End) {
		return fmt.Sprintf(" (%s's capture ends at %s, before the message would have passed at %s)", j.hs[h].name, j.stampAt(cp.End, h), j.stampAt(te, h))
	}
	if s == nil || !te.Before(s.Start) {
		return ""
	}
	if s.MidStream {
		return fmt.Sprintf(" (the connection was already open when %s's capture picked it up at %s)", j.hs[h].name, j.stampAt(s.Start, h))
	}
	return fmt.Sprintf(" (%s's capture of the connection begins at %s)", j.hs[h].name, j.stampAt(s.Start, h))
}

// captureTrouble describes what is wrong with hop h's capture as a whole, or "".
func (j *judger) captureTrouble(h int) string {
	cp := j.hs[h].cap
	if cp == nil {
		return ""
	}
	if cp.Stats.Truncated > 0 {
		return fmt.Sprintf(" (%d of its %d packets were cut by the snap length)", cp.Stats.Truncated, cp.Stats.Packets)
	}
	if cp.Stats.Packets == 0 {
		return " (it holds no packets)"
	}
	return ""
}

// covered reports whether hop h's capture was running when a message was expected there at te:
// after its start, and either before the last packet of the connection's session at h (s, when
// known) or clearly before the capture ended (a message can be in flight for about the latency
// measured into h).
func (j *judger) covered(h int, s *capture.Session, te time.Time) bool {
	cp := j.hs[h].cap
	if cp == nil || cp.End.IsZero() || te.Before(cp.Start) {
		return false
	}
	if s != nil && !te.After(s.End) {
		return true
	}
	return te.Before(cp.End.Add(-j.inflight(h)))
}

// inflight is how long a message may take to reach hop h: three times the largest latency
// measured into h, at least 50ms, at most the tolerance (the default when nothing was measured).
func (j *judger) inflight(h int) time.Duration {
	tol := j.opts.tolerance()
	worst := j.latencyBound(h)
	if worst == 0 {
		return tol
	}
	return min(max(3*worst, 50*time.Millisecond), tol)
}

// linkInto returns the latencies measured over the link a message of this direction arrives at
// hop h by: hs[h].latency holds the link from h-1, so a message to the client arrives at h over
// the link hs[h+1] holds. nil at the client for messages to the server, and the reverse.
func (j *judger) linkInto(h int) []time.Duration {
	if j.tr.dir == capture.ServerToClient {
		h++
	}
	if h <= 0 || h >= len(j.hs) {
		return nil
	}
	return j.hs[h].latency
}

// between returns the stream range at hop h around track position k: from the end of the nearest
// earlier message that both h and hop last have (0 when none) to the start of the nearest later one
// (end when none).
func (j *judger) between(k, h, last int, end uint64) (lo, hi uint64) {
	hi = end
	pl, ph := j.neighbours(k, h, last)
	if pl >= 0 {
		lo = j.tr.ids[pl].at(h).End()
	}
	if ph < len(j.tr.ids) {
		hi = j.tr.ids[ph].at(h).Offset()
	}
	return lo, hi
}

// neighbours returns the track positions of the nearest messages before and after position k
// that both hop h and hop last have: -1 and len(ids) where there is none.
func (j *judger) neighbours(k, h, last int) (pl, ph int) {
	ids := j.tr.ids
	pl, ph = -1, len(ids)
	for p := k - 1; p >= 0; p-- {
		if ids[p].at(h) != nil && ids[p].at(last) != nil {
			pl = p
			break
		}
	}
	for p := k + 1; p < len(ids); p++ {
		if ids[p].at(h) != nil && ids[p].at(last) != nil {
			ph = p
			break
		}
	}
	return pl, ph
}

// gapDetail explains why hop h's capture may lack the message at track position k: a TCP gap or
// an incomplete message between its neighbours there. It returns "" when there is none.
func (j *judger) gapDetail(k int, id *ident, h, last int) string {
	s := j.c.sess[h]
	// The neighbours are the nearest messages both hops have: messages only h has (extra, or
	// incomplete there) lie inside the range.
	lo, hi := j.between(k, h, last, ^uint64(0))
	lostHole := ""
	for _, g := range s.TCP[j.tr.dir].Gaps() {
		if g.Offset+g.Length > lo && g.Offset < hi {
			at := fmt.Sprintf("stream bytes %d to %d", g.Offset, g.Offset+g.Length)
			switch g.Reason {
			case capture.GapAcked:
				return fmt.Sprintf(": the capture there has a %d-byte TCP gap (%s, reason acked) that the receiver acknowledged, so the network delivered it and the capture dropped the packets", g.Length, at)
			case capture.GapSnaplen:
				return fmt.Sprintf(": packets there were cut by the snap length (%d bytes missing, %s, reason snaplen)", g.Length, at)
			case capture.GapBufferLimit:
				return fmt.Sprintf(": reassembly there gave up on a %d-byte hole (%s, reason buffer_limit)", g.Length, at)
			}
			// A hole the receiver never acknowledged: the bytes did not arrive there, which is
			// what a loss upstream of this capture point looks like, not a capture problem,
			// unless a hop further along has the message.
			if lostHole == "" {
				lostHole = fmt.Sprintf(": the capture there has a %d-byte TCP hole (%s, reason lost) that was never filled nor acknowledged in it", g.Length, at)
			}
		}
	}
	if lostHole != "" {
		if j.tr.passedAt(k, h) {
			return lostHole
		}
		return ""
	}
	for i := range s.Entries(j.tr.dir) {
		m := &s.Entries(j.tr.dir)[i]
		if m.Flags().Has(capture.Incomplete) && m.Offset() >= lo && m.Offset() < hi {
			return fmt.Sprintf(": message %d there is incomplete in the capture", j.num(h, m))
		}
	}
	return ""
}

// ownHole reports whether hop h's stream has, between the nearest messages both h and hop last
// have around track position k, a hole of the capture's own making: acknowledged by the
// receiver, cut by the snap length or given up by reassembly (not one never delivered there).
func (j *judger) ownHole(k, h, last int) bool {
	lo, hi := j.between(k, h, last, ^uint64(0))
	for _, g := range j.c.sess[h].TCP[j.tr.dir].Gaps() {
		if g.Offset+g.Length > lo && g.Offset < hi && g.Reason != capture.GapLost {
			return true
		}
	}
	return false
}

// room is what holeRoom found around one missing message.
type room struct {
	hole, miss uint64 // bytes of h's own holes left for, and bytes of, the messages missing there (as last framed them)
	taken      uint64 // hole bytes held by messages missing there that a hop further along has
	n, rank    int    // how many messages are missing there, and the message's place among them
	size       uint64 // their one frame size, 0 when they differ or are not copies of one payload
}

// holeRoom compares, between the nearest messages both hop h and hop last have around track
// position k, the bytes of h's holes of its own making with the bytes of the messages last has
// there and h lacks, as last framed them; those a hop further along has are known to lie in the
// holes, and take their room. It returns miss 0 when the two hops frame those
// neighbours differently (re-masked, recompressed): sizes then do not carry.
func (j *judger) holeRoom(k, h, last int) room {
	ids := j.tr.ids
	pl, ph := j.neighbours(k, h, last)
	if pl < 0 && ph == len(ids) {
		return room{} // no neighbour tells how the two hops frame
	}
	lo, hi := uint64(0), ^uint64(0)
	for _, p := range []int{pl, ph} {
		if p < 0 || p == len(ids) {
			continue
		}
		a, b := ids[p].at(last), ids[p].at(h)
		if a.End()-a.Offset() != b.End()-b.Offset() {
			return room{}
		}
		if p == pl {
			lo = b.End()
		} else {
			hi = b.Offset()
		}
	}
	r := room{size: ^uint64(0)}
	var d capture.Digest64
	var passed uint64 // bytes of the missing messages a hop further along has: they are in the holes
	for p := pl + 1; p < ph; p++ {
		if a := ids[p].at(last); a != nil && ids[p].at(h) == nil {
			sz := a.End() - a.Offset()
			if j.passedOn(ids[p], h) {
				passed += sz
				continue
			}
			switch {
			case r.size == ^uint64(0):
				r.size, d = sz, a.Digest()
			case r.size != sz || d != a.Digest() || d.IsZero():
				r.size = 0
			}
			if p == k {
				r.rank = r.n
			}
			r.miss += sz
			r.n++
		}
	}
	for _, g := range j.c.sess[h].TCP[j.tr.dir].Gaps() {
		if g.Reason != capture.GapLost && g.Offset+g.Length > lo && g.Offset < hi {
			r.hole += min(g.Offset+g.Length, hi) - max(g.Offset, lo)
		}
	}
	r.taken = min(passed, r.hole)
	r.hole -= r.taken
	return r
}

// copyBeside reports whether the nearest message both hop h and hop last have before or after
// track position k is, at h, a copy of the message at k (the same payload).
func (j *judger) copyBeside(k, h, last int) bool {
	d := j.tr.ids[k].at(last).Digest()
	if d.IsZero() {
		return false
	}
	for _, step := range []int{-1, 1} {
		for p := k + step; p >= 0 && p < len(j.tr.ids); p += step {
			if m := j.tr.ids[p].at(h); m != nil && j.tr.ids[p].at(last) != nil {
				if m.Digest() == d {
					return true
				}
				break
			}
		}
	}
	return false
}

// plainAround reports whether, between the nearest messages both hop h and hop last have around
// track position k, last's capture is whole and holds data messages only, complete, and h has
// no message there cut by a hole: every byte of h's holes there then belongs to a whole data
// message last has, so the holes' size can be weighed against the messages missing at h.
func (j *judger) plainAround(k, h, last int) bool {
	lo, hi := j.between(k, last, h, ^uint64(0))
	sl := j.c.sess[last]
	for _, g := range sl.TCP[j.tr.dir].Gaps() {
		if g.Offset+g.Length > lo && g.Offset < hi {
			return false
		}
	}
	if !wholeData(sl.Entries(j.tr.dir), lo, hi) {
		return false
	}
	hlo, hhi := j.between(k, h, last, ^uint64(0))
	return wholeData(j.c.sess[h].Entries(j.tr.dir), hlo, hhi)
}

// wholeData reports whether the entries with bytes between stream offsets lo and hi are all
// complete data messages.
func wholeData(es []capture.Entry, lo, hi uint64) bool {
	for i := range es {
		e := &es[i]
		if e.End() > lo && e.Offset() < hi && (!e.Opcode().IsData() || e.Flags().Has(capture.Incomplete)) {
			return false
		}
	}
	return true
}

// passedOn reports whether message id was seen at a hop after h in travel order.
func (j *judger) passedOn(id *ident, h int) bool {
	for p := j.pos[h] + 1; p < len(j.tr.travel); p++ {
		if id.at(j.tr.travel[p]) != nil {
			return true
		}
	}
	return false
}

// beyondHole judges a message (track position k) missing at hop h where h's capture has holes
// of its own making too small for every message missing between the same neighbours (r): some
// never reached h. When those messages are copies of one payload and the holes hold a whole
// number of them, that many are capture gaps and the rest lost, counted from the last (which
// copies went where is not known, only how many); otherwise it is undecided which of them
// reached h.
func (j *judger) beyondHole(f finding, h int, desc string, r room) finding {
	hn, un := j.hs[h].name, j.hs[f.lastHop].name
	holes := fmt.Sprintf("%d bytes", r.hole+r.taken)
	if r.taken > 0 {
		holes += fmt.Sprintf(", %d of them held by messages a hop further along has", r.taken)
	}
	if r.size == 0 || r.hole%r.size != 0 {
		f.verdict, f.low = schema.Undecided, true
		f.why = fmt.Sprintf("%s was not read at %s, whose capture has holes of its own making there (%s) but too small for the %d messages missing at %s between the same neighbours (%d bytes as %s framed them): some of them never reached %s, which ones is not known",
			desc, hn, holes, r.n, hn, r.miss, un, hn)
		return f
	}
	held := int(r.hole / r.size)
	if r.rank < held {
		f.verdict = schema.CaptureGap
		f.why = fmt.Sprintf("%s was not read at %s: its capture's holes of its own making there (%s) hold %d of the %d identical %d-byte messages missing at %s between the same neighbours, counted from the first",
			desc, hn, holes, held, r.n, r.size, hn)
		return f
	}
	// No close is weighed: which copies went missing is not known, so neither is when.
	f.verdict = schema.Lost
	f.why = fmt.Sprintf("%s never reached %s: %s's capture has holes of its own making between the same neighbours (%s), room for %d of the %d identical %d-byte messages missing there, so %d never reached it (which of the copies is not known: counted from the last)",
		desc, hn, hn, holes, held, r.n, r.size, r.n-held)
	return f
}

// unlistedHole explains why hop h may lack the message at track position k when its gap list
// is cut short (the capture stage keeps the first 64 gaps per direction): bytes between the
// nearest messages both h and hop last have that no message at h holds, a hole whose reason
// (dropped by the capture, or never delivered) is not known. It returns "" otherwise.
func (j *judger) unlistedHole(k, h, last int) string {
	s := j.c.sess[h]
	st := s.TCP[j.tr.dir]
	if st.GapsDropped() == 0 {
		return ""
	}
	lo, hi := j.between(k, h, last, st.End)
	if hi <= lo {
		return ""
	}
	held := uint64(0)
	for i := range s.Entries(j.tr.dir) {
		e := &s.Entries(j.tr.dir)[i]
		if e.Offset() >= lo && e.End() <= hi {
			held += e.End() - e.Offset()
		}
	}
	if held >= hi-lo {
		return ""
	}
	return fmt.Sprintf("where its capture lacks %d bytes (stream bytes %d to %d hold %d in messages) beyond the %d gaps it lists (%d more not listed): whether the capture dropped them or they never arrived is not known",
		hi-lo-held, lo, hi, held, len(st.Gaps()), st.GapsDropped())
}

// sightMargin is how long before the end of a hop's capture a message of the other direction
// must have passed for the acknowledgement of its bytes to be due in the capture: delayed ACKs
// wait at most 500 ms (RFC 1122).
const sightMargin = time.Second

// lostSight finds, per hop, when its capture of connection c stopped seeing the packets of
// direction dir (the zero time where it did not): asymmetric routing that began mid-connection
// (a route change, an ECMP rehash), or a filter changed while capturing. The evidence is in the
// other direction (other's track): a message the hop saw and that went on past it (a hop further
// along has it) was received, so its receiver, dir's sender at that hop, acknowledged its bytes;
// when the acknowledgements in the hop's capture stop short of it, the capture missed them, and
// every packet of dir from about then on. Connections the capture saw one way only (seenTravel),
// TLS, HTTP/2 and mid-stream sessions (whose offsets the acknowledgements may not share) are
// left alone.
func lostSight(c *conn, dir capture.Direction, other *track, hs []*hopState, opts *Options) []time.Time {
	var out []time.Time
	if other == nil {
		return nil
	}
	for k, id := range other.ids {
		for _, h := range other.travel {
			s, x := c.sess[h], id.at(h)
			if x == nil || s == nil || s.TLS() != nil || s.HTTP2() != nil || s.MidStream || s.OneWay() ||
				s.TCP[dir].HighestAck >= x.End() || !other.passedAt(k, h) {
				continue
			}
			if cp := hs[h].cap; cp == nil || x.First().Add(sightMargin+opts.tolerance()).After(cp.End) {
				continue // the acknowledgement may have come after the capture ended
			}
			if out == nil {
				out = make([]time.Time, len(hs))
			}
			if out[h].IsZero() || x.First().Before(out[h]) {
				out[h] = x.First()
			}
		}
	}
	return out
}

// outOfSight says why hop h's capture cannot tell whether a message expected there at te passed:
// it had stopped seeing this direction's packets by then (lostSight); "" when it had not.
func (j *judger) outOfSight(h int, te time.Time) string {
	if j.blindFrom == nil || j.blindFrom[h].IsZero() || te.Before(j.blindFrom[h].Add(-j.inflight(h))) {
		return ""
	}
	return fmt.Sprintf("%s's capture had stopped seeing the %s side's packets of this connection: the %s side's messages it saw from %s on went further along the path, so they were received, yet no acknowledgement of them is in it (asymmetric routing from then on, or a capture filter on one direction)",
		j.hs[h].name, sideOf(j.tr.dir), sideOf(j.tr.dir.Other()), j.stampAt(j.blindFrom[h], h))
}

// heldBehind explains why message m, seen at hop h, cannot have gone further: h's stream has a
// hole before m that was never filled nor acknowledged (reason lost), and the receiver's
// acknowledgements seen at h never passed that hole, so its TCP never delivered m (head-of-line
// blocking behind a lost segment). It returns "" otherwise.
func (j *judger) heldBehind(h int, m *capture.Entry) string {
	s := j.c.sess[h]
	if s == nil || s.TLS() != nil || s.HTTP2() != nil {
		return ""
	}
	acker := s.TCP[j.downstream()]
	if acker.Packets == 0 {
		return ""
	}
	for _, g := range s.TCP[j.tr.dir].Gaps() {
		if g.Reason == capture.GapLost && g.Offset+g.Length <= m.Offset() && acker.HighestAck <= g.Offset {
			return fmt.Sprintf("the receiver beyond %s never acknowledged past stream byte %d, where a %d-byte hole (never filled nor acknowledged, reason lost) comes before the message's bytes %d to %d, so its TCP never delivered the message",
				j.hs[h].name, acker.HighestAck, g.Length, m.Offset(), m.End())
		}
	}
	return ""
}

// tailDetail explains why hop h, before hop later on the message's way, lacks message m that
// later has: h's capture of the same TCP connection (sameSequence) stops before m's bytes with no
// FIN or RST, so the bytes later shows went through h unrecorded. It returns "" otherwise.
func (j *judger) tailDetail(h, later int, m *capture.Entry) string {
	s, sl := j.c.sess[h], j.c.sess[later]
	if !sameSequence(s, sl) {
		return ""
	}
	st := s.TCP[j.tr.dir]
	if m.Offset() < st.End || st.FIN != nil || st.RST != nil || s.TCP[1-j.tr.dir].RST != nil {
		return ""
	}
	return fmt.Sprintf(" (its capture of this TCP connection, the same one as at %s with the same initial sequence numbers both ways, stops at stream byte %d with no FIN or RST, and %s has the message at bytes %d to %d)",
		j.hs[later].name, st.End, j.hs[later].name, m.Offset(), m.End())
}

// firstEnd returns the earliest close frame, FIN or RST of session s, from either side, no
// later than before; nil if none.
func firstEnd(hop string, s *capture.Session, before time.Time) *schema.EndNote {
	var best *schema.EndNote
	for _, d := range capture.Directions {
		if e := firstEndFrom(hop, s, d, before); e != nil && (best == nil || e.Time.Before(best.Time)) {
			best = e
		}
	}
	return best
}

// firstEndFrom returns the earliest close frame, FIN or RST sent in direction d of session s no
// later than before; nil if none.
func firstEndFrom(hop string, s *capture.Session, d capture.Direction, before time.Time) *schema.EndNote {
	var best *schema.EndNote
	consider := func(e *schema.EndNote) {
		if e.Time.After(before) {
			return
		}
		if best == nil || e.Time.Before(best.Time) {
			best = e
		}
	}
	if c := s.Close(d); c != nil {
		e := &schema.EndNote{Hop: hop, Side: sideOf(d), Kind: "close", Reason: c.Reason, Time: c.Time, File: c.Packet.File, Packet: c.Packet.Number}
		if c.Code != 0 {
			code := c.Code
			e.Code = &code
		}
		consider(e)
	}
	if ev := s.TCP[d].RST; ev != nil {
		consider(&schema.EndNote{Hop: hop, Side: sideOf(d), Kind: "rst", Time: ev.Time, File: ev.Packet.File, Packet: ev.Packet.Number})
	}
	if ev := s.TCP[d].FIN; ev != nil {
		consider(&schema.EndNote{Hop: hop, Side: sideOf(d), Kind: "fin", Time: ev.Time, File: ev.Packet.File, Packet: ev.Packet.Number})
	}
	return best
}

func endWhat(e *schema.EndNote) string {
	switch e.Kind {
	case "close":
		if e.Code != nil {
			return fmt.Sprintf("close frame %d", *e.Code)
		}
		return "close frame"
	case "rst":
		return "TCP RST"
	}
	return "TCP FIN"
}

func tcpNote(hop string, s *capture.Session, d capture.Direction) schema.TCPNote {
	st := s.TCP[d]
	return schema.TCPNote{
		Hop: hop, Side: sideOf(d), Packets: st.Packets, Retransmissions: st.Retransmissions(),
		ZeroWindows: st.ZeroWindows(), Gaps: len(st.Gaps()), RST: st.RST != nil, FIN: st.FIN != nil,
	}
}

// stampAt formats a time read at hop h, saying which clock when it is not the first hop's.
func (j *judger) stampAt(t time.Time, h int) string {
	if j.hs[h].off == 0 || h == 0 {
		return stamp(t)
	}
	return stamp(t) + " on " + j.hs[h].name + "'s clock"
}

// stamp formats a time for reasons: UTC with milliseconds.
func stamp(t time.Time) string {
	return t.UTC().Format("15:04:05.000")
}
