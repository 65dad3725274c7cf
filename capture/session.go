package capture

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"time"

	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpstream"
	"github.com/wspath/wspath/capture/wsframe"
)

// Direction is the way a message travels on a WebSocket connection.
type Direction = packet.Direction

// The two directions of a connection. They index Session.TCP and name a direction to Session.Messages.
const (
	ClientToServer = packet.ClientToServer
	ServerToClient = packet.ServerToClient
)

// Directions lists both directions in a fixed order, for loops.
var Directions = [2]Direction{ClientToServer, ServerToClient}

// Opcode is a WebSocket frame opcode (RFC 6455 section 5.2).
type Opcode uint8

// Opcodes defined by RFC 6455.
const (
	OpContinuation = Opcode(wsframe.OpContinuation)
	OpText         = Opcode(wsframe.OpText)
	OpBinary       = Opcode(wsframe.OpBinary)
	OpClose        = Opcode(wsframe.OpClose)
	OpPing         = Opcode(wsframe.OpPing)
	OpPong         = Opcode(wsframe.OpPong)
)

// IsControl reports whether o is a control opcode (close, ping, pong or reserved 0xB-0xF).
func (o Opcode) IsControl() bool { return o >= 0x8 }

// IsData reports whether o starts a data message (text or binary).
func (o Opcode) IsData() bool { return o == OpText || o == OpBinary }

// String returns the lower-case opcode name, or "opN" for reserved values.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "op" + string("0123456789abcdef"[o&0xf])
}

// Digest is the SHA-256 of a message payload after unmasking and decompression, so that the same
// message has the same digest at every hop whatever masking key or fragmentation each hop used.
// Anyone can check it with sha256sum on the payload.
type Digest [sha256.Size]byte

// String returns the digest in hexadecimal.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Short returns the first 12 hexadecimal digits, enough to tell messages apart in a table.
func (d Digest) Short() string { return hex.EncodeToString(d[:6]) }

// IsZero reports whether d was never computed (the payload was not fully captured).
func (d Digest) IsZero() bool { return d == Digest{} }

// Flags describe what is known, or not, about a message.
type Flags uint16

// Message flags.
const (
	// Incomplete: part of the message's bytes were not captured (TCP gap, snap length, capture
	// ended); Digest is zero and Length is a lower bound.
	Incomplete Flags = 1 << iota
	// Compressed: the message was sent with permessage-deflate (RSV1 set on its first frame).
	Compressed
	// MidStream: the connection's handshake was not captured; frames were found by resynchronising.
	MidStream
	// Oversize: the payload went past Options.MaxMessageSize (or the inflate bound); the digest
	// covers only the first MaxMessageSize bytes and the message is reported as a problem.
	Oversize
	// Undecodable: the payload could not be decompressed (bad deflate data, or the shared deflate
	// context was lost at an earlier gap or before a mid-stream capture began); Digest is zero,
	// WireDigest still identifies the message on hops that passed it through unchanged.
	Undecodable
	// ProtocolError: a frame of the message broke RFC 6455 (see Session.Problems).
	ProtocolError
)

// Has reports whether all of want are set.
func (f Flags) Has(want Flags) bool { return f&want == want }

// PacketRef names the packet that carried a byte of the stream: the capture file and the packet's
// 1-based number in it, as Wireshark numbers frames.
type PacketRef = packet.Ref

