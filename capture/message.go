package capture

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/wspath/wspath/capture/handshake"
	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpstream"
	"github.com/wspath/wspath/capture/wsframe"
)

// assembler builds the Messages of one direction from the frame parser's events. It implements
// wsframe.Handler. It keeps a digest and a bounded preview of each payload, never the payload; only
// a compressed message is buffered (up to MaxMessageSize) until it can be inflated as a whole.
type assembler struct {
	c         *conn
	d         tcpstream.Dir
	midStream bool
	maxSize   int64
	preview   int
	inflater  *wsframe.Inflater // nil without permessage-deflate
	hash      hash.Hash
	// digests: payloads are hashed and previewed. Not with Options.CountOnly, whose messages are
	// counted and dropped: their payload bytes are then only counted, not even unmasked.
	digests bool

	msgs    messageList
	entries entryList
	wide    []wideEntry // of the entries that need one
	counts  Counts
	// scratch holds the preview of the current message when no Message is kept (Compact,
	// CountOnly): read for a probe marker, then reused.
	scratch []byte
	n       int // messages pushed, kept or not
	close   *Close

	cur     *Message  // data message in progress, if inMsg; allocated once and reused
	inMsg   bool      // a data message is in progress
	curFin  bool      // the current frame is the message's last
	curCtl  bool      // the current frame is a control frame
	hashed  int64     // payload bytes hashed into cur
	wire    hash.Hash // digest of cur's compressed bytes, for when they cannot be inflated
	ctl     Message
	ctlBody []byte // a control frame's payload (at most 125 bytes)

	frameEnd uint64 // stream offset just past the current frame

	frames int // frames seen, for deciding whether mid-stream bytes were WebSocket
	masked int // of which masked
}

func newAssembler(c *conn, d tcpstream.Dir, deflate *handshake.Deflate, midStream bool) *assembler {
	a := &assembler{c: c, d: d, midStream: midStream, maxSize: c.r.opts.MaxMessageSize,
		preview: c.r.opts.PreviewSize, hash: sha256.New(), wire: sha256.New(), digests: !c.r.opts.CountOnly}
	if !a.digests {
		a.preview = 0
	}
	if deflate == nil && midStream {
		// Without the handshake, whether permessage-deflate was agreed is unknown: frames with
		// RSV1 are taken as compressed, with the sender's earlier output unknown.
		deflate = &handshake.Deflate{}
	}
	if deflate != nil {
		// The sender of this direction compresses with its own window: the client's parameters
		// for client frames, the server's for server frames.
		noTakeover, bits := deflate.ServerNoContextTakeover, deflate.ServerMaxWindowBits
		if d == c.client {
			noTakeover, bits = deflate.ClientNoContextTakeover, deflate.ClientMaxWindowBits
		}
		a.inflater = wsframe.NewInflater(wsframe.InflateOptions{
			NoContextTakeover: noTakeover, WindowBits: bits, MaxSize: a.maxSize,
			MaxCompressed: int(min(a.maxSize, 1<<30)), Pool: c.r.inflate, MidStream: midStream,
		})
	}
	return a
}

// FrameStart begins a frame whose header ends at the packet f.Meta.
func (a *assembler) FrameStart(f wsframe.Frame) {
	h, off, m := f.Header, f.Offset, f.Meta
	if f.Resync && a.inMsg {
		// Sync was lost inside this message: what is left of it will not be read.
		a.cur.Flags |= Incomplete
		a.finish()
	}
	if f.Resync && a.inflater != nil {
		// Bytes were skipped, maybe whole compressed messages: the deflate window that the next
		// messages refer to is no longer known.
		a.inflater.Lost()
	}
	a.frames++
	a.frameEnd = off + uint64(h.Size) + h.Length
	if h.Masked {
		a.masked++
	}
	opcode := Opcode(h.Opcode)
	if opcode.IsControl() {
		a.curCtl = true
		a.ctl = Message{Opcode: opcode, First: m.Time, Last: m.Time, Frames: 1, Offset: off,
			Packet: m.Ref(), WireLength: int64(h.Length)}
		if a.midStream {
			a.ctl.Flags |= MidStream
		}
		a.ctlBody = a.ctlBody[:0]
		return
	}
	a.curCtl = false
	a.curFin = h.Fin
	if opcode == OpContinuation && a.inMsg {
		a.cur.Frames++
		a.cur.WireLength += int64(h.Length)
		return
	}
	if a.inMsg {
		// A new data frame while a fragmented message is open: the parser reports the protocol
		// error; the open message is kept as it is.
		a.cur.Flags |= ProtocolError | Incomplete
		a.finish()
	}
	if a.cur == nil {
		a.cur = new(Message)
	}
	a.cur.start(opcode, m.Time, off, m.Ref(), int64(h.Length))
	a.inMsg = true
	if a.midStream {
		a.cur.Flags |= MidStream
	}
	if opcode == OpContinuation {
		// The message began before the capture could read it.
		a.cur.Flags |= Incomplete
	}
	if h.RSV1 && a.inflater != nil {
		a.cur.Flags |= Compressed
	}
	a.hash.Reset()
	a.wire.Reset()
	a.hashed = 0
}

