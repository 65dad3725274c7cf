package tcpdecode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wspath/wspath/capture/internal/packetbuild"
	"github.com/wspath/wspath/capture/pcapfile"
)

var (
	v4a = [4]byte{10, 0, 0, 1}
	v4b = [4]byte{192, 168, 1, 2}
	v6a = netip.MustParseAddr("2001:db8::1").As16()
	v6b = netip.MustParseAddr("fe80::2").As16()
)

// want is what a test expects Decode to fill in.
type want struct {
	src, dst   string
	seq, ack   uint32
	flags      Flags
	window     uint16
	wscale     int8
	payload    string // captured payload
	payloadLen int
}

func check(t *testing.T, seg *Segment, w want) {
	t.Helper()
	got := want{seg.Src.String(), seg.Dst.String(), seg.Seq, seg.Ack, seg.Flags, seg.Window, seg.WindowScale, string(seg.Payload), seg.PayloadLength}
	if got != w {
		t.Errorf("got  %+v\nwant %+v", got, w)
	}
}

func TestDecode_Crafted(t *testing.T) {
	data := []byte("hello, websocket")
	tcp := packetbuild.Cat(packetbuild.TCP(40000, 80, 1000, 2000, byte(PSH|ACK), 512), data)
	p4 := packetbuild.IPv4(6, v4a, v4b, tcp)
	p6 := packetbuild.IPv6(6, v6a, v6b, tcp)
	w4 := want{"10.0.0.1:40000", "192.168.1.2:80", 1000, 2000, PSH | ACK, 512, -1, string(data), len(data)}
	w6 := w4
	w6.src, w6.dst = "[2001:db8::1]:40000", "[fe80::2]:80"
	syn := packetbuild.TCP(1, 2, 7, 0, byte(SYN), 65535,
		2, 4, 0x05, 0xb4, // MSS 1460
		4, 2, // SACK permitted
		8, 10, 0, 0, 0, 1, 0, 0, 0, 0, // timestamps
		1,       // NOP
		3, 3, 7) // window scale 7
	wsyn := want{"10.0.0.1:1", "192.168.1.2:2", 7, 0, SYN, 65535, 7, "", 0}

	tests := []struct {
		name string
		lt   pcapfile.LinkType
		data []byte
		want want
	}{
		{"ethernet_ipv4", pcapfile.LinkEthernet, packetbuild.Ethernet(0x0800, p4), w4},
		{"ethernet_ipv6", pcapfile.LinkEthernet, packetbuild.Ethernet(0x86dd, p6), w6},
		{"ethernet_padding_trimmed", pcapfile.LinkEthernet, packetbuild.Ethernet(0x0800, packetbuild.Cat(packetbuild.IPv4(6, v4a, v4b, packetbuild.TCP(40000, 80, 1000, 2000, byte(ACK), 512)), make([]byte, 6))),
			want{"10.0.0.1:40000", "192.168.1.2:80", 1000, 2000, ACK, 512, -1, "", 0}},
		{"ethernet_fcs_trimmed", pcapfile.LinkEthernet, packetbuild.Cat(packetbuild.Ethernet(0x0800, p4), []byte{1, 2, 3, 4}), w4},
		{"vlan_8021q", pcapfile.LinkEthernet, packetbuild.Ethernet(0x0800, p4, packetbuild.VLANTag{TPID: 0x8100, ID: 100}), w4},
		{"qinq_88a8", pcapfile.LinkEthernet, packetbuild.Ethernet(0x86dd, p6, packetbuild.VLANTag{TPID: 0x88a8, ID: 100}, packetbuild.VLANTag{TPID: 0x8100, ID: 100}), w6},
		{"qinq_9100", pcapfile.LinkEthernet, packetbuild.Ethernet(0x0800, p4, packetbuild.VLANTag{TPID: 0x9100, ID: 100}, packetbuild.VLANTag{TPID: 0x8100, ID: 100}), w4},
		{"linux_sll_ipv6", pcapfile.LinkLinuxSLL, packetbuild.SLL(0x86dd, p6), w6},
		{"linux_sll_vlan", pcapfile.LinkLinuxSLL, packetbuild.SLL(0x8100, packetbuild.Cat([]byte{0, 100, 0x08, 0}, p4)), w4},
		{"linux_sll2_ipv4", pcapfile.LinkLinuxSLL2, packetbuild.SLL2(0x0800, p4), w4},
		{"raw_ipv4", pcapfile.LinkRaw, p4, w4},
		{"raw_ipv6", pcapfile.LinkRaw, p6, w6},
		{"raw_dlt12", pcapfile.LinkRawDLT12, p4, w4},
		{"raw_dlt14", pcapfile.LinkRawDLT14, p6, w6},
		{"linktype_ipv4", pcapfile.LinkIPv4, p4, w4},
		{"linktype_ipv6", pcapfile.LinkIPv6, p6, w6},
		{"null_le_inet", pcapfile.LinkNull, packetbuild.Null(binary.LittleEndian, 2, p4), w4},
		{"null_be_inet6_macos", pcapfile.LinkNull, packetbuild.Null(binary.BigEndian, 30, p6), w6},
		{"null_le_inet6_freebsd", pcapfile.LinkNull, packetbuild.Null(binary.LittleEndian, 28, p6), w6},
		{"loop_inet6_openbsd", pcapfile.LinkLoop, packetbuild.Null(binary.BigEndian, 24, p6), w6},
		{"ipv4_options", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, tcp, 1, 1, 1, 0), w4},
		{"ipv4_total_length_zero_tso", pcapfile.LinkRaw, func() []byte {
			p := packetbuild.IPv4(6, v4a, v4b, tcp)
			p[2], p[3] = 0, 0
			return p
		}(), w4},
		{"ipv4_snap_cut", pcapfile.LinkEthernet, func() []byte {
			p := packetbuild.Ethernet(0x0800, packetbuild.IPv4(6, v4a, v4b, packetbuild.Cat(packetbuild.TCP(40000, 80, 1000, 2000, byte(ACK), 512), make([]byte, 1400))))
			return p[:96]
		}(), want{"10.0.0.1:40000", "192.168.1.2:80", 1000, 2000, ACK, 512, -1, string(make([]byte, 96-54)), 1400}},
		{"ipv4_dont_fragment", pcapfile.LinkRaw, func() []byte {
			p := packetbuild.IPv4(6, v4a, v4b, tcp)
			p[6] = 0x40 // DF: whole
			return p
		}(), w4},
		{"ipv6_snap_cut", pcapfile.LinkRaw, packetbuild.IPv6(6, v6a, v6b, packetbuild.Cat(tcp, make([]byte, 1000)))[:40+20+len(data)],
			want{w6.src, w6.dst, 1000, 2000, PSH | ACK, 512, -1, string(data), len(data) + 1000}},
		{"ipv6_payload_length_zero", pcapfile.LinkRaw, func() []byte {
			p := packetbuild.IPv6(6, v6a, v6b, tcp)
			p[4], p[5] = 0, 0
			return p
		}(), w6},
		{"ipv6_extension_headers", pcapfile.LinkIPv6, packetbuild.IPv6(0, v6a, v6b, packetbuild.Cat(packetbuild.IPv6Ext(43, 1), packetbuild.IPv6Ext(60, 2), packetbuild.IPv6Ext(44, 1), packetbuild.IPv6Fragment(51, 0, false), []byte{6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, tcp)), w6},
		{"syn_window_scale", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, syn), wsyn},
		{"syn_window_scale_capped", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, packetbuild.TCP(1, 2, 7, 0, byte(SYN), 65535, 3, 3, 20)), want{"10.0.0.1:1", "192.168.1.2:2", 7, 0, SYN, 65535, 14, "", 0}},
		{"syn_without_window_scale", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, packetbuild.TCP(1, 2, 7, 0, byte(SYN), 65535, 2, 4, 0x05, 0xb4)), want{"10.0.0.1:1", "192.168.1.2:2", 7, 0, SYN, 65535, -1, "", 0}},
		{"syn_bad_option_length", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, packetbuild.TCP(1, 2, 7, 0, byte(SYN), 65535, 2, 0, 3, 3, 5)), want{"10.0.0.1:1", "192.168.1.2:2", 7, 0, SYN, 65535, -1, "", 0}},
		{"ack_ignores_window_scale", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, packetbuild.TCP(1, 2, 7, 9, byte(ACK), 100, 3, 3, 5)), want{"10.0.0.1:1", "192.168.1.2:2", 7, 9, ACK, 100, -1, "", 0}},
		{"all_flags", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, packetbuild.TCP(1, 2, 3, 4, 0xff, 5)), want{"10.0.0.1:1", "192.168.1.2:2", 3, 4, 0xff, 5, -1, "", 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seg Segment
			if err := Decode(tt.lt, tt.data, &seg); err != nil {
				t.Fatal(err)
			}
			check(t, &seg, tt.want)
		})
	}
}

