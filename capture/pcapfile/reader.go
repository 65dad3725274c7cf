package pcapfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// MaxCaptureLength is the largest captured length of one packet that is accepted (256 KiB, the
// largest snap length tcpdump and dumpcap use). A record claiming more is reported as ErrCorrupt.
const MaxCaptureLength = 256 << 10

const (
	maxBlockLength = 16 << 20 // largest pcapng block accepted
	minBufSize     = 64 << 10 // first buffer size; enough for small files and fuzzing
	maxBufSize     = 1 << 20  // the buffer grows to this size while data keeps coming
)

// Packet is one captured packet.
type Packet struct {
	File     string    // name of the file it came from
	Number   int       // 1-based packet number within its file, as Wireshark numbers frames
	Time     time.Time // capture timestamp; for a pcapng Simple Packet Block, the previous packet's
	LinkType LinkType  // link-layer header type of Data
	// Data holds the captured bytes, starting with the link-layer header. It is owned by the
	// Reader (or Merger) and valid only until the next call to Next: copy what must outlive it.
	Data          []byte
	CaptureLength int // captured bytes, len(Data)
	Length        int // length of the packet on the wire; > CaptureLength when cut by the snap length
	// Interface is the interface the packet was captured on (pcapng: the Enhanced Packet Block's
	// interface ID), numbered among the Reader's or Merger's Interfaces. Never nil from Next.
	Interface *Interface
	buf       *Buffer // what Data lies in, with Merger.KeepData
}

// set sets what a record says of p (next sets File and Number), field by field: building a whole
// Packet and copying it cost a store-forwarding stall per packet.
func (p *Packet) set(t time.Time, link LinkType, data []byte, length int, iface *Interface) {
	p.Time, p.LinkType, p.Data = t, link, data
	p.CaptureLength, p.Length, p.Interface = len(data), length, iface
}

// Info describes a capture file as read so far; after Next returned io.EOF it covers the file.
type Info struct {
	Name      string     // file name
	Format    string     // "pcap" or "pcapng"
	Gzip      bool       // the file was gzip-compressed
	LinkTypes []LinkType // link types declared by the file, in order of first appearance, no repeats
	Packets   int        // packets returned
	Bytes     int64      // captured bytes of the packets returned
	First     time.Time  // time of the first packet (zero when none)
	Last      time.Time  // time of the last packet (zero when none)
	// Stats holds, per interface, the counters of the last pcapng Interface Statistics Block read
	// for it (dumpcap and tshark write one at the end of a capture; tcpdump's pcap has none).
	Stats []InterfaceStats
}

// InterfaceStats are what the capturing system counted on one interface (pcapng Interface
// Statistics Block). A counter the block did not carry is -1.
type InterfaceStats struct {
	Section   int       // 0-based pcapng section the interface belongs to
	Interface int       // interface index within its section
	Time      time.Time // when the counters were taken
	Start     time.Time // isb_starttime: when counting began; zero when absent
	End       time.Time // isb_endtime: when counting ended; zero when absent
	// Received is isb_ifrecv, packets the interface received; IfDrop isb_ifdrop, packets the
	// interface or driver dropped for lack of resources; FilterAccept isb_filteraccept, packets
	// the capture filter accepted; OSDrop isb_osdrop, accepted packets the operating system
	// dropped (the capture buffer was full); Delivered isb_usrdeliv, packets handed to the
	// capturing program.
	Received, IfDrop, FilterAccept, OSDrop, Delivered int64
}

// Dropped is the number of packets the interface and the operating system admitted dropping,
// and whether the block said anything about drops at all.
func (s InterfaceStats) Dropped() (n int64, known bool) {
	for _, d := range []int64{s.IfDrop, s.OSDrop} {
		if d >= 0 {
			n, known = n+d, true
		}
	}
	return n, known
}

