package correlate

import (
	"testing"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_Upgrade checks the verdicts on a WebSocket handshake that does not get through:
// the connection carries no message, and without these it would read as delivered.
func TestCompare_Upgrade(t *testing.T) {
	type tweak func(caps []*capture.Capture)
	// notAt removes the connection from hops from on; noAnswer removes the response at hops
	// below to; answer sets a response status at hops.
	notAt := func(from int) tweak {
		return func(caps []*capture.Capture) {
			for h := from; h < len(caps); h++ {
				caps[h].Sessions = caps[h].Sessions[1:]
			}
		}
	}
	noAnswer := func(to int) tweak {
		return func(caps []*capture.Capture) {
			for h := 0; h < to; h++ {
				if len(caps[h].Sessions) > 0 {
					caps[h].Sessions[0].Response = nil
				}
			}
		}
	}
	answer := func(status int, reason string, hops ...int) tweak {
		return func(caps []*capture.Capture) {
			for _, h := range hops {
				r := *caps[h].Sessions[0].Response
				r.Status, r.Reason = status, reason
				caps[h].Sessions[0].Response = &r
			}
		}
	}
	tests := []struct {
		name     string
		tweaks   []tweak
		c2s, s2c dirWant
	}{
		{"request not forwarded", []tweak{notAt(2), noAnswer(4)},
			dirWant{verdict: schema.Lost, firstMiss: "hop2", index: -1, reason: "at hop1, packet 1) never reached hop2: the connection was never set up beyond hop1"},
			delivered},
		{"gateway answered itself", []tweak{notAt(2), answer(502, "Bad Gateway", 0, 1)},
			dirWant{verdict: schema.Lost, firstMiss: "hop2", index: -1, reason: "hop1 answered it itself: 502 Bad Gateway"},
			delivered},
		{"never answered", []tweak{noAnswer(4)},
			delivered,
			dirWant{verdict: schema.Undecided, index: -1, reason: "(GET /chat) last reached hop3 at 10:00:00.003"}},
		{"answer lost on the way back", []tweak{noAnswer(2)},
			delivered,
			dirWant{verdict: schema.Lost, firstMiss: "hop1", index: -1, reason: "at hop2, packet 0) never reached hop1, which saw the request"}},
		{"answer missed by a middle capture", []tweak{func(caps []*capture.Capture) { caps[1].Sessions[0].Response = nil }},
			delivered,
			dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", index: -1, reason: "hop0, nearer the client, has it: the capture missed it"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A second, healthy connection keeps every hop's capture holding some WebSocket.
			caps := simulate(simOpts{hops: 4}, []connSpec{{key: keyN(1)}, {key: keyN(2), startMs: 100, c2s: seq("a", 2), s2c: seq("b", 2)}})
			for _, tw := range tc.tweaks {
				tw(caps)
			}
			r := Compare(hopsOf(caps), Options{})
			if len(r.Connections) != 2 {
				t.Fatalf("%d connections, want 2", len(r.Connections))
			}
			checkDir(t, "healthy c2s", r.Connections[1].Directions.ClientToServer, delivered)
			checkDir(t, "healthy s2c", r.Connections[1].Directions.ServerToClient, delivered)
			checkDir(t, "c2s", r.Connections[0].Directions.ClientToServer, tc.c2s)
			checkDir(t, "s2c", r.Connections[0].Directions.ServerToClient, tc.s2c)
		})
	}
}
