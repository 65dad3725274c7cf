package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// Teardowns: the most common way messages vanish in production is an idle or tunnel timeout in a
// proxy or load balancer. The proxy ends the connection beyond it, and the client's next message
// reaches the proxy after the path onward is gone. Such a message is not delivered (closed), and
// the close is its reason only when it happened before the message could have got there.

// latencyBound is the longest one-way time measured into hop h (0 when nothing was measured): a
// message seen upstream at t is at h no later than t plus this, clocks corrected.
func (j *judger) latencyBound(h int) time.Duration {
	var worst time.Duration
	for _, l := range j.linkInto(h) {
		worst = max(worst, l)
	}
	return worst
}

// clockSlack is how far apart two hops' clocks may still be after correcting them: 1ms when both
// offsets are known (given, or estimated from matched messages), the comparison tolerance when not.
func (j *judger) clockSlack(a, b int) time.Duration {
	if j.hs[a].offKnown && j.hs[b].offKnown {
		return time.Millisecond
	}
	return j.opts.tolerance()
}

// endedBefore judges a message seen at f.lastHop and absent from hop h, where the connection was
// seen, when the connection had ended before the message could get to h: at h (a close frame,
// FIN or RST there no later than the message's time upstream plus the latency measured into h),
// or at the last hop that saw it, from the side it was going to (the component beyond had already
// ended the connection when the message arrived there). This comes before any capture coverage
// test: a connection that is gone explains the absence, even when h's capture ends soon after.
// partial: h has the start of the message, cut short by that end (cutByEnd).
func (j *judger) endedBefore(f finding, desc string, h int, partial bool) (finding, bool) {
	s, su := j.c.sess[h], j.c.sess[f.lastHop]
	te := j.expected(f.msg.First(), f.lastHop, h)
	hn, un := j.hs[h].name, j.hs[f.lastHop].name
	bound := j.latencyBound(h) + j.clockSlack(f.lastHop, h)
	by := j.endedBy(f.lastHop, h)
	if by == "" {
		by = j.whoEnded()
	}
	if e := firstEnd(hn, s, te.Add(bound)); e != nil {
		f.verdict, f.end = schema.Closed, e
		what := "never reached " + hn
		if partial {
			what = "reached " + hn + " only in part"
		}
		f.why = fmt.Sprintf("%s %s: the connection there was ended by the %s side (%s) at %s (%s packet %d), before the message could get there (latency into %s at most %s, clocks included)%s",
			desc, what, e.Side, endWhat(e), j.stampAt(e.Time, h), e.File, e.Packet, hn, bound.Round(time.Microsecond), by)
		return f, true
	}
	if e := firstEndFrom(un, su, j.downstream(), f.msg.First()); e != nil {
		f.verdict, f.end = schema.Closed, e
		f.why = fmt.Sprintf("%s reached %s after the %s side there had ended the connection (%s, %s packet %d, at %s): it could not be forwarded to %s%s",
			desc, un, e.Side, endWhat(e), e.File, e.Packet, j.stampAt(e.Time, f.lastHop), hn, by)
		return f, true
	}
	return f, false
}

