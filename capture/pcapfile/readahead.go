package pcapfile

import "io"

// readAhead reads src in a goroutine of its own, up to depth chunks ahead of the consumer, so
// that gzip decompression runs on another core than packet parsing. Read and close are for one
// goroutine; close waits until the reading goroutine has stopped using src.
type readAhead struct {
	full   chan chunk
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	cur    []byte // the chunk being consumed; cur[off:] is unread
	buf    []byte // cur's whole buffer, to give back
	off    int
	err    error // the error that ended the chunk being consumed, returned once it is drained
}

type chunk struct {
	b   []byte
	err error
}

func newReadAhead(src io.Reader, size, depth int) *readAhead {
	ra := &readAhead{full: make(chan chunk, depth), free: make(chan []byte, depth+1),
		done: make(chan struct{}), exited: make(chan struct{})}
	for range depth + 1 {
		ra.free <- make([]byte, size)
	}
	go ra.fill(src)
	return ra
}

// fill reads src into free buffers until it fails (io.EOF included) or close is called.
func (ra *readAhead) fill(src io.Reader) {
	defer close(ra.exited)
	for {
		var b []byte
		select {
		case b = <-ra.free:
		case <-ra.done:
			return
		}
		n := 0
		var err error
		for n < len(b) && err == nil {
			var k int
			k, err = src.Read(b[n:])
			n += k
		}
		select {
		case ra.full <- chunk{b[:n], err}:
		case <-ra.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur) {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)]
		}
		c := <-ra.full
		ra.cur, ra.buf, ra.off, ra.err = c.b, c.b, 0, c.err
	}
	n := copy(p, ra.cur[ra.off:])
	ra.off += n
	return n, nil
}

// close stops the reading goroutine and waits for it.
func (ra *readAhead) close() {
	close(ra.done)
	<-ra.exited
}
