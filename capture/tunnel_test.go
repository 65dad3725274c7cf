package capture

import (
	"encoding/binary"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wspath/wspath/capture/encap"
)

// vxlanWrap returns a synth wrap that carries each frame in VXLAN (UDP 4789) with the given VNI
// between the VTEPs 192.0.2.1 and 192.0.2.2.
func vxlanWrap(vni uint32) func([]byte) []byte {
	return func(f []byte) []byte {
		b := []byte{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00}
		n := 20 + 8 + 8 + len(f)
		b = append(b, 0x45, 0, byte(n>>8), byte(n), 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2)
		b = binary.BigEndian.AppendUint16(b, 51000)
		b = binary.BigEndian.AppendUint16(b, 4789)
		b = binary.BigEndian.AppendUint16(b, uint16(8+8+len(f)))
		b = append(b, 0, 0, 0x08, 0, 0, 0, byte(vni>>16), byte(vni>>8), byte(vni), 0)
		return append(b, f...)
	}
}

// TestRead_TunnelsKeepEqualTuplesApart: two overlays carry connections with the same inner
// addresses and ports at the same time; they stay two sessions, each naming its tunnel.
func TestRead_TunnelsKeepEqualTuplesApart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vxlan.pcap")
	s := newSynth(t, path)
	s.wrap = vxlanWrap(1)
	a := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
	s.wrap = vxlanWrap(2)
	b := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
	s.wrap = vxlanWrap(1)
	a.upgrade("dGhlIHNhbXBsZSBub25jZQ==", "")
	s.wrap = vxlanWrap(2)
	b.upgrade("AQIDBAUGBwgJCgsMDQ4PEA==", "")
	for i := range 3 {
		s.wrap = vxlanWrap(1)
		a.send(true, frame(1, true, false, true, []byte("one")))
		s.wrap = vxlanWrap(2)
		if i < 2 {
			b.send(true, frame(1, true, false, true, []byte("two")))
		}
	}
	s.close()
	c, err := Read([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sessions) != 2 {
		t.Fatalf("%d sessions, want 2", len(c.Sessions))
	}
	got := map[string]int{}
	for _, ss := range c.Sessions {
		got[ss.Tunnel()] = len(ss.Messages(ClientToServer))
	}
	if got["vxlan vni 1 192.0.2.1<->192.0.2.2"] != 3 || got["vxlan vni 2 192.0.2.1<->192.0.2.2"] != 2 {
		t.Errorf("messages per tunnel %v", got)
	}
	if c.Stats.Tunneled != c.Stats.TCP || c.Stats.TCP == 0 || len(c.Unused) != 0 {
		t.Errorf("stats %+v, unused %v", c.Stats, c.Unused)
	}
}

