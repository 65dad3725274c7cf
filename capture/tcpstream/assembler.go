package tcpstream

import (
	"net/netip"
	"slices"
	"time"

	"github.com/wspath/wspath/capture/packet"
)

// Assembler reassembles TCP connections. Make one with NewAssembler; it is not safe for concurrent
// use. Memory is bounded by Config: per connection a few hundred bytes of state plus its buffered
// out-of-order bytes.
type Assembler struct {
	cfg       Config
	newStream func(ConnInfo) Stream

	conns    map[connKey]*conn
	tombs    map[connKey]tomb
	tombQ    fifo[tombEntry]
	holeQ    fifo[holeEntry]
	resetQ   fifo[resetEntry]
	lru      *conn // least recently active live connection; lru.prev is the most recent
	nextID   uint64
	free     [][]byte // recycled chunk buffers of cap chunkCap
	flushing bool     // in Flush: closed connections need no tomb
	totals   Totals
	recent   *conn // connection of the latest segment; a live (not closed) one is in conns
	stamps   packet.Files
}

// conn is the state of one connection.
type conn struct {
	key   connKey
	flags connFlags
	// buffered is int32 (MaxConnBuffer is at most maxConnBufferLimit) so that it fills the
	// padding after key and the flags: a SYN flood costs per connection what it did before
	// the key held a tunnel.
	buffered   int32
	id         uint64
	stream     Stream // nil: ignored connection
	h          [2]half
	last       packet.Stamp // latest packet, for gaps declared at the end (Assembler.stamps)
	prev, next *conn
}

// connFlags are a conn's yes-or-no facts, one bit each so that they fit beside buffered.
type connFlags uint8

const (
	aLo    connFlags = 1 << iota // A is the key's lower endpoint
	synned                       // opened by a SYN or SYN-ACK
	closed
	reset // a RST was seen: closing after Config.ResetLinger
	// ipv4: the addresses came in IPv4 headers (the key holds them in IPv4-mapped form,
	// which an IPv6 header may carry too).
	ipv4
)

// is reports whether c has every flag of f.
func (c *conn) is(f connFlags) bool { return c.flags&f == f }

// Conn is a Stream's handle on its connection (ConnInfo.Conn): the endpoints, tunnel and
// handshake of ConnInfo, read from the Assembler's own record instead of a copy the Stream keeps,
// so that a flood's hundreds of thousands of waiting connections keep their 4-tuple once. It
// stays valid after Close.
type Conn struct{ c *conn }

// A returns ConnInfo.A.
func (h Conn) A() netip.AddrPort { return h.c.endpoint(h.c.is(aLo)) }

// B returns ConnInfo.B.
func (h Conn) B() netip.AddrPort { return h.c.endpoint(!h.c.is(aLo)) }

// SYN returns ConnInfo.SYN.
func (h Conn) SYN() bool { return h.c.is(synned) }

// Tunnel returns ConnInfo.Tunnel.
func (h Conn) Tunnel() uint32 { return h.c.key.tunnel }

// Packets returns how many segments direction d has sent so far, pure ACKs included: none while
// the other side talks means the capture sees one direction only (asymmetric routing, a one-way
// filter).
func (h Conn) Packets(d Dir) int { return int(h.c.h[d].packets) }

// Iface returns the Segment.Iface of the connection's segments: the view it was captured in.
func (h Conn) Iface() uint32 { return h.c.key.iface }

// endpoint returns the key's lower endpoint, or its higher one, as the segments gave it.
func (c *conn) endpoint(lo bool) netip.AddrPort {
	a, p := &c.key.hiAddr, c.key.hiPort
	if lo {
		a, p = &c.key.loAddr, c.key.loPort
	}
	if c.is(ipv4) {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[12:])), p)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(*a), p)
}

// holeEntry asks for the hole of c.h[d] to be given up after HoleTimeout from since, if gen still
// matches (the hole was not filled or re-armed meanwhile).
type holeEntry struct {
	c     *conn
	d     Dir
	gen   uint32
	since time.Time
}

// resetEntry asks for c to be closed ResetLinger after its first RST at.
type resetEntry struct {
	c  *conn
	at time.Time
}

// tomb remembers a closed connection for ClosedTimeout.
type tomb struct {
	at     time.Time
	isn    uint32 // the initiator's ISN, if hasISN
	hasISN bool
	aLo    bool
}

