package wsframe

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/wspath/wspath/capture/packet"
)

var testKey = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}

// sampleStream is a masked client stream with every length encoding, a fragmented message with
// control frames inside, an empty frame and a close.
func sampleStream() ([]byte, []frameSpec) {
	k := &testKey
	specs := []frameSpec{
		{fin: true, op: OpText, mask: k, payload: []byte("hello")},
		{fin: true, op: OpBinary, mask: k, payload: bytes.Repeat([]byte{0xee}, 300)},
		{fin: false, op: OpText, mask: k, payload: []byte("frag-1 ")},
		{fin: true, op: OpPing, mask: k, payload: []byte("p")},
		{fin: false, op: OpContinuation, mask: k, payload: []byte("frag-2 ")},
		{fin: true, op: OpPong, mask: k},
		{fin: true, op: OpContinuation, mask: k, payload: []byte("frag-3")},
		{fin: true, op: OpBinary, mask: k, payload: bytes.Repeat([]byte("0123456789"), 7000)},
		{fin: true, op: OpText, mask: k},
		{fin: true, op: OpClose, mask: k, payload: []byte{0x03, 0xe8, 'o', 'k'}},
	}
	var b []byte
	for _, s := range specs {
		b = append(b, encodeFrame(s)...)
	}
	return b, specs
}

func checkFrames(t *testing.T, r *recorder, specs []frameSpec) {
	t.Helper()
	if r.badOrder {
		t.Fatal("handler calls out of order")
	}
	if len(r.errs) != 0 {
		t.Fatalf("errors: %v", r.errs)
	}
	if len(r.frames) != len(specs) {
		t.Fatalf("%d frames, want %d\n%s", len(r.frames), len(specs), r)
	}
	for i, s := range specs {
		f := r.frames[i]
		if f.Opcode != s.op || f.Fin != s.fin || !bytes.Equal(f.payload, s.payload) || f.gaps != 0 {
			t.Fatalf("frame %d: op %d fin %v payload %d bytes (gaps %d), want op %d fin %v %d bytes",
				i, f.Opcode, f.Fin, len(f.payload), f.gaps, s.op, s.fin, len(s.payload))
		}
	}
}

func TestParser_EverySplit(t *testing.T) {
	stream, specs := sampleStream()
	head := stream[:400] // covers the small frames; the split walks every header byte
	for cut := 0; cut <= len(head); cut++ {
		r := &recorder{}
		p := NewParser(r, Options{Mask: MaskRequired})
		p.Feed(stream[:cut], 0, packet.Meta{Number: 1})
		p.Feed(stream[cut:], uint64(cut), packet.Meta{Number: 2})
		p.End(packet.Meta{Number: 3})
		checkFrames(t, r, specs)
	}
}

func TestParser_ByteAtATime(t *testing.T) {
	stream, specs := sampleStream()
	r := &recorder{}
	p := NewParser(r, Options{Mask: MaskRequired})
	for i := range stream {
		p.Feed(stream[i:i+1], uint64(i), packet.Meta{Number: i + 1})
	}
	p.End(packet.Meta{})
	checkFrames(t, r, specs)
	if r.frames[0].Meta.Number != 6 || r.frames[0].end.Number != 11 {
		t.Errorf("first frame metas: start %d end %d, want 6 and 11", r.frames[0].Meta.Number, r.frames[0].end.Number)
	}
}

func TestParser_RandomChunksAndOverlap(t *testing.T) {
	stream, specs := sampleStream()
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		r := &recorder{}
		p := NewParser(r, Options{})
		off := 0
		for off < len(stream) {
			n := 1 + rng.IntN(3000)
			end := min(off+n, len(stream))
			back := 0
			if off > 0 && rng.IntN(4) == 0 {
				back = min(off, rng.IntN(50)) // retransmitted overlap
			}
			p.Feed(stream[off-back:end], uint64(off-back), packet.Meta{})
			off = end
		}
		p.End(packet.Meta{})
		checkFrames(t, r, specs)
	}
}

func TestParser_Offsets(t *testing.T) {
	stream, specs := sampleStream()
	r := &recorder{}
	p := NewParser(r, Options{})
	p.Feed(stream, 1000, packet.Meta{})
	want := uint64(1000)
	for i, f := range r.frames {
		if f.Offset != want {
			t.Fatalf("frame %d offset %d, want %d", i, f.Offset, want)
		}
		want += uint64(len(encodeFrame(specs[i])))
	}
}

