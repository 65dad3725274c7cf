package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestExamples_BridgeCounts holds the bridge hop of the bridge-* cases (the TCP side of
// websockify, hops.yaml bridge: tcp) to the truth: per connection and direction, the messages
// wspath found in the TCP stream equal the client messages truth.py found in tshark's TCP
// payloads there, in order. (TestRead_MatchesTshark cannot: there are no frames to count.)
func TestExamples_BridgeCounts(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("..", "..", "examples", "bridge-*", "truth.json"))
	if len(cases) == 0 {
		t.Fatal("no bridge case in examples/")
	}
	for _, tf := range cases {
		dir := filepath.Dir(tf)
		var want struct {
			Bridge struct {
				Hop string `json:"hop"`
			} `json:"bridge"`
			Connections []struct {
				Key        string `json:"key"`
				Directions map[string]struct {
					Tshark map[string]struct {
						Data int `json:"data"`
					} `json:"tshark"`
				} `json:"directions"`
			} `json:"connections"`
		}
		readJSONFile(t, tf, &want)
		_, stdout, stderr := runWspath(t, "compare", filepath.Join(dir, "hops.yaml"), "-f", "json")
		var got struct {
			Connections []struct {
				Key        *string `json:"key"`
				Directions map[string]struct {
					PerHop map[string]struct {
						Messages int `json:"messages"`
					} `json:"per_hop"`
				} `json:"directions"`
			} `json:"connections"`
			Segments []struct {
				To   string `json:"to"`
				Kind string `json:"kind"`
			} `json:"segments"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%s: %v: %s", dir, err, stderr)
		}
		hop, compared := want.Bridge.Hop, 0
		for _, s := range got.Segments {
			if s.To == hop && s.Kind != "bridged" {
				t.Errorf("%s: segment into %s is %s, want bridged", dir, hop, s.Kind)
			}
		}
		for _, wc := range want.Connections {
			for _, gc := range got.Connections {
				if gc.Key == nil || *gc.Key != wc.Key {
					continue
				}
				for d, wd := range wc.Directions {
					compared++
					if n, w := gc.Directions[d].PerHop[hop].Messages, wd.Tshark[hop].Data; n != w {
						t.Errorf("%s %s %s: %d messages at %s, tshark's TCP payloads carry %d", filepath.Base(dir), wc.Key, d, n, hop, w)
					}
				}
			}
		}
		if compared != 2*len(want.Connections) {
			t.Errorf("%s: %d directions compared, want %d", dir, compared, 2*len(want.Connections))
		}
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
