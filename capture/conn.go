package capture

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wspath/wspath/capture/handshake"
	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpstream"
	"github.com/wspath/wspath/capture/tlsdecrypt"
	"github.com/wspath/wspath/capture/wsframe"
)

// mode is what a TCP connection turned out to carry.
type mode uint8

const (
	modeUnknown   mode = iota // no payload yet
	modeHTTP                  // plaintext HTTP, waiting for the Upgrade handshake
	modeWebSocket             // frames after a 101 (plaintext or decrypted)
	modeMidStream             // no handshake captured: resynchronising on frames
	modeIgnore                // not WebSocket: bytes are dropped as they come
	modeH2                    // HTTP/2: streams demultiplexed by h2, WebSocket streams read as conns of their own
	modeRaw                   // the TCP side of a WebSocket-to-TCP bridge (Options.Bridge): bytes kept
)

// conn turns the reassembled streams of one TCP connection into a Session. It implements
// tcpstream.Stream. Directions are tcpstream's (0: initiator) until the client is known; client says
// which tcpstream direction the WebSocket client sends.
//
// A flood holds hundreds of thousands of connections that never prove to be WebSocket (an Upgrade
// nobody answers), so what one costs while it waits is kept small: the HTTP head buffers live in a
// handshakeState only while bytes are buffered, and the Session is made only when something must be
// recorded in it (a response, a problem, frames) or at Close; until then the request waits in req.
type conn struct {
	r *reader
	// tc gives the endpoints, tunnel and handshake (tcpstream keeps them); start is the first
	// packet (tcpstream.ConnInfo.Start) and last the latest that brought bytes, a gap, a FIN or a
	// RST, as reader.stamps stamps them.
	tc          tcpstream.Conn
	start, last packet.Stamp
	mode        mode
	client      tcpstream.Dir
	reqDone     bool
	respDone    bool
	// inH2: the connection is an HTTP/2 stream's, whose message offsets are translated when it
	// ends.
	inH2 bool
	// stopped: the connection passed the total bound and is no longer read; what was found
	// before is kept.
	stopped bool
	// req is the Upgrade request while there is no Session yet; session moves it there.
	req  *Request
	sess *Session
	hs   *handshakeState // nil while no HTTP head bytes are buffered
	// fr is made by startFrames, or when the connection proves to carry TLS, HTTP/2 or a
	// bridged stream.
	fr *frameState
	// held counts per direction the bytes this connection holds beyond TCP reassembly (HTTP
	// head, frame resync buffer), counted in reader.held against Options.MaxTotalBuffer.
	held [2]int32
}

// frameState is what a connection needs once it carries frames, TLS, HTTP/2 or a bridged stream:
// made on first use, so that a connection still waiting for its handshake does not pay for it.
type frameState struct {
	tls    *tlsdecrypt.Conn
	h2     *h2conn       // set in modeH2
	raw    *Stream       // set in modeRaw
	asm    [2]*assembler // per tcpstream direction
	parser [2]*wsframe.Parser
	// plain counts decrypted bytes per direction: the stream offsets of a TLS session's messages.
	plain [2]uint64
	// out, with ReduceContext, is the connection's slot in the digest file once messages of it
	// were written.
	out *slotState
}

// frames returns the connection's frame state, making it on first use.
func (c *conn) frames() *frameState {
	if c.fr == nil {
		c.fr = &frameState{}
	}
	return c.fr
}

// tls returns the connection's TLS layer, nil if it carries none.
func (c *conn) tls() *tlsdecrypt.Conn {
	if c.fr == nil {
		return nil
	}
	return c.fr.tls
}

// h2 returns the connection's HTTP/2 state, nil unless in modeH2.
func (c *conn) h2() *h2conn {
	if c.fr == nil {
		return nil
	}
	return c.fr.h2
}

// parser returns the frame parser of direction d, nil when frames are not read there.
func (c *conn) parser(d tcpstream.Dir) *wsframe.Parser {
	if c.fr == nil {
		return nil
	}
	return c.fr.parser[d]
}

// asm returns the message assembler of direction d, nil when frames are not read there.
func (c *conn) asm(d tcpstream.Dir) *assembler {
	if c.fr == nil {
		return nil
	}
	return c.fr.asm[d]
}

