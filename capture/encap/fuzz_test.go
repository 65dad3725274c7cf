package encap

import (
	"errors"
	"testing"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// FuzzDecode feeds arbitrary packets, seeded with every synthetic tunnel and fragment: Decode
// must never panic, return only its documented errors, give a payload inside what it was given
// (or its reassembly buffer), and keep memory bounded across packets.
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