type tombEntry struct {
	key connKey
	at  time.Time
}

// NewAssembler returns an Assembler. newStream is called once per new connection, from Add, and may
// return nil to ignore the connection: it is still tracked (so its packets open nothing else) but
// nothing is buffered or delivered for it.
func NewAssembler(cfg Config, newStream func(ConnInfo) Stream) *Assembler {
	return &Assembler{
		cfg:       cfg.withDefaults(),
		newStream: newStream,
		conns:     make(map[connKey]*conn),
		tombs:     make(map[connKey]tomb),
	}
}

// Totals returns counters of what the Assembler did so far.
func (a *Assembler) Totals() Totals { return a.totals }

// Live returns the number of connections tracked now, all of which Flush would close.
func (a *Assembler) Live() int { return len(a.conns) }

// Add feeds one segment, in capture order. seg and its Payload stay owned by the caller; Add copies
// what it keeps. A nil seg is ignored.
func (a *Assembler) Add(seg *Segment, m packet.Meta) {
	if seg == nil {
		return
	}
	a.totals.Segments++
	a.expire(m.Time)
	var key connKey
	c, srcLo := a.recentFor(seg)
	if c == nil {
		key, srcLo = makeKey(seg.Src, seg.Dst, seg.Tunnel, seg.Iface)
		c = a.conns[key]
	}
	if c != nil && seg.Flags&(SYN|RST) == SYN && a.synStartsNew(c, seg, srcLo) {
		key = c.key
		a.finish(c, m.Time)
		c = nil
	}
	if c == nil {
		if c = a.open(key, seg, srcLo, m); c == nil {
			a.totals.Ignored++
			return
		}
	}
	a.recent = c
	a.touch(c)
	c.last = a.stamps.Stamp(m)
	d := FromA
	if srcLo != c.is(aLo) {
		d = FromB
	}
	a.segment(c, d, seg, &m)
}

// recentFor returns the connection of the previous segment and whether seg.Src is its key's lower
// endpoint, if seg belongs to it; nil otherwise. Segments of one connection tend to come in runs
// (data and the ACKs answering it): this skips ordering the endpoints and the map lookup. A live
// connection is the one its key maps to, so the answer is the map's.
func (a *Assembler) recentFor(seg *Segment) (*conn, bool) {
	c := a.recent
	if c == nil || c.is(closed) || c.key.tunnel != seg.Tunnel || c.key.iface != seg.Iface {
		return nil, false
	}
	k := &c.key
	sp, dp := seg.Src.Port(), seg.Dst.Port()
	if sp == k.loPort && dp == k.hiPort && seg.Src.Addr().As16() == k.loAddr && seg.Dst.Addr().As16() == k.hiAddr {
		return c, true
	}
	if sp == k.hiPort && dp == k.loPort && seg.Src.Addr().As16() == k.hiAddr && seg.Dst.Addr().As16() == k.loAddr {
		return c, false
	}
	return nil, false
}

// Flush ends the capture: every hole becomes a gap, every pending FIN is delivered, and every open
// connection is closed, in order of first appearance. The Assembler is empty afterwards and may be
// reused.
func (a *Assembler) Flush() {
	cs := make([]*conn, 0, len(a.conns))
	for _, c := range a.conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(x, y *conn) int {
		if x.id < y.id {
			return -1
		}
		return 1
	})
	a.flushing = true
	for i, c := range cs {
		cs[i] = nil // a closed connection is garbage at once: a flood's are not all kept till the end
		a.finish(c, c.last.Time)
	}
	a.flushing = false
	a.conns = make(map[connKey]*conn) // the old map keeps its size when emptied
	clear(a.tombs)
	a.tombQ = fifo[tombEntry]{}
	a.holeQ = fifo[holeEntry]{}
	a.resetQ = fifo[resetEntry]{}
	a.lru = nil
	a.recent = nil
}

