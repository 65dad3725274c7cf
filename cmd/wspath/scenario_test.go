package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// truth is the ground truth the network lab writes next to each scenario's captures
// (examples/netlab/truth.py): what happened to every connection, by construction of the fault,
// from the applications' logs and from tshark.
type truth struct {
	Scenario    string            `json:"scenario"`
	Hops        []string          `json:"hops"`
	Connections []truthConnection `json:"connections"`
	// OneWay (asym-* scenarios): HopsFile gives Hop a second capture of its interface that holds
	// one direction only (tcpdump -Q); the endings tshark read at Hop are the full capture's.
	OneWay *struct {
		Hop      string `json:"hop"`
		HopsFile string `json:"hops_file"`
	} `json:"one_way"`
}

type truthConnection struct {
	Conn       int                       `json:"conn"`
	Key        string                    `json:"key"`
	Path       string                    `json:"path"`
	Directions map[string]truthDirection `json:"directions"`
	// Endings says per hop how the connection ended there (wspath's capture.Ending words), null
	// where tshark could not see the connection.
	Endings map[string]*string `json:"endings"`
}

type truthDirection struct {
	Verdict string  `json:"verdict"`
	Hop     *string `json:"hop"`
	// Missing lists the messages the receiving application never got; FirstMissing is the first.
	Missing      []int `json:"missing"`
	FirstMissing *int  `json:"first_missing"`
	Messages     []struct {
		Index  int    `json:"index"`
		SHA256 string `json:"sha256"`
	} `json:"messages"`
	// NotCaptured is what a capture gap's hop lacks.
	NotCaptured *struct {
		Hop   string `json:"hop"`
		Count int    `json:"count"`
		First *int   `json:"first"`
	} `json:"not_captured"`
	ClosedBy      string    `json:"closed_by"`
	Ending        *truthEnd `json:"ending"`
	LowConfidence *bool     `json:"low_confidence"`
	// Changed lists the messages a hop forwarded changed (app-modify), from the relay's log.
	Changed []struct {
		Index           int    `json:"index"`
		SHA256          string `json:"sha256"`
		Length          int64  `json:"length"`
		SHA256Changed   string `json:"sha256_changed"`
		LengthChanged   int64  `json:"length_changed"`
		FirstDifference int64  `json:"first_difference"`
	} `json:"changed"`
}

// truthEnd is the event that ended a connection at a hop: who sent it, and what it was.
type truthEnd struct {
	Hop  string  `json:"hop"`
	Side string  `json:"side"`
	Kind string  `json:"kind"`
	Code *uint16 `json:"code"`
}

// verdicts is the part of `wspath compare -f json` the scenarios check.
type verdicts struct {
	Connections []struct {
		ID   int     `json:"id"`
		Key  *string `json:"key"`
		Path string  `json:"path"`
		Hops map[string]*struct {
			Ending string `json:"ending"`
			TLS    string `json:"tls"`
		} `json:"hops"`
		Directions map[string]gotDirection `json:"directions"`
	} `json:"connections"`
	Summary struct {
		Verdict string `json:"verdict"`
	} `json:"summary"`
	HopList []hopName `json:"hops"`
}

type hopName struct {
	Name string `json:"name"`
}

type gotDirection struct {
	Verdict         string  `json:"verdict"`
	LowConfidence   bool    `json:"low_confidence"`
	FirstMissingHop *string `json:"first_missing_hop"`
	Missing         int     `json:"missing"`
	Index           *int    `json:"index"`
	Digest          *string `json:"digest"`
	// Uncounted: TLS records at a hop without keys that may hold more missing messages.
	Uncounted *struct {
		Records int `json:"tls_records"`
	} `json:"uncounted"`
	Evidence struct {
		Ending *truthEnd   `json:"ending"`
		Change *changeJSON `json:"change"`
	} `json:"evidence"`
	Reason string `json:"reason"`
}

// checkScenario runs `wspath compare DIR/hops.yaml -f json` in-process and holds it to all of
// DIR/truth.json: per connection and direction the verdict, the first hop missing messages, how
// many are missing, the first missing message (index and digest), the event that ended a closed
// direction (hop, side, kind, code), low confidence; per hop how each connection ended; no
// connection the truth does not list; the summary verdict and the exit status.
func checkScenario(t *testing.T, dir string) {
	t.Helper()
	checkScenarioHops(t, dir, "hops.yaml")
}

// checkScenarioHops is checkScenario with another hops file of DIR: the same captures listed
// otherwise (capture-drops lists its two fw captures in both orders), held to the same truth.
func checkScenarioHops(t *testing.T, dir, hops string) {
	t.Helper()
	checkTruth(t, dir, hops, nil)
}

