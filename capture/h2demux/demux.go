package h2demux

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/wspath/wspath/capture/packet"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Preface is the client connection preface (RFC 9113 section 3.4) that starts every HTTP/2
// connection with prior knowledge and every h2 connection after TLS ALPN.
const Preface = http2.ClientPreface

// sender names who sent the bytes travelling in direction d: the client (which sent the
// preface) or the server.
func sender(d packet.Direction) string {
	if d == packet.ServerToClient {
		return "server"
	}
	return "client"
}

// Bounds on what one direction buffers. A frame is parsed once all its bytes are present, so a
// direction buffers at most one frame (the largest SETTINGS_MAX_FRAME_SIZE allows, 16 MiB), and a
// header block split over CONTINUATION frames is bounded separately.
const (
	maxFrameSize       = 1<<24 - 1
	maxHeaderBlock     = 1 << 20
	maxHeaderString    = 256 << 10
	defaultHeaderTable = 4096
)

// Sentinel errors a Handler's Error receives, wrapped in an *Error.
var (
	ErrPreface = errors.New("not an HTTP/2 client connection preface")
	ErrGap     = errors.New("bytes missing from the capture: HTTP/2 framing and HPACK state lost")
	ErrFraming = errors.New("HTTP/2 framing error")
	ErrHPACK   = errors.New("HPACK decoding error: header compression state lost")
	ErrLimit   = errors.New("HTTP/2 buffer limit")
)

