package report

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wspath/wspath/schema"
)

// compareView is a comparison arranged for people, whatever the format: connections with a
// problem first (worst verdict first), fully delivered ones collapsed into a count unless
// Options.All. Renderers read it; none of them re-sorts or re-filters.
type compareView struct {
	r         *schema.Result
	hops      []string
	shown     []*schema.Connection // listed connections, problems first
	collapsed int                  // fully delivered connections not listed
}

// direction is one direction of a connection under the name the reports give it.
type direction struct {
	name string // "to server", "to client"
	key  string // the JSON name: "client_to_server", "server_to_client"
	res  *schema.DirectionResult
}

func directions(c *schema.Connection) []direction {
	return []direction{
		{"to server", "client_to_server", &c.Directions.ClientToServer},
		{"to client", "server_to_client", &c.Directions.ServerToClient},
	}
}

func newCompareView(r *schema.Result, o Options) *compareView {
	v := &compareView{r: r}
	for _, h := range r.Hops {
		v.hops = append(v.hops, h.Name)
	}
	for i := range r.Connections {
		c := &r.Connections[i]
		if fullyDelivered(c) && !o.All {
			v.collapsed++
			continue
		}
		v.shown = append(v.shown, c)
	}
	// Worst verdict first; verdict kinds are ordered best to worst, so this holds for kinds added later.
	slices.SortStableFunc(v.shown, func(a, b *schema.Connection) int {
		return cmp.Or(cmp.Compare(b.Verdict, a.Verdict), cmp.Compare(a.ID, b.ID))
	})
	return v
}

// fullyDelivered says whether nothing about c needs a reader's attention.
func fullyDelivered(c *schema.Connection) bool {
	for _, d := range directions(c) {
		if d.res.Verdict != schema.Delivered || d.res.LowConfidence {
			return false
		}
	}
	return true
}

// collapsedLine says how many delivered connections are not listed, or "" when none.
func (v *compareView) collapsedLine() string {
	switch v.collapsed {
	case 0:
		return ""
	case len(v.r.Connections):
		return fmt.Sprintf("all %d connection(s) delivered every message at every hop (--all lists them)", v.collapsed)
	}
	return fmt.Sprintf("%d more connection(s) delivered every message at every hop (--all lists them)", v.collapsed)
}

// segmentsLine says what each component between two hops did, or "" when nothing is known.
func (v *compareView) segmentsLine() string {
	var segs []string
	for _, s := range v.r.Segments {
		segs = append(segs, fmt.Sprintf("%s -> %s: %s", s.From, s.To, s.Kind))
	}
	if len(segs) == 0 {
		return ""
	}
	return "path: " + strings.Join(segs, "; ")
}

// verdictText is a direction's verdict as a cell: its name, marked when of low confidence.
func verdictText(d *schema.DirectionResult) string {
	s := d.Verdict.String()
	if d.LowConfidence {
		s += " (low confidence)"
	}
	return s
}

// connKey and connPath are a connection's key and path, "-" when unknown.
func connKey(c *schema.Connection) string {
	if c.Key != nil {
		return *c.Key
	}
	return "-"
}

func connPath(c *schema.Connection) string {
	if c.Path != nil {
		return *c.Path
	}
	return "-"
}

// hopRow is one hop's line of the per-hop table, as cells.
type hopRow struct {
	name, files, packets, conns, matched, offset, latency, warnings string
}

func hopRows(r *schema.Result) []hopRow {
	var rows []hopRow
	for _, h := range r.Hops {
		row := hopRow{name: h.Name, files: strings.Join(h.Files, ", "), packets: strconv.Itoa(h.Packets),
			conns: strconv.Itoa(h.Connections), matched: strconv.Itoa(h.Matched), offset: "-", latency: "-", warnings: "-"}
		if h.ClockOffset != nil {
			row.offset = h.ClockOffset.String() + " (" + h.ClockOffsetSource + ")"
		}
		if h.Latency != nil {
			row.latency = fmt.Sprintf("%s / %s (n=%d)", h.Latency.Median, h.Latency.Max, h.Latency.Samples)
		}
		if len(h.Warnings) > 0 {
			row.warnings = strconv.Itoa(len(h.Warnings))
		}
		rows = append(rows, row)
	}
	return rows
}

