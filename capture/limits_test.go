package capture

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// heapWatch samples runtime.MemStats.HeapInuse in a goroutine until stop, keeping the peak: the
// memory a Read really needed, which allocation counts alone do not show.
type heapWatch struct {
	stop chan struct{}
	done chan uint64
}

func watchHeap() *heapWatch {
	runtime.GC()
	w := &heapWatch{stop: make(chan struct{}), done: make(chan uint64)}
	go func() {
		var ms runtime.MemStats
		var peak uint64
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-w.stop:
				w.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// peakMB stops the watch and returns the peak heap in use, in MiB.
func (w *heapWatch) peakMB() float64 {
	close(w.stop)
	return float64(<-w.done) / (1 << 20)
}

// addr returns a distinct client address for connection i.
func addr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%50000))
}

// writeHalfOpenCapture writes n connections to one server that never complete: a quarter only
// send a SYN, a quarter a SYN and a cut HTTP request head of 2 KB, a quarter a SYN and a few
// bytes that are not HTTP, and a quarter (no SYN: picked up mid-stream) a few hundred bytes that
// are not WebSocket frames. None is ever closed.
func writeHalfOpenCapture(tb testing.TB, path string, n int) {
	s := newSynth(tb, path)
	srv := netip.MustParseAddrPort("10.200.0.1:8080")
	head := []byte("GET /chat HTTP/1.1\r\nHost: example.test\r\nX-Padding: " + string(bytes.Repeat([]byte("p"), 2000)))
	junk := bytes.Repeat([]byte("\x00\x17junk"), 50)
	for i := 0; i < n; i++ {
		cli := addr(i)
		const isn = 5000
		switch i % 4 {
		case 0:
			s.packet(cli, srv, isn, 0, tcpSYN, nil)
		case 1:
			s.packet(cli, srv, isn, 0, tcpSYN, nil)
			s.packet(cli, srv, isn+1, 0, tcpACK|tcpPSH, head)
		case 2:
			s.packet(cli, srv, isn, 0, tcpSYN, nil)
			s.packet(cli, srv, isn+1, 0, tcpACK|tcpPSH, []byte("SSH-2.0-x\r\n"))
		case 3:
			s.packet(cli, srv, isn+1, 1, tcpACK|tcpPSH, junk)
		}
		s.tick(10 * time.Microsecond)
	}
	s.close()
}

// writeHugeMessageCapture writes one WebSocket connection whose server sends one text message of
// size bytes in 64 KiB frames, streaming: the payload is never held in memory.
func writeHugeMessageCapture(tb testing.TB, path string, size int64) {
	s := newSynth(tb, path)
	c := s.conn("10.1.0.1:40000", "10.2.0.1:8080", true)
	c.upgrade(testKey, "")
	c.mss = 65000
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	for sent := int64(0); sent < size; sent += int64(len(chunk)) {
		op := byte(0x0)
		if sent == 0 {
			op = 0x1
		}
		c.send(false, frame(op, sent+int64(len(chunk)) >= size, false, false, chunk))
	}
	c.fin(false)
	c.fin(true)
	s.close()
}

// deflateBomb returns the permessage-deflate payload of a message of n zero bytes (about n/800
// compressed bytes).
func deflateBomb(tb testing.TB, n int64) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := io.CopyN(w, zeroReader{}, n); err != nil {
		tb.Fatal(err)
	}
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// writeBombCapture writes one connection with permessage-deflate whose server sends a message that
// inflates to 1 GiB, then a small message that must still be read.
func writeBombCapture(tb testing.TB, path string) {
	s := newSynth(tb, path)
	c := s.conn("10.1.0.1:40000", "10.2.0.1:8080", true)
	c.upgrade(testKey, "permessage-deflate; server_no_context_takeover")
	c.mss = 65000
	c.send(false, frame(0x2, true, true, false, deflateBomb(tb, 1<<30)))
	c.send(false, frame(0x1, true, false, false, []byte("after the bomb")))
	c.fin(false)
	c.fin(true)
	s.close()
}

func TestRead_HalfOpenFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 20k connections")
	}
	path := filepath.Join(t.TempDir(), "halfopen.pcap")
	const n = 20000
	writeHalfOpenCapture(t, path, n)
	w := watchHeap()
	c, err := Read([]string{path}, Options{})
	peak := w.peakMB()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d half-open connections: peak heap %.1f MiB, %d sessions, %d warnings", n, peak, len(c.Sessions), len(c.Warnings))
	if len(c.Sessions) != 0 {
		t.Errorf("%d sessions from connections that never were WebSocket", len(c.Sessions))
	}
	if c.Stats.TCP != n*6/4 {
		t.Errorf("TCP = %d, want %d", c.Stats.TCP, n*6/4)
	}
	if peak > 64 {
		t.Errorf("peak heap %.1f MiB for %d half-open connections, want < 64", peak, n)
	}
}

