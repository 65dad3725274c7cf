//go:build netns

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestLab_ProbePlan runs examples/netlab/probe-lab.sh: the captures are taken by running, in
// network namespaces, the tcpdump commands `wspath plan` prints for the lab's hops.yaml; `wspath
// probe` sends numbered messages over wss:// through a firewall to nginx (TLS 1.3, no key log of
// its own: the probe's --keylog decrypts every TLS hop) and a python websockets echo server; the
// firewall drops the client's data from one probe on. The truth comes from outside wspath
// compare: the probe's own record of what came back, and the echo server's log of what arrived.
func TestLab_ProbePlan(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the network lab needs root (network namespaces)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wspath")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "lab")
	cmd := exec.Command("bash", filepath.Join("..", "..", "examples", "netlab", "probe-lab.sh"), bin, out)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("probe-lab.sh: %v", err)
	}

	// Every hop's capture was written by the command plan printed for it, and reads.
	plan, _ := os.ReadFile(filepath.Join(out, "plan.txt"))
	if n := strings.Count(string(plan), "\nsudo tcpdump "); n != 4 {
		t.Fatalf("plan has %d tcpdump commands:\n%s", n, plan)
	}
	for _, hop := range []string{"client", "fw", "ingress", "server"} {
		files, _ := filepath.Glob(filepath.Join(out, hop+".pcap*"))
		if len(files) == 0 {
			t.Errorf("no capture for hop %s", hop)
		}
		code, stdout, stderr := runWspath(t, append([]string{"inspect", "-f", "json"}, files...)...)
		if code != exitOK || !strings.Contains(stdout, `"connections"`) {
			t.Errorf("inspect %s: exit %d: %s", hop, code, stderr)
		}
	}

	missing := probeMissing(t, filepath.Join(out, "probe.json"))
	if len(missing) == 0 {
		t.Fatal("the firewall dropped no probe: the lab did not do its job")
	}
	if m := probeMissing(t, filepath.Join(out, "probe2.json")); len(m) != 0 {
		t.Errorf("second probe lost %v", m)
	}
	echoed := echoedProbes(t, filepath.Join(out, "echo.jsonl"), "/echo")
	for _, n := range missing {
		if echoed[n] {
			t.Errorf("probe #%d reached the echo server but did not come back", n)
		}
	}
	if len(echoed)+len(missing) != 7 {
		t.Errorf("echo server saw %d probes, %d did not come back: want 7 in all", len(echoed), len(missing))
	}

	code, stdout, stderr := runWspath(t, "compare", filepath.Join(out, "hops.yaml"), "-f", "json")
	if code != exitLoss {
		t.Fatalf("compare: exit %d, want 1: %s", code, stderr)
	}
	var res struct {
		Connections []struct {
			Path       string
			Directions map[string]struct {
				Verdict         string
				FirstMissingHop *string `json:"first_missing_hop"`
				Segment         *string
				Probes          []int
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Connections) != 2 {
		t.Fatalf("%d connections, want 2", len(res.Connections))
	}
	for _, c := range res.Connections {
		c2s, s2c := c.Directions["client_to_server"], c.Directions["server_to_client"]
		switch c.Path {
		case "/echo":
			if c2s.Verdict != "lost" || c2s.FirstMissingHop == nil || *c2s.FirstMissingHop != "ingress" ||
				c2s.Segment == nil || *c2s.Segment != "between fw and ingress" {
				t.Errorf("/echo to server: %+v, want lost between fw and ingress", c2s)
			}
			if !reflect.DeepEqual(c2s.Probes, missing) {
				t.Errorf("compare names probes %v lost, the probe says %v did not come back", c2s.Probes, missing)
			}
			if s2c.Verdict != "delivered" {
				t.Errorf("/echo to client: %s", s2c.Verdict)
			}
		case "/echo2":
			if c2s.Verdict != "delivered" || s2c.Verdict != "delivered" {
				t.Errorf("/echo2: %s, %s: want delivered", c2s.Verdict, s2c.Verdict)
			}
		default:
			t.Errorf("unexpected connection %q", c.Path)
		}
	}
	_, text, _ := runWspath(t, "compare", filepath.Join(out, "hops.yaml"))
	want := "probes " + ranges(missing) + " lost between fw and ingress"
	if !strings.Contains(text, want) {
		t.Errorf("the report does not say %q:\n%s", want, text)
	}
}

func probeMissing(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Missing []int }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sort.Ints(doc.Missing)
	return doc.Missing
}

var probeHead = regexp.MustCompile(`^wspath-probe #(\d+) `)

// echoedProbes reads the echo server's log: the probe numbers it received on path.
func echoedProbes(t *testing.T, path, urlPath string) map[int]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct{ Ev, Path, Head string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Ev != "echo" || ev.Path != urlPath {
			continue
		}
		if m := probeHead.FindStringSubmatch(ev.Head); m != nil {
			n, _ := strconv.Atoi(m[1])
			got[n] = true
		}
	}
	return got
}

// ranges writes consecutive numbers as the report does: "#4-#6".
func ranges(ns []int) string {
	if len(ns) >= 3 && ns[len(ns)-1]-ns[0] == len(ns)-1 {
		return "#" + strconv.Itoa(ns[0]) + "-#" + strconv.Itoa(ns[len(ns)-1])
	}
	var s []string
	for _, n := range ns {
		s = append(s, "#"+strconv.Itoa(n))
	}
	return strings.Join(s, ", ")
}
