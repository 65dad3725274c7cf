package correlate

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
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
	up.Messages[capture.ClientToServer] = bridgeMsgs(capture.ClientToServer, t0, c2s...)
	up.Messages[capture.ServerToClient] = bridgeMsgs(capture.ServerToClient, t0.Add(12*time.Millisecond), "welcome", "bye")
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
		for _, m := range s.Messages[d] {
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
		res   *DirectionResult
		hop   string
		index int
	}{{&c.Directions.ClientToServer, "tcp", 2}, {&c.Directions.ServerToClient, "ws", 1}} {
		if tc.res.Verdict != Lost || tc.res.FirstMissingHop == nil || *tc.res.FirstMissingHop != tc.hop ||
			tc.res.Index == nil || *tc.res.Index != tc.index || tc.res.Missing != 1 {
			t.Errorf("got %v at %v index %v missing %d, want lost at %s index %d (%s)", tc.res.Verdict,
				str(tc.res.FirstMissingHop), tc.res.Index, tc.res.Missing, tc.hop, tc.index, tc.res.Reason)
		}
	}
	if len(r.Segments) != 1 || r.Segments[0].Kind != Bridged {
		t.Errorf("segments %+v", r.Segments)
	}
}
