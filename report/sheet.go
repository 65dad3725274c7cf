package report

import (
	"io"
)

// sheet is what a line-oriented format writes: lines of prose and tables. Each format (terminal,
// Markdown, Jira) implements it in its own file, doing its own escaping; the layouts of the compare and
// inspect reports are written once against it. A sheet keeps the first write error and ignores
// everything after it.
type sheet interface {
	// line writes one line of prose; it may quote wire text, so it is escaped like a cell.
	line(s string)
	// table writes a table of n rows under header (shown as written); row(i) gives row i's cells
	// unescaped. It may call row more than once for a row: tables are streamed (streamtable.go).
	table(header []string, n int, row rowFunc)
	// err returns the first write error.
	err() error
}

// sheetFor returns the sheet that writes format f to w; ok is false for formats that are not
// line-oriented (JSON).
func sheetFor(w io.Writer, f Format) (s sheet, ok bool) {
	switch f {
	case Table:
		return &terminalSheet{w: w}, true
	case Markdown:
		return &markdownSheet{w: w}, true
	case Jira:
		return &jiraSheet{out: out{w: w}}, true
	}
	return nil, false
}
