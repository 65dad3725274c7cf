package tcpdecode

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wspath/wspath/capture/internal/packetbuild"
	"github.com/wspath/wspath/capture/pcapfile"
)

// writeBenchPcap writes a pcap of at least size bytes of Ethernet/IPv4/TCP packets whose payload
// sizes follow a bulk-transfer-with-chatter mix, and returns its path.
func writeBenchPcap(b *testing.B, size int64) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	le := binary.LittleEndian
	le.PutUint32(hdr, 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 262144)
	le.PutUint32(hdr[20:], 1)
	w.Write(hdr)
	sizes := []int{1448, 1448, 1448, 0, 1448, 1448, 120, 0, 1448, 512, 60, 1448, 0, 1448, 1448, 8000}
	payload := make([]byte, 8000)
	rec := make([]byte, 16)
	written := int64(24)
	seq := uint32(1)
	for i := 0; written < size; i++ {
		n := sizes[i%len(sizes)]
		flags := ACK
		if n > 0 {
			flags |= PSH
		}
		pkt := packetbuild.Ethernet(0x0800, packetbuild.IPv4(6, v4a, v4b, packetbuild.Cat(packetbuild.TCP(40000, 443, seq, 1, byte(flags), 512), payload[:n])))
		seq += uint32(n)
		le.PutUint32(rec, uint32(1700000000+i/1000))
		le.PutUint32(rec[4:], uint32(i%1000)*1000)
		le.PutUint32(rec[8:], uint32(len(pkt)))
		le.PutUint32(rec[12:], uint32(len(pkt)))
		w.Write(rec)
		w.Write(pkt)
		written += int64(16 + len(pkt))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkReadDecode reads a 100+ MB pcap from disk (page cache) and decodes every packet.
func BenchmarkReadDecode(b *testing.B) { benchReadDecode(b, writeBenchPcap(b, 100<<20)) }

// BenchmarkReadDecode_Gzip is the same capture gzip-compressed: decompression runs in a goroutine
// of its own, so on two cores it costs little more than the plain file (MB/s of decompressed
// capture).
func BenchmarkReadDecode_Gzip(b *testing.B) {
	path := writeBenchPcap(b, 100<<20)
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	gzPath := path + ".gz"
	f, err := os.Create(gzPath)
	if err != nil {
		b.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(raw); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	benchReadDecode(b, gzPath)
}

func benchReadDecode(b *testing.B, path string) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	if !strings.HasSuffix(path, ".gz") {
		b.SetBytes(st.Size())
	}
	b.ReportAllocs()
	var seg Segment
	for b.Loop() {
		r, err := pcapfile.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var payload int64
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if err := Decode(p.LinkType, p.Data, &seg); err != nil {
				b.Fatal(err)
			}
			payload += int64(len(seg.Payload))
		}
		r.Close()
		if payload == 0 {
			b.Fatal("no payload")
		}
	}
}

// BenchmarkDecode decodes one full-size Ethernet/IPv4/TCP packet.
func BenchmarkDecode(b *testing.B) {
	pkt := packetbuild.Ethernet(0x0800, packetbuild.IPv4(6, v4a, v4b, packetbuild.Cat(packetbuild.TCP(40000, 443, 1, 1, byte(ACK), 512), make([]byte, 1448))))
	var seg Segment
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(pcapfile.LinkEthernet, pkt, &seg); err != nil {
			b.Fatal(err)
		}
	}
}
