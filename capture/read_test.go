package capture

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wspath/wspath/capture/handshake"
)

func readSynth(t *testing.T, build func(s *synth)) *Capture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.pcap")
	s := newSynth(t, path)
	build(s)
	s.close()
	c, err := Read([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func onlySession(t *testing.T, c *Capture) *Session {
	t.Helper()
	if len(c.Sessions) != 1 {
		t.Fatalf("got %d sessions, want 1 (warnings %v)", len(c.Sessions), c.Warnings)
	}
	return c.Sessions[0]
}

func dataMessages(s *Session, d Direction) []Message {
	var out []Message
	for _, m := range s.Messages(d) {
		if m.Opcode.IsData() || m.Opcode == OpContinuation {
			out = append(out, m)
		}
	}
	return out
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

func TestRead_Handshake(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.upgrade(testKey, "")
		conn.send(true, frame(0x1, true, false, true, []byte(`{"seq":1}`)))
		conn.send(false, frame(0x1, true, false, false, []byte(`{"seq":1,"echo":true}`)))
		conn.send(true, frame(0x8, true, false, true, []byte{0x03, 0xe8, 'b', 'y', 'e'}))
		conn.send(false, frame(0x8, true, false, false, []byte{0x03, 0xe8}))
		conn.fin(false)
		conn.fin(true)
	})
	s := onlySession(t, c)
	if s.Key() != testKey || s.Path() != "/chat" || s.Request.Host != "example.test" {
		t.Errorf("handshake: key %q path %q host %q", s.Key(), s.Path(), s.Request.Host)
	}
	if s.Response == nil || s.Response.Status != 101 || !s.Response.AcceptValid {
		t.Errorf("response: %+v", s.Response)
	}
	if _, ok := s.Request.Headers["Cookie"]; ok {
		t.Error("the Cookie header was stored")
	}
	if s.Request.Headers["X-Forwarded-For"] != "192.0.2.7" {
		t.Errorf("headers: %v", s.Request.Headers)
	}
	if s.Client.String() != "10.0.0.1:40000" || s.Server.String() != "10.0.0.2:8080" {
		t.Errorf("client %v server %v", s.Client, s.Server)
	}
	c2s := dataMessages(s, ClientToServer)
	if len(c2s) != 1 || c2s[0].Digest != sha256.Sum256([]byte(`{"seq":1}`)) || string(c2s[0].Preview) != `{"seq":1}` {
		t.Errorf("client messages: %+v", c2s)
	}
	if len(dataMessages(s, ServerToClient)) != 1 {
		t.Errorf("server messages: %+v", s.Messages(ServerToClient))
	}
	if s.Close(ClientToServer) == nil || s.Close(ClientToServer).Code != 1000 || s.Close(ClientToServer).Reason != "bye" {
		t.Errorf("close: %+v", s.Close(ClientToServer))
	}
	if s.Ending != ClosedClean {
		t.Errorf("ending %v, want close", s.Ending)
	}
}

func TestRead_FragmentedWithPing(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.upgrade(testKey, "")
		var b []byte
		b = append(b, frame(0x1, false, false, true, []byte("hel"))...)
		b = append(b, frame(0x9, true, false, true, []byte("ping"))...)
		b = append(b, frame(0x0, false, false, true, []byte("lo "))...)
		b = append(b, frame(0x0, true, false, true, []byte("world"))...)
		conn.send(true, b)
	})
	s := onlySession(t, c)
	msgs := s.Messages(ClientToServer)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want ping then text: %+v", len(msgs), msgs)
	}
	if msgs[0].Opcode != OpPing || msgs[1].Opcode != OpText || msgs[1].Frames != 3 ||
		msgs[1].Digest != sha256.Sum256([]byte("hello world")) {
		t.Errorf("messages: %+v", msgs)
	}
}

func TestRead_LargeMessageAcrossSegmentsAndWrap(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160 KB: 64-bit length, many segments
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.upgrade(testKey, "")
		conn.send(false, frame(0x2, true, false, false, big)) // the server's sequence numbers wrap
	})
	m := dataMessages(onlySession(t, c), ServerToClient)
	if len(m) != 1 || m[0].Length != int64(len(big)) || m[0].Digest != sha256.Sum256(big) || m[0].Flags != 0 {
		t.Errorf("got %+v", m)
	}
}

