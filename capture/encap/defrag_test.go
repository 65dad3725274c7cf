package encap

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// bigTCP returns an IPv4 or IPv6 TCP packet with n payload bytes.
func bigTCP(t testing.TB, v6 bool, n int) []byte {
	p := bytes.Repeat([]byte("0123456789"), n/10+1)[:n]
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1, ACK: true, Window: 512}
	if v6 {
		ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: innerSrc6, DstIP: innerDst6}
		tcp.SetNetworkLayerForChecksum(ip)
		return serializeOpts(t, checksums, ip, tcp, gopacket.Payload(p))
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: innerSrc4, DstIP: innerDst4, Id: 77}
	tcp.SetNetworkLayerForChecksum(ip)
	return serializeOpts(t, checksums, ip, tcp, gopacket.Payload(p))
}

// fragments4 splits an IPv4 packet into raw IPv4 fragments of at most size payload bytes
// (a multiple of 8).
func fragments4(pkt []byte, size int) [][]byte {
	hdr, body := pkt[:20], pkt[20:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		f := append(append([]byte(nil), hdr...), body[off:end]...)
		f[2], f[3] = byte(len(f)>>8), byte(len(f))
		v := off / 8
		if end < len(body) {
			v |= 0x2000
		}
		f[6], f[7] = byte(v>>8), byte(v)
		out = append(out, f)
	}
	return out
}

// fragments6 splits an IPv6 packet (no extension headers) into fragments with a fragment header.
func fragments6(pkt []byte, size int) [][]byte {
	hdr, body := pkt[:40], pkt[40:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		fh := []byte{hdr[6], 0, 0, 0, 0, 0, 0x12, 0x34}
		v := off
		if end < len(body) {
			v |= 1
		}
		fh[2], fh[3] = byte(v>>8), byte(v)
		f := append(append(append([]byte(nil), hdr...), fh...), body[off:end]...)
		f[6] = 44
		n := len(f) - 40
		f[4], f[5] = byte(n>>8), byte(n)
		out = append(out, f)
	}
	return out
}

func TestDecode_Fragments(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		pkt := bigTCP(t, v6, 3000)
		var frags [][]byte
		if v6 {
			frags = fragments6(pkt, 1232)
		} else {
			frags = fragments4(pkt, 1200)
		}
		// Out of order, with a duplicate of the middle one.
		order := []int{2, 0, 1, 1}
		d := NewDecoder(Config{})
		var seg tcpdecode.Segment
		var err error
		for i, k := range order {
			err = d.Decode(pcapfile.LinkRaw, frags[k], t0.Add(time.Duration(i)*time.Millisecond), &seg)
			if i < 2 && !errors.Is(err, ErrHeld) {
				t.Fatalf("v6 %v: fragment %d: %v, want ErrHeld", v6, k, err)
			}
			if i == 2 {
				break
			}
		}
		if err != nil {
			t.Fatalf("v6 %v: %v (%s)", v6, err, d.Reason())
		}
		if seg.PayloadLength != 3000 || len(seg.Payload) != 3000 || seg.Src.Port() != 40000 || !bytes.HasPrefix(seg.Payload, []byte("0123456789")) {
			t.Errorf("v6 %v: reassembled %v -> %v, %d bytes", v6, seg.Src, seg.Dst, seg.PayloadLength)
		}
		ft := d.FragmentTotals()
		if ft.Fragments != 3 || ft.Reassembled != 1 || ft.Lost != 0 {
			t.Errorf("v6 %v: totals %+v", v6, ft)
		}
	}
}

