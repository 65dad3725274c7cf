package packetbuild

import (
	"bytes"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestChecksum_MatchesGopacket builds the same packets here and with gopacket's serialisation
// (a second, independent encoder): the bytes, checksums and Ethernet padding included, must agree.
func TestChecksum_MatchesGopacket(t *testing.T) {
	src4, dst4 := [4]byte{10, 1, 0, 1}, [4]byte{10, 2, 0, 2}
	src6, dst6 := [16]byte(net.ParseIP("fd00::1")), [16]byte(net.ParseIP("fd00::2"))
	payload := []byte("hello, odd")
	tcp := func() *layers.TCP {
		return &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 2000, ACK: true, PSH: true, Window: 512}
	}
	udp := func() *layers.UDP { return &layers.UDP{SrcPort: 5353, DstPort: 53} }
	ip4 := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: src4[:], DstIP: dst4[:], Id: 7}
	}
	ip6 := func(p layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, NextHeader: p, HopLimit: 64, SrcIP: src6[:], DstIP: dst6[:]}
	}
	ethernet := func(et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: SrcMAC[:], DstMAC: DstMAC[:], EthernetType: et}
	}
	serialize := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
		if err := gopacket.SerializeLayers(buf, opts, append(ls, gopacket.Payload(payload))...); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	withNet := func(l interface {
		SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
	}, n gopacket.NetworkLayer) {
		if err := l.SetNetworkLayerForChecksum(n); err != nil {
			t.Fatal(err)
		}
	}
	tcpSeg := Cat(TCP(40000, 80, 1000, 2000, ACK|PSH, 512), payload)
	cases := []struct {
		name      string
		got, want func() []byte
	}{
		{"ipv4_tcp", func() []byte {
			return PadEthernet(Ethernet(EtherIPv4, Checksum(SetIPv4ID(IPv4(ProtoTCP, src4, dst4, tcpSeg), 7))))
		}, func() []byte {
			ip, l := ip4(layers.IPProtocolTCP), tcp()
			withNet(l, ip)
			return serialize(ethernet(layers.EthernetTypeIPv4), ip, l)
		}},
		{"ipv6_tcp", func() []byte {
			return PadEthernet(Ethernet(EtherIPv6, Checksum(IPv6(ProtoTCP, src6, dst6, tcpSeg))))
		}, func() []byte {
			ip, l := ip6(layers.IPProtocolTCP), tcp()
			withNet(l, ip)
			return serialize(ethernet(layers.EthernetTypeIPv6), ip, l)
		}},
		{"ipv4_udp", func() []byte {
			return PadEthernet(Ethernet(EtherIPv4, Checksum(SetIPv4ID(IPv4(ProtoUDP, src4, dst4, UDP(5353, 53, payload)), 7))))
		}, func() []byte {
			ip, l := ip4(layers.IPProtocolUDP), udp()
			withNet(l, ip)
			return serialize(ethernet(layers.EthernetTypeIPv4), ip, l)
		}},
		{"ipv6_udp", func() []byte {
			return PadEthernet(Ethernet(EtherIPv6, Checksum(IPv6(ProtoUDP, src6, dst6, UDP(5353, 53, payload)))))
		}, func() []byte {
			ip, l := ip6(layers.IPProtocolUDP), udp()
			withNet(l, ip)
			return serialize(ethernet(layers.EthernetTypeIPv6), ip, l)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := tc.got(), tc.want(); !bytes.Equal(got, want) {
				t.Errorf("packetbuild:\n% x\ngopacket:\n% x", got, want)
			}
		})
	}
}