func TestRead_GapKeepsSync(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 5000)
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.upgrade(testKey, "")
		conn.sendSkip(true, frame(0x2, true, false, true, big), 1) // the second segment is not captured
		conn.send(true, frame(0x1, true, false, true, []byte("after")))
	})
	s := onlySession(t, c)
	m := dataMessages(s, ClientToServer)
	if len(m) != 2 || !m[0].Flags.Has(Incomplete) || !m[0].Digest.IsZero() || m[1].Digest != sha256.Sum256([]byte("after")) {
		t.Fatalf("messages: %+v", m)
	}
	gaps := s.TCP[ClientToServer].Gaps()
	if len(gaps) != 1 || gaps[0].Reason != GapAcked || gaps[0].Length != 1448 {
		t.Errorf("gaps: %+v (the server ACKed the missing segment)", gaps)
	}
}

func TestRead_MidStream(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", false)
		for i := 0; i < 3; i++ {
			conn.send(false, frame(0x1, true, false, false, []byte(fmt.Sprintf(`{"push":%d}`, i))))
			conn.send(true, frame(0x1, true, false, true, []byte(fmt.Sprintf(`{"ack":%d}`, i))))
		}
	})
	s := onlySession(t, c)
	if !s.MidStream || s.Request != nil {
		t.Errorf("mid-stream %v request %v", s.MidStream, s.Request)
	}
	if s.Client.Port() != 40000 {
		t.Errorf("client %v: masking says 10.0.0.1:40000", s.Client)
	}
	// Frames start at the first captured byte of each direction: every message is read, whole.
	for d, format := range map[Direction]string{ServerToClient: `{"push":%d}`, ClientToServer: `{"ack":%d}`} {
		m := dataMessages(s, d)
		if len(m) != 3 {
			t.Fatalf("%v: %d messages, want 3 (problems %v)", d, len(m), s.Problems())
		}
		for i, msg := range m {
			if msg.Digest != sha256.Sum256([]byte(fmt.Sprintf(format, i))) || msg.Flags.Has(Incomplete) {
				t.Errorf("%v message %d: %+v", d, i, msg)
			}
		}
	}
}

func TestRead_NotWebSocket(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
		conn.send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		conn.send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		other := s.conn("10.0.0.1:40001", "10.0.0.2:22", true)
		other.send(false, []byte("SSH-2.0-OpenSSH_9.2\r\n"))
	})
	if len(c.Sessions) != 0 {
		t.Errorf("found %d sessions in plain HTTP and SSH", len(c.Sessions))
	}
}

func TestRead_Refused(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.send(true, []byte("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n"))
		conn.send(false, []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
		conn.fin(false)
	})
	s := onlySession(t, c)
	if s.Response == nil || s.Response.Status != 403 {
		t.Errorf("response %+v", s.Response)
	}
}

func TestRead_ResetEnds(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.upgrade(testKey, "")
		conn.send(true, frame(0x1, true, false, true, []byte("x")))
		conn.rst(false)
	})
	s := onlySession(t, c)
	if s.Ending != Reset || s.TCP[ServerToClient].RST == nil {
		t.Errorf("ending %v, rst %+v", s.Ending, s.TCP[ServerToClient].RST)
	}
}

// deflateMessages compresses messages as one permessage-deflate sender with context takeover.
func deflateMessages(t *testing.T, msgs []string) [][]byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		buf.Reset()
		w.Write([]byte(m))
		w.Flush()
		b := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		out = append(out, append([]byte(nil), b...))
	}
	return out
}

func TestRead_PermessageDeflate(t *testing.T) {
	texts := []string{`{"type":"typing","user":"ann"}`, `{"type":"typing","user":"ann"}`, strings.Repeat("hello ", 500)}
	comp := deflateMessages(t, texts)
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.upgrade(testKey, "permessage-deflate")
		for _, b := range comp {
			conn.send(false, frame(0x1, true, true, false, b))
		}
	})
	s := onlySession(t, c)
	m := dataMessages(s, ServerToClient)
	if len(m) != len(texts) {
		t.Fatalf("got %d messages, problems %v", len(m), s.Problems())
	}
	for i, msg := range m {
		if msg.Digest != sha256.Sum256([]byte(texts[i])) || !msg.Flags.Has(Compressed) || msg.Length != int64(len(texts[i])) {
			t.Errorf("message %d: %+v", i, msg)
		}
	}
}

func TestRead_Snaplen(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		s.snap = 400
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.upgrade(testKey, "") // the handshake fits; the message's packet is cut
		conn.send(true, frame(0x1, true, false, true, bytes.Repeat([]byte("y"), 1000)))
	})
	if c.Stats.Truncated == 0 {
		t.Errorf("stats %+v: want truncated packets", c.Stats)
	}
	if len(c.Sessions) == 0 {
		t.Fatal("no session: the handshake was captured whole")
	}
	for _, s := range c.Sessions {
		m := dataMessages(s, ClientToServer)
		if len(m) == 0 {
			t.Errorf("session %d: the cut message is not reported at all", s.ID)
		}
		for _, m := range m {
			if !m.Flags.Has(Incomplete) || !m.Digest.IsZero() {
				t.Errorf("a message cut by the snap length has a digest: %+v", m)
			}
		}
	}
}

