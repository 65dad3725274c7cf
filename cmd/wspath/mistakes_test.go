package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A test per input mistake of issue 8, on the bundled real captures: each must be refused (exit
// 2, saying what to fix) or give a warning on the hop concerned while the remaining hops still
// prove what they prove.

// hopsYAML writes a hops.yaml of name:pcap[:keylog] entries into a temporary directory; relative
// paths are taken from examples/.
func hopsYAML(t *testing.T, hops ...string) string {
	t.Helper()
	ex, _ := filepath.Abs(filepath.Join("..", "..", "examples"))
	var b strings.Builder
	b.WriteString("hops:\n")
	for _, h := range hops {
		f := strings.Split(h, "|")
		abs := func(p string) string {
			if filepath.IsAbs(p) {
				return p
			}
			return filepath.Join(ex, p)
		}
		b.WriteString("  - name: " + f[0] + "\n    pcap: \"" + abs(f[1]) + "\"\n")
		if len(f) > 2 {
			b.WriteString("    keylog: \"" + abs(f[2]) + "\"\n")
		}
	}
	p := filepath.Join(t.TempDir(), "hops.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var c2sDrop = []string{"client|c2s-drop/client.pcap", "lb|c2s-drop/lb-*.pcap", "fw|c2s-drop/fw.pcap",
	"ingress|c2s-drop/ingress.pcap", "server|c2s-drop/server.pcap"}

// mistakeResult is the part of the JSON report these tests read.
type mistakeResult struct {
	Hops []struct {
		Name     string   `json:"name"`
		Warnings []string `json:"warnings"`
	} `json:"hops"`
	Connections []struct {
		Path       string `json:"path"`
		Directions map[string]struct {
			Verdict         string  `json:"verdict"`
			FirstMissingHop *string `json:"first_missing_hop"`
			Missing         int     `json:"missing"`
			Reason          string  `json:"reason"`
		} `json:"directions"`
	} `json:"connections"`
}

// checkVerdicts checks every connection direction of a JSON report: want maps "path direction"
// to "verdict first_missing_hop"; directions not listed must be "delivered null".
func checkVerdicts(t *testing.T, stdout string, want map[string]string) mistakeResult {
	t.Helper()
	var r mistakeResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v\n%.500s", err, stdout)
	}
	for _, c := range r.Connections {
		for dir, d := range c.Directions {
			k := c.Path + " " + dir
			w, ok := want[k]
			if !ok {
				w = "delivered null"
			}
			if got := d.Verdict + " " + str(d.FirstMissingHop); got != w {
				t.Errorf("%s: %s, want %s (%s)", k, got, w, d.Reason)
			}
		}
	}
	return r
}

func hopWarning(t *testing.T, r mistakeResult, hop, want string) {
	t.Helper()
	for _, h := range r.Hops {
		if h.Name != hop {
			continue
		}
		for _, w := range h.Warnings {
			if strings.Contains(w, want) {
				return
			}
		}
		t.Errorf("hop %s: warnings %q lack %q", hop, h.Warnings, want)
		return
	}
	t.Errorf("hop %s not reported", hop)
}

func TestMistake_HopsReversed(t *testing.T) {
	rev := make([]string, len(c2sDrop))
	for i, h := range c2sDrop {
		rev[len(rev)-1-i] = h
	}
	code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, rev...))
	if code != exitError || stdout != "" {
		t.Fatalf("exit %d, stdout %q: want 2 and no verdicts", code, stdout)
	}
	for _, w := range []string{"order the captures contradict", "the captures support: client, lb, fw, ingress, server"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
}

