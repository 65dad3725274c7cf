package wsframe

import "github.com/wspath/wspath/capture/packet"

// MaskRule says whether frames of a direction must be masked.
type MaskRule uint8

// Mask rules. RFC 6455 requires client frames to be masked and server frames not to be.
const (
	MaskAny       MaskRule = iota // not known (mid-stream): learnt from the frames seen
	MaskRequired                  // client to server
	MaskForbidden                 // server to client
)

// DefaultResyncBuffer is the default Options.ResyncBuffer.
const DefaultResyncBuffer = 256 << 10

// Options tune a Parser. The zero value means the defaults.
type Options struct {
	// MidStream starts the parser unsynchronised: the stream does not begin at a frame boundary
	// (the handshake was not captured) and frames are found by resynchronising.
	MidStream bool
	// Mask is the masking rule of this direction, when the handshake told which side is the client.
	// A frame that breaks it is reported (ErrMask); while resynchronising, it is used as evidence.
	Mask MaskRule
	// ResyncBuffer bounds the bytes kept while looking for frame boundaries. 0 means
	// DefaultResyncBuffer. A frame longer than this cannot be the first one found after losing
	// sync: it is skipped and the search goes on.
	ResyncBuffer int
	// NoRSV1 says the handshake agreed no extension that sets RSV1 (permessage-deflate): while
	// resynchronising, a header with RSV1 is then no frame boundary.
	NoRSV1 bool
}

// Frame describes a frame whose header has been parsed.
type Frame struct {
	Header
	Offset uint64      // stream offset of the header's first byte
	Meta   packet.Meta // packet that carried the header's last byte
	// Resync is set on the first frame found after the parser was unsynchronised (mid-stream start
	// or lost sync): earlier bytes were skipped, and a continuation frame here continues a message
	// whose start was not seen.
	Resync bool
	// Skipped is, with Resync, the number of stream bytes not decoded since sync was lost (gaps
	// included).
	Skipped uint64
}

// Handler receives what a Parser finds, in stream order. Calls for one frame are FrameStart, then
// any mix of Payload and PayloadGap adding up to the frame's length, then FrameEnd. Error comes
// between frames: an error about a frame (ErrMask, ErrUnexpectedContinuation, ...) comes just
// before its FrameStart; with LostSync set, no FrameStart follows for that header.
type Handler interface {
	// FrameStart is called when a frame header is complete.
	FrameStart(f Frame)
	// Payload delivers unmasked payload bytes of the current frame. p is only valid during the
	// call (it may be the parser's scratch buffer or the caller's chunk): copy what you keep.
	Payload(p []byte)
	// PayloadGap says n payload bytes of the current frame were not captured (a TCP gap, or the
	// stream ended before the frame did).
	PayloadGap(n uint64)
	// FrameEnd is called when the frame's payload has been fully delivered or accounted for by
	// PayloadGap. m is the packet that carried (or would have carried) its last byte.
	FrameEnd(m packet.Meta)
	// Error reports a protocol error, or a capture problem (ErrLostSync, ErrTruncated; see
	// FrameError.Protocol).
	Error(err *FrameError)
}

// LengthOnly is an optional interface of a Handler. When LengthOnly returns true right after a
// FrameStart, that frame's Payload calls get the bytes as they are on the wire, still masked: a
// handler that only counts a frame's bytes saves unmasking them.
type LengthOnly interface {
	LengthOnly() bool
}

type parserState uint8

const (
	stHeader parserState = iota
	stPayload
	stUnsync
)

// maskSeen values.
const (
	maskUnknown int8 = iota
	maskOn
	maskOff
)

// scratchSize is the size of the buffer payload is unmasked into.
const scratchSize = 16 << 10

// Parser is a streaming RFC 6455 frame parser for one direction of a connection. Feed it the
// stream's bytes in order, chunk by chunk, with Gap for bytes the capture lacks and End at the
// end. It never buffers payload while synchronised (payload is passed through, unmasked); while
// resynchronising it keeps at most Options.ResyncBuffer bytes. A Parser is not safe for concurrent
// use.
type Parser struct {
	h    Handler
	opts Options
	// lengthOnly is h's LengthOnly, if it has one; raw is its answer for the current frame.
	lengthOnly LengthOnly
	raw        bool

	started bool
	next    uint64      // stream offset of the next byte expected
	last    packet.Meta // meta of the last chunk fed
	state   parserState

	hdr    [MaxHeaderSize]byte
	hdrN   int
	hdrOff uint64

	cur       Header
	remaining uint64
	phase     int

	inMessage bool // a fragmented data message is open
	fragKnown bool // inMessage is meaningful (false after a resync until a message boundary)
	maskSeen  int8

	resynced bool   // next FrameStart is the first after a resync
	lostAt   uint64 // offset where sync was lost
	skipped  uint64 // total bytes skipped while unsynchronised

	scratch []byte
	rs      resync
}