// Message is one WebSocket message (a data message with its continuation frames, or one control
// frame) as seen at one hop.
type Message struct {
	Index      int       // 0-based position among the messages of its direction, control frames included
	Direction  Direction // who sent it
	Opcode     Opcode    // opcode of the first frame
	Length     int64     // payload bytes after unmasking and decompression
	WireLength int64     // payload bytes on the wire, summed over its frames
	Digest     Digest    // SHA-256 of the payload; zero when Incomplete or Undecodable
	// WireDigest is the SHA-256 of the payload as it travelled: unmasked but still compressed. It
	// equals Digest for an uncompressed message and is zero when Incomplete. Proxies that pass
	// bytes through keep it, so it matches hops where one side could not inflate.
	WireDigest Digest
	Preview    []byte    // the first bytes of the payload (at most Options.PreviewSize), for people
	First      time.Time // time of the packet that completed the first frame header
	Last       time.Time // time of the packet that completed the last frame
	Frames     int       // number of frames (1 for an unfragmented message)
	Offset     uint64    // stream offset of the first frame's header in its direction
	End        uint64    // stream offset just past the last frame
	Packet     PacketRef // packet carrying the first frame's header
	LastPacket PacketRef // packet carrying the last byte of the last frame
	Flags      Flags
	// CloseCode and CloseReason are set for close frames (CloseCode 0: no code in the frame).
	CloseCode   uint16
	CloseReason string
}

// GapReason says why bytes of a TCP stream are missing from the capture; its String gives the
// names used in output ("lost", "acked", "snaplen", "buffer_limit"). Reassembly decides it.
type GapReason = tcpstream.GapReason

// Reasons for a gap.
const (
	// GapLost: bytes never captured and never acknowledged by the peer, as far as the capture
	// shows (the hole did not fill in time, or before the capture ended).
	GapLost = tcpstream.GapLost
	// GapAcked: the peer acknowledged bytes the capture never saw: the network delivered them,
	// only the capture lacks them.
	GapAcked = tcpstream.GapAcked
	// GapSnaplen: packets were cut by the snap length.
	GapSnaplen = tcpstream.GapSnaplen
	// GapBufferLimit: a memory bound made reassembly give up waiting for a hole to fill.
	GapBufferLimit = tcpstream.GapBufferLimit
)

// Gap is a range of a TCP stream that the capture lacks.
type Gap struct {
	Offset uint64    // stream offset of the first missing byte
	Length uint64    // number of missing bytes
	Time   time.Time // time of the packet after which the gap was noticed
	Reason GapReason
}

// TCPEvent is a FIN or RST seen on a connection.
type TCPEvent struct {
	Time   time.Time
	Packet PacketRef
}

// StreamStats describes one direction of the TCP connection under a WebSocket session. What goes
// wrong (gaps, retransmissions, capture copies, zero windows) is read through methods and kept
// apart, made only for a direction that had some (see StreamAnomalies); its JSON is the same as
// when those were fields, in the same order.
type StreamStats struct {
	Packets    int       // TCP segments sent in this direction
	Bytes      uint64    // payload bytes delivered in order (gaps excluded)
	HighestAck uint64    // stream offset (of the other direction) acknowledged by this sender
	FIN        *TCPEvent // first FIN sent in this direction, nil if none
	RST        *TCPEvent // first RST sent in this direction, nil if none
	// End is the stream offset just past the last byte captured or known missing (a gap).
	End uint64
	// ISN is the sender's initial sequence number, known when SYN is set: captures of one TCP
	// connection at two hops with nothing between them that ends TCP see the same ISNs.
	ISN uint32
	SYN bool
	// anomalies is nil when all of it is zero, as for most streams: inline it took 96 bytes of
	// each Session.
	anomalies *StreamAnomalies
}

// StreamAnomalies is what went wrong in one direction of a TCP stream.
type StreamAnomalies struct {
	Gaps            []Gap // missing byte ranges, in stream order
	Retransmissions int   // segments that carried only bytes already seen
	CaptureCopies   int   // segments captured twice at once (tcpdump -i any on a router): not retransmissions
	ZeroWindows     int   // segments advertising a zero receive window
	// GapsDropped counts the gaps left out of Gaps, which keeps the first 64 in stream order.
	GapsDropped int
}

// isZero reports whether a says that nothing went wrong.
func (a *StreamAnomalies) isZero() bool {
	return a.Gaps == nil && a.Retransmissions == 0 && a.CaptureCopies == 0 && a.ZeroWindows == 0 &&
		a.GapsDropped == 0
}

