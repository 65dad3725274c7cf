package tcpstream

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/wspath/wspath/capture/packet"
)

// nopStream discards everything.
type nopStream struct{}

func (nopStream) Data(Dir, []byte, uint64, packet.Meta)           {}
func (nopStream) Gap(Dir, uint64, uint64, GapReason, packet.Meta) {}
func (nopStream) Fin(Dir, packet.Meta)                            {}
func (nopStream) Reset(Dir, packet.Meta)                          {}
func (nopStream) Close([2]Stats)                                  {}

// benchSegments builds conns connections of perConn data segments of size bytes each, interleaved,
// client to server, after a handshake. Every reorder-th segment of a connection is swapped with the
// next one (0: in order).
func benchSegments(conns, perConn, size, reorder int) ([]Segment, int64) {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	srvAP := netip.MustParseAddrPort("10.1.0.1:443")
	var segs []Segment
	per := make([][]Segment, conns)
	for c := range conns {
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(c >> 8), byte(c)}), uint16(30000+c))
		isn := uint32(c) * 7919 * 65536
		s := []Segment{
			{Src: cl, Dst: srvAP, Seq: isn, Flags: SYN, Window: 65535},
			{Src: srvAP, Dst: cl, Seq: 1, Ack: isn + 1, Flags: SYN | ACK, Window: 65535},
		}
		for k := range perConn {
			s = append(s, Segment{Src: cl, Dst: srvAP, Seq: isn + 1 + uint32(k*size), Ack: 2, Flags: ACK | PSH,
				Window: 512, Payload: payload, PayloadLength: size})
		}
		if reorder > 0 {
			for k := 2 + reorder - 1; k+1 < len(s); k += reorder {
				s[k], s[k+1] = s[k+1], s[k]
			}
		}
		per[c] = s
	}
	for k := range perConn + 2 {
		for c := range conns {
			segs = append(segs, per[c][k])
		}
	}
	return segs, int64(conns * perConn * size)
}

func benchAssembler(b *testing.B, reorder int) {
	segs, total := benchSegments(1000, 100, 1400, reorder)
	b.ReportAllocs()
	b.SetBytes(total)
	for b.Loop() {
		a := NewAssembler(Config{}, func(ConnInfo) Stream { return nopStream{} })
		for i := range segs {
			a.Add(&segs[i], packet.Meta{Time: t0.Add(time.Duration(i) * time.Microsecond), File: "b", Number: i + 1})
		}
		a.Flush()
	}
}

func BenchmarkAssemblerInOrder(b *testing.B) { benchAssembler(b, 0) }

func BenchmarkAssemblerReorder10(b *testing.B) { benchAssembler(b, 10) }

// BenchmarkAssemblerACKed has the server ACK every data segment at once, as on a LAN: segments of
// one connection come in runs of two.
func BenchmarkAssemblerACKed(b *testing.B) {
	data, total := benchSegments(1000, 100, 1400, 0)
	segs := make([]Segment, 0, 2*len(data))
	for _, s := range data {
		segs = append(segs, s)
		if len(s.Payload) > 0 {
			segs = append(segs, Segment{Src: s.Dst, Dst: s.Src, Seq: s.Ack, Ack: s.Seq + uint32(len(s.Payload)),
				Flags: ACK, Window: 65535})
		}
	}
	b.ReportAllocs()
	b.SetBytes(total)
	for b.Loop() {
		a := NewAssembler(Config{}, func(ConnInfo) Stream { return nopStream{} })
		for i := range segs {
			a.Add(&segs[i], packet.Meta{Time: t0.Add(time.Duration(i) * time.Microsecond), File: "b", Number: i + 1})
		}
		a.Flush()
	}
}

func TestAssembler_InOrderDoesNotAllocate(t *testing.T) {
	segs, _ := benchSegments(1, 1, 1400, 0)
	a := NewAssembler(Config{}, func(ConnInfo) Stream { return nopStream{} })
	for i := range segs {
		a.Add(&segs[i], packet.Meta{Time: t0})
	}
	seg := segs[len(segs)-1]
	n := 0
	allocs := testing.AllocsPerRun(1000, func() {
		seg.Seq += 1400
		n++
		a.Add(&seg, packet.Meta{Time: t0.Add(time.Duration(n) * time.Millisecond), File: "x", Number: n})
	})
	if allocs != 0 {
		t.Errorf("%v allocations per in-order segment", allocs)
	}
}

func TestAssembler_SYNFloodStaysSmall(t *testing.T) {
	const n = 100_000
	for _, tc := range []struct {
		name   string
		stream func(ConnInfo) Stream
	}{
		{"Ignored", func(ConnInfo) Stream { return nil }},
		{"Tracked", func(ConnInfo) Stream { return nopStream{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAssembler(Config{}, tc.stream)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			dst := netip.MustParseAddrPort("10.1.0.1:443")
			for i := range n {
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 3, byte(i >> 16), byte(i >> 8)}), uint16(i))
				a.Add(&Segment{Src: src, Dst: dst, Seq: uint32(i), Flags: SYN, Window: 1000}, packet.Meta{Time: t0})
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := float64(after.HeapAlloc-before.HeapAlloc) / n
			t.Logf("%.0f bytes per half-open connection", per)
			if per > 700 {
				t.Errorf("%.0f bytes per half-open connection", per)
			}
			if len(a.conns) != n {
				t.Errorf("%d connections", len(a.conns))
			}
			runtime.KeepAlive(a)
		})
	}
}

