package report

import (
	"fmt"
	"io"
	"strings"
)

// terminalSheet writes lines and box-drawn tables for a terminal. Every string is passed through
// EscapeControl, so wire text cannot move the cursor or change colours.
type terminalSheet struct {
	w  io.Writer
	we error
}

func (t *terminalSheet) err() error { return t.we }

func (t *terminalSheet) line(s string) {
	if t.we != nil {
		return
	}
	_, t.we = fmt.Fprintln(t.w, EscapeControl(s))
}

func (t *terminalSheet) table(header []string, n int, row rowFunc) {
	if t.we != nil {
		return
	}
	// long cells (reasons) wrap at wrapWidth
	t.we = writeBoxTable(t.w, mapCells(header, EscapeControl), n, mappedRows(row, func(c string) string {
		return wrap(EscapeControl(c), wrapWidth)
	}))
}

// wrapWidth is the widest a table cell grows in a terminal before its words wrap.
const wrapWidth = 64

// wrap breaks s into lines of at most width bytes at spaces (a longer word stays whole). s is
// already escaped, so the newlines it adds are the only ones.
func wrap(s string, width int) string {
	if len(s) <= width {
		return s
	}
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if line+1+len(w) > width {
				b.WriteByte('\n')
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// raw writes a line already escaped (and maybe painted) by the caller.
func (t *terminalSheet) raw(s string) {
	if t.we != nil {
		return
	}
	_, t.we = fmt.Fprintln(t.w, s)
}
