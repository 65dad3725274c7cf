package encap

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// FuzzDecode feeds arbitrary packets, seeded with every synthetic tunnel and fragment and with the
// real tunnelled packets of testdata/ovs, testdata/tun and the lab cases captured on a tunnel's
// underlay (examples/vxlan-c2s-drop, ipip-c2s-drop, ...): Decode must never panic, return only
// its documented errors, give a payload inside what it was given (or its reassembly buffer), and
// keep memory bounded across packets.
func FuzzDecode(f *testing.F) {
	for _, tc := range tunnelCases(f) {
		f.Add(uint16(pcapfile.LinkEthernet), tc.data)
	}
	for _, fr := range fragments4(bigTCP(f, false, 100), 40) {
		f.Add(uint16(pcapfile.LinkRaw), fr)
	}
	for _, fr := range fragments6(bigTCP(f, true, 100), 40) {
		f.Add(uint16(pcapfile.LinkRaw), fr)
	}
	real := []string{"testdata/ovs/collector.pcap", "testdata/tun/underlay.pcap"}
	for _, c := range []string{"vxlan-c2s-drop", "ipip-c2s-drop", "gre-s2c-drop", "ip4ip6-c2s-drop", "mpls-s2c-drop", "mplspw-c2s-drop", "pppoe-s2c-drop", "erspan-c2s-drop", "geneve-s2c-drop", "erspan3-s2c-drop", "gretap-c2s-drop"} {
		real = append(real, "../../examples/"+c+"/ingress.pcap")
	}
	for _, p := range real {
		for _, pkt := range realSeeds(f, p) {
			f.Add(uint16(pkt.LinkType), pkt.Data)
		}
	}
	d := NewDecoder(Config{MaxFragmentBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var seg tcpdecode.Segment
		err := d.Decode(pcapfile.LinkType(lt), data, t0, &seg)
		if err != nil {
			for _, e := range []error{ErrHeld, ErrUnknownTunnel, ErrFragments, tcpdecode.ErrNotTCP, tcpdecode.ErrTruncated,
				tcpdecode.ErrMalformed, tcpdecode.ErrUnknownLinkType} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		if len(seg.Payload) > seg.PayloadLength || seg.PayloadLength > 65535 {
			t.Fatalf("payload %d bytes, length %d", len(seg.Payload), seg.PayloadLength)
		}
		if d.frag.held > 1<<20+65535 {
			t.Fatalf("%d fragment bytes held", d.frag.held)
		}
	})
}

// realSeeds returns packets of a real capture, two of each shape (the tunnels they came through,
// how decoding ended, with or without payload) and the first eight fragments, in capture order so
// that a datagram's fragments stay together: hundreds of copies of one shape would only slow the
// fuzzer.
func realSeeds(tb testing.TB, path string) []pcapfile.Packet {
	r, err := pcapfile.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	d := NewDecoder(Config{})
	shapes := map[string]int{}
	frags := 0
	var out []pcapfile.Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		var seg tcpdecode.Segment
		before := d.FragmentsSeen()
		err = d.Decode(p.LinkType, p.Data, p.Time, &seg)
		shape := fmt.Sprint(p.LinkType, d.Reason().Kind, len(seg.Payload) > 0, d.depth)
		for _, l := range d.levels[:d.nlevels] {
			shape += " " + l.kind.String()
		}
		keep := shapes[shape] < 2
		if d.FragmentsSeen() > before {
			keep = frags < 8
			frags++
		} else if errors.Is(err, ErrHeld) {
			tb.Fatalf("%s: packet %d held but not counted as a fragment", path, p.Number)
		}
		if keep {
			shapes[shape]++
			p.Data = append([]byte(nil), p.Data...)
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no packets", path)
	}
	return out
}