// NewParser returns a parser that reports to h.
func NewParser(h Handler, opts Options) *Parser {
	if opts.ResyncBuffer <= 0 {
		opts.ResyncBuffer = DefaultResyncBuffer
	}
	p := &Parser{h: h, opts: opts, fragKnown: true}
	p.lengthOnly, _ = h.(LengthOnly)
	switch opts.Mask {
	case MaskRequired:
		p.maskSeen = maskOn
	case MaskForbidden:
		p.maskSeen = maskOff
	}
	return p
}

// Synced reports whether the parser currently knows where frames start.
func (p *Parser) Synced() bool { return p.state != stUnsync }

// Skipped returns the number of stream bytes skipped so far while unsynchronised.
func (p *Parser) Skipped() uint64 { return p.skipped }

// Buffered returns the bytes of memory the parser holds to resynchronise (at most about
// Options.ResyncBuffer, 0 while synchronised after a successful resync). Callers that run many
// parsers use it to bound their total.
func (p *Parser) Buffered() int { return cap(p.rs.buf) }

// Feed parses the next chunk of the stream: b holds the bytes at stream offset off, m is the
// packet that carried them. The parser does not keep b after Feed returns. Bytes before the
// expected offset (retransmitted overlap) are ignored; a jump forward is treated as a gap.
func (p *Parser) Feed(b []byte, off uint64, m packet.Meta) {
	if len(b) == 0 {
		return
	}
	p.last = m
	if !p.started {
		p.start(off)
	}
	if off > p.next {
		p.Gap(p.next, off-p.next)
	}
	if off < p.next {
		d := p.next - off
		if d >= uint64(len(b)) {
			return
		}
		b, off = b[d:], p.next
	}
	p.feed(b, off, m)
}

func (p *Parser) start(off uint64) {
	p.started = true
	p.next = off
	if p.opts.MidStream {
		p.state = stUnsync
		p.lostAt = off
		p.fragKnown = false
		p.rs.fresh = true // the capture's first byte of the stream: a segment start
	}
}

// feed dispatches b (at off == p.next) according to the state.
func (p *Parser) feed(b []byte, off uint64, m packet.Meta) {
	for len(b) > 0 {
		switch p.state {
		case stUnsync:
			p.next = off + uint64(len(b))
			p.resyncFeed(b, off, m)
			return
		case stHeader:
			if p.hdrN == 0 {
				p.hdrOff = p.next
			}
			take := min(MaxHeaderSize-p.hdrN, len(b))
			copy(p.hdr[p.hdrN:], b[:take])
			h, err := ParseHeader(p.hdr[:p.hdrN+take])
			if err == ErrShort {
				p.hdrN += take
				p.next += uint64(take)
				off += uint64(take)
				b = b[take:]
				continue
			}
			used := h.Size - p.hdrN
			p.hdrN = 0
			p.next += uint64(used)
			off += uint64(used)
			b = b[used:]
			p.startFrame(h, err, m)
		case stPayload:
			n := len(b)
			if uint64(n) > p.remaining {
				n = int(p.remaining)
			}
			p.payload(b[:n])
			p.remaining -= uint64(n)
			p.next += uint64(n)
			off += uint64(n)
			b = b[n:]
			if p.remaining == 0 {
				p.state = stHeader
				p.h.FrameEnd(m)
			}
		}
	}
}

// payload unmasks and delivers p.
func (p *Parser) payload(b []byte) {
	if !p.cur.Masked || p.raw {
		p.h.Payload(b)
		return
	}
	if p.scratch == nil {
		p.scratch = make([]byte, scratchSize)
	}
	for len(b) > 0 {
		n := min(len(b), len(p.scratch))
		p.phase = maskBytes(p.scratch, b[:n], p.cur.Mask, p.phase)
		p.h.Payload(p.scratch[:n])
		b = b[n:]
	}
}

