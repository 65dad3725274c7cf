package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
)

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	b := newProgressBar(&out)
	now := b.start
	b.now = func() time.Time { return now }
	b.update(capture.Progress{Name: "lb", Bytes: 10 << 20, Total: 100 << 20})
	if out.Len() != 0 {
		t.Fatalf("drew before the delay: %q", out.String())
	}
	now = now.Add(2 * time.Second)
	b.update(capture.Progress{Name: "client", Bytes: 50 << 20, Total: 50 << 20, Done: true})
	got := out.String()
	for _, w := range []string{"reading client 100% lb 10%", "60 MB of 150 MB", "about 3s left"} {
		if !strings.Contains(got, w) {
			t.Errorf("progress %q lacks %q", got, w)
		}
	}
	b.finish()
	if !strings.HasSuffix(out.String(), "\r\x1b[K") {
		t.Errorf("line not erased: %q", out.String())
	}
	// Bytes past the total (gzip) show as 99% until done.
	b.update(capture.Progress{Name: "lb", Bytes: 300 << 20, Total: 100 << 20})
	if l := b.line(now); !strings.Contains(l, "lb 99%") {
		t.Errorf("line %q", l)
	}
}

// TestCompare_NoProgressWhenNotATerminal: captured stderr (a pipe, a file, a test buffer) gets no
// progress line.
func TestCompare_NoProgressWhenNotATerminal(t *testing.T) {
	_, _, stderr := runWspath(t, "compare", "../../examples/c2s-drop/hops.yaml")
	if strings.Contains(stderr, "reading") {
		t.Errorf("progress on a non-terminal: %q", stderr)
	}
}
