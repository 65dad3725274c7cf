package correlate

import (
	"fmt"
	"time"
)

// summarize finds the worst verdict over all connections and where it happened most.
func summarize(r *Result) Summary {
	s := Summary{Verdict: Delivered}
	msgs := 0
	for i := range r.Connections {
		c := &r.Connections[i]
		s.Connections.add(c.Verdict)
		s.Verdict = max(s.Verdict, c.Verdict)
		msgs += c.Directions.ClientToServer.Messages + c.Directions.ServerToClient.Messages
	}
	if s.Verdict == Delivered {
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
	type place struct{ last, miss, seg string }
	type tally struct {
		n       int
		dirs    [2]bool
		started time.Time
	}
	tallies := map[place]*tally{}
	var places []place
	for i := range r.Connections {
		c := &r.Connections[i]
		affected := false
		for di, d := range []*DirectionResult{&c.Directions.ClientToServer, &c.Directions.ServerToClient} {
			if d.Verdict != s.Verdict {
				continue
			}
			affected = true
			s.MissingMessages += d.Missing
			if d.Time != nil && (s.Started == nil || d.Time.Before(*s.Started)) {
				t := *d.Time
				s.Started = &t
			}
			p := place{}
			if d.LastSeenHop != nil {
				p.last = *d.LastSeenHop
			}
			if d.FirstMissingHop != nil {
				p.miss = *d.FirstMissingHop
			}
			if d.Segment != nil {
				p.seg = *d.Segment
			}
			t := tallies[p]
			if t == nil {
				t = &tally{}
				tallies[p] = t
				places = append(places, p)
			}
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
	var best place
	var bt *tally
	for _, p := range places {
		t := tallies[p]
		if bt == nil || t.n > bt.n || (t.n == bt.n && earlier(t.started, bt.started)) ||
			(t.n == bt.n && t.started.Equal(bt.started) && p.miss+"\x00"+p.last < best.miss+"\x00"+best.last) {
			best, bt = p, t
		}
	}
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
	where := ""
	if s.Verdict == CaptureGap && s.FirstMissingHop != nil {
		where = " at " + *s.FirstMissingHop // a capture's problem, not a link's
	} else if s.Segment != nil {
		where = " " + *s.Segment
	} else if s.FirstMissingHop != nil {
		where = " at " + *s.FirstMissingHop
	}
	switch s.Verdict {
	case Lost:
		if s.MissingMessages == 0 {
			// Lost with no message: the WebSocket handshake itself did not get through.
			s.Reason = fmt.Sprintf("the WebSocket handshake of %s did not get through%s (%s)", count(s.AffectedConnections, "connection"), where, dir)
			break
		}
		s.Reason = fmt.Sprintf("%s of %s %s lost%s (%s)", count(s.MissingMessages, "message"), count(s.AffectedConnections, "connection"), were(s.MissingMessages), where, dir)
	case Closed:
		if s.MissingMessages == 0 {
			s.Reason = fmt.Sprintf("%s ended by a component in the middle of the path%s, with no message in flight (%s)", count(s.AffectedConnections, "connection was", "connections were"), where, dir)
			break
		}
		s.Reason = fmt.Sprintf("%s of %s %s not delivered because the connection ended%s (%s)", count(s.MissingMessages, "message"), count(s.AffectedConnections, "connection"), were(s.MissingMessages), where, dir)
	case Modified:
		s.Reason = fmt.Sprintf("%s of %s %s changed in transit%s (%s)", count(s.MissingMessages, "message"), count(s.AffectedConnections, "connection"), were(s.MissingMessages), where, dir)
	case Undecided:
		s.Reason = fmt.Sprintf("%s may have lost messages%s (%s), but the captures cannot tell", count(s.AffectedConnections, "connection"), where, dir)
	case CaptureGap:
		s.Reason = fmt.Sprintf("no message was proven lost; captures lack %s of %s%s (%s)", count(s.MissingMessages, "message"), count(s.AffectedConnections, "connection"), where, dir)
	}
	if s.Started != nil {
		s.Reason += ", first at " + s.Started.UTC().Format(time.RFC3339Nano)
	}
	return s
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