// start makes m a new message that FrameStart knows this of, all else zero: the same as
// *m = Message{Opcode: op, First: t, Last: t, Frames: 1, Offset: off, Packet: ref, WireLength:
// wire}, field by field, as that literal (built on the stack, then copied) cost about 130
// instructions per message. TestMessageStart checks that no field is forgotten.
func (m *Message) start(op Opcode, t time.Time, off uint64, ref PacketRef, wire int64) {
	m.Index, m.Direction, m.Opcode = 0, 0, op
	m.Length, m.WireLength = 0, wire
	m.Digest, m.WireDigest = Digest{}, Digest{}
	m.Preview = nil
	m.First, m.Last = t, t
	m.Frames, m.Offset, m.End = 1, off, 0
	m.Packet, m.LastPacket = ref, PacketRef{}
	m.Flags, m.CloseCode, m.CloseReason = 0, 0, ""
}

// Payload receives unmasked payload bytes of the current frame.
func (a *assembler) Payload(p []byte) {
	if a.curCtl {
		if room := 125 - len(a.ctlBody); room > 0 {
			a.ctlBody = append(a.ctlBody, p[:min(room, len(p))]...)
		}
		return
	}
	if !a.inMsg {
		return
	}
	m := a.cur
	if m.Flags.Has(Compressed) {
		a.inflater.Write(p)
		if a.digests {
			a.wire.Write(p)
		}
		return
	}
	a.consume(m, p)
}

// LengthOnly tells the parser that the current frame's bytes are only counted (wsframe.LengthOnly):
// a frame of an uncompressed data message when digests are not kept.
func (a *assembler) LengthOnly() bool {
	return !a.digests && !a.curCtl && a.inMsg && !a.cur.Flags.Has(Compressed)
}

// consume hashes payload bytes of m (after decompression) within the size bound, keeping a preview.
func (a *assembler) consume(m *Message, p []byte) {
	m.Length += int64(len(p))
	if room := int64(a.preview - len(m.Preview)); room > 0 && len(p) > 0 {
		if m.Preview == nil {
			m.Preview = a.previewBuf()
		}
		m.Preview = append(m.Preview, p[:min(room, int64(len(p)))]...)
	}
	if a.hashed+int64(len(p)) > a.maxSize {
		p = p[:max(a.maxSize-a.hashed, 0)]
		m.Flags |= Oversize
	}
	if a.digests {
		a.hash.Write(p)
	}
	a.hashed += int64(len(p))
}

// Write lets the inflater stream decompressed bytes into the current message.
func (a *assembler) Write(p []byte) (int, error) {
	if a.inMsg {
		a.consume(a.cur, p)
	}
	return len(p), nil
}

// PayloadGap marks the current message as not fully captured.
func (a *assembler) PayloadGap(n uint64) {
	if a.curCtl {
		a.ctl.Flags |= Incomplete
		return
	}
	if a.inMsg {
		a.cur.Flags |= Incomplete
		if a.cur.Flags.Has(Compressed) {
			a.inflater.Gap(n)
		} else {
			a.cur.Length += int64(n)
		}
	}
}

// FrameEnd ends the current frame at the packet m.
func (a *assembler) FrameEnd(m packet.Meta) {
	if a.curCtl {
		a.curCtl = false
		a.ctl.Last, a.ctl.LastPacket = m.Time, m.Ref()
		a.ctl.Length = int64(len(a.ctlBody))
		a.ctl.End = a.frameEnd
		if !a.ctl.Flags.Has(Incomplete) && a.digests {
			a.ctl.Digest = sha256.Sum256(a.ctlBody)
			a.ctl.WireDigest = a.ctl.Digest
			if a.preview > 0 {
				a.ctl.Preview = append([]byte(nil), a.ctlBody[:min(a.preview, len(a.ctlBody))]...)
			}
		}
		if a.ctl.Opcode == OpClose {
			a.closeFrame(m)
		}
		a.push(&a.ctl)
		return
	}
	if !a.inMsg {
		return
	}
	a.cur.Last, a.cur.LastPacket, a.cur.End = m.Time, m.Ref(), a.frameEnd
	if a.curFin {
		a.finish()
	}
}