// handshakeState is what a connection keeps while reading HTTP heads: the bytes of a direction
// until its head is complete (bounded by maxHeadSize); after the request, the client's early bytes
// waiting for the 101. Connections give it back to the reader (reader.freeHandshake) as soon as
// nothing is buffered, so that a waiting connection holds none.
type handshakeState struct {
	head     [2][]byte
	headOff  [2]uint64 // stream offset of head[d][0]
	headMeta [2]packet.Meta
	// An ordinary request (no Upgrade) on a kept-alive connection is being skipped: its method,
	// and per direction the body bytes still to skip (keepalive.go).
	plainMethod string
	skip        [2]uint64
	// pre holds a direction's first bytes while they are too few to tell what the connection
	// carries.
	pre    []byte
	preDir tcpstream.Dir
	preOff uint64
	// request is where the request head is parsed: kept with the state, its Fields' array serves
	// the next connections that get the state, and a flood's Upgrades make no head each.
	request handshake.Head
}

// idle reports whether the state holds nothing that the next bytes need.
func (h *handshakeState) idle() bool {
	return len(h.head[0]) == 0 && len(h.head[1]) == 0 && h.skip == [2]uint64{} && h.plainMethod == "" && len(h.pre) == 0
}

// maxFreeHandshakes bounds the handshake states a reader keeps for reuse, and maxReusedHead the
// capacity of a head buffer kept with one.
const (
	maxFreeHandshakes = 64
	maxReusedHead     = 4 << 10
)

// handshake returns the connection's handshake state, taking one from the reader when it has none.
func (c *conn) handshake() *handshakeState {
	if c.hs == nil {
		if k := len(c.r.freeHandshake); k > 0 {
			c.hs = c.r.freeHandshake[k-1]
			c.r.freeHandshake = c.r.freeHandshake[:k-1]
		} else {
			c.hs = &handshakeState{}
		}
	}
	return c.hs
}

// headLen returns how many bytes of direction d wait for their HTTP head to complete.
func (c *conn) headLen(d int) int {
	if c.hs == nil {
		return 0
	}
	return len(c.hs.head[d])
}

// dropHandshake gives the handshake state back to the reader, whatever it holds.
func (c *conn) dropHandshake() {
	h := c.hs
	if h == nil {
		return
	}
	c.hs = nil
	for i, b := range h.head {
		if cap(b) > maxReusedHead {
			b = nil
		}
		h.head[i] = b[:0]
	}
	*h = handshakeState{head: h.head, request: handshake.Head{Fields: h.request.Fields[:0]}}
	if len(c.r.freeHandshake) < maxFreeHandshakes {
		c.r.freeHandshake = append(c.r.freeHandshake, h)
	}
}

// releaseIdle gives the handshake state back when it holds nothing.
func (c *conn) releaseIdle() {
	if c.hs != nil && c.hs.idle() {
		c.dropHandshake()
	}
}

func (r *reader) newConn(info tcpstream.ConnInfo) tcpstream.Stream {
	r.capt.TCPConnections++
	// The server is the SYN's receiver; without the handshake, the lower port is the better guess.
	port := info.B.Port()
	if !info.SYN && info.A.Port() < port {
		port = info.A.Port()
	}
	if r.ports == nil {
		r.ports = map[uint16]int{}
	}
	r.ports[port]++
	return &conn{r: r, tc: info.Conn, start: r.stamps.Stamp(info.Start)}
}

// Data is called by the assembler with the next in-order bytes of direction d.
func (c *conn) Data(d tcpstream.Dir, b []byte, off uint64, m packet.Meta) {
	c.last = c.r.stamps.Stamp(m)
	if c.stopped {
		return
	}
	if c.mode == modeUnknown {
		if hs := c.hs; hs != nil && len(hs.pre) > 0 && d == hs.preDir {
			b, off = append(hs.pre, b...), hs.preOff
			hs.pre = nil
		}
		if len(b) < sniffLen && c.tc.SYN() && mayStartHandshake(b) {
			// Too few bytes to tell HTTP or TLS yet (a client that writes "G", then "ET /").
			hs := c.handshake()
			hs.pre, hs.preDir, hs.preOff = append(hs.pre[:0], b...), d, off
			return
		}
		c.detect(d, b, m)
	}
	switch {
	case c.mode == modeIgnore:
	case c.mode == modeRaw:
		c.rawData(d, b, off, m)
	case c.tls() != nil:
		c.tls().Feed(c.dirOf(d), b, m)
	default:
		c.plaintext(d, b, off, m)
	}
	c.releaseIdle()
	c.account(d, off, m)
}

