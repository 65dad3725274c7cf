package report

import (
	"fmt"
	"io"
	"strings"
)

// Markdown output is plain enough for GitHub, GitLab and Jira's Markdown alike: wire text is
// escaped with backslashes (never HTML entities, which show literally in Jira, Slack and plain
// text), prose wraps at markdownWidth, and the diagram is Mermaid, which GitHub and GitLab draw.

// markdownWidth is where Markdown prose wraps (soft line breaks, which renderers join).
const markdownWidth = 100

// markdownSheet writes lines and pipe tables in Markdown (inspect's layout).
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
	if s = markdownLine(s); s != "" {
		s += "  "
	}
	_, m.we = fmt.Fprintln(m.w, s)
}

func (m *markdownSheet) table(header []string, n int, row rowFunc) {
	if m.we != nil {
		return
	}
	// a Markdown cell stays on one line
	m.we = writeMarkdownTable(m.w, mapCells(header, markdownText), n, mappedRows(row, markdownText))
	if m.we == nil {
		_, m.we = fmt.Fprintln(m.w) // the blank line that ends the table
	}
}

// markdownTicket writes the compare report in Markdown.
type markdownTicket struct{ out }

func (m *markdownTicket) heading(level int, s string) {
	m.put(strings.Repeat("#", level), " ", markdownText(s), "\n\n")
}

func (m *markdownTicket) paragraph(s string) {
	m.put(strings.Join(markdownWrap(markdownLine(s), markdownWidth), "\n"), "\n\n")
}

func (m *markdownTicket) table(header []string, rows [][]string) {
	if m.we != nil {
		return
	}
	m.we = writeMarkdownTable(m.w, mapCells(header, markdownText), len(rows), func(i int) []string {
		return mapCells(rows[i], markdownText)
	})
	m.put("\n")
}

func (m *markdownTicket) bullets(items []string) {
	for _, it := range items {
		m.put("- ", strings.Join(markdownWrap(markdownText(it), markdownWidth-2), "\n  "), "\n")
	}
	if len(items) > 0 {
		m.put("\n")
	}
}

func (m *markdownTicket) diagram(l *ladder) {
	m.put("```mermaid\n", l.mermaid(), "```\n\n")
}

// markdownWrap wraps escaped Markdown at spaces, never starting a line with what would make it a
// list item, quote, heading or table row (such a word stays on the line before).
func markdownWrap(s string, width int) []string {
	lines := wrapLines(s, width)
	out := lines[:0]
	for _, l := range lines {
		if len(out) > 0 && startsBlock(l) {
			out[len(out)-1] += " " + l
			continue
		}
		out = append(out, l)
	}
	return out
}

func startsBlock(l string) bool {
	if l == "" {
		return false
	}
	spaced := func(rest string) bool { return rest == "" || rest[0] == ' ' }
	switch l[0] {
	case '-', '+', '*': // a list item only with a space after the marker
		return spaced(l[1:])
	case '#': // an ATX heading is one to six '#' and a space
		return spaced(strings.TrimLeft(l, "#"))
	case '=': // a setext underline
		return strings.Trim(l, "= ") == ""
	case '>', '|', '~', '`':
		return true
	}
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	return i > 0 && i < len(l) && (l[i] == '.' || l[i] == ')') && spaced(l[i+1:])
}

// markdownText makes s safe as Markdown text or inside a table cell: terminal-safe first, then
// every character that could end the cell or start markup is escaped with a backslash, which
// CommonMark (GitHub, GitLab) and Jira's Markdown show as the character itself. No HTML entities:
// those show literally where Markdown is not rendered. '>' and '-' are left alone mid-line (the
// arrows in "client -> lb" stay readable), '&' is escaped only where it could start an entity and
// ']' only where it could close a link.
func markdownText(s string) string {
	s = EscapeControl(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '&' && entityAhead(s[i+1:]):
			b.WriteString(`\&`)
		case c == '_' && (i == 0 || i == len(s)-1 || !isWordByte(s[i-1]) || !isWordByte(s[i+1])):
			b.WriteString(`\_`)
		case c == ']' && i+1 < len(s) && strings.IndexByte("([:", s[i+1]) >= 0:
			// Only "](", "][" and "]:" make links; a lone bracket reads as itself.
			b.WriteString(`\]`)
		case strings.IndexByte("|<`*~", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// markdownLine is markdownText for a line of prose, whose first character could also start a
// heading, quote or list.
func markdownLine(s string) string {
	s = markdownText(s)
	if s != "" && strings.IndexByte("#>+-=", s[0]) >= 0 {
		s = `\` + s
	}
	return s
}

// entityAhead says whether s starts like the rest of an HTML entity ("amp;", "#60;", "#x3c;").
func entityAhead(s string) bool {
	n := 0
	for n < len(s) && n < 32 && (isWordByte(s[n]) || s[n] == '#') {
		n++
	}
	return n > 0 && n < len(s) && s[n] == ';'
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
