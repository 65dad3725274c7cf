package encap

import (
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Synthetic tunnelled packets, written with gopacket's serialisation (headers gopacket lacks are
// gopacket.Payload bytes built here). Inner TCP is always 10.1.0.1:40000 -> 10.2.0.2:80 (or the
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

// innerTCP returns IP+TCP (IPv4 or IPv6) with payload "hello".
func innerTCP(t testing.TB, v6 bool) []byte {
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 2000, ACK: true, PSH: true, Window: 512}
	if v6 {
		ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: innerSrc6, DstIP: innerDst6}
		tcp.SetNetworkLayerForChecksum(ip)
		return serializeOpts(t, checksums, ip, tcp, gopacket.Payload("hello"))
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: innerSrc4, DstIP: innerDst4, Id: 7}
	tcp.SetNetworkLayerForChecksum(ip)
	return serializeOpts(t, checksums, ip, tcp, gopacket.Payload("hello"))
}

var checksums = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// innerFrame returns Ethernet (with optional VLAN tag) + innerTCP.
func innerFrame(t testing.TB, v6 bool, vlan uint16) []byte {
	et := layers.EthernetTypeIPv4
	if v6 {
		et = layers.EthernetTypeIPv6
	}
	if vlan != 0 {
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: vlan, Type: et}, gopacket.Payload(innerTCP(t, v6)))
	}
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, gopacket.Payload(innerTCP(t, v6)))
}

// outer4 wraps payload of IP protocol proto in Ethernet/IPv4 from a to b.
func outer4(t testing.TB, a, b net.IP, proto layers.IPProtocol, payload []byte) []byte {
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: a, DstIP: b, Id: 99}, gopacket.Payload(payload))
}

func outer6(t testing.TB, proto layers.IPProtocol, payload []byte) []byte {
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6},
		&layers.IPv6{Version: 6, NextHeader: proto, HopLimit: 64, SrcIP: outerA6, DstIP: outerB6}, gopacket.Payload(payload))
}

func udp(t testing.TB, dport uint16, payload []byte) []byte {
	return serialize(t, &layers.UDP{SrcPort: 51234, DstPort: layers.UDPPort(dport)}, gopacket.Payload(payload))
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

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
