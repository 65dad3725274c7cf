package report

import (
	"bufio"
	"io"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// A table of a capture's connections can have 100,000 rows. tablewriter holds every cell of a
// table (and its own copies, split into lines) until Render, which made the table format of a
// flood several times bigger in memory than the capture it reports. The line-oriented formats
// stream such tables instead: rows are made by a function of the row number, called once to
// measure the columns and once to write each row, so a table costs one row at a time. The layout
// is tablewriter's (headers as written, no automatic wrapping or trimming), byte for byte (TestStreamTable_AsTablewriter
// checks it on random cells), so reports read the same as before.

// rowFunc returns the cells of row i. The table is done with them before it asks for the next
// row, so a rowFunc may return the same slice each time, refilled (see mappedRows).
type rowFunc func(i int) []string

// mapCells returns cells escaped with cell.
func mapCells(cells []string, cell func(string) string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = cell(c)
	}
	return out
}

// mappedRows returns row with its cells escaped with cell, in one slice refilled for every row: a
// slice of cells for each row, twice (measured, then written), was most of a 100,000-row table's
// garbage.
func mappedRows(row rowFunc, cell func(string) string) rowFunc {
	var out []string
	return func(i int) []string {
		out = out[:0]
		for _, c := range row(i) {
			out = append(out, cell(c))
		}
		return out
	}
}

// columnWidths returns the display width of each column: its widest line, header included.
func columnWidths(header []string, n int, row rowFunc) []int {
	widths := make([]int, len(header))
	measure := func(cells []string) {
		for j, c := range cells {
			if j >= len(widths) {
				break
			}
			for line := range strings.SplitSeq(c, "\n") {
				widths[j] = max(widths[j], displayWidth(line))
			}
		}
	}
	measure(header)
	for i := range n {
		measure(row(i))
	}
	return widths
}

// displayWidth is twwidth.Width(s), counted directly for printable ASCII: twwidth caches every
// string it measures, which made an entry of garbage for each cell of a 100,000-row table.
func displayWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

// spaces is written in pieces to pad cells, without making a string of spaces for each.
const spaces = "                                                                "

// padCell writes " s " padded with spaces to the column's width.
func padCell(b *bufio.Writer, s string, width int) {
	b.WriteByte(' ')
	b.WriteString(s)
	for n := max(width-displayWidth(s), 0) + 1; n > 0; {
		k := min(n, len(spaces))
		b.WriteString(spaces[:k])
		n -= k
	}
}

// padRow writes one line of cells cs, each padded to its column's width, between bars.
func padRow(b *bufio.Writer, cs []string, widths []int, bar string) {
	b.WriteString(bar)
	for j, wd := range widths {
		s := ""
		if j < len(cs) {
			s = cs[j]
		}
		padCell(b, s, wd)
		b.WriteString(bar)
	}
	b.WriteByte('\n')
}

// writeBoxTable writes a box-drawn table, as tablewriter's default renderer draws it: cells padded
// by a space, multi-line cells spread over several lines, no rules between rows.
func writeBoxTable(w io.Writer, header []string, n int, row rowFunc) error {
	widths := columnWidths(header, n, row)
	b := bufio.NewWriter(w)
	rule := func(left, mid, right string) {
		b.WriteString(left)
		for j, wd := range widths {
			if j > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", wd+2))
		}
		b.WriteString(right)
		b.WriteByte('\n')
	}
	var lines [][]string
	cells := func(cs []string) {
		if oneLine(cs) {
			padRow(b, cs, widths, "│")
			return
		}
		lines = slices.Grow(lines[:0], len(widths))[:len(widths)]
		height := 1
		for j := range widths {
			lines[j] = nil
			if j < len(cs) {
				lines[j] = strings.Split(cs[j], "\n")
				height = max(height, len(lines[j]))
			}
		}
		for k := range height {
			b.WriteString("│")
			for j, wd := range widths {
				s := ""
				if k < len(lines[j]) {
					s = lines[j][k]
				}
				padCell(b, s, wd)
				b.WriteString("│")
			}
			b.WriteByte('\n')
		}
	}
	rule("┌", "┬", "┐")
	cells(header)
	rule("├", "┼", "┤")
	for i := range n {
		if _, err := b.Write(nil); err != nil {
			return err // a failed or interrupted write (Ctrl-C) stops the table at once
		}
		cells(row(i))
	}
	rule("└", "┴", "┘")
	return b.Flush()
}

// oneLine reports whether no cell holds a line break: most rows, written without splitting.
func oneLine(cs []string) bool {
	for _, c := range cs {
		if strings.IndexByte(c, '\n') >= 0 {
			return false
		}
	}
	return true
}

// writeMarkdownTable writes a pipe table, as tablewriter's Markdown renderer does: cells padded to
// the column's width, every column left-aligned. Markdown cells are one line (markdownText
// escapes line breaks). A column is at least one character wide.
func writeMarkdownTable(w io.Writer, header []string, n int, row rowFunc) error {
	widths := columnWidths(header, n, row)
	for j := range widths {
		widths[j] = max(widths[j], 1)
	}
	b := bufio.NewWriter(w)
	cells := func(cs []string) { padRow(b, cs, widths, "|") }
	cells(header)
	b.WriteString("|")
	for _, wd := range widths {
		b.WriteString(":" + strings.Repeat("-", wd+1) + "|")
	}
	b.WriteByte('\n')
	for i := range n {
		if _, err := b.Write(nil); err != nil {
			return err
		}
		cells(row(i))
	}
	return b.Flush()
}
