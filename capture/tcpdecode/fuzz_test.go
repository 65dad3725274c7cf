package tcpdecode

import (
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/wspath/wspath/capture/internal/packetbuild"
	"github.com/wspath/wspath/capture/pcapfile"
)

// FuzzDecode decodes arbitrary bytes under an arbitrary link type: it must never panic, must
// return one of the package's errors, and on success the payload must lie inside the packet.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"lo.pcap", "any-sll2.pcap", "any-sll.pcap", "lo-snap96.pcap"} {
		r, err := pcapfile.Open(filepath.Join("..", "pcapfile", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		for i := 0; i < 8; i++ {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint16(p.LinkType), append([]byte(nil), p.Data...))
		}
		r.Close()
	}
	tcp := packetbuild.TCP(1, 2, 3, 4, byte(SYN), 5, 1, 3, 3, 7)
	f.Add(uint16(pcapfile.LinkEthernet), packetbuild.Ethernet(0x86dd, packetbuild.IPv6(0, v6a, v6b, packetbuild.Cat(packetbuild.IPv6Ext(44, 1), packetbuild.IPv6Fragment(6, 0, true), tcp)), packetbuild.VLANTag{TPID: 0x88a8, ID: 100}, packetbuild.VLANTag{TPID: 0x8100, ID: 100}))
	f.Add(uint16(pcapfile.LinkNull), packetbuild.Null(binary.BigEndian, 30, packetbuild.IPv4(6, v4a, v4b, tcp, 1, 1, 1, 1)))
	f.Add(uint16(pcapfile.LinkLinuxSLL2), packetbuild.SLL2(0x0800, packetbuild.IPv4(6, v4a, v4b, tcp)))
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var seg Segment
		err := Decode(pcapfile.LinkType(lt), data, &seg)
		if err != nil {
			if !errors.Is(err, ErrNotTCP) && !errors.Is(err, ErrFragment) && !errors.Is(err, ErrUnknownLinkType) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(seg.Payload) > seg.PayloadLength || seg.PayloadLength < 0 {
			t.Fatalf("payload %d bytes, length %d", len(seg.Payload), seg.PayloadLength)
		}
		if len(seg.Payload) > len(data) || (len(seg.Payload) > 0 && cap(seg.Payload) > cap(data)) {
			t.Fatalf("payload of %d bytes is not inside the packet of %d", len(seg.Payload), len(data))
		}
		if seg.WindowScale < -1 || seg.WindowScale > 14 || (seg.WindowScale >= 0 && !seg.Flags.Has(SYN)) {
			t.Fatalf("window scale %d with flags %v", seg.WindowScale, seg.Flags)
		}
	})
}