func TestRead_TruncatedFileStillReports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.pcap")
	s := newSynth(t, path)
	conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
	conn.upgrade(testKey, "")
	conn.send(true, frame(0x1, true, false, true, []byte("kept")))
	conn.send(true, frame(0x1, true, false, true, []byte("cut off")))
	s.close()
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-30], 0o644)
	c, err := Read([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) == 0 || !strings.Contains(c.Warnings[0].String(), "c.pcap") {
		t.Errorf("warnings %v: want one naming the file", c.Warnings)
	}
	if got := dataMessages(onlySession(t, c), ClientToServer); len(got) == 0 {
		t.Error("the messages before the cut were lost")
	}
}

func TestRead_Errors(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("hello, this is not a capture"), 0o644)
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"missing", []string{filepath.Join(dir, "nope.pcap")}, "nope.pcap"},
		{"directory", []string{dir}, dir},
		{"not a capture", []string{notCapture}, "notes.txt"},
		{"none", nil, "no capture files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.paths, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want it to name %q", err, tc.want)
			}
		})
	}
}

// TestRead_RequestInTinySegments: a client that writes its Upgrade request a few bytes at a time.
func TestRead_RequestInTinySegments(t *testing.T) {
	c := readSynth(t, func(s *synth) {
		conn := s.conn("10.0.0.1:40000", "10.0.0.2:8080", true)
		conn.mss = 3
		req := "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
		conn.send(true, []byte(req))
		conn.mss = 1448
		conn.send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+handshake.AcceptKey(testKey)+"\r\n\r\n"))
		conn.send(true, frame(0x1, true, false, true, []byte("hi")))
	})
	s := onlySession(t, c)
	if s.Key() != testKey || len(dataMessages(s, ClientToServer)) != 1 {
		t.Errorf("key %q, messages %+v", s.Key(), s.Messages(ClientToServer))
	}
}

// TestRead_DroppedPackets: a tcpdump that dropped packets (examples/capture-drops' fwdrop, 842
// "packets dropped by kernel", which the file does not record) leaves holes the peers
// acknowledged; one capture warning sums them up, so that inspect says it on its own, and the
// capture on the same interface without drops has neither holes nor the warning.
func TestRead_DroppedPackets(t *testing.T) {
	dir := filepath.Join("..", "examples", "capture-drops")
	for _, tt := range []struct {
		file string
		want bool
	}{{"fwdrop.pcap", true}, {"fw.pcap", false}} {
		c, err := Read([]string{filepath.Join(dir, tt.file)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var holes int
		for _, s := range c.Sessions {
			for _, d := range Directions {
				for _, g := range s.TCP[d].Gaps() {
					if g.Reason != GapAcked {
						t.Errorf("%s: gap %+v, want only acked ones", tt.file, g)
					}
					holes++
				}
			}
		}
		var got []string
		for _, w := range c.Warnings {
			if strings.Contains(w.Message, "that the peers acknowledged") {
				got = append(got, w.Message)
			}
		}
		switch {
		case tt.want && (len(got) != 1 || !strings.Contains(got[0], fmt.Sprintf("(%d holes in 8 connections): it dropped packets", holes))):
			t.Errorf("%s: %d holes, warnings %q; want one summing them up", tt.file, holes, got)
		case !tt.want && (holes > 0 || len(got) > 0):
			t.Errorf("%s: %d holes, warnings %q; want none", tt.file, holes, got)
		}
	}
}

// TestRead_Progress: the progress callback ends with Done, every packet counted, and bytes close
// to the file's size (estimated from the packets).
func TestRead_Progress(t *testing.T) {
	path := filepath.Join("..", "examples", "c2s-drop", "client.pcap")
	var last Progress
	calls := 0
	c, err := Read([]string{path}, Options{Progress: func(p Progress) { last = p; calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if !last.Done || calls == 0 || last.Packets != c.Stats.Packets {
		t.Errorf("last progress %+v after %d calls, %d packets read", last, calls, c.Stats.Packets)
	}
	if last.Bytes < last.Total/2 || last.Bytes > last.Total*2 {
		t.Errorf("bytes %d, total %d: the estimate is off", last.Bytes, last.Total)
	}
}
