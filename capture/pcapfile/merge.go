package pcapfile

import (
	"errors"
	"io"
	"unsafe"
)

// Merger reads several capture files as one stream ordered by packet timestamp, as tcpdump -C or
// -G rotation splits one capture into files. Packets with equal timestamps come in file order, and
// the packets of one file keep their order. It is not safe for concurrent use.
type Merger struct {
	readers []*Reader
	heads   []head // the next packet of each reader in the heap
	heap    []int  // reader indices with a head, a min-heap on (time, index)
	fill    []int  // readers whose next packet must be read before merging
	top     bool   // heap[0]'s head was returned by the last Next and must be replaced
	done    bool   // with one reader: it returned an error or io.EOF
	// interfaces numbers the interfaces of all the files; ifmap[i] maps reader i's interface
	// IDs to them (see Interfaces). One reader's need no renumbering.
	interfaces interfaceSet
	ifmap      [][]*Interface
}

// head is a reader's next packet, padded to two cache lines: the Merger writes it for every
// packet, often on a goroutine of its own (capture's feed), and a neighbouring object that another
// goroutine writes must not share its cache lines (that cost a cache miss per packet).
type head struct {
	p Packet
	_ [128 - unsafe.Sizeof(Packet{})]byte
}

// OpenAll opens the files for a merged read. If one cannot be opened, those already open are
// closed and its error is returned.
func OpenAll(paths []string) (*Merger, error) {
	rs := make([]*Reader, 0, len(paths))
	for _, p := range paths {
		r, err := Open(p)
		if err != nil {
			for _, o := range rs {
				o.Close()
			}
			return nil, err
		}
		rs = append(rs, r)
	}
	return NewMerger(rs), nil
}

// NewMerger merges readers already open; the Merger takes them over and Close closes them.
func NewMerger(readers []*Reader) *Merger {
	m := &Merger{readers: readers, heads: make([]head, len(readers)), ifmap: make([][]*Interface, len(readers))}
	for i := range readers {
		m.fill = append(m.fill, i)
		m.syncInterfaces(i) // the interfaces declared before each file's first packet, in file order
	}
	return m
}

// Next returns the packet with the earliest timestamp among the files, or io.EOF when all files
// are done. An error of one file (an *Error, e.g. wrapping ErrTruncated) is returned once, as soon
// as the merge reads that far into the file (after the packet of that file before it); that file
// then leaves the merge and the next call continues with the others. The returned Data is valid until the next call to Next.
func (m *Merger) Next() (Packet, error) {
	p, err := m.NextPacket()
	if err != nil {
		return Packet{}, err
	}
	return *p, nil
}

// NextPacket is Next without copying the Packet: it returns the Merger's own, which (with its
// Data) is valid only until the next call to Next or NextPacket.
func (m *Merger) NextPacket() (*Packet, error) {
	if len(m.readers) == 1 {
		return m.nextSingle()
	}
	if m.top {
		m.top = false
		i := m.heap[0]
		if err := m.readers[i].next(&m.heads[i].p); err == nil {
			m.mergedInterface(i, &m.heads[i].p)
			m.down(0)
		} else {
			m.removeTop()
			if err != io.EOF {
				return nil, err
			}
		}
	}
	for len(m.fill) > 0 {
		i := m.fill[0]
		m.fill = m.fill[1:]
		if err := m.readers[i].next(&m.heads[i].p); err != nil {
			if err != io.EOF {
				return nil, err
			}
			continue
		}
		m.mergedInterface(i, &m.heads[i].p)
		m.heap = append(m.heap, i)
		m.up(len(m.heap) - 1)
	}
	if len(m.heap) == 0 {
		return nil, io.EOF
	}
	m.top = true
	return &m.heads[m.heap[0]].p, nil
}

// nextSingle is NextPacket for one file, which needs no heap: its packets pass straight through,
// and after its first error (or io.EOF) it is done.
func (m *Merger) nextSingle() (*Packet, error) {
	if m.done {
		return nil, io.EOF
	}
	if err := m.readers[0].next(&m.heads[0].p); err != nil {
		m.done = true
		return nil, err
	}
	return &m.heads[0].p, nil
}

// Infos describes each file as read so far, in the order given.
func (m *Merger) Infos() []Info {
	out := make([]Info, len(m.readers))
	for i, r := range m.readers {
		out[i] = r.Info()
	}
	return out
}

// Secrets returns the TLS key logs of all files read so far, concatenated in file order. The
// slice is newly allocated.
func (m *Merger) Secrets() []byte {
	var out []byte
	for _, r := range m.readers {
		out = append(out, r.Secrets()...)
	}
	return out
}

// SecretsSize returns len(m.Secrets()) without building the slice: a cheap check, per packet, for
// whether a Decryption Secrets Block was read.
func (m *Merger) SecretsSize() int {
	n := 0
	for _, r := range m.readers {
		n += len(r.secrets)
	}
	return n
}

// Close closes every file and returns the first error.
func (m *Merger) Close() error {
	var errs []error
	for _, r := range m.readers {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

func (m *Merger) less(a, b int) bool {
	ta, tb := m.heads[m.heap[a]].p.Time, m.heads[m.heap[b]].p.Time
	if ta.Equal(tb) {
		return m.heap[a] < m.heap[b]
	}
	return ta.Before(tb)
}

func (m *Merger) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !m.less(i, p) {
			return
		}
		m.heap[i], m.heap[p] = m.heap[p], m.heap[i]
		i = p
	}
}

func (m *Merger) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(m.heap) {
			return
		}
		c := l
		if r := l + 1; r < len(m.heap) && m.less(r, l) {
			c = r
		}
		if !m.less(c, i) {
			return
		}
		m.heap[i], m.heap[c] = m.heap[c], m.heap[i]
		i = c
	}
}

func (m *Merger) removeTop() {
	last := len(m.heap) - 1
	m.heap[0] = m.heap[last]
	m.heap = m.heap[:last]
	m.down(0)
}