// startFrame handles a complete header.
func (p *Parser) startFrame(h Header, err error, m packet.Meta) {
	if err == ErrLengthMSB || err == ErrReservedOpcode {
		// Not a frame this parser can follow: most likely the bytes are not where a frame starts.
		p.h.Error(&FrameError{Offset: p.hdrOff, Meta: m, Err: err, LostSync: true})
		p.loseSync(p.hdrOff, false)
		return
	}
	if err != nil {
		p.h.Error(&FrameError{Offset: p.hdrOff, Meta: m, Err: err})
	}
	if (p.opts.Mask == MaskRequired && !h.Masked) || (p.opts.Mask == MaskForbidden && h.Masked) {
		p.h.Error(&FrameError{Offset: p.hdrOff, Meta: m, Err: ErrMask})
	}
	if p.maskSeen == maskUnknown {
		p.maskSeen = maskOff
		if h.Masked {
			p.maskSeen = maskOn
		}
	}
	switch h.Opcode {
	case OpContinuation:
		if p.fragKnown && !p.inMessage {
			p.h.Error(&FrameError{Offset: p.hdrOff, Meta: m, Err: ErrUnexpectedContinuation})
		}
		if h.Fin {
			p.fragKnown = true
		}
		p.inMessage = !h.Fin
	case OpText, OpBinary:
		if p.fragKnown && p.inMessage {
			p.h.Error(&FrameError{Offset: p.hdrOff, Meta: m, Err: ErrExpectedContinuation})
		}
		p.fragKnown = true
		p.inMessage = !h.Fin
	}
	f := Frame{Header: h, Offset: p.hdrOff, Meta: m}
	if p.resynced {
		f.Resync = true
		f.Skipped = p.hdrOff - p.lostAt
		p.resynced = false
	}
	p.cur = h
	p.phase = 0
	p.remaining = h.Length
	p.h.FrameStart(f)
	p.raw = p.lengthOnly != nil && p.lengthOnly.LengthOnly()
	if h.Length == 0 {
		p.state = stHeader
		p.h.FrameEnd(m)
		return
	}
	p.state = stPayload
}

// loseSync switches to resynchronising; bytes from offset at on are searched. afterGap says the
// bytes buffered next start right after bytes the capture lacks.
func (p *Parser) loseSync(at uint64, afterGap bool) {
	p.state = stUnsync
	p.hdrN = 0
	p.lostAt = at
	p.fragKnown = false
	p.rs.reset()
	p.rs.fresh = afterGap
}

// Gap tells the parser that n bytes at stream offset off were not captured. Inside a frame's
// payload the parser stays synchronised (the frame length is known) and reports PayloadGap; a
// gap that covers any byte of a frame header makes it lose sync (ErrLostSync) and resynchronise.
func (p *Parser) Gap(off, n uint64) {
	if n == 0 {
		return
	}
	if !p.started {
		p.start(off)
		if p.state != stUnsync {
			p.h.Error(&FrameError{Offset: off, Meta: p.last, Err: ErrLostSync, LostSync: true})
			p.loseSync(off, true)
		}
	}
	if off+n <= p.next {
		return
	}
	if off < p.next {
		n -= p.next - off
		off = p.next
	}
	if off > p.next {
		n += off - p.next
		off = p.next
	}
	// The bytes buffered while unsynchronised can grow no further: decide on them now.
	for p.state == stUnsync && p.resyncLast() {
	}
	if p.state == stPayload {
		k := min(n, p.remaining)
		p.h.PayloadGap(k)
		p.phase = (p.phase + int(k&3)) & 3
		p.remaining -= k
		p.next += k
		off += k
		n -= k
		if p.remaining == 0 {
			p.state = stHeader
			p.h.FrameEnd(p.last)
		}
		if n == 0 {
			return
		}
	}
	if p.state == stHeader {
		at := off
		if p.hdrN > 0 {
			at = p.hdrOff
		}
		p.h.Error(&FrameError{Offset: off, Meta: p.last, Err: ErrLostSync, LostSync: true})
		p.loseSync(at, true)
	} else {
		// Still unsynchronised (resyncLast dropped what it could not place): what follows starts
		// right after this gap.
		p.rs.fresh = true
	}
	p.next = off + n
}

// End tells the parser the stream ended (m: the last packet). A frame whose payload was not all
// seen is finished with PayloadGap and FrameEnd; a partial header is reported as ErrTruncated.
// While unsynchronised, a last search for frames is made in the buffered bytes.
func (p *Parser) End(m packet.Meta) {
	switch p.state {
	case stPayload:
		p.h.PayloadGap(p.remaining)
		p.remaining = 0
		p.state = stHeader
		p.h.FrameEnd(m)
	case stHeader:
		if p.hdrN > 0 {
			p.h.Error(&FrameError{Offset: p.hdrOff, Meta: m, Err: ErrTruncated})
			p.hdrN = 0
		}
	case stUnsync:
		// A replay after acceptance may lose sync again: search what it buffered, as often as
		// that happens (each time the stream position advances, so this ends).
		for p.state == stUnsync && p.resyncLast() {
		}
		if p.state != stUnsync {
			p.End(m)
		}
	}
}
