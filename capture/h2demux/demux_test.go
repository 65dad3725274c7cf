package h2demux

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// recorder is a Handler that writes every event as a line; with in set, it checks that DATA
// offsets point at the payload in the input.
type recorder struct {
	lines []string
	errs  []*Error
	in    []byte
	bad   []string
}

func (r *recorder) Headers(s packet.Direction, h *Headers) {
	r.lines = append(r.lines, fmt.Sprintf("%s headers %d end=%v %s %s", sender(s), h.Stream, h.EndStream, h.Get(":method")+h.Get(":status"), h.Get(":path")))
}
func (r *recorder) Data(s packet.Direction, id uint32, b []byte, off uint64, end bool, m packet.Meta) {
	r.lines = append(r.lines, fmt.Sprintf("%s data %d %q end=%v", sender(s), id, b, end))
	if r.in != nil && (off+uint64(len(b)) > uint64(len(r.in)) || !bytes.Equal(r.in[off:off+uint64(len(b))], b)) {
		r.bad = append(r.bad, fmt.Sprintf("data %q at offset %d", b, off))
	}
}
func (r *recorder) Reset(s packet.Direction, id uint32, code http2.ErrCode, m packet.Meta) {
	r.lines = append(r.lines, fmt.Sprintf("%s rst %d %v", sender(s), id, code))
}
func (r *recorder) GoAway(s packet.Direction, last uint32, code http2.ErrCode, m packet.Meta) {
	r.lines = append(r.lines, fmt.Sprintf("%s goaway %d %v", sender(s), last, code))
}
func (r *recorder) Error(e *Error) { r.errs = append(r.errs, e) }

// sampleClient returns a client byte stream: preface, SETTINGS, two requests whose second reuses
// HPACK's dynamic table, a padded DATA frame, CONTINUATION, RST_STREAM and GOAWAY.
func sampleClient(t testing.TB) []byte {
	var buf, hb bytes.Buffer
	buf.WriteString(Preface)
	fr := http2.NewFramer(&buf, nil)
	enc := hpack.NewEncoder(&hb)
	block := func(kv ...string) []byte {
		hb.Reset()
		for i := 0; i < len(kv); i += 2 {
			_ = enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return append([]byte(nil), hb.Bytes()...)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 8192}))
	b := block(":method", "CONNECT", ":protocol", "websocket", ":path", "/a", "x-custom", "one")
	must(fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b, EndHeaders: true}))
	b = block(":method", "CONNECT", ":protocol", "websocket", ":path", "/a", "x-custom", "one")
	must(fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b[:2]}))
	must(fr.WriteContinuation(3, true, b[2:]))
	must(fr.WriteDataPadded(1, false, []byte("hello"), make([]byte, 7)))
	must(fr.WriteData(3, true, []byte("bye")))
	must(fr.WriteRSTStream(1, http2.ErrCodeCancel))
	must(fr.WriteGoAway(3, http2.ErrCodeNo, nil))
	return buf.Bytes()
}

func TestDemux_Events(t *testing.T) {
	in := sampleClient(t)
	want := []string{
		"client headers 1 end=false CONNECT /a",
		"client headers 3 end=false CONNECT /a",
		`client data 1 "hello" end=false`,
		`client data 3 "bye" end=true`,
		"client rst 1 CANCEL",
		"client goaway 3 NO_ERROR",
	}
	// Byte by byte and all at once must give the same events.
	for _, chunk := range []int{1, 7, len(in)} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			r := &recorder{in: in}
			d := New(r)
			for off := 0; off < len(in); off += chunk {
				d.Feed(packet.ClientToServer, in[off:min(off+chunk, len(in))], uint64(off), packet.Meta{})
			}
			if len(r.errs) > 0 || len(r.bad) > 0 {
				t.Fatalf("errors: %v %v", r.errs, r.bad)
			}
			if fmt.Sprint(r.lines) != fmt.Sprint(want) {
				t.Errorf("got\n%q\nwant\n%q", r.lines, want)
			}
			if d.Buffered() > 64<<10 {
				t.Errorf("still holds %d bytes", d.Buffered())
			}
		})
	}
}

