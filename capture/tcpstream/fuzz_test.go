package tcpstream

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wspath/wspath/capture/packet"
)

// checker is a Stream that verifies the delivery invariants: per direction, Data and Gap cover the
// stream contiguously without overlap, bytes are the ones sent at their offsets, nothing follows
// Fin in that direction or Close at all.
type checker struct {
	t      *testing.T
	id     string
	next   [2]uint64
	base   [2]byte
	seen   [2]bool
	fin    [2]bool
	closed *int
	done   bool
}

func (c *checker) fail(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("%s: "+format, append([]any{c.id}, args...)...)
}

func (c *checker) Data(d Dir, b []byte, off uint64, m packet.Meta) {
	if c.done || c.fin[d] || d > 1 {
		c.fail("Data after end")
	}
	if len(b) == 0 || off != c.next[d] {
		c.fail("Data %d bytes at %d, want at %d", len(b), off, c.next[d])
	}
	if !c.seen[d] {
		c.base[d], c.seen[d] = b[0]-byte(off), true
	}
	for i, x := range b {
		if x != c.base[d]+byte(off)+byte(i) {
			c.fail("byte at %d is %d, want %d", off+uint64(i), x, c.base[d]+byte(off)+byte(i))
		}
	}
	c.next[d] += uint64(len(b))
}

func (c *checker) Gap(d Dir, off, n uint64, r GapReason, m packet.Meta) {
	if c.done || c.fin[d] || d > 1 || r > GapBufferLimit {
		c.fail("bad Gap")
	}
	if n == 0 || off != c.next[d] {
		c.fail("Gap %d bytes at %d, want at %d", n, off, c.next[d])
	}
	c.next[d] += n
}

func (c *checker) Fin(d Dir, m packet.Meta) {
	if c.done || c.fin[d] {
		c.fail("second Fin")
	}
	c.fin[d] = true
}

func (c *checker) Reset(d Dir, m packet.Meta) {
	if c.done {
		c.fail("Reset after Close")
	}
}

func (c *checker) Close(st [2]Stats) {
	if c.done {
		c.fail("second Close")
	}
	c.done = true
	*c.closed++
	for d := range st {
		if st[d].Bytes > c.next[d] {
			c.fail("Bytes %d past the stream end %d", st[d].Bytes, c.next[d])
		}
	}
}

// fuzzSegments decodes 8 bytes per segment into segments of up to 4 connections; payload bytes are
// byte(seq) so that a checker can verify them.
func fuzzSegments(data []byte, emit func(*Segment, packet.Meta)) {
	var cursor [4][2]uint32
	for c := range cursor {
		cursor[c] = [2]uint32{0xFFFFFF00 + uint32(c)*0x40, 1000 * uint32(c+1)}
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var payload [64]byte
	for n := 1; len(data) >= 8; n++ {
		b := data[:8]
		data = data[8:]
		flags := Flags(b[0]) &^ RST
		if b[0]&0xF0 == 0xF0 {
			flags |= RST
		}
		d := int(b[1] & 1)
		ci := int(b[1]>>1) & 3
		seq := cursor[ci][d] + uint32(int32(int16(binary.BigEndian.Uint16(b[2:]))))
		length := int(b[4] & 63)
		ack := cursor[ci][d^1] + uint32(int32(int8(b[5])))*16
		cut := 0
		if b[1]&0x10 != 0 {
			cut = int(b[6] & 15)
		}
		now = now.Add(time.Duration(b[7]) * 100 * time.Millisecond)
		start := seq
		if flags&SYN != 0 {
			start++
		}
		for i := range length {
			payload[i] = byte(start + uint32(i))
		}
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(40000+ci))
		server := netip.MustParseAddrPort("[2001:db8::2]:443")
		if ci == 3 {
			server = netip.MustParseAddrPort("10.0.0.2:80")
		}
		seg := Segment{Src: client, Dst: server, Seq: seq, Ack: ack, Flags: flags, Window: uint16(b[6]),
			WindowScale: -1, Payload: payload[:max(length-cut, 0)], PayloadLength: length}
		if d == 1 {
			seg.Src, seg.Dst = server, client
		}
		if b[1]&0x20 != 0 { // advance the cursor, mostly in order
			cursor[ci][d] = start + uint32(length)
		}
		emit(&seg, packet.Meta{Time: now, File: "fuzz", Number: n})
	}
}

func runFuzz(t *testing.T, cfg Config, data []byte) {
	closed, opened := 0, 0
	var streams []*checker
	a := NewAssembler(cfg, func(ci ConnInfo) Stream {
		opened++
		if ci.A == ci.B {
			t.Fatalf("A == B")
		}
		if opened%5 == 4 {
			return nil // an ignored connection
		}
		c := &checker{t: t, id: fmt.Sprintf("conn %d", opened), closed: &closed}
		streams = append(streams, c)
		return c
	})
	fuzzSegments(data, func(s *Segment, m packet.Meta) {
		a.Add(s, m)
		if a.totals.Buffered < 0 || a.totals.Buffered > cfg.withDefaults().MaxTotalBuffer {
			t.Fatalf("buffered %d", a.totals.Buffered)
		}
	})
	a.Flush()
	if closed != len(streams) {
		t.Fatalf("%d streams, %d closed", len(streams), closed)
	}
	if tot := a.Totals(); tot.Buffered != 0 || len(a.conns) != 0 || tot.Connections != opened {
		t.Fatalf("after Flush: %+v, %d conns", tot, len(a.conns))
	}
}

