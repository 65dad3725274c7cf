// Package packetbuild writes the bytes of link, network and transport headers for tests: the
// one packet builder the capture stages' tests share (tcpdecode's decoder tests, the tunnel
// tests' inner and outer packets, the synthetic captures of package capture).
//
// It is written from the RFCs, independently of the decoders it tests: a header built here is
// what a capture holds, not what wspath expects. Each function returns a new slice: a header
// followed by its payload, with the length fields covering both. Checksums are zero unless
// Checksum fills them in.
//
//	tcp := packetbuild.Cat(packetbuild.TCP(40000, 80, 1000, 2000, packetbuild.PSH|packetbuild.ACK, 512), data)
//	frame := packetbuild.Ethernet(packetbuild.EtherIPv4, packetbuild.IPv4(packetbuild.ProtoTCP, src, dst, tcp))
package packetbuild

import "encoding/binary"

var be = binary.BigEndian

// TCP header flags (RFC 9293).
const (
	FIN byte = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
)

// EtherTypes and IP protocol numbers the tests use.
const (
	EtherIPv4 uint16 = 0x0800
	EtherIPv6 uint16 = 0x86dd
	ProtoTCP  byte   = 6
	ProtoUDP  byte   = 17
)

// MAC addresses of every Ethernet frame built here: from SrcMAC to DstMAC.
var (
	SrcMAC = [6]byte{2, 0, 0, 0, 0, 1}
	DstMAC = [6]byte{2, 0, 0, 0, 0, 2}
)

// Cat joins byte slices into a new one.
func Cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TCP returns a TCP header with options opts (padded with zeros to a multiple of 4 bytes); the
// payload follows it with Cat.
func TCP(sport, dport uint16, seq, ack uint32, flags byte, win uint16, opts ...byte) []byte {
	n := 20 + (len(opts)+3)/4*4
	h := make([]byte, n)
	be.PutUint16(h, sport)
	be.PutUint16(h[2:], dport)
	be.PutUint32(h[4:], seq)
	be.PutUint32(h[8:], ack)
	h[12] = byte(n/4) << 4
	h[13] = flags
	be.PutUint16(h[14:], win)
	copy(h[20:], opts)
	return h
}