func TestParser_ProtocolErrors(t *testing.T) {
	k := &testKey
	tests := []struct {
		name     string
		frames   []frameSpec
		raw      []byte // appended after frames
		opts     Options
		wantErr  error
		lostSync bool
		nFrames  int
	}{
		{name: "continuation without start", frames: []frameSpec{{fin: true, op: OpContinuation, payload: []byte("x")}},
			wantErr: ErrUnexpectedContinuation, nFrames: 1},
		{name: "new data inside fragmented", frames: []frameSpec{{op: OpText, payload: []byte("a")}, {fin: true, op: OpText, payload: []byte("b")}},
			wantErr: ErrExpectedContinuation, nFrames: 2},
		{name: "control inside fragmented is fine", frames: []frameSpec{{op: OpText, payload: []byte("a")}, {fin: true, op: OpPing}, {fin: true, op: OpContinuation, payload: []byte("b")}},
			nFrames: 3},
		{name: "unmasked client frame", frames: []frameSpec{{fin: true, op: OpText, payload: []byte("a")}}, opts: Options{Mask: MaskRequired},
			wantErr: ErrMask, nFrames: 1},
		{name: "masked server frame", frames: []frameSpec{{fin: true, op: OpText, mask: k, payload: []byte("a")}}, opts: Options{Mask: MaskForbidden},
			wantErr: ErrMask, nFrames: 1},
		{name: "fragmented ping", raw: []byte{0x09, 0x01, 'x'}, wantErr: ErrControlFragmented, nFrames: 1},
		{name: "long ping", raw: append([]byte{0x89, 126, 0, 200}, make([]byte, 200)...), wantErr: ErrControlTooLong, nFrames: 1},
		{name: "non-minimal length", raw: []byte{0x82, 126, 0, 1, 'x'}, wantErr: ErrNonMinimalLength, nFrames: 1},
		{name: "reserved opcode loses sync", raw: []byte{0x83, 0x01, 'x'}, wantErr: ErrReservedOpcode, lostSync: true},
		{name: "64-bit MSB loses sync", raw: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, wantErr: ErrLengthMSB, lostSync: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			for _, s := range tt.frames {
				b = append(b, encodeFrame(s)...)
			}
			b = append(b, tt.raw...)
			r := &recorder{}
			p := NewParser(r, tt.opts)
			p.Feed(b, 0, packet.Meta{})
			p.End(packet.Meta{})
			if tt.wantErr == nil {
				if len(r.errs) != 0 {
					t.Fatalf("errors: %v", r.errs)
				}
			} else {
				if len(r.errs) == 0 || !errors.Is(r.errs[0], tt.wantErr) {
					t.Fatalf("errors %v, want %v\n%s", r.errs, tt.wantErr, r)
				}
				if r.errs[0].LostSync != tt.lostSync || !r.errs[0].Protocol() {
					t.Errorf("LostSync = %v, Protocol = %v", r.errs[0].LostSync, r.errs[0].Protocol())
				}
			}
			if len(r.frames) != tt.nFrames || r.badOrder {
				t.Errorf("%d frames (bad order %v), want %d\n%s", len(r.frames), r.badOrder, tt.nFrames, r)
			}
		})
	}
}

func TestParser_GapInPayloadStaysInSync(t *testing.T) {
	k := &testKey
	a := encodeFrame(frameSpec{fin: true, op: OpText, mask: k, payload: []byte("0123456789abcdef")})
	b := encodeFrame(frameSpec{fin: true, op: OpText, mask: k, payload: []byte("next")})
	stream := append(append([]byte(nil), a...), b...)
	r := &recorder{}
	p := NewParser(r, Options{})
	p.Feed(stream[:9], 0, packet.Meta{Number: 1})   // header (6) + "012"
	p.Gap(9, 5)                                     // "34567" lost
	p.Feed(stream[14:], 14, packet.Meta{Number: 3}) // "89abcdef" + next frame
	p.End(packet.Meta{})
	if len(r.errs) != 0 || len(r.frames) != 2 {
		t.Fatalf("errs %v frames %d\n%s", r.errs, len(r.frames), r)
	}
	if got := string(r.frames[0].payload); got != "01289abcdef" || r.frames[0].gaps != 5 {
		t.Errorf("payload %q gaps %d: mask phase lost?", got, r.frames[0].gaps)
	}
	if string(r.frames[1].payload) != "next" || r.frames[1].Resync {
		t.Errorf("second frame %+v", r.frames[1])
	}
}

