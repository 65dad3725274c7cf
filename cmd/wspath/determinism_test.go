package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestCompare_Deterministic checks that the same captures give byte-identical reports whatever
// the number of cores: hops are read concurrently, and nothing may depend on which finishes
// first, nor on map order.
func TestCompare_Deterministic(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "hops.yaml"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no example cases (%v)", err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, hops := range cases {
		for _, format := range []string{"json", "table"} {
			var outs []string
			for _, procs := range []int{1, 2, 4} {
				runtime.GOMAXPROCS(procs)
				_, out, _ := runWspath(t, "compare", hops, "-f", format)
				outs = append(outs, out)
			}
			for i := 1; i < len(outs); i++ {
				if outs[i] != outs[0] {
					t.Errorf("%s -f %s: the report differs between GOMAXPROCS 1 and %d", hops, format, []int{1, 2, 4}[i])
				}
			}
			if outs[0] == "" {
				t.Errorf("%s -f %s: empty report", hops, format)
			}
		}
	}
}

// TestInspect_Deterministic checks that inspect gives byte-identical output whatever the number
// of cores: the message listing, read on one goroutine with one core and in two stages on two
// goroutines otherwise, and the digest file, whose gzip members are compressed on several cores
// at once.
func TestInspect_Deterministic(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*.pcap"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no example captures (%v)", err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	dir := t.TempDir()
	every := 4 // a quarter of them: every case's kind of traffic, in a fraction of the time
	if testing.Short() {
		every = 16 // the race detector's run
	}
	for i, pcap := range cases {
		if i%every != 0 {
			continue
		}
		var listings, digests []string
		for _, procs := range []int{1, 2, 4} {
			runtime.GOMAXPROCS(procs)
			_, out, _ := runWspath(t, "inspect", "-m", "-f", "json", pcap)
			listings = append(listings, out)
			wsd := filepath.Join(dir, fmt.Sprintf("%d-%d.wsd", i, procs))
			if code, _, stderr := runWspath(t, "inspect", "--digests", "-o", wsd, pcap); code != 0 {
				t.Fatalf("inspect --digests %s: exit %d: %s", pcap, code, stderr)
			}
			b, err := os.ReadFile(wsd)
			if err != nil {
				t.Fatal(err)
			}
			digests = append(digests, string(b))
		}
		for k := 1; k < 3; k++ {
			if listings[k] != listings[0] {
				t.Errorf("%s: inspect -m differs between GOMAXPROCS 1 and %d", pcap, []int{1, 2, 4}[k])
			}
			if digests[k] != digests[0] {
				t.Errorf("%s: the digest file differs between GOMAXPROCS 1 and %d", pcap, []int{1, 2, 4}[k])
			}
		}
	}
}
