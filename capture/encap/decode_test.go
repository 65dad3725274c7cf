package encap

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wspath/wspath/capture/internal/packetbuild"
	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

var t0 = time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)

func ip4(t testing.TB, a, b net.IP, proto layers.IPProtocol, payload []byte) []byte {
	return serialize(t, &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: a, DstIP: b, Id: 5}, gopacket.Payload(payload))
}

// tunnelCase is one synthetic packet with the inner TCP segment it carries.
type tunnelCase struct {
	name   string
	data   []byte // Ethernet frame
	v6     bool   // inner IPv6
	tunnel string // the tunnel's description, "" for none
}

func tunnelCases(t testing.TB) []tunnelCase {
	v4, v6 := innerTCP(t, false), innerTCP(t, true)
	f4, f6 := innerFrame(t, false, 0), innerFrame(t, true, 0)
	greSeq := &layers.GRE{SeqPresent: true, Seq: 9, Protocol: 0x88be}
	return []tunnelCase{
		{"vxlan_4789", outer4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 42, f4)), false, "vxlan vni 42 192.0.2.1<->192.0.2.2"},
		{"vxlan_8472_vlan_ipv6", outer4(t, outerB4, outerA4, layers.IPProtocolUDP, vxlan(t, 8472, 7, innerFrame(t, true, 100))), true, "vxlan vni 7 192.0.2.1<->192.0.2.2"},
		{"vxlan_gpe_ipv4", outer4(t, outerA4, outerB4, layers.IPProtocolUDP, udp(t, 4790, packetbuild.Cat([]byte{0x0c, 0, 0, 1, 0, 0, 9, 0}, v4))), false, "vxlan vni 9 192.0.2.1<->192.0.2.2"},
		{"geneve_option", outer4(t, outerA4, outerB4, layers.IPProtocolUDP, udp(t, 6081, packetbuild.Cat(geneveHdr(300, 0x6558), f4))), false, "geneve vni 300 192.0.2.1<->192.0.2.2"},
		{"geneve_ipv6_outer_ipv6_payload", outer6(t, layers.IPProtocolUDP, udp(t, 6081, packetbuild.Cat(geneveHdr(1, 0x86dd), v6))), true, "geneve vni 1 2001:db8::a<->2001:db8::b"},
		{"gre_ipv4", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{Protocol: layers.EthernetTypeIPv4}, v4)), false, "gre 192.0.2.1<->192.0.2.2"},
		{"gre_key_seq_ipv6", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{KeyPresent: true, Key: 1234, SeqPresent: true, Seq: 1, Protocol: layers.EthernetTypeIPv6}, v6)), true, "gre key 1234 192.0.2.1<->192.0.2.2"},
		{"gre_checksum_key_teb", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 5, Protocol: 0x6558}, innerFrame(t, false, 20))), false, "gre key 5 192.0.2.1<->192.0.2.2"},
		{"ip6gre_ipv4", outer6(t, layers.IPProtocolGRE, gre(t, &layers.GRE{Protocol: layers.EthernetTypeIPv4}, v4)), false, "gre 2001:db8::a<->2001:db8::b"},
		{"erspan_type1", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{Protocol: 0x88be}, f4)), false, "erspan 192.0.2.1<->192.0.2.2"},
		{"erspan_type2", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, serialize(t, greSeq, &layers.ERSPANII{Version: 1, SessionID: 5, VLANIdentifier: 10}, gopacket.Payload(f6))), true, "erspan session 5 192.0.2.1<->192.0.2.2"},
		{"erspan_type3_subheader", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{SeqPresent: true, Protocol: 0x22eb}, packetbuild.Cat(erspan3Hdr(true), f4))), false, "erspan session 77 192.0.2.1<->192.0.2.2"},
		{"erspan_type3", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{SeqPresent: true, Protocol: 0x22eb}, packetbuild.Cat(erspan3Hdr(false), f4))), false, "erspan session 77 192.0.2.1<->192.0.2.2"},
		{"ipip", outer4(t, outerA4, outerB4, layers.IPProtocolIPv4, v4), false, "ip-in-ip 192.0.2.1<->192.0.2.2"},
		{"6in4", outer4(t, outerA4, outerB4, layers.IPProtocolIPv6, v6), true, "ip-in-ip 192.0.2.1<->192.0.2.2"},
		{"ip4in6", outer6(t, layers.IPProtocolIPv4, v4), false, "ip-in-ip 2001:db8::a<->2001:db8::b"},
		{"ip6in6", outer6(t, layers.IPProtocolIPv6, v6), true, "ip-in-ip 2001:db8::a<->2001:db8::b"},
		{"mpls_ipv4", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeMPLSUnicast}, gopacket.Payload(mplsStack(t, []uint32{16, 17, 18}, v4))), false, ""},
		{"mpls_ipv6", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeMPLSUnicast}, gopacket.Payload(mplsStack(t, []uint32{100}, v6))), true, ""},
		{"mpls_pw_control_word", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeMPLSUnicast}, gopacket.Payload(mplsStack(t, []uint32{16, 200}, packetbuild.Cat([]byte{0, 0, 0, 1}, f4)))), false, ""},
		{"pppoe_ipv4", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypePPPoESession},
			&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 0x1234}, &layers.PPP{PPPType: layers.PPPTypeIPv4}, gopacket.Payload(v4)), false, ""},
		{"pptp_ppp_ipv4", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, pptp(0x4001, true, true, packetbuild.Cat([]byte{0xff, 0x03, 0x00, 0x21}, v4))), false, "pptp 192.0.2.1<->192.0.2.2"},
		{"pptp_compressed_ppp_ipv6", outer4(t, outerB4, outerA4, layers.IPProtocolGRE, pptp(0x8002, true, false, packetbuild.Cat([]byte{0x57}, v6))), true, "pptp 192.0.2.1<->192.0.2.2"},
		{"nested_vxlan_in_gre", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{KeyPresent: true, Key: 3, Protocol: layers.EthernetTypeIPv4},
			ip4(t, net.IP{172, 16, 0, 1}, net.IP{172, 16, 0, 2}, layers.IPProtocolUDP, vxlan(t, 4789, 42, innerFrame(t, false, 30))))), false,
			"gre key 3 192.0.2.1<->192.0.2.2 / vxlan vni 42 172.16.0.1<->172.16.0.2"},
		{"vlan_outer_vxlan", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 5, Type: layers.EthernetTypeIPv4}, gopacket.Payload(ip4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 42, f4)))), false, "vxlan vni 42 192.0.2.1<->192.0.2.2"},
	}
}

