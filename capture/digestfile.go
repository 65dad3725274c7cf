package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/wspath/wspath/capture/tcpstream"
)

// DigestVersion is the version of the digest file format WriteDigests writes; ReadDigests reads
// it and every older version. Version 2 is written while the capture is read (ReduceContext):
// sessions as they end, messages of open connections in batches, the capture header last.
const DigestVersion = 2

// digestComment is the comment of a digest file's gzip header (version 2 on), which is not
// compressed: a file cut inside its first compressed block is still known as a digest file.
const digestComment = "wspath digests"

// digestMagic starts every digest file, after gunzip.
const digestMagic = "wspath digests\n"

// Bounds that keep a corrupt or hostile digest file from making the reader allocate much.
const (
	maxDigestSection = 64 << 20 // bytes of one section's body
	digestBatch      = 4096     // messages per message section
)

// Section kinds of a digest file.
const (
	secHeader   = 'H' // JSON: the capture without its sessions
	secFile     = 'F' // a capture file name that packet references point into, numbered from 0
	secSession  = 'S' // JSON: a session without its messages
	secMessages = 'M' // a batch of messages of the last session, in columns
	secEnd      = 'E' // uvarint: the number of sessions; its absence means the file was cut short
	// Version 2: messages and sessions name their connection by a slot number, since the
	// messages of connections open at once come interleaved, before their session.
	secDropped = 'X' // uvarint slot: the messages of that slot belong to no session kept
)

// digestFlush is how many messages of one direction of an open connection ReduceContext holds
// before writing them: what bounds its memory per connection.
const digestFlush = 256

// ErrNewerDigests is returned for a digest file written by a newer wspath.
var ErrNewerDigests = errors.New("digest file from a newer wspath")

// DigestError is a digest file that cannot be read: not one, damaged or cut short. Section is the
// 1-based section where reading stopped (0: the file header).
type DigestError struct {
	File    string
	Section int
	Err     error
}