// account updates what the connection holds in direction d; past the bound on all connections
// it stops reading this one.
func (c *conn) account(d tcpstream.Dir, off uint64, m packet.Meta) {
	if c.stopped {
		return
	}
	over := false
	for i := range c.held {
		n := c.headLen(i)
		if p := c.parser(tcpstream.Dir(i)); p != nil {
			n += p.Buffered()
		}
		c.r.held += n - int(c.held[i])
		c.held[i] = int32(n) // at most maxHeadSize plus a parser's resync buffer
		if c.h2() != nil && i == 0 {
			n += c.h2().demux.Buffered()
		}
		over = over || n > 0 && c.r.held > c.r.opts.MaxTotalBuffer
	}
	if over {
		c.stop(d, off, m)
	}
}

// stop gives up reading a connection that passed the bound on bytes held by all connections.
// The messages found so far are kept; the buffers are released.
func (c *conn) stop(d tcpstream.Dir, off uint64, m packet.Meta) {
	c.problem(d, ProblemLimit, off, m, fmt.Sprintf("no longer read: HTTP heads and frame resync buffers of all connections passed %d bytes", c.r.opts.MaxTotalBuffer))
	c.r.stopped(m)
	if f := c.fr; f != nil {
		for i, p := range f.parser {
			if p != nil {
				p.End(m)
				f.asm[i].end()
				f.parser[i] = nil
			}
		}
	}
	c.dropHandshake()
	c.release()
	c.stopped = true
}

// release returns the bytes the connection held to the total.
func (c *conn) release() {
	for i := range c.held {
		c.r.held -= int(c.held[i])
		c.held[i] = 0
	}
}

// detect decides from the first payload what the connection carries.
func (c *conn) detect(d tcpstream.Dir, b []byte, m packet.Meta) {
	if client, ok := c.r.bridgeSide(c.tc); ok && c.r.opts.Bridge {
		c.startRaw(client, m)
		return
	}
	switch {
	case isH2Preface(b):
		c.startH2(d)
	case c.tc.SYN() && d == 1 && isH2Settings(b):
		// The server's SETTINGS captured before the client's preface (h2c with prior knowledge).
		c.startH2(0)
	case looksLikeHTTPRequest(b):
		c.mode, c.client = modeHTTP, d
	case c.tc.Packets(d.Other()) == 0 && isSwitchingProtocols(b):
		// A 101 with no packet of the other side before it: the capture sees the server's side
		// only (asymmetric routing, a one-way filter). Read the frames after it.
		c.mode, c.client, c.reqDone = modeHTTP, d.Other(), true
	case tlsdecrypt.IsClientHello(b):
		c.mode, c.client = modeHTTP, d
		c.frames().tls = tlsdecrypt.NewConn(c.r.keys, tlsHandler{c})
		c.session(m).SetTLS(&TLSInfo{})
	case !c.tc.SYN():
		// Picked up mid-stream: frames may still be found. Orientation is decided by masking.
		c.mode = modeMidStream
		c.session(m).MidStream = true
		for i := range 2 {
			c.startFrames(tcpstream.Dir(i), nil, true)
		}
	default:
		c.mode = modeIgnore
	}
}

// sniffLen is how many first bytes detect wants to tell an HTTP request from a TLS ClientHello.
const sniffLen = 8

// mayStartHandshake reports whether b, shorter than sniffLen, may be the start of an HTTP Upgrade
// request or of a TLS ClientHello.
func mayStartHandshake(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	return requestStart(func(p string) bool { return bytes.HasPrefix([]byte(p), b) }) ||
		bytes.HasPrefix([]byte("PRI "), b) || b[0] == 0x16
}

// requestMethods are the methods a connection that may carry an Upgrade can begin with: the
// Upgrade's GET, or an ordinary request before it on a kept-alive connection (keepalive.go).
const requestMethods = "GET get POST PUT HEAD DELETE OPTIONS PATCH"

// requestStart reports whether match holds for one of requestMethods followed by a space.
func requestStart(match func(prefix string) bool) bool {
	for rest := requestMethods; rest != ""; {
		var m string
		m, rest, _ = strings.Cut(rest, " ")
		if match(m + " ") {
			return true
		}
	}
	return false
}

func looksLikeHTTPRequest(b []byte) bool {
	return requestStart(func(p string) bool { return bytes.HasPrefix(b, []byte(p)) })
}

