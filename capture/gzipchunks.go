package capture

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
)

// gzipChunkSize is how many uncompressed bytes go into each gzip member of a digest file.
const gzipChunkSize = 4 << 20

// gzipChunks is an io.WriteCloser that gzips what is written to it in members of size bytes
// (gzipChunkSize for digest files), compressed on up to GOMAXPROCS cores at once and written in order: a gzip
// file of several members is one stream to gzip readers (RFC 1952, gunzip, Go's gzip.Reader).
// Members end at fixed byte counts, so the output is the same bytes on any number of cores.
// The first member's header carries comment. Write and Close are for one goroutine.
type gzipChunks struct {
	w       io.Writer
	comment string
	size    int // bytes per member
	buf     []byte
	pending []chan gzipped // members being compressed, in file order
	free    chan *gzip.Writer
	members int
	err     error
}

type gzipped struct {
	out *bytes.Buffer
	err error
}

func newGzipChunks(w io.Writer, comment string, size int) *gzipChunks {
	n := runtime.GOMAXPROCS(0)
	z := &gzipChunks{w: w, comment: comment, size: size, free: make(chan *gzip.Writer, n)}
	for range n {
		z.free <- nil // a slot; the writer is made on first use
	}
	return z
}

func (z *gzipChunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && z.err == nil {
		if z.buf == nil {
			z.buf = make([]byte, 0, z.size)
		}
		k := min(len(p), z.size-len(z.buf))
		z.buf = append(z.buf, p[:k]...)
		p = p[k:]
		if len(z.buf) == z.size {
			z.compress()
		}
	}
	if z.err != nil {
		return 0, z.err
	}
	return n, nil
}

// compress starts compressing the chunk in buf as the next member, first writing out the
// oldest members when as many are being compressed as there are cores.
func (z *gzipChunks) compress() {
	for len(z.pending) >= cap(z.free) {
		z.writeOldest()
	}
	zw := <-z.free
	in, first := z.buf, z.members == 0
	z.buf = nil
	z.members++
	done := make(chan gzipped, 1)
	z.pending = append(z.pending, done)
	go func() {
		out := new(bytes.Buffer)
		if zw == nil {
			zw = gzip.NewWriter(out)
		} else {
			zw.Reset(out)
		}
		if first {
			zw.Comment = z.comment
		}
		_, err := zw.Write(in)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		zw.Comment = ""
		z.free <- zw
		done <- gzipped{out, err}
	}()
}

// writeOldest waits for the oldest member being compressed and writes it out.
func (z *gzipChunks) writeOldest() {
	r := <-z.pending[0]
	z.pending = z.pending[1:]
	if z.err == nil {
		z.err = r.err
	}
	if z.err == nil {
		_, z.err = z.w.Write(r.out.Bytes())
	}
}

// Close compresses what is left (at least one member, so that even an empty stream is a gzip
// file) and writes every member out.
func (z *gzipChunks) Close() error {
	if len(z.buf) > 0 || z.members == 0 {
		z.compress()
	}
	for len(z.pending) > 0 {
		z.writeOldest()
	}
	return z.err
}