func (e *DigestError) Error() string {
	if e.Section == 0 {
		return fmt.Sprintf("%s: digest file: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: digest file: section %d: %v", e.File, e.Section, e.Err)
}

func (e *DigestError) Unwrap() error { return e.Err }

// digestHeader is the part of a Capture a digest file keeps apart from its sessions.
type digestHeader struct {
	Files          []FileInfo
	Start, End     time.Time
	Stats          Stats
	Warnings       []Warning
	TCPConnections int
	ServerPorts    []PortCount
}

// WriteDigests writes c as a digest file to w: everything Compare needs from one hop's capture
// (connections with their handshake fields, TCP evidence, per message its direction, times,
// sizes, SHA-256 digests, frames and packet references), and no payload byte: message previews
// are left out. The format is in the README ("Digest files"). ReduceContext writes the same
// while reading the capture, without holding its messages.
func WriteDigests(w io.Writer, c *Capture) error {
	dw := newDigestWriter(w)
	for _, s := range c.Sessions {
		dw.session(s, nil)
	}
	return dw.close(c)
}

type digestWriter struct {
	z     *gzipChunks
	w     *bufio.Writer
	err   error
	files map[string]uint64
	cols  [msgColumns]bytes.Buffer
	n     int // messages in cols
	body  []byte
	slots uint64 // slot numbers given so far
	count int    // sessions written
}

// slotState is what the writer knows of a connection whose messages it began to write before
// its session ended: its slot, and per tcpstream side (0: the side that opened the TCP
// connection) the state its messages are written relative to.
type slotState struct {
	slot   uint64
	client tcpstream.Dir // the side that is the WebSocket client, as known at the session's end
	st     [2]msgState
}

func newDigestWriter(w io.Writer) *digestWriter {
	z := newGzipChunks(w, digestComment, gzipChunkSize)
	dw := &digestWriter{z: z, w: bufio.NewWriterSize(z, 1<<16), files: map[string]uint64{}}
	dw.w.WriteString(digestMagic)
	dw.uvarint(dw.w, DigestVersion)
	return dw
}

// newSlot returns the state of a connection new to the file.
func (dw *digestWriter) newSlot() *slotState {
	dw.slots++
	return &slotState{slot: dw.slots}
}

// session writes s, whose messages not yet written are in s.Messages, and ends its slot; ss is
// its slot when messages of it were written before (nil: none were).
func (dw *digestWriter) session(s *Session, ss *slotState) {
	if ss == nil {
		ss = dw.newSlot()
		ss.client = tcpstream.Dir(ClientToServer) // sides are directions
	}
	for _, dir := range Directions {
		side := ss.client
		if dir == ServerToClient {
			side = 1 - side
		}
		ms := s.Messages(dir)
		for len(ms) > 0 {
			n := min(len(ms), digestBatch)
			for i := range ms[:n] {
				dw.addMessage(&ms[i], &ss.st[side])
			}
			dw.endMessages(ss.slot, side)
			ms = ms[n:]
		}
	}
	head := s.withoutMessages()
	b, err := json.Marshal(&head)
	if err != nil && dw.err == nil {
		dw.err = err
	}
	body := binary.AppendUvarint(dw.body[:0], ss.slot)
	body = binary.AppendUvarint(body, uint64(ss.client))
	dw.body = append(body, b...)
	dw.section(secSession, dw.body)
	dw.count++
}

// dropped says that the messages written for ss belong to no session kept.
func (dw *digestWriter) dropped(ss *slotState) {
	dw.section(secDropped, binary.AppendUvarint(dw.body[:0], ss.slot))
}

// close writes the capture header and the end, and flushes.
func (dw *digestWriter) close(c *Capture) error {
	dw.json(secHeader, digestHeader{Files: c.Files, Start: c.Start, End: c.End, Stats: c.Stats,
		Warnings: c.Warnings, TCPConnections: c.TCPConnections, ServerPorts: c.ServerPorts})
	dw.section(secEnd, binary.AppendUvarint(nil, uint64(dw.count)))
	if dw.err == nil {
		dw.err = dw.w.Flush()
	}
	if err := dw.z.Close(); dw.err == nil {
		dw.err = err
	}
	return dw.err
}

func (dw *digestWriter) uvarint(w io.Writer, v uint64) {
	var b [binary.MaxVarintLen64]byte
	w.Write(b[:binary.PutUvarint(b[:], v)])
}

func (dw *digestWriter) section(kind byte, body []byte) {
	if dw.err != nil {
		return
	}
	dw.w.WriteByte(kind)
	dw.uvarint(dw.w, uint64(len(body)))
	_, dw.err = dw.w.Write(body)
}

func (dw *digestWriter) json(kind byte, v any) {
	b, err := json.Marshal(v)
	if err != nil && dw.err == nil {
		dw.err = err
	}
	dw.section(kind, b)
}

// fileIndex returns the number of a packet reference's file, defining it first if new.
func (dw *digestWriter) fileIndex(name string) uint64 {
	i, ok := dw.files[name]
	if !ok {
		i = uint64(len(dw.files))
		dw.files[name] = i
		dw.section(secFile, []byte(name))
	}
	return i
}

// Columns of a message section: each field of a batch's messages is written together, so that
// gzip sees runs of alike values (sizes, time steps) instead of values interleaved with digests.
const (
	colKind = iota // opcode | flags<<4, and which digests follow
	colLength
	colDigest
	colTime
	colFrames
	colOffset
	colPacket
	colClose
	msgColumns
)

// Bits of a message's kind, above the opcode (4 bits) and the flags (16 bits).
const (
	kindDigest     = 1 << 20 // Digest is not zero
	kindWire       = 1 << 21 // WireDigest differs from Digest and is not zero
	kindWireZero   = 1 << 22 // WireDigest is zero although Digest is not
	kindFirstZero  = 1 << 23 // First is the zero time
	kindLastZero   = 1 << 24 // Last is the zero time
	kindClose      = 1 << 25 // CloseCode or CloseReason is set
	kindKnownFlags = 1<<16 - 1
)

// msgState carries the values messages are written relative to, through one direction of a session.
type msgState struct {
	first  int64  // First of the previous message, in Unix nanoseconds
	end    uint64 // End of the previous message
	packet int64  // Packet.Number of the previous message
	n      int    // messages of the direction read so far (the next one's Index)
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// addMessage adds m to the message section being built; st is its direction's state.
func (dw *digestWriter) addMessage(m *Message, st *msgState) {
	c := &dw.cols
	dw.n++
	kind := uint64(m.Opcode&0xf) | uint64(m.Flags&kindKnownFlags)<<4
	if !m.Digest.IsZero() {
		kind |= kindDigest
	}
	switch {
	case m.WireDigest == m.Digest:
	case m.WireDigest.IsZero():
		kind |= kindWireZero
	default:
		kind |= kindWire
	}
	if m.First.IsZero() {
		kind |= kindFirstZero
	}
	if m.Last.IsZero() {
		kind |= kindLastZero
	}
	if m.CloseCode != 0 || m.CloseReason != "" {
		kind |= kindClose
	}
	dw.uvarint(&c[colKind], kind)
	dw.uvarint(&c[colLength], uint64(m.Length))
	dw.uvarint(&c[colLength], zigzag(m.WireLength-m.Length))
	if kind&kindDigest != 0 {
		c[colDigest].Write(m.Digest[:])
	}
	if kind&kindWire != 0 {
		c[colDigest].Write(m.WireDigest[:])
	}
	if kind&kindFirstZero == 0 {
		t := m.First.UnixNano()
		dw.uvarint(&c[colTime], zigzag(t-st.first))
		st.first = t
	}
	if kind&kindLastZero == 0 {
		dw.uvarint(&c[colTime], zigzag(m.Last.UnixNano()-st.first))
	}
	dw.uvarint(&c[colFrames], uint64(m.Frames))
	dw.uvarint(&c[colOffset], zigzag(int64(m.Offset-st.end)))
	dw.uvarint(&c[colOffset], zigzag(int64(m.End-m.Offset)))
	st.end = m.End
	// The first packet relative to the previous message's, the last to the first.
	for _, p := range [2]PacketRef{m.Packet, m.LastPacket} {
		f := dw.fileIndex(p.File)
		dw.uvarint(&c[colPacket], f)
		dw.uvarint(&c[colPacket], zigzag(int64(p.Number)-st.packet))
		st.packet = int64(m.Packet.Number)
	}
	if kind&kindClose != 0 {
		dw.uvarint(&c[colClose], uint64(m.CloseCode))
		dw.uvarint(&c[colClose], uint64(len(m.CloseReason)))
		c[colClose].WriteString(m.CloseReason)
	}
}

// endMessages writes the messages added as a section of slot's side (a tcpstream side: which
// direction it is, the session says).
func (dw *digestWriter) endMessages(slot uint64, side tcpstream.Dir) {
	c := &dw.cols
	b := binary.AppendUvarint(dw.body[:0], slot)
	b = binary.AppendUvarint(b, uint64(side))
	b = binary.AppendUvarint(b, uint64(dw.n))
	for i := range c {
		b = binary.AppendUvarint(b, uint64(c[i].Len()))
	}
	for i := range c {
		b = append(b, c[i].Bytes()...)
		c[i].Reset()
	}
	dw.body, dw.n = b, 0
	dw.section(secMessages, b)
}

// IsDigestFile reports whether path holds a digest file (of any version), from its first bytes.
func IsDigestFile(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, err := br.Peek(2); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return false, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return false, nil
	}
	if zr.Comment == digestComment {
		return true, nil
	}
	b := make([]byte, len(digestMagic))
	if _, err := io.ReadFull(zr, b); err != nil {
		return false, nil
	}
	return string(b) == digestMagic, nil
}

// ReadDigests reads a digest file written by WriteDigests, streaming: one section at a time. opts'
// Server and Port narrow the sessions as Read does (the others do not apply to digests).
// A file cut short or damaged after its header gives the sessions read before the damage and a
// Warning, as a damaged capture does; a file that is not a digest file, or is from a newer wspath
// (ErrNewerDigests), is a *DigestError.
func ReadDigests(path string, opts Options) (*Capture, error) {
	var senders map[uint64][2]netip.AddrPort
	if opts.evidence != nil {
		// The messages of a version 2 file come before the session that says who sent them,
		// which an evidence read selects them by: a first pass reads the sessions alone. Its
		// errors are the second pass's too.
		senders = map[uint64][2]netip.AddrPort{}
		_, _ = readDigestFile(path, opts, &digestReader{senders: senders, sessionsOnly: true})
	}
	c, err := readDigestFile(path, opts, &digestReader{senders: senders})
	if c == nil {
		return nil, err
	}
	if err != nil {
		c.Warnings = append(c.Warnings, Warning{File: path, Message: err.Error() + "; the sessions before it are read"})
	}
	sortSessions(c.Sessions)  // version 2 has them in the order they ended
	unnameOneView(c.Sessions) // as the read that wrote them did at its end
	sessions := c.Sessions[:0]
	r := &reader{opts: opts.withDefaults()}
	for _, s := range c.Sessions {
		if r.keep(s) {
			s.ID = len(sessions) + 1
			sessions = append(sessions, s)
		}
	}
	c.Sessions = sessions
	return c, nil
}

// readDigestFile reads the digest file at path with dr, which holds what the pass needs.
func readDigestFile(path string, opts Options, dr *digestReader) (*Capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, &DigestError{File: path, Err: fmt.Errorf("not a digest file (%v)", err)}
	}
	dr.r, dr.path, dr.opts, dr.named = bufio.NewReaderSize(zr, 1<<16), path, opts.withDefaults(), zr.Comment == digestComment
	return dr.read()
}

