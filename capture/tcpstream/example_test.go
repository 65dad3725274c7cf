package tcpstream_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpstream"
)

// printer prints what the Assembler delivers.
type printer struct{}

func (printer) Data(d tcpstream.Dir, b []byte, off uint64, m packet.Meta) {
	fmt.Printf("%s data at %d: %q (packet %d)\n", d, off, b, m.Number)
}
func (printer) Gap(d tcpstream.Dir, off, n uint64, r tcpstream.GapReason, m packet.Meta) {
	fmt.Printf("%s gap at %d, %d bytes: %s\n", d, off, n, r)
}
func (printer) Fin(d tcpstream.Dir, m packet.Meta)   { fmt.Printf("%s FIN\n", d) }
func (printer) Reset(d tcpstream.Dir, m packet.Meta) { fmt.Printf("%s RST\n", d) }
func (printer) Close(st [2]tcpstream.Stats) {
	fmt.Printf("closed: %d bytes A->B, %d gap(s)\n", st[tcpstream.FromA].Bytes, len(st[tcpstream.FromA].Gaps))
}

func Example() {
	client := netip.MustParseAddrPort("192.0.2.1:50000")
	server := netip.MustParseAddrPort("192.0.2.2:80")
	a := tcpstream.NewAssembler(tcpstream.Config{}, func(ci tcpstream.ConnInfo) tcpstream.Stream {
		fmt.Printf("new connection %s -> %s, handshake seen: %v\n", ci.A, ci.B, ci.SYN)
		return printer{}
	})
	t := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	segs := []tcpstream.Segment{
		{Src: client, Dst: server, Seq: 1000, Flags: tcpstream.SYN},
		{Src: client, Dst: server, Seq: 1006, Flags: tcpstream.ACK, Payload: []byte("world")}, // early
		{Src: client, Dst: server, Seq: 1001, Flags: tcpstream.ACK, Payload: []byte("hello")},
		{Src: client, Dst: server, Seq: 1011, Flags: tcpstream.ACK, Payload: []byte("!!"), PayloadLength: 40}, // cut
	}
	for i := range segs {
		a.Add(&segs[i], packet.Meta{Time: t, File: "hop.pcap", Number: i + 1})
	}
	a.Flush()
	// Output:
	// new connection 192.0.2.1:50000 -> 192.0.2.2:80, handshake seen: true
	// A->B data at 0: "hello" (packet 3)
	// A->B data at 5: "world" (packet 2)
	// A->B data at 10: "!!" (packet 4)
	// A->B gap at 12, 38 bytes: snaplen
	// closed: 12 bytes A->B, 1 gap(s)
}
