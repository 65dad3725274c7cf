package main

import (
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
