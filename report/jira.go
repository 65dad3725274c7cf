package report

import (
	"fmt"
	"strings"
)

// Jira wiki markup (Jira Server and Data Center, and Cloud's legacy editor): h2. headings, ||
// header cells ||, {noformat} blocks. Wire text is escaped with backslashes; a backslash itself
// becomes &#92;, since "\\" is a line break in wiki markup.

// jiraSheet writes inspect's lines and tables in Jira wiki markup.
type jiraSheet struct{ out }

func (j *jiraSheet) line(s string) {
	if s == "" {
		j.put("\n")
		return
	}
	j.put(jiraText(s), "\n")
}

func (j *jiraSheet) table(header []string, n int, row rowFunc) {
	writeJiraRows(&j.out, header, n, row)
}

func writeJiraTable(o *out, header []string, rows [][]string) {
	writeJiraRows(o, header, len(rows), func(i int) []string { return rows[i] })
}

// writeJiraRows writes a table row by row: wiki markup needs no column widths.
func writeJiraRows(o *out, header []string, n int, row rowFunc) {
	for _, h := range header {
		o.put("||", jiraCell(h))
	}
	o.put("||\n")
	for i := range n {
		for _, c := range row(i) {
			o.put("|", jiraCell(c))
		}
		o.put("|\n")
	}
	o.put("\n")
}

// jiraTicket writes the compare report in Jira wiki markup.
type jiraTicket struct{ out }

func (j *jiraTicket) heading(level int, s string) {
	j.put(fmt.Sprintf("h%d. ", level), jiraText(s), "\n\n")
}

func (j *jiraTicket) paragraph(s string) { j.put(jiraText(s), "\n\n") }

func (j *jiraTicket) table(header []string, rows [][]string) { writeJiraTable(&j.out, header, rows) }

func (j *jiraTicket) bullets(items []string) {
	for _, it := range items {
		j.put("* ", jiraText(it), "\n")
	}
	if len(items) > 0 {
		j.put("\n")
	}
}

// diagram draws the ladder as text in a {noformat} block: one line per message, the hops it
// crossed joined by arrows, an X where it stopped.
func (j *jiraTicket) diagram(l *ladder) {
	j.put("{noformat}\n", noformatSafe(l.text()), "{noformat}\n\n")
}

// text draws the ladder as lines of text, one per message: the hops it crossed joined by arrows,
// an X where it stopped, a ~ where it arrived changed.
func (l *ladder) text() string {
	var b strings.Builder
	steps := l.arrows()
	for i := 0; i < len(steps); {
		j := i
		line := l.hops[l.travel[steps[i].from]]
		label := steps[i].label
		for ; j < len(steps) && steps[j].msg == steps[i].msg; j++ {
			sep := " -> "
			switch {
			case steps[j].stops:
				sep, label = " -X ", steps[j].label
			case steps[j].changed:
				sep, label = " ~> ", steps[j].label
			}
			line += sep + l.hops[l.travel[steps[j].to]]
		}
		b.WriteString(EscapeControl(line) + "   " + label + "\n")
		i = j
	}
	b.WriteString(EscapeControl(l.note()) + "\n")
	return b.String()
}

// noformatSafe keeps a {noformat} block from being closed early by its content.
func noformatSafe(s string) string { return strings.ReplaceAll(s, "{noformat}", "{ noformat}") }

// jiraText escapes s for Jira wiki markup text ('#' only where it would start a numbered list).
func jiraText(s string) string {
	s = EscapeControl(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString("&#92;")
		case strings.ContainsRune("|{}[]*_+^~?!-", r), r == '#' && i == 0:
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jiraCell is jiraText for a table cell, which must not be empty.
func jiraCell(s string) string {
	if s = jiraText(s); s == "" {
		return " "
	}
	return s
}
