package tcpstream

import (
	"net/netip"

	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// Segment is one TCP segment as tcpdecode decodes it: the Assembler takes the decoder's output as
// it is. Its Payload stays owned by the caller; the Assembler copies what it must keep.
type Segment = tcpdecode.Segment

// Flags are the TCP header flags of a Segment.
type Flags = tcpdecode.Flags

// TCP flags, as tcpdecode defines them.
const (
	FIN = tcpdecode.FIN
	SYN = tcpdecode.SYN
	RST = tcpdecode.RST
	PSH = tcpdecode.PSH
	ACK = tcpdecode.ACK
	URG = tcpdecode.URG
	ECE = tcpdecode.ECE
	CWR = tcpdecode.CWR
)

// Dir is a direction of a connection, by the side that sent first (A) rather than by the client
// as packet.Direction: which side is the client is decided later, from the handshakes seen.
type Dir uint8

// The two directions. A is the connection's initiator when the handshake was seen (ConnInfo.SYN),
// otherwise the sender of the first segment seen.
const (
	FromA Dir = 0 // bytes sent by ConnInfo.A
	FromB Dir = 1 // bytes sent by ConnInfo.B
)

// Other returns the opposite direction.
func (d Dir) Other() Dir { return d ^ 1 }

// String returns "A->B" or "B->A".
func (d Dir) String() string {
	if d == FromB {
		return "B->A"
	}
	return "A->B"
}

// ConnInfo describes a new connection to the function that makes its Stream.
type ConnInfo struct {
	A, B netip.AddrPort // A sends the bytes of FromA
	// SYN reports that the connection's handshake was seen (a SYN, or a SYN-ACK whose SYN was
	// missed), so A is known to be the initiator. When false, A merely sent the first segment seen
	// and the consumer may decide the roles itself.
	SYN   bool
	Start packet.Meta // the first packet of the connection
	// Tunnel is the Segment.Tunnel of the connection's segments: 0, or the tunnel it travels in.
	Tunnel uint32
	// Conn gives A, B, SYN and Tunnel again later, for a Stream that keeps it instead of them.
	Conn Conn
}

// GapReason says why a range of a stream will never be delivered. Its values match
// capture.GapReason.
type GapReason uint8

// Reasons for a gap.
const (
	// GapLost: the bytes were not captured and, as far as the capture shows, not acknowledged by
	// the peer either; the hole did not fill within Config.HoleTimeout or before the end.
	GapLost GapReason = iota
	// GapAcked: the peer acknowledged bytes the capture never saw: the network delivered them,
	// only the capture lacks them.
	GapAcked
	// GapSnaplen: the bytes were cut from their packet by the snap length.
	GapSnaplen
	// GapBufferLimit: a memory bound (Config.MaxConnBuffer or MaxTotalBuffer) forced reassembly
	// to give up waiting for the bytes.
	GapBufferLimit
)

// String returns "lost", "acked", "snaplen" or "buffer_limit".
func (r GapReason) String() string {
	switch r {
	case GapAcked:
		return "acked"
	case GapSnaplen:
		return "snaplen"
	case GapBufferLimit:
		return "buffer_limit"
	}
	return "lost"
}

// Stream receives the reassembled bytes of one connection, both directions. The Assembler calls its
// methods in stream order from Add or Flush; they must not call back into the Assembler.
type Stream interface {
	// Data delivers the next in-order bytes of direction d, at stream offset off. It is called
	// once per segment's new bytes, so segment boundaries are kept. b is owned by the Assembler
	// (or the caller of Add) and valid only during the call: copy what must be kept.
	Data(d Dir, b []byte, off uint64, m packet.Meta)
	// Gap reports that the n bytes of d at offset off will never come. m is the packet after
	// which the gap was noticed (the first segment past the hole, or the cut packet).
	Gap(d Dir, off, n uint64, r GapReason, m packet.Meta)
	// Fin reports the end of direction d's bytes (a FIN, once every byte before it is
	// delivered or declared a gap). m is the FIN's packet.
	Fin(d Dir, m packet.Meta)
	// Reset reports a RST sent in direction d. The connection stays open for Config.ResetLinger
	// of capture time, so bytes still in flight are delivered, then Close follows.
	Reset(d Dir, m packet.Meta)
	// Close ends the connection: FINs both ways, a RST, a new connection on the same 4-tuple,
	// eviction by Config.MaxConnections, or Flush. No method is called after it.
	Close(st [2]Stats)
}

// GapInfo records one gap in Stats.
type GapInfo struct {
	Offset uint64 // stream offset of the first missing byte
	Length uint64 // number of missing bytes
	Reason GapReason
	Meta   packet.Meta // packet after which the gap was noticed
}

// Stats describe one direction of a connection, by its sender. Close receives them indexed by Dir.
type Stats struct {
	Packets int    // segments sent in this direction, pure ACKs included
	Bytes   uint64 // payload bytes delivered by Data
	// Retransmissions counts segments that carried only bytes already seen (keep-alive probes
	// included).
	Retransmissions int
	// CaptureCopies counts segments captured twice within microseconds (tcpdump -i any on a
	// forwarding host): not retransmissions, and delivered once.
	CaptureCopies int
	// Duplicate counts payload bytes received more than once and dropped (first copy wins).
	Duplicate uint64
	// BeforeStart counts payload bytes before offset 0 (sent before the capture picked the
	// stream up), dropped.
	BeforeStart uint64
	// OutOfWindow counts segments ignored because they started more than 2^30 bytes (the
	// largest TCP window) past the next expected byte.
	OutOfWindow int
	ZeroWindows int // segments advertising a zero receive window
	// HighestAck is the highest offset of the other direction acknowledged by this sender (the
	// other direction's FIN is not counted as a byte).
	HighestAck uint64
	// Gaps lists the first Config.MaxGaps gaps in stream order; GapsDropped counts the rest.
	Gaps        []GapInfo
	GapsDropped int
	FIN, RST    *packet.Meta // first FIN and first RST sent in this direction, nil if none
	// ISN is the sender's initial sequence number, known when SYN is set (its SYN, or the
	// SYN-ACK answering it, was seen): two captures of one TCP connection with nothing between
	// them that ends TCP see the same ISNs.
	ISN uint32
	SYN bool
	// End is the stream offset just past the last byte captured or declared a gap.
	End uint64
}

// Totals count what an Assembler did, for diagnostics.
type Totals struct {
	Segments    int // segments given to Add
	Connections int // connections opened
	// Ignored counts segments that belong to no connection: ACKs, FINs and RSTs of unknown
	// 4-tuples, and segments of a recently closed connection.
	Ignored     int
	Evicted     int // connections closed early to respect Config.MaxConnections
	Buffered    int // out-of-order bytes held now (with a per-chunk overhead, see Config)
	MaxBuffered int // highest Buffered seen
}