func (a *assembler) closeFrame(m packet.Meta) {
	code, reason, err := wsframe.ParseClose(a.ctlBody)
	if err != nil {
		a.c.problem(a.d, ProblemProtocol, a.ctl.Offset, m, "close frame: "+err.Error())
	}
	a.ctl.CloseCode, a.ctl.CloseReason = code, reason
	if a.close == nil {
		a.close = &Close{Code: code, Reason: reason, Time: a.ctl.First, Packet: a.ctl.Packet}
	}
}

// finish completes the current data message: inflates it if compressed and computes its digest.
func (a *assembler) finish() {
	m := a.cur
	switch {
	case m.Flags.Has(Incomplete):
		if m.Flags.Has(Compressed) {
			a.inflater.Finish(io.Discard) // notes the lost context, if any
		}
	case m.Flags.Has(Compressed):
		_, err := a.inflater.Finish(a) // Write streams the inflated bytes into m
		switch {
		case err == nil:
			a.sum(a.hash, &m.Digest)
		case errors.Is(err, wsframe.ErrInflateTooLarge):
			m.Flags |= Oversize
			a.sum(a.hash, &m.Digest) // of exactly the first MaxMessageSize bytes
			a.c.problem(a.d, ProblemLimit, m.Offset, metaOf(m), fmt.Sprintf("message %d: %v", a.n, err))
		default:
			// Content unknown; WireDigest still matches hops that passed the bytes unchanged.
			m.Flags |= Undecodable
			m.Length, m.Preview = m.WireLength, nil
			a.c.problem(a.d, ProblemDeflate, m.Offset, metaOf(m), fmt.Sprintf("message %d: %v", a.n, err))
		}
		a.sum(a.wire, &m.WireDigest)
	default:
		a.sum(a.hash, &m.Digest)
		m.WireDigest = m.Digest
	}
	a.inMsg = false
	a.push(m)
}

// sum puts h's digest into dst, when digests are kept.
func (a *assembler) sum(h hash.Hash, dst *Digest) {
	if a.digests {
		h.Sum(dst[:0])
	}
}

func metaOf(m *Message) packet.Meta {
	return packet.Meta{Time: m.First, File: m.Packet.File, Number: m.Packet.Number}
}

// previewBuf returns an empty buffer for the current message's preview: its own bytes when
// Messages are kept, else the reused scratch.
func (a *assembler) previewBuf() []byte {
	o := &a.c.r.opts
	if !o.Compact && !o.CountOnly && o.evidence == nil {
		return a.c.r.previewBuf(a.preview)
	}
	if a.scratch == nil {
		a.scratch = make([]byte, 0, a.preview)
	}
	return a.scratch[:0]
}

// push counts m and appends a copy of it as the direction's next message and entry, as
// Options say.
func (a *assembler) push(m *Message) {
	m.Index = a.n
	a.n++
	if m.Opcode.IsData() {
		a.counts.Data++
	} else {
		a.counts.Control++
	}
	if m.Flags.Has(Incomplete) {
		a.counts.Incomplete++
	}
	o := &a.c.r.opts
	if o.CountOnly {
		return
	}
	if m.Preview != nil && len(m.Preview) == 0 {
		m.Preview = nil
	}
	if o.evidence != nil {
		if o.evidence[evidenceKey{a.c.addr(a.d), a.c.addr(1 - a.d), m.Index}] {
			m := *m
			m.Preview = append([]byte(nil), m.Preview...)
			a.msgs.push(&a.c.r.freeBlocks, &m)
		}
		return
	}
	if a.c.r.out != nil {
		// ReduceContext: the digest file needs the full Message, and no Entry.
		a.msgs.push(&a.c.r.freeBlocks, m)
		if a.msgs.n >= a.c.r.opts.flushEvery && !a.c.inH2 {
			a.c.flushDigests(a)
		}
		return
	}
	e, w, wide := entryOf(m)
	a.entries.push(&a.c.r.freeEntries, &e)
	if wide {
		a.wide = append(a.wide, w)
	}
	if !o.Compact {
		a.msgs.push(&a.c.r.freeBlocks, m)
	}
}

// Error records a protocol error found by the parser.
func (a *assembler) Error(err *wsframe.FrameError) {
	a.c.problem(a.d, ProblemProtocol, err.Offset, err.Meta, err.Error())
	if a.inMsg {
		a.cur.Flags |= ProtocolError
	}
}

// end flushes a message left open when the stream ended.
func (a *assembler) end() {
	if a.inMsg {
		a.cur.Flags |= Incomplete
		a.finish()
	}
}

var _ io.Writer = (*assembler)(nil)
