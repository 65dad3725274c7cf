package capture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestRead_MatchesTshark reads every hop of the lab captures bundled in examples/ (TLS hops with
// the case's key log, keys.txt, as tshark read them) and checks the data messages found per
// connection and direction against the counts tshark's WebSocket dissector gave for the same
// capture (recorded by the lab in truth.json). Every hop, connection and direction is compared;
// where the connection had bytes missing at that hop the two tools may disagree by design
// (tshark dissects segments after a hole; wspath does not guess): such disagreements are listed
// instead, and must stay at the number known.
func TestRead_MatchesTshark(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("..", "examples", "*", "truth.json"))
	if len(cases) == 0 {
		t.Fatal("no lab captures in examples/")
	}
	var compared, holes int
	for _, tf := range cases {
		c, h := compareWithTshark(t, filepath.Dir(tf))
		compared, holes = compared+c, holes+h
	}
	t.Logf("%d hop, connection and direction counts compared, %d left out for bytes missing", compared, holes)
	// The bundled cases as of this writing: 930 hop, connection and direction counts in the
	// five-hop cases (60 of them on the HTTP/2 hops of the h2-* cases), plus the capture-drops
	// cases (six hops, 8 connections), all compared but one: in capture-drops-loss the ingress lacks the bytes the firewall dropped, and tshark
	// dissects the retransmitted segments after that hole as one more message (31) where wspath
	// reads the 30 before it. The fwdrop hop's many holes all agree. Adding a case raises the
	// floor; a drop means comparisons silently stopped being made.
	const wantCompared, wantHoles = 1161, 1
	if compared < wantCompared || holes > wantHoles {
		t.Errorf("%d comparisons made and %d left out for holes, want at least %d and at most %d", compared, holes, wantCompared, wantHoles)
	}
}

// compareWithTshark compares one case; it returns the comparisons made and those left out.
func compareWithTshark(t *testing.T, dir string) (compared, holes int) {
	t.Helper()
	var truth struct {
		Connections []struct {
			Key         string `json:"key"`
			UpstreamKey string `json:"upstream_key"`
			// WebSocket over HTTP/2 (the h2-* cases): the hops where the connection is an HTTP/2
			// stream name it "h2:<path>", and the client logged its stream id.
			H2HopKeys  map[string]string `json:"h2_hop_keys"`
			H2Stream   uint32            `json:"h2_stream"`
			Directions map[string]struct {
				Tshark map[string]struct {
					Data int `json:"data"`
				} `json:"tshark"`
			} `json:"directions"`
		} `json:"connections"`
		Hops []string `json:"hops"`
		TLS  *struct {
			Keylog  string   `json:"keylog"`
			TLSHops []string `json:"tls_hops"`
		} `json:"tls"`
	}
	readJSON(t, filepath.Join(dir, "truth.json"), &truth)
	var opt Options
	if truth.TLS != nil {
		// tshark read the TLS hops with this key log, whatever hops.yaml gives wspath.
		opt.KeylogFiles = []string{filepath.Join(dir, truth.TLS.Keylog)}
	}
	files := hopFiles(t, dir)
	for _, hop := range truth.Hops {
		if len(files[hop]) == 0 {
			t.Errorf("%s: hop %s in truth.json has no capture in hops.yaml", dir, hop)
			continue
		}
		c, err := Read(files[hop], opt)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		byKey := map[string]*Session{}
		for _, s := range c.Sessions {
			byKey[s.Key()] = s
			if s.HTTP2 != nil {
				byKey["h2:"+s.Path()] = s
			}
		}
		for _, tc := range truth.Connections {
			key := tc.Key
			if hop == "server" && tc.UpstreamKey != "" {
				key = tc.UpstreamKey // a relay at the ingress opened its own WebSocket to the server
			}
			if k, ok := tc.H2HopKeys[hop]; ok {
				key = k
			}
			s := byKey[key]
			if s != nil && s.HTTP2 != nil && s.HTTP2.StreamID != tc.H2Stream {
				t.Errorf("%s %s %s: HTTP/2 stream %d, the client logged %d", filepath.Base(dir), hop, key, s.HTTP2.StreamID, tc.H2Stream)
			}
			for _, d := range Directions {
				want, ok := tc.Directions[d.String()].Tshark[hop]
				if !ok {
					t.Errorf("%s %s %s %s: truth.json has no tshark count", filepath.Base(dir), hop, key, d)
					continue
				}
				// No session: wspath found no WebSocket connection with this key at this hop.
				got := dataCount(s, d)
				if got != want.Data && s != nil && (len(s.TCP[d].Gaps) > 0 || len(s.TCP[1-d].Gaps) > 0) {
					t.Logf("left out: %s %s %s %s: bytes missing in the capture; wspath %d data messages, tshark %d",
						filepath.Base(dir), hop, key, d, got, want.Data)
					holes++
					continue
				}
				compared++
				if got != want.Data {
					t.Errorf("%s %s %s %s: %d data messages, tshark %d", filepath.Base(dir), hop, key, d, got, want.Data)
				}
			}
		}
	}
	return compared, holes
}

// dataCount counts the complete data messages of direction d of s (0 for no session).
func dataCount(s *Session, d Direction) int {
	if s == nil {
		return 0
	}
	n := 0
	for _, m := range s.Messages[d] {
		if m.Opcode.IsData() && !m.Flags.Has(Incomplete) {
			n++
		}
	}
	return n
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// hopFiles reads the hops and their capture files from a lab hops.yaml (one file or a glob per hop).
func hopFiles(t *testing.T, dir string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "hops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Hops []struct {
			Name string `yaml:"name"`
			Pcap string `yaml:"pcap"`
		} `yaml:"hops"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, h := range cfg.Hops {
		files, _ := filepath.Glob(filepath.Join(dir, h.Pcap))
		out[h.Name] = files
	}
	return out
}
