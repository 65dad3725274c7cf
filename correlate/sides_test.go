package correlate

import (
	"testing"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_BothSidesInOneCapture: `tcpdump -i any` on a proxy host holds the client's
// connection to the proxy and the proxy's connection upstream, with the same key. The hop is
// compared as two, so a message the proxy received and never forwarded is placed between them.
func TestCompare_BothSidesInOneCapture(t *testing.T) {
	var specs []connSpec
	for i := 0; i < 4; i++ {
		c := connSpec{key: keyN(i), startMs: i * 50, c2s: seq("m", 5), s2c: seq("r", 5)}
		if i == 2 {
			c.dropC2S = map[int]int{3: 2} // hop 2 (the proxy's upstream side) never sees message 3
		}
		specs = append(specs, c)
	}
	caps := simulate(simOpts{hops: 3}, specs)
	both := *caps[1]
	both.Sessions = append(append([]*capture.Session(nil), caps[1].Sessions...), caps[2].Sessions...)
	r := Compare([]Hop{{Name: "lb", Capture: caps[0]}, {Name: "proxy", Capture: &both}}, Options{})

	var names []string
	for _, h := range r.Hops {
		names = append(names, h.Name)
	}
	if len(names) != 3 || names[1] != "proxy.in" || names[2] != "proxy.out" {
		t.Fatalf("hops %v, want lb proxy.in proxy.out", names)
	}
	if len(r.Connections) != 4 {
		t.Fatalf("%d connections, want 4 (no phantom for the second side)", len(r.Connections))
	}
	d := r.Connections[2].Directions.ClientToServer
	if d.Verdict != schema.Lost || str(d.FirstMissingHop) != "proxy.out" {
		t.Errorf("verdict %s at %s, want lost at proxy.out: %s", d.Verdict, str(d.FirstMissingHop), d.Reason)
	}
	if r.Summary.Connections.Delivered != 3 {
		t.Errorf("summary %+v", r.Summary.Connections)
	}
}

func str(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