// endedBy says who ended the connection between hops a and b (either order), from the first end
// event at each: the component between them when a saw it come from b's side and b from a's side;
// and when both were RSTs on one TCP connection seen at both hops, that neither end sent them. It
// returns "" when the events say nothing of the kind.
func (j *judger) endedBy(a, b int) string {
	if a > b {
		a, b = b, a
	}
	sa, sb := j.c.sess[a], j.c.sess[b]
	if !readable(sa) || !readable(sb) {
		return ""
	}
	ea := firstEndFrom(j.hs[a].name, sa, capture.ServerToClient, farFuture())
	eb := firstEndFrom(j.hs[b].name, sb, capture.ClientToServer, farFuture())
	if ea == nil || eb == nil {
		return ""
	}
	// The first end at each hop must be these: an end from beyond (the client or the server) that
	// came first is no evidence about the component between.
	if fa := firstEnd(j.hs[a].name, sa, farFuture()); fa.Time.Before(ea.Time) {
		return ""
	}
	if fb := firstEnd(j.hs[b].name, sb, farFuture()); fb.Time.Before(eb.Time) {
		return ""
	}
	if j.missedEnd(a, b, ea, eb) {
		return ""
	}
	an, bn := j.hs[a].name, j.hs[b].name
	if ea.Kind == "rst" && eb.Kind == "rst" && sameTCP(sa, sb) {
		return fmt.Sprintf("; on the one TCP connection seen at both %s and %s, %s saw a RST from the server side (%s packet %d, %s) and %s one from the client side (%s packet %d, %s): neither end sent both, so something between %s and %s forged them (a firewall or load balancer resetting the connection)",
			an, bn, an, ea.File, ea.Packet, j.stampAt(ea.Time, a), bn, eb.File, eb.Packet, j.stampAt(eb.Time, b), an, bn)
	}
	return fmt.Sprintf("; the component between %s and %s ended it: %s saw %s from the server side (%s packet %d, %s) and %s saw %s from the client side (%s packet %d, %s)",
		an, bn, an, endWhat(ea), ea.File, ea.Packet, j.stampAt(ea.Time, a), bn, endWhat(eb), eb.File, eb.Packet, j.stampAt(eb.Time, b))
}

// missedEnd reports whether ends seen from opposite sides at hops a (the server side's, a before
// b in path order) and b (the client side's) may come from captures that missed the other end
// rather than from a component between a and b ending the connection. On one TCP connection seen
// at both (oneTCP, TLS or not) nothing between them can send a close frame or a FIN, only forge RSTs:
// the client's end seen at b passed a. Otherwise a capture that lost packets of the direction the
// other end travels, around the time of its own end, may have lost that end.
func (j *judger) missedEnd(a, b int, ea, eb *schema.EndNote) bool {
	if oneTCP(j.c.sess[a], j.c.sess[b]) && (ea.Kind != "rst" || eb.Kind != "rst") {
		return true
	}
	return j.lostAround(a, capture.ClientToServer, ea.Time) || j.lostAround(b, capture.ServerToClient, eb.Time)
}

// lostAround reports whether hop h's capture of direction d may have lost packets sent around t:
// a hole in d's stream noticed no earlier than t (less the comparison tolerance: the hole shows
// only at the next packet), or dropped packets the capture admits to then.
func (j *judger) lostAround(h int, d capture.Direction, t time.Time) bool {
	from := t.Add(-j.opts.tolerance())
	st := &j.c.sess[h].TCP[d]
	for _, g := range st.Gaps() {
		if !g.Time.Before(from) {
			return true
		}
	}
	if st.GapsDropped() > 0 {
		return true // the holes past the first 64 are not listed: any may be near t
	}
	for _, c := range j.hs[h].drops {
		if (c.start.IsZero() || !t.Before(c.start.Add(-j.opts.tolerance()))) && (c.end.IsZero() || !t.After(c.end.Add(j.opts.tolerance()))) {
			return true
		}
	}
	return false
}

// whoEnded looks along the path for the component that ended the connection: the first pair of
// adjacent hops (in path order, both readable) where the first saw the end come from the server
// side and the second from the client side, and says so as endedBy does; "" when there is none.
func (j *judger) whoEnded() string {
	prev := -1
	for h, s := range j.c.sess {
		if !readable(s) || j.hs[h].excluded || s.OneWay() {
			continue
		}
		if prev >= 0 {
			if by := j.endedBy(prev, h); by != "" {
				return by
			}
		}
		prev = h
	}
	return ""
}

// sameTCP reports whether two sessions at different hops are one TCP connection seen twice (no
// proxy between, maybe NAT): same addresses, or the same handshake passed on unchanged.
func sameTCP(a, b *capture.Session) bool {
	if a.Client == b.Client && a.Server == b.Server {
		return true
	}
	if a.Request == nil || b.Request == nil || a.Key() == "" || a.Key() != b.Key() {
		return false
	}
	return a.Request.Headers["X-Forwarded-For"] == b.Request.Headers["X-Forwarded-For"] &&
		a.Request.Headers["Via"] == b.Request.Headers["Via"]
}

