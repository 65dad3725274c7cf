package capture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestRead_MatchesTshark reads every hop of the lab captures bundled in examples/ and checks the
// data messages found per connection and direction against the counts tshark's WebSocket
// dissector gave for the same capture (recorded by the lab in truth.json). Hops whose connection
// had bytes missing are left out: there the two tools disagree by design (tshark dissects
// segments after a hole; wspath does not guess).
func TestRead_MatchesTshark(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("..", "examples", "*", "truth.json"))
	if len(cases) == 0 {
		t.Fatal("no lab captures in examples/")
	}
	compared := 0
	for _, tf := range cases {
		dir := filepath.Dir(tf)
		var truth struct {
			Connections []struct {
				Key        string `json:"key"`
				Directions map[string]struct {
					Tshark map[string]struct {
						Data int `json:"data"`
					} `json:"tshark"`
				} `json:"directions"`
			} `json:"connections"`
		}
		readJSON(t, tf, &truth)
		for hop, files := range hopFiles(t, dir) {
			c, err := Read(files, Options{})
			if err != nil {
				t.Fatalf("%s: %v", dir, err)
			}
			byKey := map[string]*Session{}
			for _, s := range c.Sessions {
				byKey[s.Key()] = s
			}
			for _, tc := range truth.Connections {
				s := byKey[tc.Key]
				for _, d := range Directions {
					want, ok := tc.Directions[d.String()].Tshark[hop]
					if !ok || s == nil || len(s.TCP[d].Gaps) > 0 || len(s.TCP[1-d].Gaps) > 0 {
						continue
					}
					got := 0
					for _, m := range s.Messages[d] {
						if m.Opcode.IsData() && !m.Flags.Has(Incomplete) {
							got++
						}
					}
					compared++
					if got != want.Data {
						t.Errorf("%s %s %s %s: %d data messages, tshark %d", filepath.Base(dir), hop, tc.Key, d, got, want.Data)
					}
				}
			}
		}
	}
	t.Logf("%d hop, connection and direction counts compared", compared)
	if compared < 100 {
		t.Errorf("only %d comparisons made", compared)
	}
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