// checkTruth is checkScenarioHops; a check that fails and that known names, where wspath is known
// to be wrong, is reported as a skipped subtest naming the issue instead of a failure. Keys:
// "SCENARIO DIRECTION missing", "SCENARIO capture_gap missing at HOP" (the count of a capture gap
// first missing at HOP) and "SCENARIO ending at HOP".
func checkTruth(t *testing.T, dir, hops string, known map[string]string) {
	t.Helper()
	want := readTruth(t, dir)
	code, stdout, stderr := runWspath(t, "compare", filepath.Join(dir, hops), "-f", "json")
	if code == exitError {
		t.Fatalf("exit status 2: %s", stderr)
	}
	var got verdicts
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	byKey := map[string]int{}
	listed := map[string]bool{}
	for _, wc := range want.Connections {
		listed[wc.Key] = true
	}
	for i, c := range got.Connections {
		if c.Key == nil || !listed[*c.Key] {
			t.Errorf("connection %d (%s, key %s) reported, but the truth lists no such connection", c.ID, c.Path, str(c.Key))
			continue
		}
		byKey[*c.Key] = i
	}
	worst := "delivered"
	for _, wc := range want.Connections {
		i, ok := byKey[wc.Key]
		if !ok {
			t.Errorf("connection %s (%s): not reported", wc.Key, wc.Path)
			continue
		}
		gc := got.Connections[i]
		for _, dir := range sortedKeys(wc.Directions) {
			wd := wc.Directions[dir]
			tag := fmt.Sprintf("connection %d %s %s", wc.Conn, wc.Path, dir)
			knownMissing := known[want.Scenario+" "+dir+" missing"]
			if gd := gc.Directions[dir]; gd.Verdict == "capture_gap" && knownMissing == "" {
				// How many messages a capture with holes lacks is a property of its remnants.
				knownMissing = known[want.Scenario+" capture_gap missing at "+str(gd.FirstMissingHop)]
			}
			checkDirection(t, tag, wd, gc.Directions[dir], knownMissing)
			if wd.Verdict == "closed" {
				checkCloser(t, tag, want.Hops, wc, wd, gc.Directions[dir])
			}
			if rank(wd.Verdict) > rank(worst) {
				worst = wd.Verdict
			}
		}
		for _, hop := range sortedKeys(wc.Endings) {
			we, gh := wc.Endings[hop], gc.Hops[hop]
			switch {
			case we == nil:
				// tshark did not see the connection at this hop: nothing to hold wspath to.
			case !slices.Contains(got.HopList, hopName{hop}):
				// A hops file that leaves this hop out (capture-drops' hops-two.yaml).
			case want.OneWay != nil && want.OneWay.HopsFile == hops && want.OneWay.Hop == hop:
				// This hop's capture saw one side of the connection: not how the two sides ended it.
			case gh == nil:
				t.Errorf("connection %d %s: not reported at %s, where it ended by %s", wc.Conn, wc.Path, hop, *we)
			case gh.TLS == "encrypted":
				// Without keys wspath cannot see close frames at this hop, only TCP.
			case gh.Ending != *we:
				if k := known[want.Scenario+" ending at "+hop]; k != "" {
					t.Run("ending", func(t *testing.T) {
						t.Skipf("known wrong, %s: connection %d %s: ended at %s by %s, want %s", k, wc.Conn, wc.Path, hop, gh.Ending, *we)
					})
					continue
				}
				t.Errorf("connection %d %s: ended at %s by %s, want %s", wc.Conn, wc.Path, hop, gh.Ending, *we)
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

func readTruth(t *testing.T, dir string) truth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want truth
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	for _, c := range want.Connections {
		for name, d := range c.Directions {
			// Fields truth.py derives from the captures: a truth.json without them is stale.
			if c.Endings == nil || d.LowConfidence == nil || (d.Verdict == "closed" && d.Ending == nil) ||
				(d.Verdict == "capture_gap" && d.NotCaptured == nil) {
				t.Fatalf("%s: conn %d %s lacks the fields read from the captures; run examples/netlab/truth.py --rederive %s",
					dir, c.Conn, name, dir)
			}
		}
	}
	return want
}

// checkDirection holds one direction of wspath's answer to the truth.
func checkDirection(t *testing.T, tag string, wd truthDirection, gd gotDirection, knownMissing string) {
	t.Helper()
	if gd.Verdict != wd.Verdict || str(gd.FirstMissingHop) != str(wd.Hop) {
		t.Errorf("%s: got %s at %s, want %s at %s (%s)", tag, gd.Verdict, str(gd.FirstMissingHop), wd.Verdict, str(wd.Hop), gd.Reason)
	}
	count, first := len(wd.Missing), wd.FirstMissing
	switch {
	case wd.Verdict == "capture_gap":
		count, first = wd.NotCaptured.Count, wd.NotCaptured.First
	case len(wd.Changed) > 0:
		count, first = len(wd.Changed), &wd.Changed[0].Index
		checkChange(t, tag, wd, gd.Evidence.Change)
	}
	// Messages held up at a hop without keys are counted only as TLS records there: the truth
	// may be any count those records can hold, one message per record at most as the lab's
	// applications write them.
	uncounted := gd.Uncounted != nil && gd.Missing < count && count-gd.Missing <= gd.Uncounted.Records
	if gd.Missing != count && !uncounted {
		if knownMissing != "" {
			t.Run("missing", func(t *testing.T) {
				t.Skipf("known wrong, %s: %s: %d messages missing, want %d", knownMissing, tag, gd.Missing, count)
			})
		} else {
			t.Errorf("%s: %d messages missing, want %d (%s)", tag, gd.Missing, count, gd.Reason)
		}
	}
	if num(gd.Index) != num(first) && !sameCopy(wd, gd, first) {
		t.Errorf("%s: first missing message %s, want %s (%s)", tag, num(gd.Index), num(first), gd.Reason)
	}
	if first != nil && *first < len(wd.Messages) && str(gd.Digest) != wd.Messages[*first].SHA256 {
		t.Errorf("%s: first missing message's digest %s, want message %d's %s", tag, str(gd.Digest), *first, wd.Messages[*first].SHA256)
	}
	if gd.LowConfidence != *wd.LowConfidence {
		t.Errorf("%s: low confidence %v, want %v (%s)", tag, gd.LowConfidence, *wd.LowConfidence, gd.Reason)
	}
}

// sameCopy reports whether wspath named a later identical copy of the first missing message
// and said so: among identical copies whose times do not tell which one went missing, it counts
// from the last, and its reason says which of them is not known.
func sameCopy(wd truthDirection, gd gotDirection, first *int) bool {
	if first == nil || gd.Index == nil || *gd.Index <= *first || *gd.Index >= len(wd.Messages) {
		return false
	}
	return wd.Messages[*gd.Index].SHA256 == wd.Messages[*first].SHA256 &&
		strings.Contains(gd.Reason, "which of them is not known")
}

// checkCloser holds the event wspath says ended a closed direction to the truth: the earliest
// one at the direction's hop (truth's ending), or one at another hop that agrees with how the
// connection ended there (tshark) and comes from the side of that hop's capture point where the
// component that closed it (closed_by) sits.
func checkCloser(t *testing.T, tag string, hops []string, wc truthConnection, wd truthDirection, gd gotDirection) {
	t.Helper()
	ge := gd.Evidence.Ending
	if ge != nil && ge.Hop == wd.Ending.Hop && ge.Side == wd.Ending.Side && ge.Kind == wd.Ending.Kind && code(ge.Code) == code(wd.Ending.Code) {
		return
	}
	kind := map[string]string{"rst": "reset", "fin": "fin", "close": "close"}
	if ge != nil && ge.Hop != wd.Ending.Hop && wc.Endings[ge.Hop] != nil && *wc.Endings[ge.Hop] == kind[ge.Kind] &&
		ge.Side == closerSide(hops, ge.Hop, wd.ClosedBy) {
		return
	}
	t.Errorf("%s: ended by %s, want %s (%s closed it) (%s)", tag, endString(ge), endString(wd.Ending), wd.ClosedBy, gd.Reason)
}

// closerSide is the side of hop's capture point on which the component closedBy sits: the lab
// captures each hop on the side facing the client, so component i is on the server side of hop
// i's capture point and on the client side of every later one; the client application is on the
// client side of all (examples/netlab/truth.py closer_side).
func closerSide(hops []string, hop, closedBy string) string {
	if slices.Index(hops, closedBy) >= max(slices.Index(hops, hop), 1) {
		return "server"
	}
	return "client"
}

// changeJSON is evidence.change of a modified direction.
type changeJSON struct {
	Original        versionJSON `json:"original"`
	Changed         versionJSON `json:"changed"`
	SizeDelta       int64       `json:"size_delta"`
	FirstDifference *int64      `json:"first_difference"`
}

type versionJSON struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// checkChange holds wspath's account of a changed message to the relay's log: both digests and
// sizes, and where they first differ.
func checkChange(t *testing.T, tag string, wd truthDirection, got *changeJSON) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: evidence.change is null", tag)
		return
	}
	w := wd.Changed[0]
	if got.Original != (versionJSON{w.SHA256, w.Length}) || got.Changed != (versionJSON{w.SHA256Changed, w.LengthChanged}) ||
		got.SizeDelta != w.LengthChanged-w.Length {
		t.Errorf("%s: change %+v, want %+v", tag, *got, w)
	}
	if got.FirstDifference == nil || *got.FirstDifference != w.FirstDifference {
		t.Errorf("%s: first_difference %s, want %d", tag, num64(got.FirstDifference), w.FirstDifference)
	}
}

func num64(n *int64) string {
	if n == nil {
		return "none"
	}
	return strconv.FormatInt(*n, 10)
}

func endString(e *truthEnd) string {
	if e == nil {
		return "nothing"
	}
	return fmt.Sprintf("%s from the %s side at %s (code %s)", e.Kind, e.Side, e.Hop, code(e.Code))
}

func code(c *uint16) string {
	if c == nil {
		return "none"
	}
	return strconv.Itoa(int(*c))
}

func num(n *int) string {
	if n == nil {
		return "none"
	}
	return strconv.Itoa(*n)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
		others, _ := filepath.Glob(filepath.Join(dir, "hops-*.yaml"))
		for _, o := range others {
			t.Run(filepath.Base(dir)+"/"+filepath.Base(o), func(t *testing.T) { checkScenarioHops(t, dir, filepath.Base(o)) })
		}
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

// TestCompare_RouterAnyCapture: a router's hop captured on both its interfaces holds every
// forwarded packet twice, here in a pcapng file with an interface for each (mergecap of the two
// sides' captures): each interface is a view, fw.in and fw.out, so the message the router dropped
// is lost between them (inside the fw), and the evidence counts only the real retransmissions.
func TestCompare_RouterAnyCapture(t *testing.T) {
	got := checkOneLoss(t, filepath.Join("testdata", "router-any", "hops.yaml"), "fw.out")
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

// TestRegressionCases holds the lab runs kept under testdata for what they broke (see each
// README) to all of their truth, as TestExamples does the bundled examples.
func TestRegressionCases(t *testing.T) {
	for _, dir := range []string{"app-drop-late-close", "tls-nokeys-both-stall", "tls-nokeys-both-holb"} {
		t.Run(dir, func(t *testing.T) { checkScenario(t, filepath.Join("testdata", dir)) })
	}
}

// TestCompare_RouterOneInterface: hops.yaml's interface narrows a capture of a router's two
// interfaces (examples/fwpcapng-s2c-drop, dumpcap -i f0 -i f1) to one of them, the hop then
// being that capture point alone; an interface the capture lacks narrows nothing, with a warning.
func TestCompare_RouterOneInterface(t *testing.T) {
	for _, tt := range []struct {
		iface, lostAt string
		fwHops        []string
		warning       string
	}{
		{"f0", "fw", []string{"fw"}, "only the connections captured on f0"},
		{"f1", "lb", []string{"fw"}, "only the connections captured on f1"},
		{"eth9", "fw.in", []string{"fw.in", "fw.out"}, "hops.yaml gives interface eth9, on which no connection was captured"},
	} {
		t.Run(tt.iface, func(t *testing.T) {
			code, stdout, stderr := runWspath(t, "compare", filepath.Join("testdata", "router-interface", "hops-"+tt.iface+".yaml"), "-f", "json")
			if code != exitLoss {
				t.Fatalf("exit status %d, want 1; stderr %s", code, stderr)
			}
			var got struct {
				verdicts
				Hops []struct {
					Name     string   `json:"name"`
					Warnings []string `json:"warnings"`
				} `json:"hops"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatal(err)
			}
			var fw []string
			for _, h := range got.Hops {
				if strings.HasPrefix(h.Name, "fw") {
					fw = append(fw, h.Name)
					if !strings.Contains(strings.Join(h.Warnings, "\n"), tt.warning) {
						t.Errorf("hop %s warnings %q, want %q", h.Name, h.Warnings, tt.warning)
					}
				}
			}
			if strings.Join(fw, " ") != strings.Join(tt.fwHops, " ") {
				t.Errorf("fw hops %v, want %v", fw, tt.fwHops)
			}
			if len(got.Connections) != 3 {
				t.Fatalf("%d connections, want 3", len(got.Connections))
			}
			for _, c := range got.Connections {
				for dir, d := range c.Directions {
					want, wantHop := "delivered", "null"
					if str(c.Key) == "6Ex+e2WNq0AvNtAupb/v6w==" && dir == "server_to_client" {
						want, wantHop = "lost", tt.lostAt
					}
					if d.Verdict != want || str(d.FirstMissingHop) != wantHop {
						t.Errorf("%s %s: %s at %s, want %s at %s (%s)", str(c.Key), dir, d.Verdict, str(d.FirstMissingHop), want, wantHop, d.Reason)
					}
				}
			}
		})
	}
}
