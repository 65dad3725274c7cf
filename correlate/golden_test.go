package correlate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// goldenScenario is a four-hop path with one healthy connection, one losing messages between fw
// and ingress, one reset by the firewall and one behind a terminating proxy at ingress.
func goldenScenario() []Hop {
	specs := []connSpec{
		{key: "dGhlIHNhbXBsZSBub25jZQ==", c2s: seq("hello", 3), s2c: seq("welcome", 2)},
		{key: "x3JJHMbDL1EzLkh9GBhXDw==", startMs: 200, c2s: same(`{"type":"typing"}`, 4), s2c: same("hb", 2), dropC2S: map[int]int{2: 2, 3: 2}},
		{key: "AQIDBAUGBwgJCgsMDQ4PEA==", startMs: 400, c2s: seq("order", 5), dropC2S: map[int]int{3: 2, 4: 2}},
		{key: "sZp4bWzq1E0sNjKx2S1ZbA==", startMs: 600, c2s: seq("q", 2), s2c: seq("r", 2),
			keyAt: func(h int) string {
				if h >= 2 {
					return "bmV3IGtleSBmcm9tIHByb3h5"
				}
				return "sZp4bWzq1E0sNjKx2S1ZbA=="
			}},
	}
	caps := simulate(simOpts{hops: 4, skew: []time.Duration{0, 0, 1500 * time.Millisecond, 0}}, specs)
	// Connection 3: the firewall resets both sides after its third message.
	rst := ms(400 + 10 + 250)
	caps[1].Sessions[2].TCP[capture.ServerToClient].RST = &capture.TCPEvent{Time: rst.Add(time.Millisecond), Packet: capture.PacketRef{File: "hop1.pcap", Number: 41}}
	caps[1].Sessions[2].Ending = capture.Reset
	for h := 2; h < 4; h++ {
		s := caps[h].Sessions[2]
		s.TCP[capture.ClientToServer].RST = &capture.TCPEvent{Time: rst.Add(time.Duration(h) * time.Millisecond).Add(caps[h].Start.Sub(caps[0].Start)), Packet: capture.PacketRef{File: "hop.pcap", Number: 42}}
		s.Ending = capture.Reset
	}
	caps[0].Warnings = []capture.Warning{{File: "hop0.pcap", Packet: 7, Message: "truncated packet"}}
	names := []string{"lb", "fw", "ingress", "server"}
	hops := hopsOf(caps)
	for i := range hops {
		hops[i].Name = names[i]
		hops[i].Files = []string{names[i] + ".pcap"}
	}
	return hops
}

func TestCompare_Golden(t *testing.T) {
	r := Compare(goldenScenario(), Options{Incident: "INC-4711 chat messages lost"})
	got := mustJSON(t, r)
	path := filepath.Join("testdata", "compare.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./correlate -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Result JSON differs from %s (run with -update after checking):\n%s", path, got)
	}
	// The contract round-trips.
	var back schema.Result
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if again := mustJSON(t, &back); !bytes.Equal(again, got) {
		t.Error("Result does not round-trip through JSON")
	}
}