var hopHeader = []string{"hop", "files", "packets", "connections", "matched", "clock offset", "latency median / max", "warnings"}

func (h hopRow) cells() []string {
	return []string{h.name, h.files, h.packets, h.conns, h.matched, h.offset, h.latency, h.warnings}
}

// connHeader is the header of the connections table.
func (v *compareView) connHeader() []string {
	header := append([]string{"conn", "key", "path", "direction", "verdict"}, v.hops...)
	return append(header, "first missing", "why")
}

// connRows are the connections table's rows: one per connection and direction.
func (v *compareView) connRows(c *schema.Connection) [][]string {
	var rows [][]string
	for _, d := range directions(c) {
		row := []string{strconv.Itoa(c.ID), connKey(c), connPath(c), d.name, verdictText(d.res)}
		for _, h := range v.hops {
			row = append(row, hopCount(d.res.PerHop.Get(h)))
		}
		rows = append(rows, append(row, firstMissing(d.res), whyText(d.res)))
	}
	return rows
}

// warningLines are the hops' warnings, one line each.
func (v *compareView) warningLines() []string {
	var out []string
	for _, h := range v.r.Hops {
		for _, wn := range h.Warnings {
			out = append(out, "warning: "+h.Name+": "+wn)
		}
	}
	return out
}

// between names the segment where a direction's messages went missing: "between fw and ingress".
func between(d *schema.DirectionResult) string {
	switch {
	case d.Segment != nil:
		return *d.Segment
	case d.FirstMissingHop == nil:
		return ""
	case d.LastSeenHop == nil:
		return "at " + *d.FirstMissingHop
	}
	return "between " + *d.LastSeenHop + " and " + *d.FirstMissingHop
}

// shortClock is a time of day to the millisecond, as the tables show times.
func shortClock(t time.Time) string { return t.UTC().Format("15:04:05.000") }

// whyText is a direction's reason followed by where to look in the captures: file and packet of
// the last sighting of the first missing message and of the next packet where it is missing, as
// Wireshark display filters, so that a reader can check the verdict packet by packet.
func whyText(d *schema.DirectionResult) string {
	ev := d.Evidence
	why := d.Reason
	for _, n := range ev.Notes {
		if strings.HasPrefix(n, "warning at ") {
			why += " (" + n + ")"
		}
	}
	if ev.LastSeen == nil {
		return why
	}
	look := fmt.Sprintf(" Wireshark: last seen in %s at %s (%s)", filepath.Base(ev.LastSeen.File), ev.LastSeen.Hop, ev.LastSeen.Filter)
	if m := ev.FirstMiss; m != nil {
		switch {
		case m.Packet > 0:
			look += fmt.Sprintf("; missing at %s: %s in %s comes after it (%s)", m.Hop, m.What, filepath.Base(m.File), m.Filter)
		default:
			look += fmt.Sprintf("; missing at %s from %s on (%s)", m.Hop, shortClock(m.Expected), m.Filter)
		}
	}
	return why + "." + look + "."
}

// probeLines name the wspath probe messages given a verdict: "probe #17 lost between fw and
// ingress (connection 2, to server)", one line per direction that has any.
func (v *compareView) probeLines() []string {
	var out []string
	for _, c := range v.shown {
		for _, d := range directions(c) {
			if len(d.res.Probes) == 0 {
				continue
			}
			what := "probe "
			if len(d.res.Probes) > 1 {
				what = "probes "
			}
			out = append(out, fmt.Sprintf("%s%s %s %s (connection %d, %s)", what, numberRanges(d.res.Probes),
				d.res.Verdict, between(d.res), c.ID, d.name))
		}
	}
	return out
}

// numberRanges writes numbers as "#3, #7-#9": runs of consecutive numbers as ranges.
func numberRanges(ns []int) string {
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, fmt.Sprintf("#%d", ns[i]))
		case j == i+1:
			parts = append(parts, fmt.Sprintf("#%d, #%d", ns[i], ns[j]))
		default:
			parts = append(parts, fmt.Sprintf("#%d-#%d", ns[i], ns[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
