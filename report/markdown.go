package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
)

// markdownSheet writes lines and pipe tables in Markdown, for incident tickets. Cells are escaped by
// markdownCell so that wire text can neither end a cell nor start markup.
type markdownSheet struct {
	w  io.Writer
	we error
}

func (m *markdownSheet) err() error { return m.we }

// line writes a line of prose ending in a hard line break.
func (m *markdownSheet) line(s string) {
	if m.we != nil {
		return
	}
	s = EscapeControl(s)
	if s != "" {
		s = htmlEscaper.Replace(s) + "  "
	}
	_, m.we = fmt.Fprintln(m.w, s)
}

func (m *markdownSheet) table(header ...string) sheetTable {
	tb := &markdownTable{s: m, t: tablewriter.NewTable(m.w, tableOptions(tablewriter.WithRenderer(renderer.NewMarkdown()))...)}
	tb.t.Header(anyCells(header, markdownCell)...)
	return tb
}

type markdownTable struct {
	s *markdownSheet
	t *tablewriter.Table
}

// row appends a row; a Markdown cell stays on one line.
func (tb *markdownTable) row(cells ...string) {
	if tb.s.we != nil {
		return
	}
	tb.s.we = tb.t.Append(anyCells(cells, markdownCell)...)
}

// render writes the table and the blank line that ends it.
func (tb *markdownTable) render() {
	if tb.s.we != nil {
		return
	}
	if tb.s.we = tb.t.Render(); tb.s.we == nil {
		_, tb.s.we = fmt.Fprintln(tb.s.w)
	}
}

var htmlEscaper = strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;")

// markdownCell makes s safe inside one Markdown table cell: terminal-safe first, then the characters
// that would end the cell or start markup (|, <, >, &, backticks) are escaped. tablewriter's Markdown
// renderer escapes none of them.
func markdownCell(s string) string {
	s = EscapeControl(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|':
			b.WriteString(`\|`)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '`':
			b.WriteString("\\`")
		case '*', '_', '[', ']':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