// TestDecode_Iface checks that a cooked SLL2 packet gives its interface index (a router's -i any
// capture has each forwarded segment on two interfaces) and other link types give 0, also when
// the Segment is reused.
func TestDecode_Iface(t *testing.T) {
	p4 := packetbuild.IPv4(6, [4]byte{10, 0, 0, 1}, [4]byte{192, 168, 1, 2},
		packetbuild.TCP(40000, 80, 1000, 2000, byte(ACK), 512))
	sll2 := packetbuild.SLL2(0x0800, p4)
	sll2[7] = 9 // interface index 9
	var seg Segment
	for _, tt := range []struct {
		lt   pcapfile.LinkType
		data []byte
		want uint32
	}{
		{pcapfile.LinkLinuxSLL2, sll2, 9},
		{pcapfile.LinkEthernet, packetbuild.Ethernet(0x0800, p4), 0},
		{pcapfile.LinkLinuxSLL, packetbuild.SLL(0x0800, p4), 0},
	} {
		if err := Decode(tt.lt, tt.data, &seg); err != nil {
			t.Fatal(err)
		}
		if seg.Iface != tt.want {
			t.Errorf("link type %v: Iface %d, want %d", tt.lt, seg.Iface, tt.want)
		}
	}
}

func TestDecode_Errors(t *testing.T) {
	tcp := packetbuild.TCP(40000, 80, 1000, 2000, byte(ACK), 512)
	p4 := packetbuild.IPv4(6, v4a, v4b, tcp)
	p6 := packetbuild.IPv6(6, v6a, v6b, tcp)
	mod := func(b []byte, i int, v byte) []byte {
		b = append([]byte{}, b...)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		lt   pcapfile.LinkType
		data []byte
		is   error
	}{
		{"unknown_link", 147, p4, ErrUnknownLinkType},
		{"short_ethernet", pcapfile.LinkEthernet, make([]byte, 13), ErrTruncated},
		{"short_sll", pcapfile.LinkLinuxSLL, make([]byte, 15), ErrTruncated},
		{"short_sll2", pcapfile.LinkLinuxSLL2, make([]byte, 19), ErrTruncated},
		{"short_null", pcapfile.LinkNull, []byte{2, 0}, ErrTruncated},
		{"empty_raw", pcapfile.LinkRaw, nil, ErrTruncated},
		{"vlan_cut", pcapfile.LinkEthernet, packetbuild.Ethernet(0x8100, []byte{0, 1}), ErrTruncated},
		{"arp", pcapfile.LinkEthernet, packetbuild.Ethernet(0x0806, make([]byte, 28)), ErrNotTCP},
		{"llc_length_field", pcapfile.LinkEthernet, packetbuild.Ethernet(0x0040, make([]byte, 64)), ErrNotTCP},
		{"null_af_unix", pcapfile.LinkNull, packetbuild.Null(binary.LittleEndian, 1, p4), ErrNotTCP},
		{"udp", pcapfile.LinkRaw, packetbuild.IPv4(17, v4a, v4b, make([]byte, 8)), ErrNotTCP},
		{"icmpv6", pcapfile.LinkRaw, packetbuild.IPv6(58, v6a, v6b, make([]byte, 8)), ErrNotTCP},
		{"ipv6_no_next_header", pcapfile.LinkRaw, packetbuild.IPv6(59, v6a, v6b, nil), ErrNotTCP},
		{"ipv4_first_fragment", pcapfile.LinkRaw, mod(p4, 6, 0x20), ErrFragment}, // more fragments, offset 0: not whole
		{"ipv4_later_fragment", pcapfile.LinkRaw, mod(p4, 7, 1), ErrFragment},
		{"ipv6_first_fragment", pcapfile.LinkRaw, packetbuild.IPv6(44, v6a, v6b, packetbuild.Cat(packetbuild.IPv6Fragment(6, 0, true), tcp)), ErrFragment},
		{"ipv6_later_fragment", pcapfile.LinkRaw, packetbuild.IPv6(44, v6a, v6b, packetbuild.Cat(packetbuild.IPv6Fragment(6, 185, false), tcp)), ErrFragment},
		{"raw_version_5", pcapfile.LinkRaw, mod(p4, 0, 0x55), ErrMalformed},
		{"ipv4_link_ipv6_packet", pcapfile.LinkIPv4, p6, ErrMalformed},
		{"ethertype_ipv6_ipv4_packet", pcapfile.LinkEthernet, packetbuild.Ethernet(0x86dd, packetbuild.Cat(p4, make([]byte, 40))), ErrMalformed},
		{"ipv4_ihl_4", pcapfile.LinkRaw, mod(p4, 0, 0x44), ErrMalformed},
		{"ipv4_ihl_beyond_total", pcapfile.LinkRaw, mod(p4, 3, 21), ErrMalformed},
		{"ipv4_short", pcapfile.LinkRaw, p4[:19], ErrTruncated},
		{"ipv4_options_cut", pcapfile.LinkRaw, mod(packetbuild.IPv4(6, v4a, v4b, packetbuild.Cat(tcp, make([]byte, 100))), 0, 0x4f)[:30], ErrTruncated},
		{"ipv4_total_below_tcp_min", pcapfile.LinkRaw, mod(p4, 3, 30), ErrMalformed},
		{"ipv6_short", pcapfile.LinkRaw, p6[:39], ErrTruncated},
		{"ipv6_ext_overruns_payload", pcapfile.LinkRaw, packetbuild.IPv6(0, v6a, v6b, packetbuild.Cat(packetbuild.IPv6Ext(6, 1), tcp))[:40+4], ErrTruncated},
		{"ipv6_ext_beyond_length", pcapfile.LinkRaw, packetbuild.IPv6(0, v6a, v6b, packetbuild.IPv6Ext(6, 2)[:8]), ErrMalformed},
		{"ipv6_ext_loop", pcapfile.LinkRaw, packetbuild.IPv6(60, v6a, v6b, bytes.Repeat(packetbuild.IPv6Ext(60, 1), 20)), ErrMalformed},
		{"tcp_cut_by_snaplen", pcapfile.LinkEthernet, packetbuild.Ethernet(0x0800, p4)[:14+20+10], ErrTruncated},
		{"tcp_options_cut_by_snaplen", pcapfile.LinkRaw, packetbuild.IPv4(6, v4a, v4b, packetbuild.Cat(packetbuild.TCP(1, 2, 3, 4, byte(SYN), 5, 3, 3, 1, 0), make([]byte, 100)))[:20+22], ErrTruncated},
		{"tcp_data_offset_4", pcapfile.LinkRaw, mod(p4, 20+12, 0x40), ErrMalformed},
		{"tcp_data_offset_beyond_ip", pcapfile.LinkRaw, mod(p4, 20+12, 0xf0), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seg Segment
			err := Decode(tt.lt, tt.data, &seg)
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), tt.is.Error()+": ") {
				t.Errorf("error text %q lacks detail", err)
			}
		})
	}
}

