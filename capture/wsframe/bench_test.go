package wsframe

import (
	"bytes"
	"io"
	"testing"

	"github.com/wspath/wspath/capture/packet"
)

// nopHandler discards everything.
type nopHandler struct{ n int }

func (h *nopHandler) FrameStart(Frame)     { h.n++ }
func (h *nopHandler) Payload([]byte)       {}
func (h *nopHandler) PayloadGap(uint64)    {}
func (h *nopHandler) FrameEnd(packet.Meta) {}
func (h *nopHandler) Error(*FrameError)    {}

func BenchmarkParser_Masked1KiB(b *testing.B) {
	var stream []byte
	for i := 0; i < 64; i++ {
		stream = append(stream, encodeFrame(frameSpec{fin: true, op: OpBinary, mask: &testKey, payload: bytes.Repeat([]byte{byte(i)}, 1024)})...)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	h := &nopHandler{}
	p := NewParser(h, Options{Mask: MaskRequired})
	var off uint64
	for b.Loop() {
		for o := 0; o < len(stream); o += 1448 {
			e := min(o+1448, len(stream))
			p.Feed(stream[o:e], off, packet.Meta{})
			off += uint64(e - o)
		}
	}
}

func BenchmarkParser_ResyncRandom(b *testing.B) {
	data := make([]byte, 1448*64)
	for i := range data {
		data[i] = byte(i*2654435761>>13) ^ byte(i>>7)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p := NewParser(&nopHandler{}, Options{MidStream: true})
		for o := 0; o < len(data); o += 1448 {
			p.Feed(data[o:o+1448], uint64(o), packet.Meta{})
		}
		p.End(packet.Meta{})
	}
}

func BenchmarkInflater_Takeover(b *testing.B) {
	msgs := sampleMessages()
	comp := deflateMessages(b, msgs, true)
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		f := NewInflater(InflateOptions{})
		for _, c := range comp {
			f.Write(c)
			if _, err := f.Finish(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}
