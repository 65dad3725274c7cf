package report

import (
	"fmt"
	"html/template"
	"io"
	"strconv"

	"github.com/wspath/wspath/schema"
)

// HTML output is one self-contained page: inline CSS, inline SVG, no script, no external asset
// and no network access, so it can be attached to a ticket and opened anywhere. html/template
// escapes every value by context; values are also passed through EscapeControl first, so control
// characters from the wire show as \xNN rather than vanish.

type htmlPage struct {
	Title     string
	Headline  string
	Verdict   string // CSS class: the verdict's name
	Detail    string
	Reason    string
	Probes    []string
	Header    []string
	Rows      []htmlRow
	Why       []string
	Collapsed string
	Ladders   []htmlLadder
	Segments  string
	HopHeader []string
	Hops      [][]string
	Warnings  []string
	Delivered []htmlRow // fully delivered connections, under a closed <details>
}

type htmlRow struct {
	Verdict string
	Cells   []string
}

func compareHTML(w io.Writer, v *compareView, o Options) error {
	r := v.r
	p := htmlPage{
		Title: EscapeControl(summaryHead(r)), Headline: EscapeControl(summaryHead(r)),
		Verdict: r.Summary.Verdict.String(), Detail: EscapeControl(trimLead(summaryTail(r))),
		Reason: EscapeControl(r.Summary.Reason), Header: escapeAll(v.ticketHeader()),
		Collapsed: v.collapsedLine(), Segments: EscapeControl(v.segmentsLine()),
		HopHeader: hopHeader, Warnings: escapeAll(v.warningLines()), Probes: escapeAll(v.probeLines()),
	}
	for _, c := range v.shown {
		rows, why := v.ticketRows(c)
		for i, row := range rows {
			p.Rows = append(p.Rows, htmlRow{Verdict: directions(c)[i].res.Verdict.String(), Cells: escapeAll(row)})
		}
		p.Why = append(p.Why, escapeAll(why)...)
		if l := v.ladderFor(c); l != nil {
			p.Ladders = append(p.Ladders, newHTMLLadder(l))
		}
	}
	if !o.All {
		all := &compareView{r: r, hops: v.hops}
		for i := range r.Connections {
			if c := &r.Connections[i]; fullyDelivered(c) {
				rows, _ := all.ticketRows(c)
				for _, row := range rows {
					p.Delivered = append(p.Delivered, htmlRow{Verdict: schema.Delivered.String(), Cells: escapeAll(row)})
				}
			}
		}
	}
	for _, h := range hopRows(r) {
		p.Hops = append(p.Hops, escapeAll(h.cells()))
	}
	return htmlTemplate.Execute(w, p)
}

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = EscapeControl(s)
	}
	return out
}

// htmlLadder is a ladder laid out in SVG coordinates.
type htmlLadder struct {
	Title         string
	Width, Height int
	Hops          []htmlHop
	Arrows        []htmlArrow
	Note          string
	NoteX, NoteY  int
}

type htmlHop struct {
	Name string
	X    int
}

type htmlArrow struct {
	X1, X2, Y int
	Label     string
	LabelX    int
	Stops     bool
	Changed   bool   // the message arrived changed (modified): a full arrow, in the finding's colour
	Head      string // the arrow head's polygon points, or the X mark's path for a stop
}

const (
	ladderColumn = 150 // pixels between hops
	ladderRow    = 34  // pixels between arrows
	ladderTop    = 50
)

func newHTMLLadder(l *ladder) htmlLadder {
	n := len(l.hops)
	steps := l.arrows()
	hl := htmlLadder{
		Title: EscapeControl(fmt.Sprintf("connection %d %s, %s", l.conn.ID, connPath(l.conn), l.dir.name)),
		Width: n*ladderColumn + 40, Height: ladderTop + (len(steps)+2)*ladderRow,
		Note: EscapeControl(l.note()),
	}
	x := func(hop int) int { return 20 + ladderColumn/2 + hop*ladderColumn }
	for i, h := range l.hops {
		hl.Hops = append(hl.Hops, htmlHop{Name: EscapeControl(h), X: x(i)})
	}
	for i, s := range steps {
		a := htmlArrow{X1: x(l.travel[s.from]), X2: x(l.travel[s.to]), Y: ladderTop + (i+1)*ladderRow, Label: s.label, Stops: s.stops, Changed: s.changed}
		dir := 1
		if a.X2 < a.X1 {
			dir = -1
		}
		if s.stops {
			// The message stops halfway, under an X.
			a.X2 = (a.X1 + a.X2) / 2
			a.Head = fmt.Sprintf("M%d %d L%d %d M%d %d L%d %d", a.X2-7, a.Y-7, a.X2+7, a.Y+7, a.X2-7, a.Y+7, a.X2+7, a.Y-7)
		} else {
			a.Head = fmt.Sprintf("%d,%d %d,%d %d,%d", a.X2, a.Y, a.X2-10*dir, a.Y-5, a.X2-10*dir, a.Y+5)
		}
		a.LabelX = (a.X1 + a.X2) / 2
		hl.Arrows = append(hl.Arrows, a)
	}
	hl.NoteX, hl.NoteY = 20, hl.Height-12
	return hl
}