// Reader reads the packets of one capture file. It is not safe for concurrent use.
type Reader struct {
	name   string
	src    io.Reader
	closer io.Closer // the file opened by Open, nil for NewReader
	gz     *gzip.Reader
	ahead  *readAhead // decompresses gz in its own goroutine

	buf    []byte
	r, w   int   // unread data is buf[r:w]
	off    int64 // offset in the decompressed stream of buf[r]
	srcErr error // error the source returned; reported once buf is drained
	empty  int   // consecutive reads that returned 0, nil

	info Info
	err  error // sticky error returned by Next
	n    int   // packets returned

	// pcap
	ng       bool
	be       bool // big-endian file (pcap) or section (pcapng)
	nano     bool
	modified bool // Kuznetzov's modified pcap: 24-byte record headers
	pcapLink LinkType
	lastTime time.Time
	ifaces   []iface
	section  int // pcapng sections begun so far
	secrets  []byte

	// interfaces numbers the interfaces of the whole file (ifaces is one section's); pcapIface
	// is a pcap file's one.
	interfaces interfaceSet
	pcapIface  *Interface

	// keep is KeepData's; kept is the Buffer that buf is, with KeepData or a mapped file (else
	// nil); free holds buffers to read into again (see swap).
	keep bool
	kept *Buffer
	free [][]byte
	// mf is the file when it is read by mapping it (MapFiles), fsize its size as last seen;
	// live are its windows mapped, last the one before kept (see remap).
	mf    *os.File
	fsize int64
	live  []*Buffer
	last  *Buffer
}

// Open opens a capture file for reading. The format is recognised from the content: gzip
// compression by its magic bytes, then pcap or pcapng. Errors are *Error values naming the file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{File: path, Offset: -1, Err: err}
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		f.Close()
		return nil, &Error{File: path, Offset: -1, Err: fmt.Errorf("%w: is a directory", ErrNotCapture)}
	}
	r, err := newReader(f, path, maxBufSize)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a capture from src; name is used in packets and errors. Close does not close
// src.
func NewReader(src io.Reader, name string) (*Reader, error) {
	return newReader(src, name, minBufSize)
}

func newReader(src io.Reader, name string, bufSize int) (_ *Reader, err error) {
	r := &Reader{name: name, src: src, buf: make([]byte, bufSize), info: Info{Name: name}}
	defer func() {
		if err != nil && r.ahead != nil {
			r.ahead.close() // the caller closes src next
		}
	}()
	head, _ := r.peekUpTo(4)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		buffered := append([]byte(nil), r.buf[r.r:r.w]...)
		gz, err := gzip.NewReader(bufio.NewReaderSize(io.MultiReader(bytes.NewReader(buffered), src), 64<<10))
		if err != nil {
			kind := ErrCorrupt
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				kind = ErrTruncated
			}
			return nil, r.errorf(0, 0, "%w: gzip header: %w", kind, err)
		}
		r.ahead = newReadAhead(gz, 256<<10, 4)
		r.gz, r.src, r.srcErr, r.r, r.w = gz, r.ahead, nil, 0, 0
		r.info.Gzip = true
		head, _ = r.peekUpTo(4)
	}
	if serr := r.srcError(); serr != nil && len(head) < 4 {
		return nil, r.errorf(0, 0, "reading header: %w", serr)
	}
	if len(head) < 4 {
		if len(head) == 0 {
			return nil, r.errorf(0, 0, "%w: empty file", ErrTruncated)
		}
		if isMagicPrefix(head) {
			return nil, r.errorf(0, 0, "%w: %d bytes, too short for a header", ErrTruncated, len(head))
		}
		return nil, r.errorf(0, 0, "%w: %d bytes", ErrNotCapture, len(head))
	}
	switch m := be32(head); {
	case m == ngSHB:
		r.ng = true
		r.info.Format = "pcapng"
		err = r.readSHB()
	case isPcapMagic(m):
		r.info.Format = "pcap"
		err = r.readPcapHeader()
	default:
		err = r.errorf(0, 0, "%w: bad magic 0x%08x", ErrNotCapture, m)
	}
	if err != nil {
		return nil, err
	}
	if r.ng {
		r.prefetch()
	}
	return r, nil
}

