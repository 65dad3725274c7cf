package tcpdecode

import "encoding/binary"

// Packet builders for tests, written independently of the decoder.

var be = binary.BigEndian

func tcpHeader(sport, dport uint16, seq, ack uint32, flags Flags, win uint16, opts ...byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	h := make([]byte, 20, 20+len(opts))
	be.PutUint16(h, sport)
	be.PutUint16(h[2:], dport)
	be.PutUint32(h[4:], seq)
	be.PutUint32(h[8:], ack)
	h[12] = byte((20+len(opts))/4) << 4
	h[13] = byte(flags)
	be.PutUint16(h[14:], win)
	return append(h, opts...)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ipv4 returns an IPv4 header (with opts) carrying payload; the total length covers both.
func ipv4(proto byte, src, dst [4]byte, payload []byte, opts ...byte) []byte {
	h := make([]byte, 20, 20+len(opts))
	h = append(h, opts...)
	h[0] = 0x40 | byte(len(h)/4)
	be.PutUint16(h[2:], uint16(len(h)+len(payload)))
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return cat(h, payload)
}

// ipv6 returns an IPv6 header carrying payload (extension headers included in payload).
func ipv6(next byte, src, dst [16]byte, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	be.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	copy(h[8:], src[:])
	copy(h[24:], dst[:])
	return cat(h, payload)
}

// ext6 returns an IPv6 extension header of n 8-byte units (hop-by-hop, routing, destination).
func ext6(next byte, units int) []byte {
	h := make([]byte, 8*units)
	h[0] = next
	h[1] = byte(units - 1)
	return h
}

func frag6(next byte, offset uint16, more bool) []byte {
	h := make([]byte, 8)
	h[0] = next
	v := offset << 3
	if more {
		v |= 1
	}
	be.PutUint16(h[2:], v)
	return h
}

func eth(etype uint16, payload []byte, tags ...uint16) []byte {
	h := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
	for _, t := range tags {
		h = be.AppendUint16(h, t)
		h = be.AppendUint16(h, 100) // VLAN id
	}
	h = be.AppendUint16(h, etype)
	return cat(h, payload)
}

func sll(etype uint16, payload []byte) []byte {
	h := make([]byte, 16)
	be.PutUint16(h[2:], 772) // ARPHRD_LOOPBACK
	be.PutUint16(h[4:], 6)
	be.PutUint16(h[14:], etype)
	return cat(h, payload)
}

func sll2(etype uint16, payload []byte) []byte {
	h := make([]byte, 20)
	be.PutUint16(h, etype)
	be.PutUint32(h[4:], 1)   // ifindex
	be.PutUint16(h[8:], 772) // ARPHRD_LOOPBACK
	h[10] = 4                // outgoing
	h[11] = 6
	return cat(h, payload)
}

func af(order binary.ByteOrder, family uint32, payload []byte) []byte {
	h := make([]byte, 4)
	order.PutUint32(h, family)
	return cat(h, payload)
}
