package encap

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

var update = flag.Bool("update", false, "rewrite testdata/synthetic-tunnels.pcap")

const syntheticPcap = "testdata/synthetic-tunnels.pcap"

// TestSyntheticPcap_UpToDate writes (with -update) or checks testdata/synthetic-tunnels.pcap: every
// synthetic tunnel case, then IPv4 and IPv6 fragments (out of order) and a VXLAN whose outer
// datagram is fragmented, as gopacket serialises them.
func TestSyntheticPcap_UpToDate(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	at := t0
	write := func(data []byte) {
		at = at.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	eth := func(et layers.EthernetType, b []byte) []byte {
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, gopacket.Payload(b))
	}
	for _, tc := range tunnelCases(t) {
		write(tc.data)
	}
	f4 := fragments4(bigTCP(t, false, 3000), 1200)
	for _, i := range []int{1, 0, 2} {
		write(eth(layers.EthernetTypeIPv4, f4[i]))
	}
	for _, f := range fragments6(bigTCP(t, true, 3000), 1232) {
		write(eth(layers.EthernetTypeIPv6, f))
	}
	outer := ip4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 42, innerFrame(t, false, 0)))
	for _, f := range fragments4(outer, 48) {
		write(eth(layers.EthernetTypeIPv4, f))
	}
	if *update {
		if err := os.WriteFile(syntheticPcap, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(syntheticPcap)
	if err != nil || !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("%s is not what the tests make (err %v): run go test ./capture/encap -run SyntheticPcap -update", syntheticPcap, err)
	}
}

// view is one TCP segment as seen by a decoder: inner addresses, ports, payload length.
type view struct {
	src, dst netip.Addr
	sport    string
	dport    string
	length   int
}

func (v view) String() string {
	return fmt.Sprintf("%v:%s -> %v:%s len %d", v.src, v.sport, v.dst, v.dport, v.length)
}

// wspathView decodes every packet of a capture as capture.Read does (fast path, then encap) and
// returns the TCP segments by packet number.
func wspathView(t *testing.T, path string) map[int]view {
	r, err := pcapfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	slow := NewDecoder(Config{Ports: Ports{VXLAN: []uint16{9999}}}) // testdata/tun's kernel VXLAN port
	out := map[int]view{}
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var seg tcpdecode.Segment
		err = tcpdecode.Decode(p.LinkType, p.Data, &seg)
		if errors.Is(err, tcpdecode.ErrNotTCP) || errors.Is(err, tcpdecode.ErrFragment) {
			err = slow.Decode(p.LinkType, p.Data, p.Time, &seg)
		}
		if err == nil {
			out[p.Number] = view{seg.Src.Addr().Unmap(), seg.Dst.Addr().Unmap(), fmt.Sprint(seg.Src.Port()), fmt.Sprint(seg.Dst.Port()), seg.PayloadLength}
		}
	}
	return out
}

// tsharkView runs tshark (IP reassembly on, its default) and returns the TCP segments by frame
// number, with the innermost address of the family wspath's inner header has. tshark is told what
// it cannot know by itself: that UDP 8472 is VXLAN (Linux's port), and so is 9999 (testdata/tun's
// VXLAN on a port of its own, which wspathView names to wspath too), and that MPLS label 200 (of the
// synthetic file and of the mplspw-c2s-drop lab case) is an Ethernet pseudowire with control word
// (wspath reads both by default).
func tsharkView(t *testing.T, path string, want map[int]view) map[int]view {
	cmd := exec.Command("tshark", "-r", path, "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE",
		"-d", "udp.port==8472,vxlan", "-d", "udp.port==9999,vxlan", "-d", "mpls.label==200,pwethcw",
		"-Y", "tcp && !icmp && !icmpv6", // a packet quoted in an ICMP error is not traffic
		"-T", "fields", "-E", "separator=;", "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst",
		"-e", "ipv6.src", "-e", "ipv6.dst", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.len")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	last := func(s string) netip.Addr {
		parts := strings.Split(s, ",")
		a, _ := netip.ParseAddr(parts[len(parts)-1])
		return a
	}
	got := map[int]view{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ";")
		if len(f) != 8 || f[5] == "" {
			continue
		}
		var n, length int
		fmt.Sscan(f[0], &n)
		fmt.Sscan(f[7], &length)
		v := view{src: last(f[1]), dst: last(f[2]), sport: f[5], dport: f[6], length: length}
		if w, ok := want[n]; ok && w.src.Is6() || f[1] == "" {
			v.src, v.dst = last(f[3]), last(f[4])
		}
		got[n] = v
	}
	return got
}

// TestDecode_MatchesTshark checks wspath's decoding of tunnelled and fragmented packets against
// tshark's view of the same files: the synthetic one, Open vSwitch's real GRE, Geneve, VXLAN and
// ERSPAN II/III mirror copies (testdata/ovs), the lab tunnel endpoint's real 6in4, 6in6, GRE, MPLS
// and PPPoE captures carrying IPv6 (testdata/tun), and the underlay captures of the lab cases: the
// kernel's VXLAN (vxlan-c2s-drop, with real outer IPv4 fragments) and wsl_tunnel.py's IP-in-IP,
// GRE, 4in6, MPLS, Ethernet pseudowire over MPLS and PPPoE, and Open vSwitch's mirror of a lab link
// delivered over ERSPAN II, Geneve, ERSPAN III and GRE with Ethernet inside (erspan-c2s-drop,
// geneve-s2c-drop, erspan3-s2c-drop, gretap-c2s-drop).
func TestDecode_MatchesTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	paths := []string{syntheticPcap, filepath.Join("testdata", "ovs", "collector.pcap"), filepath.Join("testdata", "tun", "underlay.pcap")}
	// The lab cases whose ingress hop is captured on a tunnel's underlay.
	for _, c := range []string{"vxlan-c2s-drop", "ipip-c2s-drop", "gre-s2c-drop", "ip4ip6-c2s-drop", "mpls-s2c-drop", "mplspw-c2s-drop", "pppoe-s2c-drop", "erspan-c2s-drop", "geneve-s2c-drop", "erspan3-s2c-drop", "gretap-c2s-drop"} {
		paths = append(paths, filepath.Join("..", "..", "examples", c, "ingress.pcap"))
	}
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			ours := wspathView(t, path)
			theirs := tsharkView(t, path, ours)
			var nums []int
			for n := range theirs {
				nums = append(nums, n)
			}
			for n := range ours {
				if _, ok := theirs[n]; !ok {
					nums = append(nums, n)
				}
			}
			sort.Ints(nums)
			for _, n := range nums {
				if ours[n] != theirs[n] {
					t.Errorf("packet %d: wspath %v, tshark %v", n, ours[n], theirs[n])
				}
			}
			if len(ours) < 20 {
				t.Errorf("only %d TCP segments decoded", len(ours))
			}
			t.Logf("%d TCP segments agree", len(ours))
		})
	}
}