// ticketHeader and ticketRows are the connections table as tickets show it: the reasons apart.
func (v *compareView) ticketHeader() []string {
	header := append([]string{"conn", "path", "direction", "verdict"}, v.hops...)
	return append(header, "first missing")
}

func (v *compareView) ticketRows(c *schema.Connection) (rows [][]string, why []string) {
	for _, d := range directions(c) {
		row := []string{strconv.Itoa(c.ID), connPath(c), d.name, verdictText(d.res)}
		for _, h := range v.hops {
			row = append(row, hopCount(d.res.PerHop.Get(h)))
		}
		rows = append(rows, append(row, firstMissing(d.res)))
		if d.res.Verdict != schema.Delivered || d.res.LowConfidence {
			why = append(why, fmt.Sprintf("connection %d (key %s), %s: %s", c.ID, connKey(c), d.name, whyText(d.res)))
		}
	}
	return rows, why
}

var htmlTemplate = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d1d1f; background: #fff; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.verdict-delivered { color: #17702e; } .verdict-lost, .verdict-closed, .verdict-modified { color: #b3261e; }
.verdict-capture_gap { color: #006e8a; } .verdict-undecided { color: #8a5a00; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d0d0d7; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f6; }
tr.row-delivered td { color: #555; }
td.v { font-weight: 600; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
ul.why li { margin: 4px 0; }
.warn { color: #8a5a00; }
svg { display: block; margin: 8px 0 16px; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; }
</style>
</head>
<body>
<h1 class="verdict-{{.Verdict}}" id="summary">{{.Headline}}</h1>
<p>{{.Detail}}</p>
{{if .Reason}}<p>{{.Reason}}</p>{{end}}
{{if .Probes}}<ul id="probes">{{range .Probes}}<li><strong>{{.}}</strong></li>{{end}}</ul>{{end}}
{{if .Rows}}<h2>Connections</h2>
<table id="connections">
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range $r := .Rows}}<tr class="row-{{$r.Verdict}}">{{range $i, $c := $r.Cells}}<td{{if eq $i 3}} class="v verdict-{{$r.Verdict}}"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{if .Why}}<ul class="why">{{range .Why}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
{{if .Collapsed}}<p>{{.Collapsed}}</p>{{end}}
{{if .Delivered}}<details><summary>Connections that delivered everything ({{len .Delivered}} rows)</summary>
<table><thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Delivered}}<tr class="row-delivered">{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table></details>{{end}}
{{range $l := .Ladders}}<h2>Where messages stop: {{.Title}}</h2>
<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Note}}">
{{range .Hops}}<text x="{{.X}}" y="20" text-anchor="middle" font-weight="600">{{.Name}}</text>
<line x1="{{.X}}" y1="30" x2="{{.X}}" y2="{{$l.Height}}" stroke="#9a9aa6" stroke-width="1" stroke-dasharray="4 3"/>
{{end}}{{range .Arrows}}{{if .Stops}}<line x1="{{.X1}}" y1="{{.Y}}" x2="{{.X2}}" y2="{{.Y}}" stroke="#b3261e" stroke-width="2" stroke-dasharray="6 3"/>
<path d="{{.Head}}" stroke="#b3261e" stroke-width="3" fill="none"/>
<text x="{{.LabelX}}" y="{{.Y}}" dy="-6" text-anchor="middle" fill="#b3261e">{{.Label}}</text>
{{else if .Changed}}<line x1="{{.X1}}" y1="{{.Y}}" x2="{{.X2}}" y2="{{.Y}}" stroke="#b3261e" stroke-width="2" stroke-dasharray="6 3"/>
<polygon points="{{.Head}}" fill="#b3261e"/>
<text x="{{.LabelX}}" y="{{.Y}}" dy="-6" text-anchor="middle" fill="#b3261e">{{.Label}}</text>
{{else}}<line x1="{{.X1}}" y1="{{.Y}}" x2="{{.X2}}" y2="{{.Y}}" stroke="#2f5fa7" stroke-width="1.5"/>
<polygon points="{{.Head}}" fill="#2f5fa7"/>
<text x="{{.LabelX}}" y="{{.Y}}" dy="-6" text-anchor="middle">{{.Label}}</text>
{{end}}{{end}}<text x="{{.NoteX}}" y="{{.NoteY}}" fill="#b3261e">{{.Note}}</text>
</svg>
{{end}}
<h2>Hops</h2>
{{if .Segments}}<p>{{.Segments}}</p>{{end}}
<table id="hops">
<thead><tr>{{range .HopHeader}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Hops}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{range .Warnings}}<p class="warn">{{.}}</p>
{{end}}</body>
</html>
`))