// Next returns the next packet, or io.EOF after the last one. After any other error it keeps
// returning that error. Errors are *Error values; a file cut short gives one wrapping ErrTruncated
// after all complete packets were returned. The returned Data is valid until the next call.
func (r *Reader) Next() (Packet, error) {
	var p Packet
	if err := r.next(&p); err != nil {
		return Packet{}, err
	}
	return p, nil
}

// next is Next decoding into p, which saves the Merger copying packets. On error p is undefined.
func (r *Reader) next(p *Packet) error {
	if r.err != nil {
		return r.err
	}
	var err error
	if r.ng {
		err = r.nextNg(p)
	} else {
		err = r.nextPcap(p)
	}
	if err != nil {
		r.err = err
		return err
	}
	r.n++
	p.File, p.Number, p.buf = r.name, r.n, nil
	if r.keep {
		p.buf = r.kept
	}
	r.info.Packets++
	r.info.Bytes += int64(p.CaptureLength)
	if r.n == 1 {
		r.info.First = p.Time
	}
	r.info.Last = p.Time
	r.lastTime = p.Time
	return nil
}

// Info describes the file as read so far. The LinkTypes slice is shared: do not modify it;
// Stats is a copy.
func (r *Reader) Info() Info {
	in := r.info
	in.Stats = append([]InterfaceStats(nil), r.info.Stats...)
	return in
}

// Secrets returns the TLS key log text (NSS SSLKEYLOGFILE format) of the pcapng Decryption
// Secrets Blocks read so far, concatenated, each ending in a newline; nil when none. Blocks that
// precede the first packet, where editcap writes them, are read by Open and NewReader. The slice
// is owned by the Reader; do not modify it.
func (r *Reader) Secrets() []byte { return r.secrets }

// Close releases the file opened by Open (and the gzip decompressor). Next must not be called
// after Close.
func (r *Reader) Close() error {
	var err error
	if r.ahead != nil {
		r.ahead.close()
		r.ahead = nil
	}
	if r.gz != nil {
		err = r.gz.Close()
	}
	if r.mf != nil {
		r.closeMapped()
	}
	if r.closer != nil {
		if cerr := r.closer.Close(); err == nil {
			err = cerr
		}
		r.closer = nil
	}
	if r.err == nil {
		r.err = &Error{File: r.name, Offset: -1, Err: os.ErrClosed}
	}
	return err
}

// errorf builds an *Error at a packet number and the current read offset plus delta.
func (r *Reader) errorf(packet int, delta int64, format string, args ...any) *Error {
	return &Error{File: r.name, Packet: packet, Offset: r.off + delta, Err: fmt.Errorf(format, args...)}
}

// truncated builds the error for a record or block of want bytes of which only the bytes in the
// buffer exist. cause is the error need returned.
func (r *Reader) truncated(packet int, what string, want int, cause error) *Error {
	if cause == io.ErrUnexpectedEOF || cause == io.EOF {
		return r.errorf(packet, 0, "%w: %s of %d bytes cut after %d", ErrTruncated, what, want, r.w-r.r)
	}
	if errors.Is(cause, io.ErrUnexpectedEOF) {
		return r.errorf(packet, 0, "%w: %s: %w", ErrTruncated, what, cause)
	}
	return r.errorf(packet, 0, "reading %s: %w", what, cause)
}

// srcError returns the source's error other than io.EOF.
func (r *Reader) srcError() error {
	if r.srcErr == nil || r.srcErr == io.EOF {
		return nil
	}
	if r.gz != nil && !errors.Is(r.srcErr, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: gzip: %w", ErrCorrupt, r.srcErr)
	}
	return r.srcErr
}

