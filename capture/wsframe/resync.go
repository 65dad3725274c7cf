package wsframe

import (
	"sort"
	"unicode/utf8"

	"github.com/wspath/wspath/capture/packet"
)

// Resynchronisation: when the parser does not know where frames start (the capture began
// mid-connection, or a gap swallowed part of a header), it buffers the stream (bounded) and looks
// for a position from which a chain of plausible frame headers follows, each frame ending where
// the next plausible header begins. Evidence is scored; a position is accepted at acceptScore:
//
//   - each plausible header in the chain: 1 point;
//   - the chain starting at a chunk (TCP segment) start: 1 point;
//   - a frame of the chain ending exactly at a chunk boundary: 2 points.
//
// A header is plausible when it parses without error, has no RSV2/RSV3, RSV1 only on a text or
// binary frame, a masking bit matching the direction (when known) and the rest of the chain, and
// fits the fragmentation of the frames before it in the chain. Senders usually start a segment
// with a frame, so a true boundary collects points quickly (a frame per segment scores 7 after two
// frames), while random or encrypted bytes rarely pass: a plausible header has a probability of
// roughly 1/30 at a random position, and ending on a segment boundary of roughly 1/100.
const (
	acceptScore   = 6
	maxCandidates = 4096
	maxWalkSteps  = 64
)

// chunkMark records where a buffered chunk lies in the stream and the packet that carried it.
type chunkMark struct {
	off, end uint64
	m        packet.Meta
}

// candidate is a possible frame boundary being checked.
type candidate struct {
	start  uint64 // stream offset of the first header
	next   uint64 // stream offset of the next header to check
	points int
	masked int8 // maskUnknown, maskOn, maskOff: mask bit of the chain
	frag   int8 // 0 unknown, 1 inside a fragmented message, 2 between messages
	// endPending: the frame before next ended beyond the buffer; its boundary bonus is still due.
	endPending bool
	dead       bool
}

// resync is the buffer and search state while unsynchronised.
type resync struct {
	buf     []byte
	base    uint64 // stream offset of buf[0]
	marks   []chunkMark
	cands   []candidate
	scanned uint64 // start positions below this were tried
	// fresh: buf[0] is the first byte after bytes the capture lacks (a hole, or the capture's
	// start), so a TCP segment, and most likely a frame, starts there.
	fresh bool
}

func (r *resync) reset() {
	r.buf = r.buf[:0]
	r.marks = r.marks[:0]
	r.cands = r.cands[:0]
	r.scanned = 0
}

func (r *resync) end() uint64 { return r.base + uint64(len(r.buf)) }

// boundary reports whether off is a chunk start or end in the buffer.
func (r *resync) boundary(off uint64) bool {
	i := sort.Search(len(r.marks), func(i int) bool { return r.marks[i].end >= off })
	if i < len(r.marks) && r.marks[i].end == off {
		return true
	}
	return i < len(r.marks) && r.marks[i].off == off
}

// resyncFeed buffers a chunk while unsynchronised and looks for a boundary.
func (p *Parser) resyncFeed(b []byte, off uint64, m packet.Meta) {
	r := &p.rs
	if len(r.buf) == 0 {
		r.base = off
		r.scanned = off
	}
	r.buf = append(r.buf, b...)
	r.marks = append(r.marks, chunkMark{off: off, end: off + uint64(len(b)), m: m})
	if p.search(false) {
		return
	}
	// Bound the buffer: drop whole chunks from the front (always keep the newest).
	for len(r.buf) > p.opts.ResyncBuffer && len(r.marks) > 1 {
		d := r.marks[0].end - r.base
		r.buf = r.buf[:copy(r.buf, r.buf[d:])]
		r.base = r.marks[0].end
		r.marks = r.marks[:copy(r.marks, r.marks[1:])]
		p.skipped += d
		r.fresh = false
	}
	if len(r.buf) > p.opts.ResyncBuffer {
		// A single chunk larger than the bound: keep its tail only.
		d := uint64(len(r.buf) - p.opts.ResyncBuffer)
		r.buf = r.buf[:copy(r.buf, r.buf[d:])]
		r.base += d
		r.marks[0].off = r.base
		p.skipped += d
		r.fresh = false
	}
	if r.scanned < r.base {
		r.scanned = r.base
	}
	live := r.cands[:0]
	for _, c := range r.cands {
		if !c.dead && c.start >= r.base {
			live = append(live, c)
		}
	}
	r.cands = live
}