type digestReader struct {
	r       *bufio.Reader
	path    string
	opts    Options
	section int
	files   []string
	body    []byte
	// senders, for an evidence read of a version 2 file, holds who sent each side's messages
	// (tcpstream side) of each slot, as its session says: found by a first pass (sessionsOnly)
	// that skips the messages, as they come before their session.
	senders      map[uint64][2]netip.AddrPort
	sessionsOnly bool
	// named: the gzip header says this is a digest file (version 2 on).
	named bool
}

func (dr *digestReader) fail(err error) error {
	return &DigestError{File: dr.path, Section: dr.section, Err: err}
}

// read reads the whole file; the Capture is nil when not even the header could be read.
func (dr *digestReader) read() (*Capture, error) {
	magic := make([]byte, len(digestMagic))
	if _, err := io.ReadFull(dr.r, magic); err != nil || string(magic) != digestMagic {
		if dr.named && err != nil {
			return nil, dr.fail(cutShort(err))
		}
		return nil, dr.fail(errors.New("not a digest file (no wspath digests header)"))
	}
	v, err := binary.ReadUvarint(dr.r)
	switch {
	case err != nil:
		return nil, dr.fail(errors.New("cut short in its header"))
	case v > DigestVersion:
		return nil, dr.fail(fmt.Errorf("%w: version %d, this wspath reads up to version %d; use a newer wspath", ErrNewerDigests, v, DigestVersion))
	case v == 0:
		return nil, dr.fail(errors.New("version 0 does not exist"))
	case v >= 2:
		c := &Capture{}
		err := dr.slotted(c)
		if dr.section == 1 && err != nil {
			return nil, err // not one section could be read
		}
		return c, err
	}
	kind, body, err := dr.next()
	if err != nil {
		return nil, err
	}
	if kind != secHeader {
		return nil, dr.fail(fmt.Errorf("section %q where the capture header belongs", kind))
	}
	var h digestHeader
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, dr.fail(fmt.Errorf("capture header: %v", err))
	}
	c := &Capture{Files: h.Files, Start: h.Start, End: h.End, Stats: h.Stats, Warnings: h.Warnings,
		TCPConnections: h.TCPConnections, ServerPorts: h.ServerPorts}
	return c, dr.sessions(c)
}