// Two hops swapped: the order the captures support is the real one.
func TestMistake_HopsSwapped(t *testing.T) {
	hops := append([]string{}, c2sDrop...)
	hops[2], hops[3] = hops[3], hops[2]
	code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, hops...))
	if code != exitError || stdout != "" || !strings.Contains(stderr, "ingress is listed before fw") ||
		!strings.Contains(stderr, "the captures support: client, lb, fw, ingress, server") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestMistake_OneHop(t *testing.T) {
	code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, c2sDrop[2]))
	if code != exitError || stdout != "" || !strings.Contains(stderr, "lists one hop (fw)") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want 2 naming the one hop", code, stdout, stderr)
	}
	// A hop captured on both sides of a proxy is two capture points: compared, not refused.
	code, _, stderr = runWspath(t, "compare", hopsYAML(t, "ingress|"+mustAbs(t, filepath.Join("testdata", "both-sides", "ingress-any.pcapng"))), "-f", "json")
	if code == exitError {
		t.Errorf("a both-sides capture alone was refused: %s", stderr)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestMistake_SameCapture(t *testing.T) {
	cp := filepath.Join(t.TempDir(), "copy.pcap")
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "c2s-drop", "fw.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cp, b, 0o644)
	hops := append([]string{}, c2sDrop...)
	hops[3] = "ingress|" + cp
	code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, hops...))
	if code != exitError || stdout != "" || !strings.Contains(stderr, "same contents") || !strings.Contains(stderr, "hop fw") || !strings.Contains(stderr, "hop ingress") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want 2 naming hops fw and ingress", code, stdout, stderr)
	}
	// The same file through another path.
	hops[3] = "ingress|../examples/c2s-drop/fw.pcap"
	if code, _, stderr := runWspath(t, "compare", hopsYAML(t, hops...)); code != exitError || !strings.Contains(stderr, "same contents") {
		t.Errorf("same file by another path: exit %d, %s", code, stderr)
	}
}

func TestMistake_HopWithoutWebSocket(t *testing.T) {
	hops := append([]string{}, c2sDrop...)
	hops[3] = "ingress|" + mustAbs(t, filepath.Join("testdata", "mistakes", "ingress-no-payload.pcap"))
	code, stdout, _ := runWspath(t, "compare", hopsYAML(t, hops...), "-f", "json")
	if code != exitLoss {
		t.Errorf("exit %d, want 1: the loss between fw and server is still proven", code)
	}
	r := checkVerdicts(t, stdout, map[string]string{"/chat/2 client_to_server": "lost server"})
	hopWarning(t, r, "ingress", "no WebSocket connection in this capture")
	hopWarning(t, r, "ingress", "3 TCP connection(s) to server ports 80 (3)")
	// The first hop without WebSocket: the next one is the clocks' reference, the loss is where it was.
	hops = append([]string{}, c2sDrop...)
	hops[0] = "client|" + mustAbs(t, filepath.Join("testdata", "mistakes", "ingress-no-payload.pcap"))
	code, stdout, _ = runWspath(t, "compare", hopsYAML(t, hops...), "-f", "json")
	if code != exitLoss {
		t.Errorf("client left out: exit %d, want 1", code)
	}
	r = checkVerdicts(t, stdout, map[string]string{"/chat/2 client_to_server": "lost ingress"})
	hopWarning(t, r, "client", "no WebSocket connection in this capture")
	if !strings.Contains(stdout, `"clock_offset_source": "reference"`) {
		t.Errorf("no hop is the clocks' reference")
	}
}

func TestMistake_ForeignRun(t *testing.T) {
	hops := append([]string{}, c2sDrop...)
	hops[3] = "ingress|healthy/ingress.pcap"
	code, stdout, _ := runWspath(t, "compare", hopsYAML(t, hops...), "-f", "json")
	if code != exitLoss {
		t.Errorf("exit %d, want 1", code)
	}
	r := checkVerdicts(t, stdout, map[string]string{"/chat/2 client_to_server": "lost server"})
	hopWarning(t, r, "ingress", "another time or run")
	// A foreign capture at the end of the path: nothing is lost because of it.
	hops = append([]string{}, c2sDrop[:3]...)
	hops = append(hops, "ingress|c2s-drop/ingress.pcap", "server|healthy/server.pcap")
	code, stdout, _ = runWspath(t, "compare", hopsYAML(t, hops...), "-f", "json")
	r = checkVerdicts(t, stdout, map[string]string{"/chat/2 client_to_server": "lost ingress"})
	hopWarning(t, r, "server", "another time or run")
	if code != exitLoss {
		t.Errorf("exit %d, want 1", code)
	}
}