// resyncLast makes a last search in the buffered bytes, which can grow no further: the stream
// ended, or bytes the capture lacks follow them. It reports whether a boundary was found; if
// not, the buffer is dropped as skipped.
func (p *Parser) resyncLast() bool {
	if len(p.rs.buf) == 0 {
		return false
	}
	if p.search(true) || p.settle() {
		return true
	}
	p.skipped += uint64(len(p.rs.buf))
	p.rs.reset()
	return false
}

// settle accepts, with less evidence than a chain scoring acceptScore, the one position where a
// sender's frame most likely starts: the first byte after a hole, which begins a TCP segment. A
// short tail between a hole and the end of the stream (a last message, a close frame) or the
// next hole could never score acceptScore. It must still be solid:
//
//   - the bytes begin right after a hole (or the capture's start), in a direction whose masking
//     is known;
//   - a chain of plausible headers from there covers the buffered bytes exactly, so its last
//     frame ends where the segment does;
//   - every frame's payload is what its opcode requires: a close frame's code and reason valid,
//     an unfragmented uncompressed text frame valid UTF-8.
//
// Random bytes pass the first header with a probability of roughly 1/60 (masking known), end
// exactly on the segment end with roughly 1/100, and then the payload check, while a sender
// that writes a frame per segment passes every time. tshark makes the same assumption, with
// none of these checks, at every segment after a hole.
func (p *Parser) settle() bool {
	r := &p.rs
	if !r.fresh || len(r.buf) == 0 || p.maskSeen == maskUnknown {
		return false
	}
	c := candidate{start: r.base, next: r.base, masked: p.maskSeen}
	for end := r.end(); c.next < end; {
		h, err := ParseHeader(r.buf[c.next-r.base:])
		if err == ErrShort || !p.plausible(&c, h, err) {
			return false
		}
		fe := c.next + uint64(h.Size) + h.Length
		if fe < c.next || fe > end || !payloadFits(h, r.buf[c.next-r.base+uint64(h.Size):fe-r.base]) ||
			!p.textSoFar(h, c.next+uint64(h.Size), fe) {
			return false
		}
		c.next = fe
	}
	p.replay(r.base)
	return true
}

// payloadFits reports whether the (masked) payload b of a frame with header h is what the
// opcode requires, where that can be told from the frame alone.
func payloadFits(h Header, b []byte) bool {
	check := h.Opcode == OpClose || (h.Opcode == OpText && h.Fin && !h.RSV1)
	if !check {
		return true
	}
	u := make([]byte, len(b))
	if h.Masked {
		maskBytes(u, b, h.Mask, 0)
	} else {
		copy(u, b)
	}
	if h.Opcode == OpClose {
		_, _, err := ParseClose(u)
		return err == nil
	}
	return utf8.Valid(u)
}

// Bounds of textSoFar's look at a text payload: fewer bytes say too little, more cost time at
// every candidate position.
const (
	minTextLook = 16
	maxTextLook = 512
)

// textSoFar reports whether the buffered part of the payload from stream offset from to end, of
// an uncompressed text frame with header h, can be text. A boundary found by mistake inside a
// masked text message takes four bytes of that text for its masking key, and unmasks the text
// after it into ASCII XOR ASCII: bytes below 0x20 about half the time, while text holds almost
// none (JSON none at all, raw). It judges only with at least minTextLook bytes there, and looks
// at maxTextLook at most; other frames pass.
func (p *Parser) textSoFar(h Header, from, end uint64) bool {
	r := &p.rs
	if h.Opcode != OpText || h.RSV1 || from < r.base {
		return true
	}
	end = min(end, r.end(), from+maxTextLook)
	if end < from+minTextLook {
		return true
	}
	return textLike(h, r.buf[from-r.base:end-r.base])
}

// textLike reports whether no more than a quarter of b, the first bytes of a text payload masked
// as h says, are control characters other than tab, line feed and carriage return.
func textLike(h Header, b []byte) bool {
	n := 0
	for i, c := range b {
		if h.Masked {
			c ^= h.Mask[i&3]
		}
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			n++
		}
	}
	return n*4 <= len(b)
}

