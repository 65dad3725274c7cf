package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// textWriter writes lines and tables either for a terminal or as Markdown, keeping the first error.
type textWriter struct {
	w   io.Writer
	md  bool
	err error
}

// line writes one line of prose, escaped like a cell (it may quote wire text); Markdown gets a hard
// line break.
func (t *textWriter) line(s string) {
	if t.err != nil {
		return
	}
	s = Text(s)
	if t.md && s != "" {
		s = htmlEscaper.Replace(s) + "  "
	}
	_, t.err = fmt.Fprintln(t.w, s)
}

type table struct {
	tw   *textWriter
	t    *tablewriter.Table
	cell func(string) string
}

// table starts a table with the given header. Headers are shown as written: tablewriter upper-cases
// them by default, which would turn hop names like "lb" into "LB".
func (t *textWriter) table(header ...string) *table {
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	}
	cell := Text
	if t.md {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
		cell = markdownCell
	}
	tb := &table{tw: t, t: tablewriter.NewTable(t.w, opts...), cell: cell}
	hs := make([]any, len(header))
	for i, h := range header {
		hs[i] = cell(h)
	}
	tb.t.Header(hs...)
	return tb
}

// row appends a row; every cell is escaped for the format.
func (tb *table) row(cells ...string) {
	if tb.tw.err != nil {
		return
	}
	vs := make([]any, len(cells))
	for i, c := range cells {
		c = tb.cell(c)
		if !tb.tw.md {
			// Long reasons wrap in a terminal; a Markdown cell stays on one line.
			c = wrap(c, wrapWidth)
		}
		vs[i] = c
	}
	tb.tw.err = tb.t.Append(vs...)
}

func (tb *table) render() {
	if tb.tw.err != nil {
		return
	}
	tb.tw.err = tb.t.Render()
	if tb.tw.err == nil && tb.tw.md {
		_, tb.tw.err = fmt.Fprintln(tb.tw.w)
	}
}

var htmlEscaper = strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;")

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