// sameSequence reports whether a and b are one TCP connection seen at two hops with nothing
// between them that ends TCP (oneTCP), and their message offsets are TCP stream offsets: a stream
// offset then names the same byte at both, and an acknowledgement seen at one came from the peer
// beyond both. Plain TCP only: TLS and HTTP/2 message offsets are not TCP stream offsets.
func sameSequence(a, b *capture.Session) bool {
	return oneTCP(a, b) && a.TLS() == nil && b.TLS() == nil && a.HTTP2() == nil && b.HTTP2() == nil
}

// oneTCP reports whether a and b are one TCP connection seen at two hops: both saw the SYNs, with
// the same initial sequence numbers both ways (NAT may change addresses; a proxy's own connection
// has ISNs of its own). A bridge's session stands for another connection: never.
func oneTCP(a, b *capture.Session) bool {
	if a == nil || b == nil || a.Bridge() != nil || b.Bridge() != nil {
		return false
	}
	for _, d := range capture.Directions {
		ta, tb := a.TCP[d], b.TCP[d]
		if !ta.SYN || !tb.SYN || ta.ISN != tb.ISN {
			return false
		}
	}
	return true
}

// breakdown explains a missing total whose messages went missing at different hops: messages
// stalled behind the first lost one show up short of the hop that lost it. items are the
// findings of the worst verdict, in stream order; "" when they all went missing at one place.
func (j *judger) breakdown(items []finding) string {
	type group struct {
		miss, last int
		from, to   int // message numbers at last
	}
	var gs []group
	for _, f := range items {
		if f.msg == nil || f.lastHop < 0 {
			return ""
		}
		n := j.num(f.lastHop, f.msg)
		if k := len(gs) - 1; k >= 0 && gs[k].miss == f.missHop && gs[k].last == f.lastHop && gs[k].to+1 == n {
			gs[k].to = n
			continue
		}
		gs = append(gs, group{f.missHop, f.lastHop, n, n})
	}
	if len(gs) < 2 {
		return ""
	}
	var parts []string
	for i, g := range gs {
		nums := fmt.Sprintf("#%d", g.from)
		if g.to > g.from {
			nums = fmt.Sprintf("#%d-#%d", g.from, g.to)
		}
		if i > 0 && j.pos[g.miss] < j.pos[gs[0].miss] {
			parts = append(parts, fmt.Sprintf("%s never left %s after it", nums, j.hs[g.last].name))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s never reached %s", nums, j.hs[g.miss].name))
	}
	return fmt.Sprintf("%d missing: %s", len(items), strings.Join(parts, "; "))
}

// frameFilter is the Wireshark display filter for one packet of a file.
func frameFilter(n int) string { return fmt.Sprintf("frame.number == %d", n) }

// missRef says where to look for f's message at the hop missing it: the next packet of the
// connection there after the message would have passed (a later message of the direction, or the
// end of the connection), else the time from which it would be there.
func (j *judger) missRef(f *finding) *schema.MissRef {
	h := f.missHop
	te := j.expected(f.msg.First(), f.lastHop, h)
	r := &schema.MissRef{Hop: j.hs[h].name, Expected: te,
		Filter: fmt.Sprintf("frame.time_epoch >= %d.%06d", te.Unix(), te.Nanosecond()/1000)}
	if j.c.sess[h] == nil {
		return r
	}
	for _, id := range j.tr.ids[f.k+1:] {
		if m := id.at(h); m != nil && m != f.changed {
			p := j.ref(h, m)
			r.File, r.Packet, r.What = p.File, p.Number, fmt.Sprintf("%s message %d", j.tr.dir, j.num(h, m))
			r.Filter = frameFilter(p.Number)
			return r
		}
	}
	if e := firstEnd(j.hs[h].name, j.c.sess[h], farFuture()); e != nil && e.Packet > 0 {
		r.File, r.Packet, r.What = e.File, e.Packet, fmt.Sprintf("%s from the %s side", endWhat(e), e.Side)
		r.Filter = frameFilter(e.Packet)
	}
	return r
}

// hopWarnings are the warnings of the hops a verdict rests on (the hop that last saw the message,
// the first hop missing it, hops left out between them), so that they stand next to the verdict
// they affect in every format: "warning at ingress: ...".
func (j *judger) hopWarnings(f *finding) []string {
	var hops []int
	in := false
	for _, h := range j.tr.travel {
		if h == f.lastHop || (f.lastHop < 0 && h == f.missHop) {
			in = true
		}
		if in && (h == f.lastHop || h == f.missHop || j.hs[h].excluded) {
			hops = append(hops, h)
		}
		if h == f.missHop {
			break
		}
	}
	var out []string
	for _, h := range hops {
		ws := append([]string{}, j.hs[h].warnings...)
		if cp := j.hs[h].cap; cp != nil {
			for _, w := range cp.Warnings {
				ws = append(ws, w.String())
			}
		} else if j.hs[h].err != nil {
			ws = append(ws, "not read: "+j.hs[h].err.Error())
		}
		for i, w := range ws {
			if i == 3 {
				out = append(out, fmt.Sprintf("warning at %s: %d more (see the hop's warnings)", j.hs[h].name, len(ws)-3))
				break
			}
			out = append(out, fmt.Sprintf("warning at %s: %s", j.hs[h].name, w))
		}
	}
	return out
}

// resetUnread finds a direction whose receiver reset the connection with the last message still
// unread: at the last hop of the track, the component beyond (the receiving application's host)
// ended the connection with a TCP RST, not a FIN or a close frame first, and the last bytes of the
// direction it had been sent were a whole data message. A TCP that closes with bytes its
// application has not read sends a RST instead of a FIN (RFC 2525, 2.17), and a socket already
// gone answers new bytes with one: either way that message never reached the application (a
// server killed, a client that crashed), though every capture has it. It returns nil when there
// is no such end.
func (j *judger) resetUnread() *finding {
	if len(j.tr.travel) == 0 {
		return nil
	}
	h := j.tr.travel[len(j.tr.travel)-1]
	s := j.c.sess[h]
	if s == nil || !readable(s) || s.OneWay() || j.lastSeen() != h {
		return nil
	}
	recv := j.downstream()
	e := firstEndFrom(j.hs[h].name, s, recv, farFuture())
	if e == nil || e.Kind != "rst" {
		return nil
	}
	es := s.Entries(j.tr.dir)
	if len(es) == 0 {
		return nil
	}
	m := &es[len(es)-1]
	if !m.Opcode().IsData() || m.Flags().Has(capture.Incomplete) || m.End() != s.TCP[j.tr.dir].End ||
		m.First().After(e.Time) {
		return nil // something else came last, or the stream has bytes after it: unread is not known
	}
	k := slices.IndexFunc(j.tr.ids, func(id *ident) bool { return id.at(h) == m })
	if k < 0 {
		return nil
	}
	acked := s.TCP[recv].HighestAck >= m.End()
	f := &finding{verdict: schema.Closed, missHop: h, lastHop: h, laterHop: -1, msg: m, k: k, count: 1,
		end: e, acked: &acked, seg: "beyond " + j.hs[h].name}
	took := "no segment before the reset acknowledged it"
	if acked {
		took = "its TCP had acknowledged it"
	}
	f.why = fmt.Sprintf("%s message %d reached %s, the last hop, and the %s side there then reset the connection (%s at %s, %s packet %d) without closing it first, that message the last bytes it had been sent (%s): a TCP resets instead of closing when its application leaves bytes unread, or answers bytes for a socket already gone, so the application there did not read it (an end killed or crashed), unless it aborted the connection on purpose right after reading it",
		j.tr.dir, j.num(h, m), j.hs[h].name, e.Side, endWhat(e), j.stampAt(e.Time, h), e.File, e.Packet, took)
	return f
}
