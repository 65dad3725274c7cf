package wsframe

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wspath/wspath/capture/packet"
)

// TestParser_ShortTailAfterHole checks the frames found between a capture hole and the end of
// the stream or the next hole, too few to score a chain (a last message, a close frame): found
// when they fill the segments after the hole exactly and their payload is what the opcode
// requires, never otherwise. tshark reads such frames too (it dissects each segment after a
// hole as a new PDU); the capture-drops lab runs have them at the capture made to drop packets.
func TestParser_ShortTailAfterHole(t *testing.T) {
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	text := func(s string, masked bool) []byte {
		f := frameSpec{fin: true, op: OpText, payload: []byte(s)}
		if masked {
			f.mask = &key
		}
		return encodeFrame(f)
	}
	closeFrame := func(code uint16, masked bool) []byte {
		f := frameSpec{fin: true, op: OpClose, payload: []byte{byte(code >> 8), byte(code), 'b', 'y', 'e'}}
		if masked {
			f.mask = &key
		}
		return encodeFrame(f)
	}
	before := [][]byte{text(`{"type":"chat","n":1}`, true), text(`{"type":"chat","n":2}`, true)}
	big := encodeFrame(frameSpec{fin: true, op: OpBinary, mask: &key, payload: bytes.Repeat([]byte{0x81, 0x0c, 0x02, 0x7f}, 700)})
	tests := []struct {
		name  string
		opts  Options
		after [][]byte // segments after the hole; nil separates two holes
		want  []string // payloads of the frames found after the hole
		// midStream: the capture begins with after's bytes (no frames before, no hole).
		midStream bool
	}{
		{name: "close frame", opts: Options{Mask: MaskRequired}, after: [][]byte{closeFrame(1000, true)}, want: []string{"\x03\xe8bye"}},
		{name: "message and close in one segment", opts: Options{Mask: MaskRequired},
			after: [][]byte{append(text("last", true), closeFrame(1000, true)...)}, want: []string{"last", "\x03\xe8bye"}},
		{name: "server frame", opts: Options{Mask: MaskForbidden}, after: [][]byte{text("hi", false)}, want: []string{"hi"}},
		{name: "one frame between two holes", opts: Options{Mask: MaskRequired},
			after: [][]byte{text("a", true), nil, text("b", true)}, want: []string{"a", "b"}},
		{name: "frame in two segments", opts: Options{Mask: MaskRequired},
			after: [][]byte{text("split here", true)[:8], text("split here", true)[8:]}, want: []string{"split here"}},
		{name: "tail of a frame whose header was lost", opts: Options{Mask: MaskRequired}, after: [][]byte{big[700:]}},
		{name: "bytes beyond the segment", opts: Options{Mask: MaskRequired}, after: [][]byte{text("truncated", true)[:9]}},
		{name: "invalid close code", opts: Options{Mask: MaskRequired}, after: [][]byte{closeFrame(999, true)}},
		{name: "text not UTF-8", opts: Options{Mask: MaskRequired}, after: [][]byte{text("\xff\xfe", true)}},
		{name: "masking against the direction", opts: Options{Mask: MaskRequired}, after: [][]byte{text("x", false)}},
		{name: "RSV1 without an extension", opts: Options{Mask: MaskRequired, NoRSV1: true},
			after: [][]byte{encodeFrame(frameSpec{fin: true, rsv1: true, op: OpBinary, mask: &key, payload: []byte{1, 2}})}},
		{name: "RSV1 with permessage-deflate", opts: Options{Mask: MaskRequired},
			after: [][]byte{encodeFrame(frameSpec{fin: true, rsv1: true, op: OpBinary, mask: &key, payload: []byte{1, 2}})},
			want:  []string{"\x01\x02"}},
		{name: "masking unknown (capture began mid-stream)", opts: Options{MidStream: true}, midStream: true,
			after: [][]byte{closeFrame(1000, true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			p := NewParser(r, tt.opts)
			var off uint64
			segs := append([][]byte{nil}, tt.after...)
			known := len(before)
			if tt.midStream {
				segs, known = tt.after, 0
			} else {
				for _, f := range before {
					p.Feed(f, off, packet.Meta{})
					off += uint64(len(f))
				}
			}
			for _, seg := range segs {
				if seg == nil {
					p.Gap(off, 500)
					off += 500
					continue
				}
				p.Feed(seg, off, packet.Meta{})
				off += uint64(len(seg))
			}
			p.End(packet.Meta{})
			if r.badOrder {
				t.Fatal("handler calls out of order")
			}
			var got []string
			if len(r.frames) < known {
				t.Fatalf("%d frames before the hole, want %d", len(r.frames), known)
			}
			for _, f := range r.frames[known:] {
				got = append(got, string(f.payload))
				if f.gaps != 0 {
					t.Errorf("frame at %d: %d payload bytes not captured", f.Offset, f.gaps)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("frames after the hole %q, want %q\n%s", got, tt.want, r)
			}
		})
	}
}

// TestParser_ShortTailAfterHoleRandom feeds random bytes after a hole, as the tail of a binary
// frame whose header the hole swallowed looks, in a direction whose masking is known, and
// counts the frames made up from them. The bound is the measured number for these seeds: a
// rise means the last-chance acceptance got looser.
func TestParser_ShortTailAfterHoleRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const trials = 20000
	falses := 0
	for i := 0; i < trials; i++ {
		r := &recorder{}
		p := NewParser(r, Options{Mask: []MaskRule{MaskRequired, MaskForbidden}[i%2], NoRSV1: i%4 < 2})
		p.Gap(0, 1000)
		off := uint64(1000)
		for s := 0; s < 1+rng.IntN(2); s++ {
			b := make([]byte, 1+rng.IntN(300))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			p.Feed(b, off, packet.Meta{})
			off += uint64(len(b))
		}
		p.End(packet.Meta{})
		if len(r.frames) > 0 {
			falses++
		}
	}
	t.Logf("%d of %d random tails read as frames", falses, trials)
	if falses > 4 {
		t.Errorf("%d of %d random tails after a hole read as frames", falses, trials)
	}
}