// sessions reads the sections after the header into c, up to the end section.
func (dr *digestReader) sessions(c *Capture) error {
	var (
		s  *Session
		st [2]msgState
	)
	for {
		kind, body, err := dr.next()
		if err != nil {
			return err
		}
		switch kind {
		case secFile:
			dr.files = append(dr.files, string(body))
		case secSession:
			s = new(Session)
			if err := json.Unmarshal(body, s); err != nil {
				return dr.fail(fmt.Errorf("session: %v", err))
			}
			for _, d := range Directions {
				n := s.Counts(d)
				if n.Data < 0 || n.Control < 0 || n.Incomplete < 0 {
					return dr.fail(errors.New("session: negative message count"))
				}
			}
			s.dropMessages()
			st = [2]msgState{}
			c.Sessions = append(c.Sessions, s)
		case secMessages:
			if s == nil {
				return dr.fail(errors.New("messages before any session"))
			}
			if err := dr.messages(s, body, &st, [2]netip.AddrPort{s.Client, s.Server}); err != nil {
				return dr.fail(err)
			}
		case secEnd:
			n, k := binary.Uvarint(body)
			if k <= 0 || n != uint64(len(c.Sessions)) {
				return dr.fail(fmt.Errorf("end section says %d sessions, %d read", n, len(c.Sessions)))
			}
			return nil
		default:
			return dr.fail(fmt.Errorf("unknown section kind %q", kind))
		}
	}
}