// TestDecode_GopacketBuilt decodes packets serialized by gopacket, an independent encoder.
func TestDecode_GopacketBuilt(t *testing.T) {
	payload := []byte("GET /chat HTTP/1.1\r\n\r\n")
	tcp := &layers.TCP{SrcPort: 51234, DstPort: 443, Seq: 0xfffffff0, Ack: 5, SYN: true, ECE: true, CWR: true, Window: 64240,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
			{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{9}}}}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: v4a[:], DstIP: v4b[:]}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip, tcp, gopacket.Payload(payload))
	if err != nil {
		t.Fatal(err)
	}
	var seg Segment
	if err := Decode(pcapfile.LinkEthernet, buf.Bytes(), &seg); err != nil {
		t.Fatal(err)
	}
	check(t, &seg, want{"10.0.0.1:51234", "192.168.1.2:443", 0xfffffff0, 5, SYN | ECE | CWR, 64240, 9, string(payload), len(payload)})
}

func TestFlags_String(t *testing.T) {
	for f, s := range map[Flags]string{0: "none", SYN: "SYN", SYN | ACK: "SYN|ACK", FIN | PSH | ACK: "FIN|PSH|ACK", 0xff: "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR"} {
		if f.String() != s {
			t.Errorf("%08b: %q, want %q", uint8(f), f.String(), s)
		}
	}
	if !(SYN | ACK).Has(ACK) || (SYN | ACK).Has(FIN|ACK) {
		t.Error("Has")
	}
}

