package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/wspath/wspath/schema"
)

// compareTerminal writes a comparison for a terminal of o.Width columns: the connections and hops
// as tables when they fit (their long cells wrapped narrower first), else as one block of lines
// per connection and per hop, so nothing wraps into noise.
func compareTerminal(w io.Writer, v *compareView, o Options) error {
	p := &painter{on: o.Color}
	tw := &terminalSheet{w: w}
	r := v.r
	for i, l := range wrapLines(EscapeControl(summaryLine(r)), o.Width) {
		if i == 0 {
			l = p.headline(l, r.Summary.Verdict)
		}
		tw.raw(l)
	}
	for _, l := range wrapLines(EscapeControl(r.Summary.Reason), o.Width) {
		tw.raw(l)
	}
	for _, pl := range v.probeLines() {
		for _, l := range wrapLines(EscapeControl(pl), o.Width) {
			tw.raw(p.bold(l))
		}
	}
	tw.line("")
	switch {
	case len(r.Connections) == 0:
		tw.line("no WebSocket connection found at any hop")
	case len(v.shown) > 0:
		if n, row := v.connTableRows(p); !fitTable(tw, o.Width, v.connHeader(), n, row) {
			for _, c := range v.shown {
				v.connBlock(tw, c, p, o.Width)
			}
		}
	}
	for _, l := range wrapLines(v.collapsedLine(), o.Width) {
		tw.raw(l)
	}
	if l := v.segmentsLine(); l != "" {
		for _, l := range wrapLines(EscapeControl(l), o.Width) {
			tw.raw(l)
		}
	}
	var hrows [][]string
	for _, h := range hopRows(r) {
		hrows = append(hrows, h.cells())
	}
	if !fitTable(tw, o.Width, hopHeader, len(hrows), func(i int) []string { return hrows[i] }) {
		tw.line("")
		for _, h := range hopRows(r) {
			hopBlock(tw, h, o.Width)
		}
	}
	for _, l := range v.warningLines() {
		for _, l := range wrapLines(EscapeControl(l), o.Width) {
			tw.raw(p.warn(l))
		}
	}
	return tw.err()
}

// connTableRows returns the number of rows of the connections table and the function that makes
// each (verdicts painted) when the streamed table asks for it: a compare of a flood never holds
// the cells of every connection at once, only which connection and direction each row is.
func (v *compareView) connTableRows(p *painter) (int, rowFunc) {
	type ref struct{ conn, dir int32 }
	var refs []ref
	for i, c := range v.shown {
		for d := range directions(c) {
			refs = append(refs, ref{int32(i), int32(d)})
		}
	}
	return len(refs), func(i int) []string {
		c, d := v.shown[refs[i].conn], refs[i].dir
		row := v.connRows(c)[d]
		row[4] = p.verdict(EscapeControl(row[4]), directions(c)[d].res.Verdict)
		return row
	}
}

// fitTable writes a table whose long cells wrap at 64 columns, narrowing that down to 24 until
// the table fits width, and reports whether one did (nothing is written otherwise). Cells are
// escaped here except those already painted (their escapes are ours). The widths are measured
// before anything is written, and the table is streamed (streamtable.go): a compare of 100,000
// connections never holds a laid-out table.
func fitTable(tw *terminalSheet, width int, header []string, n int, rows rowFunc) bool {
	hdr := mapCells(header, EscapeControl)
	for _, wrapAt := range []int{wrapWidth, 48, 40, 32, 24} {
		row := func(i int) []string {
			r := rows(i)
			cells := make([]string, len(r))
			for j, c := range r {
				if !strings.Contains(c, "\x1b[") {
					c = wrap(EscapeControl(c), wrapAt)
				}
				cells[j] = c
			}
			return cells
		}
		if width > 0 && boxTableWidth(columnWidths(hdr, n, row)) > width {
			continue
		}
		if tw.we == nil {
			tw.we = writeBoxTable(tw.w, hdr, n, row)
		}
		return true
	}
	return false
}

// boxTableWidth returns the display width of the widest line writeBoxTable writes for columns
// of these widths: a rule or a row (box-drawing characters can be wide in East Asian terminals).
func boxTableWidth(widths []int) int {
	bar, dash := twwidth.Width("│"), twwidth.Width("─")
	rule := twwidth.Width("┌") + twwidth.Width("┐") + max(len(widths)-1, 0)*twwidth.Width("┬")
	line := bar * (len(widths) + 1)
	for _, w := range widths {
		rule += (w + 2) * dash
		line += w + 2
	}
	return max(rule, line)
}

