package capture

import (
	"encoding/binary"
	"path/filepath"
	"sort"
	"strings"
	"testing"
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
		got[ss.Tunnel] = len(ss.Messages[ClientToServer])
	}
	if got["vxlan vni 1 192.0.2.1<->192.0.2.2"] != 3 || got["vxlan vni 2 192.0.2.1<->192.0.2.2"] != 2 {
		t.Errorf("messages per tunnel %v", got)
	}
	if c.Stats.Tunneled != c.Stats.TCP || c.Stats.TCP == 0 || len(c.Unused) != 0 {
		t.Errorf("stats %+v, unused %v", c.Stats, c.Unused)
	}
}

// TestRead_MostlyUnusableWarns: a file that is mostly an encapsulation wspath does not decode
// (PPTP's enhanced GRE) says so per file, by reason, and warns.
func TestRead_MostlyUnusableWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pptp.pcap")
	s := newSynth(t, path)
	s.wrap = func(f []byte) []byte {
		b := []byte{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00}
		n := 20 + 16 + len(f) - 14
		b = append(b, 0x45, 0, byte(n>>8), byte(n), 0, 0, 0, 0, 64, 47, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2)
		b = append(b, 0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1) // GRE v1, PPP
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
	if len(f.Unused) != 1 || f.Unused[0].Kind != "unknown_tunnel" || f.Unused[0].Reason != "gre version 1" {
		t.Errorf("unused %+v", f.Unused)
	}
	if f.Stats.UnknownTunnel != 11 || f.Stats.TCP != 2 || cp.Stats.UnknownTunnel != 11 {
		t.Errorf("file stats %+v, capture %+v", f.Stats, cp.Stats)
	}
	warned := false
	for _, w := range cp.Warnings {
		warned = warned || strings.Contains(w.String(), "11 of its 13 packets (84%) could not be used: 11 unknown tunnel (gre version 1)")
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
		tunnels = append(tunnels, s.Tunnel)
		if s.Key() != want.Key() || s.Client != want.Client {
			t.Errorf("%s: session %v %s, server saw %v %s", s.Tunnel, s.Client, s.Key(), want.Client, want.Key())
		}
		for _, d := range Directions {
			got, exp := s.Messages[d], want.Messages[d]
			data := 0
			for _, m := range got {
				if m.Opcode.IsData() {
					data++
				}
			}
			if data != 10 || len(got) != len(exp) {
				t.Errorf("%s %s: %d messages, server %d", s.Tunnel, d, len(got), len(exp))
				continue
			}
			for i := range got {
				if got[i].Digest != exp[i].Digest {
					t.Errorf("%s %s message %d: digest differs from the server's", s.Tunnel, d, i)
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