// isSwitchingProtocols reports whether b begins with a 101 status line.
func isSwitchingProtocols(b []byte) bool {
	return bytes.HasPrefix(b, []byte("HTTP/1.1 101")) || bytes.HasPrefix(b, []byte("HTTP/1.0 101"))
}

// maskedFrameStart reports whether b begins like the first frame a client sends after its
// handshake: a data or control frame (not a continuation), RSV2 and RSV3 clear, masked.
func maskedFrameStart(b []byte) bool {
	if len(b) < 2 || b[0]&0x30 != 0 || b[1]&0x80 == 0 {
		return false
	}
	switch b[0] & 0x0f {
	case 1, 2, 8, 9, 10:
		return true
	}
	return false
}

// session returns the connection's Session, creating it on first use with the request that
// waited for it.
func (c *conn) session(m packet.Meta) *Session {
	if c.sess == nil {
		c.sess = &Session{Start: c.start.Time, Request: c.req}
		c.sess.SetTunnel(c.r.encap.Tunnel(c.tc.Tunnel()))
		c.sess.SetInterface(c.r.views.name(c.tc.Iface()))
		c.req = nil
		if c.sess.Start.IsZero() {
			c.sess.Start = m.Time
		}
	}
	return c.sess
}

// plaintext handles the application bytes of direction d, decrypted or not, at stream offset off.
func (c *conn) plaintext(d tcpstream.Dir, b []byte, off uint64, m packet.Meta) {
	switch c.mode {
	case modeWebSocket, modeMidStream:
		if p := c.fr.parser[d]; p != nil { // nil: the side a one-way capture did not see (clientOnly)
			p.Feed(b, off, m)
		}
	case modeH2:
		c.h2().feed(d, b, off, m)
	case modeHTTP:
		if d == c.client && !c.reqDone && c.headLen(int(d)) == 0 && isH2Preface(b) {
			c.switchToH2(b, off, m)
			return
		}
		c.handshakeBytes(d, b, off, m)
	}
}

// switchToH2 starts HTTP/2 on a connection whose (decrypted) client bytes begin with the preface:
// TLS with ALPN h2. Server bytes that came first (its SETTINGS) are passed on before b.
func (c *conn) switchToH2(b []byte, off uint64, m packet.Meta) {
	var early []byte
	var eoff uint64
	var em packet.Meta
	if hs := c.hs; hs != nil {
		// Copied: the buffer goes back to the reader with the state.
		early, eoff, em = bytes.Clone(hs.head[1-c.client]), hs.headOff[1-c.client], hs.headMeta[1-c.client]
	}
	c.dropHandshake()
	c.startH2(c.client)
	if len(early) > 0 {
		c.h2().feed(1-c.client, early, eoff, em)
	}
	c.h2().feed(c.client, b, off, m)
}

// handshakeBytes collects a direction's HTTP head, then hands what follows to the frame parsers.
func (c *conn) handshakeBytes(d tcpstream.Dir, b []byte, off uint64, m packet.Meta) {
	hs := c.handshake()
	if k := min(hs.skip[d], uint64(len(b))); k > 0 {
		// The body of an ordinary request or response before the Upgrade.
		b, off = b[k:], off+k
		hs.skip[d] -= k
		if len(b) == 0 {
			return
		}
	}
	if len(hs.head[d]) == 0 {
		hs.headOff[d], hs.headMeta[d] = off, m
	}
	if len(hs.head[d])+len(b) > maxHeadSize {
		c.problem(d, ProblemLimit, hs.headOff[d], m, fmt.Sprintf("HTTP head or early data longer than %d bytes", maxHeadSize))
		c.giveUp()
		return
	}
	hs.head[d] = append(hs.head[d], b...)
	if d == c.client && !c.reqDone {
		c.parseRequest(m)
	}
	if d == c.client && c.reqDone && !c.respDone && c.mode == modeHTTP {
		c.clientOnly(m)
		return
	}
	if d != c.client && c.reqDone && !c.respDone {
		c.parseResponse(m)
	}
}

