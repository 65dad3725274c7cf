package correlate

import (
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_HeartbeatLost: one of a run of identical heartbeats is really lost between two
// hops. Pairing identical copies by order may pair each later copy with the one before it, which
// reads as messages arriving at the second hop before the first: that is no evidence of the
// hops' order (only payloads unique in their direction are), so the comparison is not refused,
// and the loss is found.
func TestCompare_HeartbeatLost(t *testing.T) {
	for _, lost := range []int{0, 5, 11} {
		caps := simulate(simOpts{hops: 2}, []connSpec{{key: keyN(1), c2s: same("beat", 12), s2c: same("ack", 12),
			dropC2S: map[int]int{lost: 1}}})
		r := Compare(hopsOf(caps), Options{})
		if len(r.Refused) > 0 || len(r.Connections) != 1 {
			t.Fatalf("copy %d lost: refused %q, %d connections", lost, r.Refused, len(r.Connections))
		}
		d := r.Connections[0].Directions
		if v := d.ClientToServer; v.Verdict != schema.Lost || v.Missing != 1 || v.FirstMissingHop == nil || *v.FirstMissingHop != "hop1" {
			t.Errorf("copy %d lost: client_to_server %s, %d missing at %v (%s)", lost, v.Verdict, v.Missing, v.FirstMissingHop, v.Reason)
		}
		checkDir(t, "server_to_client", d.ServerToClient, delivered)
	}
}

// TestCompare_HeartbeatHoles: three hops, nothing but identical heartbeats each way, and the
// two hops nearer the server captured with holes where the answers 1 (both) and 2 (the middle
// one) would be. No hop before the client's has answer 1, so the merged sequence the client's
// hop is paired against lacks it; pairing copies by order there shifted every later pair by one
// heartbeat, which read as the hops listed out of order (refused: "round trip 97.604ms the other
// way"). Now the merged sequence keeps the part of a hole no other hop fills, those pairs are
// unsure, order evidence comes from unique payloads only, and the answers are capture_gap.
func TestCompare_HeartbeatHoles(t *testing.T) {
	caps := simulate(simOpts{hops: 3, latency: 39698 * time.Microsecond},
		[]connSpec{{key: keyN(1), c2s: same("beat", 18), s2c: same("ack", 18), everyMs: 177}})
	holeAt(caps, 1, capture.ServerToClient, 1, 3, capture.GapAcked)
	holeAt(caps, 2, capture.ServerToClient, 1, 2, capture.GapAcked)
	r := Compare(hopsOf(caps), Options{})
	if len(r.Refused) > 0 || len(r.Connections) != 1 {
		t.Fatalf("refused %q, %d connections", r.Refused, len(r.Connections))
	}
	d := r.Connections[0].Directions
	checkDir(t, "client_to_server", d.ClientToServer, delivered)
	if v := d.ServerToClient; v.Verdict != schema.CaptureGap {
		t.Errorf("server_to_client %s (%s), want capture_gap", v.Verdict, v.Reason)
	}
}