// TestRead_MostlyUnusableWarns: a file that is mostly traffic wspath cannot read (PPTP whose PPP
// frames are MPPE-compressed or encrypted, protocol 0x00fd) says so per file, by reason, and warns.
func TestRead_MostlyUnusableWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pptp.pcap")
	s := newSynth(t, path)
	s.wrap = func(f []byte) []byte {
		b := []byte{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00}
		ppp := 4 + len(f) - 14
		n := 20 + 12 + ppp
		b = append(b, 0x45, 0, byte(n>>8), byte(n), 0, 0, 0, 0, 64, 47, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2)
		b = append(b, 0x30, 0x01, 0x88, 0x0b, byte(ppp>>8), byte(ppp), 0, 1, 0, 0, 0, 1) // GRE v1, PPP
		b = append(b, 0xff, 0x03, 0x00, 0xfd)                                            // PPP, MPPE
		return append(b, f[14:]...)
	}
	c := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
	c.send(true, []byte(strings.Repeat("x", 5000)))
	s.wrap = nil
	c.send(true, []byte("plain"))
	s.close()
	cp, err := Read([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := cp.Files[0]
	if len(f.Unused) != 1 || f.Unused[0].Kind != "not_tcp" || f.Unused[0].Reason != "ppp protocol 0x00fd inside 1 encapsulation(s)" {
		t.Errorf("unused %+v", f.Unused)
	}
	if f.Stats.NonTCP != 11 || f.Stats.TCP != 2 || cp.Stats.NonTCP != 11 {
		t.Errorf("file stats %+v, capture %+v", f.Stats, cp.Stats)
	}
	warned := false
	for _, w := range cp.Warnings {
		warned = warned || strings.Contains(w.String(), "11 of its 13 packets (84%) could not be used: 11 not tcp (ppp protocol 0x00fd inside 1 encapsulation(s))")
	}
	if !warned {
		t.Errorf("no warning about the unusable file: %v", cp.Warnings)
	}
}

// TestRead_OVSMirrorTunnels reads real mirror copies made by Open vSwitch's userspace datapath
// (capture/encap/testdata/ovs, see make.sh there): one WebSocket connection mirrored into GRE,
// Geneve, VXLAN and ERSPAN II and III over IPv4, and ip6gre, Geneve and ERSPAN III over IPv6. Each copy is its own session, named by its tunnel, with the
// ten messages (and the close) each way that the server's own capture holds, digest for digest.
func TestRead_OVSMirrorTunnels(t *testing.T) {
	dir := filepath.Join("encap", "testdata", "ovs")
	srv, err := Read([]string{filepath.Join(dir, "server.pcap")}, Options{})
	if err != nil || len(srv.Sessions) != 1 {
		t.Fatalf("server capture: %v, %d sessions", err, len(srv.Sessions))
	}
	want := srv.Sessions[0]
	c, err := Read([]string{filepath.Join(dir, "collector.pcap")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tunnels []string
	for _, s := range c.Sessions {
		tunnels = append(tunnels, s.Tunnel())
		if s.Key() != want.Key() || s.Client != want.Client {
			t.Errorf("%s: session %v %s, server saw %v %s", s.Tunnel(), s.Client, s.Key(), want.Client, want.Key())
		}
		for _, d := range Directions {
			got, exp := s.Messages(d), want.Messages(d)
			data := 0
			for _, m := range got {
				if m.Opcode.IsData() {
					data++
				}
			}
			if data != 10 || len(got) != len(exp) {
				t.Errorf("%s %s: %d messages, server %d", s.Tunnel(), d, len(got), len(exp))
				continue
			}
			for i := range got {
				if got[i].Digest != exp[i].Digest {
					t.Errorf("%s %s message %d: digest differs from the server's", s.Tunnel(), d, i)
				}
			}
		}
	}
	sort.Strings(tunnels)
	wantTunnels := []string{
		"erspan session 1 10.9.2.1<->10.9.2.2", "erspan session 2 10.9.2.1<->10.9.2.2", "erspan session 3 fd09:2::1<->fd09:2::2",
		"geneve vni 5001 10.9.2.1<->10.9.2.2", "geneve vni 6001 fd09:2::1<->fd09:2::2",
		"gre key 1234 10.9.2.1<->10.9.2.2", "gre key 77 fd09:2::1<->fd09:2::2", "vxlan vni 42 10.9.2.1<->10.9.2.2",
	}
	if strings.Join(tunnels, "|") != strings.Join(wantTunnels, "|") {
		t.Errorf("tunnels %q, want %q", tunnels, wantTunnels)
	}
}

// TestRead_UserspaceTunnels reads real captures of WebSocket traffic that the lab's tunnel
// endpoint (examples/netlab/wsl_tunnel.py) carried in 6in4, 6in6, GRE, MPLS and PPPoE (IPv6
// inside), PPTP's enhanced GRE (IPv4 inside) and, from the kernel's VXLAN driver, a VXLAN on the
// non-standard UDP port 9999 (capture/encap/testdata/tun, see make.sh there), that port named in
// Options.TunnelPorts:
// each connection of the underlay capture is the
// server's connection of the same key, message for message and digest for digest, named by its
// tunnel where the tunnel has an identity (MPLS labels and PPPoE sessions deliberately have none),
// and PPPoE's discovery and PPP control packets and PPTP's bare acknowledgments are said to be
// unused, not dropped silently.
func TestRead_UserspaceTunnels(t *testing.T) {
	dir := filepath.Join("encap", "testdata", "tun")
	srv, err := Read([]string{filepath.Join(dir, "server.pcap")}, Options{})
	if err != nil || len(srv.Sessions) != 7 {
		t.Fatalf("server capture: %v, %d sessions", err, len(srv.Sessions))
	}
	under, err := Read([]string{filepath.Join(dir, "underlay.pcap")}, Options{TunnelPorts: encap.Ports{VXLAN: []uint16{9999}}})
	if err != nil {
		t.Fatal(err)
	}
	wantTunnel := map[string]string{
		"/sit": "ip-in-ip 10.9.5.1<->10.9.5.2", "/ip6ip6": "ip-in-ip fd09:5::1<->fd09:5::2",
		"/gre": "gre key 7 10.9.5.1<->10.9.5.2", "/mpls": "", "/pppoe": "", "/pptp": "pptp 10.9.5.1<->10.9.5.2",
		"/vxlan9999": "vxlan vni 99 10.9.5.1<->10.9.5.2",
	}
	byKey := map[string]*Session{}
	for _, s := range srv.Sessions {
		byKey[s.Key()] = s
	}
	seen := map[string]bool{}
	for _, s := range under.Sessions {
		want := byKey[s.Key()]
		if want == nil || s.Client != want.Client {
			t.Errorf("%s: session %v %s is not one of the server's", s.Path(), s.Client, s.Key())
			continue
		}
		seen[s.Path()] = true
		if tun, ok := wantTunnel[s.Path()]; !ok || s.Tunnel() != tun {
			t.Errorf("%s: tunnel %q, want %q", s.Path(), s.Tunnel(), tun)
		}
		for _, d := range Directions {
			got, exp := s.Messages(d), want.Messages(d)
			if len(got) != len(exp) || len(got) < 10 {
				t.Errorf("%s %s: %d messages, server %d", s.Path(), d, len(got), len(exp))
				continue
			}
			for i := range got {
				if got[i].Digest != exp[i].Digest {
					t.Errorf("%s %s message %d: digest differs from the server's", s.Path(), d, i)
				}
			}
		}
	}
	if len(seen) != len(wantTunnel) {
		t.Errorf("connections found in the underlay capture: %v, want %d", seen, len(wantTunnel))
	}
	unused := map[string]int{}
	for _, u := range under.Unused {
		unused[u.Reason] += u.Packets
	}
	// Discovery is PADI, PADO, PADR, PADS, with a PADI repeated when the concentrator was slow.
	for _, r := range []string{"ethertype 0x8863 (PPPoEDiscovery)", "ppp protocol 0xc021 inside 1 encapsulation(s)",
		"ppp protocol 0x8057 inside 1 encapsulation(s)"} {
		if unused[r] < 4 {
			t.Errorf("unused %q: %d packets, want at least 4 (%v)", r, unused[r], under.Unused)
		}
	}
	if unused["pptp acknowledgment inside 1 encapsulation(s)"] == 0 {
		t.Errorf("no PPTP acknowledgment alone among the unused packets: %v", under.Unused)
	}
}

// TestRead_TunnelPortNotNamed: the VXLAN on UDP 9999 of capture/encap/testdata/tun, read without
// its port named, is never guessed: its connection is not there, and the unused packets say
// what they look like and how to have them decoded.
func TestRead_TunnelPortNotNamed(t *testing.T) {
	c, err := Read([]string{filepath.Join("encap", "testdata", "tun", "underlay.pcap")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Sessions {
		if s.Path() == "/vxlan9999" {
			t.Errorf("the VXLAN on an unnamed port was decoded: %s", s.Tunnel())
		}
	}
	if len(c.Sessions) != 6 {
		t.Errorf("%d sessions, want the 6 of the other tunnels", len(c.Sessions))
	}
	hinted := 0
	for _, u := range c.Unused {
		if u.Reason == "udp port 9999 (looks like VXLAN: name the port with vxlan_port to decode it)" {
			hinted += u.Packets
		}
	}
	if hinted < 40 {
		t.Errorf("%d packets on udp 9999 said to look like VXLAN, want every one (%v)", hinted, c.Unused)
	}
}
