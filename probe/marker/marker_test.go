package marker

import (
	"bytes"
	"fmt"
	"testing"
)

func TestPayloadParse(t *testing.T) {
	for _, tc := range []struct {
		n      int
		size   int
		binary bool
	}{{0, MinSize, false}, {17, 125, false}, {17, 126, true}, {123456, 70000, true}, {3, 1, false}} {
		p := Payload(tc.n, "3f9a2c01", tc.size, tc.binary)
		if len(p) < tc.size {
			t.Errorf("Payload(%d, size %d): %d bytes", tc.n, tc.size, len(p))
		}
		n, run, ok := Parse(p[:min(len(p), 64)])
		if !ok || n != tc.n || run != "3f9a2c01" {
			t.Errorf("Parse(Payload(%d)) = %d, %q, %v", tc.n, n, run, ok)
		}
	}
}

func TestParse_NotAProbe(t *testing.T) {
	for _, p := range []string{"", "hello", "wspath-probe #", "wspath-probe #x ", "wspath-probe #12", "wspath-probe #12345678901 "} {
		if _, _, ok := Parse([]byte(p)); ok {
			t.Errorf("Parse(%q) ok", p)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Payload(7, "abc", 64, false))
	f.Add([]byte("wspath-probe #1 "))
	f.Fuzz(func(t *testing.T, p []byte) {
		n, _, ok := Parse(p)
		if ok && (n < 0 || !bytes.HasPrefix(p, []byte(Prefix))) {
			t.Fatalf("Parse(%q) = %d", p, n)
		}
	})
}

func ExamplePayload() {
	p := Payload(17, "3f9a2c01", 48, false)
	n, run, _ := Parse(p)
	fmt.Printf("%s\nprobe %d of run %s\n", p, n, run)
	// Output:
	// wspath-probe #17 run=3f9a2c01 <17><17><17><17><1
	// probe 17 of run 3f9a2c01
}