// Anomalies returns what went wrong in this direction (zero when nothing did).
func (st *StreamStats) Anomalies() StreamAnomalies {
	if st.anomalies == nil {
		return StreamAnomalies{}
	}
	return *st.anomalies
}

// SetAnomalies sets what went wrong in this direction.
func (st *StreamStats) SetAnomalies(a StreamAnomalies) {
	if a.isZero() {
		st.anomalies = nil
		return
	}
	// A copy made here, not &a: a would then be moved to the heap on every call, anomalies or not.
	x := new(StreamAnomalies)
	*x = a
	st.anomalies = x
}

// Gaps returns the missing byte ranges, in stream order.
func (st *StreamStats) Gaps() []Gap {
	if st.anomalies == nil {
		return nil
	}
	return st.anomalies.Gaps
}

// GapsDropped returns how many gaps were left out of Gaps, which keeps the first 64.
func (st *StreamStats) GapsDropped() int {
	if st.anomalies == nil {
		return 0
	}
	return st.anomalies.GapsDropped
}

// Retransmissions returns the number of segments that carried only bytes already seen.
func (st *StreamStats) Retransmissions() int {
	if st.anomalies == nil {
		return 0
	}
	return st.anomalies.Retransmissions
}

// CaptureCopies returns the number of segments captured twice at once (tcpdump -i any on a
// router), which are not retransmissions.
func (st *StreamStats) CaptureCopies() int {
	if st.anomalies == nil {
		return 0
	}
	return st.anomalies.CaptureCopies
}

// ZeroWindows returns the number of segments advertising a zero receive window.
func (st *StreamStats) ZeroWindows() int {
	if st.anomalies == nil {
		return 0
	}
	return st.anomalies.ZeroWindows
}

// streamStatsJSON is StreamStats as encoding/json wrote it when its anomalies were fields:
// digest files hold it.
type streamStatsJSON struct {
	Packets         int
	Bytes           uint64
	Gaps            []Gap
	Retransmissions int
	CaptureCopies   int
	ZeroWindows     int
	HighestAck      uint64
	FIN             *TCPEvent
	RST             *TCPEvent
	ISN             uint32
	SYN             bool
	End             uint64
	GapsDropped     int
}

// MarshalJSON implements json.Marshaler.
func (st StreamStats) MarshalJSON() ([]byte, error) {
	a := st.Anomalies()
	return json.Marshal(&streamStatsJSON{Packets: st.Packets, Bytes: st.Bytes, Gaps: a.Gaps,
		Retransmissions: a.Retransmissions, CaptureCopies: a.CaptureCopies, ZeroWindows: a.ZeroWindows,
		HighestAck: st.HighestAck, FIN: st.FIN, RST: st.RST, ISN: st.ISN, SYN: st.SYN, End: st.End,
		GapsDropped: a.GapsDropped})
}

// UnmarshalJSON implements json.Unmarshaler.
func (st *StreamStats) UnmarshalJSON(b []byte) error {
	var j streamStatsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*st = StreamStats{Packets: j.Packets, Bytes: j.Bytes, HighestAck: j.HighestAck, FIN: j.FIN,
		RST: j.RST, End: j.End, ISN: j.ISN, SYN: j.SYN}
	st.SetAnomalies(StreamAnomalies{Gaps: j.Gaps, Retransmissions: j.Retransmissions,
		CaptureCopies: j.CaptureCopies, ZeroWindows: j.ZeroWindows, GapsDropped: j.GapsDropped})
	return nil
}

// Counts are the numbers of messages of one direction of a session.
type Counts struct {
	Data       int // data messages (text, binary)
	Control    int // control frames (close, ping, pong, reserved opcodes)
	Incomplete int // messages of either kind not fully captured
}

// Close is a WebSocket close frame sent by one side.
type Close struct {
	Code   uint16 // 0 when the frame carried no status code
	Reason string
	Time   time.Time
	Packet PacketRef
}

