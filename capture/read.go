package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wspath/wspath/capture/encap"
	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
	"github.com/wspath/wspath/capture/tcpstream"
	"github.com/wspath/wspath/capture/tlsdecrypt"
	"github.com/wspath/wspath/capture/wsframe"
)

// Defaults for the zero Options.
const (
	DefaultPreviewSize    = 64
	DefaultMaxMessageSize = 64 << 20
	DefaultMaxConnBuffer  = tcpstream.DefaultMaxConnBuffer // reassembly's own bounds
	DefaultMaxTotalBuffer = tcpstream.DefaultMaxTotalBuffer
	// maxHeadSize bounds the bytes buffered while waiting for a complete HTTP head.
	maxHeadSize = 16 << 10
	// maxWarnings bounds the per-capture warning list; the rest are counted.
	maxWarnings = 200
)

func (o Options) withDefaults() Options {
	if o.PreviewSize == 0 {
		o.PreviewSize = DefaultPreviewSize
	}
	if o.flushEvery <= 0 {
		o.flushEvery = digestFlush
	}
	if o.PreviewSize < 0 {
		o.PreviewSize = 0
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.MaxConnBuffer <= 0 {
		o.MaxConnBuffer = DefaultMaxConnBuffer
	}
	if o.MaxTotalBuffer <= 0 {
		o.MaxTotalBuffer = DefaultMaxTotalBuffer
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxQuietSessions <= 0 {
		o.MaxQuietSessions = DefaultMaxQuietSessions
	}
	return o
}

// Read reads the capture files of one hop as one time-ordered capture and returns the WebSocket
// sessions found in it. A digest file (see WriteDigests), given alone, is read instead with
// ReadDigests. A file that breaks off (truncated, corrupt record) contributes the packets
// before the break and a Warning. A file that cannot be opened or is not a capture at all is an
// error; when other files of the hop could be read, Read still returns their Capture together
// with that error, so that what could be read is reported.
func Read(paths []string, opts Options) (*Capture, error) {
	return ReadContext(context.Background(), paths, opts)
}

// cancelCheckPackets is how many packets ReadContext reads between looks at its context: often
// enough to stop within milliseconds, rarely enough to cost nothing.
const cancelCheckPackets = 4096

// Progress is how far a read is (Options.Progress).
type Progress struct {
	Name    string // left empty by Read; callers reading several captures at once name each
	Packets int    // packets read so far
	Bytes   int64  // file bytes read so far, estimated from the packets' sizes
	Total   int64  // the files' sizes
	Done    bool   // the read is over
}

// packetRecordOverhead is the file bytes around each packet's data: a pcap record header is 16
// bytes, a pcapng Enhanced Packet Block about 32 plus padding.
const packetRecordOverhead = 20

// totalSize sums the sizes of the files, for progress.
func totalSize(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// ReadContext is Read, stopping early when ctx is done (Ctrl-C on a long read): it then returns
// nil and ctx's error.
func ReadContext(ctx context.Context, paths []string, opts Options) (*Capture, error) {
	return readContext(ctx, paths, opts, nil)
}

// ReduceContext reads the capture files of one hop as ReadContext does and writes them to w as a
// digest file (see WriteDigests) while reading: each session when its connection ends, and the
// messages of a connection still open in batches of a thousand per direction, so that memory
// follows the connections open at once, not the messages. No payload byte is written
// (Options.PreviewSize is taken as negative). The Capture returned has its sessions' counts, not
// their messages. A failed write ends the read: the Capture is then nil. A digest file given
// alone is read and written again.
func ReduceContext(ctx context.Context, paths []string, opts Options, w io.Writer) (*Capture, error) {
	opts.PreviewSize, opts.CountOnly, opts.Compact = -1, false, false
	if len(paths) == 1 {
		if ok, _ := IsDigestFile(paths[0]); ok {
			c, err := ReadContext(ctx, paths, opts)
			if c == nil {
				return nil, err
			}
			if werr := WriteDigests(w, c); werr != nil {
				return nil, werr
			}
			return c, err
		}
	}
	if w == nil {
		return nil, errors.New("no digest file to write to")
	}
	return readContext(ctx, paths, opts, w)
}

// readContext is ReadContext, and ReduceContext when out is not nil.
func readContext(ctx context.Context, paths []string, opts Options, out io.Writer) (*Capture, error) {
	if len(paths) == 0 {
		return nil, errors.New("no capture files")
	}
	if c, ok, err := readDigestHop(paths, opts); ok {
		return c, err
	}
	readers, errs := openCaptures(paths)
	openErr := errors.Join(errs...)
	if len(readers) == 0 {
		return nil, openErr
	}
	m := pcapfile.NewMerger(readers)
	defer m.Close()
	m.MapFiles() // no copy of the files' bytes: see readPackets for a file that shrinks
	r := newReader(opts.withDefaults())
	r.views.multi = len(m.Interfaces()) > 1
	if out != nil {
		r.out, r.outSlots = newDigestWriter(out), map[*Session]*slotState{}
	}
	var keyErrs []error
	for _, k := range opts.KeylogFiles {
		b, err := os.ReadFile(k)
		if err != nil {
			return nil, fmt.Errorf("key log: %w", err)
		}
		if err := r.addKeyFile(k, b); err != nil {
			keyErrs = append(keyErrs, err)
		}
	}
	for _, e := range errs {
		r.warn(Warning{Message: "not read: " + e.Error()})
	}
	if err := r.readPackets(ctx, m, totalSize(paths)); err != nil {
		return nil, err
	}
	c := r.finish(m.Infos())
	if r.out != nil {
		if err := r.out.close(c); err != nil {
			return nil, err
		}
	}
	return c, errors.Join(openErr, errors.Join(keyErrs...))
}

// readDigestHop reads paths when they name a digest file, which stands for a whole hop and must
// come alone; ok is false when none of them is one.
func readDigestHop(paths []string, opts Options) (c *Capture, ok bool, err error) {
	for _, p := range paths {
		if isDigest, _ := IsDigestFile(p); isDigest {
			if len(paths) > 1 {
				return nil, true, fmt.Errorf("%s: a digest file stands for a whole hop: give it alone, not with other files (%d given)", p, len(paths))
			}
			if opts.Bridge {
				return nil, true, fmt.Errorf("%s: a bridge hop needs its capture: a digest file keeps no payload bytes to find the messages in", p)
			}
			c, err := ReadDigests(p, opts)
			return c, true, err
		}
	}
	return nil, false, nil
}

// openCaptures opens the capture files it can, and returns the errors of those it cannot.
func openCaptures(paths []string) ([]*pcapfile.Reader, []error) {
	var (
		readers []*pcapfile.Reader
		errs    []error
	)
	for _, p := range paths {
		f, err := pcapfile.Open(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		readers = append(readers, f)
	}
	return readers, errs
}

// readPackets reads every packet of m, time-ordered, reporting progress (of total bytes of
// capture) and looking for cancellation every cancelCheckPackets packets, and writing the
// sessions ended so far to the digest file when there is one. Unless Options.Serial (or there is
// one core only), the files are read and the packets' headers decoded ahead, on another goroutine
// (see feed). A mapped file that shrinks while being read faults: the read then ends with the
// Merger's error for it, instead of the process.
func (r *reader) readPackets(ctx context.Context, m *pcapfile.Merger, total int64) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	prog := Progress{Total: total}
	fr := feedReader{m: m}
	if r.opts.Serial || runtime.GOMAXPROCS(0) == 1 {
		if err := catchFault(m, func() error { return r.readSerial(ctx, &fr, &prog) }); err != nil {
			return err
		}
	} else {
		f := startFeed(&fr)
		fault, err := catching(func() error { return r.readBatches(ctx, f, &prog) })
		f.stop() // its batches are garbage from here on, before the caller hears of the end
		if fault != nil {
			return faultError(m, fault) // the Merger is the caller's again
		}
		if err != nil {
			return err
		}
	}
	r.addCounts(&fr.counts)
	prog.Done = true
	if r.opts.Progress != nil {
		r.opts.Progress(prog)
	}
	return nil
}

// catchFault runs read, and returns the error for a memory fault in it that a mapped file of m
// shrinking while being read caused (see pcapfile's MapFiles); it panics again with any other.
// The reader's state is then half way through a packet: the read must end. No other goroutine
// may read m.
func catchFault(m *pcapfile.Merger, read func() error) error {
	fault, err := catching(read)
	if fault != nil {
		return faultError(m, fault)
	}
	return err
}

// catching runs read, and returns its error or what it panicked with.
func catching(read func() error) (fault any, err error) {
	defer func() { fault = recover() }()
	return nil, read()
}

// faultError returns m's error for fault, recovered from a panic, or panics again with it when it
// is not the fault of a mapped file that shrank.
func faultError(m *pcapfile.Merger, fault any) error {
	if err := m.FaultError(fault); err != nil {
		return err
	}
	panic(fault)
}

// readBatches reads the batches of f until the last one, or until ctx is done or writing the
// digest file failed.
func (r *reader) readBatches(ctx context.Context, f *feed, prog *Progress) error {
	n := 0
	for {
		b := f.next()
		for i := range b.pkts {
			if n++; n%cancelCheckPackets == 0 {
				if err := r.progress(ctx, prog); err != nil {
					return err
				}
			}
			fp := &b.pkts[i]
			if fp.err != nil {
				r.warn(Warning{Message: fp.err.Error()})
				continue
			}
			if err := r.take(prog, &fp.p, &fp.seg, fp.decErr, fp.secrets); err != nil {
				return err
			}
		}
		last := b.last
		f.release(b)
		if last {
			return nil
		}
	}
}

// readSerial is readBatches on the caller's goroutine alone: each packet goes from the Merger
// to the reader, decoded and counted as the feed does.
func (r *reader) readSerial(ctx context.Context, fr *feedReader, prog *Progress) error {
	var seg tcpdecode.Segment
	for n := 1; ; n++ {
		if n%cancelCheckPackets == 0 {
			if err := r.progress(ctx, prog); err != nil {
				return err
			}
		}
		p, err := fr.m.NextPacket()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			r.warn(Warning{Message: err.Error()})
			continue
		}
		decErr := tcpdecode.Decode(p.LinkType, p.Data, &seg)
		secrets := fr.count(p, &seg, decErr == nil)
		if err := r.take(prog, p, &seg, decErr, secrets); err != nil {
			return err
		}
	}
}

// progress looks for cancellation and reports progress: every cancelCheckPackets packets.
func (r *reader) progress(ctx context.Context, prog *Progress) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.opts.Progress != nil {
		r.opts.Progress(*prog)
	}
	return nil
}

// take counts packet p in prog, reads it (see packet) and writes the sessions it ended to the
// digest file: the one step of readBatches and readSerial alike.
func (r *reader) take(prog *Progress, p *pcapfile.Packet, seg *tcpdecode.Segment, decErr error, secrets []byte) error {
	prog.Packets++
	prog.Bytes += int64(p.CaptureLength) + packetRecordOverhead
	r.packet(p, seg, decErr, secrets)
	return r.flushSessions()
}

// flushSessions writes the sessions ended so far to the digest file, when there is one, and returns
// the error of the write.
func (r *reader) flushSessions() error {
	if r.out == nil {
		return nil
	}
	r.writeSessions()
	return r.out.err
}

// writeSessions writes the sessions ended since the last call to the digest file, and drops
// their messages.
func (r *reader) writeSessions() {
	for _, s := range r.sessions[r.written:] {
		r.out.session(s, r.outSlots[s])
		delete(r.outSlots, s)
		s.dropMessages()
	}
	r.written = len(r.sessions)
}

// reader is the state of one Read: the decoder, the TCP assembler and what was found so far.
type reader struct {
	opts     Options
	encap    *encap.Decoder // what tcpdecode gives up on: tunnels and fragments
	asm      *tcpstream.Assembler
	inflate  *wsframe.InflatePool // shared by the connections' permessage-deflate Inflaters
	keys     *tlsdecrypt.Keylog
	capt     Capture
	dropped  int // warnings past maxWarnings
	sessions []*Session
	streams  []*Stream // bridged TCP streams (Options.Bridge)
	bridged  int       // their bytes kept, bounded by Options.MaxTotalBuffer
	// files holds per-file counts (FileInfo.Stats); file is the latest packet's, fileName its name.
	files    map[string]*fileCount
	file     *fileCount
	fileName string
	// unknownLink counts packets per link type wspath cannot decode, for one warning each.
	unknownLink map[pcapfile.LinkType]*linkCount
	// held is the bytes all connections hold beyond TCP reassembly (HTTP heads, resync
	// buffers), bounded by Options.MaxTotalBuffer; stops counts the connections stopped for it.
	held  int
	stops linkCount
	// dataSegs and dataBytes count the TCP segments carrying payload and their payload bytes, to
	// say how many packets the acknowledged holes stand for.
	dataSegs  int
	dataBytes uint64
	// cutHeaders counts packets whose TCP/IP headers the snap length cut, naming the first.
	cutHeaders linkCount
	cutAt      int // capture length of the first such packet
	// keyFiles are the key log files given, for the warning when they decrypt nothing.
	keyFiles []keyFile
	// quiet counts the quiet sessions kept (see Options.MaxQuietSessions); summarised, those
	// counted instead, by server port and outcome (Count unused in the key).
	quiet      int
	summarised map[SummaryCount]int
	// ports counts TCP connections per server port.
	ports map[uint16]int
	// cut counts packets cut by the snap length, naming the first.
	cut    linkCount
	cutLen [2]int // capture and wire length of the first cut packet
	// previews is the unused part of the block that message previews are carved from, so that a
	// message costs no allocation of its own; see previewBuf.
	previews []byte
	// out, with ReduceContext, is the digest file being written; outSlots the state of sessions
	// ended whose messages were partly written already; written how many of sessions are.
	out      *digestWriter
	outSlots map[*Session]*slotState
	written  int
	// freeBlocks and freeEntries hold message and entry blocks given back by finished
	// connections, for reuse.
	freeBlocks  [][]Message
	freeEntries [][]Entry
	// freeHandshake holds handshake states given back by connections, for reuse.
	freeHandshake []*handshakeState
	// strs holds the strings shared by the sessions' requests (see intern).
	strs map[string]string
	// stamps numbers the file names of the packets the connections keep (conn.start, conn.last).
	stamps packet.Files
	// views numbers the interfaces packets were captured on, whose copies of one connection are
	// kept apart (see views).
	views views
}

// keyFile is a key log file as given and parsed.
type keyFile struct {
	name    string
	entries int
	bad     int
}

// fileCount is what one file's packets became.
type fileCount struct {
	st     Stats
	unused map[unusedKey]int
	first  int // order of first appearance
}

// unusedKey is one reason for not using packets: an encap.Reason, or a link type.
type unusedKey struct {
	why  encap.Reason
	link pcapfile.LinkType
}

type linkCount struct {
	first Warning // names the first packet skipped
	n     int
}

func newReader(opts Options) *reader {
	r := &reader{opts: opts, encap: encap.NewDecoder(encap.Config{Ports: opts.TunnelPorts}),
		unknownLink: map[pcapfile.LinkType]*linkCount{}, files: map[string]*fileCount{},
		inflate: wsframe.NewInflatePool(opts.MaxTotalBuffer)}
	r.keys, _ = tlsdecrypt.ParseKeylog(nil)
	r.asm = tcpstream.NewAssembler(tcpstream.Config{
		MaxConnBuffer:  opts.MaxConnBuffer,
		MaxTotalBuffer: opts.MaxTotalBuffer,
		MaxConnections: opts.MaxConnections,
	}, r.newConn)
	return r
}

// addKeyFile adds the key log file named name. A file with lines that do not parse and not one
// usable entry is not a key log (garbage, a capture given by mistake): an error naming the file and
// its first bad line; the capture is then read without it. A file that parses but decrypts nothing
// here is a warning at the end of the read (see keylogWarnings).
func (r *reader) addKeyFile(name string, b []byte) error {
	k, errs := tlsdecrypt.ParseKeylog(b)
	r.keyFiles = append(r.keyFiles, keyFile{name: name, entries: k.Len(), bad: len(errs)})
	if k.Len() == 0 && len(errs) > 0 {
		return fmt.Errorf("key log %s: %w (not an NSS key log: no line is CLIENT_RANDOM, CLIENT_TRAFFIC_SECRET_0 or another SSLKEYLOGFILE label with its secrets)", name, errs[0])
	}
	r.keys.Add(k)
	for _, e := range errs {
		r.warn(Warning{File: name, Message: e.Error()})
	}
	return nil
}

// addKeys adds key log lines; lines that do not parse are warnings naming the source and line.
func (r *reader) addKeys(source string, b []byte) {
	k, errs := tlsdecrypt.ParseKeylog(b)
	r.keys.Add(k)
	for _, e := range errs {
		r.warn(Warning{File: source, Message: e.Error()})
	}
}

func (r *reader) warn(w Warning) {
	if len(r.capt.Warnings) >= maxWarnings {
		r.dropped++
		return
	}
	r.capt.Warnings = append(r.capt.Warnings, w)
}

// packet reads one packet p: its headers decoded (the fast path gave seg or decErr), its TCP
// segment reassembled, counted where the feed did not count it. secrets are the key log lines of
// the Decryption Secrets Blocks read since the packet before.
func (r *reader) packet(p *pcapfile.Packet, seg *tcpdecode.Segment, decErr error, secrets []byte) {
	if len(secrets) > 0 {
		// A pcapng Decryption Secrets Block: its key log lines count like --keylog's.
		r.addKeys(p.File+": decryption secrets block", secrets)
	}
	seg.Iface = r.views.of(p, seg.Iface)
	if decErr == nil { // plain TCP, counted by the feed
		r.views.way(seg)
		r.asm.Add(seg, packet.Meta{Time: p.Time, File: p.File, Number: p.Number})
		return
	}
	fc := r.fileCount(p.File)
	if !r.decode(p, decErr, seg, fc) {
		return
	}
	r.capt.Stats.TCP++
	fc.st.TCP++
	if seg.PayloadLength > 0 {
		r.dataSegs++
		r.dataBytes += uint64(seg.PayloadLength)
	}
	r.views.way(seg)
	r.asm.Add(seg, packet.Meta{Time: p.Time, File: p.File, Number: p.Number})
}

// addCounts adds the feed's counts to the capture's statistics (time span, packets cut by the
// snap length, packets and TCP packets) and its files'.
func (r *reader) addCounts(fc *feedCounts) {
	st := &r.capt.Stats
	st.Packets += fc.packets
	st.TCP += fc.tcp
	r.dataSegs += fc.dataSegs
	r.dataBytes += fc.dataBytes
	r.capt.Start, r.capt.End = fc.start, fc.end
	st.Truncated += fc.truncated
	r.cut = linkCount{first: fc.cut, n: fc.truncated}
	r.cutLen = fc.cutLen
	for name, n := range fc.files {
		f := r.fileCount(name)
		f.st.Packets += n.packets
		f.st.TCP += n.tcp
	}
}

// decode decodes the headers of p, which the fast path could not (err), into seg: tunnels and
// fragments. It reports false when p holds no TCP segment to reassemble (held for reassembly, or
// unusable and counted as such).
func (r *reader) decode(p *pcapfile.Packet, err error, seg *tcpdecode.Segment, fc *fileCount) bool {
	if errors.Is(err, tcpdecode.ErrNotTCP) || errors.Is(err, tcpdecode.ErrFragment) {
		var done bool
		if done, err = r.decodeEncap(p, fc, seg); done {
			return false
		}
	}
	if err != nil {
		r.undecodable(p, fc, err)
		return false
	}
	return true
}

// decodeEncap decodes a packet that is not plain TCP (tunnels and fragments, off the fast path)
// into seg. done means p is dealt with: a fragment held until its datagram is whole, or
// counted as unused; otherwise err is nil or a truncation left to undecodable.
func (r *reader) decodeEncap(p *pcapfile.Packet, fc *fileCount, seg *tcpdecode.Segment) (done bool, err error) {
	st, fs := &r.capt.Stats, &fc.st
	frags := r.encap.FragmentsSeen()
	err = r.encap.Decode(p.LinkType, p.Data, p.Time, seg)
	if r.encap.FragmentsSeen() > frags {
		st.Fragments++
		fs.Fragments++
	}
	switch {
	case err == nil:
		if r.encap.Encapsulated() {
			st.Tunneled++
			fs.Tunneled++
		}
	case errors.Is(err, encap.ErrHeld):
		return true, nil
	case errors.Is(err, tcpdecode.ErrTruncated):
	default:
		r.unused(fc, p, err)
		return true, nil
	}
	return false, err
}

// undecodable counts a packet whose headers could not be decoded, by why: cut by the snap
// length, shorter than they claim, an unknown link type, or malformed.
func (r *reader) undecodable(p *pcapfile.Packet, fc *fileCount, err error) {
	st, fs := &r.capt.Stats, &fc.st
	switch {
	case errors.Is(err, tcpdecode.ErrTruncated):
		// Headers cut by the snap length: counted in Stats.Truncated, nothing to reassemble.
		if p.CaptureLength >= p.Length {
			st.Malformed++
			fs.Malformed++
			fc.unused[unusedKey{why: encap.Reason{Kind: encap.KindMalformed, What: "headers shorter than they claim", Num: -1}}]++
			return
		}
		if r.cutHeaders.n == 0 {
			r.cutHeaders.first, r.cutAt = Warning{File: p.File, Packet: p.Number}, p.CaptureLength
		}
		r.cutHeaders.n++
		fc.unused[unusedKey{why: encap.Reason{Kind: encap.KindTruncated, What: "headers cut by the snap length", Num: -1}}]++
	case errors.Is(err, tcpdecode.ErrUnknownLinkType):
		st.UnknownLink++
		fs.UnknownLink++
		fc.unused[unusedKey{link: p.LinkType}]++
		u := r.unknownLink[p.LinkType]
		if u == nil {
			u = &linkCount{first: Warning{File: p.File, Packet: p.Number}}
			r.unknownLink[p.LinkType] = u
		}
		u.n++
	default:
		st.Malformed++
		fs.Malformed++
		fc.unused[unusedKey{why: encap.Reason{Kind: encap.KindMalformed, What: "headers", Num: -1}}]++
		r.warn(Warning{File: p.File, Packet: p.Number, Message: err.Error()})
	}
}

// ackedHoles sums up the holes of the sessions read that the peers acknowledged (GapAcked): the
// capture, not the network, lost those packets (tcpdump's "packets dropped by kernel", which the
// file does not record). It returns "" when there are none.
func (r *reader) ackedHoles() string {
	var holes, conns int
	var bytes uint64
	for _, s := range r.sessions {
		n := 0
		for _, d := range Directions {
			if s.OneWay() {
				break // the side never captured is one hole, which oneWayWarning explains
			}
			for _, g := range s.TCP[d].Gaps() {
				if g.Reason == GapAcked {
					n++
					bytes += g.Length
				}
			}
		}
		if n > 0 {
			holes += n
			conns++
		}
	}
	if holes == 0 {
		return ""
	}
	// Packets' worth: the hole bytes over the mean payload of the data segments captured.
	pkts := uint64(holes)
	if r.dataSegs > 0 && r.dataBytes > 0 {
		mean := max(r.dataBytes/uint64(r.dataSegs), 1)
		pkts = max((bytes+mean-1)/mean, uint64(holes))
	}
	return fmt.Sprintf("the capture misses about %d packets' worth of bytes (%d bytes) that the peers acknowledged (%d holes in %d connections): it dropped packets (tcpdump's \"packets dropped by kernel\"); losses cannot be judged inside those holes",
		pkts, bytes, holes, conns)
}

// oneWayWarning says how many connections the capture saw one way only, and which way.
func (r *reader) oneWayWarning() string {
	var n [2]int
	for _, s := range r.sessions {
		if d, ok := s.Unseen(); ok {
			n[d]++
		}
	}
	if n == [2]int{} {
		return ""
	}
	var parts []string
	for d, from := range [2]string{"from the client", "from the server"} {
		if n[d] > 0 {
			parts = append(parts, fmt.Sprintf("%d without a packet %s", n[d], from))
		}
	}
	return fmt.Sprintf("%d WebSocket connection(s) captured one way only (%s): asymmetric routing, or a capture filter on one direction (tcpdump -Q in/out, src/dst host); what this capture did not see is not judged here",
		n[0]+n[1], strings.Join(parts, ", "))
}

// fileCount returns the counts of the named file, the latest one's without a map lookup.
func (r *reader) fileCount(name string) *fileCount {
	if r.file != nil && name == r.fileName {
		return r.file
	}
	fc := r.files[name]
	if fc == nil {
		fc = &fileCount{unused: map[unusedKey]int{}, first: len(r.files)}
		r.files[name] = fc
	}
	r.file, r.fileName = fc, name
	return fc
}

// unused counts a packet the slow path could not use, err saying why.
func (r *reader) unused(fc *fileCount, p *pcapfile.Packet, err error) {
	st, fs := &r.capt.Stats, &fc.st
	why := r.encap.Reason()
	switch why.Kind {
	case encap.KindNotTCP:
		st.NonTCP++
		fs.NonTCP++
	case encap.KindUnknownTunnel:
		st.UnknownTunnel++
		fs.UnknownTunnel++
	case encap.KindFragment:
		return // counted in FragmentsLost at the end
	default:
		st.Malformed++
		fs.Malformed++
		if fs.Malformed <= 10 { // the first few by packet: a tunnel header wspath misreads shows here
			r.warn(Warning{File: p.File, Packet: p.Number, Message: err.Error() + ": " + why.String()})
		}
	}
	fc.unused[unusedKey{why: why}]++
}

func (r *reader) finish(infos []pcapfile.Info) *Capture {
	// The connections still open mostly become sessions (a flood's waiting ones all do):
	// room for them at once, instead of the list's arrays doubling as garbage.
	r.sessions = slices.Grow(r.sessions, r.asm.Live())
	r.asm.Flush()
	unnameOneView(r.sessions)
	switch {
	case len(r.sessions) == 0:
		r.sessions = nil
	case len(r.sessions) < cap(r.sessions)/2:
		r.sessions = slices.Clone(r.sessions)
	}
	if r.out != nil {
		r.writeSessions() // in the order they ended, before they are sorted
	}
	c := &r.capt
	r.fileInfos(infos)
	r.totalUnused()
	r.unknownLinkWarnings()
	if w := r.ackedHoles(); w != "" {
		r.warn(Warning{Message: w})
	}
	if w := r.oneWayWarning(); w != "" {
		r.warn(Warning{Message: w})
	}
	r.snapWarnings()
	r.keylogWarnings()
	r.portCounts()
	r.floodWarnings()
	if r.stops.n > 0 {
		r.stops.first.Message = fmt.Sprintf("buffer limit: %d connection(s) from here on no longer read: HTTP heads and frame resync buffers of all connections passed %d bytes",
			r.stops.n, r.opts.MaxTotalBuffer)
		r.warn(r.stops.first)
	}
	if r.dropped > 0 {
		c.Warnings = append(c.Warnings, Warning{Message: strconv.Itoa(r.dropped) + " more warnings not shown"})
	}
	sortSessions(r.sessions)
	for i, s := range r.sessions {
		s.ID = i + 1
	}
	c.Sessions = r.sessions
	sort.SliceStable(r.streams, func(i, j int) bool { return r.streams[i].Start.Before(r.streams[j].Start) })
	for i, s := range r.streams {
		s.ID = i + 1
	}
	c.Streams = r.streams
	// c lives inside r: drop what only reading needed, which would live as long as c.
	r.freeBlocks, r.freeEntries, r.previews, r.freeHandshake, r.strs = nil, nil, nil, nil, nil
	return c
}

// fileInfos lists the files read, with their counts and what their own statistics admit.
func (r *reader) fileInfos(infos []pcapfile.Info) {
	for _, in := range infos {
		fi := FileInfo{Name: in.Name, Format: in.Format, Gzip: in.Gzip, Packets: in.Packets,
			Bytes: in.Bytes, First: in.First, Last: in.Last}
		if fc := r.files[in.Name]; fc != nil {
			fi.Stats = fc.st
			fi.Unused = unusedList(fc.unused)
			r.warnUnusable(in.Name, &fi.Stats, fi.Unused)
		}
		for _, lt := range in.LinkTypes {
			fi.LinkTypes = append(fi.LinkTypes, lt.String())
		}
		fi.Drops = dropsOf(in.Stats)
		if d := fi.Drops; d != nil && d.Dropped > 0 {
			r.warn(Warning{File: in.Name, Message: dropWarning(d)})
		}
		r.capt.Files = append(r.capt.Files, fi)
	}
}

// unknownLinkWarnings warns once per link type that was not read, in link type order.
func (r *reader) unknownLinkWarnings() {
	lts := make([]pcapfile.LinkType, 0, len(r.unknownLink))
	for lt := range r.unknownLink {
		lts = append(lts, lt)
	}
	sort.Slice(lts, func(i, j int) bool { return lts[i] < lts[j] })
	for _, lt := range lts {
		u := r.unknownLink[lt]
		u.first.Message = fmt.Sprintf("link type %s is not supported: %d packet(s) from here on skipped", lt, u.n)
		r.warn(u.first)
	}
}

// snapWarnings says how many packets the snap length cut, and what that costs.
func (r *reader) snapWarnings() {
	if r.cutHeaders.n > 0 {
		r.cutHeaders.first.Message = fmt.Sprintf("snap length: %d packet(s) from here on cut before the end of their TCP/IP headers (this one after %d bytes) were not read; capture with a larger snap length (tcpdump -s 0)",
			r.cutHeaders.n, r.cutAt)
		r.warn(r.cutHeaders.first)
	}
	if r.cut.n > r.cutHeaders.n { // the header-cut ones have their own warning above
		r.cut.first.Message = fmt.Sprintf("snap length: %d of %d packets were cut short (this one, the first, kept %d of its %d bytes): messages in them cannot be read in full, so this hop may lack messages the network delivered; capture with tcpdump -s 0",
			r.cut.n, r.capt.Stats.Packets, r.cutLen[0], r.cutLen[1])
		r.warn(r.cut.first)
	}
}

// sortSessions puts sessions, listed in the order they ended, in the order of a Capture: by
// start, then client address.
func sortSessions(ss []*Session) {
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := ss[i], ss[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Client.String() < b.Client.String()
	})
}

