package report

import (
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// Inspect writes the WebSocket connections of one capture in format f.
func Inspect(w io.Writer, f Format, c *capture.Capture, o Options) error {
	if f == JSON {
		return inspectJSON(w, c, o)
	}
	s, ok := sheetFor(w, f)
	if !ok {
		return fmt.Errorf("report: inspect cannot be rendered as %s", f)
	}
	return inspectSheet(s, inspectHead(c), c.Sessions, o)
}

func newUpgradesDoc(c *capture.Capture) schema.Upgrades {
	var u schema.Upgrades
	for _, s := range c.Sessions {
		switch {
		case s.Request == nil:
			continue
		case s.Response == nil:
			u.Unanswered++
		case s.Response.Status == 101, s.HTTP2() != nil && s.Response.Status >= 200 && s.Response.Status <= 299:
			u.Switched++
		default:
			u.Refused++
		}
		u.Requests++
	}
	u.Summarised = []schema.SummarisedUpgrades{}
	for _, c := range c.Summarised {
		u.Summarised = append(u.Summarised, schema.SummarisedUpgrades(c))
		u.Requests += c.Count
		if c.Outcome == "refused" {
			u.Refused += c.Count
		} else {
			u.Unanswered += c.Count
		}
	}
	return u
}

func newDropsDoc(d *capture.Drops) *schema.Drops {
	if d == nil {
		return nil
	}
	doc := &schema.Drops{Dropped: d.Dropped, Start: timePtr(d.Start), End: timePtr(d.End)}
	if d.Received >= 0 {
		doc.Received = &d.Received
	}
	return doc
}

// unusedText lists the reasons packets were not used, e.g. "12 packet(s) of 40: 10 not_tcp
// (udp port 53), 2 unknown_tunnel (gre protocol 0x880b)".
func unusedText(st schema.Stats) string {
	n := 0
	parts := make([]string, 0, len(st.Unused))
	for _, u := range st.Unused {
		n += u.Packets
		parts = append(parts, fmt.Sprintf("%d %s (%s)", u.Packets, u.Kind, u.Reason))
	}
	return fmt.Sprintf("%d packet(s) of %d: %s", n, st.Packets, strings.Join(parts, ", "))
}

func newStatsDoc(st capture.Stats, unused []capture.Unused) schema.Stats {
	d := schema.Stats{Packets: st.Packets, TCP: st.TCP, NonTCP: st.NonTCP, Truncated: st.Truncated,
		UnknownLink: st.UnknownLink, Malformed: st.Malformed, Tunneled: st.Tunneled,
		UnknownTunnel: st.UnknownTunnel, Fragments: st.Fragments, FragmentsLost: st.FragmentsLost,
		Unused: []schema.UnusedReason{}}
	for _, u := range unused {
		d.Unused = append(d.Unused, schema.UnusedReason(u))
	}
	return d
}

// at is p's value for direction d.
func at[T any](p *schema.PerDirection[T], d capture.Direction) *T {
	if d == capture.ServerToClient {
		return &p.ServerToClient
	}
	return &p.ClientToServer
}

func newStreamEndDoc(e *capture.StreamEnd) *schema.StreamEnd {
	if e == nil {
		return nil
	}
	return &schema.StreamEnd{Direction: e.Direction.String(), Code: e.Code, Time: timeString(e.Time),
		Packet: e.Packet.Number, File: e.Packet.File}
}

// inspectDoc is the JSON document of a capture and, for the line-oriented formats, what a capture
// without WebSocket holds: its TCP connections (tcpConns) and their server ports.
type inspectDoc struct {
	schema.Inspect
	tcpConns int
	ports    string
}

// inspectJSON writes the inspect document of c, one connection at a time (see jsonObject).
func inspectJSON(w io.Writer, c *capture.Capture, o Options) error {
	doc := inspectHead(c)
	j := newJSONObject(w)
	j.field("schema", doc.Schema)
	j.field("files", doc.Files)
	j.field("stats", doc.Stats)
	j.field("upgrades", doc.Upgrades)
	j.field("warnings", doc.Warnings)
	arrayField(j, "connections", len(c.Sessions), false, func(i int) schema.Session { return newSessionDoc(c.Sessions[i], o) })
	return j.end()
}

// newInspectDoc describes c, connections included.
func newInspectDoc(c *capture.Capture, o Options) *inspectDoc {
	doc := inspectHead(c)
	for _, s := range c.Sessions {
		doc.Connections = append(doc.Connections, newSessionDoc(s, o))
	}
	return doc
}

// inspectHead describes c but for its connections.
func inspectHead(c *capture.Capture) *inspectDoc {
	doc := &inspectDoc{Inspect: schema.Inspect{Schema: schema.InspectSchema, Warnings: []string{}, Connections: []schema.Session{}}}
	for _, f := range c.Files {
		doc.Files = append(doc.Files, schema.File{
			Name: f.Name, Format: f.Format, Gzip: f.Gzip, LinkTypes: nonNil(f.LinkTypes),
			Packets: f.Packets, Bytes: f.Bytes, First: timePtr(f.First), Last: timePtr(f.Last),
			Drops: newDropsDoc(f.Drops),
			Stats: newStatsDoc(f.Stats, f.Unused),
		})
	}
	doc.Stats = newStatsDoc(c.Stats, c.Unused)
	doc.tcpConns = c.TCPConnections
	var ps []string
	for i, p := range c.ServerPorts {
		if i == 8 {
			ps = append(ps, "...")
			break
		}
		ps = append(ps, fmt.Sprintf("%d (%d)", p.Port, p.Conns))
	}
	doc.ports = strings.Join(ps, ", ")
	doc.Upgrades = newUpgradesDoc(c)
	for _, w := range c.Warnings {
		doc.Warnings = append(doc.Warnings, w.String())
	}
	return doc
}

func newSessionDoc(s *capture.Session, o Options) schema.Session {
	d := schema.Session{
		ID: s.ID, Path: s.Path(), Client: addr(s.Client), Server: addr(s.Server), Tunnel: s.Tunnel(),
		Interface: s.Interface(),
		MidStream: s.MidStream, Start: timeString(s.Start), End: timeString(s.End),
		Ending: s.Ending.String(), Problems: []schema.Problem{},
	}
	if k := s.Key(); k != "" {
		d.Key = &k
	}
	if r := s.Request; r != nil {
		d.Host = r.Host
		d.Extensions = r.Extensions
		d.Headers = r.Headers
	}
	if r := s.Response; r != nil {
		d.Status = r.Status
		d.Subprotocol = r.Protocol
		if r.Extensions != "" {
			d.Extensions = r.Extensions
		}
		if s.HTTP2() == nil { // HTTP/2 has no Sec-WebSocket-Accept
			valid := r.AcceptValid
			d.AcceptValid = &valid
		}
	}
	if h := s.HTTP2(); h != nil {
		d.HTTP2 = &schema.HTTP2{StreamID: h.StreamID, Reset: newStreamEndDoc(h.Reset), GoAway: newStreamEndDoc(h.GoAway)}
	}
	if t := s.TLS(); t != nil {
		d.TLS = &schema.TLS{SNI: t.SNI, ALPN: t.ALPN, Version: t.Version, CipherSuite: t.CipherSuite,
			Resumed: t.Resumed, Decrypted: t.Decrypted, Reason: t.Reason}
		for _, dir := range capture.Directions {
			*at(&d.TLS.Records, dir) = t.RecordCount[dir]
		}
	}
	for _, dir := range capture.Directions {
		n := s.Counts(dir)
		*at(&d.Messages, dir), *at(&d.Control, dir), *at(&d.Incomplete, dir) = n.Data, n.Control, n.Incomplete
		if c := s.Close(dir); c != nil {
			*at(&d.Close, dir) = &schema.Close{Code: c.Code, Reason: c.Reason, Time: timeString(c.Time),
				Packet: c.Packet.Number, File: c.Packet.File}
		}
		*at(&d.TCP, dir) = newTCPDoc(&s.TCP[dir])
	}
	for _, p := range s.Problems() {
		d.Problems = append(d.Problems, schema.Problem{Kind: p.Kind.String(), Direction: p.Direction.String(),
			Offset: p.Offset, File: p.Packet.File, Packet: p.Packet.Number, Message: p.Message})
	}
	if o.Messages {
		d.MessageList = messageDocs(s, o)
	}
	return d
}

func newTCPDoc(st *capture.StreamStats) schema.TCP {
	t := schema.TCP{Packets: st.Packets, Bytes: st.Bytes, Gaps: []schema.Gap{},
		Retransmissions: st.Retransmissions(), CaptureCopies: st.CaptureCopies(), ZeroWindows: st.ZeroWindows()}
	for _, g := range st.Gaps() {
		t.Gaps = append(t.Gaps, schema.Gap{Offset: g.Offset, Length: g.Length, Time: timeString(g.Time),
			Reason: g.Reason.String()})
	}
	if st.FIN != nil {
		s := timeString(st.FIN.Time)
		t.FIN = &s
	}
	if st.RST != nil {
		s := timeString(st.RST.Time)
		t.RST = &s
	}
	return t
}

// messageDocs lists both directions' messages merged in time order (stable, client first on ties).
func messageDocs(s *capture.Session, o Options) []schema.Message {
	var out []schema.Message
	var data [2]int // data messages so far per direction
	for _, m := range mergeByTime(s) {
		var num *int
		if m.Opcode.IsData() {
			n := data[m.Direction]
			num = &n
			data[m.Direction]++
		}
		md := schema.Message{Index: m.Index, Number: num, Direction: m.Direction.String(), Opcode: m.Opcode.String(),
			Length: m.Length, WireLength: m.WireLength, Frames: m.Frames, First: timeString(m.First),
			Last: timeString(m.Last), File: m.Packet.File, Packet: m.Packet.Number, Offset: m.Offset,
			Flags: flagNames(m.Flags), CloseCode: m.CloseCode}
		if !m.Digest.IsZero() {
			h := m.Digest.String()
			md.Digest = &h
		}
		if !o.NoPayload && len(m.Preview) > 0 {
			p := preview(m.Preview, int64(len(m.Preview)) < m.Length)
			md.Preview = &p
		}
		out = append(out, md)
	}
	return out
}

// previewText is m's preview unescaped, for the table and Markdown renderers, which escape
// cells; "" where the JSON has no preview.
func previewText(m *capture.Message, o Options) string {
	if o.NoPayload || len(m.Preview) == 0 {
		return ""
	}
	return previewRaw(m.Preview, int64(len(m.Preview)) < m.Length)
}

func mergeByTime(s *capture.Session) []*capture.Message {
	a, b := s.Messages(capture.ClientToServer), s.Messages(capture.ServerToClient)
	out := make([]*capture.Message, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j >= len(b) || (i < len(a) && !b[j].First.Before(a[i].First)) {
			out = append(out, &a[i])
			i++
		} else {
			out = append(out, &b[j])
			j++
		}
	}
	return out
}

var flagList = []struct {
	f    capture.Flags
	name string
}{
	{capture.Incomplete, "incomplete"}, {capture.Compressed, "compressed"}, {capture.MidStream, "mid_stream"},
	{capture.Oversize, "oversize"}, {capture.Undecodable, "undecodable"}, {capture.ProtocolError, "protocol_error"},
}

func flagNames(f capture.Flags) []string {
	out := []string{}
	for _, fl := range flagList {
		if f.Has(fl.f) {
			out = append(out, fl.name)
		}
	}
	return out
}

// inspectSheet lays one capture's connections out as lines and tables on a line-oriented format.
// doc is the capture without its connections (inspectHead): each connection's schema.Session is made
// when its row or lines are written, never all at once, so that a flood of 100,000 connections is
// written in the memory of one (the table itself is streamed, see streamtable.go).
func inspectSheet(tw sheet, doc *inspectDoc, sessions []*capture.Session, o Options) error {
	inspectSummary(tw, doc, len(sessions))
	if len(sessions) == 0 {
		if doc.tcpConns > 0 {
			// What the capture holds instead: the wrong port or interface shows here.
			tw.line(fmt.Sprintf("%d TCP connection(s), none of them WebSocket; server ports: %s", doc.tcpConns, doc.ports))
		}
		return tw.err()
	}
	var cells []string // refilled for each row (see rowFunc)
	head := []string{"#", "client", "server", "path", "key", "subprotocol / extensions", "c->s msgs", "s->c msgs", "ended"}
	views := hasInterfaces(sessions)
	if views {
		// A capture of several interfaces (a router's): the same connection once per interface.
		head = append(head[:1], append([]string{"interface"}, head[1:]...)...)
	}
	tw.table(head, len(sessions), func(i int) []string {
		d := newSessionDoc(sessions[i], Options{})
		cells = cells[:0]
		if views {
			cells = append(cells, strconv.Itoa(d.ID), d.Interface)
			cells = connectionCells(cells, &d)
			return append(cells[:2], cells[3:]...) // the # cell once
		}
		return connectionCells(cells, &d)
	})
	connectionNotes(tw, sessions)
	if o.Messages {
		messageTables(tw, doc, sessions, o)
	}
	return tw.err()
}

// hasInterfaces reports whether any session names the interface it was captured on.
func hasInterfaces(sessions []*capture.Session) bool {
	for _, s := range sessions {
		if s.Interface() != "" {
			return true
		}
	}
	return false
}

// inspectSummary writes the lines above the table: counts, Upgrade requests that did not become
// WebSocket, packets not used, warnings.
func inspectSummary(tw sheet, doc *inspectDoc, conns int) {
	packets := 0
	for _, f := range doc.Files {
		packets += f.Packets
	}
	tw.line(fmt.Sprintf("%d WebSocket connection(s) in %d packet(s) from %d file(s)",
		conns, packets, len(doc.Files)))
	if u := doc.Upgrades; u.Refused+u.Unanswered > 0 {
		tw.line(fmt.Sprintf("%d Upgrade request(s): %d switched to WebSocket (101), %d refused (another status), %d never answered",
			u.Requests, u.Switched, u.Refused, u.Unanswered))
	}
	if n := len(doc.Stats.Unused); n > 0 {
		tw.line("not used: " + unusedText(doc.Stats))
	}
	for _, wn := range doc.Warnings {
		tw.line("warning: " + wn)
	}
}

// connectionCells appends to dst the row of connection c in the connections table.
func connectionCells(dst []string, c *schema.Session) []string {
	key := "-"
	if c.Key != nil {
		key = *c.Key
	}
	ok := c.Status == 101
	if c.HTTP2 != nil {
		key = "h2 stream " + strconv.FormatUint(uint64(c.HTTP2.StreamID), 10)
		ok = c.Status >= 200 && c.Status <= 299
	}
	path := c.Path
	switch {
	case c.TLS != nil && !c.TLS.Decrypted:
		path = "(TLS " + c.TLS.SNI + ", not decrypted)"
	case c.MidStream:
		path = "(mid-stream)"
	case !ok && c.Status != 0:
		path += " [refused " + strconv.Itoa(c.Status) + "]"
	}
	proto := strings.TrimSpace(strings.Join(nonEmpty(c.Subprotocol, c.Extensions), " / "))
	return append(dst, strconv.Itoa(c.ID), c.Client, c.Server, path, key, proto,
		countCell(c.Messages.ClientToServer, c.Incomplete.ClientToServer),
		countCell(c.Messages.ServerToClient, c.Incomplete.ServerToClient), endingCell(*c))
}

// connectionNotes writes the lines under the table: the tunnel each connection was captured in,
// then each connection's problems.
func connectionNotes(tw sheet, sessions []*capture.Session) {
	for _, s := range sessions {
		if s.Tunnel() != "" {
			tw.line(fmt.Sprintf("connection %d: captured inside %s", s.ID, s.Tunnel()))
		}
	}
	for _, s := range sessions {
		if len(s.Problems()) == 0 {
			continue
		}
		c := newSessionDoc(s, Options{})
		for _, p := range c.Problems {
			where := ""
			if p.Packet > 0 {
				where = fmt.Sprintf(" (%s packet %d)", p.File, p.Packet)
			}
			tw.line(fmt.Sprintf("connection %d: %s %s at offset %d%s: %s", c.ID, p.Direction, p.Kind, p.Offset, where, p.Message))
		}
	}
}

// messageTables writes one table of messages per connection that lists them (--messages).
func messageTables(tw sheet, doc *inspectDoc, sessions []*capture.Session, o Options) {
	// Packet numbers restart in every file: with rotated files the cell names the file too, so
	// that Wireshark (frame.number in that file) and compare's evidence point at the same packet.
	packetCell := func(file string, n int) string { return strconv.Itoa(n) }
	if len(doc.Files) > 1 {
		packetCell = func(file string, n int) string { return filepath.Base(file) + " #" + strconv.Itoa(n) }
	}
	for _, s := range sessions {
		if len(s.Messages(capture.ClientToServer))+len(s.Messages(capture.ServerToClient)) == 0 {
			continue
		}
		c := newSessionDoc(s, o)
		msgs := mergeByTime(s) // in MessageList's order, for the unescaped previews
		tw.line("")
		tw.line(fmt.Sprintf("connection %d: %s -> %s %s", c.ID, c.Client, c.Server, c.Path))
		tw.table([]string{"time", "dir", "#", "opcode", "bytes", "frames", "packet", "digest", "flags", "preview"}, len(c.MessageList), func(i int) []string {
			m := &c.MessageList[i]
			digest := "-"
			if m.Digest != nil {
				digest = (*m.Digest)[:12]
			}
			op := m.Opcode
			if m.CloseCode != 0 {
				op += " " + strconv.Itoa(int(m.CloseCode))
			}
			num := "-" // control frames are not numbered, as compare numbers messages
			if m.Number != nil {
				num = strconv.Itoa(*m.Number)
			}
			return []string{shortTime(m.First), arrow(m.Direction), num, op, strconv.FormatInt(m.Length, 10),
				strconv.Itoa(m.Frames), packetCell(m.File, m.Packet), digest, strings.Join(m.Flags, ","), clip(previewText(msgs[i], o), 48)}
		})
	}
}

func countCell(n, incomplete int) string {
	if incomplete > 0 {
		return fmt.Sprintf("%d (%d incomplete)", n, incomplete)
	}
	return strconv.Itoa(n)
}

func endingCell(c schema.Session) string {
	s := c.Ending
	for _, cl := range []*schema.Close{c.Close.ClientToServer, c.Close.ServerToClient} {
		if cl != nil && cl.Code != 0 {
			return s + " " + strconv.Itoa(int(cl.Code))
		}
	}
	return s
}

func arrow(dir string) string {
	if dir == capture.ServerToClient.String() {
		return "s->c"
	}
	return "c->s"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xc0 != 0x80 }

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func addr(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// timeString formats a capture timestamp in UTC with nanoseconds, as in the JSON contract.
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timeString(t)
	return &s
}

func shortTime(rfc string) string {
	t, err := time.Parse(time.RFC3339Nano, rfc)
	if err != nil {
		return rfc
	}
	return t.Format("15:04:05.000000")
}