func TestParser_ImplicitGapByOffsetJump(t *testing.T) {
	a := encodeFrame(frameSpec{fin: true, op: OpBinary, payload: bytes.Repeat([]byte{'x'}, 100)})
	r := &recorder{}
	p := NewParser(r, Options{})
	p.Feed(a[:50], 0, packet.Meta{})
	p.Feed(a[60:], 60, packet.Meta{})
	p.End(packet.Meta{})
	if len(r.frames) != 1 || r.frames[0].gaps != 10 || len(r.frames[0].payload) != 90 {
		t.Fatalf("%s", r)
	}
}

func TestParser_EndInsideFrame(t *testing.T) {
	a := encodeFrame(frameSpec{fin: true, op: OpBinary, payload: bytes.Repeat([]byte{'x'}, 100)})
	r := &recorder{}
	p := NewParser(r, Options{})
	p.Feed(a[:30], 0, packet.Meta{})
	p.End(packet.Meta{Number: 9})
	if len(r.frames) != 1 || r.frames[0].gaps != 72 || r.frames[0].end.Number != 9 {
		t.Fatalf("%s", r)
	}
	r = &recorder{}
	p = NewParser(r, Options{})
	p.Feed([]byte{0x82, 126, 0}, 0, packet.Meta{})
	p.End(packet.Meta{})
	if len(r.errs) != 1 || !errors.Is(r.errs[0], ErrTruncated) || r.errs[0].Protocol() {
		t.Fatalf("%s", r)
	}
}

// segmented cuts a stream of frames into TCP-like segments: one frame per segment, large frames
// split at mss.
func segmented(frames [][]byte, mss int) (stream []byte, segs [][2]int) {
	for _, f := range frames {
		start := len(stream)
		stream = append(stream, f...)
		for o := start; o < len(stream); o += mss {
			segs = append(segs, [2]int{o, min(o+mss, len(stream))})
		}
	}
	return stream, segs
}

func textFrames(n int, masked bool, rng *rand.Rand) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		s := frameSpec{fin: true, op: OpText, payload: bytes.Repeat([]byte{byte('a' + i%26)}, 1+rng.IntN(3000))}
		if masked {
			k := [4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}
			s.mask = &k
		}
		out = append(out, encodeFrame(s))
	}
	return out
}

func TestParser_GapInHeaderResyncs(t *testing.T) {
	for _, masked := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(3, 4))
		frames := textFrames(20, masked, rng)
		stream, segs := segmented(frames, 1448)
		// Lose the segment holding the 5th frame's header.
		lost := -1
		start := 0
		for i := 0; i < 4; i++ {
			start += len(frames[i])
		}
		r := &recorder{}
		p := NewParser(r, Options{})
		for i, s := range segs {
			if s[0] == start {
				lost = i
				p.Gap(uint64(s[0]), uint64(s[1]-s[0]))
				continue
			}
			p.Feed(stream[s[0]:s[1]], uint64(s[0]), packet.Meta{Number: i + 1})
		}
		p.End(packet.Meta{})
		if lost < 0 || len(r.errs) != 1 || !errors.Is(r.errs[0], ErrLostSync) {
			t.Fatalf("masked=%v lost=%d errs %v", masked, lost, r.errs)
		}
		// Frames 0-3 complete, frame 4 lost (maybe entirely), then frames found again.
		var got []int
		resyncs := 0
		for _, f := range r.frames {
			got = append(got, len(f.payload))
			if f.Resync {
				resyncs++
			}
		}
		if resyncs != 1 {
			t.Errorf("masked=%v: %d resync frames", masked, resyncs)
		}
		found := 0
		for _, f := range r.frames {
			if f.gaps == 0 && f.Length > 0 {
				found++
			}
		}
		if found < 18 {
			t.Errorf("masked=%v: only %d of 19 frames recovered: %v", masked, found, got)
		}
	}
}

func TestParser_MidStream(t *testing.T) {
	for _, masked := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(5, 6))
		frames := textFrames(30, masked, rng)
		stream, segs := segmented(frames, 1448)
		// Start 3 segments in, which may be in the middle of a frame.
		r := &recorder{}
		p := NewParser(r, Options{MidStream: true})
		for i, s := range segs[3:] {
			p.Feed(stream[s[0]:s[1]], uint64(s[0]), packet.Meta{Number: i + 1})
		}
		p.End(packet.Meta{})
		if r.badOrder || len(r.errs) != 0 {
			t.Fatalf("errs %v", r.errs)
		}
		if len(r.frames) < 25 || !r.frames[0].Resync {
			t.Fatalf("masked=%v: %d frames found\n%s", masked, len(r.frames), r)
		}
		// Every frame found must be one of the real frames, at its real offset.
		real := map[uint64]int{}
		o := 0
		for i, f := range frames {
			real[uint64(o)] = i
			o += len(f)
		}
		for _, f := range r.frames {
			if _, ok := real[f.Offset]; !ok {
				t.Fatalf("masked=%v: false frame at %d", masked, f.Offset)
			}
		}
	}
}