// keylogWarnings warns about key logs that decrypt nothing: every TLS session of the capture stayed
// encrypted although key logs were given (from another run, or for another server).
func (r *reader) keylogWarnings() {
	if len(r.keyFiles) == 0 {
		return
	}
	tls, decrypted := 0, 0
	for _, s := range r.sessions {
		if s.TLS() != nil {
			tls++
			if s.TLS().Decrypted {
				decrypted++
			}
		}
	}
	if tls == 0 || decrypted > 0 {
		return
	}
	for _, k := range r.keyFiles {
		r.warn(Warning{File: k.name, Message: fmt.Sprintf("%d key log entries, none for the %d TLS session(s) here: a key log from another run or another client? Those sessions are compared by TLS record counts only",
			k.entries, tls)})
	}
}

// portCounts fills Capture.ServerPorts, most connections first.
func (r *reader) portCounts() {
	for p, n := range r.ports {
		r.capt.ServerPorts = append(r.capt.ServerPorts, PortCount{Port: p, Conns: n})
	}
	sort.Slice(r.capt.ServerPorts, func(i, j int) bool {
		a, b := r.capt.ServerPorts[i], r.capt.ServerPorts[j]
		if a.Conns != b.Conns {
			return a.Conns > b.Conns
		}
		return a.Port < b.Port
	})
}

