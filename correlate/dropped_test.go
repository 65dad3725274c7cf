package correlate

import (
	"strings"
	"testing"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_CaptureDrops checks that a capture admitting dropped packets (pcapng interface
// statistics, or the count tcpdump printed, given in hops.yaml) turns a loss it could explain
// into a capture gap, and only that: a stream the capture holds whole around the message, or
// drops counted at another time, leave the loss standing.
func TestCompare_CaptureDrops(t *testing.T) {
	tail := map[int]int{3: 2, 4: 2} // messages 3 and 4 never seen at hop2, the last hop
	middle := map[int]int{2: 2}     // message 2 missing at hop2 between two it has
	whole := func(d *capture.Drops) func([]*capture.Capture, []Hop) {
		return func(caps []*capture.Capture, _ []Hop) { caps[2].Files[0].Drops = d }
	}
	tests := []struct {
		name  string
		drop  map[int]int
		tweak func([]*capture.Capture, []Hop)
		want  dirWant
		warn  string // a warning hop2 must carry
	}{
		{name: "no drops counted", drop: tail,
			want: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 2, index: 3}},
		{name: "pcapng counters", drop: tail, tweak: whole(&capture.Drops{Dropped: 120, Received: 900}),
			want: dirWant{verdict: schema.CaptureGap, firstMiss: "hop2", missing: 2, index: 3, reason: "admits 120 dropped packets (hop2.pcap's pcapng interface statistics)"}},
		{name: "hops.yaml count", drop: tail, tweak: func(_ []*capture.Capture, hops []Hop) { hops[2].Dropped = 50 },
			want: dirWant{verdict: schema.CaptureGap, firstMiss: "hop2", missing: 2, index: 3, reason: "admits 50 dropped packets (hops.yaml dropped)"},
			warn: "hops.yaml says this capture dropped 50 packets"},
		{name: "stream whole to its FIN", drop: tail, tweak: func(caps []*capture.Capture, hops []Hop) {
			whole(&capture.Drops{Dropped: 120})(caps, hops)
			s := caps[2].Sessions[0]
			s.TCP[capture.ClientToServer].FIN = &capture.TCPEvent{Time: ms(900)}
		}, want: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 2, index: 3}},
		{name: "stream whole around the message", drop: middle, tweak: whole(&capture.Drops{Dropped: 120}),
			want: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 1, index: 2}},
		{name: "drops counted before the message", drop: tail,
			tweak: whole(&capture.Drops{Dropped: 120, Start: ms(0), End: ms(100)}),
			want:  dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 2, index: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: seq("a", 5), s2c: seq("b", 5), dropC2S: tc.drop}})
			hops := hopsOf(caps)
			if tc.tweak != nil {
				tc.tweak(caps, hops)
			}
			r := Compare(hops, Options{})
			if len(r.Connections) != 1 {
				t.Fatalf("%d connections, want 1", len(r.Connections))
			}
			checkDir(t, "c2s", r.Connections[0].Directions.ClientToServer, tc.want)
			checkDir(t, "s2c", r.Connections[0].Directions.ServerToClient, delivered)
			if tc.warn != "" {
				found := false
				for _, w := range r.Hops[2].Warnings {
					found = found || strings.Contains(w, tc.warn)
				}
				if !found {
					t.Errorf("hop2 warnings %q lack %q", r.Hops[2].Warnings, tc.warn)
				}
			}
		})
	}
}

// TestCompare_CaptureDropsUnacked checks that drops admitted at a hop do not hide a loss the TCP
// evidence upstream proves: bytes never acknowledged did not get through.
func TestCompare_CaptureDropsUnacked(t *testing.T) {
	caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: seq("a", 5), dropC2S: map[int]int{3: 2, 4: 2}}})
	s := caps[1].Sessions[0]
	s.TCP[capture.ServerToClient].HighestAck = s.Messages(capture.ClientToServer)[2].End
	caps[2].Files[0].Drops = &capture.Drops{Dropped: 120}
	r := Compare(hopsOf(caps), Options{})
	checkDir(t, "c2s", r.Connections[0].Directions.ClientToServer,
		dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 2, index: 3, reason: "never acknowledged at hop1"})
}

// TestCompare_DroppingHopBeforeLoss: a message never acknowledged past hop1 is lost, and hop2,
// whose capture admits drops when it would have passed (a count, or holes the peers
// acknowledged in its own streams: a second tcpdump on a busy host), cannot tell whether it got
// there: hop3, whose capture is clean, is the first hop proving its absence, and the reason names
// hop2's drops; at low confidence, since the loss may be hop2's component's, not hop3's. With
// hop2 clean, hop2 is where it went missing.
func TestCompare_DroppingHopBeforeLoss(t *testing.T) {
	drop := map[int]int{3: 2, 4: 2} // messages 3 and 4 never seen from hop2 on
	ackedHole := func(caps []*capture.Capture, _ []Hop) {
		// Another connection's bytes, acknowledged but missing from hop2's capture then.
		s := caps[2].Sessions[1]
		st := &s.TCP[capture.ServerToClient]
		a := st.Anomalies()
		a.Gaps = append(a.Gaps, capture.Gap{Offset: 0, Length: 100, Time: ms(350), Reason: capture.GapAcked})
		st.SetAnomalies(a)
	}
	tests := []struct {
		name  string
		tweak func([]*capture.Capture, []Hop)
		want  dirWant
	}{
		{name: "hop2 clean",
			want: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 2, index: 3, reason: "never acknowledged at hop1"}},
		{name: "hop2 admits drops", tweak: func(_ []*capture.Capture, hops []Hop) { hops[2].Dropped = 50 },
			want: dirWant{verdict: schema.Lost, firstMiss: "hop3", missing: 2, index: 3, low: true,
				reason: "whether it reached hop2 before is not known: hop2's capture admits 50 dropped packets (hops.yaml dropped)"}},
		{name: "hop2's own acknowledged holes", tweak: ackedHole,
			want: dirWant{verdict: schema.Lost, firstMiss: "hop3", missing: 2, index: 3, low: true,
				reason: "hop2's capture admits 1 dropped packet (holes in its own streams that the peers acknowledged"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			caps := simulate(simOpts{hops: 4}, []connSpec{
				{key: keyN(1), c2s: seq("a", 5), dropC2S: drop},
				{key: keyN(2), startMs: 20, c2s: seq("c", 5), s2c: seq("d", 5)},
			})
			s := caps[1].Sessions[0]
			s.TCP[capture.ServerToClient].HighestAck = s.Messages(capture.ClientToServer)[2].End
			hops := hopsOf(caps)
			if tc.tweak != nil {
				tc.tweak(caps, hops)
			}
			r := Compare(hops, Options{})
			if len(r.Connections) != 2 {
				t.Fatalf("%d connections, want 2", len(r.Connections))
			}
			checkDir(t, "c2s", r.Connections[0].Directions.ClientToServer, tc.want)
			checkDir(t, "other c2s", r.Connections[1].Directions.ClientToServer, delivered)
		})
	}
}
