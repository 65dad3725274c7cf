package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_MiddleCloseEvidence: hop0 sees the end come from the server side first and hop1
// from the client side first, which is what a component between them ending the connection
// looks like (a proxy's idle timeout) — and also what two captures look like when one of them
// missed the other side's close (a fresh capture-drops lab run: fwdrop, on the same interface as
// fw, lost the client's close frame and hops-two-fwdrop-first.yaml read "closed at fwdrop").
// The middle close stands only when the captures could not have missed the other end.
func TestCompare_MiddleCloseEvidence(t *testing.T) {
	closed := dirWant{verdict: schema.Closed, firstMiss: "hop0", index: -1, reason: "the component between hop0 and hop1 ended it"}
	tests := []struct {
		name    string
		sameISN bool          // both hops see one TCP connection (the same ISNs both ways)
		gapAt   time.Duration // hop0's client-to-server hole noticed this long after hop0's close (0: none)
		rst     bool          // the ends are RSTs, not close frames
		tls     bool          // TLS decrypted at both hops
		dropped int64         // hop0's hops.yaml drop count
		want    dirWant
	}{
		{name: "a proxy between, captures whole", want: closed},
		{name: "one TCP connection: nothing between could send a close frame", sameISN: true, want: delivered},
		{name: "one TCP connection carrying TLS", sameISN: true, tls: true, want: delivered},
		{name: "hop0's capture has a hole where the client's close would be", gapAt: 2 * time.Millisecond, want: delivered},
		{name: "hop0's hole long before the end", gapAt: -10 * time.Second, want: closed},
		{name: "hop0's capture admits drops", dropped: 40, want: delivered},
		{name: "forged RSTs on one TCP connection", sameISN: true, rst: true,
			want: dirWant{verdict: schema.Closed, firstMiss: "hop0", index: -1, reason: "forged them"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps := simulate(simOpts{hops: 2}, []connSpec{{key: keyN(1), c2s: seq("m", 5), s2c: seq("r", 5)}})
			s0, s1 := caps[0].Sessions[0], caps[1].Sessions[0]
			end := s0.Messages(capture.ClientToServer)[4].Last.Add(10 * time.Second)
			for h, s := range []*capture.Session{s0, s1} {
				isn := uint32(1000)
				if h == 1 && !tt.sameISN {
					isn = 7 // a proxy's own connection
				}
				for d := range s.TCP {
					s.TCP[d].SYN, s.TCP[d].ISN = true, isn*uint32(d+1)
				}
				if tt.tls {
					s.SetTLS(&capture.TLSInfo{Version: "TLS 1.3", Decrypted: true})
				}
			}
			// hop0 sees the server side end first, hop1 the client side; each sees the other's answer.
			endAt := func(s *capture.Session, d capture.Direction, t time.Time) {
				if tt.rst {
					s.TCP[d].RST = &capture.TCPEvent{Time: t, Packet: capture.PacketRef{File: "x.pcap", Number: 1}}
					return
				}
				s.SetClose(d, &capture.Close{Code: 1001, Time: t, Packet: capture.PacketRef{File: "x.pcap", Number: 1}})
			}
			endAt(s0, capture.ServerToClient, end)
			endAt(s0, capture.ClientToServer, end.Add(5*time.Millisecond))
			endAt(s1, capture.ClientToServer, end.Add(time.Millisecond))
			endAt(s1, capture.ServerToClient, end.Add(4*time.Millisecond))
			if tt.gapAt != 0 {
				st := &s0.TCP[capture.ClientToServer]
				st.SetAnomalies(capture.StreamAnomalies{Gaps: []capture.Gap{{Offset: st.Bytes, Length: 8, Time: end.Add(tt.gapAt), Reason: capture.GapAcked}}})
			}
			hops := hopsOf(caps)
			hops[0].Dropped = tt.dropped
			r := Compare(hops, Options{})
			if len(r.Refused) > 0 || len(r.Connections) != 1 {
				t.Fatalf("refused %v, %d connections", r.Refused, len(r.Connections))
			}
			d := r.Connections[0].Directions
			checkDir(t, "client_to_server", d.ClientToServer, tt.want)
			checkDir(t, "server_to_client", d.ServerToClient, tt.want)
			if tt.want.verdict == schema.Delivered && strings.Contains(d.ClientToServer.Reason, "ended it") {
				t.Errorf("reason still names a component ending it: %s", d.ClientToServer.Reason)
			}
		})
	}
}
