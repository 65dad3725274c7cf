package pcapfile

import (
	"fmt"
	"io"
	"os"
)

// Mapped files: reading a file with read(2) copies every byte from the page cache into the
// Reader's buffer, most of the CPU time of a read that looks at the packets' headers only (on a
// 400 MB capture of large messages, 40%). A mapped file's packets are read where the page cache
// holds them: the Reader maps a window of mapWindow bytes at a time, and the next window where
// a record runs past the end, so no byte is copied and only a few windows are mapped at once.

// mapWindow is how much of a file a Reader maps at once (more for a larger block).
const mapWindow = 2 << 20

// MapFiles makes the Readers of regular, uncompressed files read the rest of their file by
// mapping it into memory (on Linux; elsewhere it does nothing). Data then lies in a window of
// the file, valid as with read(2): until the next call to Next, or with KeepData for as long as
// its Buffer is held; Close unmaps every window. A file that shrinks while mapped (truncated by
// another program) makes reading its bytes fault (SIGBUS): goroutines that read packets or their
// Data should set debug.SetPanicOnFault and give what they recover to FaultError.
func (m *Merger) MapFiles() {
	for _, r := range m.readers {
		r.mapFiles()
	}
}

func (r *Reader) mapFiles() {
	f, ok := r.closer.(*os.File)
	if !canMap || !ok || r.gz != nil || r.mf != nil || r.srcErr != nil {
		return
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || r.off+int64(r.w-r.r) >= st.Size() {
		return // all of it is in the buffer already
	}
	r.mf, r.fsize = f, st.Size()
}

// remap is fill for a mapped file: it maps the window that starts at the page of the next unread
// byte and holds at least n bytes, as far as the file goes. The window before stays mapped until
// the next remap (or, with KeepData, while held), so that slices need gave out earlier in the
// same record stay valid.
func (r *Reader) remap(n int) {
	pos := r.off // file offset of buf[r.r]
	start := pos &^ int64(os.Getpagesize()-1)
	end := max(start+mapWindow, pos+int64(n))
	if end > r.fsize {
		if st, err := r.mf.Stat(); err == nil {
			r.fsize = st.Size() // grown while being written, say
		}
		end = min(end, r.fsize)
	}
	if end <= pos+int64(r.w-r.r) {
		r.srcErr = io.EOF
		return
	}
	b, err := mapFile(r.mf, start, int(end-start))
	if err != nil {
		r.srcErr = fmt.Errorf("mapping %d bytes at %d: %w", end-start, start, err)
		return
	}
	w := &Buffer{b: b, refs: 1, r: r, mapped: true}
	r.live = append(r.live, w)
	if r.last != nil {
		r.last.Release()
	}
	r.last, r.kept = r.kept, w // the read buffer (the first time) is released and left to the GC
	r.buf, r.r, r.w = b, int(pos-start), int(end-start)
}

// unmap unmaps a window nobody uses any more (unless Close did).
func (r *Reader) unmap(b *Buffer) {
	for i, w := range r.live {
		if w == b {
			r.live = append(r.live[:i], r.live[i+1:]...)
			unmapFile(b.b)
			return
		}
	}
}

// closeMapped unmaps every window: the packets still held are no longer valid.
func (r *Reader) closeMapped() {
	for _, w := range r.live {
		unmapFile(w.b)
	}
	r.live, r.kept, r.last, r.buf, r.r, r.w = nil, nil, nil, nil, 0, 0
}

// FaultError returns the error for v, recovered from a panic, when v is the memory fault of a
// mapped file that shrank while being read (see MapFiles); nil when v is anything else, which the
// caller should panic with again. It must be called by the goroutine reading the packets, or
// once that stopped.
func (m *Merger) FaultError(v any) error {
	f, ok := v.(interface{ Addr() uintptr })
	if !ok {
		return nil
	}
	addr := f.Addr()
	for _, r := range m.readers {
		for _, w := range r.live {
			if len(w.b) > 0 && addr >= addrOf(w.b) && addr < addrOf(w.b)+uintptr(len(w.b)) {
				return &Error{File: r.name, Offset: -1, Err: fmt.Errorf("%w: the file shrank while being read", ErrTruncated)}
			}
		}
	}
	return nil
}
