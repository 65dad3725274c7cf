package report

import (
	"fmt"
	"strings"

	"github.com/wspath/wspath/schema"
)

// ladder is a sequence diagram of one direction of one connection around its first missing
// message: the message before it crossing every hop, then the missing one stopping at the hop
// that last saw it. Mermaid (Markdown) and SVG (HTML) draw the same ladder.
type ladder struct {
	conn    *schema.Connection
	dir     direction
	hops    []string // path order, client side first
	travel  []int    // indices into hops in the order messages of dir cross them
	last    int      // position in travel of the last hop that saw the missing message
	miss    int      // position in travel of the first hop that did not
	index   int      // data message number of the first missing message at the last hop
	missing int      // messages given the verdict in this direction
}

// step is one step of a ladder: a message crossing from one hop to the next, or stopping.
type step struct {
	from, to int // positions in ladder.travel
	msg      int // the message's number
	label    string
	stops    bool // the message never reached to
	changed  bool // the message reached to changed (verdict modified)
}

// ladderFor returns the ladder of the first problem among the connections shown, or nil when no
// direction has a hop where a message went missing.
func (v *compareView) ladderFor(c *schema.Connection) *ladder {
	for _, d := range directions(c) {
		res := d.res
		if res.Verdict == schema.Delivered || res.FirstMissingHop == nil || res.LastSeenHop == nil || res.Index == nil {
			continue
		}
		l := &ladder{conn: c, dir: d, hops: v.hops, index: *res.Index, missing: res.Missing, last: -1, miss: -1}
		for i := range v.hops {
			l.travel = append(l.travel, i)
		}
		if d.key == "server_to_client" {
			for i, j := 0, len(l.travel)-1; i < j; i, j = i+1, j-1 {
				l.travel[i], l.travel[j] = l.travel[j], l.travel[i]
			}
		}
		for p, h := range l.travel {
			switch v.hops[h] {
			case *res.LastSeenHop:
				l.last = p
			case *res.FirstMissingHop:
				l.miss = p
			}
		}
		if l.last >= 0 && l.miss > l.last {
			return l
		}
	}
	return nil
}

// firstLadder is the ladder of the first shown connection that has one.
func (v *compareView) firstLadder() *ladder {
	for _, c := range v.shown {
		if l := v.ladderFor(c); l != nil {
			return l
		}
	}
	return nil
}

// arrows are the steps to draw, in time order.
func (l *ladder) arrows() []step {
	var out []step
	if l.index > 0 {
		for p := 0; p+1 < len(l.travel); p++ {
			out = append(out, step{from: p, to: p + 1, msg: l.index - 1, label: fmt.Sprintf("message %d", l.index-1)})
		}
	}
	for p := 0; p < l.last; p++ {
		out = append(out, step{from: p, to: p + 1, msg: l.index, label: fmt.Sprintf("message %d", l.index)})
	}
	if l.dir.res.Verdict == schema.Modified {
		return append(out, step{from: l.last, to: l.miss, msg: l.index, changed: true,
			label: fmt.Sprintf("message %d arrives changed", l.index)})
	}
	return append(out, step{from: l.last, to: l.miss, msg: l.index, stops: true,
		label: fmt.Sprintf("message %d %s", l.index, l.dir.res.Verdict)})
}

// note says what the ladder shows, in one sentence.
func (l *ladder) note() string {
	s := fmt.Sprintf("%d message(s) %s %s", l.missing, l.dir.res.Verdict, between(l.dir.res))
	if l.missing == 0 {
		s = fmt.Sprintf("%s %s", l.dir.res.Verdict, between(l.dir.res))
	}
	return s
}

// mermaid writes the ladder as a Mermaid sequence diagram.
func (l *ladder) mermaid() string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	for _, h := range l.travel {
		fmt.Fprintf(&b, "    participant h%d as %s\n", h, mermaidText(l.hops[h]))
	}
	for _, a := range l.arrows() {
		op := "->>"
		switch {
		case a.stops:
			op = "-x"
		case a.changed:
			op = "--)" // dotted, open arrow head: it arrived, not as sent
		}
		fmt.Fprintf(&b, "    h%d%sh%d: %s\n", l.travel[a.from], op, l.travel[a.to], mermaidText(a.label))
	}
	fmt.Fprintf(&b, "    Note over h%d,h%d: %s\n", l.travel[l.last], l.travel[l.miss], mermaidText(l.note()))
	return b.String()
}

// mermaidText keeps what Mermaid shows as written: letters, digits, spaces and a few marks. ';',
// '#', ':', quotes and brackets have meaning in its syntax, and hop names come from hops.yaml.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r > 0x7f && r != 0x2028 && r != 0x2029 && r >= 0xa0:
			b.WriteRune(r)
		case strings.ContainsRune(" ._-/,()", r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}
