package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wspath/wspath/hopsconfig"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPlan_Golden plans testdata/hops.yaml, whose hops cover a full description, a missing
// interface and port, -i any, the three kinds of pcap names and the TLS stacks.
func TestPlan_Golden(t *testing.T) {
	cfg, err := hopsconfig.LoadPlan(filepath.Join("testdata", "hops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := New(cfg, Options{}).Write(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "plan.golden")
	if *update {
		os.WriteFile(golden, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("plan differs from %s (go test ./plan -update):\n%s", golden, b.String())
	}
}

func TestPlan_Commands(t *testing.T) {
	cfg, err := hopsconfig.LoadPlan(filepath.Join("testdata", "hops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := New(cfg, Options{RingFileMB: 10, RingFiles: 5})
	for _, tc := range []struct {
		hop         string
		want, never []string
	}{
		{"client", []string{"-i wlan0", "-s 0", "--time-stamp-precision nano", "-C 10 -W 5 -w client.pcap ", "'tcp and host 192.0.2.10'"}, []string{"<"}},
		{"lb", []string{"-i any", "-G 300 -w 'lb-%Y%m%d-%H%M%S.pcap'", "'tcp and port 443'"}, []string{"-C"}},
		{"fw", []string{PlaceholderInterface, "'tcp and (host 198.51.100.7 or host 2001:db8::7)'"}, []string{PlaceholderPort}},
		{"ingress", []string{"'tcp and host 10.0.3.2 and port 8443'"}, nil},
		{"server", []string{"port " + PlaceholderPort, "-w server-a.pcap "}, nil},
	} {
		var h *Hop
		for i := range p.Hops {
			if p.Hops[i].Name == tc.hop {
				h = &p.Hops[i]
			}
		}
		if h == nil {
			t.Fatalf("no hop %s", tc.hop)
		}
		for _, w := range tc.want {
			if !strings.Contains(h.Command+" ", w) {
				t.Errorf("%s: %q lacks %q", tc.hop, h.Command, w)
			}
		}
		for _, n := range tc.never {
			if strings.Contains(h.Command, n) {
				t.Errorf("%s: %q has %q", tc.hop, h.Command, n)
			}
		}
	}
	notes := func(hop string) string {
		for _, h := range p.Hops {
			if h.Name == hop {
				return strings.Join(h.Notes, "\n")
			}
		}
		return ""
	}
	for hop, want := range map[string]string{"lb": "tune.ssl.keylog", "ingress": "nginx cannot", "client": "SSLKEYLOGFILE",
		"fw": "fw.pcap*"} {
		if !strings.Contains(notes(hop), want) {
			t.Errorf("%s notes lack %q:\n%s", hop, want, notes(hop))
		}
	}
	if !strings.Contains(notes("lb"), "SLL2") {
		t.Error("no -i any caveat")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"eth0": "eth0", "tcp and port 1": "'tcp and port 1'", "it's": `'it'\''s'`, "": "''", "a%Y": "'a%Y'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
