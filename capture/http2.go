package capture

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wspath/wspath/capture/h2demux"
	"github.com/wspath/wspath/capture/handshake"
	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpstream"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// maxH2Streams bounds the WebSocket streams tracked per HTTP/2 connection; ordinary requests are
// not tracked at all.
const maxH2Streams = 10000

// h2conn reads the application bytes of an HTTP/2 connection (h2c with prior knowledge, or h2
// after TLS): every RFC 8441 WebSocket stream (extended CONNECT with :protocol websocket) becomes
// a Session of its own, read by a conn of its own fed with the stream's DATA payloads. It
// implements h2demux.Handler.
type h2conn struct {
	c       *conn
	demux   *h2demux.Demux
	streams map[uint32]*h2stream
	goAway  [2]*StreamEnd // per direction: the first GOAWAY each side sent
	goLast  [2]uint32
	skipped int // WebSocket streams past maxH2Streams
}

// h2stream is one WebSocket stream of an HTTP/2 connection.
type h2stream struct {
	id      uint32
	ws      *conn     // reads the stream's DATA as a WebSocket connection; its sess is the Session
	pay     [2]uint64 // DATA payload bytes so far, per direction: the session's stream offsets
	spans   [2][]span // where in the connection's byte stream each run of payload lay
	early   []byte    // client bytes sent before the response, fed once it allows WebSocket
	earlyM  packet.Meta
	end     [2]*packet.Meta // END_STREAM per side
	rst     [2]*packet.Meta // RST_STREAM per side (or a GOAWAY that excluded the stream)
	open    bool            // a 2xx response arrived: the stream carries WebSocket frames
	refused bool
}

// span maps a run of a stream's payload (from stream offset pay) to the connection's byte stream
// (from offset conn), so messages carry offsets that line up with TCP's acknowledgements.
type span struct{ pay, conn uint64 }

// startH2 switches the connection to HTTP/2, client being the side that sent the preface.
func (c *conn) startH2(client tcpstream.Dir) {
	c.mode, c.client = modeH2, client
	h := &h2conn{c: c, streams: map[uint32]*h2stream{}}
	h.demux = h2demux.New(h)
	c.frames().h2 = h
}

// isH2Preface reports whether b starts like the HTTP/2 client preface (at least its first bytes).
func isH2Preface(b []byte) bool {
	n := min(len(b), len(h2demux.Preface))
	return n >= 4 && string(b[:n]) == h2demux.Preface[:n]
}