// slotted reads the sections of a version 2 file into c, up to the end section: messages come
// before their session, named by slot, and the capture header comes last.
func (dr *digestReader) slotted(c *Capture) error {
	open := map[uint64]*openSlot{}
	header := false
	for {
		kind, body, err := dr.next()
		if err != nil {
			if !header {
				c.Warnings = append(c.Warnings, Warning{File: dr.path, Message: "the capture header (file list, packet counts, warnings of the capture) is at the end of a digest file, and is missing"})
			}
			return err
		}
		b := column{b: body}
		switch kind {
		case secFile:
			dr.files = append(dr.files, string(body))
		case secMessages:
			slot := b.uvarint()
			if b.err != nil {
				return dr.fail(errors.New("message section without its slot"))
			}
			if dr.sessionsOnly {
				continue
			}
			o := open[slot]
			if o == nil {
				o = new(openSlot)
				open[slot] = o
			}
			if err := dr.messages(&o.s, b.b, &o.st, dr.senders[slot]); err != nil {
				return dr.fail(err)
			}
		case secSession:
			slot, client := b.uvarint(), b.uvarint()
			if b.err != nil || client > 1 {
				return dr.fail(errors.New("bad session section head"))
			}
			s := new(Session)
			if err := json.Unmarshal(b.b, s); err != nil {
				return dr.fail(fmt.Errorf("session: %v", err))
			}
			s.dropMessages()
			if dr.sessionsOnly {
				var senders [2]netip.AddrPort
				senders[client], senders[1-client] = s.Client, s.Server
				dr.senders[slot] = senders
			}
			if o := open[slot]; o != nil {
				o.into(s, tcpstream.Dir(client))
				delete(open, slot)
			}
			c.Sessions = append(c.Sessions, s)
		case secDropped:
			delete(open, b.uvarint())
		case secHeader:
			var h digestHeader
			if err := json.Unmarshal(body, &h); err != nil {
				return dr.fail(fmt.Errorf("capture header: %v", err))
			}
			c.Files, c.Start, c.End, c.Stats, c.Warnings = h.Files, h.Start, h.End, h.Stats, h.Warnings
			c.TCPConnections, c.ServerPorts = h.TCPConnections, h.ServerPorts
			header = true
		case secEnd:
			n, k := binary.Uvarint(body)
			switch {
			case k <= 0 || n != uint64(len(c.Sessions)):
				return dr.fail(fmt.Errorf("end section says %d sessions, %d read", n, len(c.Sessions)))
			case !header:
				return dr.fail(errors.New("no capture header before the end section"))
			case len(open) > 0:
				return dr.fail(fmt.Errorf("messages of %d connection(s) without their session", len(open)))
			}
			return dr.atEnd()
		default:
			return dr.fail(fmt.Errorf("unknown section kind %q", kind))
		}
	}
}

