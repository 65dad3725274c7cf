package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// truth is the ground truth the network lab writes next to each scenario's captures
// (examples/netlab): what happened to every connection, by construction of the fault.
type truth struct {
	Scenario    string `json:"scenario"`
	Connections []struct {
		Key        string                    `json:"key"`
		Path       string                    `json:"path"`
		Directions map[string]truthDirection `json:"directions"`
	} `json:"connections"`
}

type truthDirection struct {
	Verdict string  `json:"verdict"`
	Hop     *string `json:"hop"`
}

// verdicts is the part of `wspath compare -f json` the scenarios check.
type verdicts struct {
	Connections []struct {
		Key        *string `json:"key"`
		Directions map[string]struct {
			Verdict         string  `json:"verdict"`
			FirstMissingHop *string `json:"first_missing_hop"`
			Reason          string  `json:"reason"`
		} `json:"directions"`
	} `json:"connections"`
	Summary struct {
		Verdict string `json:"verdict"`
	} `json:"summary"`
}

// checkScenario runs `wspath compare DIR/hops.yaml -f json` in-process and checks, for every
// connection and direction of DIR/truth.json, the verdict and the first hop missing messages.
func checkScenario(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want truth
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	code, stdout, stderr := runWspath(t, "compare", filepath.Join(dir, "hops.yaml"), "-f", "json")
	if code == exitError {
		t.Fatalf("exit status 2: %s", stderr)
	}
	var got verdicts
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	byKey := map[string]int{}
	for i, c := range got.Connections {
		if c.Key != nil {
			byKey[*c.Key] = i
		}
	}
	worst := "delivered"
	for _, wc := range want.Connections {
		i, ok := byKey[wc.Key]
		if !ok {
			t.Errorf("connection %s (%s): not reported", wc.Key, wc.Path)
			continue
		}
		for dir, wd := range wc.Directions {
			gd := got.Connections[i].Directions[dir]
			if gd.Verdict != wd.Verdict || str(gd.FirstMissingHop) != str(wd.Hop) {
				t.Errorf("connection %s %s: got %s at %s, want %s at %s (%s)", wc.Path, dir,
					gd.Verdict, str(gd.FirstMissingHop), wd.Verdict, str(wd.Hop), gd.Reason)
			}
			if rank(wd.Verdict) > rank(worst) {
				worst = wd.Verdict
			}
		}
	}
	if got.Summary.Verdict != worst {
		t.Errorf("summary verdict %s, want %s", got.Summary.Verdict, worst)
	}
	if wantCode := exitFor(worst); code != wantCode {
		t.Errorf("exit status %d, want %d", code, wantCode)
	}
}

func str(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func rank(v string) int {
	return map[string]int{"delivered": 0, "capture_gap": 1, "undecided": 2, "modified": 3, "closed": 4, "lost": 5}[v]
}

func exitFor(worst string) int {
	switch worst {
	case "delivered":
		return exitOK
	case "lost", "closed", "modified":
		return exitLoss
	}
	return exitInconclusive
}

// TestExamples checks wspath's verdicts on the real captures bundled in examples/ against the
// ground truth the lab recorded when it made them.
func TestExamples(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*", "truth.json"))
	if len(dirs) == 0 {
		t.Fatal("no bundled examples with truth.json")
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) { checkScenario(t, dir) })
	}
}

// checkOneLoss runs compare on a hops.yaml made from the c2s-drop lab case and checks that only
// /chat/2's client_to_server direction is lost, at hop, and everything else delivered.
func checkOneLoss(t *testing.T, yaml, hop string) verdicts {
	t.Helper()
	code, stdout, stderr := runWspath(t, "compare", yaml, "-f", "json")
	if code != exitLoss {
		t.Fatalf("exit status %d, want 1; stderr %s", code, stderr)
	}
	var got verdicts
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Connections) != 3 {
		t.Fatalf("%d connections, want 3", len(got.Connections))
	}
	for _, c := range got.Connections {
		for dir, d := range c.Directions {
			want, wantHop := "delivered", "null"
			if str(c.Key) == "lgaqtf0DIFP6HMf7bDQ7NA==" && dir == "client_to_server" {
				want, wantHop = "lost", hop
			}
			if d.Verdict != want || str(d.FirstMissingHop) != wantHop {
				t.Errorf("%s %s: %s at %s, want %s at %s (%s)", str(c.Key), dir, d.Verdict, str(d.FirstMissingHop), want, wantHop, d.Reason)
			}
		}
	}
	return got
}

// TestCompare_BothSidesCapture: a hop captured with -i any on a proxy host holds both of its
// connections per WebSocket; they must not be reported as extra connections.
func TestCompare_BothSidesCapture(t *testing.T) {
	checkOneLoss(t, filepath.Join("testdata", "both-sides", "hops.yaml"), "ingress.in")
}

// TestCompare_RouterAnyCapture: a router's hop captured with -i any holds every forwarded packet
// twice; the copies are not retransmissions, so the evidence still counts only the real ones.
func TestCompare_RouterAnyCapture(t *testing.T) {
	got := checkOneLoss(t, filepath.Join("testdata", "router-any", "hops.yaml"), "ingress")
	for _, c := range got.Connections {
		if d := c.Directions["client_to_server"]; d.Verdict == "lost" && !strings.Contains(d.Reason, "(6 retransmissions") {
			t.Errorf("reason %q: want the fw's 6 real retransmissions, not the capture's copies", d.Reason)
		}
	}
}

// TestCompare_LateStartCapture: a hop whose capture began while the connections were open (no
// handshake, deflate context unknown) is a capture gap, never a loss.
func TestCompare_LateStartCapture(t *testing.T) {
	code, stdout, stderr := runWspath(t, "compare", filepath.Join("testdata", "late-start", "hops.yaml"), "-f", "json")
	if code != exitInconclusive {
		t.Fatalf("exit status %d, want 3; stderr %s", code, stderr)
	}
	var got verdicts
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Connections) != 3 {
		t.Fatalf("%d connections, want 3 (the fw's mid-stream sessions matched to them)", len(got.Connections))
	}
	for _, c := range got.Connections {
		for dir, d := range c.Directions {
			if d.Verdict != "capture_gap" || str(d.FirstMissingHop) != "fw" {
				t.Errorf("%s %s: %s at %s, want capture_gap at fw (%s)", str(c.Key), dir, d.Verdict, str(d.FirstMissingHop), d.Reason)
			}
		}
	}
}