func TestDecode_Tunnels(t *testing.T) {
	for _, tc := range tunnelCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			var seg tcpdecode.Segment
			if err := tcpdecode.Decode(pcapfile.LinkEthernet, tc.data, &seg); !errors.Is(err, tcpdecode.ErrNotTCP) {
				t.Fatalf("fast path: %v, want ErrNotTCP", err)
			}
			if err := d.Decode(pcapfile.LinkEthernet, tc.data, t0, &seg); err != nil {
				t.Fatalf("Decode: %v (%s)", err, d.Reason())
			}
			src, dst := "10.1.0.1:40000", "10.2.0.2:80"
			if tc.v6 {
				src, dst = "[fd00::1]:40000", "[fd00::2]:80"
			}
			if seg.Src.String() != src || seg.Dst.String() != dst || string(seg.Payload) != "hello" || seg.PayloadLength != 5 || seg.Seq != 1000 {
				t.Errorf("got %v -> %v seq %d payload %q (%d)", seg.Src, seg.Dst, seg.Seq, seg.Payload, seg.PayloadLength)
			}
			if got := d.Tunnel(seg.Tunnel); got != tc.tunnel {
				t.Errorf("tunnel %q, want %q", got, tc.tunnel)
			}
			if (tc.tunnel == "") != (seg.Tunnel == 0) || !d.Encapsulated() {
				t.Errorf("Tunnel %d, encapsulated %v", seg.Tunnel, d.Encapsulated())
			}
		})
	}
}

