package correlate

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// bridgeMsgs makes upstream data messages with the given payloads, 10 ms apart from t0.
func bridgeMsgs(d capture.Direction, t0 time.Time, payloads ...string) []capture.Message {
	var out []capture.Message
	for i, p := range payloads {
		m := capture.Message{Index: i, Direction: d, Opcode: capture.OpBinary, Length: int64(len(p)),
			WireLength: int64(len(p)), Digest: sha256.Sum256([]byte(p)), Preview: []byte(p)[:min(len(p), 8)],
			First: t0.Add(time.Duration(i) * 10 * time.Millisecond), Frames: 1}
		m.WireDigest, m.Last = m.Digest, m.First
		out = append(out, m)
	}
	return out
}

// bridgeStream makes a bridged TCP stream carrying the given chunks, one packet each.
func bridgeStream(t0 time.Time, c2s, s2c []string) *capture.Stream {
	st := &capture.Stream{ID: 1, Client: netip.MustParseAddrPort("127.0.0.1:40000"),
		Server: netip.MustParseAddrPort("127.0.0.1:5901"), Start: t0, End: t0.Add(time.Second)}
	for d, chunks := range [][]string{c2s, s2c} {
		var off uint64 = 1000
		for i, c := range chunks {
			st.Runs[d] = append(st.Runs[d], capture.Run{Pos: len(st.Data[d]), Offset: off,
				Time: t0.Add(time.Duration(i+1) * 10 * time.Millisecond), Packet: capture.PacketRef{File: "tcp.pcap", Number: 10*d + i + 1}})
			st.Data[d] = append(st.Data[d], c...)
			off += uint64(len(c))
		}
	}
	return st
}

// TestCompare_Bridge: a WebSocket hop before a bridge whose TCP side lost client message 2 on the
// way to the server, while the server's reply "stats" (sent as a TCP chunk) never made it into a
// WebSocket message: the first is lost at the TCP hop, the second at the WebSocket hop.
func TestCompare_Bridge(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	c2s := []string{"hello server", "second message", "THIRD-LOST", "fourth one", "fifth and last"}
	up := &capture.Session{ID: 1, Client: netip.MustParseAddrPort("10.0.0.1:50000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80"), Start: t0, End: t0.Add(time.Second),
		Request:  &capture.Request{Method: "GET", Path: "/websockify", Key: "dGhlIHNhbXBsZSBub25jZQ==", Time: t0},
		Response: &capture.Response{Status: 101, Time: t0}}
	up.SetMessages(capture.ClientToServer, bridgeMsgs(capture.ClientToServer, t0, c2s...))
	up.SetMessages(capture.ServerToClient, bridgeMsgs(capture.ServerToClient, t0.Add(12*time.Millisecond), "welcome", "bye"))
	// The TCP side: message 2 never arrived, and "fourth one" came glued to "second message" in
	// one segment; the server sent "welcome", "stats", "bye".
	st := bridgeStream(t0.Add(time.Millisecond), []string{"hello server", "second messagefourth one", "fifth and last"},
		[]string{"welcomestats", "bye"})
	hops := []Hop{
		{Name: "ws", Capture: &capture.Capture{Start: t0.Add(-time.Second), End: t0.Add(2 * time.Second), Sessions: []*capture.Session{up}}},
		{Name: "tcp", Capture: &capture.Capture{Start: t0.Add(-time.Second), End: t0.Add(2 * time.Second), Streams: []*capture.Stream{st}}},
	}
	bridgeHop(&hops[1], &hops[0])
	if len(hops[1].Capture.Sessions) != 1 {
		t.Fatalf("%d bridged sessions, want 1 (warnings %v)", len(hops[1].Capture.Sessions), hops[1].Capture.Warnings)
	}
	s := hops[1].Capture.Sessions[0]
	var got []string
	for _, d := range capture.Directions {
		for _, m := range s.Messages(d) {
			got = append(got, fmt.Sprintf("%s:%d@%d-%d", d, m.Length, m.Offset, m.End))
		}
	}
	want := []string{"client_to_server:12@1000-1012", "client_to_server:14@1012-1026", "client_to_server:10@1026-1036",
		"client_to_server:14@1036-1050", "server_to_client:7@1000-1007", "server_to_client:5@1007-1012", "server_to_client:3@1012-1015"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bridged messages\n got %v\nwant %v", got, want)
	}
	r := Compare(hops, Options{})
	if len(r.Connections) != 1 {
		t.Fatalf("%d connections; hops %+v summary %+v", len(r.Connections), r.Hops, r.Summary)
	}
	c := r.Connections[0]
	for _, tc := range []struct {
		res   *schema.DirectionResult
		hop   string
		index int
	}{{&c.Directions.ClientToServer, "tcp", 2}, {&c.Directions.ServerToClient, "ws", 1}} {
		if tc.res.Verdict != schema.Lost || tc.res.FirstMissingHop == nil || *tc.res.FirstMissingHop != tc.hop ||
			tc.res.Index == nil || *tc.res.Index != tc.index || tc.res.Missing != 1 {
			t.Errorf("got %v at %v index %v missing %d, want lost at %s index %d (%s)", tc.res.Verdict,
				str(tc.res.FirstMissingHop), tc.res.Index, tc.res.Missing, tc.hop, tc.index, tc.res.Reason)
		}
	}
	if len(r.Segments) != 1 || r.Segments[0].Kind != schema.Bridged {
		t.Errorf("segments %+v", r.Segments)
	}
}