// connBlock writes one connection as lines for a narrow terminal.
func (v *compareView) connBlock(tw *terminalSheet, c *schema.Connection, p *painter, width int) {
	head := fmt.Sprintf("connection %d %s", c.ID, connPath(c))
	if c.Key != nil {
		head += " key " + *c.Key
	}
	for _, l := range wrapLines(EscapeControl(head), width) {
		tw.raw(p.bold(l))
	}
	for _, d := range directions(c) {
		line := d.name + ": " + p.verdict(EscapeControl(verdictText(d.res)), d.res.Verdict)
		if fm := firstMissing(d.res); fm != "-" {
			at := ", first missing at "
			if d.res.Verdict == schema.Modified {
				at = ", first changed at "
			}
			line += at + EscapeControl(fm)
		}
		for i, l := range wrapLines(line, width-2) {
			if i > 0 {
				l = "  " + l
			}
			tw.raw("  " + l)
		}
		var counts []string
		for _, h := range v.hops {
			counts = append(counts, h+" "+hopCount(d.res.PerHop.Get(h)))
		}
		for _, l := range wrapLines(EscapeControl("messages: "+strings.Join(counts, ", ")), width-4) {
			tw.raw("    " + l)
		}
		for _, l := range wrapLines(EscapeControl(whyText(d.res)), width-4) {
			tw.raw("    " + l)
		}
	}
	tw.line("")
}

// hopBlock writes one hop as lines for a narrow terminal, leaving out what is unknown.
func hopBlock(tw *terminalSheet, h hopRow, width int) {
	first := fmt.Sprintf("hop %s: %s packets, %s connections (%s matched)", h.name, h.packets, h.conns, h.matched)
	var rest []string
	if h.offset != "-" {
		rest = append(rest, "clock offset "+h.offset)
	}
	if h.latency != "-" {
		rest = append(rest, "latency from the previous hop "+h.latency)
	}
	rest = append(rest, "files: "+h.files)
	if h.warnings != "-" {
		rest = append(rest, h.warnings+" warning(s), below")
	}
	for i, l := range wrapLines(EscapeControl(first), width) {
		if i > 0 {
			l = "    " + l
		}
		tw.raw(l)
	}
	for _, r := range rest {
		for _, l := range wrapLines(EscapeControl(r), width-4) {
			tw.raw("    " + l)
		}
	}
}

// wrapLines breaks escaped text into lines of at most width columns at spaces (width <= 0: one
// line; a longer word stays whole).
func wrapLines(s string, width int) []string {
	if s == "" {
		return nil
	}
	if width <= 0 {
		return []string{s}
	}
	var lines []string
	var cur strings.Builder
	curW := 0
	for _, word := range strings.Fields(s) {
		ww := twwidth.Width(word)
		if curW > 0 && curW+1+ww > width {
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
		if curW > 0 {
			cur.WriteByte(' ')
			curW++
		}
		cur.WriteString(word)
		curW += ww
	}
	return append(lines, cur.String())
}

// painter adds ANSI colours when on; off, it returns its input.
type painter struct{ on bool }

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[1;31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// verdictColour picks a colour by how bad a verdict is: green for delivered, red for the worst
// kinds, yellow between. It goes by order, not by name, so kinds added later get a colour too.
func verdictColour(v schema.VerdictKind) string {
	switch {
	case v == schema.Delivered:
		return ansiGreen
	case v >= schema.Modified: // the findings (exit status 1)
		return ansiRed
	case v == schema.CaptureGap:
		return ansiCyan
	}
	return ansiYellow
}

func (p *painter) verdict(s string, v schema.VerdictKind) string {
	if !p.on {
		return s
	}
	return verdictColour(v) + s + ansiReset
}

// headline paints the summary's verdict word (the first upper-case word after the incident) in
// an escaped line.
func (p *painter) headline(s string, v schema.VerdictKind) string {
	if !p.on {
		return s
	}
	word := strings.ToUpper(v.String())
	if i := strings.Index(s, word); i >= 0 {
		return s[:i] + verdictColour(v) + word + ansiReset + s[i+len(word):]
	}
	return s
}

func (p *painter) bold(s string) string {
	if !p.on {
		return s
	}
	return ansiBold + s + ansiReset
}

func (p *painter) warn(s string) string {
	if !p.on {
		return s
	}
	return ansiYellow + s + ansiReset
}