func TestRead_DeflateBomb(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bomb.pcap")
	writeBombCapture(t, path)
	w := watchHeap()
	c, err := Read([]string{path}, Options{MaxMessageSize: 16 << 20})
	peak := w.peakMB()
	if err != nil {
		t.Fatal(err)
	}
	s := onlySession(t, c)
	msgs := dataMessages(s, ServerToClient)
	if len(msgs) != 2 {
		t.Fatalf("%d server messages, want 2", len(msgs))
	}
	bomb := msgs[0]
	if !bomb.Flags.Has(Oversize|Compressed) || bomb.Length != 16<<20 || bomb.Digest.IsZero() {
		t.Errorf("bomb: flags %b length %d digest %s", bomb.Flags, bomb.Length, bomb.Digest)
	}
	if string(msgs[1].Preview) != "after the bomb" {
		t.Errorf("message after the bomb: %q", msgs[1].Preview)
	}
	found := false
	for _, p := range s.Problems() {
		if p.Kind == ProblemLimit && bytes.Contains([]byte(p.Message), []byte("too large")) {
			found = true
		}
	}
	if !found {
		t.Errorf("no limit problem for the bomb: %v", s.Problems())
	}
	t.Logf("deflate bomb (1 GiB of zeros, %d bytes on the wire): peak heap %.1f MiB", bomb.WireLength, peak)
	if peak > 32 {
		t.Errorf("peak heap %.1f MiB, want < 32", peak)
	}
}

func BenchmarkRead_HalfOpen100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "halfopen.pcap")
	writeHalfOpenCapture(b, path, 100000)
	benchRead(b, path, Options{}, wantSessions(b, 0))
}

func BenchmarkRead_FragmentedMessage1GiB(b *testing.B) {
	path := filepath.Join(b.TempDir(), "huge.pcap")
	writeHugeMessageCapture(b, path, 1<<30)
	benchRead(b, path, Options{}, func(c *Capture) {
		s := soleSession(b, c)
		m := dataMessages(s, ServerToClient)
		if len(m) != 1 || m[0].Frames != (1<<30)/(64<<10) || m[0].WireLength != 1<<30 || !m[0].Flags.Has(Oversize) {
			b.Fatalf("messages %+v", m)
		}
	})
}

func BenchmarkRead_DeflateBomb(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bomb.pcap")
	writeBombCapture(b, path)
	benchRead(b, path, Options{}, func(c *Capture) {
		if m := dataMessages(soleSession(b, c), ServerToClient); len(m) != 2 || !m[0].Flags.Has(Oversize) {
			b.Fatalf("messages %+v", m)
		}
	})
}

// benchRead reads path once per iteration, reporting MB/s of capture file and allocations. The
// peak heap comes from one more read before the timed loop, watched by a sampling goroutine that
// would otherwise take its GC and ReadMemStats calls out of the time measured; that read is also
// the one check looks at.
func benchRead(b *testing.B, path string, opts Options, check func(*Capture)) {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	w := watchHeap()
	c, err := Read([]string{path}, opts)
	peak := w.peakMB()
	if err != nil {
		b.Fatal(err)
	}
	check(c)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() { // b.Loop starts the timer and the allocation counts afresh
		if _, err := Read([]string{path}, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(peak, "peak-heap-MB")
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
}

// wantSessions is a check for benchRead: the capture read has n sessions.
func wantSessions(tb testing.TB, n int) func(*Capture) {
	return func(c *Capture) {
		tb.Helper()
		if len(c.Sessions) != n {
			tb.Fatalf("%d sessions, want %d", len(c.Sessions), n)
		}
	}
}

// soleSession is onlySession for benchmarks too.
func soleSession(tb testing.TB, c *Capture) *Session {
	tb.Helper()
	if len(c.Sessions) != 1 {
		tb.Fatalf("got %d sessions, want 1 (warnings %v)", len(c.Sessions), c.Warnings)
	}
	return c.Sessions[0]
}

// TestRead_HeldBound checks that HTTP heads and resync buffers are bounded across connections: the
// connections past the bound are no longer read, and one warning says so.
func TestRead_HeldBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "halfopen.pcap")
	writeHalfOpenCapture(t, path, 4000)
	for _, tc := range []struct {
		name     string
		max      int
		stopped  string
		warnings int
	}{
		{"default bound", 0, "", 0},
		{"1 MiB", 1 << 20, "connection(s) from here on no longer read", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Read([]string{path}, Options{MaxTotalBuffer: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Warnings) != tc.warnings {
				t.Fatalf("warnings %v", c.Warnings)
			}
			if tc.warnings == 0 {
				return
			}
			w := c.Warnings[0]
			if w.File != path || w.Packet == 0 || !bytes.Contains([]byte(w.Message), []byte(tc.stopped)) {
				t.Errorf("warning %q", w)
			}
		})
	}
}

// TestRead_SnaplenCutsHeaders checks that packets whose headers the snap length cut are named in
// one warning, not silently dropped.
func TestRead_SnaplenCutsHeaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap40.pcap")
	s := newSynth(t, path)
	s.snap = 40
	c := s.conn("10.1.0.1:40000", "10.2.0.1:8080", true)
	c.upgrade(testKey, "")
	s.close()
	capt, err := Read([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if capt.Stats.Truncated == 0 || capt.Stats.TCP != 0 || len(capt.Warnings) != 1 {
		t.Fatalf("stats %+v warnings %v", capt.Stats, capt.Warnings)
	}
	w := capt.Warnings[0]
	want := fmt.Sprintf("%s: packet 1: snap length: %d packet(s) from here on cut before the end of their TCP/IP headers (this one after 40 bytes)", path, capt.Stats.Truncated)
	if !strings.HasPrefix(w.String(), want) {
		t.Errorf("warning %q\nwant prefix %q", w, want)
	}
}
