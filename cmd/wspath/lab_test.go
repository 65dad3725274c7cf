//go:build netns

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLab remakes every scenario of the network lab (examples/netlab: real haproxy, nginx,
// iptables, python websockets and tcpdump in network namespaces) and checks wspath's verdicts
// against the ground truth of each. It needs root and the lab's Debian packages; .ci/run runs it.
func TestLab(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the network lab needs root (network namespaces)")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("..", "..", "examples", "netlab", "regen-all.sh"), out)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		// One scenario whose run went wrong (its output above says which) fails the test, but
		// does not keep the others from being checked.
		t.Errorf("regen-all.sh: %v", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "*", "truth.json"))
	if len(dirs) == 0 {
		t.Fatal("the lab made no scenario")
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var cc struct {
				CrossCheck struct {
					OK       bool     `json:"ok"`
					Problems []string `json:"problems"`
				} `json:"cross_check"`
			}
			if b, err := os.ReadFile(f); err != nil || json.Unmarshal(b, &cc) != nil || !cc.CrossCheck.OK {
				// truth.py wrote it, but the logs, tshark and the scenario disagree: no truth.
				t.Fatalf("truth.json failed its cross-check: %q", cc.CrossCheck.Problems)
			}
			if issue := labUnsettled[filepath.Base(dir)]; issue != "" {
				checkUnsettled(t, dir, issue)
				return
			}
			checkTruth(t, dir, "hops.yaml", labKnownWrong)
			// Other hop lists of the same run (capture-drops: the two fw captures alone, either
			// order), as TestExamples checks the committed ones.
			others, _ := filepath.Glob(filepath.Join(dir, "hops-*.yaml"))
			for _, o := range others {
				t.Run(filepath.Base(o), func(t *testing.T) { checkTruth(t, dir, filepath.Base(o), labKnownWrong) })
			}
		})
	}
}

// labKnownWrong lists the checks wspath fails on some fresh lab runs, with the issue that owns the
// fix; TestLab reports them as skipped subtests when they fail (TestExamples holds the committed
// cases, which pass them, to everything).
var labKnownWrong = map[string]string{
	// None now. (Issue 8's tls-nokeys-both count holds with 'uncounted' TLS records; issue 15's
	// endings and capture-gap counts at fwdrop hold since the frame parser reads short tails
	// after a hole.)
}

// labUnsettled names the scenarios whose fresh runs wspath still judges wrongly now and then, with
// the issue that owns the fix. Which packets a dropping capture loses differs from run to run; on
// some CI runs capture-drops-loss read one connection's first missing message one too late (lost at
// server from #31, the truth lost at ingress from #30), a reading not reproduced since (80 fresh
// runs of the capture-drops scenarios clean). TestLab checks such a run as TestLabDir does (nothing
// excused) and reports a failure as a skipped subtest naming the issue, so that it stays visible
// without failing CI, keeping the run where WSL_LAB_KEEP says; TestExamples holds the committed
// runs to everything. capture-drops and capture-drops-deflate left the list when the close their
// dropping capture half saw stopped reading as ended by the hop beside it.
// capture-drops (an Upgrade request the dropping capture lost read as a one-way capture) and
// app-drop-copies (a copy placed by order judged closed from the last copy's time) left it in
// session 6 with their fixes.
var labUnsettled = map[string]string{
	"capture-drops-loss": "issue 13 (a dropping capture's evidence)",
}

// checkUnsettled checks every hop list of the lab run in dir as TestLabDir does, in a child run of
// this test binary, and skips naming issue when that fails.
func checkUnsettled(t *testing.T, dir, issue string) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLabDir$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "WSL_LAB_DIRS="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		// The run's captures are what the fix needs: WSL_LAB_KEEP names where to keep them.
		if keep := os.Getenv("WSL_LAB_KEEP"); keep != "" {
			dst := filepath.Join(keep, filepath.Base(dir)+"-"+time.Now().Format("150405"))
			if cerr := exec.Command("cp", "-a", dir, dst).Run(); cerr != nil {
				t.Logf("keeping %s: %v", dir, cerr)
			}
		}
		t.Skipf("known wrong on some fresh runs, %s: %v\n%s", issue, err, out)
	}
}

// TestLabDir checks lab runs made earlier by run.sh (WSL_LAB_DIRS: their directories, separated
// by spaces) against their truth, with no check excused: how a fix is verified on fresh runs
// without remaking every scenario.
func TestLabDir(t *testing.T) {
	dirs := strings.Fields(os.Getenv("WSL_LAB_DIRS"))
	if len(dirs) == 0 {
		t.Skip("WSL_LAB_DIRS names no lab run")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			hops, _ := filepath.Glob(filepath.Join(dir, "hops*.yaml"))
			for _, h := range hops {
				t.Run(filepath.Base(h), func(t *testing.T) { checkTruth(t, dir, filepath.Base(h), nil) })
			}
		})
	}
}