// UDP returns a UDP datagram carrying payload.
func UDP(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	be.PutUint16(h, sport)
	be.PutUint16(h[2:], dport)
	be.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

// IPv4 returns an IPv4 packet of protocol proto carrying payload: a header with options opts
// (a multiple of 4 bytes), TTL 64, identification 0 (SetIPv4ID changes it), no flags; the
// total length covers header and payload.
func IPv4(proto byte, src, dst [4]byte, payload []byte, opts ...byte) []byte {
	h := make([]byte, 20, 20+len(opts)+len(payload))
	h = append(h, opts...)
	h[0] = 0x40 | byte(len(h)/4)
	be.PutUint16(h[2:], uint16(len(h)+len(payload)))
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return append(h, payload...)
}

// SetIPv4ID sets the identification field of IPv4 packet p and returns p.
func SetIPv4ID(p []byte, id uint16) []byte {
	be.PutUint16(p[4:], id)
	return p
}

// IPv6 returns an IPv6 packet whose first next header is next, carrying payload (extension
// headers included), hop limit 64.
func IPv6(next byte, src, dst [16]byte, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	be.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	copy(h[8:], src[:])
	copy(h[24:], dst[:])
	return append(h, payload...)
}

// IPv6Ext returns an IPv6 extension header of units 8-byte units (hop-by-hop, routing,
// destination options), zero-filled, followed by next.
func IPv6Ext(next byte, units int) []byte {
	h := make([]byte, 8*units)
	h[0] = next
	h[1] = byte(units - 1)
	return h
}

// IPv6Fragment returns an IPv6 fragment header: offset in 8-byte units, more when more
// fragments follow.
func IPv6Fragment(next byte, offset uint16, more bool) []byte {
	h := make([]byte, 8)
	h[0] = next
	v := offset << 3
	if more {
		v |= 1
	}
	be.PutUint16(h[2:], v)
	return h
}

// VLANTag is an 802.1Q or 802.1ad tag: the tag's EtherType (0x8100, 0x88a8, ...) and VLAN id.
type VLANTag struct {
	TPID, ID uint16
}

// Ethernet returns an Ethernet II frame from SrcMAC to DstMAC with the given VLAN tags,
// outermost first, carrying payload of EtherType etype.
func Ethernet(etype uint16, payload []byte, tags ...VLANTag) []byte {
	h := make([]byte, 0, 14+4*len(tags)+len(payload))
	h = append(h, DstMAC[:]...)
	h = append(h, SrcMAC[:]...)
	for _, t := range tags {
		h = be.AppendUint16(h, t.TPID)
		h = be.AppendUint16(h, t.ID)
	}
	h = be.AppendUint16(h, etype)
	return append(h, payload...)
}

// MinEthernet is the shortest Ethernet frame on the wire, without its frame check sequence.
const MinEthernet = 60

// PadEthernet pads frame with zeros to MinEthernet bytes, as a network card sends a short
// frame (and as gopacket serialises one); a frame of MinEthernet bytes or more is returned as is.
func PadEthernet(frame []byte) []byte {
	if len(frame) >= MinEthernet {
		return frame
	}
	return append(frame, make([]byte, MinEthernet-len(frame))...)
}

// SLL returns a Linux cooked capture (v1) header for an outgoing loopback packet of
// protocol etype, followed by payload.
func SLL(etype uint16, payload []byte) []byte {
	h := make([]byte, 16, 16+len(payload))
	be.PutUint16(h[2:], 772) // ARPHRD_LOOPBACK
	be.PutUint16(h[4:], 6)
	be.PutUint16(h[14:], etype)
	return append(h, payload...)
}

// SLL2 returns a Linux cooked capture v2 header (interface 1, loopback, outgoing) for a packet
// of protocol etype, followed by payload.
func SLL2(etype uint16, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	be.PutUint16(h, etype)
	be.PutUint32(h[4:], 1)   // ifindex
	be.PutUint16(h[8:], 772) // ARPHRD_LOOPBACK
	h[10] = 4                // outgoing
	h[11] = 6
	return append(h, payload...)
}

// Null returns a BSD loopback (DLT_NULL / DLT_LOOP) header, the address family in byte order
// order, followed by payload.
func Null(order binary.ByteOrder, family uint32, payload []byte) []byte {
	h := make([]byte, 4, 4+len(payload))
	order.PutUint32(h, family)
	return append(h, payload...)
}

// Checksum fills in the header checksum of IPv4 packet p and the checksum of the TCP or UDP
// segment it carries (IPv4 or IPv6 without extension headers), and returns p.
func Checksum(p []byte) []byte {
	var proto byte
	var pseudo uint32
	var l4 []byte
	switch p[0] >> 4 {
	case 4:
		hl := int(p[0]&0x0f) * 4
		p[10], p[11] = 0, 0
		be.PutUint16(p[10:], fold(sum(0, p[:hl])))
		proto, l4 = p[9], p[hl:be.Uint16(p[2:])]
		pseudo = sum(0, p[12:20])
	case 6:
		proto, l4 = p[6], p[40:]
		pseudo = sum(0, p[8:40])
	default:
		return p
	}
	var at int
	switch proto {
	case ProtoTCP:
		at = 16
	case ProtoUDP:
		at = 6
	default:
		return p
	}
	l4[at], l4[at+1] = 0, 0
	pseudo += uint32(proto) + uint32(len(l4))
	c := fold(sum(pseudo, l4))
	if c == 0 && proto == ProtoUDP {
		c = 0xffff // 0 means "no checksum" in UDP (RFC 768)
	}
	be.PutUint16(l4[at:], c)
	return p
}

// sum adds b as big-endian 16-bit words (an odd last byte padded with zero) to s.
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(be.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold returns the one's complement of the one's-complement sum s (RFC 1071).
func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