func TestDecode_TunnelIdentity(t *testing.T) {
	f := innerFrame(t, false, 0)
	d := NewDecoder(Config{})
	id := func(data []byte) uint32 {
		var seg tcpdecode.Segment
		if err := d.Decode(pcapfile.LinkEthernet, data, t0, &seg); err != nil {
			t.Fatal(err, d.Reason())
		}
		return seg.Tunnel
	}
	a := id(outer4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 1, f)))
	back := id(outer4(t, outerB4, outerA4, layers.IPProtocolUDP, vxlan(t, 4789, 1, f)))
	other := id(outer4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 2, f)))
	otherVTEP := id(outer4(t, outerA4, net.IP{192, 0, 2, 3}, layers.IPProtocolUDP, vxlan(t, 4789, 1, f)))
	if a == 0 || a != back {
		t.Errorf("both directions of one VXLAN tunnel: %d and %d", a, back)
	}
	if other == a || otherVTEP == a || other == otherVTEP {
		t.Errorf("VNI 1 %d, VNI 2 %d, other VTEP %d: must all differ", a, other, otherVTEP)
	}
}

func TestDecode_NotUsed(t *testing.T) {
	v4 := innerTCP(t, false)
	deep := v4
	for range MaxDepth + 1 {
		deep = ip4(t, outerA4, outerB4, layers.IPProtocolIPv4, deep)
	}
	for _, tc := range []struct {
		name string
		data []byte
		err  error
		kind Kind
		why  string
	}{
		{"gre_pptp_ppp", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{Protocol: 0x880b}, v4)), ErrUnknownTunnel, KindUnknownTunnel, "gre protocol 0x880b (PPP) inside 1 encapsulation(s)"},
		{"pptp_ack_only", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, pptpHdr(0, 1, false, true)), tcpdecode.ErrNotTCP, KindNotTCP, "pptp acknowledgment inside 1 encapsulation(s)"},
		{"pptp_mppe", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, pptp(1, true, false, []byte{0xff, 0x03, 0x00, 0xfd, 0x90, 0x01, 0x02})), tcpdecode.ErrNotTCP, KindNotTCP, "ppp protocol 0x00fd inside 1 encapsulation(s)"},
		{"pptp_payload_cut", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, pptpHdr(40, 1, true, false)), tcpdecode.ErrTruncated, KindTruncated, "pptp payload inside 1 encapsulation(s)"},
		{"gre_version_2", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, []byte{0, 2, 8, 0}), ErrUnknownTunnel, KindUnknownTunnel, "gre version 2"},
		{"dns", outer4(t, outerA4, outerB4, layers.IPProtocolUDP, udp(t, 53, []byte("query"))), tcpdecode.ErrNotTCP, KindNotTCP, "udp port 53"},
		{"udp_in_vxlan", outer4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 4, serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
			gopacket.Payload(ip4(t, innerSrc4, innerDst4, layers.IPProtocolUDP, udp(t, 53, []byte("q"))))))), tcpdecode.ErrNotTCP, KindNotTCP, "udp port 53 inside 1 encapsulation(s)"},
		{"arp_in_vxlan", outer4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 4, serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeARP}, gopacket.Payload(make([]byte, 28))))), tcpdecode.ErrNotTCP, KindNotTCP, "ethertype 0x0806 (ARP) inside 1 encapsulation(s)"},
		{"too_deep", outer4(t, outerA4, outerB4, layers.IPProtocolIPv4, deep), ErrUnknownTunnel, KindUnknownTunnel, "encapsulations nested deeper than 8 inside 8 encapsulation(s)"},
		{"gre_cut", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, []byte{0x30, 0, 8, 0, 1, 2}), tcpdecode.ErrTruncated, KindTruncated, "gre header"},
		{"erspan2_cut", outer4(t, outerA4, outerB4, layers.IPProtocolGRE, gre(t, &layers.GRE{SeqPresent: true, Protocol: 0x88be}, []byte{0x10, 0})), tcpdecode.ErrTruncated, KindTruncated, "erspan header"},
		{"geneve_options_cut", outer4(t, outerA4, outerB4, layers.IPProtocolUDP, udp(t, 6081, geneveHdr(1, 0x6558)[:12])), tcpdecode.ErrTruncated, KindTruncated, "geneve options"},
		{"mpls_unterminated", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeMPLSUnicast}, gopacket.Payload([]byte{0, 1, 0, 64, 0, 2, 0, 64})), tcpdecode.ErrTruncated, KindTruncated, "mpls label stack inside 1 encapsulation(s)"},
		{"teb_loop", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: 0x6558}, gopacket.Payload(bytes.Repeat([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x65, 0x58}, 20))), ErrUnknownTunnel, KindUnknownTunnel, "encapsulations nested deeper than 8"},
		{"pppoe_lcp", serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypePPPoESession}, gopacket.Payload([]byte{0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 1, 1, 0, 4})), tcpdecode.ErrNotTCP, KindNotTCP, "ppp protocol 0xc021 inside 1 encapsulation(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			var seg tcpdecode.Segment
			err := d.Decode(pcapfile.LinkEthernet, tc.data, t0, &seg)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if r := d.Reason(); r.Kind != tc.kind || r.String() != tc.why {
				t.Errorf("reason %v %q, want %v %q", r.Kind, r.String(), tc.kind, tc.why)
			}
		})
	}
}