// TestDecode_FragmentsPerView: a router captured on two interfaces has every fragment twice,
// one copy per view (Segment.Iface, set before Decode): each view reassembles its own datagram,
// in whatever order the capture interleaves the copies, and neither steals the other's fragments.
func TestDecode_FragmentsPerView(t *testing.T) {
	frags := fragments4(bigTCP(t, false, 3000), 1200)
	for _, tt := range []struct {
		name  string
		order [][2]int // fragment, view
	}{
		{"interleaved", [][2]int{{0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 1}, {2, 2}}},
		{"second_view_late", [][2]int{{0, 1}, {1, 1}, {0, 2}, {2, 1}, {1, 2}, {2, 2}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			var done []uint32
			for i, fv := range tt.order {
				seg := tcpdecode.Segment{Iface: uint32(fv[1])}
				err := d.Decode(pcapfile.LinkRaw, frags[fv[0]], t0.Add(time.Duration(i)*time.Millisecond), &seg)
				switch {
				case errors.Is(err, ErrHeld):
				case err != nil:
					t.Fatalf("fragment %d of view %d: %v (%s)", fv[0], fv[1], err, d.Reason())
				default:
					if seg.PayloadLength != 3000 || seg.Iface != uint32(fv[1]) {
						t.Errorf("view %d: %d bytes, view %d", fv[1], seg.PayloadLength, seg.Iface)
					}
					done = append(done, seg.Iface)
				}
			}
			if ft := d.FragmentTotals(); len(done) != 2 || ft.Reassembled != 2 || ft.Lost != 0 || ft.Overlaps != 0 {
				t.Errorf("datagrams of views %v, totals %+v; want one whole datagram per view", done, ft)
			}
		})
	}
}

func TestDecode_FragmentOverlapAndLoss(t *testing.T) {
	frags := fragments4(bigTCP(t, false, 3000), 1200)
	d := NewDecoder(Config{})
	var seg tcpdecode.Segment
	if err := d.Decode(pcapfile.LinkRaw, frags[0], t0, &seg); !errors.Is(err, ErrHeld) {
		t.Fatal(err)
	}
	evil := append([]byte(nil), frags[0]...)
	evil[60] ^= 0xff
	if err := d.Decode(pcapfile.LinkRaw, evil, t0, &seg); !errors.Is(err, ErrFragments) {
		t.Fatalf("overlap with different bytes: %v", err)
	}
	if err := d.Decode(pcapfile.LinkRaw, frags[1], t0, &seg); !errors.Is(err, ErrHeld) {
		t.Fatal(err)
	}
	// The timeout passes: the datagram of frags[1] is lost.
	if err := d.Decode(pcapfile.LinkRaw, innerTCP(t, false), t0.Add(time.Minute), &seg); err != nil {
		t.Fatal(err)
	}
	ft := d.FragmentTotals()
	if ft.Overlaps != 1 || ft.Lost != 3 || ft.Reassembled != 0 {
		t.Errorf("totals %+v, want 1 overlap and 3 lost", ft)
	}
}

func TestDecode_FragmentMemoryBound(t *testing.T) {
	d := NewDecoder(Config{MaxFragmentBytes: 64 << 10})
	var seg tcpdecode.Segment
	pkt := bigTCP(t, false, 3000)
	for i := range 1000 {
		f := fragments4(pkt, 1200)[0]
		f[4], f[5] = byte(i>>8), byte(i) // a new datagram each time, never completed
		d.Decode(pcapfile.LinkRaw, f, t0, &seg)
		if d.frag.held > 64<<10 {
			t.Fatalf("after %d datagrams %d bytes held", i+1, d.frag.held)
		}
	}
	if ft := d.FragmentTotals(); ft.Lost != 1000 {
		t.Errorf("lost %d, want 1000", ft.Lost)
	}
}

func TestDecode_FragmentedOuterVXLAN(t *testing.T) {
	outer := ip4(t, outerA4, outerB4, layers.IPProtocolUDP, vxlan(t, 4789, 42, innerFrame(t, false, 0)))
	outer[4], outer[5] = 0, 9
	frags := fragments4(outer, 32)
	d := NewDecoder(Config{})
	var seg tcpdecode.Segment
	var err error
	for _, f := range frags {
		err = d.Decode(pcapfile.LinkRaw, f, t0, &seg)
	}
	if err != nil || string(seg.Payload) != "hello" || d.Tunnel(seg.Tunnel) != "vxlan vni 42 192.0.2.1<->192.0.2.2" {
		t.Fatalf("err %v, payload %q, tunnel %q", err, seg.Payload, d.Tunnel(seg.Tunnel))
	}
}
