package correlate

import (
	"fmt"
	"time"

	"github.com/wspath/wspath/schema"
)

// summarize finds the worst verdict over all connections and where it happened most.
func summarize(r *schema.Result) schema.Summary {
	s := schema.Summary{Verdict: schema.Delivered}
	msgs := 0
	for i := range r.Connections {
		c := &r.Connections[i]
		addVerdict(&s.Connections, c.Verdict)
		s.Verdict = max(s.Verdict, c.Verdict)
		msgs += c.Directions.ClientToServer.Messages + c.Directions.ServerToClient.Messages
	}
	if s.Verdict == schema.Delivered {
		switch {
		case len(r.Hops) == 0:
			s.Reason = "no hops to compare"
		case len(r.Connections) == 0:
			s.Reason = "no WebSocket connection was found"
		default:
			s.Reason = fmt.Sprintf("all %s of %s were delivered", count(msgs, "message"), count(len(r.Connections), "connection"))
		}
		return s
	}
	best, bt := tallyPlaces(r, &s).busiest()
	setPlace(&s, best, bt)
	s.Reason = summaryReason(&s)
	if s.Started != nil {
		s.Reason += ", first at " + s.Started.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// verdictPlace is where the directions given the summary's verdict went wrong: the hop that last saw
// the first missing message, the first hop without it, and the segment named for it.
type verdictPlace struct{ last, miss, seg string }

// placeTally counts the directions given the summary's verdict at one place.
type placeTally struct {
	n       int
	dirs    [2]bool // client_to_server, server_to_client among them
	started time.Time
}

// placeTallies are the places in order of first appearance, with their tallies.
type placeTallies struct {
	order []verdictPlace
	by    map[verdictPlace]*placeTally
}

// tallyPlaces counts, per place, the directions given s.Verdict, and adds their missing
// messages, affected connections and earliest time to s.
func tallyPlaces(r *schema.Result, s *schema.Summary) placeTallies {
	pt := placeTallies{by: map[verdictPlace]*placeTally{}}
	for i := range r.Connections {
		c := &r.Connections[i]
		affected := false
		for di, d := range []*schema.DirectionResult{&c.Directions.ClientToServer, &c.Directions.ServerToClient} {
			if d.Verdict != s.Verdict {
				continue
			}
			affected = true
			s.MissingMessages += d.Missing
			if d.Time != nil && (s.Started == nil || d.Time.Before(*s.Started)) {
				t := *d.Time
				s.Started = &t
			}
			t := pt.at(placeOf(d))
			t.n++
			t.dirs[di] = true
			if d.Time != nil && (t.started.IsZero() || d.Time.Before(t.started)) {
				t.started = *d.Time
			}
		}
		if affected {
			s.AffectedConnections++
		}
	}
	return pt
}

// placeOf is the place of direction d.
func placeOf(d *schema.DirectionResult) verdictPlace {
	p := verdictPlace{}
	if d.LastSeenHop != nil {
		p.last = *d.LastSeenHop
	}
	if d.FirstMissingHop != nil {
		p.miss = *d.FirstMissingHop
	}
	if d.Segment != nil {
		p.seg = *d.Segment
	}
	return p
}

// at returns the tally of p, new if p was not seen yet.
func (pt *placeTallies) at(p verdictPlace) *placeTally {
	t := pt.by[p]
	if t == nil {
		t = &placeTally{}
		pt.by[p] = t
		pt.order = append(pt.order, p)
	}
	return t
}

// busiest returns the place with the most directions; ties go to the earliest start, then to
// the hop names in order, so the choice does not depend on map order.
func (pt placeTallies) busiest() (verdictPlace, *placeTally) {
	var best verdictPlace
	var bt *placeTally
	for _, p := range pt.order {
		t := pt.by[p]
		if bt == nil || t.n > bt.n || (t.n == bt.n && earlier(t.started, bt.started)) ||
			(t.n == bt.n && t.started.Equal(bt.started) && p.miss+"\x00"+p.last < best.miss+"\x00"+best.last) {
			best, bt = p, t
		}
	}
	return best, bt
}

// setPlace sets the summary's first missing hop, segment and direction from the busiest place.
func setPlace(s *schema.Summary, best verdictPlace, bt *placeTally) {
	if best.miss != "" {
		m := best.miss
		s.FirstMissingHop = &m
		switch {
		case best.seg != "":
			seg := best.seg
			s.Segment = &seg
		case best.last != "":
			seg := fmt.Sprintf("between %s and %s", best.last, best.miss)
			s.Segment = &seg
		}
	}
	dir := "both"
	switch {
	case bt.dirs[0] && !bt.dirs[1]:
		dir = "client_to_server"
	case bt.dirs[1] && !bt.dirs[0]:
		dir = "server_to_client"
	}
	s.Direction = &dir
}

// summaryReason is the sentence saying what happened to how many messages, where, and in which
// direction, for the summary's verdict (not Delivered).
func summaryReason(s *schema.Summary) string {
	dir := *s.Direction
	where := ""
	if s.Verdict == schema.CaptureGap && s.FirstMissingHop != nil {
		where = " at " + *s.FirstMissingHop // a capture's problem, not a link's
	} else if s.Segment != nil {
		where = " " + *s.Segment
	} else if s.FirstMissingHop != nil {
		where = " at " + *s.FirstMissingHop
	}
	msgs, conns := count(s.MissingMessages, "message"), count(s.AffectedConnections, "connection")
	switch s.Verdict {
	case schema.Lost:
		if s.MissingMessages == 0 {
			// Lost with no message: the WebSocket handshake itself did not get through.
			return fmt.Sprintf("the WebSocket handshake of %s did not get through%s (%s)", conns, where, dir)
		}
		return fmt.Sprintf("%s of %s %s lost%s (%s)", msgs, conns, were(s.MissingMessages), where, dir)
	case schema.Closed:
		if s.MissingMessages == 0 {
			return fmt.Sprintf("%s ended by a component in the middle of the path%s, with no message in flight (%s)", count(s.AffectedConnections, "connection was", "connections were"), where, dir)
		}
		return fmt.Sprintf("%s of %s %s not delivered because the connection ended%s (%s)", msgs, conns, were(s.MissingMessages), where, dir)
	case schema.Modified:
		return fmt.Sprintf("%s of %s %s changed in transit%s (%s)", msgs, conns, were(s.MissingMessages), where, dir)
	case schema.Undecided:
		return fmt.Sprintf("%s may have lost messages%s (%s), but the captures cannot tell", conns, where, dir)
	case schema.CaptureGap:
		return fmt.Sprintf("no message was proven lost; captures lack %s of %s%s (%s)", msgs, conns, where, dir)
	}
	return ""
}

// earlier reports whether a is before b, a zero time counting as latest.
func earlier(a, b time.Time) bool {
	if a.IsZero() {
		return false
	}
	return b.IsZero() || a.Before(b)
}

// were is "was" for one, "were" for any other number.
func were(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// count formats n with a noun, plural when n is not 1: the noun plus "s", or the given plural.
func count(n int, noun string, plural ...string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(plural) > 0 {
		return fmt.Sprintf("%d %s", n, plural[0])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// addVerdict counts one connection of verdict v in c.
func addVerdict(c *schema.VerdictCounts, v schema.VerdictKind) {
	switch v {
	case schema.Delivered:
		c.Delivered++
	case schema.CaptureGap:
		c.CaptureGap++
	case schema.Undecided:
		c.Undecided++
	case schema.Modified:
		c.Modified++
	case schema.Closed:
		c.Closed++
	case schema.Lost:
		c.Lost++
	}
}