func TestAssembler_MaxConnectionsEvictsLeastRecent(t *testing.T) {
	h := newHarness(Config{MaxConnections: 2})
	h.run([]step{
		{from: 0, flags: SYN, seq: 1},
		{from: 0, flags: SYN, seq: 1, other: true},
		{from: 0, flags: ACK, seq: 2, data: "a"}, // the first connection is now the most recent
	})
	third := Segment{Src: netip.MustParseAddrPort("10.9.9.9:1"), Dst: srv, Seq: 5, Flags: SYN}
	h.a.Add(&third, packet.Meta{Time: t0, Number: 4})
	want := []string{"open 10.0.0.1:40000->10.0.0.2:80 syn #1", "open 10.0.0.1:40001->10.0.0.2:80 syn #2",
		"D0 @0 a", "C", "open 10.9.9.9:1->10.0.0.2:80 syn #4"}
	if got := h.log; len(got) != len(want) || got[3] != "C" || got[4] != want[4] {
		t.Fatalf("got %q", got)
	}
	if tot := h.a.Totals(); tot.Evicted != 1 || tot.Connections != 3 {
		t.Errorf("totals %+v", tot)
	}
	h.a.Flush()
	if len(h.stats) != 3 || h.stats[0][0].Packets != 1 { // the evicted one was the second: SYN only
		t.Errorf("stats %+v", h.stats)
	}
}

func TestAssembler_FlushOrder(t *testing.T) {
	var order []uint16
	a := NewAssembler(Config{}, func(ci ConnInfo) Stream { return &closeOrder{port: ci.A.Port(), order: &order} })
	for _, p := range []uint16{5, 3, 9, 1, 7} {
		a.Add(&Segment{Src: netip.AddrPortFrom(cli.Addr(), p), Dst: srv, Flags: SYN}, packet.Meta{Time: t0})
	}
	a.Flush()
	if want := []uint16{5, 3, 9, 1, 7}; !equalU16(order, want) {
		t.Errorf("closed in order %v, want %v", order, want)
	}
}

type closeOrder struct {
	nopStream
	port  uint16
	order *[]uint16
}

func (c *closeOrder) Close([2]Stats) { *c.order = append(*c.order, c.port) }

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConn_AsConnInfo checks that a Stream's handle gives back ConnInfo's endpoints, handshake and
// tunnel: IPv4, IPv6, an IPv4-mapped IPv6 address (a different netip.Addr than the IPv4 one, though
// the key holds both alike), a SYN-ACK seen first, and a connection picked up mid-stream.
func TestConn_AsConnInfo(t *testing.T) {
	v4a, v4b := netip.MustParseAddrPort("10.0.0.9:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	v6a, v6b := netip.MustParseAddrPort("[2001:db8::9]:40000"), netip.MustParseAddrPort("[2001:db8::2]:80")
	mapA, mapB := netip.MustParseAddrPort("[::ffff:10.0.0.9]:40000"), netip.MustParseAddrPort("[::ffff:10.0.0.2]:80")
	for _, tc := range []struct {
		name     string
		src, dst netip.AddrPort
		flags    Flags
		tunnel   uint32
	}{
		{"v4 SYN", v4a, v4b, SYN, 0},
		{"v4 SYN, lower first", v4b, v4a, SYN, 7},
		{"v4 SYN-ACK first", v4b, v4a, SYN | ACK, 0},
		{"v4 mid-stream", v4a, v4b, ACK, 0},
		{"v6 SYN", v6a, v6b, SYN, 3},
		{"v6 SYN-ACK first", v6b, v6a, SYN | ACK, 0},
		{"v4-mapped v6", mapA, mapB, SYN, 0},
		{"v4-mapped v6 SYN-ACK", mapB, mapA, SYN | ACK, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var infos []ConnInfo
			a := NewAssembler(Config{}, func(ci ConnInfo) Stream { infos = append(infos, ci); return nopStream{} })
			a.Add(&Segment{Src: tc.src, Dst: tc.dst, Flags: tc.flags, Tunnel: tc.tunnel, Payload: []byte("x")}, packet.Meta{Time: t0})
			if len(infos) != 1 {
				t.Fatalf("%d connections opened", len(infos))
			}
			ci := infos[0]
			a.Flush() // the handle stays valid after Close
			h := ci.Conn
			if h.A() != ci.A || h.B() != ci.B || h.SYN() != ci.SYN || h.Tunnel() != ci.Tunnel {
				t.Errorf("handle %v %v %v %d, ConnInfo %v %v %v %d", h.A(), h.B(), h.SYN(), h.Tunnel(), ci.A, ci.B, ci.SYN, ci.Tunnel)
			}
		})
	}
}

// TestConn_Size keeps the per-connection state of a flood's waiting connection within its size
// class: 100k connections waiting for an answer hold one each.
func TestConn_Size(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 288 {
		t.Errorf("conn is %d bytes, want at most 288", n)
	}
}