func FuzzAssembler(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	for _, name := range []string{"loss.pcap", "reorder.pcap", "capturedrop.pcap", "snaplen.pcap"} {
		f.Add(fuzzSeedFromCapture(f, "testdata/"+name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("hang on %x", data)) })
		defer watchdog.Stop()
		runFuzz(t, Config{}, data)
		runFuzz(t, Config{MaxConnBuffer: 300, MaxTotalBuffer: 500, MaxConnections: 2, MaxGaps: 2}, data)
	})
}

// fuzzSeeds are hand-made sequences: a handshake with in-order and reordered data, FINs, a RST.
func fuzzSeeds() [][]byte {
	return [][]byte{
		{
			byte(SYN), 0x20, 0xFF, 0xFF, 0, 0, 0, 0,
			byte(SYN | ACK), 0x21, 0xFF, 0xFF, 0, 1, 0, 0,
			byte(ACK), 0x20, 0, 0, 40, 0, 9, 1,
			byte(ACK), 0x20, 0, 20, 30, 0, 9, 1,
			byte(ACK), 0x00, 0, 0, 20, 0, 9, 1,
			byte(ACK), 0x30, 0, 0, 50, 0, 9, 60,
			byte(ACK | FIN), 0x21, 0, 0, 10, 2, 9, 1,
			byte(ACK | FIN), 0x20, 0, 0, 0, 2, 9, 1,
		},
		{
			byte(ACK), 0x22, 0, 0, 33, 0, 0, 0,
			byte(ACK), 0x23, 0, 0, 33, 0, 0, 0,
			byte(ACK), 0x22, 0, 40, 33, 0, 0, 1,
			byte(ACK), 0x23, 0xFF, 0xF0, 33, 0, 0, 1,
			0xF0 | byte(ACK), 0x23, 0, 0, 0, 0, 0, 1,
			byte(SYN), 0x22, 0x10, 0, 5, 0, 0, 1,
		},
	}
}

// TestFuzzSeeds runs the fuzz seeds in normal tests, with the default limits and with tiny ones.
func TestFuzzSeeds(t *testing.T) {
	for i, s := range fuzzSeeds() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			runFuzz(t, Config{}, s)
			runFuzz(t, Config{MaxConnBuffer: 100, MaxTotalBuffer: 150, MaxConnections: 1, MaxGaps: 1}, s)
		})
	}
}

// fuzzSeedFromCapture encodes the segments of a one-connection capture in fuzzSegments' format,
// with stream positions and lengths scaled down by 32 so that the seed keeps the capture's pattern
// of handshake, reordering, retransmissions, cut packets and FINs.
func fuzzSeedFromCapture(tb testing.TB, path string) []byte {
	var (
		out    []byte
		client netip.AddrPort
		isn    [2]uint32
		cur    [2]int
		last   time.Time
	)
	clamp := func(v, lo, hi int) int { return min(max(v, lo), hi) }
	readCapture(tb, path, func(seg *Segment, m packet.Meta) {
		if !client.IsValid() {
			client = seg.Src
		}
		d := 0
		if seg.Src != client {
			d = 1
		}
		if seg.Flags.Has(SYN) {
			isn[d] = seg.Seq
		}
		rel := 0
		if !seg.Flags.Has(SYN) {
			rel = (int(seg.Seq-isn[d])-1+31)/32 + 1
		}
		n := clamp((seg.PayloadLength+31)/32, 0, 63)
		b := [8]byte{byte(seg.Flags), byte(d) | 0x20, 0, 0, byte(n), 0, 0, 0}
		if len(seg.Payload) < seg.PayloadLength {
			b[1] |= 0x10
			b[6] = byte(clamp(n-(len(seg.Payload)+31)/32, 0, 15))
		}
		delta := clamp(rel-cur[d], -32768, 32767)
		b[2], b[3] = byte(uint16(delta)>>8), byte(delta)
		ackRel := (int(seg.Ack-isn[d^1]) - 1 + 31) / 32
		b[5] = byte(int8(clamp((ackRel-cur[d^1])/16, -128, 127)))
		if !last.IsZero() {
			b[7] = byte(clamp(int(m.Time.Sub(last)/(100*time.Millisecond)), 0, 255))
		}
		last = m.Time
		cur[d] = rel + n
		if seg.Flags.Has(SYN) {
			cur[d]++
		}
		out = append(out, b[:]...)
	})
	return out
}
