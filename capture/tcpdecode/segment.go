package tcpdecode

import (
	"errors"
	"net/netip"
	"strings"
)

// Flags are the TCP header flags.
type Flags uint8

// TCP flags, in header bit order.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// Has reports whether all of want are set.
func (f Flags) Has(want Flags) bool { return f&want == want }

// String lists the set flags separated by "|", e.g. "SYN|ACK", or "none".
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	names := [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	var b strings.Builder
	for i, n := range names {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// Segment is one decoded TCP segment.
type Segment struct {
	Src, Dst netip.AddrPort // IPv4 addresses are 4-byte; IPv6 ones (including v4-mapped) 16-byte
	Seq, Ack uint32
	Flags    Flags
	Window   uint16 // raw window field, not scaled
	// WindowScale is the shift count of a SYN's window scale option (capped at 14 as RFC 7323
	// says), -1 when the segment has no such option or is not a SYN.
	WindowScale int8
	// Payload is the captured part of the TCP payload. It aliases the packet data given to Decode
	// and so has its lifetime.
	Payload []byte
	// PayloadLength is the payload length given by the IP header. It is larger than len(Payload)
	// when the snap length cut the packet.
	PayloadLength int
	// Tunnel identifies the tunnel (VXLAN VNI, GRE key, outer addresses, ...) the segment was
	// carried in, 0 when none, so that equal addresses in two overlays stay two connections.
	// Decode sets 0; package encap numbers the tunnels it decodes.
	Tunnel uint32
	// Iface is the interface index of a Linux cooked (SLL2) packet, 0 for other link types.
	// tcpdump -i any on a router captures each forwarded segment twice, arriving and leaving, on
	// two interfaces: what one interface saw and the other did not was dropped inside the host,
	// so the two are told apart as two views of the connection.
	Iface uint32
	// Way is whether a Linux cooked v1 (SLL) packet arrived at the capturing host or left it,
	// WayUnknown for other link types. SLL v1 records no interface, but a connection whose
	// packets in one direction both arrive and leave goes through the host: it was captured twice.
	Way Way
}

// Way is the sll_pkttype of a Linux cooked capture reduced to arriving or leaving.
type Way uint8

// Ways.
const (
	WayUnknown Way = iota
	WayIn          // PACKET_HOST, BROADCAST, MULTICAST, OTHERHOST: received on an interface
	WayOut         // PACKET_OUTGOING: sent on an interface
)

// wayOf reads a cooked header's packet type.
func wayOf(pkttype uint16) Way {
	if pkttype == 4 { // PACKET_OUTGOING
		return WayOut
	}
	return WayIn
}

// Errors returned by Decode, wrapped with detail; test with errors.Is.
var (
	// ErrUnknownLinkType: the link type is not one this package decodes.
	ErrUnknownLinkType = errors.New("unknown link type")
	// ErrNotTCP: a well-formed packet that is not TCP over IPv4/IPv6 (ARP, UDP, ICMP, a
	// tunnel, ...).
	ErrNotTCP = errors.New("not a TCP packet")
	// ErrFragment: a part of a fragmented IPv4 or IPv6 datagram (more-fragments flag or a
	// non-zero offset), which must be reassembled before its TCP header can be read.
	ErrFragment = errors.New("IP fragment")
	// ErrTruncated: the packet claims more header bytes than were captured (snap length too
	// small to hold the headers).
	ErrTruncated = errors.New("headers cut by snap length")
	// ErrMalformed: a header is impossible (bad IP version, header length shorter than its
	// minimum or longer than the packet the IP header describes).
	ErrMalformed = errors.New("malformed packet")
)
