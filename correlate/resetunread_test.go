package correlate

import (
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_ResetUnread: the receiving end resets the connection (RST, no FIN or close frame
// first) right after the last message reached the last hop. A TCP does that when its application
// is killed with bytes unread (a lab server-killed run, examples/server-killed-unread: every
// capture had the message, the server's log did not), so that message is not delivered. Anything
// else last on the stream, an orderly close first, or a reset at another hop is no such end.
func TestCompare_ResetUnread(t *testing.T) {
	unread := dirWant{verdict: schema.Closed, firstMiss: "hop1", missing: 1, index: 4, reason: "did not read it"}
	tests := []struct {
		name     string
		rstHop   int           // the hop whose capture sees the server's RST
		finFirst bool          // the server sent a FIN before its RST
		after    time.Duration // the RST this long after the last client message
		tail     uint64        // stream bytes after the last client message (an unfinished frame)
		want     dirWant
	}{
		{name: "server resets right after the last message", rstHop: 1, after: 50 * time.Microsecond, want: unread},
		{name: "server resets a while later", rstHop: 1, after: time.Second, want: unread},
		{name: "server closed (FIN) before the reset", rstHop: 1, finFirst: true, after: time.Millisecond, want: delivered},
		{name: "bytes after the last message", rstHop: 1, tail: 3, after: time.Millisecond, want: delivered},
		{name: "reset before the last message came", rstHop: 1, after: -time.Millisecond, want: delivered},
		{name: "a reset seen at the first hop only", rstHop: 0, after: time.Millisecond, want: delivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps := simulate(simOpts{hops: 2}, []connSpec{{key: keyN(1), c2s: seq("m", 5), s2c: seq("r", 5)}})
			s := caps[tt.rstHop].Sessions[0]
			last := s.Messages(capture.ClientToServer)[4]
			at := last.First.Add(tt.after)
			if tt.finFirst {
				s.TCP[capture.ServerToClient].FIN = &capture.TCPEvent{Time: at.Add(-time.Microsecond), Packet: capture.PacketRef{File: "x.pcap", Number: 1}}
			}
			s.TCP[capture.ServerToClient].RST = &capture.TCPEvent{Time: at, Packet: capture.PacketRef{File: "x.pcap", Number: 2}}
			s.TCP[capture.ClientToServer].End = last.End + tt.tail
			r := Compare(hopsOf(caps), Options{})
			if len(r.Refused) > 0 || len(r.Connections) != 1 {
				t.Fatalf("refused %v, %d connections", r.Refused, len(r.Connections))
			}
			d := r.Connections[0].Directions
			checkDir(t, "client_to_server", d.ClientToServer, tt.want)
			// The server's reset says nothing of what the client read.
			checkDir(t, "server_to_client", d.ServerToClient, delivered)
			if tt.want.verdict == schema.Closed {
				e := d.ClientToServer.Evidence.Ending
				if e == nil || e.Hop != "hop1" || e.Side != "server" || e.Kind != "rst" {
					t.Errorf("ending %+v, want the server's RST at hop1", e)
				}
			}
		})
	}
}
