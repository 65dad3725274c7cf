package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// TestCompare_WebsockifyBase64 compares a real run of websockify-js with the "base64" subprotocol
// (correlate/testdata/websockify-base64, see make.sh there): each WebSocket message is the base64
// text of the bytes on the TCP side. The namespace's iptables dropped client message 6 on the TCP
// side only, so that direction is lost at echo from message 6 (6 of 12 missing), and the server's
// echoes and ticks all reached the client. The truth outside wspath: the client's messages are
// known by construction (client.py), and tshark's TCP payloads at echo are exactly the bytes of
// messages 0 to 5.
func TestCompare_WebsockifyBase64(t *testing.T) {
	dir := filepath.Join("..", "..", "correlate", "testdata", "websockify-base64")
	code, stdout, stderr := runWspath(t, "compare", filepath.Join(dir, "hops.yaml"), "-f", "json")
	if code != exitLoss {
		t.Fatalf("exit status %d, want 1; stderr %s", code, stderr)
	}
	var got verdicts
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Connections) != 1 {
		t.Fatalf("%d connections, want 1", len(got.Connections))
	}
	c2s, s2c := got.Connections[0].Directions["client_to_server"], got.Connections[0].Directions["server_to_client"]
	if c2s.Verdict != "lost" || str(c2s.FirstMissingHop) != "echo" || c2s.Missing != 6 {
		t.Errorf("client_to_server: %s at %s, %d missing; want lost at echo, 6 missing (%s)", c2s.Verdict, str(c2s.FirstMissingHop), c2s.Missing, c2s.Reason)
	}
	if s2c.Verdict != "delivered" {
		t.Errorf("server_to_client: %s, want delivered (%s)", s2c.Verdict, s2c.Reason)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: the TCP side's bytes are not checked")
	}
	out, err := exec.Command("tshark", "-r", filepath.Join(dir, "echo.pcap"), "-Y", "tcp.dstport == 5901 && tcp.len > 0 && !tcp.analysis.retransmission",
		"-T", "fields", "-e", "tcp.payload").Output()
	if err != nil {
		t.Fatal(err)
	}
	var tcp []byte
	for _, line := range strings.Fields(string(out)) {
		b, err := hex.DecodeString(strings.ReplaceAll(line, ":", ""))
		if err != nil {
			t.Fatal(err)
		}
		tcp = append(tcp, b...)
	}
	var want []byte
	for i := range 6 { // client.py's chunks 0 to 5
		want = append(want, fmt.Sprintf("wsl-b64-m%d %s", i, strings.Repeat("x", i*97+i%3))...)
	}
	if !bytes.Equal(tcp, want) {
		t.Errorf("tshark's client bytes at echo: %d bytes, want client messages 0-5 (%d bytes)", len(tcp), len(want))
	}
}