// clientOnly starts reading the client's frames without the server's answer when the capture
// has seen no packet at all from the server's side, not even the acknowledgement of the request:
// a client sends frames only after the 101 (RFC 6455, 4.1), so the answer passed where this
// capture could not see it (asymmetric routing, tcpdump -Q or a one-way filter). Without this,
// such a hop would hold none of the messages and seem to lose them all.
func (c *conn) clientOnly(m packet.Meta) {
	d, hs := c.client, c.hs
	if hs == nil || c.tc.Packets(d.Other()) > 0 || !maskedFrameStart(hs.head[d]) {
		return
	}
	s := c.session(m)
	var deflate *handshake.Deflate
	if offersDeflate(s.Request) {
		// Whatever the server accepted, an inflater with a full window and context decodes it.
		deflate = &handshake.Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	}
	c.respDone, c.mode = true, modeWebSocket
	early, off, meta := hs.head[d], hs.headOff[d], hs.headMeta[d]
	c.problem(d, ProblemTruncated, off, meta, "only the client's side of this connection is in the capture (asymmetric routing or a one-way capture filter): the answer to the Upgrade and everything the server sent are missing; the client's frames are read as if the Upgrade was accepted")
	c.startFrames(d, deflate, false)
	c.fr.parser[d].Feed(early, off, meta)
	c.dropHandshake()
}

// offersDeflate reports whether an Upgrade request offers permessage-deflate.
func offersDeflate(r *Request) bool {
	if r == nil {
		return false
	}
	for _, e := range handshake.ParseExtensions(r.Extensions) {
		if e.Name == "permessage-deflate" {
			return true
		}
	}
	return false
}

func (c *conn) parseRequest(m packet.Meta) {
	d, hs := c.client, c.hs
	h := &hs.request
	err := handshake.ParseRequestInto(h, hs.head[d])
	if err == handshake.ErrIncomplete {
		return
	}
	if err != nil {
		if c.sess != nil {
			c.problem(d, ProblemProtocol, hs.headOff[d], m, "upgrade request: "+err.Error())
		}
		c.giveUp()
		return
	}
	if !h.IsWebSocketUpgrade() {
		if !c.plainRequest(h, m) {
			c.giveUp()
		}
		return
	}
	req := c.r.request(h, hs.headMeta[d])
	if c.sess != nil {
		c.sess.Request = req
	} else {
		c.req = req // the Session is made when the connection proves to be WebSocket, or at Close
	}
	c.reqDone = true
	rest := hs.head[d][h.Length:]
	hs.head[d] = append(hs.head[d][:0], rest...)
	hs.headOff[d] += uint64(h.Length)
	if len(hs.head[1-d]) > 0 {
		c.parseResponse(m)
	}
}

// request makes the Request of an Upgrade head h, its first packet m. Values that repeat across
// connections (host, origin, version, header values) are shared (see intern), so that a flood of
// like requests keeps little more than each one's path and key.
func (r *reader) request(h *handshake.Head, m packet.Meta) *Request {
	req := &Request{
		Method: r.intern(h.Method), Path: h.Target, Host: r.intern(h.Get("Host")), Key: h.Get("Sec-WebSocket-Key"),
		Version: r.intern(h.Get("Sec-WebSocket-Version")), Extensions: r.intern(h.Get("Sec-WebSocket-Extensions")),
		Origin: r.intern(h.Get("Origin")), Time: m.Time, Packet: m.Ref(),
	}
	if fs := h.CorrelationFields(); fs != nil {
		req.Headers = make(map[string]string, len(fs))
		for k, v := range fs {
			req.Headers[r.intern(k)] = r.intern(v)
		}
	}
	for p := range strings.SplitSeq(h.Get("Sec-WebSocket-Protocol"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			req.Protocols = append(req.Protocols, r.intern(handshake.RedactProtocol(p)))
		}
	}
	return req
}

// Bounds on the strings intern shares: how many, and how long each.
const (
	maxInterned   = 1 << 14
	maxInternSize = 256
)

// intern returns a shared copy of s, so that equal strings from many handshakes are kept once.
// Past maxInterned distinct strings, or for long ones, s is returned as it is.
func (r *reader) intern(s string) string {
	if s == "" || len(s) > maxInternSize {
		return s
	}
	if v, ok := r.strs[s]; ok {
		return v
	}
	if len(r.strs) >= maxInterned {
		return s
	}
	if r.strs == nil {
		r.strs = map[string]string{}
	}
	s = strings.Clone(s) // not a piece of the head's larger strings, which are then freed
	r.strs[s] = s
	return s
}

