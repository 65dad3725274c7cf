package capture

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
)

// writeBenchCapture writes a capture of about size bytes: 64 concurrent WebSocket connections
// exchanging masked client messages and server messages of mixed sizes, interleaved.
func writeBenchCapture(b testing.TB, path string, size int64) {
	s := newSynth(b, path)
	conns := make([]*synthConn, 64)
	for i := range conns {
		conns[i] = s.conn(fmt.Sprintf("10.1.%d.%d:%d", i/200, i%200+1, 40000+i), "10.2.0.1:8080", true)
		conns[i].upgrade(testKey, "")
	}
	sizes := []int{60, 200, 900, 3000, 120, 16000}
	payload := make([]byte, 16000)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	for i := 0; s.size < size; i++ {
		c := conns[i%len(conns)]
		n := sizes[i%len(sizes)]
		c.send(i%2 == 0, frame(0x1, true, false, i%2 == 0, payload[:n]))
	}
	s.close()
}

// BenchmarkRead measures the whole capture stage (read, decode, reassemble, parse frames, hash
// payloads) in MB/s of capture file.
func BenchmarkRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.pcap")
	writeBenchCapture(b, path, 100<<20)
	benchRead(b, path, Options{}, wantSessions(b, 64))
}

// writeSmallCapture writes msgs messages of 20 to 400 bytes on 40 connections, each in its own
// packet and ACKed, as chat or telemetry traffic looks.
func writeSmallCapture(b testing.TB, path string, msgs int) {
	s := newSynth(b, path)
	conns := make([]*synthConn, 40)
	for i := range conns {
		conns[i] = s.conn(fmt.Sprintf("10.1.0.%d:%d", i+1, 40000+i), "10.2.0.1:8080", true)
		conns[i].upgrade(testKey, "")
	}
	payload := make([]byte, 400)
	for i := range msgs {
		c := conns[i%len(conns)]
		n := 20 + (i*7919)%381
		for k := range n {
			payload[k] = byte(i + k) // no two messages of a connection alike
		}
		c.send(i%2 == 0, frame(0x2, true, false, i%2 == 0, payload[:n]))
	}
	s.close()
}

// BenchmarkRead_SmallMessages is the whole capture stage on 200k small messages, one a packet:
// the per-message costs (frame, digest, message kept) dominate.
func BenchmarkRead_SmallMessages(b *testing.B) {
	path := filepath.Join(b.TempDir(), "small.pcap")
	writeSmallCapture(b, path, 200_000)
	benchRead(b, path, Options{}, wantSessions(b, 40))
}

// BenchmarkRead_BytesPerMessage reports the heap a read capture holds per message it keeps
// (B/msg): compact, the Entries that compare keeps of every hop; full, the Messages with their
// previews (inspect --messages) and the Entries.
func BenchmarkRead_BytesPerMessage(b *testing.B) {
	const msgs = 200_000
	path := filepath.Join(b.TempDir(), "small.pcap")
	writeSmallCapture(b, path, msgs)
	for _, bc := range []struct {
		name string
		opts Options
	}{{"compact", Options{Compact: true}}, {"full", Options{}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var perMsg float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				c, err := Read([]string{path}, bc.opts)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				n := 0
				for _, s := range c.Sessions {
					n += len(s.Entries(ClientToServer)) + len(s.Entries(ServerToClient))
				}
				if n != msgs {
					b.Fatalf("%d messages, want %d", n, msgs)
				}
				perMsg = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
				runtime.KeepAlive(c)
			}
			b.ReportMetric(perMsg, "B/msg")
		})
	}
}