// atEnd checks that nothing follows the end section, and so lets gzip check its checksums and
// lengths: a damaged or cut compressed stream is told, even when its sections were all read.
func (dr *digestReader) atEnd() error {
	n, err := io.Copy(io.Discard, dr.r)
	switch {
	case err != nil:
		return dr.fail(fmt.Errorf("after the end section: %w", cutShort(err)))
	case n > 0:
		return dr.fail(fmt.Errorf("%d bytes after the end section", n))
	}
	return nil
}

// openSlot holds the messages of a connection read before its session: in s, by tcpstream
// side until the session says which side is the client.
type openSlot struct {
	s  Session
	st [2]msgState
}

// into moves the messages into s, whose client sent those of side client.
func (o *openSlot) into(s *Session, client tcpstream.Dir) {
	for side := range tcpstream.Dir(2) {
		dir := ClientToServer
		if side != client {
			dir = ServerToClient
		}
		s.SetMessages(dir, o.s.Messages(Direction(side)))
		s.setEntries(dir, o.s.Entries(Direction(side)))
		s.setWide(dir, o.s.wideList(Direction(side)))
		for i := range s.Messages(dir) {
			s.Messages(dir)[i].Direction = dir
		}
	}
}

// next reads the next section. Its body is valid until the next call.
func (dr *digestReader) next() (byte, []byte, error) {
	dr.section++
	kind, err := dr.r.ReadByte()
	if err != nil {
		return 0, nil, dr.fail(cutShort(err))
	}
	n, err := binary.ReadUvarint(dr.r)
	if err != nil {
		return 0, nil, dr.fail(cutShort(err))
	}
	if n > maxDigestSection {
		return 0, nil, dr.fail(fmt.Errorf("section of %d bytes, more than the %d a section may hold", n, maxDigestSection))
	}
	if uint64(cap(dr.body)) < n {
		dr.body = make([]byte, n)
	}
	dr.body = dr.body[:n]
	if _, err := io.ReadFull(dr.r, dr.body); err != nil {
		return 0, nil, dr.fail(cutShort(err))
	}
	return kind, dr.body, nil
}

// cutShort names an end of input inside a file as truncation; gzip's own errors (checksum, bad
// header) pass through.
func cutShort(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("cut short (no end section): the file is truncated")
	}
	return err
}

// column reads the values of one column of a message section.
type column struct {
	b   []byte
	err error
}

func (c *column) uvarint() uint64 {
	v, n := binary.Uvarint(c.b)
	if n <= 0 {
		if c.err == nil {
			c.err = errors.New("message column ends early")
		}
		c.b = nil
		return 0
	}
	c.b = c.b[n:]
	return v
}

func (c *column) bytes(n uint64) []byte {
	if uint64(len(c.b)) < n {
		// Nothing is allocated for what the file claims (a close reason may claim 2^50 bytes):
		// the error ends the section.
		if c.err == nil {
			c.err = errors.New("message column ends early")
		}
		c.b = nil
		return nil
	}
	b := c.b[:n]
	c.b = c.b[n:]
	return b
}

