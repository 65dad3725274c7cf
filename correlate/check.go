package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
)

// Checks of what the user gave: a comparison built on a wrong input (hops out of order, a
// capture from another run, a capture holding no WebSocket) would give confident wrong verdicts,
// so such input is refused or the hop concerned is left out with a warning saying why.

// singleHop is the refusal for a path of one capture point.
func singleHop(hops []Hop) string {
	if len(hops) == 0 {
		return "hops.yaml lists no hop: comparing needs the captures of two capture points or more along the path"
	}
	return fmt.Sprintf("hops.yaml lists one hop (%s): comparing needs the captures of two capture points or more along the path. "+
		"(A capture of both sides of a proxy, tcpdump -i any on its host, is compared as %s.in and %s.out, but %s's capture holds no connection seen on both sides.) "+
		"Use `wspath inspect` to look at one capture", hops[0].Name, hops[0].Name, hops[0].Name, hops[0].Name)
}

// leaveOut finds hops whose captures cannot take part in the comparison and says why: a readable
// capture holding no WebSocket connection while other hops have some (wrong interface, a capture
// filter that missed the port, traffic wspath cannot decode), or one none of whose connections
// belongs to the path the other hops show (a capture from another time or run). Judging with such
// a hop would blame the network for what is the capture's fault.
func leaveOut(conns []*conn, hs []*hopState) map[int]string {
	out := map[int]string{}
	withoutWebSocket(hs, out)
	for h, st := range hs {
		if len(st.sessions) == 0 {
			continue
		}
		if why, ok := foreignHop(conns, hs, h); ok {
			out[h] = fmt.Sprintf("%s (its capture spans %s to %s, the other hops' %s): a capture from another time or run? The other hops are judged among themselves, without this one",
				why, stampDate(st.cap.Start), stampDate(st.cap.End), othersSpan(hs, h))
		}
	}
	return out
}

// withoutWebSocket adds to out the hops whose readable capture holds no WebSocket connection
// while two other hops or more have some.
func withoutWebSocket(hs []*hopState, out map[int]string) {
	withSessions := 0
	for _, h := range hs {
		if len(h.sessions) > 0 {
			withSessions++
		}
	}
	for h, st := range hs {
		if st.cap == nil || len(st.sessions) > 0 || withSessions < 2 {
			continue
		}
		if st.cap.Stats.Truncated > 0 {
			continue // a snap length cut the handshakes: a capture gap, judged as such
		}
		out[h] = fmt.Sprintf("no WebSocket connection in this capture while %d other hops have some: %s; the wrong interface, a capture filter that missed the port, or traffic wspath cannot decode? The other hops are judged among themselves, without this one",
			withSessions, holds(st.cap))
	}
}

// hopFit counts how hop h's sessions fit the connections the other hops show.
type hopFit struct {
	matched int // sessions in a connection that other hops saw too
	foreign int // of those, sessions with a key other than the one the hops on both sides share
	byKey   int // of those, sessions with the key of another hop's session
	keyed   int // of those, sessions with a key at all
}

// fitOf counts how hop h's sessions fit the others' connections.
func fitOf(conns []*conn, h int) hopFit {
	var f hopFit
	for _, c := range conns {
		if c.sess[h] == nil {
			continue
		}
		others, sameKey := 0, false
		for g, s := range c.sess {
			if s != nil && g != h {
				others++
				sameKey = sameKey || (s.Key() != "" && s.Key() == c.sess[h].Key())
			}
		}
		if others == 0 {
			continue
		}
		f.matched++
		if c.sess[h].Key() != "" {
			f.keyed++
		}
		if sameKey {
			f.byKey++
		}
		if sandwiched(c, h) {
			f.foreign++
		}
	}
	return f
}

// sharedElsewhere counts the connections that two hops or more other than h share: without
// them there is no path to compare h against.
func sharedElsewhere(conns []*conn, h int) int {
	n := 0
	for _, c := range conns {
		k := 0
		for g, s := range c.sess {
			if s != nil && g != h {
				k++
			}
		}
		if k >= 2 {
			n++
		}
	}
	return n
}

