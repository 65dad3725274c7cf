package wsframe

import (
	"bytes"
	"io"
)

// DefaultMaxBuffered is the budget of NewInflatePool(0): 256 MiB of compressed bytes buffered by
// all the Inflaters sharing an InflatePool.
const DefaultMaxBuffered = 256 << 20

// InflatePool holds what Inflaters need only while they inflate: the flate decoder, its input
// readers and the read and dictionary buffers. Inflaters that run one after the other (the
// connections of one capture read by one goroutine) share one through InflateOptions.Pool, so
// that a connection using permessage-deflate costs its history window and little else.
//
// An InflatePool also bounds the compressed bytes buffered by all its Inflaters for their messages
// in progress: past the budget, the message whose bytes did not fit fails with ErrInflateTooLarge,
// so a flood of connections each sending part of a large compressed message cannot exhaust memory.
//
// An InflatePool and the Inflaters sharing it must be used by one goroutine at a time. Its buffers
// are allocated on the first Finish.
type InflatePool struct {
	max      int
	buffered int // compressed bytes held by the Inflaters sharing it

	fr      io.ReadCloser
	src     bytes.Reader
	tail    bytes.Reader
	mr      multiReader
	dict    []byte
	scratch [16 << 10]byte
}

// NewInflatePool returns an InflatePool whose Inflaters buffer at most maxBuffered compressed
// bytes in all. maxBuffered <= 0 means DefaultMaxBuffered.
func NewInflatePool(maxBuffered int) *InflatePool {
	if maxBuffered <= 0 {
		maxBuffered = DefaultMaxBuffered
	}
	return &InflatePool{max: maxBuffered}
}

// Buffered returns the compressed bytes currently held by the Inflaters sharing d.
func (d *InflatePool) Buffered() int {
	if d == nil {
		return 0
	}
	return d.buffered
}

// take counts n more buffered bytes, reporting false (and counting nothing) past the budget. A nil
// InflatePool has no budget.
func (d *InflatePool) take(n int) bool {
	if d == nil {
		return true
	}
	if d.buffered+n > d.max {
		return false
	}
	d.buffered += n
	return true
}

// give returns n bytes to the budget.
func (d *InflatePool) give(n int) {
	if d != nil {
		d.buffered = max(d.buffered-n, 0)
	}
}

// multiReader reads a then b, without the allocation of io.MultiReader. It implements
// io.ByteReader so that flate reads from it directly instead of wrapping it in a bufio.Reader.
type multiReader [2]*bytes.Reader

func (m *multiReader) Read(p []byte) (int, error) {
	for _, r := range m {
		if r.Len() > 0 {
			return r.Read(p)
		}
	}
	return 0, io.EOF
}

func (m *multiReader) ReadByte() (byte, error) {
	for _, r := range m {
		if r.Len() > 0 {
			return r.ReadByte()
		}
	}
	return 0, io.EOF
}

// ring is the history of an Inflater's output: the last window bytes. It grows as output comes,
// up to exactly the window, then is overwritten in a circle.
type ring struct {
	buf  []byte
	head int // oldest byte (and next write position) once buf is full
}

// write appends out, keeping the last window bytes.
func (r *ring) write(out []byte, window int) {
	if len(out) >= window {
		out = out[len(out)-window:]
	}
	if len(r.buf) < window {
		k := min(window-len(r.buf), len(out))
		if len(r.buf)+k > cap(r.buf) {
			grown := make([]byte, len(r.buf), min(window, max(2*cap(r.buf), len(r.buf)+k, 512)))
			copy(grown, r.buf)
			r.buf = grown
		}
		r.buf = append(r.buf, out[:k]...)
		out = out[k:]
		r.head = 0
	}
	for len(out) > 0 {
		k := copy(r.buf[r.head:], out)
		out = out[k:]
		r.head = (r.head + k) % len(r.buf)
	}
}

// wrapped reports whether the history no longer starts at buf[0].
func (r *ring) wrapped() bool { return r.head != 0 }

// appendLinear appends the history, oldest first, to dst.
func (r *ring) appendLinear(dst []byte) []byte {
	dst = append(dst, r.buf[r.head:]...)
	return append(dst, r.buf[:r.head]...)
}

// reset forgets the history, keeping the buffer.
func (r *ring) reset() { r.buf, r.head = r.buf[:0], 0 }
