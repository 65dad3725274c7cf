package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeBenchCapture writes a capture of about size bytes: 64 concurrent WebSocket connections
// exchanging masked client messages and server messages of mixed sizes, interleaved.
func writeBenchCapture(b *testing.B, path string, size int64) {
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
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := Read([]string{path}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Sessions) != 64 {
			b.Fatalf("%d sessions", len(c.Sessions))
		}
	}
}
