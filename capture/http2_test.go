package capture

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2writer encodes the frames of one side of an HTTP/2 connection with x/net's Framer and HPACK
// encoder (the dynamic table in use: repeated headers become indexed references).
type h2writer struct {
	buf bytes.Buffer
	fr  *http2.Framer
	hb  bytes.Buffer
	enc *hpack.Encoder
}

func newH2Writer() *h2writer {
	w := &h2writer{}
	w.fr = http2.NewFramer(&w.buf, nil)
	w.enc = hpack.NewEncoder(&w.hb)
	return w
}

// take returns and clears what was written.
func (w *h2writer) take() []byte {
	b := append([]byte(nil), w.buf.Bytes()...)
	w.buf.Reset()
	return b
}

// headers writes a header block; with split it goes out as HEADERS plus a CONTINUATION frame.
func (w *h2writer) headers(t testing.TB, stream uint32, end, split bool, kv ...string) {
	t.Helper()
	w.hb.Reset()
	for i := 0; i < len(kv); i += 2 {
		if err := w.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}); err != nil {
			t.Fatal(err)
		}
	}
	block := w.hb.Bytes()
	first := block
	if split {
		first = block[:len(block)/2]
	}
	if err := w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: first,
		EndStream: end, EndHeaders: !split}); err != nil {
		t.Fatal(err)
	}
	if split {
		if err := w.fr.WriteContinuation(stream, true, block[len(block)/2:]); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *h2writer) data(t testing.TB, stream uint32, end bool, b []byte) {
	t.Helper()
	if err := w.fr.WriteData(stream, end, b); err != nil {
		t.Fatal(err)
	}
}

func connectHeaders(path string) []string {
	return []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", path,
		":authority", "chat.test", "sec-websocket-version", "13", "sec-websocket-protocol", "chat",
		"x-forwarded-for", "192.0.2.7", "cookie", "secret=1"}
}

// TestRead_HTTP2 reads two WebSocket streams and an ordinary request multiplexed on one h2c
// connection: DATA frames interleaved, a message split over two DATA frames, headers split over
// CONTINUATION, one stream ended by RST_STREAM.
func TestRead_HTTP2(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
		cli, srv := newH2Writer(), newH2Writer()
		if err := srv.fr.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1}); err != nil {
			t.Fatal(err)
		}
		conn.send(false, srv.take()) // the server's SETTINGS before the client's preface
		if err := cli.fr.WriteSettings(); err != nil {
			t.Fatal(err)
		}
		cli.headers(t, 1, false, false, connectHeaders("/ws/a")...)
		cli.headers(t, 3, false, true, connectHeaders("/ws/b")...)
		cli.headers(t, 5, true, false, ":method", "GET", ":scheme", "http", ":path", "/index.html", ":authority", "chat.test")
		conn.send(true, append([]byte(http2.ClientPreface), cli.take()...))
		srv.headers(t, 1, false, false, ":status", "200", "sec-websocket-protocol", "chat")
		srv.headers(t, 3, false, false, ":status", "200", "sec-websocket-protocol", "chat")
		srv.headers(t, 5, false, false, ":status", "200", "content-type", "text/html")
		srv.data(t, 5, true, frame(0x1, true, false, false, []byte("not a websocket stream")))
		conn.send(false, srv.take())
		for i := range 3 {
			for _, st := range []uint32{1, 3} {
				f := frame(0x1, true, false, true, fmt.Appendf(nil, "c2s stream %d msg %d", st, i))
				cli.data(t, st, false, f[:5])
				cli.data(t, st, false, f[5:])
				srv.data(t, st, false, frame(0x2, true, false, false, fmt.Appendf(nil, "s2c stream %d msg %d", st, i)))
			}
			conn.send(true, cli.take())
			conn.send(false, srv.take())
		}
		cli.data(t, 1, false, frame(0x8, true, false, true, []byte{0x03, 0xe8}))
		conn.send(true, cli.take())
		srv.data(t, 1, true, frame(0x8, true, false, false, []byte{0x03, 0xe8}))
		conn.send(false, srv.take())
		cli.data(t, 1, true, nil)
		if err := cli.fr.WriteRSTStream(3, http2.ErrCodeCancel); err != nil {
			t.Fatal(err)
		}
		conn.send(true, cli.take())
		conn.fin(true)
		conn.fin(false)
	})
	if len(c.Sessions) != 2 {
		t.Fatalf("got %d sessions, want 2 (warnings %v)", len(c.Sessions), c.Warnings)
	}
	for i, want := range []struct {
		path   string
		stream uint32
		ending Ending
	}{{"/ws/a", 1, ClosedClean}, {"/ws/b", 3, Reset}} {
		s := c.Sessions[i]
		if s.Path() != want.path || s.HTTP2() == nil || s.HTTP2().StreamID != want.stream || s.Ending != want.ending {
			t.Errorf("session %d: path %q http2 %+v ending %v, want %q stream %d %v", i, s.Path(), s.HTTP2(), s.Ending, want.path, want.stream, want.ending)
			continue
		}
		if s.Request.Method != "CONNECT" || s.Request.Host != "chat.test" || s.Response.Status != 200 ||
			s.Response.Protocol != "chat" || s.Request.Headers["X-Forwarded-For"] != "192.0.2.7" || s.Request.Headers["Cookie"] != "" {
			t.Errorf("session %d: request %+v response %+v", i, s.Request, s.Response)
		}
		for _, d := range Directions {
			msgs := dataMessages(s, d)
			if len(msgs) != 3 {
				t.Errorf("session %d %v: %d messages, want 3 (problems %v)", i, d, len(msgs), s.Problems())
				continue
			}
			for j, m := range msgs {
				prefix := "c2s"
				if d == ServerToClient {
					prefix = "s2c"
				}
				want := sha256.Sum256(fmt.Appendf(nil, "%s stream %d msg %d", prefix, want.stream, j))
				if m.Digest != Digest(want) {
					t.Errorf("session %d %v message %d: digest %v", i, d, j, m.Digest.Short())
				}
				if m.End <= m.Offset || m.End > s.TCP[d].Bytes+uint64(len(http2.ClientPreface)) {
					t.Errorf("session %d %v message %d: offsets %d-%d outside the connection's %d bytes", i, d, j, m.Offset, m.End, s.TCP[d].Bytes)
				}
			}
		}
		if len(s.Problems()) > 0 {
			t.Errorf("session %d problems: %v", i, s.Problems())
		}
	}
	if r := c.Sessions[1].HTTP2().Reset; r == nil || r.Code != "CANCEL" || r.Direction != ClientToServer {
		t.Errorf("stream 3 reset: %+v", r)
	}
}

