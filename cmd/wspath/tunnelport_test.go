package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestCompare_VXLANPort compares the real underlay capture of capture/encap/testdata/tun (six
// user-space tunnels and the kernel's VXLAN on UDP 9999) with the server's plain capture of the
// same seven connections: with vxlan_port: 9999 in hops.yaml every connection is delivered at
// both hops, the VXLAN one included.
func TestCompare_VXLANPort(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "capture", "encap", "testdata", "tun"))
	if err != nil {
		t.Fatal(err)
	}
	yaml := filepath.Join(t.TempDir(), "hops.yaml")
	cfg := "hops:\n  - name: underlay\n    pcap: " + filepath.Join(dir, "underlay.pcap") + "\n    vxlan_port: 9999\n" +
		"  - name: server\n    pcap: " + filepath.Join(dir, "server.pcap") + "\n"
	if err := os.WriteFile(yaml, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runWspath(t, "compare", yaml, "-f", "json")
	if code != 0 {
		t.Fatalf("exit status %d, want 0; stderr %s", code, stderr)
	}
	var got verdicts
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, c := range got.Connections {
		paths[c.Path] = true
		for dir, d := range c.Directions {
			if d.Verdict != "delivered" {
				t.Errorf("%s %s: %s", c.Path, dir, d.Verdict)
			}
		}
	}
	if len(got.Connections) != 7 || !paths["/vxlan9999"] {
		t.Errorf("%d connections %v, want the 7 of the capture, /vxlan9999 among them", len(got.Connections), paths)
	}
}