// totalUnused fills the capture's Unused list from the files' and counts lost fragments.
func (r *reader) totalUnused() {
	all := map[unusedKey]int{}
	for _, fc := range r.files {
		for k, n := range fc.unused {
			all[k] += n
		}
	}
	ft := r.encap.FragmentTotals()
	st := &r.capt.Stats
	st.FragmentsLost = ft.Lost
	if ft.Lost > 0 {
		all[unusedKey{why: encap.Reason{Kind: encap.KindFragment, What: "ip fragments never reassembled", Num: -1}}] += ft.Lost
	}
	r.capt.Unused = unusedList(all)
	if ft.Overlaps > 0 {
		r.warn(Warning{Message: fmt.Sprintf("%d IP datagram(s) dropped: overlapping fragments carried different bytes (an evasion attempt or a broken sender); their contents are not read", ft.Overlaps)})
	}
	if ft.Lost > 0 {
		r.warn(Warning{Message: fmt.Sprintf("%d IP fragment(s) never reassembled into a whole datagram (a part not captured, or more than 16 MiB of fragments pending); what they carried is missing", ft.Lost)})
	}
}

// unusedList turns counts by reason into the sorted Unused list.
func unusedList(m map[unusedKey]int) []Unused {
	var out []Unused
	for k, n := range m {
		u := Unused{Kind: k.why.Kind.String(), Reason: k.why.String(), Packets: n}
		if k.link != 0 || k.why.Kind == encap.KindNone {
			u.Kind, u.Reason = "unknown_link", "link type "+k.link.String()
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Packets != b.Packets {
			return a.Packets > b.Packets
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Reason < b.Reason
	})
	return out
}

// warnUnusable warns when most of a file's packets could not be used, naming the main reasons:
// such a hop would otherwise look as if it had lost everything.
func (r *reader) warnUnusable(name string, st *Stats, us []Unused) {
	n := UnusedPackets(us)
	if st.Packets < 10 || 2*n <= st.Packets {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of its %d packets (%d%%) could not be used:", n, st.Packets, 100*n/st.Packets)
	for i, u := range us {
		if i == 3 {
			fmt.Fprintf(&b, "; %d more reason(s)", len(us)-3)
			break
		}
		sep := ";"
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %d %s (%s)", sep, u.Packets, strings.ReplaceAll(u.Kind, "_", " "), u.Reason)
	}
	b.WriteString("; WebSocket traffic in it may be missed")
	r.warn(Warning{File: name, Message: b.String()})
}

// keep decides whether a finished session is reported, applying Options.Server and Options.Port.
func (r *reader) keep(s *Session) bool {
	if r.opts.Server.IsValid() {
		if s.Server.Addr() != r.opts.Server.Addr() {
			return false
		}
		if r.opts.Server.Port() != 0 && s.Server.Port() != r.opts.Server.Port() {
			return false
		}
	}
	if r.opts.Port != 0 && s.Server.Port() != r.opts.Port {
		return false
	}
	if outcome := quietOutcome(s); outcome != "" {
		if r.quiet >= r.opts.MaxQuietSessions {
			if r.summarised == nil {
				r.summarised = map[SummaryCount]int{}
			}
			r.summarised[SummaryCount{Port: s.Server.Port(), Outcome: outcome}]++
			return false
		}
		r.quiet++
	}
	return true
}

// quietOutcome says how the handshake of a session that carried no message ended when its
// WebSocket never opened ("unanswered", "refused"); "" for any other session.
func quietOutcome(s *Session) string {
	if s.Request == nil || s.Response != nil && s.Response.Status == 101 {
		return ""
	}
	for _, d := range Directions {
		if len(s.Messages(d)) > 0 || s.Counts(d) != (Counts{}) {
			return ""
		}
	}
	if s.Response == nil {
		return "unanswered"
	}
	return "refused"
}

// floodWarnings says what the bounds on tracked connections and quiet sessions left out.
func (r *reader) floodWarnings() {
	if n := r.asm.Totals().Evicted; n > 0 {
		r.warn(Warning{Message: fmt.Sprintf("%d TCP connection(s) were ended early to keep at most %d tracked at once (a flood?): the least recently active went first, and packets they sent later were read as new connections picked up mid-stream", n, r.opts.MaxConnections)})
	}
	if len(r.summarised) == 0 {
		return
	}
	total := 0
	for k, n := range r.summarised {
		k.Count = n
		r.capt.Summarised = append(r.capt.Summarised, k)
		total += n
	}
	sort.Slice(r.capt.Summarised, func(i, j int) bool {
		a, b := r.capt.Summarised[i], r.capt.Summarised[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Outcome < b.Outcome
	})
	var parts []string
	for i, c := range r.capt.Summarised {
		if i == 8 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("port %d %s: %d", c.Port, c.Outcome, c.Count))
	}
	r.warn(Warning{Message: fmt.Sprintf("%d more WebSocket Upgrade(s) that never opened and carried no message are counted, not listed (the first %d are): %s", total, r.opts.MaxQuietSessions, strings.Join(parts, ", "))})
}

// stopped counts a connection stopped for the bound on held bytes, m its last packet.
func (r *reader) stopped(m packet.Meta) {
	if r.stops.n == 0 {
		r.stops.first = Warning{File: m.File, Packet: m.Number}
	}
	r.stops.n++
}

// Previews are carved from blocks of previewBlock bytes when Options.PreviewSize is at most
// maxSlabPreview; a larger preview is left to append, which allocates only what a message fills.
const (
	previewBlock   = 64 << 10
	maxSlabPreview = 1 << 10
)

// previewBuf returns an empty slice with capacity n for one message's preview (nil when n is
// larger than maxSlabPreview). Each slice has its own bytes in a shared block (capacity capped, so
// appends never reach a neighbour); the block is kept alive by the messages that point into it.
func (r *reader) previewBuf(n int) []byte {
	if n > maxSlabPreview {
		return nil
	}
	if len(r.previews) < n {
		r.previews = make([]byte, previewBlock)
	}
	b := r.previews[:0:n]
	r.previews = r.previews[n:]
	return b
}

// dropsOf sums the drop counters of a file's interfaces; nil when no statistics block counted
// drops.
func dropsOf(stats []pcapfile.InterfaceStats) *Drops {
	var d *Drops
	for _, st := range stats {
		n, ok := st.Dropped()
		if !ok {
			continue
		}
		if d == nil {
			d = &Drops{Received: -1}
		}
		d.Dropped += n
		if st.Received >= 0 {
			d.Received = max(d.Received, 0) + st.Received
		}
		if !st.Start.IsZero() && (d.Start.IsZero() || st.Start.Before(d.Start)) {
			d.Start = st.Start
		}
		if end := st.End; !end.IsZero() && end.After(d.End) {
			d.End = end
		}
	}
	return d
}

func dropWarning(d *Drops) string {
	recv := ""
	if d.Received >= 0 {
		recv = fmt.Sprintf(" of %d received", d.Received)
	}
	return fmt.Sprintf("the capturing system dropped %d packets%s (pcapng interface statistics): messages missing at this hop may be missing from the capture only, not from the network", d.Dropped, recv)
}