// TestDecode_Ports: VXLAN and Geneve on ports other than theirs are decoded only when named
// (Config.Ports); unnamed, they are unused packets whose reason says what they look like.
func TestDecode_Ports(t *testing.T) {
	f4 := innerFrame(t, false, 0)
	vx := outer4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 9999, 42, f4))
	gnv := outer4(t, outerA4, outerB4, layers.IPProtocolUDP, udp(t, 7000, packetbuild.Cat(geneveHdr(300, 0x6558), f4)))
	other := outer4(t, outerA4, outerB4, layers.IPProtocolUDP, udp(t, 9999, []byte("\x00\x01 not a tunnel header")))
	named := Config{Ports: Ports{VXLAN: []uint16{9999}, Geneve: []uint16{7000}}}
	for _, tc := range []struct {
		name   string
		cfg    Config
		data   []byte
		tunnel string // decoded: its tunnel; else ""
		why    string
	}{
		{"vxlan_named", named, vx, "vxlan vni 42 192.0.2.1<->192.0.2.2", ""},
		{"geneve_named", named, gnv, "geneve vni 300 192.0.2.1<->192.0.2.2", ""},
		{"vxlan_unnamed", Config{}, vx, "", "udp port 9999 (looks like VXLAN: name the port with vxlan_port to decode it)"},
		{"geneve_unnamed", Config{}, gnv, "", "udp port 7000 (looks like Geneve: name the port with geneve_port to decode it)"},
		{"geneve_port_named_for_vxlan", Config{Ports: Ports{VXLAN: []uint16{7000}}}, gnv, "", "vxlan header without its I flag"},
		{"other_payload", named, other, "", "vxlan header without its I flag"},
		{"other_payload_unnamed", Config{}, other, "", "udp port 9999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.cfg)
			var seg tcpdecode.Segment
			err := d.Decode(pcapfile.LinkEthernet, tc.data, t0, &seg)
			if tc.tunnel != "" {
				if err != nil || d.Tunnel(seg.Tunnel) != tc.tunnel || string(seg.Payload) != "hello" {
					t.Fatalf("err %v (%s), tunnel %q, payload %q; want %q", err, d.Reason(), d.Tunnel(seg.Tunnel), seg.Payload, tc.tunnel)
				}
				return
			}
			if err == nil || d.Reason().String() != tc.why {
				t.Errorf("err %v, reason %q, want %q", err, d.Reason(), tc.why)
			}
		})
	}
}