// need returns the next n unread bytes without consuming them. It returns io.EOF when no byte is
// left, io.ErrUnexpectedEOF when fewer than n are, or the source's error. The slice is valid
// until the next call to need, peekUpTo or skip.
func (r *Reader) need(n int) ([]byte, error) {
	for r.w-r.r < n {
		if r.srcErr != nil {
			if err := r.srcError(); err != nil {
				return nil, err
			}
			if r.w == r.r {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		}
		r.fill(n)
	}
	return r.buf[r.r : r.r+n], nil
}

// peekUpTo returns up to n unread bytes, fewer only at the end of the input or on a read error.
func (r *Reader) peekUpTo(n int) ([]byte, error) {
	for r.w-r.r < n && r.srcErr == nil {
		r.fill(n)
	}
	return r.buf[r.r:min(r.w, r.r+n)], r.srcError()
}

// fill reads from the source once, first making room for n unread bytes. The buffer grows only
// while data arrives: to maxBufSize for speed, beyond it only as far as n requires. With
// KeepData the unread bytes move to another buffer (swap), not to the front of this one.
func (r *Reader) fill(n int) {
	if r.mf != nil {
		r.remap(n)
		return
	}
	unread, size := r.w-r.r, len(r.buf)
	if unread == size || (size < maxBufSize && unread > size/2) {
		size = 2 * len(r.buf)
		if unread == len(r.buf) && len(r.buf) >= maxBufSize && size > n {
			size = max(n, len(r.buf)+len(r.buf)/2)
		}
	}
	switch {
	case r.kept != nil && size == len(r.buf) && len(r.buf)-r.r >= n && len(r.buf)-r.w >= len(r.buf)/8:
		// Room enough after the unread bytes (the source returned less than asked): read on.
	case r.kept != nil && (r.r > 0 || size != len(r.buf)):
		r.swap(size)
	case size != len(r.buf):
		nb := make([]byte, size)
		r.w, r.r = copy(nb, r.buf[r.r:r.w]), 0
		r.buf = nb
	case r.r > 0:
		copy(r.buf, r.buf[r.r:r.w])
		r.w -= r.r
		r.r = 0
	}
	m, err := r.src.Read(r.buf[r.w:])
	if m < 0 || m > len(r.buf)-r.w {
		m, err = 0, errors.New("source reader returned an invalid count")
	}
	r.w += m
	switch {
	case err != nil:
		r.srcErr = err
	case m == 0:
		r.empty++
		if r.empty >= 100 {
			r.srcErr = io.ErrNoProgress
		}
	default:
		r.empty = 0
	}
}

// skip consumes n bytes, which must be buffered.
func (r *Reader) skip(n int) {
	r.r += n
	r.off += int64(n)
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// u32 and u16 read in the byte order of the file or current pcapng section.
func (r *Reader) u32(b []byte) uint32 {
	if r.be {
		return be32(b)
	}
	return le32(b)
}

// u64 reads a 64-bit integer (not a timestamp, whose halves come high first) in section order.
func (r *Reader) u64(b []byte) uint64 {
	if r.be {
		return uint64(be32(b))<<32 | uint64(be32(b[4:]))
	}
	return uint64(le32(b)) | uint64(le32(b[4:]))<<32
}

func (r *Reader) u16(b []byte) uint16 {
	if r.be {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[0]) | uint16(b[1])<<8
}

func (r *Reader) addLinkType(t LinkType) {
	for _, s := range r.info.LinkTypes {
		if s == t {
			return
		}
	}
	r.info.LinkTypes = append(r.info.LinkTypes, t)
}

// isMagicPrefix reports whether b (shorter than 4 bytes) starts a pcap or pcapng magic number.
func isMagicPrefix(b []byte) bool {
	for _, m := range []uint32{pcapMicro, pcapNano, pcapModified, ngSHB} {
		var be, le [4]byte
		be[0], be[1], be[2], be[3] = byte(m>>24), byte(m>>16), byte(m>>8), byte(m)
		le[0], le[1], le[2], le[3] = be[3], be[2], be[1], be[0]
		if bytes.HasPrefix(be[:], b) || bytes.HasPrefix(le[:], b) {
			return true
		}
	}
	return false
}
