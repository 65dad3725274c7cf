package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
)

// TestCompare_OneWayCapture: the fw hop's capture holds one direction of every connection only,
// as with asymmetric routing (the answers return by another router) or tcpdump -Q in/out. Made
// from the bundled real captures by keeping the fw capture's packets of one direction (what
// tcpdump -Q would have written on that interface). The direction a hop did not see is judged
// without it; the one it saw is read (the client's frames without the 101, the server's frames
// after a 101 whose request it never saw) and judged as usual. Before, a client-side-only fw
// held no message and the loss beyond it was called "lost at fw" (between lb and fw), and every
// other direction a capture gap at fw.
func TestCompare_OneWayCapture(t *testing.T) {
	ex := filepath.Join("..", "..", "examples")
	const server = 80 // nginx's port, the fw capture's server side
	for _, tc := range []struct {
		name, example string
		keepFrom      string // "client" or "server": the side whose packets the capture kept
		want          map[string]string
		fwCounts      [2]string // fw's per-hop count of conn 2: c2s, s2c ("-": not judged there)
	}{
		{"c2s-drop, client side only", "c2s-drop", "client",
			map[string]string{"/chat/2 client_to_server": "lost ingress"}, [2]string{"7", "-"}},
		{"c2s-drop, server side only", "c2s-drop", "server",
			map[string]string{"/chat/2 client_to_server": "lost ingress"}, [2]string{"-", "12"}},
		{"s2c-drop, client side only", "s2c-drop", "client",
			map[string]string{"/chat/2 server_to_client": "lost lb"}, [2]string{"-", "-"}},
		{"s2c-drop, server side only", "s2c-drop", "server",
			map[string]string{"/chat/2 server_to_client": "lost fw"}, [2]string{"-", "11"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw := rewriteDropping(t, filepath.Join(ex, tc.example, "fw.pcap"), t.TempDir(), 0, func(_ int, data []byte, lt layers.LinkType) bool {
				src, _ := tcpPorts(data, lt)
				return (src == server) != (tc.keepFrom == "server")
			})
			code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, "client|"+tc.example+"/client.pcap", "lb|"+tc.example+"/lb-*.pcap",
				"fw|"+fw, "ingress|"+tc.example+"/ingress.pcap", "server|"+tc.example+"/server.pcap"), "-f", "json")
			if code != exitLoss {
				t.Errorf("exit %d, want %d: %s", code, exitLoss, stderr)
			}
			r := checkVerdicts(t, stdout, tc.want)
			hopWarning(t, r, "fw", "captured one way only")
			counts := perHopOf(t, stdout, "/chat/2", "fw")
			if tc.fwCounts[0] != "-" && counts[0] != tc.fwCounts[0] {
				t.Errorf("fw's count of conn 2 to server %s, want %s", counts[0], tc.fwCounts[0])
			}
			if counts[1] != tc.fwCounts[1] && tc.keepFrom == "server" {
				t.Errorf("fw's count of conn 2 to client %s, want %s", counts[1], tc.fwCounts[1])
			}
			if tc.keepFrom == "client" && counts[1] != "-" {
				t.Errorf("fw's count of conn 2 to client %s, want none: fw saw none of that direction", counts[1])
			}
			if tc.keepFrom == "server" && counts[0] != "-" {
				t.Errorf("fw's count of conn 2 to server %s, want none: fw saw none of that direction", counts[0])
			}
		})
	}
}