// messages decodes a message section of s, whose messages of direction (or side) d were sent by
// senders[d] to senders[1-d].
func (dr *digestReader) messages(s *Session, body []byte, st *[2]msgState, senders [2]netip.AddrPort) error {
	head := column{b: body}
	dir := head.uvarint()
	count := head.uvarint()
	if head.err != nil || dir > 1 || count > digestBatch {
		return fmt.Errorf("bad message section header (direction %d, %d messages)", dir, count)
	}
	var (
		cols  [msgColumns]column
		lens  [msgColumns]uint64
		total uint64
	)
	for i := range lens {
		lens[i] = head.uvarint()
		// Each term capped just past the body, so that lengths near 2^64 cannot wrap the sum
		// around to the section's size.
		total += min(lens[i], uint64(len(body))+1)
	}
	if head.err != nil || total != uint64(len(head.b)) {
		return errors.New("message columns do not add up to the section")
	}
	for i := range cols {
		cols[i].b = head.bytes(lens[i])
	}
	d := Direction(dir)
	ms, es := s.Messages(d), s.Entries(d)
	// The session's counts say how many follow; bounded, as the file may lie.
	want := min(min(s.Counts(d).Data, 1<<14)+min(s.Counts(d).Control, 1<<14), 1<<14)
	keepMsgs := !dr.opts.Compact && dr.opts.evidence == nil
	if ms == nil && keepMsgs {
		ms = make([]Message, 0, want)
	}
	if es == nil && dr.opts.evidence == nil {
		es = make([]Entry, 0, want)
	}
	for range count {
		m, err := dr.message(&cols, &st[d])
		if err != nil {
			return fmt.Errorf("message %d of %s: %v", st[d].n, d, err)
		}
		m.Index, m.Direction = st[d].n, d
		st[d].n++
		switch {
		case dr.opts.evidence != nil:
			if dr.opts.evidence[evidenceKey{senders[dir], senders[1-dir], m.Index}] {
				ms = append(ms, m)
			}
			continue
		case keepMsgs:
			ms = append(ms, m)
		}
		e, w, wide := entryOf(&m)
		es = append(es, e)
		if wide {
			s.setWide(d, append(s.wideList(d), w))
		}
	}
	for i := range cols {
		if cols[i].err != nil {
			return cols[i].err
		}
		if len(cols[i].b) != 0 {
			return fmt.Errorf("message column %d has %d bytes left over", i, len(cols[i].b))
		}
	}
	s.SetMessages(d, ms)
	s.setEntries(d, es)
	return nil
}

// message decodes one message from the columns.
func (dr *digestReader) message(c *[msgColumns]column, st *msgState) (Message, error) {
	var m Message
	kind := c[colKind].uvarint()
	m.Opcode = Opcode(kind & 0xf)
	m.Flags = Flags(kind >> 4 & kindKnownFlags)
	m.Length = int64(c[colLength].uvarint())
	m.WireLength = m.Length + unzigzag(c[colLength].uvarint())
	if kind&kindDigest != 0 {
		copy(m.Digest[:], c[colDigest].bytes(32))
	}
	switch {
	case kind&kindWire != 0:
		copy(m.WireDigest[:], c[colDigest].bytes(32))
	case kind&kindWireZero == 0:
		m.WireDigest = m.Digest
	}
	if kind&kindFirstZero == 0 {
		st.first += unzigzag(c[colTime].uvarint())
		m.First = time.Unix(0, st.first).UTC()
	}
	if kind&kindLastZero == 0 {
		m.Last = time.Unix(0, st.first+unzigzag(c[colTime].uvarint())).UTC()
	}
	m.Frames = int(c[colFrames].uvarint())
	m.Offset = st.end + uint64(unzigzag(c[colOffset].uvarint()))
	m.End = m.Offset + uint64(unzigzag(c[colOffset].uvarint()))
	st.end = m.End
	for i, p := range [2]*PacketRef{&m.Packet, &m.LastPacket} {
		f := c[colPacket].uvarint()
		if f >= uint64(len(dr.files)) {
			return m, fmt.Errorf("packet reference to file %d, %d defined", f, len(dr.files))
		}
		p.File = dr.files[f]
		p.Number = int(st.packet + unzigzag(c[colPacket].uvarint()))
		if i == 0 {
			st.packet = int64(p.Number)
		}
	}
	if kind&kindClose != 0 {
		m.CloseCode = uint16(c[colClose].uvarint())
		m.CloseReason = string(c[colClose].bytes(c[colClose].uvarint()))
	}
	return m, nil
}