// foreignHop says why none (or too few) of hop h's connections belong to the path the other
// hops show, and whether they do not.
func foreignHop(conns []*conn, hs []*hopState, h int) (string, bool) {
	st := hs[h]
	f := fitOf(conns, h)
	// Matched by time and messages only, with keys none of the others have and a clock seconds
	// off that nobody stated: as likely another run carrying the same messages as a
	// terminating proxy on a host with a wrong clock.
	farClock := st.offSource == "estimated" && (st.off >= time.Second || st.off <= -time.Second)
	if !(f.matched == 0 || f.foreign*2 > f.matched || (farClock && f.byKey == 0 && f.keyed > 0)) || sharedElsewhere(conns, h) == 0 {
		return "", false
	}
	switch {
	case f.foreign > 0:
		return fmt.Sprintf("%d of its %d WebSocket connection(s) fit the others' by time and messages only, but carry a Sec-WebSocket-Key other than the one the hops on both sides of it agree on", f.foreign, len(st.sessions)), true
	case f.matched > 0:
		return fmt.Sprintf("its %d WebSocket connection(s) fit the others' by time and messages only (no Sec-WebSocket-Key in common), with a clock %s off %s's, and hops.yaml gives no clock_offset (set it if the hosts' clocks differ)",
			len(st.sessions), st.off.Round(time.Millisecond), hs[0].name), true
	}
	return fmt.Sprintf("none of its %d WebSocket connection(s) belongs to a connection seen at the other hops", len(st.sessions)), true
}

// sandwiched reports whether the session of c at hop h has a key other than one that hops on both
// sides of it share: a component that makes a new connection (and key) cannot give the old key
// back further along, so h's session is not this connection.
func sandwiched(c *conn, h int) bool {
	k := c.sess[h].Key()
	if k == "" {
		return false
	}
	for a := 0; a < h; a++ {
		if c.sess[a] == nil {
			continue
		}
		ka := c.sess[a].Key()
		if ka == "" || ka == k {
			continue
		}
		for b := h + 1; b < len(c.sess); b++ {
			if c.sess[b] != nil && c.sess[b].Key() == ka {
				return true
			}
		}
	}
	return false
}

// holds describes what a capture holds, for a hop without WebSocket.
func holds(c *capture.Capture) string {
	st := c.Stats
	s := fmt.Sprintf("it holds %d packets (%d TCP, %d not TCP", st.Packets, st.TCP, st.NonTCP)
	if st.UnknownLink > 0 {
		s += fmt.Sprintf(", %d of a link type wspath cannot decode", st.UnknownLink)
	}
	if st.Malformed > 0 {
		s += fmt.Sprintf(", %d malformed", st.Malformed)
	}
	if st.Tunneled > 0 {
		s += fmt.Sprintf(", %d decapsulated from tunnels", st.Tunneled)
	}
	s += ")"
	if st.Packets == 0 {
		return "it holds no packets"
	}
	if n := capture.UnusedPackets(c.Unused); n > 0 {
		var us []string
		for i, u := range c.Unused {
			if i == 3 {
				us = append(us, "...")
				break
			}
			us = append(us, fmt.Sprintf("%d %s (%s)", u.Packets, u.Kind, u.Reason))
		}
		s += fmt.Sprintf(", %d%% of them not usable: %s,", 100*n/st.Packets, strings.Join(us, ", "))
	}
	s += fmt.Sprintf(" and %d TCP connection(s)", c.TCPConnections)
	if len(c.ServerPorts) > 0 {
		var ps []string
		for i, p := range c.ServerPorts {
			if i == 5 {
				ps = append(ps, "...")
				break
			}
			ps = append(ps, fmt.Sprintf("%d (%d)", p.Port, p.Conns))
		}
		s += " to server ports " + strings.Join(ps, ", ")
	}
	if !c.Start.IsZero() {
		s += fmt.Sprintf(", from %s to %s", stampDate(c.Start), stampDate(c.End))
	}
	return s
}

// othersSpan is the time the captures of the hops other than h cover, for warnings.
func othersSpan(hs []*hopState, h int) string {
	var from, to time.Time
	for g, st := range hs {
		if g == h || st.cap == nil || st.cap.Start.IsZero() {
			continue
		}
		if from.IsZero() || st.cap.Start.Before(from) {
			from = st.cap.Start
		}
		if st.cap.End.After(to) {
			to = st.cap.End
		}
	}
	if from.IsZero() {
		return "nothing"
	}
	return stampDate(from) + " to " + stampDate(to)
}