// TestRead_HTTP2Gap: bytes missing from the client's side stop the reading of its HTTP/2 frames;
// the streams keep what came before and say why the rest is missing.
func TestRead_HTTP2Gap(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
		cli, srv := newH2Writer(), newH2Writer()
		_ = cli.fr.WriteSettings()
		cli.headers(t, 1, false, false, connectHeaders("/ws/a")...)
		conn.send(true, append([]byte(http2.ClientPreface), cli.take()...))
		_ = srv.fr.WriteSettings()
		srv.headers(t, 1, false, false, ":status", "200")
		conn.send(false, srv.take())
		cli.data(t, 1, false, frame(0x1, true, false, true, []byte("before")))
		conn.send(true, cli.take())
		cli.data(t, 1, false, frame(0x1, true, false, true, bytes.Repeat([]byte("x"), 3000)))
		cli.data(t, 1, false, frame(0x1, true, false, true, []byte("after")))
		conn.sendSkip(true, cli.take(), 0)
		conn.fin(true)
	})
	s := onlySession(t, c)
	if got := dataMessages(s, ClientToServer); len(got) != 1 || string(got[0].Preview) != "before" {
		t.Errorf("messages %v", got)
	}
	found := false
	for _, p := range s.Problems() {
		found = found || p.Kind == ProblemTruncated && bytes.Contains([]byte(p.Message), []byte("HTTP/2"))
	}
	if !found {
		t.Errorf("no truncation problem: %v", s.Problems())
	}
}

// TestRead_HTTP2Capture reads the real h2c capture in testdata (see its README): three WebSocket
// streams of one connection, each with its path and stream id, 12 data messages each way.
func TestRead_HTTP2Capture(t *testing.T) {
	c, err := Read([]string{"testdata/h2c-client.pcap"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sessions) != 3 {
		t.Fatalf("%d sessions, want 3", len(c.Sessions))
	}
	for i, s := range c.Sessions {
		path, id := fmt.Sprintf("/chat/%d", i+1), uint32(3+2*i)
		if s.Path() != path || s.HTTP2() == nil || s.HTTP2().StreamID != id || s.Request.Method != "CONNECT" || s.Response.Status != 200 {
			t.Errorf("session %d: path %q http2 %+v", i, s.Path(), s.HTTP2())
		}
		for _, d := range Directions {
			if n := len(dataMessages(s, d)); n != 12 {
				t.Errorf("session %d %v: %d data messages, want 12", i, d, n)
			}
		}
		if s.Client != c.Sessions[0].Client {
			t.Errorf("session %d on %v, not the one connection %v", i, s.Client, c.Sessions[0].Client)
		}
	}
}

// FuzzHTTP2 reads a capture of one h2c connection whose client bytes (after the preface) and
// server bytes are the input: WebSocket streams made of arbitrary frames must neither panic nor
// break the bounds, and every session found must be an HTTP/2 stream.
func FuzzHTTP2(f *testing.F) {
	cli, srv := newH2Writer(), newH2Writer()
	_ = cli.fr.WriteSettings()
	cli.headers(f, 1, false, true, connectHeaders("/ws")...)
	cli.data(f, 1, false, frame(0x1, true, false, true, []byte("hello")))
	_ = cli.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	_ = srv.fr.WriteSettings()
	srv.headers(f, 1, false, false, ":status", "200", "sec-websocket-extensions", "permessage-deflate")
	srv.data(f, 1, true, frame(0x2, true, false, false, []byte("world")))
	f.Add(cli.take(), srv.take())
	f.Fuzz(func(t *testing.T, client, server []byte) {
		if len(client)+len(server) > 1<<16 {
			return
		}
		c := readSynth(t, func(s *synth) {
			conn := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
			conn.send(true, append([]byte(http2.ClientPreface), client...))
			if len(server) > 0 {
				conn.send(false, server)
			}
			conn.fin(true)
		})
		for _, s := range c.Sessions {
			if s.HTTP2() == nil || s.Request == nil || s.Request.Method != "CONNECT" {
				t.Fatalf("session %+v is not an HTTP/2 stream", s)
			}
			for _, d := range Directions {
				for _, m := range s.Messages(d) {
					if m.End < m.Offset {
						t.Fatalf("message offsets %d-%d", m.Offset, m.End)
					}
				}
			}
		}
	})
}