// perHopOf returns the message counts of a connection's two directions (client to server,
// server to client) at one hop in a JSON report, "-" where the hop has none.
func perHopOf(t *testing.T, stdout, path, hop string) [2]string {
	t.Helper()
	var r struct {
		Connections []struct {
			Path       string `json:"path"`
			Directions map[string]struct {
				PerHop map[string]*struct {
					Messages *int `json:"messages"`
				} `json:"per_hop"`
			} `json:"directions"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	out := [2]string{"-", "-"}
	for _, c := range r.Connections {
		if c.Path != path {
			continue
		}
		for i, d := range []string{"client_to_server", "server_to_client"} {
			if v := c.Directions[d].PerHop[hop]; v != nil && v.Messages != nil {
				out[i] = fmt.Sprint(*v.Messages)
			}
		}
	}
	return out
}

// TestCompare_SightLostMidConnection: the ingress capture stops seeing nginx's packets partway
// through (asymmetric routing that began mid-connection: a route change, an ECMP rehash), made
// from s2c-drop's real ingress capture by leaving out, from packet 115 on (22:34:13.611, just
// before server message 6 of conn 2, which the fw drops), every packet from port 80. Before,
// ingress lacking that message read as a loss there: "LOST at ingress (between server and
// ingress) ... the component between server and ingress received it and did not forward it",
// confident. The client's messages that ingress saw after that point went on to the server, so
// nginx acknowledged them, and no acknowledgement is in the capture: ingress cannot tell, and
// the loss is placed by fw, at low confidence.
func TestCompare_SightLostMidConnection(t *testing.T) {
	ex := filepath.Join("..", "..", "examples")
	const server, from = 80, 115
	ingress := rewriteDropping(t, filepath.Join(ex, "s2c-drop", "ingress.pcap"), t.TempDir(), 0, func(n int, data []byte, lt layers.LinkType) bool {
		src, _ := tcpPorts(data, lt)
		return n >= from && src == server
	})
	code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, "client|s2c-drop/client.pcap", "lb|s2c-drop/lb-*.pcap",
		"fw|s2c-drop/fw.pcap", "ingress|"+ingress, "server|s2c-drop/server.pcap"), "-f", "json")
	if code != exitLoss {
		t.Errorf("exit %d, want %d: %s", code, exitLoss, stderr)
	}
	var r struct {
		Connections []struct {
			Path       string `json:"path"`
			Directions map[string]struct {
				Verdict         string  `json:"verdict"`
				FirstMissingHop *string `json:"first_missing_hop"`
				LowConfidence   bool    `json:"low_confidence"`
				Missing         int     `json:"missing"`
				Index           *int    `json:"index"`
				Reason          string  `json:"reason"`
			} `json:"directions"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, c := range r.Connections {
		for dir, d := range c.Directions {
			if c.Path == "/chat/2" && dir == "server_to_client" {
				if d.Verdict != "lost" || str(d.FirstMissingHop) != "fw" || !d.LowConfidence || d.Missing != 6 || d.Index == nil || *d.Index != 6 ||
					!strings.Contains(d.Reason, "whether it reached ingress before is not known: ingress's capture had stopped seeing the server side's packets") {
					t.Errorf("conn 2 to client: %s at %s (low %v), %d missing from %v, want lost at fw, low confidence, 6 from #6, ingress out of sight: %s",
						d.Verdict, str(d.FirstMissingHop), d.LowConfidence, d.Missing, num(d.Index), d.Reason)
				}
				continue
			}
			// The other connections' later server messages reached the client: ingress's capture
			// missed them (its holes were acknowledged), never a loss.
			if d.Verdict != "delivered" && d.Verdict != "capture_gap" {
				t.Errorf("%s %s: %s at %s, want delivered or a capture gap at ingress: %s", c.Path, dir, d.Verdict, str(d.FirstMissingHop), d.Reason)
			}
		}
	}
}

// TestCompare_OtherBoxServer: the server hop's capture comes from another host running the same
// application at the same time (examples/otherbox-c2s-drop: a concurrent lab run, the same
// payloads, other keys). Its connections pair with ingress's by time and digests, as through a
// terminating proxy, and conn 2's loss was counted as 1 message (truth: 6), confident: the other
// server has messages 7-11, which at ingress lie behind a hole nginx never acknowledged, so no
// component could have forwarded them. That direction is now low confidence and says why.
func TestCompare_OtherBoxServer(t *testing.T) {
	code, stdout, stderr := runWspath(t, "compare", filepath.Join("..", "..", "examples", "otherbox-c2s-drop", "otherbox.yaml"), "-f", "json")
	if code == exitError {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Connections []struct {
			Path       string `json:"path"`
			Directions map[string]struct {
				Verdict       string `json:"verdict"`
				LowConfidence bool   `json:"low_confidence"`
				Reason        string `json:"reason"`
			} `json:"directions"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	found := false
	for _, c := range r.Connections {
		d := c.Directions["client_to_server"]
		if c.Path != "/chat/2" {
			continue
		}
		found = true
		if d.Verdict == "lost" && (!d.LowConfidence || !strings.Contains(d.Reason, "the connection matched at server may not be this one")) {
			t.Errorf("conn 2 to server: %s, low confidence %v, want low confidence naming the impossible pairing: %s", d.Verdict, d.LowConfidence, d.Reason)
		}
	}
	if !found {
		t.Error("conn 2 not reported")
	}
}
