package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"

	"github.com/wspath/wspath/schema"
)

// TestCompare_CutByReset: a server message in flight when haproxy's side reset the connection
// (examples/rst-inflight, a real rst run). As captured, nginx sent all three segments of the 3 KB
// message 7 before the resets reached it: ingress and fw have it whole, lb lacks it (closed at
// lb). A CI run caught nginx reset after the first segment only; the same run with the second
// and third removed from the ingress and fw captures stands for it. tshark then decodes 7
// messages at ingress, not 8, and the message is closed at ingress, by the client side's RST,
// not "seen at fw" and closed at lb.
func TestCompare_CutByReset(t *testing.T) {
	ex := filepath.Join("..", "..", "examples", "rst-inflight")
	hops := func(fw, ingress string) string {
		return hopsYAML(t, "client|rst-inflight/client.pcap", "lb|rst-inflight/lb-*.pcap", "fw|"+fw,
			"ingress|"+ingress, "server|rst-inflight/server.pcap")
	}
	tests := []struct {
		name        string
		cut         bool
		s2c, ending string
		reason      string
	}{
		{"as captured", false, "closed lb", "", "never reached lb"},
		{"cut after the first segment", true, "closed ingress", "ingress client rst", "reached ingress only in part"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fw, ingress := "rst-inflight/fw.pcap", "rst-inflight/ingress.pcap" // hopsYAML: under examples/
			if tc.cut {
				dir := t.TempDir()
				// Packet numbers of message 7's second and third segments (1448 and 193 bytes).
				drop := func(nums ...int) func(int, []byte, layers.LinkType) bool {
					return func(n int, _ []byte, _ layers.LinkType) bool {
						for _, k := range nums {
							if n == k {
								return true
							}
						}
						return false
					}
				}
				fw = rewriteDropping(t, filepath.Join(ex, "fw.pcap"), dir, 0, drop(70, 72))
				ingress = rewriteDropping(t, filepath.Join(ex, "ingress.pcap"), t.TempDir(), 0, drop(68, 70))
			}
			_, stdout, stderr := runWspath(t, "compare", hops(fw, ingress), "-f", "json")
			r := checkVerdicts(t, stdout, map[string]string{
				"/chat/1 client_to_server": "closed ingress", "/chat/1 server_to_client": tc.s2c})
			for _, c := range r.Connections {
				if d, ok := c.Directions["server_to_client"]; ok && c.Path == "/chat/1" &&
					(!strings.Contains(d.Reason, "message 7 ") || !strings.Contains(d.Reason, tc.reason)) {
					t.Errorf("reason %q lacks message 7 and %q (%s)", d.Reason, tc.reason, stderr)
				}
			}
			if tc.ending == "" {
				return
			}
			var full schema.Result
			if err := json.Unmarshal([]byte(stdout), &full); err != nil {
				t.Fatal(err)
			}
			for _, c := range full.Connections {
				if c.Path == nil || *c.Path != "/chat/1" {
					continue
				}
				e := c.Directions.ServerToClient.Evidence.Ending
				if e == nil || e.Hop+" "+e.Side+" "+e.Kind != tc.ending {
					t.Errorf("ending %+v, want %s", e, tc.ending)
				}
			}
		})
	}
}