func (c *conn) parseResponse(m packet.Meta) {
	d, hs := 1-c.client, c.hs
	for {
		h, err := handshake.ParseResponse(hs.head[d])
		if err == handshake.ErrIncomplete {
			return
		}
		if err != nil {
			c.problem(d, ProblemProtocol, hs.headOff[d], m, "upgrade response: "+err.Error())
			c.giveUp()
			return
		}
		meta := hs.headMeta[d]
		rest := hs.head[d][h.Length:]
		hs.head[d] = append(hs.head[d][:0], rest...)
		hs.headOff[d] += uint64(h.Length)
		hs.headMeta[d] = m
		if h.Status == 100 {
			continue // interim response; the final one follows
		}
		if hs.plainMethod != "" {
			if !c.plainResponse(h, m) {
				c.giveUp()
			}
			return
		}
		s := c.session(meta)
		key := ""
		if s.Request != nil {
			key = s.Request.Key
		} else {
			c.problem(d, ProblemTruncated, hs.headOff[d], meta, "the Upgrade request is not in the capture (a capture of the server's side only, as with asymmetric routing or a one-way filter, or packets the capturing kernel dropped): the client's frames, if any, are read from where the capture has them")
		}
		s.Response = &Response{
			Status: h.Status, Reason: h.Reason, Accept: h.Get("Sec-WebSocket-Accept"),
			Protocol: handshake.RedactProtocol(h.Get("Sec-WebSocket-Protocol")), Extensions: h.Get("Sec-WebSocket-Extensions"),
			Headers: h.CorrelationFields(), Time: meta.Time, Packet: meta.Ref(),
		}
		s.Response.AcceptValid = key != "" && s.Response.Accept == handshake.AcceptKey(key)
		c.respDone = true
		if h.Status != 101 {
			// Refused: the session is kept to show the refusal; what follows is not WebSocket.
			c.mode = modeIgnore
			c.dropHandshake()
			return
		}
		if key != "" && !s.Response.AcceptValid {
			c.problem(d, ProblemProtocol, hs.headOff[d], meta, "Sec-WebSocket-Accept does not match the request's key")
		}
		c.mode = modeWebSocket
		deflate, _ := handshake.NegotiatedDeflate(s.Response.Extensions)
		for _, dir := range []tcpstream.Dir{c.client, 1 - c.client} {
			early := hs.head[dir]
			hs.head[dir] = hs.head[dir][:0] // the parser copies what it keeps
			// Without the request the client's bytes the capture has may begin anywhere (its
			// packets before the answer were lost to the capture): found by resynchronising.
			c.startFrames(dir, deflate, dir == c.client && s.Request == nil)
			if len(early) > 0 {
				c.fr.parser[dir].Feed(early, hs.headOff[dir], hs.headMeta[dir])
			}
		}
		return
	}
}

// startFrames sets up frame parsing of direction d.
func (c *conn) startFrames(d tcpstream.Dir, deflate *handshake.Deflate, midStream bool) {
	a := newAssembler(c, d, deflate, midStream)
	f := c.frames()
	f.asm[d] = a
	opts := wsframe.Options{MidStream: midStream, NoRSV1: !midStream && deflate == nil}
	if !midStream {
		opts.Mask = wsframe.MaskForbidden
		if d == c.client {
			opts.Mask = wsframe.MaskRequired
		}
	}
	f.parser[d] = wsframe.NewParser(a, opts)
}

// giveUp drops a connection that is not (or no longer readable as) WebSocket. A session that already
// has a handshake stays, with the problem that stopped it.
func (c *conn) giveUp() {
	c.mode = modeIgnore
	c.dropHandshake()
	if c.sess != nil && c.sess.Request == nil {
		c.sess = nil
	}
}

