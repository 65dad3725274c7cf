package tcpstream

import (
	"slices"
	"time"

	"github.com/wspath/wspath/capture/packet"
)

const chunkCap = 2048 // buffers up to this size are recycled

// maxSegment bounds the payload length believed from an IP header (larger than any TSO or jumbo
// segment), so that a corrupt length cannot declare a huge snap-length gap.
const maxSegment = 1 << 24

// maxWindow is the largest TCP window (2^30 with window scaling): a segment starting further past the
// next expected byte, or an ACK further past it, cannot belong to the stream and is ignored.
const maxWindow = 1 << 30

// half is the state of one direction. What most connections never need (out-of-order chunks,
// gaps, FIN and RST, odd counters) is in a halfExtra made on first use, so that a connection of a
// flood that only sent a request costs about 300 bytes here.
type half struct {
	started bool // the offset base is known
	synSeen bool
	finSeen bool
	finDone bool // Fin delivered
	ackSet  bool
	armed   bool // a holeEntry with holeGen is queued
	isn     uint32
	nextSeq uint32 // sequence number of offset next
	ack     uint32 // highest ACK number sent by this side, raw
	holeGen uint32
	lastSeq uint32
	// lastWire and lastTime (Unix nanoseconds) are the latest data segment's, for
	// captureCopyWindow; wire lengths are at most maxSegment.
	lastWire int32
	lastTime int64
	next     uint64 // offset of the next byte to deliver
	bytes    uint64
	// Counts wrap past 2^32 segments in one direction, which no capture reaches.
	packets, retrans, zeroWin uint32
	copies                    uint32 // segments captured twice (see captureCopyWindow)
	x                         *halfExtra
}

// halfExtra is the part of a half made only when needed (see half.extra).
type halfExtra struct {
	pending     []chunk // out-of-order ranges, sorted, disjoint, all at or past next and before finOff
	fin, rst    *packet.Meta
	finOff      uint64 // stream offset of the FIN, when finSeen
	outOfWindow int
	dup, before uint64
	gaps        []GapInfo
	gapsDropped int
}

// extra returns h's halfExtra, making it on first use.
func (h *half) extra() *halfExtra {
	if h.x == nil {
		h.x = &halfExtra{}
	}
	return h.x
}

// pending returns the out-of-order chunks of h; it makes nothing.
func (h *half) pending() []chunk {
	if h.x == nil {
		return nil
	}
	return h.x.pending
}

// fin returns the packet of the first FIN of h, nil if none.
func (h *half) fin() *packet.Meta {
	if h.x == nil {
		return nil
	}
	return h.x.fin
}

// addDup counts n bytes received again, making the halfExtra only when n is not 0.
func (h *half) addDup(n uint64) {
	if n > 0 {
		h.extra().dup += n
	}
}

// captureCopyWindow: a segment seen again, same sequence number and length, within this time is a
// second copy in the capture, not a retransmission: tcpdump -i any on a host that forwards sees
// each packet on its way in and on its way out, microseconds apart. TCP cannot retransmit that
// fast (Linux's minimum RTO is 200ms; a fast retransmit waits for three duplicate ACKs).
const captureCopyWindow = 200 * time.Microsecond

// chunk is a buffered range [off, end); data holds its first bytes, the rest was cut by the snap length.
type chunk struct {
	off, end uint64
	data     []byte
	meta     packet.Meta
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
	if h.finSeen && uint64(v) > h.x.finOff {
		return h.x.finOff
	}
	return uint64(v)
}

