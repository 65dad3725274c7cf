package correlate

import (
	"testing"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_OneTCPConnection: hop1's capture stops reading a connection (no FIN, no RST) while
// hop0 shows it going on, as a capture dropping every packet of a connection from some point
// does (a fresh capture-drops lab run: fwdrop). When both hops see one TCP connection (the same
// initial sequence numbers both ways) the bytes hop0 shows acknowledged by the receiver beyond
// hop1, or further along than hop1's capture reaches on their way to hop0, went through hop1:
// capture_gap. A proxy between the hops (ISNs of its own) or bytes never acknowledged leave it
// a loss, as a firewall silently dropping the rest of the connection would look.
func TestCompare_OneTCPConnection(t *testing.T) {
	tests := []struct {
		name     string
		isn1     uint32 // hop1's ISNs (hop0's are 1000 and 2000): 1000 means the same connection
		acked    bool   // hop0 sees the server acknowledge every client byte
		fin1     bool   // hop1 saw the server's FIN
		c2s, s2c dirWant
	}{
		{name: "one connection, acknowledged", isn1: 1000, acked: true,
			c2s: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 4, index: 6, reason: "see one TCP connection"},
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 4, index: 6, reason: "stops at stream byte"}},
		{name: "one connection, never acknowledged", isn1: 1000, acked: false,
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 4, index: 6, reason: "never acknowledged"},
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 4, index: 6, reason: "stops at stream byte"}},
		{name: "a proxy between", isn1: 7, acked: true,
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 4, index: 6, reason: "did not forward it"},
			s2c: delivered},
		// The server's stream ended at hop1 (what became of the client's messages after the
		// server's FIN is teardown's business, not checked here).
		{name: "the server's FIN seen at hop1", isn1: 1000, acked: true, fin1: true, s2c: delivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps := simulate(simOpts{hops: 2}, []connSpec{{key: keyN(1), c2s: seq("m", 10), s2c: seq("r", 10)}})
			for h, isn := range []uint32{1000, tt.isn1} {
				s := caps[h].Sessions[0]
				for d := range s.TCP {
					s.TCP[d].SYN, s.TCP[d].ISN = true, isn*uint32(d+1)
					s.TCP[d].End = s.TCP[d].Bytes
				}
			}
			s1 := caps[1].Sessions[0]
			for _, d := range capture.Directions {
				s1.SetMessages(d, s1.Messages(d)[:6])
				s1.TCP[d].End = s1.Messages(d)[5].End
				s1.TCP[d].Bytes = s1.TCP[d].End
			}
			if tt.fin1 {
				s1.TCP[capture.ServerToClient].FIN = &capture.TCPEvent{Time: s1.Messages(capture.ServerToClient)[5].Last}
			}
			s0 := caps[0].Sessions[0]
			if !tt.acked {
				s0.TCP[capture.ServerToClient].HighestAck = s0.Messages(capture.ClientToServer)[6].Offset
			}
			r := Compare(hopsOf(caps), Options{})
			if len(r.Refused) > 0 || len(r.Connections) != 1 {
				t.Fatalf("refused %v, %d connections", r.Refused, len(r.Connections))
			}
			d := r.Connections[0].Directions
			if !tt.fin1 {
				checkDir(t, "client_to_server", d.ClientToServer, tt.c2s)
			}
			checkDir(t, "server_to_client", d.ServerToClient, tt.s2c)
		})
	}
}