// Gap is called when n bytes of direction d at off will never come.
func (c *conn) Gap(d tcpstream.Dir, off, n uint64, reason tcpstream.GapReason, m packet.Meta) {
	c.last = c.r.stamps.Stamp(m)
	if c.stopped {
		return
	}
	defer c.account(d, off, m)
	defer c.releaseIdle()
	switch {
	case c.mode == modeIgnore || c.mode == modeUnknown:
		// Nothing read yet: a gap before the first byte is like a capture that started late.
	case c.mode == modeRaw:
		// A bridged stream's holes are in its TCP stats; its Runs say where the bytes lie.
	case c.tls() != nil:
		c.tls().Gap(c.dirOf(d), n)
	case c.mode == modeH2:
		c.h2().gap(d, off, n, m)
	case c.mode == modeHTTP:
		c.problem(d, ProblemTruncated, off, m, fmt.Sprintf("%d bytes of the handshake not captured", n))
		if c.reqDone && !c.respDone {
			// The 101 was lost but frames may follow: read them as mid-stream. The client's
			// bytes held since its request are frames already (it sends them as soon as it has
			// the 101, which the capture missed): they are read first, then the hole.
			c.mode = modeMidStream
			c.session(m).MidStream = true
			var early []byte
			var eoff uint64
			var em packet.Meta
			if hs := c.hs; hs != nil {
				// Copied: the buffer goes back to the reader with the state.
				early, eoff, em = bytes.Clone(hs.head[c.client]), hs.headOff[c.client], hs.headMeta[c.client]
			}
			c.dropHandshake()
			for i := range 2 {
				c.startFrames(tcpstream.Dir(i), nil, true)
			}
			if len(early) > 0 {
				c.fr.parser[c.client].Feed(early, eoff, em)
			}
			if d == c.client {
				c.fr.parser[d].Gap(off, n)
			}
			return
		}
		c.giveUp()
	default:
		if p := c.fr.parser[d]; p != nil { // nil: the side a one-way capture did not see
			p.Gap(off, n)
		}
	}
}

// Fin and Reset are recorded from the final stats in Close; they only mark the time here.
func (c *conn) Fin(d tcpstream.Dir, m packet.Meta)   { c.last = c.r.stamps.Stamp(m) }
func (c *conn) Reset(d tcpstream.Dir, m packet.Meta) { c.last = c.r.stamps.Stamp(m) }

// Close finishes the session when the TCP connection ends or the capture does.
func (c *conn) Close(st [2]tcpstream.Stats) {
	c.release()
	if c.fr != nil && c.fr.out != nil {
		defer c.closeDigests()
	}
	if c.mode == modeRaw {
		c.closeRaw(st)
		return
	}
	if c.tls() != nil && !c.stopped {
		c.tls().Close() // may still pass on held records
	}
	last := c.r.stamps.Meta(c.last)
	for d := range 2 {
		if p := c.parser(tcpstream.Dir(d)); p != nil {
			p.End(last)
			c.fr.asm[d].end()
		}
	}
	if c.h2() != nil {
		// The streams are the sessions; the connection itself is not reported.
		var t *TLSInfo
		if c.tls() != nil && c.sess != nil && c.sess.TLS() != nil {
			c.finishTLS(c.sess)
			t = c.sess.TLS()
		}
		c.h2().close(st, t)
		return
	}
	defer c.releaseMessages()
	if c.req != nil {
		c.session(last)
	}
	s := c.sess
	if s == nil {
		return
	}
	if c.tls() != nil {
		c.finishTLS(s)
	}
	if c.mode == modeMidStream && !c.orientMidStream() {
		return
	}
	if s.Request == nil && s.Response == nil && !s.MidStream && (s.TLS() == nil || s.TLS().Decrypted) {
		return // decrypted, but not a WebSocket upgrade
	}
	s.Client, s.Server = c.addr(c.client), c.addr(1-c.client)
	s.End = c.last.Time
	s.SetForwarded(c.r.views.forwarded(c.tc.A(), c.tc.B()))
	for i := range st {
		td := tcpstream.Dir(i)
		dir := c.dirOf(td)
		s.TCP[dir] = streamStats(&st[i])
		if a := c.asm(td); a != nil {
			s.SetMessages(dir, a.msgs.take(&c.r.freeBlocks))
			for i := range s.Messages(dir) {
				s.Messages(dir)[i].Direction = dir
			}
			s.setEntries(dir, a.entries.take(&c.r.freeEntries))
			s.setWide(dir, slices.Clip(a.wide))
			a.wide = nil
			s.SetCounts(dir, a.counts)
			s.SetClose(dir, a.close)
		}
	}
	s.Ending = ending(s)
	if c.r.keep(s) {
		c.r.sessions = append(c.r.sessions, s)
	}
}

// flushDigests writes the messages a holds to the digest file being written (ReduceContext).
func (c *conn) flushDigests(a *assembler) {
	dw := c.r.out
	if c.fr.out == nil {
		c.fr.out = dw.newSlot()
	}
	for _, b := range a.msgs.blocks {
		for i := range b {
			dw.addMessage(&b[i], &c.fr.out.st[a.d])
			if dw.n == digestBatch {
				dw.endMessages(c.fr.out.slot, a.d)
			}
		}
	}
	if dw.n > 0 {
		dw.endMessages(c.fr.out.slot, a.d)
	}
	a.msgs.release(&c.r.freeBlocks)
}