func TestDemux_Errors(t *testing.T) {
	good := sampleClient(t)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"bad preface", []byte("GET / HTTP/1.1\r\n\r\n"), ErrPreface},
		{"hpack garbage", append([]byte(Preface), 0, 0, 2, 1, 4, 0, 0, 0, 1, 0xff, 0xff), ErrHPACK},
		{"data on stream 0", append([]byte(Preface), 0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'), ErrFraming},
		{"continuation without headers", append([]byte(Preface), 0, 0, 0, 9, 4, 0, 0, 0, 1), ErrFraming},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			d := New(r)
			d.Feed(packet.ClientToServer, tc.in, 0, packet.Meta{})
			if len(r.errs) == 0 || !errors.Is(r.errs[0], tc.want) {
				t.Fatalf("errors %v, want %v", r.errs, tc.want)
			}
			if r.errs[0].Fatal && !d.Dead(packet.ClientToServer) {
				t.Error("fatal error but the side is still read")
			}
		})
	}
	t.Run("gap", func(t *testing.T) {
		r := &recorder{}
		d := New(r)
		d.Feed(packet.ClientToServer, good[:40], 0, packet.Meta{})
		d.Gap(packet.ClientToServer, 40, 10, packet.Meta{})
		d.Feed(packet.ClientToServer, good[50:], 50, packet.Meta{})
		if len(r.errs) != 1 || !errors.Is(r.errs[0], ErrGap) || len(r.lines) != 0 {
			t.Errorf("errors %v, events %v", r.errs, r.lines)
		}
	})
}

// FuzzDemux feeds arbitrary bytes, split at arbitrary points, to both sides: the Demux must not
// panic, must not hold more than a frame and a header block per side, and must report offsets
// within what it was given. Seeds: synthetic streams, and both byte streams of the real h2c
// connection in ../testdata/h2c-client.pcap (Node.js to haproxy, three WebSocket streams).
func FuzzDemux(f *testing.F) {
	client, server := tcpStreams(f, "../testdata/h2c-client.pcap")
	f.Add(client, uint16(1448))
	f.Add(server, uint16(97))
	f.Add(sampleClient(f), uint16(3))
	f.Add(sampleClient(f)[len(Preface):], uint16(1000))
	f.Add([]byte(Preface+"\x00\x00\x00\x04\x00\x00\x00\x00\x00"), uint16(1))
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		r := &recorder{}
		d := New(r)
		chunk := int(split%512) + 1
		for _, s := range []packet.Direction{packet.ClientToServer, packet.ServerToClient} {
			for off := 0; off < len(in); off += chunk {
				d.Feed(s, in[off:min(off+chunk, len(in))], uint64(off), packet.Meta{})
			}
		}
		if d.Buffered() > 2*(maxFrameSize+9+maxHeaderBlock) {
			t.Fatalf("buffers %d bytes", d.Buffered())
		}
		for _, e := range r.errs {
			if e.Offset > uint64(len(in)) {
				t.Fatalf("error offset %d past the input's %d bytes", e.Offset, len(in))
			}
			_ = e.Error()
		}
	})
}

// tcpStreams returns the client and server bytes of the one TCP connection of a clean capture
// (no loss; retransmitted bytes are skipped).
func tcpStreams(tb testing.TB, path string) (client, server []byte) {
	r, err := pcapfile.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var cli tcpdecode.Segment
	next := map[bool]uint32{}
	out := map[bool][]byte{}
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		var seg tcpdecode.Segment
		if tcpdecode.Decode(p.LinkType, p.Data, &seg) != nil {
			continue
		}
		if seg.Flags.Has(tcpdecode.SYN) && !seg.Flags.Has(tcpdecode.ACK) {
			cli = seg
		}
		fromClient := seg.Src == cli.Src && seg.Dst == cli.Dst
		if seg.Flags.Has(tcpdecode.SYN) {
			next[fromClient] = seg.Seq + 1
			continue
		}
		skip := next[fromClient] - seg.Seq // bytes already had, when retransmitted
		if len(seg.Payload) == 0 || int32(skip) < 0 || int(skip) >= len(seg.Payload) {
			continue
		}
		out[fromClient] = append(out[fromClient], seg.Payload[skip:]...)
		next[fromClient] = seg.Seq + uint32(len(seg.Payload))
	}
	if !bytes.HasPrefix(out[true], []byte(Preface)) || len(out[false]) == 0 {
		tb.Fatalf("%s: no HTTP/2 connection (%d client bytes, %d server bytes)", path, len(out[true]), len(out[false]))
	}
	return out[true], out[false]
}