// isH2Settings reports whether b starts with a SETTINGS frame on stream 0 that is not an ACK: a
// server's first bytes on an HTTP/2 connection, which may be captured before the client's preface.
func isH2Settings(b []byte) bool {
	if len(b) < 9 {
		return false
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	return b[3] == byte(http2.FrameSettings) && b[4] == 0 && n%6 == 0 && n <= 16*6 &&
		b[5]|b[6]|b[7]|b[8] == 0
}

func (h *h2conn) side(d tcpstream.Dir) packet.Direction {
	if d == h.c.client {
		return packet.ClientToServer
	}
	return packet.ServerToClient
}

func (h *h2conn) tdir(s packet.Direction) tcpstream.Dir {
	if s == packet.ClientToServer {
		return h.c.client
	}
	return 1 - h.c.client
}

func (h *h2conn) feed(d tcpstream.Dir, b []byte, off uint64, m packet.Meta) {
	h.demux.Feed(h.side(d), b, off, m)
}

func (h *h2conn) gap(d tcpstream.Dir, off, n uint64, m packet.Meta) {
	h.demux.Gap(h.side(d), off, n, m)
}

// Headers opens a WebSocket stream on an extended CONNECT and completes it on the response.
func (h *h2conn) Headers(s packet.Direction, hd *h2demux.Headers) {
	st := h.streams[hd.Stream]
	m := hd.Meta
	switch {
	case s == packet.ClientToServer && st == nil:
		if hd.Get(":method") != "CONNECT" || !strings.EqualFold(hd.Get(":protocol"), "websocket") {
			return // an ordinary request: not followed
		}
		if len(h.streams) >= maxH2Streams {
			h.skipped++
			return
		}
		h.streams[hd.Stream] = h.openStream(hd, m)
	case s == packet.ServerToClient && st != nil && st.ws.sess.Response == nil:
		h.response(st, hd, m)
	}
	if st != nil && hd.EndStream {
		st.end[s] = &m
	}
}

// openStream starts the Session of a WebSocket stream from its extended CONNECT request.
func (h *h2conn) openStream(hd *h2demux.Headers, m packet.Meta) *h2stream {
	c := h.c
	ws := &conn{r: c.r, tc: c.tc, start: c.start, mode: modeHTTP, client: c.client, reqDone: true, inH2: true}
	s := ws.session(m)
	s.Start = m.Time
	s.SetHTTP2(&HTTP2Stream{StreamID: hd.Stream})
	s.Request = &Request{
		Method: "CONNECT", Path: hd.Get(":path"), Host: hd.Get(":authority"),
		Version: hd.Get("sec-websocket-version"), Extensions: hd.Get("sec-websocket-extensions"),
		Origin: hd.Get("origin"), Headers: h2CorrelationHeaders(hd.Fields), Time: m.Time, Packet: m.Ref(),
	}
	for _, p := range strings.Split(hd.Get("sec-websocket-protocol"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.Request.Protocols = append(s.Request.Protocols, handshake.RedactProtocol(p))
		}
	}
	st := &h2stream{id: hd.Stream, ws: ws}
	if hd.EndStream {
		ws.problem(c.client, ProblemProtocol, hd.Offset, m, "extended CONNECT with END_STREAM: no WebSocket can follow")
	}
	return st
}

// response records the server's answer; a 2xx starts frame parsing (RFC 8441 section 5).
func (h *h2conn) response(st *h2stream, hd *h2demux.Headers, m packet.Meta) {
	status, _ := strconv.Atoi(hd.Get(":status"))
	if status >= 100 && status < 200 {
		return // informational; the final response follows
	}
	ws := st.ws
	ws.sess.Response = &Response{Status: status, Protocol: handshake.RedactProtocol(hd.Get("sec-websocket-protocol")),
		Extensions: hd.Get("sec-websocket-extensions"), Headers: h2CorrelationHeaders(hd.Fields),
		Time: m.Time, Packet: m.Ref()}
	ws.respDone = true
	if status < 200 || status > 299 {
		st.refused, st.early = true, nil
		ws.mode = modeIgnore
		return
	}
	st.open = true
	ws.mode = modeWebSocket
	deflate, _ := handshake.NegotiatedDeflate(ws.sess.Response.Extensions)
	for _, d := range []tcpstream.Dir{ws.client, 1 - ws.client} {
		ws.startFrames(d, deflate, false)
	}
	if len(st.early) > 0 {
		ws.plaintext(ws.client, st.early, 0, st.earlyM)
		ws.account(ws.client, 0, st.earlyM)
		st.early = nil
	}
}

// Data feeds a WebSocket stream's DATA payload to its frame parser.
func (h *h2conn) Data(s packet.Direction, id uint32, b []byte, off uint64, end bool, hm packet.Meta) {
	st := h.streams[id]
	if st == nil {
		return
	}
	m := hm
	if end {
		st.end[s] = &m
	}
	if len(b) == 0 {
		return
	}
	pay := st.pay[s]
	if n := len(st.spans[s]); n == 0 || st.spans[s][n-1].conn+(pay-st.spans[s][n-1].pay) != off {
		st.spans[s] = append(st.spans[s], span{pay: pay, conn: off})
	}
	st.pay[s] += uint64(len(b))
	d := h.tdir(s)
	ws := st.ws
	switch {
	case st.refused || ws.stopped:
	case !st.open && s == packet.ClientToServer:
		if len(st.early)+len(b) > maxHeadSize {
			ws.problem(d, ProblemLimit, off, m, fmt.Sprintf("more than %d bytes sent before the response", maxHeadSize))
			st.refused, st.early = true, nil
			return
		}
		if len(st.early) == 0 {
			st.earlyM = m
		}
		st.early = append(st.early, b...)
	case !st.open:
		ws.problem(d, ProblemProtocol, off, m, "DATA from the server before its response headers")
	default:
		ws.plaintext(d, b, pay, m)
		ws.account(d, pay, m)
	}
}

// Reset records an RST_STREAM: the stream's end, as a TCP reset ends a connection.
func (h *h2conn) Reset(s packet.Direction, id uint32, code http2.ErrCode, hm packet.Meta) {
	st := h.streams[id]
	if st == nil || st.rst[s] != nil {
		return
	}
	m := hm
	st.rst[s] = &m
	if st.ws.sess.HTTP2().Reset == nil {
		st.ws.sess.HTTP2().Reset = &StreamEnd{Direction: st.ws.dirOf(h.tdir(s)), Code: code.String(), Time: m.Time, Packet: m.Ref()}
	}
}

// GoAway records a GOAWAY; streams above its last stream id end there as if reset.
func (h *h2conn) GoAway(s packet.Direction, last uint32, code http2.ErrCode, hm packet.Meta) {
	if h.goAway[s] != nil {
		return
	}
	m := hm
	h.goAway[s] = &StreamEnd{Direction: h.c.dirOf(h.tdir(s)), Code: code.String(), Time: m.Time, Packet: m.Ref()}
	h.goLast[s] = last
}

// Error records a problem on the streams it concerns (all of them for a connection error).
func (h *h2conn) Error(e *h2demux.Error) {
	d, m := h.tdir(e.Direction), e.Meta
	kind := ProblemProtocol
	if e.Fatal {
		kind = ProblemTruncated
		if e.Err != h2demux.ErrGap {
			kind = ProblemProtocol
		}
	}
	for _, st := range h.sorted() {
		if e.Stream == 0 || e.Stream == st.id {
			st.ws.problem(d, kind, e.Offset, m, e.Error())
		}
	}
}

func (h *h2conn) sorted() []*h2stream {
	out := make([]*h2stream, 0, len(h.streams))
	for _, st := range h.streams {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// close finishes every stream's Session with the connection's TCP stats, where END_STREAM counts
// as the stream's FIN and RST_STREAM (or a GOAWAY that excluded it) as its RST. tlsInfo is the
// connection's TLS layer, nil for h2c.
func (h *h2conn) close(st [2]tcpstream.Stats, tlsInfo *TLSInfo) {
	for _, s := range h.sorted() {
		ws := s.ws
		ws.last = h.c.last
		ss := st
		for side := range s.end {
			d := h.tdir(packet.Direction(side))
			if s.end[side] != nil {
				ss[d].FIN = s.end[side]
			}
			if g := h.goAway[side]; g != nil && s.id > h.goLast[side] && s.rst[side] == nil {
				ws.sess.HTTP2().GoAway = g
				mt := packet.Meta{Time: g.Time, File: g.Packet.File, Number: g.Packet.Number}
				s.rst[side] = &mt
			}
			if s.rst[side] != nil {
				ss[d].RST = s.rst[side]
			}
		}
		if tlsInfo != nil {
			t := *tlsInfo
			ws.sess.SetTLS(&t)
		}
		n := len(h.c.r.sessions)
		ws.Close(ss)
		if len(h.c.r.sessions) > n {
			s.translate(ws.sess)
		}
	}
	if h.skipped > 0 {
		start := h.c.r.stamps.Meta(h.c.start)
		h.c.r.warn(Warning{File: start.File, Packet: start.Number,
			Message: fmt.Sprintf("HTTP/2 connection %s-%s: %d WebSocket stream(s) past %d not read", h.c.tc.A(), h.c.tc.B(), h.skipped, maxH2Streams)})
	}
}

// translate turns the session's message offsets (positions in the stream's payload) into
// positions in the connection's byte stream, where TCP acknowledgements and gaps are counted.
func (s *h2stream) translate(sess *Session) {
	for _, i := range Directions {
		spans := s.spans[i] // spans and Messages are both indexed by direction
		msgs := sess.Messages(i)
		for j := range msgs {
			m := &msgs[j]
			m.Offset = mapOffset(spans, m.Offset)
			if m.End > 0 {
				m.End = mapOffset(spans, m.End-1) + 1
			}
		}
		es := sess.Entries(Direction(i))
		for j := range es {
			e := &es[j]
			off, end := mapOffset(spans, e.Offset()), e.End()
			if end > 0 {
				end = mapOffset(spans, end-1) + 1
			}
			e.setOffsets(off, end)
		}
	}
}

// mapOffset maps a payload offset through spans (sorted by pay).
func mapOffset(spans []span, pay uint64) uint64 {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].pay > pay }) - 1
	if i < 0 {
		return pay
	}
	return spans[i].conn + (pay - spans[i].pay)
}

// h2CorrelationHeaders is Head.CorrelationFields for an HTTP/2 header list: the first value of
// a field kept, none marked sensitive (never indexed, as HPACK marks credentials).
func h2CorrelationHeaders(fields []hpack.HeaderField) map[string]string {
	var out map[string]string
	for _, f := range fields {
		if f.IsPseudo() {
			continue
		}
		name, keep := handshake.CorrelationField(f.Name)
		if f.Sensitive || !keep {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		if _, ok := out[name]; !ok {
			out[name] = f.Value
		}
	}
	return out
}
