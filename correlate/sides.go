package correlate

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
)

// splitSides finds hops whose capture holds both sides of the component there: `tcpdump -i any`
// on a proxy host sees the client's connection to the proxy and the proxy's connection upstream,
// both carrying the same Sec-WebSocket-Key. Such a hop becomes two hops, NAME.in (the side facing
// the client) and NAME.out (the side facing the server), so that a message the proxy received but
// never forwarded shows up between them instead of as a second, phantom connection.
func splitSides(hops []Hop) []Hop {
	var out []Hop
	for i, h := range hops {
		h.src = i
		in, outSide, pairs, views, extra := sides(h.Capture)
		if pairs == 0 {
			out = append(out, h)
			continue
		}
		note := capture.Warning{Message: fmt.Sprintf("the capture holds both sides of the component at this hop (%d connection(s) seen twice with the same Sec-WebSocket-Key): compared as %s.in and %s.out", pairs, h.Name, h.Name)}
		if views > 0 {
			note.Message = fmt.Sprintf("the capture holds both sides of the component at this hop (%d connection(s) seen twice with the same Sec-WebSocket-Key; %d of them the same TCP connection on two interfaces, as a capture of several (tcpdump -i any, dumpcap -i a -i b) records a host that forwards it): compared as %s.in and %s.out", pairs, views, h.Name, h.Name)
		}
		if extra > 0 {
			note.Message += fmt.Sprintf("; %d more view(s) of connections seen on a third interface left out (the first and the last capture point of each are compared)", extra)
		}
		if ni, no := interfaceNames(in), interfaceNames(outSide); ni != "" && no != "" {
			note.Message += fmt.Sprintf("; %s.in is what was captured on %s, %s.out on %s", h.Name, ni, h.Name, no)
		}
		for _, side := range []struct {
			name     string
			sessions []*capture.Session
		}{{h.Name + ".in", in}, {h.Name + ".out", outSide}} {
			c := *h.Capture
			c.Sessions = side.sessions
			c.Warnings = append(append([]capture.Warning(nil), h.Capture.Warnings...), note)
			out = append(out, Hop{Name: side.name, Files: h.Files, Capture: &c, ClockOffset: h.ClockOffset, Dropped: h.Dropped, src: i})
		}
	}
	return out
}

// sides splits a capture's sessions into the side facing the client and the side facing the
// server, and counts the keys seen on both, and of them those that are one TCP connection seen on
// two interfaces (views: a router's forwarded connection in a cooked capture, which capture
// keeps apart by interface). Of two sessions with one key, the one whose Upgrade request came
// first faces the client: the component forwards the request after receiving it. Other sessions
// go by address: to the component's listening address (a server address of the client side) is
// the client side, from the component's own addresses or to an upstream server is the server
// side; two views of one connection without a handshake go by their first packet.
//
// A connection seen on more interfaces than two, beside its continuation through a NAT (a
// container's bridge port and the bridge, then the host's uplink), keeps its first view: the
// others are left out (extra counts them), so the key still pairs the first and the last point.
func sides(c *capture.Capture) (in, out []*capture.Session, pairs, views, extra int) {
	if c == nil {
		return nil, nil, 0, 0, 0
	}
	byKey := map[string][]*capture.Session{}
	for _, s := range c.Sessions {
		if k := s.Key(); k != "" {
			byKey[k] = append(byKey[k], s)
		}
	}
	side := map[*capture.Session]bool{} // true: server side
	listen := map[netip.AddrPort]bool{}
	own := map[netip.Addr]bool{}
	upstream := map[netip.AddrPort]bool{}
	left := map[*capture.Session]bool{}
	for _, ss := range byKey {
		if len(ss) > 2 {
			var dup []*capture.Session
			ss, dup = firstViews(ss)
			for _, d := range dup {
				left[d] = true
			}
		}
		if len(ss) != 2 || ss[0].Request == nil || ss[1].Request == nil {
			continue
		}
		a, b := ss[0], ss[1]
		if b.Request.Time.Before(a.Request.Time) {
			a, b = b, a
		}
		pairs++
		side[a], side[b] = false, true
		if a.Client == b.Client && a.Server == b.Server {
			views++
			continue
		}
		listen[a.Server], own[b.Client.Addr()], upstream[b.Server] = true, true, true
	}
	n := unpairedViews(c.Sessions, side, left)
	pairs, views = pairs+n, views+n
	if pairs == 0 {
		return nil, nil, 0, 0, 0
	}
	for _, s := range c.Sessions {
		if _, ok := side[s]; ok || left[s] {
			continue
		}
		side[s] = !listen[s.Server] && (upstream[s.Server] || own[s.Client.Addr()])
	}
	for _, s := range c.Sessions {
		switch {
		case left[s]:
			extra++
		case side[s]:
			out = append(out, s)
		default:
			in = append(in, s)
		}
	}
	sort.SliceStable(in, func(i, j int) bool { return in[i].ID < in[j].ID })
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return in, out, pairs, views, extra
}