// stampDate formats a time with its date, for capture spans.
func stampDate(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// roundTrip is the evidence on which of two hops a and b is nearer the client: the median of
// (time at b - time at a) over messages and handshakes going to the server, minus the same going
// to the client. Clock offsets cancel out: it is the sum of the delays both ways, positive when a
// is nearer the client, negative when b is.
func roundTrip(conns []*conn, tracks [][2]*track, a, b int) (rt time.Duration, n int, ok bool) {
	var ds [2][]time.Duration
	for i, c := range conns {
		sa, sb := c.sess[a], c.sess[b]
		if sa == nil || sb == nil {
			continue
		}
		// One handshake seen twice only where the key is the same: a component that
		// terminates the WebSocket (a new key upstream) may answer the client before it
		// opens its own connection, which reads as the hops listed the wrong way round.
		if sameHandshake(sa, sb) {
			ds[capture.ClientToServer] = append(ds[capture.ClientToServer], sb.Request.Time.Sub(sa.Request.Time))
			if sa.Response != nil && sb.Response != nil {
				ds[capture.ServerToClient] = append(ds[capture.ServerToClient], sb.Response.Time.Sub(sa.Response.Time))
			}
		}
		for _, tr := range tracks[i] {
			if len(ds[tr.dir]) >= maxClockSamples {
				continue // no more samples are taken
			}
			// Only payloads seen once in the direction: identical messages (heartbeats) are paired
			// by order, and one missing among them shifts the pairs, which would read as the hops
			// listed the wrong way round.
			seen := map[capture.Digest64]int{}
			for _, id := range tr.ids {
				if m := id.at(a); m != nil && !m.Digest().IsZero() {
					seen[m.Digest()]++
				}
			}
			for _, id := range tr.ids {
				ma, mb := id.at(a), id.at(b)
				if ma == nil || mb == nil || ma.First().IsZero() || mb.First().IsZero() || id.unsureAt(a) || id.unsureAt(b) {
					continue // a guessed pairing (copies around a capture hole) is no evidence
				}
				if seen[ma.Digest()] != 1 {
					continue
				}
				if len(ds[tr.dir]) < maxClockSamples {
					ds[tr.dir] = append(ds[tr.dir], mb.First().Sub(ma.First()))
				}
			}
		}
	}
	if len(ds[0]) == 0 || len(ds[1]) == 0 {
		return 0, 0, false
	}
	return median(ds[0]) - median(ds[1]), min(len(ds[0]), len(ds[1])), true
}

// sameHandshake reports whether sessions a and b at two hops carry one handshake: both
// captured it, with the same Sec-WebSocket-Key.
func sameHandshake(a, b *capture.Session) bool {
	return a.Request != nil && b.Request != nil && a.Request.Key != "" && a.Request.Key == b.Request.Key
}

// sameSpot is the round trip below which two hops' order is not told: two captures taken at one
// spot (two tcpdumps on one interface) see each packet within a microsecond or so of each other,
// either way round, while the least component between two hops (a router forwarding between
// namespaces) adds some 10µs each way.
const sameSpot = 3 * time.Microsecond

// checkOrder returns why the hops, as listed, contradict the captures, with the order the
// captures support; "" when they do not. Hops listed out of order would turn every verdict
// around ("seen at server reached client").
func checkOrder(conns []*conn, tracks [][2]*track, hs []*hopState) string {
	var use []int
	for h, st := range hs {
		if !st.excluded {
			use = append(use, h)
		}
	}
	var wrong []string
	for i := 0; i+1 < len(use); i++ {
		a, b := use[i], use[i+1]
		// Three samples each way at least: a proxy that answers the Upgrade before forwarding it
		// can make a lone handshake look backwards.
		if rt, n, ok := roundTrip(conns, tracks, a, b); ok && rt < -sameSpot && n >= 3 {
			wrong = append(wrong, fmt.Sprintf("%s is listed before %s, but requests and messages to the server pass %s first and answers to the client pass %s first (%d sample(s), round trip %s the other way)",
				hs[a].name, hs[b].name, hs[b].name, hs[a].name, n, (-rt).String()))
		}
	}
	if len(wrong) == 0 {
		return ""
	}
	// The order the evidence supports: each hop ranked by how many hops it is nearer the client
	// than, the given order breaking ties.
	wins := make([]int, len(hs))
	for i, a := range use {
		for _, b := range use[i+1:] {
			rt, _, ok := roundTrip(conns, tracks, a, b)
			switch {
			case !ok:
			case rt > sameSpot:
				wins[a]++
			case rt < -sameSpot:
				wins[b]++
			}
		}
	}
	order := slices.Clone(use)
	slices.SortStableFunc(order, func(x, y int) int { return wins[y] - wins[x] })
	names := make([]string, len(order))
	for i, h := range order {
		names[i] = hs[h].name
	}
	return fmt.Sprintf("the hops are listed in an order the captures contradict: %s. hops.yaml must list the hops client side first; the captures support: %s",
		strings.Join(wrong, "; "), strings.Join(names, ", "))
}

// clockWarnings warns about estimated clock offsets of a second or more: either the clocks of the
// capture hosts differ (say so in hops.yaml with clock_offset) or the capture is from another time.
func clockWarnings(hs []*hopState) {
	ref := hs[0].name
	for _, st := range hs {
		if st.offSource == "reference" {
			ref = st.name
		}
	}
	for _, st := range hs[1:] {
		if st.offSource != "estimated" || st.excluded {
			continue
		}
		if d := st.off; d >= time.Second || d <= -time.Second {
			st.warnings = append(st.warnings, fmt.Sprintf("this capture's clock is %s off %s's by the matched connections, and hops.yaml gives no clock_offset: if the hosts' clocks differ, set clock_offset; if the capture is from another time, it does not belong here",
				d.Round(time.Millisecond), ref))
		}
	}
}
