package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
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