// expire gives up holes older than HoleTimeout and forgets closed connections older than
// ClosedTimeout. Both queues are in (nearly) time order, so this looks only at their fronts.
func (a *Assembler) expire(now time.Time) {
	for a.holeQ.len() > 0 {
		e := *a.holeQ.front()
		if !a.holeValid(&e) {
			a.holeQ.pop()
			continue
		}
		if now.Sub(e.since) < a.cfg.HoleTimeout {
			break
		}
		a.holeQ.pop()
		e.c.h[e.d].armed = false
		a.giveUp(e.c, e.d, false, now)
	}
	for a.resetQ.len() > 0 {
		e := *a.resetQ.front()
		if !e.c.is(closed) && now.Sub(e.at) < a.cfg.ResetLinger {
			break
		}
		a.resetQ.pop()
		if !e.c.is(closed) {
			a.finish(e.c, now)
		}
	}
	for a.tombQ.len() > 0 {
		e := a.tombQ.front()
		if now.Sub(e.at) < a.cfg.ClosedTimeout && len(a.tombs) <= a.cfg.MaxConnections {
			break
		}
		if t, ok := a.tombs[e.key]; ok && t.at.Equal(e.at) {
			delete(a.tombs, e.key)
		}
		a.tombQ.pop()
	}
}

func (a *Assembler) holeValid(e *holeEntry) bool {
	h := &e.c.h[e.d]
	return !e.c.is(closed) && h.armed && h.holeGen == e.gen
}

// synStartsNew reports whether a SYN or SYN-ACK on the live connection c starts a new connection
// on the same 4-tuple (port reuse) rather than belonging to c.
func (a *Assembler) synStartsNew(c *conn, seg *Segment, srcLo bool) bool {
	if seg.Flags&ACK != 0 {
		return false // a SYN-ACK answers a SYN, which already decided
	}
	d := FromA
	if srcLo != c.is(aLo) {
		d = FromB
	}
	h := &c.h[d]
	if h.synSeen && h.isn == seg.Seq {
		return false // retransmitted SYN
	}
	if d == FromB && c.is(synned) && !h.started {
		return false // simultaneous open
	}
	return true
}

// open starts a connection for seg, or returns nil when seg should not open one.
func (a *Assembler) open(key connKey, seg *Segment, srcLo bool, m packet.Meta) *conn {
	syn := seg.Flags&(SYN|RST) == SYN
	if !syn && (seg.Flags&RST != 0 || len(seg.Payload) == 0 && seg.PayloadLength <= 0) {
		return nil
	}
	if t, ok := a.tombs[key]; ok {
		switch {
		case !syn:
			return nil
		case seg.Flags&ACK == 0 && t.hasISN && t.aLo == srcLo && t.isn == seg.Seq:
			return nil // the old connection's SYN again
		case seg.Flags&ACK != 0 && t.hasISN && t.aLo != srcLo && t.isn == seg.Ack-1:
			return nil // the old connection's SYN-ACK again
		}
		delete(a.tombs, key)
	}
	if len(a.conns) >= a.cfg.MaxConnections && a.lru != nil {
		a.totals.Evicted++
		a.finish(a.lru, m.Time)
	}
	lo := srcLo // A is the key's lower endpoint
	A, B := seg.Src, seg.Dst
	if syn && seg.Flags&ACK != 0 {
		lo = !srcLo
		A, B = B, A
	}
	a.nextID++
	c := &conn{key: key, id: a.nextID}
	if lo {
		c.flags |= aLo
	}
	if syn {
		c.flags |= synned
	}
	if seg.Src.Addr().Is4() {
		c.flags |= ipv4
	}
	if a.newStream != nil {
		c.stream = a.newStream(ConnInfo{A: A, B: B, SYN: syn, Start: m, Tunnel: seg.Tunnel, Conn: Conn{c}})
	}
	a.conns[key] = c
	a.totals.Connections++
	return c
}

// touch makes c the most recently active connection.
func (a *Assembler) touch(c *conn) {
	if a.lru == nil {
		c.prev, c.next = c, c
		a.lru = c
		return
	}
	if c.next != nil { // in the ring
		if c == a.lru.prev {
			return
		}
		if c == a.lru {
			a.lru = c.next
			return // the ring rotates: c becomes the most recent
		}
		c.prev.next, c.next.prev = c.next, c.prev
	}
	tail := a.lru.prev
	c.prev, c.next = tail, a.lru
	tail.next = c
	a.lru.prev = c
}

// unlink removes c from the ring.
func (a *Assembler) unlink(c *conn) {
	if c.next == nil {
		return
	}
	if c.next == c {
		a.lru = nil
	} else {
		c.prev.next, c.next.prev = c.next, c.prev
		if a.lru == c {
			a.lru = c.next
		}
	}
	c.prev, c.next = nil, nil
}

