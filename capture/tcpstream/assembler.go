package tcpstream

import (
	"slices"
	"time"
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
	lru      *conn // least recently active live connection; lru.prev is the most recent
	nextID   uint64
	free     [][]byte // recycled chunk buffers of cap chunkCap
	flushing bool     // in Flush: closed connections need no tomb
	totals   Totals
}

// conn is the state of one connection.
type conn struct {
	key        connKey
	aLo        bool // A is the key's lower endpoint
	syn        bool // opened by a SYN or SYN-ACK
	closed     bool
	id         uint64
	stream     Stream // nil: ignored connection
	buffered   int
	h          [2]half
	last       Meta // latest packet, for gaps declared at the end
	prev, next *conn
}

// half is the state of one direction.
type half struct {
	started  bool // the offset base is known
	synSeen  bool
	finSeen  bool
	finDone  bool // Fin delivered
	ackSet   bool
	armed    bool // a holeEntry with holeGen is queued
	isn      uint32
	nextSeq  uint32 // sequence number of offset next
	ack      uint32 // highest ACK number sent by this side, raw
	holeGen  uint32
	next     uint64 // offset of the next byte to deliver
	finOff   uint64
	pending  []chunk // out-of-order ranges, sorted, disjoint, all at or past next and before finOff
	fin, rst *Meta

	packets, retrans, zeroWin int
	outOfWindow               int
	bytes, dup, before        uint64
	gaps                      []GapInfo
	gapsDropped               int
}

// chunk is a buffered range [off, end); data holds its first bytes, the rest was cut by the snap length.
type chunk struct {
	off, end uint64
	data     []byte
	meta     Meta
}

