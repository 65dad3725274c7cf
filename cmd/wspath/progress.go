package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wspath/wspath/capture"
)

// progressBar draws one line on a terminal's stderr while captures are read: per hop the share
// read, the bytes of the total and an estimate of the time left. It starts drawing only after
// progressDelay, so quick runs print nothing, and erases its line when done.
type progressBar struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	hops  map[string]capture.Progress
	drawn bool
	last  time.Time
	now   func() time.Time
}

const (
	progressDelay = 1500 * time.Millisecond
	progressEvery = 200 * time.Millisecond
)

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, start: time.Now(), hops: map[string]capture.Progress{}, now: time.Now}
}

// update takes one hop's progress (capture.Options.Progress); safe for concurrent hops.
func (b *progressBar) update(p capture.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hops[p.Name] = p
	now := b.now()
	if now.Sub(b.start) < progressDelay || now.Sub(b.last) < progressEvery {
		return
	}
	b.last = now
	fmt.Fprintf(b.w, "\r\x1b[K%s", b.line(now))
	b.drawn = true
}

// line is the progress line: "reading client 100% lb 43% fw 12% · 310 MB of 1.2 GB · about 20s left".
func (b *progressBar) line(now time.Time) string {
	names := make([]string, 0, len(b.hops))
	for n := range b.hops {
		names = append(names, n)
	}
	sort.Strings(names)
	var done, total int64
	var parts []string
	for _, n := range names {
		p := b.hops[n]
		d := min(p.Bytes, p.Total)
		if p.Done {
			d = p.Total
		}
		done, total = done+d, total+p.Total
		pct := 100
		if p.Total > 0 && !p.Done {
			pct = int(min(99, 100*d/p.Total))
		}
		parts = append(parts, fmt.Sprintf("%s %d%%", n, pct))
	}
	s := "reading " + strings.Join(parts, " ") + fmt.Sprintf(" · %s of %s", mb(done), mb(total))
	if el := now.Sub(b.start); done > 0 && total > done {
		left := time.Duration(float64(el) * float64(total-done) / float64(done)).Round(time.Second)
		s += fmt.Sprintf(" · about %s left", left)
	}
	return s
}

func mb(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

// finish erases the line, if one was drawn.
func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}
