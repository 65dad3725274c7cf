package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestGzipChunks checks that the members compressed on several cores read back as one stream
// and are the same bytes on any number of cores, for sizes around the member size.
func TestGzipChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(1, 2))
	const size = 64 << 10
	for _, n := range []int{0, 1, size - 1, size, 5*size + 17} {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte(rng.IntN(16)) // compressible, not trivially
		}
		var outs [][]byte
		for _, procs := range []int{1, 2, 4} {
			runtime.GOMAXPROCS(procs)
			var buf bytes.Buffer
			z := newGzipChunks(&buf, digestComment, size)
			for rest := in; len(rest) > 0; { // in uneven writes
				k := min(len(rest), 1+rng.IntN(size/3))
				if _, err := z.Write(rest[:k]); err != nil {
					t.Fatal(err)
				}
				rest = rest[k:]
			}
			if err := z.Close(); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, buf.Bytes())
		}
		for k := 1; k < len(outs); k++ {
			if !bytes.Equal(outs[k], outs[0]) {
				t.Errorf("%d bytes: output differs between GOMAXPROCS 1 and %d", n, []int{1, 2, 4}[k])
			}
		}
		zr, err := gzip.NewReader(bytes.NewReader(outs[0]))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if zr.Comment != digestComment {
			t.Errorf("%d bytes: first member's comment %q", n, zr.Comment)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("%d bytes: read back %d bytes (%v)", n, len(got), err)
		}
	}
}

// BenchmarkGzipChunks measures the digest file compression, spread over the cores, on bytes
// shaped like a digest file's: per message a 32-byte digest (incompressible) and a few small
// numbers.
func BenchmarkGzipChunks(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]byte, 0, 8*gzipChunkSize)
	for len(in) < 8*gzipChunkSize {
		for range 4 {
			in = binary.LittleEndian.AppendUint64(in, rng.Uint64())
		}
		in = append(in, byte(rng.IntN(4)), byte(20+rng.IntN(200)), 1, byte(rng.IntN(3)), 2, 0)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		z := newGzipChunks(io.Discard, digestComment, gzipChunkSize)
		z.Write(in)
		if err := z.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
