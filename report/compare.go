package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wspath/wspath/schema"
)

// Compare writes the verdicts of a comparison across hops in format f. JSON is the
// wspath.compare/v1 contract (schema.Result as it marshals); the other formats render the same
// facts for people: a summary first, then the connections with a problem (worst first, delivered
// ones collapsed into a count unless o.All), then the hops.
func Compare(w io.Writer, f Format, r *schema.Result, o Options) error {
	if f == JSON {
		return compareJSON(w, r)
	}
	v := newCompareView(r, o)
	switch f {
	case Table:
		return compareTerminal(w, v, o)
	case HTML:
		return compareHTML(w, v, o)
	}
	if t, ok := ticketFor(w, f); ok {
		return compareTicket(t, v)
	}
	return fmt.Errorf("report: compare cannot be rendered as %s", f)
}

// compareJSON writes r as it marshals, one connection at a time (see jsonObject).
func compareJSON(w io.Writer, r *schema.Result) error {
	j := newJSONObject(w)
	j.field("schema", r.Schema)
	j.field("incident", r.Incident)
	j.field("hops", r.Hops)
	arrayField(j, "connections", len(r.Connections), r.Connections == nil, func(i int) *schema.Connection { return &r.Connections[i] })
	j.field("segments", r.Segments)
	j.field("summary", r.Summary)
	if len(r.Refused) > 0 {
		j.field("refused", r.Refused)
	}
	return j.end()
}

// summaryLine says in one line what an on-call engineer needs first: the verdict and where.
func summaryLine(r *schema.Result) string { return summaryHead(r) + summaryTail(r) }

// summaryHead is the start of summaryLine, a headline: incident, verdict, hop and segment.
func summaryHead(r *schema.Result) string {
	s := r.Summary
	var b strings.Builder
	if r.Incident != "" {
		b.WriteString(r.Incident)
		b.WriteString(": ")
	}
	b.WriteString(strings.ToUpper(s.Verdict.String()))
	if s.FirstMissingHop != nil {
		b.WriteString(" at " + *s.FirstMissingHop)
	}
	if s.Segment != nil {
		b.WriteString(" (" + *s.Segment + ")")
	}
	return b.String()
}

// summaryTail is the rest of summaryLine: direction, counts and time.
func summaryTail(r *schema.Result) string {
	s := r.Summary
	var b strings.Builder
	if s.Direction != nil {
		b.WriteString(", " + *s.Direction)
	}
	if s.AffectedConnections > 0 {
		what := "missing"
		if s.Verdict == schema.Modified {
			what = "changed"
		}
		fmt.Fprintf(&b, ": %d connection(s), %d message(s) %s", s.AffectedConnections, s.MissingMessages, what)
	}
	if s.Started != nil {
		b.WriteString(", from " + s.Started.UTC().Format(time.RFC3339Nano))
	}
	c := s.Connections
	fmt.Fprintf(&b, " [connections: %d delivered, %d lost, %d closed, %d capture_gap, %d undecided",
		c.Delivered, c.Lost, c.Closed, c.CaptureGap, c.Undecided)
	if c.Modified > 0 { // only then, so reports of paths that change nothing read as before
		fmt.Fprintf(&b, ", %d modified", c.Modified)
	}
	b.WriteString("]")
	return b.String()
}

func hopCount(h *schema.HopCount) string {
	switch {
	case h == nil:
		return "-"
	case h.Messages != nil:
		return strconv.Itoa(*h.Messages)
	case h.TLSRecords != nil:
		return strconv.Itoa(*h.TLSRecords) + " TLS rec"
	}
	return "?"
}

func firstMissing(d *schema.DirectionResult) string {
	if d.FirstMissingHop == nil {
		return "-"
	}
	s := *d.FirstMissingHop
	if d.Missing > 0 {
		s += fmt.Sprintf(": %d msg", d.Missing)
		if d.Verdict == schema.Modified {
			s += " changed"
		}
	}
	if d.Index != nil {
		s += fmt.Sprintf(" from #%d", *d.Index)
	}
	if d.Time != nil {
		s += " at " + d.Time.UTC().Format("15:04:05.000")
	}
	return s
}