// data handles wire payload bytes at sequence number seq, of which payload were captured.
func (a *Assembler) data(c *conn, d Dir, seq uint32, payload []byte, wire int, m *packet.Meta) {
	h := &c.h[d]
	now := m.Time.UnixNano()
	if int32(wire) == h.lastWire && seq == h.lastSeq && now-h.lastTime < int64(captureCopyWindow) {
		h.copies++ // the same segment again at once: a capture of both interfaces of a router
		return
	}
	h.lastSeq, h.lastWire, h.lastTime = seq, int32(wire), now
	off := h.offset(seq)
	end := off + int64(wire)
	capEnd := off + int64(len(payload))
	if off < 0 {
		cut := min(-off, int64(wire))
		h.extra().before += uint64(cut)
		if end <= 0 {
			return
		}
	}
	if h.finSeen && end > int64(h.x.finOff) { // bytes past the FIN do not exist
		if off >= int64(h.x.finOff) {
			h.retrans++
			h.addDup(uint64(wire))
			return
		}
		h.addDup(uint64(end - int64(h.x.finOff)))
		end = int64(h.x.finOff)
		capEnd = min(capEnd, end)
	}
	next := int64(h.next)
	if off > next+maxWindow {
		h.extra().outOfWindow++
		return
	}
	if end <= next {
		h.retrans++
		h.addDup(uint64(end - max(off, 0)))
		return
	}
	s := max(off, next)
	h.addDup(uint64(s - max(off, 0)))
	if len(h.pending()) == 0 && s == next {
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
	for int(c.buffered) > a.cfg.MaxConnBuffer && !c.is(closed) {
		x := d
		if o, p := c.h[d^1].pending(), h.pending(); len(o) > 0 && (len(p) == 0 || o[0].meta.Time.Before(p[0].meta.Time)) {
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
func (a *Assembler) insert(c *conn, d Dir, s, end, off int64, payload []byte, m *packet.Meta) bool {
	h := c.h[d].extra()
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
		c.buffered += int32(n)
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
	c.buffered -= int32(n)
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
	for n < len(h.pending()) && h.x.pending[n].off == h.next {
		ch := &h.x.pending[n]
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
		x := h.x
		k := copy(x.pending, x.pending[n:])
		clear(x.pending[k:])
		x.pending = x.pending[:k]
	}
	return n > 0
}

// hole returns the end of the hole at the head of d's stream, and the packet after which it was
// noticed, if there is one: up to the first buffered chunk, or up to a FIN seen past next.
func (h *half) hole() (uint64, *packet.Meta, bool) {
	if p := h.pending(); len(p) > 0 {
		return p[0].off, &p[0].meta, true
	}
	if h.finSeen && !h.finDone && h.next < h.x.finOff {
		return h.x.finOff, h.fin(), true
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
func (a *Assembler) holeGap(c *conn, d Dir, to uint64, forced bool, m *packet.Meta) {
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
func (a *Assembler) gap(c *conn, d Dir, to uint64, r GapReason, m *packet.Meta) {
	h := &c.h[d]
	if to <= h.next {
		return
	}
	g := GapInfo{Offset: h.next, Length: to - h.next, Reason: r, Meta: *m}
	if x := h.extra(); len(x.gaps) < a.cfg.MaxGaps {
		x.gaps = append(x.gaps, g)
	} else {
		x.gapsDropped++
	}
	h.advance(to)
	c.stream.Gap(d, g.Offset, g.Length, r, g.Meta)
}

// finSeen records the first FIN of d, at offset off; bytes buffered past it are dropped.
func (a *Assembler) finSeen(c *conn, d Dir, off int64, m *packet.Meta) {
	h := &c.h[d]
	x := h.extra()
	h.finSeen = true
	x.fin = new(packet.Meta)
	*x.fin = *m
	x.finOff = uint64(max(off, int64(h.next)))
	for k := len(x.pending) - 1; k >= 0 && x.pending[k].end > x.finOff; k-- {
		ch := &x.pending[k]
		if ch.off >= x.finOff {
			x.dup += ch.end - ch.off
			a.release(c, ch)
			x.pending = x.pending[:k]
			continue
		}
		x.dup += ch.end - x.finOff
		if uint64(len(ch.data)) > x.finOff-ch.off {
			c.buffered -= int32(len(ch.data) - int(x.finOff-ch.off))
			a.totals.Buffered -= len(ch.data) - int(x.finOff-ch.off)
			ch.data = ch.data[:x.finOff-ch.off]
		}
		ch.end = x.finOff
	}
	a.arm(c, d, false, m.Time)
}

// settle delivers d's FIN once every byte before it is accounted for, and closes c when both
// directions are finished.
func (a *Assembler) settle(c *conn, d Dir, now time.Time) {
	h := &c.h[d]
	if c.is(closed) || !h.finSeen || h.finDone || h.next < h.x.finOff {
		return
	}
	h.finDone = true
	a.arm(c, d, false, now)
	c.stream.Fin(d, *h.fin())
	if c.h[d^1].finDone {
		a.close(c, now)
	}
}

// flushHalf gives up every hole of d, declares the bytes the peer ACKed beyond what was seen, and
// delivers a pending FIN.
func (a *Assembler) flushHalf(c *conn, d Dir, m *packet.Meta) {
	h := &c.h[d]
	if c.stream == nil {
		return
	}
	for len(h.pending()) > 0 {
		mm := h.x.pending[0].meta
		a.holeGap(c, d, h.x.pending[0].off, false, &mm)
		a.drain(c, d)
	}
	end := max(h.next, c.acked(d))
	gm := m
	if h.finSeen {
		end = max(end, h.x.finOff)
		gm = h.fin()
	}
	a.holeGap(c, d, end, false, gm)
	if h.armed {
		h.armed = false
		h.holeGen++
	}
	if h.finSeen && !h.finDone {
		h.finDone = true
		c.stream.Fin(d, *h.fin())
	}
}