// Ending says how a connection ended in the capture.
type Ending uint8

// Ways a connection can end.
const (
	// StillOpen: the capture ended while the connection was open.
	StillOpen Ending = iota
	// ClosedClean: both sides sent a close frame (or a close frame followed by FIN).
	ClosedClean
	// ClosedFIN: TCP FIN without a WebSocket close handshake.
	ClosedFIN
	// Reset: a TCP RST ended it.
	Reset
)

// String returns "open", "close", "fin" or "reset".
func (e Ending) String() string {
	switch e {
	case ClosedClean:
		return "close"
	case ClosedFIN:
		return "fin"
	case Reset:
		return "reset"
	}
	return "open"
}

// ProblemKind classifies a problem found in a session.
type ProblemKind uint8

// Problem kinds.
const (
	ProblemProtocol  ProblemKind = iota // a frame or handshake broke RFC 6455 / HTTP
	ProblemDeflate                      // permessage-deflate data could not be inflated, or was too large
	ProblemTLS                          // TLS could not be decrypted (no key, wrong key, unknown suite)
	ProblemTruncated                    // bytes missing from the capture made part of the session unreadable
	ProblemLimit                        // a safety bound was hit (message size, header size, buffers)
)

// String returns "protocol", "deflate", "tls", "truncated" or "limit".
func (k ProblemKind) String() string {
	return [...]string{"protocol", "deflate", "tls", "truncated", "limit"}[k]
}

// Problem is something wrong with a session, with where it was found.
type Problem struct {
	Kind      ProblemKind
	Direction Direction
	Offset    uint64 // stream offset in that direction
	Packet    PacketRef
	Time      time.Time
	Message   string
}

// TLSRecord is the shape of one TLS application-data record, kept for hops whose TLS could not be
// decrypted so they can still be compared by record count, size and timing.
type TLSRecord struct {
	Time   time.Time
	Length int // ciphertext length from the record header
	Packet PacketRef
}

// TLSInfo describes the TLS layer of a session, when the connection carried TLS.
type TLSInfo struct {
	SNI          string
	ALPN         []string // offered by the client
	Version      string   // negotiated, e.g. "TLS 1.3"
	CipherSuite  string   // negotiated, e.g. "TLS_AES_128_GCM_SHA256"
	Resumed      bool
	ClientRandom [32]byte // identifies the connection in a key log; public, not a secret
	Decrypted    bool     // true when application data was decrypted with the key log
	Reason       string   // why not decrypted ("no key for this connection", ...), empty when decrypted
	// Records holds application-data record shapes per direction when not decrypted.
	Records [2][]TLSRecord
	// RecordCount is the number of such records per direction, also with Options.CountOnly,
	// which keeps no Records.
	RecordCount [2]int
}

// Session is one WebSocket connection (or one TLS connection that could not be opened) at one hop.
//
// What a connection that never opened leaves empty (messages, counts, close frames, problems,
// tunnel, TLS, HTTP/2, bridge) is read through methods (Messages, Counts, Close, Problems,
// Tunnel, TLS, HTTP2, Bridge) and kept apart, made on the first write: a flood lists 100,000
// sessions that never opened, and inline those parts (with the TCP anomalies, see StreamStats)
// made each one 576 bytes instead of 288. Its JSON (digest files) is the same as when they were fields, in the
// same order.
type Session struct {
	ID     int            // 1-based, in order of the connection's first packet in the capture
	Client netip.AddrPort // the side that sent the HTTP Upgrade (or masked frames, when mid-stream)
	Server netip.AddrPort
	Start  time.Time // first packet
	End    time.Time // last packet

	// Handshake. Request and Response are nil when not captured (mid-stream) or not decrypted.
	Request  *Request
	Response *Response

	// MidStream is set when the handshake was not captured and frames were found by resynchronising.
	MidStream bool
	Ending    Ending

	TCP [2]StreamStats // per Direction: the sender of that direction's bytes

	more *sessionMore // nil while all of it is empty
}

