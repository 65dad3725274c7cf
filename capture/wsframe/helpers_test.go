package wsframe

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/wspath/wspath/capture/packet"
)

// frameSpec describes a frame for encodeFrame.
type frameSpec struct {
	fin, rsv1 bool
	op        uint8
	mask      *[4]byte
	payload   []byte
	lenForm   int // 0: minimal; 16 or 64: force that length encoding
}

// encodeFrame builds a frame's bytes (test helper, independent of the parser's code paths).
func encodeFrame(s frameSpec) []byte {
	var b []byte
	b0 := s.op
	if s.fin {
		b0 |= 0x80
	}
	if s.rsv1 {
		b0 |= 0x40
	}
	b = append(b, b0)
	mbit := byte(0)
	if s.mask != nil {
		mbit = 0x80
	}
	n := len(s.payload)
	switch {
	case s.lenForm == 64 || (s.lenForm == 0 && n > 0xffff):
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	case s.lenForm == 16 || (s.lenForm == 0 && n >= 126):
		b = append(b, mbit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, mbit|byte(n))
	}
	if s.mask != nil {
		b = append(b, s.mask[:]...)
		for i, c := range s.payload {
			b = append(b, c^s.mask[i%4])
		}
		return b
	}
	return append(b, s.payload...)
}

// recorder is a Handler that logs events as text and collects payloads.
type recorder struct {
	events   []string
	frames   []recFrame
	errs     []*FrameError
	inFrame  bool
	badOrder bool
}

type recFrame struct {
	Frame
	payload []byte
	gaps    uint64
	end     packet.Meta
}

func (r *recorder) FrameStart(f Frame) {
	if r.inFrame {
		r.badOrder = true
	}
	r.inFrame = true
	r.frames = append(r.frames, recFrame{Frame: f})
	r.events = append(r.events, fmt.Sprintf("start op=%d fin=%v len=%d off=%d resync=%v", f.Opcode, f.Fin, f.Length, f.Offset, f.Resync))
}

func (r *recorder) Payload(p []byte) {
	if !r.inFrame || len(r.frames) == 0 {
		r.badOrder = true
		return
	}
	f := &r.frames[len(r.frames)-1]
	f.payload = append(f.payload, p...)
}

func (r *recorder) PayloadGap(n uint64) {
	if !r.inFrame {
		r.badOrder = true
		return
	}
	r.frames[len(r.frames)-1].gaps += n
	r.events = append(r.events, fmt.Sprintf("gap %d", n))
}

func (r *recorder) FrameEnd(m packet.Meta) {
	if !r.inFrame {
		r.badOrder = true
		return
	}
	r.inFrame = false
	f := &r.frames[len(r.frames)-1]
	f.end = m
	r.events = append(r.events, fmt.Sprintf("end payload=%q", f.payload))
}

func (r *recorder) Error(err *FrameError) {
	r.errs = append(r.errs, err)
	r.events = append(r.events, fmt.Sprintf("error %v lost=%v", err.Err, err.LostSync))
}

func (r *recorder) String() string { return strings.Join(r.events, "\n") }
