package report

import (
	"fmt"
	"io"

	"github.com/wspath/wspath/schema"
)

// ticket is what a format for incident tickets writes: headings, paragraphs, tables, lists and
// diagrams. Markdown and Jira wiki markup implement it, each escaping text from the wire its own
// way; compareTicket lays a comparison out on it once. A ticket keeps the first write error.
type ticket interface {
	heading(level int, s string)
	paragraph(s string)
	table(header []string, rows [][]string)
	bullets(items []string)
	// diagram shows a ladder, or does nothing where the format has no diagrams.
	diagram(l *ladder)
	err() error
}

// ticketFor returns the ticket writer of format f, or false when f is not a ticket format.
func ticketFor(w io.Writer, f Format) (ticket, bool) {
	switch f {
	case Markdown:
		return &markdownTicket{out: out{w: w}}, true
	case Jira:
		return &jiraTicket{out: out{w: w}}, true
	}
	return nil, false
}

// out writes strings to w, keeping the first error and writing nothing after it.
type out struct {
	w  io.Writer
	we error
}

func (o *out) put(ss ...string) {
	for _, s := range ss {
		if o.we == nil {
			_, o.we = io.WriteString(o.w, s)
		}
	}
}

func (o *out) err() error { return o.we }

// compareTicket lays a comparison out for a ticket: the headline, what is wrong and why, a diagram
// around the first loss, then the hops.
func compareTicket(t ticket, v *compareView) error {
	r := v.r
	t.heading(2, summaryHead(r))
	t.paragraph(trimLead(summaryTail(r)))
	if r.Summary.Reason != "" {
		t.paragraph(r.Summary.Reason)
	}
	t.bullets(v.probeLines())
	switch {
	case len(r.Connections) == 0:
		t.paragraph("No WebSocket connection was found at any hop.")
	case len(v.shown) > 0:
		t.heading(3, "Connections")
		var rows [][]string
		var why []string
		for _, c := range v.shown {
			r, w := v.ticketRows(c)
			rows, why = append(rows, r...), append(why, w...)
		}
		t.table(v.ticketHeader(), rows)
		t.bullets(why)
	}
	if l := v.collapsedLine(); l != "" {
		t.paragraph(l)
	}
	if l := v.firstLadder(); l != nil {
		what := "loss"
		if l.dir.res.Verdict == schema.Modified {
			what = "change"
		}
		t.heading(3, fmt.Sprintf("Around the first %s (connection %d, %s)", what, l.conn.ID, l.dir.name))
		t.diagram(l)
	}
	t.heading(3, "Hops")
	if l := v.segmentsLine(); l != "" {
		t.paragraph(l)
	}
	var rows [][]string
	for _, h := range hopRows(r) {
		rows = append(rows, h.cells())
	}
	t.table(hopHeader, rows)
	t.bullets(v.warningLines())
	return t.err()
}

// trimLead drops the ", " or ": " that joins summaryTail to the headline.
func trimLead(s string) string {
	for len(s) > 0 && (s[0] == ',' || s[0] == ':' || s[0] == ' ') {
		s = s[1:]
	}
	return s
}
