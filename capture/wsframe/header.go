package wsframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/wspath/wspath/capture/packet"
)

// MaxHeaderSize is the largest frame header: 2 bytes, 8 bytes of extended length, 4 of mask key.
const MaxHeaderSize = 14

// Opcodes defined by RFC 6455 section 5.2.
const (
	OpContinuation uint8 = 0x0
	OpText         uint8 = 0x1
	OpBinary       uint8 = 0x2
	OpClose        uint8 = 0x8
	OpPing         uint8 = 0x9
	OpPong         uint8 = 0xA
)

// MaxControlPayload is the largest payload a control frame may carry (RFC 6455 section 5.5).
const MaxControlPayload = 125

// ErrShort is returned by ParseHeader when b ends before the header does.
var ErrShort = errors.New("wsframe: short frame header")

// Protocol errors: a frame broke RFC 6455. They are reported through Handler.Error wrapped in a
// *FrameError.
var (
	ErrReservedOpcode         = errors.New("wsframe: reserved opcode")
	ErrControlTooLong         = errors.New("wsframe: control frame payload longer than 125 bytes")
	ErrControlFragmented      = errors.New("wsframe: fragmented control frame")
	ErrLengthMSB              = errors.New("wsframe: 64-bit payload length with the most significant bit set")
	ErrNonMinimalLength       = errors.New("wsframe: payload length not in its minimal encoding")
	ErrMask                   = errors.New("wsframe: masking does not match the direction")
	ErrUnexpectedContinuation = errors.New("wsframe: continuation frame without a message to continue")
	ErrExpectedContinuation   = errors.New("wsframe: new data frame inside a fragmented message")
	ErrCloseLength            = errors.New("wsframe: close frame payload of 1 byte")
	ErrCloseCode              = errors.New("wsframe: invalid close status code")
	ErrCloseUTF8              = errors.New("wsframe: close reason is not valid UTF-8")
)

// Capture problems, reported through Handler.Error but not protocol errors: the capture, not the
// peer, is at fault.
var (
	// ErrLostSync: bytes missing inside a frame header (a TCP gap) or a header that cannot be a
	// frame made the parser lose track of frame boundaries; it resynchronises.
	ErrLostSync = errors.New("wsframe: lost frame synchronisation")
	// ErrTruncated: the stream ended inside a frame header.
	ErrTruncated = errors.New("wsframe: stream ended inside a frame header")
)

// FrameError is a problem found at a stream offset. It unwraps to one of the sentinel errors.
type FrameError struct {
	Offset uint64      // stream offset of the frame header (or of the lost bytes) concerned
	Meta   packet.Meta // packet where it was found
	Err    error
	// LostSync is set when the parser no longer knows where frames start and resynchronises.
	LostSync bool
}

// Error formats the error with its offset and packet.
func (e *FrameError) Error() string {
	if e.Meta.File != "" || e.Meta.Number != 0 {
		return fmt.Sprintf("%v at stream offset %d (%s packet %d)", e.Err, e.Offset, e.Meta.File, e.Meta.Number)
	}
	return fmt.Sprintf("%v at stream offset %d", e.Err, e.Offset)
}

// Unwrap returns the cause.
func (e *FrameError) Unwrap() error { return e.Err }

// Protocol reports whether the error is the peer's fault (a broken frame) rather than the
// capture's (ErrLostSync, ErrTruncated).
func (e *FrameError) Protocol() bool {
	return !errors.Is(e.Err, ErrLostSync) && !errors.Is(e.Err, ErrTruncated)
}

// Header is a decoded frame header.
type Header struct {
	Fin, RSV1, RSV2, RSV3 bool
	Opcode                uint8
	Masked                bool
	Mask                  [4]byte
	Length                uint64 // payload length
	Size                  int    // header bytes, 2 to 14
}

// IsControl reports whether the opcode is a control opcode (0x8-0xF).
func (h Header) IsControl() bool { return h.Opcode >= 0x8 }

// ParseHeader decodes the frame header at the start of b. It returns ErrShort when b is too short
// to hold the whole header. When the header is decodable but breaks a rule (reserved opcode,
// control frame longer than 125 bytes or fragmented, length not minimally encoded) it returns the
// header with Size and Length set and the protocol error; with ErrLengthMSB the length is unusable.
// RSV bits are reported, not judged: they depend on the negotiated extensions.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < 2 {
		return h, ErrShort
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.RSV1 = b0&0x40 != 0
	h.RSV2 = b0&0x20 != 0
	h.RSV3 = b0&0x10 != 0
	h.Opcode = b0 & 0x0f
	h.Masked = b1&0x80 != 0
	n := uint64(b1 & 0x7f)
	size := 2
	switch n {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if h.Masked {
		size += 4
	}
	if len(b) < size {
		return h, ErrShort
	}
	var err error
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(b[2:4]))
		if n < 126 {
			err = ErrNonMinimalLength
		}
	case 127:
		n = binary.BigEndian.Uint64(b[2:10])
		if n>>63 != 0 {
			err = ErrLengthMSB
		} else if n <= 0xffff {
			err = ErrNonMinimalLength
		}
	}
	if h.Masked {
		copy(h.Mask[:], b[size-4:size])
	}
	h.Length, h.Size = n, size
	switch {
	case err == ErrLengthMSB:
	case (h.Opcode >= 0x3 && h.Opcode <= 0x7) || h.Opcode >= 0xb:
		err = ErrReservedOpcode
	case h.IsControl() && n > MaxControlPayload:
		err = ErrControlTooLong
	case h.IsControl() && !h.Fin:
		err = ErrControlFragmented
	}
	return h, err
}

// ParseClose decodes the payload of a close frame (RFC 6455 section 5.5.1): an empty payload has
// no code (0); otherwise a 2-byte status code and a UTF-8 reason. The code and reason are returned
// even when err reports a bad code (ErrCloseCode) or bad UTF-8 (ErrCloseUTF8, the reason then has
// invalid bytes replaced by U+FFFD). A 1-byte payload is ErrCloseLength.
func ParseClose(p []byte) (code uint16, reason string, err error) {
	switch len(p) {
	case 0:
		return 0, "", nil
	case 1:
		return 0, "", ErrCloseLength
	}
	code = binary.BigEndian.Uint16(p)
	r := p[2:]
	if !validCloseCode(code) {
		err = ErrCloseCode
	}
	if !utf8.Valid(r) {
		if err == nil {
			err = ErrCloseUTF8
		}
		return code, string([]rune(string(r))), err
	}
	return code, string(r), err
}

// validCloseCode reports whether code may appear in a close frame (RFC 6455 sections 7.4, 11.7).
func validCloseCode(c uint16) bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