// closeDigests hands the digest file slot of a connection that ended to its session, when kept,
// or says that its messages belong to no session.
func (c *conn) closeDigests() {
	if n := len(c.r.sessions); n > 0 && c.sess != nil && c.r.sessions[n-1] == c.sess {
		c.fr.out.client = c.client
		c.r.outSlots[c.sess] = c.fr.out
		return
	}
	c.r.out.dropped(c.fr.out)
}

// releaseMessages gives back the message blocks of a connection whose session is not kept.
func (c *conn) releaseMessages() {
	for d := range 2 {
		if a := c.asm(tcpstream.Dir(d)); a != nil {
			a.msgs.release(&c.r.freeBlocks)
			a.entries.release(&c.r.freeEntries)
		}
	}
}

// orientMidStream decides which side is the client of a connection without handshake, from masking:
// RFC 6455 has clients mask every frame and servers none. It reports false when the bytes did not
// look like WebSocket at all.
func (c *conn) orientMidStream() bool {
	masked := [2]int{}
	frames := [2]int{}
	for d := range 2 {
		if a := c.asm(tcpstream.Dir(d)); a != nil {
			masked[d], frames[d] = a.masked, a.frames
		}
	}
	switch {
	case frames[0]+frames[1] < 2:
		return false
	case masked[0] == frames[0] && frames[0] > 0 && masked[1] == 0:
		c.client = 0
	case masked[1] == frames[1] && frames[1] > 0 && masked[0] == 0:
		c.client = 1
	case masked[0] == 0 && masked[1] == 0:
		// Only server frames were seen: the side with the higher port is most likely the client.
		c.client = 0
		if c.tc.A().Port() < c.tc.B().Port() {
			c.client = 1
		}
		if frames[c.client] > 0 {
			return false
		}
	default:
		return false
	}
	return true
}

func (c *conn) addr(d tcpstream.Dir) netip.AddrPort {
	if d == 0 {
		return c.tc.A()
	}
	return c.tc.B()
}

// dirOf maps a tcpstream direction to the WebSocket direction.
func (c *conn) dirOf(d tcpstream.Dir) Direction {
	if d == c.client {
		return ClientToServer
	}
	return ServerToClient
}

func (c *conn) problem(d tcpstream.Dir, k ProblemKind, off uint64, m packet.Meta, msg string) {
	if c.sess == nil && c.req == nil {
		return
	}
	s := c.session(m)
	if len(s.Problems()) >= maxProblems {
		return
	}
	s.AddProblem(Problem{Kind: k, Direction: c.dirOf(d), Offset: off, Packet: m.Ref(),
		Time: m.Time, Message: msg})
}

// maxProblems bounds the problems kept per session: a hostile stream cannot grow the list forever.
const maxProblems = 100

func ending(s *Session) Ending {
	switch {
	case s.TCP[0].RST != nil || s.TCP[1].RST != nil:
		if s.Close(0) != nil && s.Close(1) != nil {
			return ClosedClean
		}
		return Reset
	case s.Close(0) != nil && s.Close(1) != nil:
		return ClosedClean
	case s.TCP[0].FIN != nil || s.TCP[1].FIN != nil:
		return ClosedFIN
	}
	return StillOpen
}

func streamStats(st *tcpstream.Stats) StreamStats {
	out := StreamStats{Packets: st.Packets, Bytes: st.Bytes, HighestAck: st.HighestAck, ISN: st.ISN, SYN: st.SYN, End: st.End}
	a := StreamAnomalies{Retransmissions: st.Retransmissions, CaptureCopies: st.CaptureCopies,
		ZeroWindows: st.ZeroWindows, GapsDropped: st.GapsDropped}
	for _, g := range st.Gaps {
		a.Gaps = append(a.Gaps, Gap{Offset: g.Offset, Length: g.Length, Time: g.Meta.Time, Reason: g.Reason})
	}
	out.SetAnomalies(a)
	if st.FIN != nil {
		out.FIN = &TCPEvent{Time: st.FIN.Time, Packet: st.FIN.Ref()}
	}
	if st.RST != nil {
		out.RST = &TCPEvent{Time: st.RST.Time, Packet: st.RST.Ref()}
	}
	return out
}