// search extends the candidates with the buffered bytes, and on acceptance replays the buffer
// from the accepted position through the synchronised parser. It reports whether it accepted.
func (p *Parser) search(atEnd bool) bool {
	r := &p.rs
	end := r.end()
	for i := range r.cands {
		p.walk(&r.cands[i])
	}
	for ; r.scanned < end; r.scanned++ {
		c := candidate{start: r.scanned, next: r.scanned, masked: p.maskSeen}
		if r.boundary(c.start) {
			c.points++
		}
		p.walk(&c)
		if !c.dead && len(r.cands) < maxCandidates {
			r.cands = append(r.cands, c)
		}
	}
	best := -1
	for i, c := range r.cands {
		if !c.dead && c.points >= acceptScore && (best < 0 || c.start < r.cands[best].start) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	bs := r.cands[best].start
	if !atEnd && len(r.buf) < p.opts.ResyncBuffer {
		// Wait while an earlier chain with some evidence has a frame that covers bs: bs may be
		// inside that frame's payload.
		for _, c := range r.cands {
			if !c.dead && c.start < bs && c.next > bs && c.points >= 3 {
				return false
			}
		}
	}
	p.replay(bs)
	return true
}

// walk follows c's chain of headers through the buffered bytes as far as they go.
func (p *Parser) walk(c *candidate) {
	r := &p.rs
	end := r.end()
	for step := 0; step < maxWalkSteps && !c.dead && c.points < acceptScore; step++ {
		if c.next > end || c.next < r.base {
			return // the frame continues beyond the buffer, or the chain fell off its front
		}
		if c.endPending {
			c.endPending = false
			if r.boundary(c.next) {
				c.points += 2
				continue
			}
		}
		if c.next == end {
			return
		}
		h, err := ParseHeader(r.buf[c.next-r.base:])
		if err == ErrShort {
			return
		}
		if !p.plausible(c, h, err) {
			c.dead = true
			return
		}
		c.points++
		fe := c.next + uint64(h.Size) + h.Length
		if fe < c.next || !p.textSoFar(h, c.next+uint64(h.Size), fe) {
			c.dead = true // overflow, or a text payload that is no text
			return
		}
		c.next = fe
		// The boundary bonus for fe is checked at the top of the loop, once the bytes up to fe
		// have arrived.
		c.endPending = true
	}
}

// plausible reports whether h, parsed at c.next, can continue c's chain, and updates the chain's
// mask and fragmentation state.
func (p *Parser) plausible(c *candidate, h Header, err error) bool {
	if err != nil || h.RSV2 || h.RSV3 {
		return false
	}
	if h.RSV1 && (p.opts.NoRSV1 || (h.Opcode != OpText && h.Opcode != OpBinary)) {
		return false
	}
	m := maskOff
	if h.Masked {
		m = maskOn
	}
	if c.masked != maskUnknown && c.masked != m {
		return false
	}
	c.masked = m
	switch h.Opcode {
	case OpContinuation:
		if c.frag == 2 {
			return false
		}
		c.frag = 2
		if !h.Fin {
			c.frag = 1
		}
	case OpText, OpBinary:
		if c.frag == 1 {
			return false
		}
		c.frag = 2
		if !h.Fin {
			c.frag = 1
		}
	}
	return true
}

// replay resumes synchronised parsing at stream offset at, feeding it the buffered chunks from
// there on.
func (p *Parser) replay(at uint64) {
	r := &p.rs
	buf, base, marks := r.buf, r.base, r.marks
	// Detach the buffer: replayed bytes may lose sync again and be buffered anew.
	r.buf, r.marks, r.cands = nil, nil, nil
	r.scanned = 0
	p.skipped += at - base
	p.state = stHeader
	p.hdrN = 0
	p.resynced = true
	p.inMessage = false
	p.fragKnown = false
	p.next = at
	for _, mk := range marks {
		if mk.end <= at {
			continue
		}
		from := max(mk.off, at)
		p.last = mk.m
		p.feed(buf[from-base:mk.end-base], from, mk.m)
	}
}