func TestDecode_NoAllocations(t *testing.T) {
	pkts := [][]byte{
		packetbuild.Ethernet(0x0800, packetbuild.IPv4(6, v4a, v4b, packetbuild.TCP(1, 2, 3, 4, byte(SYN), 5, 3, 3, 7))),
		packetbuild.Ethernet(0x0806, make([]byte, 28)),
		packetbuild.IPv6(0, v6a, v6b, packetbuild.Cat(packetbuild.IPv6Ext(6, 1), packetbuild.TCP(1, 2, 3, 4, byte(ACK), 5))),
		make([]byte, 3),
	}
	var seg Segment
	n := testing.AllocsPerRun(100, func() {
		for _, p := range pkts {
			Decode(pcapfile.LinkEthernet, p, &seg)
			Decode(pcapfile.LinkRaw, p, &seg)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

// TestDecode_RealCaptures decodes every packet of the real captures and compares with tshark.
func TestDecode_RealCaptures(t *testing.T) {
	files := []struct{ file, truth string }{
		{"lo.pcap", "lo.pcap"}, {"lo.pcap.gz", "lo.pcap"}, {"any-sll2.pcap", "any-sll2.pcap"},
		{"any-sll.pcap", "any-sll.pcap"}, {"lo-nano.pcap", "lo-nano.pcap"}, {"lo-snap96.pcap", "lo-snap96.pcap"},
		{"two-linktypes.pcapng", "two-linktypes.pcapng"}, {"tls-dsb.pcapng", "tls-dsb.pcapng"},
	}
	dir := filepath.Join("..", "pcapfile", "testdata")
	for _, tt := range files {
		t.Run(tt.file, func(t *testing.T) {
			truth, err := os.ReadFile(filepath.Join(dir, tt.truth+".tshark.tsv"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(truth)), "\n")
			r, err := pcapfile.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n, v6 := 0, 0
			for ; ; n++ {
				p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var seg Segment
				if err := Decode(p.LinkType, p.Data, &seg); err != nil {
					t.Fatalf("packet %d: %v", p.Number, err)
				}
				if n >= len(lines) {
					t.Fatalf("more packets than tshark's %d", len(lines))
				}
				if seg.Src.Addr().Is6() {
					v6++
				}
				f := append(strings.Split(lines[n], "\t"), "", "")
				flags, _ := strconv.ParseUint(f[12], 0, 16)
				ws := "-1"
				if f[15] != "" {
					ws = f[15]
				}
				got := fmt.Sprintf("%s %s %d %d %d %d %d %d %d %d", seg.Src.Addr(), seg.Dst.Addr(), seg.Src.Port(), seg.Dst.Port(),
					seg.Seq, seg.Ack, seg.Flags, seg.Window, seg.PayloadLength, seg.WindowScale)
				exp := fmt.Sprintf("%s %s %s %s %s %s %d %s %s %s", f[4]+f[5], f[6]+f[7], f[8], f[9], f[10], f[11], flags&0xff, f[13], f[14], ws)
				if got != exp {
					t.Errorf("packet %d:\n got  %s\n want %s", p.Number, got, exp)
				}
				if cut := p.Length - p.CaptureLength; len(seg.Payload) != max(seg.PayloadLength-cut, 0) {
					t.Errorf("packet %d: %d payload bytes captured of %d, %d cut", p.Number, len(seg.Payload), seg.PayloadLength, cut)
				}
			}
			if n != len(lines) {
				t.Errorf("%d TCP packets, tshark %d", n, len(lines))
			}
			if v6 == 0 && !strings.HasPrefix(tt.file, "tls") {
				t.Errorf("no IPv6 packet")
			}
		})
	}
}