// Error is a problem that stopped the reading of one direction, or of one frame.
type Error struct {
	Direction packet.Direction // of the bytes concerned: ClientToServer for the client's
	Offset    uint64           // stream offset of the frame (or byte) concerned
	Stream    uint32           // stream id, 0 for the connection
	Meta      packet.Meta
	Fatal     bool // the direction is no longer read
	Err       error
	Detail    string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("HTTP/2 %s at offset %d", sender(e.Direction), e.Offset)
	if e.Stream != 0 {
		s += fmt.Sprintf(" stream %d", e.Stream)
	}
	s += ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Headers is a decoded header list (HEADERS plus CONTINUATION frames) of one stream.
type Headers struct {
	Stream    uint32
	Fields    []hpack.HeaderField
	EndStream bool        // the sender will send nothing more on the stream
	Offset    uint64      // stream offset of the HEADERS frame
	Meta      packet.Meta // packet that completed the header block
}

// Get returns the value of the first field named name (lower case, as HTTP/2 requires), or "".
func (h *Headers) Get(name string) string {
	for _, f := range h.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Handler receives what a Demux finds, synchronously from Feed, Gap and End. The side s that
// sent something is named by the direction its bytes travel: ClientToServer for the client.
type Handler interface {
	// Headers is a complete header block sent by side s. PUSH_PROMISE blocks are decoded (they
	// change the HPACK state) but not passed on.
	Headers(s packet.Direction, h *Headers)
	// Data is the payload of a DATA frame (padding removed). off is the stream offset of the
	// payload's first byte in side s's byte stream.
	Data(s packet.Direction, stream uint32, b []byte, off uint64, endStream bool, m packet.Meta)
	// Reset is an RST_STREAM sent by side s.
	Reset(s packet.Direction, stream uint32, code http2.ErrCode, m packet.Meta)
	// GoAway is a GOAWAY sent by side s: streams above lastStream were not processed.
	GoAway(s packet.Direction, lastStream uint32, code http2.ErrCode, m packet.Meta)
	// Error reports a problem; when e.Fatal, direction e.Direction is no longer read.
	Error(e *Error)
}

// Demux demultiplexes one HTTP/2 connection. The zero value is not usable; call New.
type Demux struct {
	h    Handler
	side [2]*direction
}

// direction is the reading state of the bytes one side sends.
type direction struct {
	s       packet.Direction // the side that sends these bytes: ClientToServer for the client
	buf     []byte           // bytes not yet parsed
	bufOff  uint64           // stream offset of buf[0]
	preface int              // preface bytes still expected (client side)
	rd      bytes.Reader
	fr      *http2.Framer
	dec     *hpack.Decoder
	fields  []hpack.HeaderField
	dead    bool

	// The header block being collected from HEADERS/PUSH_PROMISE and CONTINUATION frames.
	block     []byte
	blockHdr  Headers
	inBlock   bool
	isPromise bool
}

// New returns a Demux that reports to h.
func New(h Handler) *Demux {
	d := &Demux{h: h}
	for i := range d.side {
		dir := &direction{s: packet.Direction(i)}
		dir.fr = http2.NewFramer(nil, &dir.rd)
		dir.fr.SetMaxReadFrameSize(maxFrameSize)
		dir.fr.SetReuseFrames() // each frame is done with before the next is read
		dir.dec = hpack.NewDecoder(defaultHeaderTable, func(f hpack.HeaderField) { dir.fields = append(dir.fields, f) })
		dir.dec.SetMaxStringLength(maxHeaderString)
		if dir.s == packet.ClientToServer {
			dir.preface = len(Preface)
		}
		d.side[i] = dir
	}
	return d
}

// Buffered returns the bytes the Demux holds (both directions), for memory accounting.
func (d *Demux) Buffered() int {
	return cap(d.side[0].buf) + cap(d.side[1].buf) + cap(d.side[0].block) + cap(d.side[1].block)
}

// Dead reports whether side s is no longer read (after a fatal error).
func (d *Demux) Dead(s packet.Direction) bool { return d.side[s].dead }

// Feed hands the next in-order bytes of side s, at stream offset off, to the Demux.
func (d *Demux) Feed(s packet.Direction, b []byte, off uint64, m packet.Meta) {
	dir := d.side[s]
	if dir.dead || len(b) == 0 {
		return
	}
	if dir.preface > 0 {
		b, off = d.skipPreface(dir, b, off, m)
		if dir.dead || len(b) == 0 {
			return
		}
	}
	if len(dir.buf) == 0 {
		dir.bufOff = off
	}
	dir.buf = append(dir.buf, b...)
	d.frames(dir, m)
	if len(dir.buf) == 0 {
		dir.buf = nil // a long-lived connection keeps no large buffer between frames
	}
}

// skipPreface checks and removes the client preface from the start of the client's bytes.
func (d *Demux) skipPreface(dir *direction, b []byte, off uint64, m packet.Meta) ([]byte, uint64) {
	done := len(Preface) - dir.preface
	n := min(dir.preface, len(b))
	if !bytes.Equal(b[:n], []byte(Preface[done:done+n])) {
		d.fatal(dir, &Error{Offset: off, Meta: m, Err: ErrPreface})
		return nil, off
	}
	dir.preface -= n
	return b[n:], off + uint64(n)
}

// frames parses every complete frame in dir.buf.
func (d *Demux) frames(dir *direction, m packet.Meta) {
	for !dir.dead && len(dir.buf) >= 9 {
		length := int(dir.buf[0])<<16 | int(dir.buf[1])<<8 | int(dir.buf[2])
		if len(dir.buf) < 9+length {
			return
		}
		off := dir.bufOff
		dir.rd.Reset(dir.buf[:9+length])
		f, err := dir.fr.ReadFrame()
		if err != nil {
			d.frameError(dir, err, off, m)
		} else {
			d.frame(dir, f, off, m)
		}
		if dir.dead {
			return
		}
		dir.buf = dir.buf[9+length:]
		dir.bufOff += uint64(9 + length)
	}
}

// frameError reports a frame the Framer refused: a stream error skips that frame only.
func (d *Demux) frameError(dir *direction, err error, off uint64, m packet.Meta) {
	var se http2.StreamError
	if errors.As(err, &se) {
		d.h.Error(&Error{Direction: dir.s, Offset: off, Stream: se.StreamID, Meta: m, Err: ErrFraming, Detail: se.Error()})
		return
	}
	if errors.Is(err, http2.ErrFrameTooLarge) {
		d.fatal(dir, &Error{Offset: off, Meta: m, Err: ErrLimit, Detail: err.Error()})
		return
	}
	d.fatal(dir, &Error{Offset: off, Meta: m, Err: ErrFraming, Detail: err.Error()})
}

// frame dispatches one parsed frame at stream offset off.
func (d *Demux) frame(dir *direction, f http2.Frame, off uint64, m packet.Meta) {
	switch f := f.(type) {
	case *http2.DataFrame:
		payload := off + 9
		if f.Header().Flags.Has(http2.FlagDataPadded) {
			payload++
		}
		d.h.Data(dir.s, f.StreamID, f.Data(), payload, f.StreamEnded(), m)
	case *http2.HeadersFrame:
		d.startBlock(dir, f.StreamID, f.HeaderBlockFragment(), f.StreamEnded(), false, off, m)
		if f.HeadersEnded() {
			d.endBlock(dir, m)
		}
	case *http2.PushPromiseFrame:
		d.startBlock(dir, f.PromiseID, f.HeaderBlockFragment(), false, true, off, m)
		if f.HeadersEnded() {
			d.endBlock(dir, m)
		}
	case *http2.ContinuationFrame:
		// The Framer has checked that it continues the open block on the same stream.
		if len(dir.block)+len(f.HeaderBlockFragment()) > maxHeaderBlock {
			d.fatal(dir, &Error{Offset: off, Stream: f.StreamID, Meta: m, Err: ErrLimit,
				Detail: fmt.Sprintf("header block longer than %d bytes", maxHeaderBlock)})
			return
		}
		dir.block = append(dir.block, f.HeaderBlockFragment()...)
		if f.HeadersEnded() {
			d.endBlock(dir, m)
		}
	case *http2.RSTStreamFrame:
		d.h.Reset(dir.s, f.StreamID, f.ErrCode, m)
	case *http2.GoAwayFrame:
		d.h.GoAway(dir.s, f.LastStreamID, f.ErrCode, m)
	case *http2.SettingsFrame:
		if v, ok := f.Value(http2.SettingHeaderTableSize); ok && !f.IsAck() {
			// The other side's encoder may now use a table this large: allow its size updates.
			d.side[dir.s.Other()].dec.SetAllowedMaxDynamicTableSize(max(v, defaultHeaderTable))
		}
	}
}

func (d *Demux) startBlock(dir *direction, stream uint32, frag []byte, end, promise bool, off uint64, m packet.Meta) {
	dir.block = append(dir.block[:0], frag...)
	dir.blockHdr = Headers{Stream: stream, EndStream: end, Offset: off}
	dir.inBlock, dir.isPromise = true, promise
}

// endBlock decodes the collected header block. An HPACK error leaves the decoder's table in an
// unknown state, so the direction is no longer read.
func (d *Demux) endBlock(dir *direction, m packet.Meta) {
	dir.inBlock = false
	dir.fields = dir.fields[:0]
	_, err := dir.dec.Write(dir.block)
	if err == nil {
		err = dir.dec.Close()
	}
	if err != nil {
		d.fatal(dir, &Error{Offset: dir.blockHdr.Offset, Stream: dir.blockHdr.Stream, Meta: m, Err: ErrHPACK, Detail: err.Error()})
		return
	}
	if len(dir.block) > 64<<10 {
		dir.block = nil
	}
	if dir.isPromise {
		return
	}
	h := dir.blockHdr
	h.Fields, h.Meta = dir.fields, m
	d.h.Headers(dir.s, &h)
}

// Gap tells the Demux that n bytes of side s are missing from the capture. Frame boundaries and
// the HPACK table are lost with them, so the side is no longer read.
func (d *Demux) Gap(s packet.Direction, off, n uint64, m packet.Meta) {
	dir := d.side[s]
	if dir.dead {
		return
	}
	d.fatal(dir, &Error{Offset: off, Meta: m, Err: ErrGap, Detail: fmt.Sprintf("%d bytes", n)})
}

func (d *Demux) fatal(dir *direction, e *Error) {
	e.Direction, e.Fatal = dir.s, true
	dir.dead = true
	dir.buf, dir.block = nil, nil
	d.h.Error(e)
}