// segment processes seg, sent in direction d of c.
func (a *Assembler) segment(c *conn, d Dir, seg *Segment, m *packet.Meta) {
	h, o := &c.h[d], &c.h[d^1]
	h.packets++
	if seg.Window == 0 && seg.Flags&(SYN|RST) == 0 {
		h.zeroWin++
	}
	if seg.Flags&RST != 0 {
		a.reset(c, d, m)
		return
	}
	if seg.Flags&ACK != 0 && (!h.ackSet || int32(seg.Ack-h.ack) > 0) {
		h.ack, h.ackSet = seg.Ack, true
	}
	seq := seg.Seq
	if seg.Flags&SYN != 0 {
		seq++
		if !h.started {
			h.started, h.synSeen, h.isn, h.nextSeq = true, true, seg.Seq, seq
		}
		if seg.Flags&ACK != 0 && !o.started {
			o.started, o.synSeen, o.isn, o.nextSeq = true, true, seg.Ack-1, seg.Ack
		}
	}
	wire := max(min(seg.PayloadLength, maxSegment), len(seg.Payload))
	if (wire > 0 || seg.Flags&FIN != 0) && !h.started {
		h.started, h.nextSeq = true, seq
	}
	if c.stream == nil {
		if seg.Flags&FIN != 0 && !h.finSeen {
			h.finSeen, h.finDone = true, true
			x := h.extra()
			x.fin = new(packet.Meta)
			*x.fin = *m
		}
		if c.h[0].finDone && c.h[1].finDone {
			a.close(c, m.Time)
		}
		return
	}
	if wire > 0 {
		a.data(c, d, seq, seg.Payload, wire, m)
		if c.is(closed) { // a bound gave up the last hole before an earlier FIN
			return
		}
	}
	if seg.Flags&FIN != 0 && !h.finSeen {
		a.finSeen(c, d, h.offset(seq)+int64(wire), m)
	}
	a.settle(c, d, m.Time)
}

// reset handles a RST sent in direction d.
func (a *Assembler) reset(c *conn, d Dir, m *packet.Meta) {
	h := c.h[d].extra()
	if h.rst != nil {
		return // a repeated RST says nothing new
	}
	h.rst = new(packet.Meta)
	*h.rst = *m
	if c.stream != nil {
		c.stream.Reset(d, *m)
	}
	if !c.is(reset) {
		c.flags |= reset
		a.resetQ.push(resetEntry{c: c, at: m.Time})
	}
}

// finish ends c early (eviction, port reuse, end of capture).
func (a *Assembler) finish(c *conn, now time.Time) {
	m := a.stamps.Meta(c.last)
	a.flushHalf(c, FromA, &m)
	a.flushHalf(c, FromB, &m)
	a.close(c, now)
}

// close hands the statistics to the stream, frees c and remembers its 4-tuple.
func (a *Assembler) close(c *conn, now time.Time) {
	if c.is(closed) {
		return
	}
	c.flags |= closed
	var st [2]Stats
	for d := range c.h {
		h := &c.h[d]
		st[d] = Stats{
			Packets: int(h.packets), Bytes: h.bytes, Retransmissions: int(h.retrans), CaptureCopies: int(h.copies),
			ZeroWindows: int(h.zeroWin), HighestAck: c.acked(Dir(d ^ 1)),
			ISN: h.isn, SYN: h.synSeen, End: h.next,
		}
		if x := h.x; x != nil {
			st[d].Duplicate, st[d].BeforeStart, st[d].OutOfWindow = x.dup, x.before, x.outOfWindow
			st[d].Gaps, st[d].GapsDropped, st[d].FIN, st[d].RST = x.gaps, x.gapsDropped, x.fin, x.rst
			for k := range x.pending {
				a.release(c, &x.pending[k])
			}
			x.pending = nil
		}
	}
	if c.stream != nil {
		c.stream.Close(st)
		c.stream = nil
	}
	a.unlink(c)
	if a.conns[c.key] == c {
		delete(a.conns, c.key)
	}
	if a.flushing {
		return
	}
	a.tombs[c.key] = tomb{at: now, isn: c.h[0].isn, hasISN: c.h[0].synSeen, aLo: c.is(aLo)}
	a.tombQ.push(tombEntry{key: c.key, at: now})
}