// facesClient reports whether a, of two views of one TCP connection, is the one facing the
// client. A forwarded segment is captured arriving before it leaves, so of a message both views
// have, the client-facing view saw a client-to-server one first and a server-to-client one last.
// Their first packets do not tell when the capture began mid-connection: the first packet
// captured may be either direction's.
func facesClient(a, b *capture.Session) bool {
	if ta, tb, ok := firstCommon(a, b, capture.ClientToServer); ok {
		return ta.Before(tb)
	}
	if ta, tb, ok := firstCommon(a, b, capture.ServerToClient); ok {
		return tb.Before(ta)
	}
	return !b.Start.Before(a.Start)
}

// firstCommon returns the times at a and at b of the first of a's messages in direction d (of
// its first few) that b has too, by digest and length.
func firstCommon(a, b *capture.Session, d capture.Direction) (ta, tb time.Time, ok bool) {
	xa, xb := firstMessages(a, d, 16), firstMessages(b, d, 32)
	for _, x := range xa {
		for _, y := range xb {
			if !x.digest.IsZero() && x.digest == y.digest && x.length == y.length {
				return x.t, y.t, true
			}
		}
	}
	return time.Time{}, time.Time{}, false
}

// stamped is a message's digest, length and time.
type stamped struct {
	digest capture.Digest64
	length int64
	t      time.Time
}

// firstMessages returns up to n of a session's first messages in direction d, from its compact
// entries (a capture read for compare) or its messages (read in full).
func firstMessages(s *capture.Session, d capture.Direction, n int) []stamped {
	var out []stamped
	for i, e := range s.Entries(d) {
		if i == n {
			return out
		}
		out = append(out, stamped{e.Digest(), e.Length(), e.First()})
	}
	if len(out) > 0 {
		return out
	}
	for i, m := range s.Messages(d) {
		if i == n {
			break
		}
		out = append(out, stamped{m.Digest.Prefix(), m.Length, m.First})
	}
	return out
}

// firstViews keeps, of sessions sharing one key, the first seen of each TCP connection (the same
// endpoints and tunnel: views of it on several interfaces), and returns the others apart.
func firstViews(ss []*capture.Session) (kept, dup []*capture.Session) {
	ss = append([]*capture.Session(nil), ss...)
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].Start.Before(ss[j].Start) })
	for _, s := range ss {
		seen := false
		for _, k := range kept {
			if k.Client == s.Client && k.Server == s.Server && k.Tunnel() == s.Tunnel() {
				seen = true
				break
			}
		}
		if seen {
			dup = append(dup, s)
		} else {
			kept = append(kept, s)
		}
	}
	return kept, dup
}

// unpairedViews places the sessions not yet in side that are two views of one TCP connection
// (the same endpoints and tunnel, seen on two interfaces), which have no handshake to go by, and
// the same addresses on both sides: facesClient tells them apart.
func unpairedViews(sessions []*capture.Session, side, left map[*capture.Session]bool) int {
	type ends struct {
		client, server netip.AddrPort
		tunnel         string
	}
	byEnds := map[ends][]*capture.Session{}
	n := 0
	for _, s := range sessions {
		if _, ok := side[s]; !ok && !left[s] {
			k := ends{s.Client, s.Server, s.Tunnel()}
			byEnds[k] = append(byEnds[k], s)
		}
	}
	for _, ss := range byEnds {
		if len(ss) != 2 {
			continue
		}
		a, b := ss[0], ss[1]
		if !facesClient(a, b) {
			a, b = b, a
		}
		side[a], side[b] = false, true
		n++
	}
	return n
}

// copiesWarning is the warning for a hop whose capture took connections twice at once with
// nothing to tell the two copies apart (capturedTwice): tcpdump -i any in Linux cooked v1 (no
// interface in the header), or a pcapng file whose interfaces mergecap folded into one. The
// copies are then read as one view, and a message dropped inside the host is not told from one
// it forwarded; the user should know before reading any verdict, not only from the reason of a
// loss placed after the hop. "" when no connection was.
func copiesWarning(c *capture.Capture) string {
	if c == nil {
		return ""
	}
	n := 0
	for _, s := range c.Sessions {
		if capturedTwice(s) > 0 || s.Forwarded() {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d connection(s) captured twice at once (each segment arriving and leaving, as tcpdump -i any records a host that forwards them) with nothing in the capture to say on which interface (Linux cooked v1 headers, or one pcapng interface): the copies are read as one, so a message dropped inside this host cannot be told from one it forwarded, and a loss placed right after this hop is low confidence; tcpdump 4.99 or later (-i any writes Linux cooked v2), dumpcap -i IF1 -i IF2, or mergecap -I none of one capture per interface record each packet's interface", n)
}

// interfaceNames lists the interfaces (capture.Session.Interface) the sessions were captured on,
// sorted, "" when none is named.
func interfaceNames(ss []*capture.Session) string {
	seen := map[string]bool{}
	var names []string
	for _, s := range ss {
		if n := s.Interface(); n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