func TestMistake_WrongKeylog(t *testing.T) {
	tls := func(keys string) []string {
		return []string{"client|tls-c2s-drop/client.pcap|" + keys, "lb|tls-c2s-drop/lb-*.pcap|" + keys,
			"fw|tls-c2s-drop/fw.pcap", "ingress|tls-c2s-drop/ingress.pcap", "server|tls-c2s-drop/server.pcap"}
	}
	// A key log of another run: it parses, and decrypts nothing here.
	code, stdout, _ := runWspath(t, "compare", hopsYAML(t, tls("tls12-s2c-drop/keys.txt")...), "-f", "json")
	if code != exitLoss {
		t.Errorf("exit %d, want 1", code)
	}
	r := checkVerdicts(t, stdout, map[string]string{"/chat/2 client_to_server": "lost ingress"})
	for _, h := range []string{"client", "lb"} {
		hopWarning(t, r, h, "keys.txt: 3 key log entries, none for the 3 TLS session(s) here")
	}
	// The capture given as key log: an error naming the file and line; the report is still written.
	code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, tls("tls-c2s-drop/server.pcap")...), "-f", "json")
	if code != exitError || !strings.Contains(stderr, "server.pcap: line 1:") || !strings.Contains(stderr, "hop client") {
		t.Fatalf("exit %d, stderr %q: want 2 naming the key log file and line", code, stderr)
	}
	r = checkVerdicts(t, stdout, map[string]string{"/chat/2 client_to_server": "lost ingress"})
	hopWarning(t, r, "lb", "not an NSS key log")
	// inspect says the same.
	ex := filepath.Join("..", "..", "examples")
	code, stdout, _ = runWspath(t, "inspect", "--keylog", filepath.Join(ex, "tls12-s2c-drop", "keys.txt"), filepath.Join(ex, "tls-c2s-drop", "client.pcap"))
	if code != exitOK || !strings.Contains(stdout, "3 key log entries, none for the 3 TLS session(s) here") {
		t.Errorf("inspect: exit %d, %s", code, stdout)
	}
	code, _, stderr = runWspath(t, "inspect", "--keylog", filepath.Join(ex, "tls-c2s-drop", "server.pcap"), filepath.Join(ex, "tls-c2s-drop", "client.pcap"))
	if code != exitError || !strings.Contains(stderr, "server.pcap: line 1:") {
		t.Errorf("inspect with a capture as key log: exit %d, %s", code, stderr)
	}
}

func TestMistake_SnapLength(t *testing.T) {
	code, stdout, _ := runWspath(t, "compare", filepath.Join("..", "..", "examples", "capture-gap", "hops.yaml"), "-f", "json")
	if code != exitInconclusive {
		t.Errorf("exit %d, want 3", code)
	}
	var r mistakeResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	hopWarning(t, r, "ingress", "snap length: 98 of 208 packets were cut short")
	for _, c := range r.Connections {
		for dir, d := range c.Directions {
			if d.Verdict != "capture_gap" || str(d.FirstMissingHop) != "ingress" {
				t.Errorf("%s %s: %s at %s, want capture_gap at ingress", c.Path, dir, d.Verdict, str(d.FirstMissingHop))
			}
		}
	}
	_, stdout, _ = runWspath(t, "inspect", filepath.Join("..", "..", "examples", "capture-gap", "ingress.pcap"))
	if !strings.Contains(stdout, "snap length: 98 of 208 packets were cut short") {
		t.Errorf("inspect lacks the snap length warning:\n%s", stdout)
	}
}

func TestMistake_UnreadableHop(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "fw.pcap")
	os.WriteFile(bad, []byte("<html>502 Bad Gateway</html>"), 0o644)
	hops := append([]string{}, c2sDrop...)
	hops[2] = "fw|" + bad
	code, stdout, stderr := runWspath(t, "compare", hopsYAML(t, hops...), "-f", "json")
	if code != exitError || !strings.Contains(stderr, "hop fw") {
		t.Errorf("exit %d, stderr %q: want 2 naming hop fw", code, stderr)
	}
	// The message lost after lb depends on fw: undecided there. Messages that reached ingress
	// passed fw whatever its capture says: delivered, never a capture gap.
	r := checkVerdicts(t, stdout, map[string]string{"/chat/2 client_to_server": "undecided fw"})
	hopWarning(t, r, "fw", "the verdicts that depend on it are undecided")
}