// sessionMore is the part of a Session that a connection which never opened leaves empty.
type sessionMore struct {
	tunnel   string
	iface    string
	tls      *TLSInfo
	http2    *HTTP2Stream
	bridge   *Stream
	messages [2][]Message
	// forwarded: see Forwarded.
	forwarded bool
	// recs holds the compact records of the messages (see Entries), nil when there are none.
	recs     *msgRecords
	counts   [2]Counts
	close    [2]*Close
	problems []Problem
}

// grow returns s.more, making it on first use.
func (s *Session) grow() *sessionMore {
	if s.more == nil {
		s.more = new(sessionMore)
	}
	return s.more
}

// Tunnel names the tunnel the connection was captured in, outermost first (for example
// "vxlan vni 42 10.0.0.1<->10.0.0.2"), "" when none.
func (s *Session) Tunnel() string {
	if s.more == nil {
		return ""
	}
	return s.more.tunnel
}

// SetTunnel sets the name of the tunnel the connection was captured in ("": none).
func (s *Session) SetTunnel(t string) {
	if t != "" || s.more != nil {
		s.grow().tunnel = t
	}
}

// Interface names the interface (the view) the connection was captured on, when the capture
// holds several: a pcapng interface's name ("eth1", or "interface 1" when unnamed) and, for a
// Linux cooked SLL2 capture (tcpdump -i any), the interface index ("ifindex 3"). "" for a
// capture of one interface. A host that forwards a connection, captured on two interfaces,
// holds it twice: one Session per interface.
func (s *Session) Interface() string {
	if s.more == nil {
		return ""
	}
	return s.more.iface
}

// SetInterface sets the name of the interface the connection was captured on ("": one only).
func (s *Session) SetInterface(name string) {
	if name != "" || s.more != nil {
		s.grow().iface = name
	}
}

// Forwarded reports whether the capture took this connection's packets both arriving at its
// host and leaving it with nothing to tell the two copies apart (tcpdump -i any in Linux cooked
// v1 on a host that forwards the connection, which records no interface): they are read as one
// view, so what the host dropped between them does not show.
func (s *Session) Forwarded() bool { return s.more != nil && s.more.forwarded }

// SetForwarded sets what Forwarded reports.
func (s *Session) SetForwarded(f bool) {
	if f || s.more != nil {
		s.grow().forwarded = f
	}
}

// TLS returns the TLS layer of the connection, nil for plaintext connections.
func (s *Session) TLS() *TLSInfo {
	if s.more == nil {
		return nil
	}
	return s.more.tls
}

// SetTLS sets the TLS layer of the connection (nil: plaintext).
func (s *Session) SetTLS(t *TLSInfo) {
	if t != nil || s.more != nil {
		s.grow().tls = t
	}
}

// HTTP2 returns the HTTP/2 stream that carries the session, nil when not a WebSocket over an
// HTTP/2 stream (RFC 8441 extended CONNECT). With one, the Request has Method CONNECT and no
// Key, the Response status 200; Client, Server and TCP are the connection's, except that the
// stream's END_STREAM is the TCP FIN and its RST_STREAM (or a GOAWAY that excluded it) the TCP
// RST of its direction; Message offsets are positions in the connection's (decrypted) byte stream.
func (s *Session) HTTP2() *HTTP2Stream {
	if s.more == nil {
		return nil
	}
	return s.more.http2
}

// SetHTTP2 sets the HTTP/2 stream that carries the session (nil: none).
func (s *Session) SetHTTP2(h *HTTP2Stream) {
	if h != nil || s.more != nil {
		s.grow().http2 = h
	}
}

