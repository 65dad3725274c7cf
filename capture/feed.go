package capture

import (
	"io"
	"runtime/debug"
	"time"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// A read runs in two stages on two goroutines, so that a hop's read uses two cores: the feed reads
// the files' packets (pcapfile) and decodes their headers on tcpdecode's fast path, handing them
// over in batches; the reader counts them and does everything that has state (tunnels and
// fragments, reassembly, frames, sessions, warnings), in the packets' order. What the feed does is
// a pure function of the files, so the result is the same on any number of cores.
const (
	// feedBatchPackets and feedBatchBytes bound a batch: large enough that handing one over costs
	// next to nothing per packet, small enough to stay in cache. The bytes are those of the
	// packets that the reader reads, in the Merger's buffers (pcapfile's KeepData): they bound
	// the buffers that the batches hold.
	feedBatchPackets = 512
	feedBatchBytes   = 512 << 10
	// feedBatches is how many batches a read holds: one being filled, one being read, one
	// waiting, so that neither stage waits for the other's every batch.
	feedBatches = 3
)

// feedPacket is one packet of a batch, or an error of the read where the packet would be.
type feedPacket struct {
	err error // the Merger's error in this place; nothing else is set
	// p is the packet. Its Data is set when decoding failed (the slow path decodes it again);
	// nil otherwise, as the reader needs only seg. Its bytes lie in a Buffer the batch holds.
	p pcapfile.Packet
	// seg is the packet's TCP segment, when decErr is nil.
	seg    tcpdecode.Segment
	decErr error
	// secrets holds the key log lines of pcapng Decryption Secrets Blocks read since the packet
	// before, to be added before this packet is used.
	secrets []byte
}

// feedBatch is a run of packets in file order.
type feedBatch struct {
	pkts     []feedPacket
	bytes    int // of the packets, that the reader reads (seg.Payload, or p.Data)
	maxBytes int
	// bufs are the Merger's buffers that the packets' bytes lie in, held until the batch is
	// given back; the last one is the latest packet's.
	bufs []*pcapfile.Buffer
	last bool // the read is over after these packets
}

// reset makes b empty, releasing its packets' buffers: the feed's goroutine calls it when the
// reader gave b back.
func (b *feedBatch) reset() {
	for _, buf := range b.bufs {
		buf.Release()
	}
	b.pkts, b.bufs, b.bytes = b.pkts[:0], b.bufs[:0], 0
}

// feed reads and decodes packets ahead of the reader in a goroutine of its own. next and release
// are for the reader's goroutine; stop ends the feed goroutine and waits for it, so that the Merger
// and the feedReader (its counts) are the caller's again.
type feed struct {
	full   chan *feedBatch
	free   chan *feedBatch
	done   chan struct{}
	exited chan struct{}
}

// feedCounts are the counts of the packets the feed handed over that need nothing of the reader's
// state: all packets, and those decoded as TCP on the fast path. The reader counts the others
// (tunnels, fragments, packets of no use) and adds these at the end (reader.addCounts).
type feedCounts struct {
	packets   int
	tcp       int       // decoded as TCP by the feed
	dataSegs  int       // of those, segments with payload
	dataBytes uint64    // and their payload bytes
	start     time.Time // earliest packet time
	end       time.Time // latest
	truncated int       // packets cut by the snap length
	cut       Warning   // names the first of those
	cutLen    [2]int    // its capture and wire lengths
	files     map[string]*fileFeedCount
	file      *fileFeedCount // the latest packet's, named fileName
	fileName  string
}

// fileFeedCount is feedCounts' part for one file.
type fileFeedCount struct{ packets, tcp int }

// count counts p, decoded as TCP on the fast path when tcp.
func (c *feedCounts) count(p *pcapfile.Packet, seg *tcpdecode.Segment, tcp bool) {
	c.packets++
	if c.start.IsZero() || p.Time.Before(c.start) {
		c.start = p.Time
	}
	if p.Time.After(c.end) {
		c.end = p.Time
	}
	if p.CaptureLength < p.Length {
		if c.truncated == 0 {
			c.cut, c.cutLen = Warning{File: p.File, Packet: p.Number}, [2]int{p.CaptureLength, p.Length}
		}
		c.truncated++
	}
	if c.file == nil || p.File != c.fileName {
		if c.files == nil {
			c.files = map[string]*fileFeedCount{}
		}
		if c.file = c.files[p.File]; c.file == nil {
			c.file = &fileFeedCount{}
			c.files[p.File] = c.file
		}
		c.fileName = p.File
	}
	c.file.packets++
	if tcp {
		c.tcp++
		c.file.tcp++
		if seg.PayloadLength > 0 {
			c.dataSegs++
			c.dataBytes += uint64(seg.PayloadLength)
		}
	}
}

// startFeed starts reading fr.m, counting in fr. Neither must be used until stop returns.
// The packets' bytes are not copied: the Merger keeps them (KeepData) for as long as a batch
// holds them.
func startFeed(fr *feedReader) *feed { return startFeedSized(fr, feedBatchPackets, feedBatchBytes) }

// startFeedSized is startFeed with batches of at most packets packets and bytes bytes (more
// for a larger packet), for tests.
func startFeedSized(fr *feedReader, packets, bytes int) *feed {
	f := &feed{full: make(chan *feedBatch, feedBatches), free: make(chan *feedBatch, feedBatches),
		done: make(chan struct{}), exited: make(chan struct{})}
	fr.m.KeepData()
	for range feedBatches {
		f.free <- &feedBatch{pkts: make([]feedPacket, 0, packets), maxBytes: bytes}
	}
	go f.run(fr)
	return f
}

// next returns the next batch, to be given back with release once its packets are used.
func (f *feed) next() *feedBatch { return <-f.full }

// release gives a batch back for reuse; its packets' bytes may then be overwritten.
func (f *feed) release(b *feedBatch) { f.free <- b }

// stop ends the feed (if the read ended early) and waits until it no longer uses the Merger.
func (f *feed) stop() {
	close(f.done)
	<-f.exited
}

// run fills batches until the files are read or stop is called. A mapped file that shrinks
// while being read faults: the feed then ends with the Merger's error for it in place of the next
// packet, as after a cut file.
func (f *feed) run(fr *feedReader) {
	defer close(f.exited)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	for {
		var b *feedBatch
		select {
		case b = <-f.free:
		case <-f.done:
			return
		}
		b.reset()
		if err := catchFault(fr.m, func() error { fr.fill(b); return nil }); err != nil {
			b.pkts = append(b.pkts, feedPacket{err: err})
			b.last = true
		}
		select {
		case f.full <- b:
		case <-f.done:
			return
		}
		if b.last {
			return
		}
	}
}

// feedReader is the feed goroutine's state (or, for a serial read, the reader's).
type feedReader struct {
	m       *pcapfile.Merger
	counts  feedCounts
	secrets int // bytes of m's secrets that earlier packets carried
	// p is the packet read last; held when it did not fit in the batch before and opens the next.
	p    *pcapfile.Packet
	held bool
}

// fill reads packets into b until it is full or the read is over.
func (fr *feedReader) fill(b *feedBatch) {
	for len(b.pkts) < cap(b.pkts) {
		if !fr.held {
			p, err := fr.m.NextPacket()
			if err == io.EOF {
				b.last = true
				return
			}
			if err != nil {
				b.pkts = append(b.pkts, feedPacket{err: err})
				continue
			}
			fr.p = p
		}
		fr.held = !fr.add(b)
		if fr.held {
			return
		}
	}
}

// add decodes fr.p and adds it to b, holding the Merger's buffer that its bytes lie in. It
// reports false, adding nothing, when b has no room for those bytes (an empty batch always has).
func (fr *feedReader) add(b *feedBatch) bool {
	p := fr.p
	i := len(b.pkts)
	// Written in place (a feedPacket is a few hundred bytes), and in the batch only once whole:
	// a fault in Decode (see run) leaves whole packets only.
	fp := &b.pkts[:i+1][i]
	fp.decErr = tcpdecode.Decode(p.LinkType, p.Data, &fp.seg)
	n := len(fp.seg.Payload)
	if fp.decErr != nil {
		n = len(p.Data) // the slow path decodes it all again
	}
	if i > 0 && b.bytes+n > b.maxBytes {
		return false
	}
	b.pkts = b.pkts[:i+1]
	b.bytes += n
	fp.err, fp.p = nil, *p
	if fp.decErr == nil {
		fp.p.Data = nil
	}
	if buf := p.Buffer(); len(b.bufs) == 0 || b.bufs[len(b.bufs)-1] != buf {
		buf.Hold()
		b.bufs = append(b.bufs, buf)
	}
	fp.secrets = fr.count(p, &fp.seg, fp.decErr == nil)
	return true
}

// count counts p, decoded as TCP on the fast path when tcp, and returns the key log lines of the
// Decryption Secrets Blocks read since the packet before.
func (fr *feedReader) count(p *pcapfile.Packet, seg *tcpdecode.Segment, tcp bool) []byte {
	fr.counts.count(p, seg, tcp)
	if s := fr.m.SecretsSize(); s > fr.secrets {
		secrets := fr.m.Secrets()[fr.secrets:] // a new slice, the feed's to hand over
		fr.secrets = s
		return secrets
	}
	return nil
}
