package capture

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wspath/wspath/capture/pcapfile"
)

// toSLL1 rewrites a Linux cooked v2 capture (tcpdump -i any) as tcpdump before 4.99 wrote it,
// Linux cooked v1, which records no interface; leaving packets (PACKET_OUTGOING) are delayed by
// lag, as a busy host may capture a forwarded segment's second copy.
func toSLL1(t *testing.T, src, dst string, lag time.Duration) {
	t.Helper()
	r, err := pcapfile.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeLinuxSLL); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.LinkType != pcapfile.LinkLinuxSLL2 || len(p.Data) < 20 {
			t.Fatalf("%s: packet %d is not SLL2", src, p.Number)
		}
		h := p.Data
		// v2: protocol, reserved, ifindex, hatype, pkttype, addrlen, addr[8]; v1: pkttype,
		// hatype, addrlen, addr[8], protocol.
		v1 := append([]byte{0, h[10], h[8], h[9], 0, h[11]}, h[12:20]...)
		v1 = append(append(v1, h[0], h[1]), h[20:]...)
		ts := p.Time
		if h[10] == 4 {
			ts = ts.Add(lag)
		}
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(v1), Length: p.Length - 4}
		if err := w.WritePacket(ci, v1); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestRead_ForwardedSLL1: in Linux cooked v1 a host that forwards a connection is still told
// from one that ends it, by the packet type: a forwarded connection's packets in one direction
// both arrive and leave, an endpoint's arrive one way and leave the other. The real captures
// are the fwany-s2c-drop router's (tcpdump -i any on the fw) and the c2s-drop server's (tcpdump
// -i any on the server), rewritten as v1. Telling does not hang on the copies being captured
// together: delayed past the capture-copy window, they count as retransmissions, not copies, and
// the connection is still forwarded.
func TestRead_ForwardedSLL1(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, src string
		lag       time.Duration
		forwarded bool
		copies    bool
	}{
		{"router", "fwany-s2c-drop/fw.pcap", 0, true, true},
		{"router_copies_apart", "fwany-s2c-drop/fw.pcap", time.Millisecond, true, false},
		{"endpoint", "c2s-drop/server.pcap", 0, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".pcap")
			toSLL1(t, filepath.Join("..", "examples", filepath.FromSlash(tt.src)), path, tt.lag)
			c, err := Read([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Sessions) != 3 {
				t.Fatalf("%d sessions, want 3 (v1 has no interface: one view each)", len(c.Sessions))
			}
			for _, s := range c.Sessions {
				copies := s.TCP[0].CaptureCopies()+s.TCP[1].CaptureCopies() > 0
				if s.Forwarded() != tt.forwarded || copies != tt.copies || s.Interface() != "" {
					t.Errorf("%s: forwarded %v, copies %v, interface %q; want %v, %v, none", s.Key(), s.Forwarded(), copies, s.Interface(), tt.forwarded, tt.copies)
				}
			}
		})
	}
}
