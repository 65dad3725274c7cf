//go:build netns

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
		t.Fatalf("regen-all.sh: %v", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "*", "truth.json"))
	if len(dirs) == 0 {
		t.Fatal("the lab made no scenario")
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) { checkScenario(t, dir) })
	}
}