// TestParser_RandomBytesFindNothing checks that resynchronisation rarely accepts a position in
// random bytes (the bytes of TLS records or of a compressed body look like this).
func TestParser_RandomBytesFindNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	total := 0
	const streams = 64
	for s := 0; s < streams; s++ {
		r := &recorder{}
		p := NewParser(r, Options{MidStream: true})
		var off uint64
		for i := 0; i < 200; i++ {
			n := 1 + rng.IntN(1448)
			if rng.IntN(2) == 0 {
				n = 1448
			}
			b := make([]byte, n)
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			p.Feed(b, off, packet.Meta{})
			off += uint64(n)
		}
		p.End(packet.Meta{})
		total += len(r.frames)
		if r.badOrder {
			t.Fatal("bad order")
		}
	}
	if total > 0 {
		t.Errorf("%d false frames in %d random streams of ~200 segments", total, streams)
	}
}

// TestParser_TLSRecordsFindNothing feeds TLS application-data records (header 17 03 03 + random
// ciphertext), one or two per segment, as an undecrypted hop would look.
func TestParser_TLSRecordsFindNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	total := 0
	for s := 0; s < 64; s++ {
		var stream []byte
		for i := 0; i < 300; i++ {
			n := 20 + rng.IntN(2000)
			stream = append(stream, 0x17, 0x03, 0x03, byte(n>>8), byte(n))
			for j := 0; j < n; j++ {
				stream = append(stream, byte(rng.Uint32()))
			}
		}
		r := &recorder{}
		p := NewParser(r, Options{MidStream: true})
		for o := 0; o < len(stream); o += 1448 {
			e := min(o+1448, len(stream))
			p.Feed(stream[o:e], uint64(o), packet.Meta{})
		}
		p.End(packet.Meta{})
		total += len(r.frames)
	}
	if total > 0 {
		t.Errorf("%d false frames in TLS records", total)
	}
}

func TestParser_Buffered(t *testing.T) {
	p := NewParser(&nopHandler{}, Options{MidStream: true, ResyncBuffer: 4096})
	if p.Buffered() != 0 {
		t.Fatalf("new parser holds %d bytes", p.Buffered())
	}
	junk := bytes.Repeat([]byte{0xff, 0xfe, 0xfd}, 1000)
	for off := 0; off < 30000; off += len(junk) {
		p.Feed(junk, uint64(off), packet.Meta{})
		if b := p.Buffered(); b == 0 || b > 2*4096+len(junk) {
			t.Fatalf("at %d: Buffered() = %d", off, b)
		}
	}
}

// lengthRecorder is a recorder that wants only the length of text frames' payload.
type lengthRecorder struct {
	recorder
}

func (r *lengthRecorder) LengthOnly() bool {
	return r.frames[len(r.frames)-1].Opcode == OpText
}

// TestParser_LengthOnly checks that a handler answering LengthOnly gets that frame's payload as
// it was on the wire (masked), with the same length, and the other frames unmasked.
func TestParser_LengthOnly(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	text := []byte("hello, a masked text frame")
	bin := []byte("and a binary one")
	var stream []byte
	stream = append(stream, encodeFrame(frameSpec{fin: true, op: OpText, mask: &key, payload: text})...)
	stream = append(stream, encodeFrame(frameSpec{fin: true, op: OpBinary, mask: &key, payload: bin})...)
	var r lengthRecorder
	p := NewParser(&r, Options{Mask: MaskRequired})
	for i := 0; i < len(stream); i += 5 { // in small chunks: the mask phase must not matter
		p.Feed(stream[i:min(i+5, len(stream))], uint64(i), packet.Meta{})
	}
	if len(r.frames) != 2 || r.badOrder {
		t.Fatalf("got %d frames (bad order %v), want 2:\n%s", len(r.frames), r.badOrder, &r)
	}
	wire := encodeFrame(frameSpec{fin: true, op: OpText, mask: &key, payload: text})
	if got, want := r.frames[0].payload, wire[len(wire)-len(text):]; !bytes.Equal(got, want) {
		t.Errorf("length-only frame: payload %q, want the masked wire bytes %q", got, want)
	}
	if got := r.frames[1].payload; !bytes.Equal(got, bin) {
		t.Errorf("other frame: payload %q, want it unmasked %q", got, bin)
	}
}