// Bridge returns the bridged TCP stream a session stands for, nil for any other session. A
// session that correlate made of a bridged TCP stream (a hop with Options.Bridge) aligns the
// stream with the messages of the WebSocket session of the hop before, whose Request and Response
// it shares. Its Messages are the upstream messages whose bytes were found in the stream (and runs
// of bytes found in no message), with TCP offsets.
func (s *Session) Bridge() *Stream {
	if s.more == nil {
		return nil
	}
	return s.more.bridge
}

// SetBridge sets the bridged TCP stream the session stands for.
func (s *Session) SetBridge(st *Stream) {
	if st != nil || s.more != nil {
		s.grow().bridge = st
	}
}

// Messages returns the messages of direction d, in stream order; empty with Options.CountOnly
// or Compact.
func (s *Session) Messages(d Direction) []Message {
	if s.more == nil {
		return nil
	}
	return s.more.messages[d]
}

// SetMessages sets the messages of direction d.
func (s *Session) SetMessages(d Direction, ms []Message) {
	if len(ms) > 0 || s.more != nil {
		s.grow().messages[d] = ms
	}
}

// Counts returns the numbers of messages of direction d, whether or not Messages are kept.
func (s *Session) Counts(d Direction) Counts {
	if s.more == nil {
		return Counts{}
	}
	return s.more.counts[d]
}

// SetCounts sets the numbers of messages of direction d.
func (s *Session) SetCounts(d Direction, n Counts) {
	if n != (Counts{}) || s.more != nil {
		s.grow().counts[d] = n
	}
}

// Close returns the close frame sent in direction d, nil if none.
func (s *Session) Close(d Direction) *Close {
	if s.more == nil {
		return nil
	}
	return s.more.close[d]
}

// SetClose sets the close frame sent in direction d (nil: none).
func (s *Session) SetClose(d Direction, c *Close) {
	if c != nil || s.more != nil {
		s.grow().close[d] = c
	}
}

// Problems returns what was found wrong with the session, in the order found.
func (s *Session) Problems() []Problem {
	if s.more == nil {
		return nil
	}
	return s.more.problems
}

// AddProblem appends p to the session's problems.
func (s *Session) AddProblem(p Problem) {
	m := s.grow()
	m.problems = append(m.problems, p)
}

// withoutMessages returns a copy of s without its messages and their records; s keeps them.
func (s *Session) withoutMessages() Session {
	x := *s
	if x.more != nil {
		m := *x.more
		m.messages, m.recs = [2][]Message{}, nil
		x.more = &m
	}
	return x
}

// dropMessages forgets the messages of s and their records.
func (s *Session) dropMessages() {
	if s.more != nil {
		s.more.messages, s.more.recs = [2][]Message{}, nil
	}
}

// sessionJSON is Session as encoding/json wrote it when all its parts were fields: digest files
// hold it.
type sessionJSON struct {
	ID        int
	Client    netip.AddrPort
	Server    netip.AddrPort
	Start     time.Time
	End       time.Time
	Tunnel    string
	Interface string `json:",omitempty"`
	Forwarded bool   `json:",omitempty"`
	Request   *Request
	Response  *Response
	MidStream bool
	TLS       *TLSInfo
	HTTP2     *HTTP2Stream
	Bridge    *Stream
	Messages  [2][]Message
	Counts    [2]Counts
	TCP       [2]StreamStats
	Close     [2]*Close
	Ending    Ending
	Problems  []Problem
}

