package report

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// randomCell makes a cell of the kinds reports hold: addresses, numbers, paths, words to wrap,
// wide and combining characters, escapes, empty cells.
func randomCell(r *rand.Rand) string {
	pieces := []string{"", "10.0.0.1:443", "0", "12 (3 incomplete)", "/chat?room=ü", "日本語", "e\u0301", "\\x1b[31m",
		"open 1000", "a very long reason that will have to be wrapped at some point in a terminal cell", "-", "ok",
		"(TLS example.com, not decrypted)", "🙂", "tab\\t", "x", "  lead", "trail  ", "\\|", "a_b", " ", "\u200b", "中文字符很宽", strings.Repeat("w", 70), "ﾊﾝｶｸ", "\u00a0"}
	n := r.IntN(4)
	var parts []string
	for range n {
		parts = append(parts, pieces[r.IntN(len(pieces))])
	}
	return strings.Join(parts, " ")
}

func TestStreamTable_AsTablewriter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		cols := 1 + r.IntN(6)
		rows := r.IntN(8) + 1
		header := make([]string, cols)
		for j := range header {
			header[j] = randomCell(r)
			if header[j] == "" {
				header[j] = "h"
			}
		}
		table := make([][]string, rows)
		for i := range table {
			table[i] = make([]string, cols)
			for j := range table[i] {
				table[i][j] = randomCell(r)
			}
		}
		for _, f := range []Format{Table, Markdown} {
			var want, got bytes.Buffer
			cell := func(s string) string { return wrap(EscapeControl(s), wrapWidth) }
			tw := tablewriter.NewTable(&want, tableOptions()...)
			if f == Markdown {
				cell = markdownText
				tw = tablewriter.NewTable(&want, tableOptions(tablewriter.WithRenderer(renderer.NewMarkdown()))...)
			}
			h := anyCells(header, func(s string) string {
				if f == Markdown {
					return markdownText(s)
				}
				return EscapeControl(s)
			})
			tw.Header(h...)
			for _, row := range table {
				if err := tw.Append(anyCells(row, cell)...); err != nil {
					t.Fatal(err)
				}
			}
			if err := tw.Render(); err != nil {
				t.Fatal(err)
			}
			hs := make([]string, len(h))
			for j := range h {
				hs[j] = h[j].(string)
			}
			rowAt := func(i int) []string {
				out := make([]string, cols)
				for j, c := range table[i] {
					out[j] = cell(c)
				}
				return out
			}
			write := writeBoxTable
			if f == Markdown {
				write = writeMarkdownTable
			}
			if err := write(&got, hs, rows, rowAt); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("case %d, %s: header %q rows %q\ngot:\n%s\nwant (tablewriter):\n%s", iter, f, header, table, got.String(), want.String())
			}
		}
	}
}

// failAfter fails every write once n bytes were written.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("broken pipe")
	}
	return len(p), nil
}

// TestStreamTable_StopsOnWriteError checks that a table whose writes fail (a closed pipe, Ctrl-C
// through ctxWriter) stops making rows soon after, instead of formatting all the others.
func TestStreamTable_StopsOnWriteError(t *testing.T) {
	const n = 100_000
	for _, write := range []func(io.Writer, []string, int, rowFunc) error{writeBoxTable, writeMarkdownTable} {
		calls := 0
		err := write(&failAfter{n: 10 << 10}, []string{"#", "path"}, n, func(i int) []string {
			calls++
			return []string{strconv.Itoa(i), "/chat"}
		})
		if err == nil {
			t.Fatal("no error")
		}
		if written := calls - n; written > 2000 { // the first pass measures every row
			t.Errorf("%d rows made after the first pass, want the few before the failure", written)
		}
	}
}

// TestStreamTable_PaintedAsTablewriter checks cells painted with ANSI colours (compare's verdicts
// on a colour terminal) against tablewriter: the escapes take no width.
func TestStreamTable_PaintedAsTablewriter(t *testing.T) {
	header := []string{"conn", "verdict", "why"}
	rows := [][]string{
		{"1", "\x1b[1;31mlost\x1b[0m", "the firewall\ndropped it"},
		{"22", "\x1b[32mdelivered\x1b[0m", ""},
		{"3", "\x1b[33mcapture_gap\x1b[0m", "日本"},
	}
	var want, got bytes.Buffer
	tw := tablewriter.NewTable(&want, tableOptions()...)
	tw.Header(anyCells(header, EscapeControl)...)
	for _, r := range rows {
		if err := tw.Append(anyCells(r, func(s string) string { return s })...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Render(); err != nil {
		t.Fatal(err)
	}
	if err := writeBoxTable(&got, header, len(rows), func(i int) []string { return rows[i] }); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("got:\n%s\nwant (tablewriter):\n%s", got.String(), want.String())
	}
	if w, lines := boxTableWidth(columnWidths(header, len(rows), func(i int) []string { return rows[i] })), strings.Split(got.String(), "\n"); w != len([]rune(lines[0])) {
		t.Errorf("boxTableWidth %d, the rule is %d wide", w, len([]rune(lines[0])))
	}
}

// tableOptions are the tablewriter options the report formats used before streaming their tables,
// the reference the streamed tables are checked against. Headers are shown
// as written: tablewriter upper-cases them by default, which would turn hop names like "lb" into
// "LB"; cells are wrapped (or not) by the format itself.
func tableOptions(extra ...tablewriter.Option) []tablewriter.Option {
	return append([]tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	}, extra...)
}

// anyCells converts cells for tablewriter, escaping each with cell.
func anyCells(cells []string, cell func(string) string) []any {
	vs := make([]any, len(cells))
	for i, c := range cells {
		vs[i] = cell(c)
	}
	return vs
}
