package capture

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpstream"
)

// Stream is one TCP connection on the TCP side of a WebSocket-to-TCP bridge (websockify in front
// of a VNC server, say), read when Options.Bridge is set: there are no frames there, only the
// bytes that the WebSocket messages carried, which correlate aligns with the messages of the hop
// before. Streams, unlike Sessions, keep their payload (Data), bounded by Options.MaxTotalBuffer
// over all streams of a capture.
type Stream struct {
	ID     int            // 1-based, in order of the connection's first packet
	Client netip.AddrPort // the bridge's side
	Server netip.AddrPort // the TCP server behind the bridge (Options.Port or Options.Server)
	Start  time.Time
	End    time.Time
	// Data holds, per Direction, the captured payload in stream order; bytes missing from the
	// capture are not in it (TCP[d].Gaps() says where they were). Runs says which packet carried
	// each piece.
	Data [2][]byte
	Runs [2][]Run
	// Truncated is set for a direction whose bytes went past the bound: Data holds the first ones.
	Truncated [2]bool
	TCP       [2]StreamStats
	Ending    Ending // FIN, RST or open: a TCP stream has no close frames
}

// Run is a piece of a Stream's Data that arrived in one packet.
type Run struct {
	Pos    int    // index in Data of its first byte
	Offset uint64 // TCP stream offset of its first byte
	Time   time.Time
	Packet PacketRef
}

// At returns the run holding Data[pos] (the last run when pos is past the end).
func (s *Stream) At(d Direction, pos int) Run {
	runs := s.Runs[d]
	lo, hi := 0, len(runs)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if runs[mid].Pos <= pos {
			lo = mid
		} else {
			hi = mid
		}
	}
	if len(runs) == 0 {
		return Run{}
	}
	return runs[lo]
}

// bridgeSide reports whether the connection goes to the bridged server (Options.Port or
// Options.Server) and which tcpstream direction is the bridge's (the client's).
func (r *reader) bridgeSide(tc tcpstream.Conn) (tcpstream.Dir, bool) {
	is := func(a netip.AddrPort) bool {
		if r.opts.Server.IsValid() {
			return a.Addr() == r.opts.Server.Addr() && (r.opts.Server.Port() == 0 || a.Port() == r.opts.Server.Port())
		}
		return r.opts.Port != 0 && a.Port() == r.opts.Port
	}
	switch {
	case is(tc.B()):
		return 0, true
	case is(tc.A()):
		return 1, true
	}
	return 0, false
}

// startRaw reads the connection as a bridged TCP stream.
func (c *conn) startRaw(client tcpstream.Dir, m packet.Meta) {
	c.mode, c.client = modeRaw, client
	start := c.start.Time
	if start.IsZero() {
		start = m.Time
	}
	c.frames().raw = &Stream{Start: start}
}

// rawData keeps the next bytes of a bridged stream, within the bound on all streams.
func (c *conn) rawData(d tcpstream.Dir, b []byte, off uint64, m packet.Meta) {
	dir := c.dirOf(d)
	s := c.fr.raw
	if s.Truncated[dir] {
		return
	}
	if room := c.r.opts.MaxTotalBuffer - c.r.bridged; len(b) > room {
		b = b[:max(room, 0)]
		s.Truncated[dir] = true
		c.r.warn(Warning{File: m.File, Packet: m.Number, Message: fmt.Sprintf(
			"bridged TCP stream %s-%s: past %d bytes kept over all streams; the rest of its %s is not compared",
			c.tc.A(), c.tc.B(), c.r.opts.MaxTotalBuffer, dir)})
	}
	if len(b) == 0 {
		return
	}
	s.Runs[dir] = append(s.Runs[dir], Run{Pos: len(s.Data[dir]), Offset: off, Time: m.Time, Packet: m.Ref()})
	s.Data[dir] = append(s.Data[dir], b...)
	c.r.bridged += len(b)
}

// closeRaw finishes a bridged stream.
func (c *conn) closeRaw(st [2]tcpstream.Stats) {
	s := c.fr.raw
	s.Client, s.Server = c.addr(c.client), c.addr(1-c.client)
	s.End = c.last.Time
	for i := range st {
		s.TCP[c.dirOf(tcpstream.Dir(i))] = streamStats(&st[i])
	}
	switch {
	case s.TCP[0].RST != nil || s.TCP[1].RST != nil:
		s.Ending = Reset
	case s.TCP[0].FIN != nil || s.TCP[1].FIN != nil:
		s.Ending = ClosedFIN
	}
	c.r.streams = append(c.r.streams, s)
}