// MarshalJSON implements json.Marshaler.
func (s Session) MarshalJSON() ([]byte, error) {
	j := sessionJSON{ID: s.ID, Client: s.Client, Server: s.Server, Start: s.Start, End: s.End,
		Tunnel: s.Tunnel(), Interface: s.Interface(), Forwarded: s.Forwarded(), Request: s.Request, Response: s.Response, MidStream: s.MidStream,
		TCP: s.TCP, Ending: s.Ending}
	if m := s.more; m != nil {
		j.TLS, j.HTTP2, j.Bridge, j.Messages, j.Counts = m.tls, m.http2, m.bridge, m.messages, m.counts
		j.Close, j.Problems = m.close, m.problems
	}
	return json.Marshal(&j)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Session) UnmarshalJSON(b []byte) error {
	var j sessionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Session{ID: j.ID, Client: j.Client, Server: j.Server, Start: j.Start, End: j.End,
		Request: j.Request, Response: j.Response, MidStream: j.MidStream,
		TCP: j.TCP, Ending: j.Ending}
	s.SetTunnel(j.Tunnel)
	s.SetInterface(j.Interface)
	s.SetForwarded(j.Forwarded)
	s.SetTLS(j.TLS)
	s.SetHTTP2(j.HTTP2)
	s.SetBridge(j.Bridge)
	for _, d := range Directions {
		s.SetMessages(d, j.Messages[d])
		s.SetCounts(d, j.Counts[d])
		s.SetClose(d, j.Close[d])
	}
	for _, p := range j.Problems {
		s.AddProblem(p)
	}
	return nil
}

// HTTP2Stream identifies the HTTP/2 stream that carries a WebSocket session, and how it ended.
type HTTP2Stream struct {
	StreamID uint32
	Reset    *StreamEnd // the first RST_STREAM on the stream, nil if none
	GoAway   *StreamEnd // a GOAWAY that excluded the stream (its id above the last stream id)
}

// StreamEnd is an RST_STREAM or GOAWAY: who sent it (the direction it travelled), its error code.
type StreamEnd struct {
	Direction Direction
	Code      string // HTTP/2 error code name, e.g. "NO_ERROR", "CANCEL"
	Time      time.Time
	Packet    PacketRef
}

// Unseen returns the direction of which the capture holds no packet at all while it holds some of
// the other (not even the ACKs a receiver sends): asymmetric routing or a one-way capture filter.
// A connection that carried bytes always has packets both ways on the wire.
func (s *Session) Unseen() (Direction, bool) {
	c2s, s2c := s.TCP[ClientToServer].Packets, s.TCP[ServerToClient].Packets
	switch {
	case c2s > 0 && s2c == 0:
		return ServerToClient, true
	case s2c > 0 && c2s == 0:
		return ClientToServer, true
	}
	return 0, false
}

// OneWay reports whether the capture saw one direction of the connection only (see Unseen).
func (s *Session) OneWay() bool {
	_, ok := s.Unseen()
	return ok
}

// Key returns the Sec-WebSocket-Key of the handshake, or "" when it was not captured.
func (s *Session) Key() string {
	if s.Request == nil {
		return ""
	}
	return s.Request.Key
}

// Path returns the request target of the handshake, or "".
func (s *Session) Path() string {
	if s.Request == nil {
		return ""
	}
	return s.Request.Path
}

// Request is the client's HTTP Upgrade request.
type Request struct {
	Method     string
	Path       string
	Host       string
	Key        string   // Sec-WebSocket-Key: a public per-connection nonce that proxies pass on
	Version    string   // Sec-WebSocket-Version
	Protocols  []string // Sec-WebSocket-Protocol, as offered
	Extensions string   // Sec-WebSocket-Extensions, as offered
	Origin     string
	// Headers holds the other headers that help correlate hops (X-Forwarded-For, X-Real-IP,
	// X-Request-Id, Forwarded, User-Agent, ...), with canonical names. Credentials (Cookie,
	// Authorization, Proxy-Authorization, Set-Cookie, API keys) are never stored.
	Headers map[string]string
	Time    time.Time
	Packet  PacketRef
}

// Response is the server's answer to the Upgrade request.
type Response struct {
	Status      int    // 101 on success
	Reason      string // reason phrase
	Accept      string // Sec-WebSocket-Accept
	AcceptValid bool   // Accept matches the request's Key
	Protocol    string // chosen subprotocol
	Extensions  string // accepted extensions
	Headers     map[string]string
	Time        time.Time
	Packet      PacketRef
}