// TestCodec_Base64: a base64 text message is found where the stream holds the bytes it encodes,
// whatever its padding, spanning those bytes; never where they differ, nor for a binary message
// or a length no base64 text has; and its preview is searched for decoded.
func TestCodec_Base64(t *testing.T) {
	b64 := codec{base64: true}
	text := func(s string) *capture.Message {
		return &capture.Message{Opcode: capture.OpText, Length: int64(len(s)), Digest: sha256.Sum256([]byte(s)), Preview: []byte(s)}
	}
	data := []byte("..hello world, in bytes")
	for _, tc := range []struct {
		name string
		m    *capture.Message
		pos  int
		n    int // bytes spanned, 0: not found
	}{
		{"no_padding", text(base64.StdEncoding.EncodeToString(data[2:14])), 2, 12},
		{"one_pad", text(base64.StdEncoding.EncodeToString(data[2:13])), 2, 11},
		{"two_pads", text(base64.StdEncoding.EncodeToString(data[2:12])), 2, 10},
		{"other_bytes", text(base64.StdEncoding.EncodeToString([]byte("hellO world"))), 2, 0},
		{"not_at_pos", text(base64.StdEncoding.EncodeToString(data[2:14])), 3, 0},
		{"not_base64_length", text("aGVsbG8"), 2, 0},
		{"binary_opcode", &capture.Message{Opcode: capture.OpBinary, Length: 16, Digest: sha256.Sum256([]byte(base64.StdEncoding.EncodeToString(data[2:14])))}, 2, 0},
		{"past_the_end", text(base64.StdEncoding.EncodeToString(append([]byte("in bytes"), "and more"...))), 15, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := b64.carried(data, tc.pos, tc.m)
			if ok != (tc.n > 0) || ok && n != tc.n {
				t.Errorf("carried: %d %v, want %d", n, ok, tc.n)
			}
		})
	}
	m := text(base64.StdEncoding.EncodeToString(data[8:21]))
	if j, at, n := b64.nextFound(data, 0, []*capture.Message{m}); j != 0 || at != 8 || n != 13 {
		t.Errorf("nextFound by decoded preview: %d at %d spanning %d, want 0 at 8 spanning 13", j, at, n)
	}
}

// FuzzAlignStream aligns a stream of arbitrary bytes, cut into packets, with messages cut from
// arbitrary payload bytes (sent as is or as websockify's base64 text), some of them dropped from
// the stream: the alignment must not panic, must cover the stream exactly once, and never find
// more messages than there are.
func FuzzAlignStream(f *testing.F) {
	f.Add([]byte("hello world, the bytes of a few messages"), []byte{5, 3, 9}, uint8(1), false)
	f.Add([]byte("hello world, the bytes of a few messages"), []byte{5, 3, 9}, uint8(2), true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0}, []byte{1, 1, 1}, uint8(0), true)
	t0 := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, payload, cuts []byte, drop uint8, b64 bool) {
		if len(payload) > 4096 || len(cuts) > 64 {
			return
		}
		var texts, stream []string
		rest := payload
		for i, c := range cuts {
			n := min(int(c)%32+1, len(rest))
			chunk := string(rest[:n])
			rest = rest[n:]
			if b64 {
				texts = append(texts, base64.StdEncoding.EncodeToString([]byte(chunk)))
			} else {
				texts = append(texts, chunk)
			}
			if drop == 0 || i%(int(drop)+1) != 0 {
				stream = append(stream, chunk)
			}
		}
		stream = append(stream, string(rest))
		up := &capture.Session{}
		up.SetMessages(capture.ClientToServer, bridgeMsgs(capture.ClientToServer, t0, texts...))
		if b64 {
			up.Response = &capture.Response{Status: 101, Protocol: "base64"}
			for i := range up.Messages(capture.ClientToServer) {
				up.Messages(capture.ClientToServer)[i].Opcode = capture.OpText
			}
		}
		st := bridgeStream(t0, stream, nil)
		a := alignStream(st, up, capture.ClientToServer)
		covered := 0
		for _, m := range a.msgs {
			if m.WireLength < 0 || m.WireLength == 0 && m.Length != 0 || m.Offset > m.End {
				t.Fatalf("message %+v: bad span", m) // an empty upstream message alone spans no bytes
			}
			covered += int(m.WireLength)
		}
		if covered != len(st.Data[capture.ClientToServer]) || a.found > len(texts) {
			t.Fatalf("%d bytes covered of %d, %d of %d messages found", covered, len(st.Data[capture.ClientToServer]), a.found, len(texts))
		}
	})
}