// holeEntry asks for the hole of c.h[d] to be given up after HoleTimeout from since, if gen still
// matches (the hole was not filled or re-armed meanwhile).
type holeEntry struct {
	c     *conn
	d     Dir
	gen   uint32
	since time.Time
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

const chunkCap = 2048 // buffers up to this size are recycled

// maxSegment bounds the payload length believed from an IP header (larger than any TSO or jumbo
// segment), so that a corrupt length cannot declare a huge snap-length gap.
const maxSegment = 1 << 24

// maxWindow is the largest TCP window (2^30 with window scaling): a segment starting further past the
// next expected byte, or an ACK further past it, cannot belong to the stream and is ignored.
const maxWindow = 1 << 30

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

// Add feeds one segment, in capture order. seg and its Payload stay owned by the caller; Add copies
// what it keeps. A nil seg is ignored.
func (a *Assembler) Add(seg *Segment, m Meta) {
	if seg == nil {
		return
	}
	a.totals.Segments++
	a.expire(m.Time)
	key, srcLo := makeKey(seg.Src, seg.Dst)
	c := a.conns[key]
	if c != nil && seg.Flags&(SYN|RST) == SYN && a.synStartsNew(c, seg, srcLo) {
		a.finish(c, m.Time)
		c = nil
	}
	if c == nil {
		if c = a.open(key, seg, srcLo, m); c == nil {
			a.totals.Ignored++
			return
		}
	}
	a.touch(c)
	c.last = m
	d := FromA
	if srcLo != c.aLo {
		d = FromB
	}
	a.segment(c, d, seg, &m)
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
	for _, c := range cs {
		a.finish(c, c.last.Time)
	}
	a.flushing = false
	clear(a.tombs)
	a.tombQ = fifo[tombEntry]{}
	a.holeQ = fifo[holeEntry]{}
	a.lru = nil
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
	return !e.c.closed && h.armed && h.holeGen == e.gen
}

// synStartsNew reports whether a SYN or SYN-ACK on the live connection c starts a new connection
// on the same 4-tuple (port reuse) rather than belonging to c.
func (a *Assembler) synStartsNew(c *conn, seg *Segment, srcLo bool) bool {
	if seg.Flags&ACK != 0 {
		return false // a SYN-ACK answers a SYN, which already decided
	}
	d := FromA
	if srcLo != c.aLo {
		d = FromB
	}
	h := &c.h[d]
	if h.synSeen && h.isn == seg.Seq {
		return false // retransmitted SYN
	}
	if d == FromB && c.syn && !h.started {
		return false // simultaneous open
	}
	return true
}

// open starts a connection for seg, or returns nil when seg should not open one.
func (a *Assembler) open(key connKey, seg *Segment, srcLo bool, m Meta) *conn {
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
	aLo := srcLo
	A, B := seg.Src, seg.Dst
	if syn && seg.Flags&ACK != 0 {
		aLo = !srcLo
		A, B = B, A
	}
	a.nextID++
	c := &conn{key: key, aLo: aLo, syn: syn, id: a.nextID}
	if a.newStream != nil {
		c.stream = a.newStream(ConnInfo{A: A, B: B, SYN: syn, Start: m})
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
func (a *Assembler) segment(c *conn, d Dir, seg *Segment, m *Meta) {
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
			h.fin = new(Meta)
			*h.fin = *m
		}
		if c.h[0].finDone && c.h[1].finDone {
			a.close(c, m.Time)
		}
		return
	}
	if wire > 0 {
		a.data(c, d, seq, seg.Payload, wire, m)
		if c.closed { // a bound gave up the last hole before an earlier FIN
			return
		}
	}
	if seg.Flags&FIN != 0 && !h.finSeen {
		a.finSeen(c, d, h.offset(seq)+int64(wire), m)
	}
	a.settle(c, d, m.Time)
}

// offset converts a sequence number of a started half to a stream offset (may be negative).
func (h *half) offset(seq uint32) int64 {
	return int64(h.next) + int64(int32(seq-h.nextSeq))
}

// advance moves next to off (off >= next).
func (h *half) advance(off uint64) {
	h.nextSeq += uint32(off - h.next)
	h.next = off
}

// acked returns the offset of d's stream acknowledged by the other side, capped at d's FIN.
func (c *conn) acked(d Dir) uint64 {
	h, o := &c.h[d], &c.h[d^1]
	if !h.started || !o.ackSet {
		return 0
	}
	v := h.offset(o.ack)
	if v < 0 {
		return 0
	}
	if v > int64(h.next)+maxWindow {
		return h.next
	}
	if h.finSeen && uint64(v) > h.finOff {
		return h.finOff
	}
	return uint64(v)
}

// data handles wire payload bytes at sequence number seq, of which payload were captured.
func (a *Assembler) data(c *conn, d Dir, seq uint32, payload []byte, wire int, m *Meta) {
	h := &c.h[d]
	off := h.offset(seq)
	end := off + int64(wire)
	capEnd := off + int64(len(payload))
	if off < 0 {
		cut := min(-off, int64(wire))
		h.before += uint64(cut)
		if end <= 0 {
			return
		}
	}
	if h.finSeen && end > int64(h.finOff) { // bytes past the FIN do not exist
		if off >= int64(h.finOff) {
			h.retrans++
			h.dup += uint64(wire)
			return
		}
		h.dup += uint64(end - int64(h.finOff))
		end = int64(h.finOff)
		capEnd = min(capEnd, end)
	}
	next := int64(h.next)
	if off > next+maxWindow {
		h.outOfWindow++
		return
	}
	if end <= next {
		h.retrans++
		h.dup += uint64(end - max(off, 0))
		return
	}
	s := max(off, next)
	h.dup += uint64(s - max(off, 0))
	if len(h.pending) == 0 && s == next {
		if capEnd > s {
			b := payload[s-off : capEnd-off]
			c.stream.Data(d, b, h.next, *m)
			h.bytes += uint64(len(b))
			h.advance(uint64(capEnd))
		}
		if end > int64(h.next) {
			a.gap(c, d, uint64(end), GapSnaplen, m)
		}
		return
	}
	if !a.insert(c, d, s, end, off, payload, m) {
		h.retrans++
	}
	progress := a.drain(c, d)
	a.arm(c, d, progress, m.Time)
	for c.buffered > a.cfg.MaxConnBuffer && !c.closed {
		x := d
		if len(c.h[d^1].pending) > 0 && (len(h.pending) == 0 || c.h[d^1].pending[0].meta.Time.Before(h.pending[0].meta.Time)) {
			x = d ^ 1
		}
		a.giveUp(c, x, true, m.Time)
	}
	for a.totals.Buffered > a.cfg.MaxTotalBuffer && a.holeQ.len() > 0 {
		e := *a.holeQ.front()
		a.holeQ.pop()
		if a.holeValid(&e) {
			e.c.h[e.d].armed = false
			a.giveUp(e.c, e.d, true, m.Time)
		}
	}
}

// insert buffers the parts of [s, end) not buffered yet; payload holds the captured bytes from
// off. It reports whether anything was new.
func (a *Assembler) insert(c *conn, d Dir, s, end, off int64, payload []byte, m *Meta) bool {
	h := &c.h[d]
	capEnd := off + int64(len(payload))
	// first chunk ending past s
	lo, hi := 0, len(h.pending)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int64(h.pending[mid].end) <= s {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i, cur, fresh := lo, s, int64(0)
	for cur < end {
		stop := end
		if i < len(h.pending) && int64(h.pending[i].off) < end {
			p := &h.pending[i]
			if int64(p.off) <= cur {
				cur = max(cur, int64(p.end))
				i++
				continue
			}
			stop = int64(p.off)
		}
		ch := chunk{off: uint64(cur), end: uint64(stop), meta: *m}
		if cur < capEnd {
			de := min(stop, capEnd)
			ch.data = a.alloc(int(de - cur))
			copy(ch.data, payload[cur-off:de-off])
		}
		h.pending = slices.Insert(h.pending, i, ch)
		n := len(ch.data) + chunkOverhead
		c.buffered += n
		a.totals.Buffered += n
		a.totals.MaxBuffered = max(a.totals.MaxBuffered, a.totals.Buffered)
		fresh += stop - cur
		i++
		cur = stop
	}
	h.dup += uint64(end - s - fresh) // bytes already buffered: first copy wins
	return fresh > 0
}

func (a *Assembler) alloc(n int) []byte {
	if n <= chunkCap {
		if k := len(a.free); k > 0 {
			b := a.free[k-1]
			a.free[k-1] = nil
			a.free = a.free[:k-1]
			return b[:n]
		}
		return make([]byte, n, chunkCap)
	}
	return make([]byte, n)
}

// release frees the chunk's buffer and its share of the bounds.
func (a *Assembler) release(c *conn, ch *chunk) {
	n := len(ch.data) + chunkOverhead
	c.buffered -= n
	a.totals.Buffered -= n
	if cap(ch.data) == chunkCap && len(a.free) < 256 {
		a.free = append(a.free, ch.data)
	}
	*ch = chunk{}
}

// drain delivers the buffered chunks that have become in order. It reports whether any was.
func (a *Assembler) drain(c *conn, d Dir) bool {
	h := &c.h[d]
	n := 0
	for n < len(h.pending) && h.pending[n].off == h.next {
		ch := &h.pending[n]
		if len(ch.data) > 0 {
			c.stream.Data(d, ch.data, h.next, ch.meta)
			h.bytes += uint64(len(ch.data))
			h.advance(h.next + uint64(len(ch.data)))
		}
		if ch.end > h.next {
			a.gap(c, d, ch.end, GapSnaplen, &ch.meta)
		}
		a.release(c, ch)
		n++
	}
	if n > 0 {
		k := copy(h.pending, h.pending[n:])
		clear(h.pending[k:])
		h.pending = h.pending[:k]
	}
	return n > 0
}

// hole returns the end of the hole at the head of d's stream, and the packet after which it was
// noticed, if there is one: up to the first buffered chunk, or up to a FIN seen past next.
func (h *half) hole() (uint64, *Meta, bool) {
	if len(h.pending) > 0 {
		return h.pending[0].off, &h.pending[0].meta, true
	}
	if h.finSeen && !h.finDone && h.next < h.finOff {
		return h.finOff, h.fin, true
	}
	return 0, nil, false
}

// arm (re)starts the hole timer of d when there is a hole and progress was made or none runs.
func (a *Assembler) arm(c *conn, d Dir, progress bool, now time.Time) {
	h := &c.h[d]
	if _, _, ok := h.hole(); !ok {
		if h.armed {
			h.armed = false
			h.holeGen++
		}
		return
	}
	if h.armed && !progress {
		return
	}
	h.holeGen++
	h.armed = true
	a.holeQ.push(holeEntry{c: c, d: d, gen: h.holeGen, since: now})
}

// giveUp declares the hole at the head of d's stream a gap, delivers what follows it, and settles.
func (a *Assembler) giveUp(c *conn, d Dir, forced bool, now time.Time) {
	h := &c.h[d]
	to, m, ok := h.hole()
	if !ok {
		return
	}
	mm := *m
	a.holeGap(c, d, to, forced, &mm)
	a.drain(c, d)
	a.arm(c, d, true, now)
	a.settle(c, d, now)
}

// holeGap declares [next, to) missing: GapAcked as far as the peer acknowledged, then GapLost, or
// GapBufferLimit when forced by a memory bound.
func (a *Assembler) holeGap(c *conn, d Dir, to uint64, forced bool, m *Meta) {
	if ack := c.acked(d); ack > c.h[d].next {
		a.gap(c, d, min(ack, to), GapAcked, m)
	}
	r := GapLost
	if forced {
		r = GapBufferLimit
	}
	a.gap(c, d, to, r, m)
}

// gap declares [next, to) of d missing and moves past it.
func (a *Assembler) gap(c *conn, d Dir, to uint64, r GapReason, m *Meta) {
	h := &c.h[d]
	if to <= h.next {
		return
	}
	g := GapInfo{Offset: h.next, Length: to - h.next, Reason: r, Meta: *m}
	if len(h.gaps) < a.cfg.MaxGaps {
		h.gaps = append(h.gaps, g)
	} else {
		h.gapsDropped++
	}
	h.advance(to)
	c.stream.Gap(d, g.Offset, g.Length, r, g.Meta)
}

// finSeen records the first FIN of d, at offset off; bytes buffered past it are dropped.
func (a *Assembler) finSeen(c *conn, d Dir, off int64, m *Meta) {
	h := &c.h[d]
	h.finSeen = true
	h.fin = new(Meta)
	*h.fin = *m
	h.finOff = uint64(max(off, int64(h.next)))
	for k := len(h.pending) - 1; k >= 0 && h.pending[k].end > h.finOff; k-- {
		ch := &h.pending[k]
		if ch.off >= h.finOff {
			h.dup += ch.end - ch.off
			a.release(c, ch)
			h.pending = h.pending[:k]
			continue
		}
		h.dup += ch.end - h.finOff
		if uint64(len(ch.data)) > h.finOff-ch.off {
			c.buffered -= len(ch.data) - int(h.finOff-ch.off)
			a.totals.Buffered -= len(ch.data) - int(h.finOff-ch.off)
			ch.data = ch.data[:h.finOff-ch.off]
		}
		ch.end = h.finOff
	}
	a.arm(c, d, false, m.Time)
}

// settle delivers d's FIN once every byte before it is accounted for, and closes c when both
// directions are finished.
func (a *Assembler) settle(c *conn, d Dir, now time.Time) {
	h := &c.h[d]
	if c.closed || !h.finSeen || h.finDone || h.next < h.finOff {
		return
	}
	h.finDone = true
	a.arm(c, d, false, now)
	c.stream.Fin(d, *h.fin)
	if c.h[d^1].finDone {
		a.close(c, now)
	}
}

// flushHalf gives up every hole of d, declares the bytes the peer ACKed beyond what was seen, and
// delivers a pending FIN.
func (a *Assembler) flushHalf(c *conn, d Dir, m *Meta) {
	h := &c.h[d]
	if c.stream == nil {
		return
	}
	for len(h.pending) > 0 {
		mm := h.pending[0].meta
		a.holeGap(c, d, h.pending[0].off, false, &mm)
		a.drain(c, d)
	}
	end := max(h.next, c.acked(d))
	gm := m
	if h.finSeen {
		end = max(end, h.finOff)
		gm = h.fin
	}
	a.holeGap(c, d, end, false, gm)
	if h.armed {
		h.armed = false
		h.holeGen++
	}
	if h.finSeen && !h.finDone {
		h.finDone = true
		c.stream.Fin(d, *h.fin)
	}
}

// reset handles a RST sent in direction d.
func (a *Assembler) reset(c *conn, d Dir, m *Meta) {
	h := &c.h[d]
	if h.rst == nil {
		h.rst = new(Meta)
		*h.rst = *m
	}
	if c.stream != nil {
		a.flushHalf(c, d, m)
		a.flushHalf(c, d^1, m)
		c.stream.Reset(d, *m)
	}
	a.close(c, m.Time)
}

// finish ends c early (eviction, port reuse, end of capture).
func (a *Assembler) finish(c *conn, now time.Time) {
	m := c.last
	a.flushHalf(c, FromA, &m)
	a.flushHalf(c, FromB, &m)
	a.close(c, now)
}

// close hands the statistics to the stream, frees c and remembers its 4-tuple.
func (a *Assembler) close(c *conn, now time.Time) {
	if c.closed {
		return
	}
	c.closed = true
	var st [2]Stats
	for d := range c.h {
		h := &c.h[d]
		st[d] = Stats{
			Packets: h.packets, Bytes: h.bytes, Retransmissions: h.retrans, Duplicate: h.dup,
			BeforeStart: h.before, OutOfWindow: h.outOfWindow, ZeroWindows: h.zeroWin, HighestAck: c.acked(Dir(d ^ 1)),
			Gaps: h.gaps, GapsDropped: h.gapsDropped, FIN: h.fin, RST: h.rst,
		}
		for k := range h.pending {
			a.release(c, &h.pending[k])
		}
		h.pending = nil
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
	a.tombs[c.key] = tomb{at: now, isn: c.h[0].isn, hasISN: c.h[0].synSeen, aLo: c.aLo}
	a.tombQ.push(tombEntry{key: c.key, at: now})
}
