package encap

import (
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wspath/wspath/capture/internal/packetbuild"
)

// Synthetic tunnelled packets: Ethernet, IP, UDP and the inner TCP from packetbuild, the tunnel
// headers with gopacket's serialisation (headers gopacket lacks are bytes built here). Inner TCP is always 10.1.0.1:40000 -> 10.2.0.2:80 (or the
// IPv6 pair) with a 5-byte payload.

var (
	innerSrc4, innerDst4 = net.IP{10, 1, 0, 1}, net.IP{10, 2, 0, 2}
	outerA4, outerB4     = net.IP{192, 0, 2, 1}, net.IP{192, 0, 2, 2}
	innerSrc6            = net.ParseIP("fd00::1")
	innerDst6            = net.ParseIP("fd00::2")
	outerA6, outerB6     = net.ParseIP("2001:db8::a"), net.ParseIP("2001:db8::b")
	macA                 = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB                 = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	return serializeOpts(t, gopacket.SerializeOptions{FixLengths: true}, ls...)
}

func serializeOpts(t testing.TB, o gopacket.SerializeOptions, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, o, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// innerTCP returns IP+TCP (IPv4 or IPv6) with payload "hello", checksums filled in.
func innerTCP(t testing.TB, v6 bool) []byte {
	tcp := packetbuild.Cat(packetbuild.TCP(40000, 80, 1000, 2000, packetbuild.ACK|packetbuild.PSH, 512), []byte("hello"))
	if v6 {
		return packetbuild.Checksum(packetbuild.IPv6(packetbuild.ProtoTCP, addr16(innerSrc6), addr16(innerDst6), tcp))
	}
	ip := packetbuild.IPv4(packetbuild.ProtoTCP, addr4(innerSrc4), addr4(innerDst4), tcp)
	return packetbuild.Checksum(packetbuild.SetIPv4ID(ip, 7))
}

func addr4(ip net.IP) [4]byte   { return [4]byte(ip.To4()) }
func addr16(ip net.IP) [16]byte { return [16]byte(ip.To16()) }

var checksums = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// innerFrame returns Ethernet (with optional VLAN tag) + innerTCP, padded as on the wire.
func innerFrame(t testing.TB, v6 bool, vlan uint16) []byte {
	et := packetbuild.EtherIPv4
	if v6 {
		et = packetbuild.EtherIPv6
	}
	if vlan != 0 {
		return packetbuild.PadEthernet(packetbuild.Ethernet(et, innerTCP(t, v6), packetbuild.VLANTag{TPID: 0x8100, ID: vlan}))
	}
	return packetbuild.PadEthernet(packetbuild.Ethernet(et, innerTCP(t, v6)))
}

// outer4 wraps payload of IP protocol proto in Ethernet/IPv4 from a to b (padded as on the wire).
func outer4(t testing.TB, a, b net.IP, proto layers.IPProtocol, payload []byte) []byte {
	ip := packetbuild.SetIPv4ID(packetbuild.IPv4(byte(proto), addr4(a), addr4(b), payload), 99)
	return packetbuild.PadEthernet(packetbuild.Ethernet(packetbuild.EtherIPv4, ip))
}

func outer6(t testing.TB, proto layers.IPProtocol, payload []byte) []byte {
	return packetbuild.PadEthernet(packetbuild.Ethernet(packetbuild.EtherIPv6, packetbuild.IPv6(byte(proto), addr16(outerA6), addr16(outerB6), payload)))
}

func udp(t testing.TB, dport uint16, payload []byte) []byte {
	return packetbuild.UDP(51234, dport, payload)
}

func vxlan(t testing.TB, port uint16, vni uint32, frame []byte) []byte {
	return udp(t, port, serialize(t, &layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(frame)))
}

func gre(t testing.TB, g *layers.GRE, payload []byte) []byte {
	return serialize(t, g, gopacket.Payload(payload))
}

// geneveHdr is a Geneve header with one 8-byte option.
func geneveHdr(vni uint32, proto uint16) []byte {
	return []byte{0x02, 0x00, byte(proto >> 8), byte(proto), byte(vni >> 16), byte(vni >> 8), byte(vni), 0,
		0x01, 0x02, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef}
}

// erspan3Hdr is an ERSPAN type III header, session 77, frame type Ethernet, with the optional
// platform-specific subheader when o.
func erspan3Hdr(o bool) []byte {
	h := []byte{0x20, 0x0a, 0x00, 77, 0, 0, 0, 1, 0, 0, 0, 0}
	if o {
		h[11] |= 1
		h = append(h, 0x08, 0, 0, 0, 0, 0, 0, 0)
	}
	return h
}

func mplsStack(t testing.TB, labels []uint32, payload []byte) []byte {
	ls := []gopacket.SerializableLayer{}
	for i, l := range labels {
		ls = append(ls, &layers.MPLS{Label: l, TTL: 64, StackBottom: i == len(labels)-1})
	}
	return serialize(t, append(ls, gopacket.Payload(payload))...)
}

// pptpHdr returns PPTP's enhanced GRE header (RFC 2637 4.1): version 1, protocol PPP, key present
// holding the payload length and the call ID, then a sequence and an acknowledgment number when
// asked for.
func pptpHdr(payloadLen int, callID uint16, seq, ack bool) []byte {
	b := []byte{0x20, 0x01, 0x88, 0x0b, byte(payloadLen >> 8), byte(payloadLen), byte(callID >> 8), byte(callID)}
	if seq {
		b[0] |= 0x10
		b = append(b, 0, 0, 0, 7)
	}
	if ack {
		b[1] |= 0x80
		b = append(b, 0, 0, 0, 6)
	}
	return b
}

// pptp returns a PPTP GRE packet carrying the PPP frame ppp.
func pptp(callID uint16, seq, ack bool, ppp []byte) []byte {
	return packetbuild.Cat(pptpHdr(len(ppp), callID, seq, ack), ppp)
}
