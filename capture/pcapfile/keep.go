package pcapfile

// Kept data: by default a packet's Data lies in the Reader's buffer and is overwritten when the
// Reader moves its unread bytes to the front to read more. A caller that hands packets to another
// goroutine would have to copy every byte. With Merger.KeepData, a Reader that needs room reads
// into another buffer instead and leaves the old one as it is, so Data stays valid for as long as
// its Buffer is held; a buffer nobody holds any more is read into again (or, for a window of a
// mapped file, unmapped: see MapFiles).

// Buffer is the memory the Data of packets read with Merger.KeepData lies in. Hold and Release
// count who still uses it; they are for the goroutine that reads the packets (not safe for
// concurrent use), and a Buffer released as often as it was held is reused for later packets.
type Buffer struct {
	b      []byte
	refs   int     // holds, plus one while its Reader reads from it
	r      *Reader // whose buffer it is
	mapped bool    // a window of a mapped file (MapFiles), unmapped when released
}

// Hold keeps b's bytes, and so the Data of the packets in it, unchanged until Release.
func (b *Buffer) Hold() { b.refs++ }

// Release ends one Hold.
func (b *Buffer) Release() {
	if b.refs--; b.refs > 0 {
		return
	}
	if b.mapped {
		b.r.unmap(b)
		return
	}
	b.r.free = append(b.r.free, b.b)
}

// Buffer returns the buffer p's Data lies in when p was read with Merger.KeepData, else nil.
func (p *Packet) Buffer() *Buffer { return p.buf }

// maxFreeBuffers bounds the buffers a Reader keeps for reuse.
const maxFreeBuffers = 8

// KeepData makes the Data of the packets returned from now on stay valid past the next call to
// Next, for as long as their Buffer is held (see Buffer): hold it before the next call to Next
// or NextPacket, release it when done with the packet. Close ends them all.
func (m *Merger) KeepData() {
	for _, r := range m.readers {
		r.keepData()
	}
}

func (r *Reader) keepData() {
	r.keep = true
	if r.kept == nil {
		r.kept = &Buffer{b: r.buf, refs: 1, r: r}
	}
}

// swap is fill's move of the unread bytes to the front for KeepData: they go to the front of
// another buffer of size bytes, a free one when there is one, and the current one is left as it
// is for the packets in it.
func (r *Reader) swap(size int) {
	var nb []byte
	for len(r.free) > 0 && nb == nil {
		last := len(r.free) - 1
		if b := r.free[last]; len(b) == size {
			nb = b
		}
		r.free = r.free[:last] // one of another size (the buffer grew) is dropped
	}
	if nb == nil {
		nb = make([]byte, size)
	}
	r.w = copy(nb, r.buf[r.r:r.w])
	r.r = 0
	r.buf = nb
	old := r.kept
	r.kept = &Buffer{b: nb, refs: 1, r: r}
	old.Release()
	if len(r.free) > maxFreeBuffers {
		r.free = r.free[:maxFreeBuffers]
	}
}
