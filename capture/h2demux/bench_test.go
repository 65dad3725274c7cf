package h2demux

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wspath/wspath/capture/packet"
)

// nopHandler discards every event.
type nopHandler struct{}

func (nopHandler) Headers(packet.Direction, *Headers)                               {}
func (nopHandler) Data(packet.Direction, uint32, []byte, uint64, bool, packet.Meta) {}
func (nopHandler) Reset(packet.Direction, uint32, http2.ErrCode, packet.Meta)       {}
func (nopHandler) GoAway(packet.Direction, uint32, http2.ErrCode, packet.Meta)      {}
func (nopHandler) Error(*Error)                                                     {}

// BenchmarkDemux measures the demultiplexing of a client stream of 100 WebSocket streams' DATA
// frames (200-byte payloads, the size of chat messages), fed in 1448-byte packets.
func BenchmarkDemux(b *testing.B) {
	var buf, hb bytes.Buffer
	buf.WriteString(Preface)
	fr := http2.NewFramer(&buf, nil)
	enc := hpack.NewEncoder(&hb)
	for id := uint32(1); id < 200; id += 2 {
		hb.Reset()
		for _, f := range []hpack.HeaderField{{Name: ":method", Value: "CONNECT"}, {Name: ":protocol", Value: "websocket"}, {Name: ":path", Value: "/chat"}} {
			_ = enc.WriteField(f)
		}
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true})
	}
	payload := bytes.Repeat([]byte("x"), 200)
	for i := 0; i < 5000; i++ {
		_ = fr.WriteData(uint32(1+2*(i%100)), false, payload)
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		d := New(nopHandler{})
		for off := 0; off < len(in); off += 1448 {
			d.Feed(packet.ClientToServer, in[off:min(off+1448, len(in))], uint64(off), packet.Meta{})
		}
	}
}
