package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wspath/wspath/correlate"
)

// Compare writes the verdicts of a comparison across hops in format f. JSON is the
// wspath.compare/v1 contract (correlate.Result as it marshals); table and markdown render the same
// facts: a summary line first, then one row per connection and direction with a column per hop.
func Compare(w io.Writer, f Format, r *correlate.Result, o Options) error {
	if f == JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	s, ok := sheetFor(w, f)
	if !ok {
		return fmt.Errorf("report: compare cannot be rendered as %s", f)
	}
	return compareSheet(s, r)
}

// compareSheet lays the comparison out as lines and tables on a line-oriented format.
func compareSheet(tw sheet, r *correlate.Result) error {
	tw.line(summaryLine(r))
	if r.Summary.Reason != "" {
		tw.line(r.Summary.Reason)
	}
	tw.line("")

	hops := make([]string, len(r.Hops))
	for i, h := range r.Hops {
		hops[i] = h.Name
	}
	if len(r.Connections) > 0 {
		header := append([]string{"conn", "key", "path", "direction", "verdict"}, hops...)
		header = append(header, "first missing", "why")
		t := tw.table(header...)
		for _, c := range r.Connections {
			key := "-"
			if c.Key != nil {
				key = *c.Key
			}
			path := "-"
			if c.Path != nil {
				path = *c.Path
			}
			for _, d := range []struct {
				name string
				res  *correlate.DirectionResult
			}{{"to server", &c.Directions.ClientToServer}, {"to client", &c.Directions.ServerToClient}} {
				verdict := d.res.Verdict.String()
				if d.res.LowConfidence {
					verdict += " (low confidence)"
				}
				row := []string{strconv.Itoa(c.ID), key, path, d.name, verdict}
				for _, h := range hops {
					row = append(row, hopCount(d.res.PerHop.Get(h)))
				}
				row = append(row, firstMissing(d.res), d.res.Reason)
				t.row(row...)
			}
		}
		t.render()
	} else {
		tw.line("no WebSocket connection found at any hop")
	}

	if len(r.Segments) > 0 {
		var segs []string
		for _, s := range r.Segments {
			segs = append(segs, fmt.Sprintf("%s -> %s: %s", s.From, s.To, s.Kind))
		}
		tw.line("path: " + strings.Join(segs, "; "))
	}
	ht := tw.table("hop", "files", "packets", "connections", "matched", "clock offset", "latency median / max", "warnings")
	for _, h := range r.Hops {
		offset := "-"
		if h.ClockOffset != nil {
			offset = h.ClockOffset.String() + " (" + h.ClockOffsetSource + ")"
		}
		lat := "-"
		if h.Latency != nil {
			lat = fmt.Sprintf("%s / %s (n=%d)", h.Latency.Median, h.Latency.Max, h.Latency.Samples)
		}
		warn := strconv.Itoa(len(h.Warnings))
		if len(h.Warnings) == 0 {
			warn = "-"
		}
		ht.row(h.Name, strings.Join(h.Files, ", "), strconv.Itoa(h.Packets), strconv.Itoa(h.Connections),
			strconv.Itoa(h.Matched), offset, lat, warn)
	}
	ht.render()
	for _, h := range r.Hops {
		for _, wn := range h.Warnings {
			tw.line("warning: " + h.Name + ": " + wn)
		}
	}
	return tw.err()
}

// summaryLine says in one line what an on-call engineer needs first: the verdict and where.
func summaryLine(r *correlate.Result) string {
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
	if s.Direction != nil {
		b.WriteString(", " + *s.Direction)
	}
	if s.AffectedConnections > 0 {
		what := "missing"
		if s.Verdict == correlate.Modified {
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

func hopCount(h *correlate.HopCount) string {
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

func firstMissing(d *correlate.DirectionResult) string {
	if d.FirstMissingHop == nil {
		return "-"
	}
	s := *d.FirstMissingHop
	if d.Missing > 0 {
		s += fmt.Sprintf(": %d msg", d.Missing)
		if d.Verdict == correlate.Modified {
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
