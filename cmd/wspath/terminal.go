package main

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// terminal is what wspath knows about where a report goes: whether it is a terminal, how wide,
// and whether colour is wanted.
type terminal struct {
	tty   bool
	width int // columns; 0 when unknown (not a terminal, no COLUMNS): no limit
	color bool
}

// detectTerminal looks at w (standard output, or the --output file) and the environment: COLUMNS
// wins over the tty's own width (as in less and ls), NO_COLOR (no-color.org) or noColor turns
// colour off, and a report written to a file gets neither width nor colour.
func detectTerminal(w io.Writer, toFile, noColor bool) terminal {
	var t terminal
	if f, ok := w.(*os.File); ok && !toFile && term.IsTerminal(int(f.Fd())) {
		t.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			t.width = cols
		}
	}
	if !toFile {
		if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
			t.width = n
		}
	}
	t.color = t.tty && !noColor && os.Getenv("NO_COLOR") == ""
	return t
}

// stderrIsTerminal says whether progress can be drawn on w.
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
