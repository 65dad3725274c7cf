package capture

import (
	"encoding/hex"
	"math"
	"sort"
	"time"

	"github.com/wspath/wspath/probe/marker"
)

// Digest64 is the first 8 bytes of a SHA-256 Digest: what comparison needs to tell the messages
// of one connection apart (two different messages among a million of one direction share it
// with a probability of about 3e-8), at a quarter of the size.
type Digest64 [8]byte

// IsZero reports whether d is the prefix of a zero Digest (never computed).
func (d Digest64) IsZero() bool { return d == Digest64{} }

// Short returns the first 12 hexadecimal digits, as Digest.Short does.
func (d Digest64) Short() string { return hex.EncodeToString(d[:6]) }

// Prefix returns the first 8 bytes of d.
func (d Digest) Prefix() Digest64 { return Digest64(d[:8]) }

// Entry is the compact record of one Message that comparison keeps for every message of every
// hop: 40 bytes, no pointers. Sizes and the stream span saturate at 4 GiB - 1 (far past
// Options.MaxMessageSize), frame counts at 65535. What a report shows about a few named messages
// only (the full digest, the packets, the preview, a close reason) is not here: it is read
// again for those messages (ReadEvidence) or taken from Session.Messages. The wire digest and
// size of a message whose payload travelled compressed, and a probe's number, are kept beside
// the entries, for those messages only (Session.Wire, Session.Probe).
type Entry struct {
	first  int64 // Message.First as Unix nanoseconds; 0 when unknown
	offset uint64
	digest Digest64
	length uint32
	span   uint32 // End - Offset
	index  uint32
	frames uint16
	flags  uint8 // Message.Flags: all of them fit (entryFlags)
	opcode Opcode
}

// entryFlags are the Flags there are, which an Entry keeps in 8 bits: a new flag belongs here,
// and one past the eighth bit does not compile.
const entryFlags = uint8(Incomplete | Compressed | MidStream | Oversize | Undecodable | ProtocolError)

// wideEntry is what an Entry leaves out, kept for the messages that need it (sparse, in index
// order): the wire digest and size of a message whose payload differs on the wire (compressed,
// or not captured in full), and the number of a wspath probe.
type wideEntry struct {
	index uint32
	probe uint32 // probe number + 1; 0 when not a probe
	wireN uint32
	wire  Digest64
}

// entryOf returns the Entry of m and, when m needs one, its wideEntry. The preview, when m still
// has it, is read for a probe marker.
func entryOf(m *Message) (Entry, wideEntry, bool) {
	e := Entry{offset: m.Offset, digest: m.Digest.Prefix(), length: sat32(m.Length),
		span: sat32(int64(m.End - m.Offset)), index: uint32(m.Index),
		frames: uint16(min(m.Frames, math.MaxUint16)), flags: uint8(m.Flags) & entryFlags, opcode: m.Opcode}
	if m.End < m.Offset {
		e.span = 0
	}
	if !m.First.IsZero() {
		e.first = m.First.UnixNano()
	}
	w := wideEntry{index: e.index, wireN: sat32(m.WireLength), wire: m.WireDigest.Prefix()}
	if n, _, ok := marker.Parse(m.Preview); ok && n >= 0 && n < math.MaxUint32 {
		w.probe = uint32(n) + 1
	}
	return e, w, w.probe != 0 || w.wire != e.digest || w.wireN != e.length
}

func sat32(n int64) uint32 {
	return uint32(min(max(n, 0), math.MaxUint32))
}

// First is Message.First: the time of the packet that completed the first frame header.
func (e *Entry) First() time.Time {
	if e.first == 0 {
		return time.Time{}
	}
	return time.Unix(0, e.first) // in the local zone, as the capture reader gives packet times
}

// Index is Message.Index: the position among the messages of its direction, control frames
// included.
func (e *Entry) Index() int { return int(e.index) }

// Opcode is Message.Opcode.
func (e *Entry) Opcode() Opcode { return e.opcode }

// Flags is Message.Flags.
func (e *Entry) Flags() Flags { return Flags(e.flags) }

// Length is Message.Length.
func (e *Entry) Length() int64 { return int64(e.length) }

// Digest is the prefix of Message.Digest.
func (e *Entry) Digest() Digest64 { return e.digest }

// Offset is Message.Offset.
func (e *Entry) Offset() uint64 { return e.offset }

// End is Message.End.
func (e *Entry) End() uint64 { return e.offset + uint64(e.span) }

// Frames is Message.Frames.
func (e *Entry) Frames() int { return int(e.frames) }

// setOffsets replaces the stream offsets (HTTP/2: payload positions become connection positions).
func (e *Entry) setOffsets(off, end uint64) {
	e.offset, e.span = off, 0
	if end > off {
		e.span = uint32(min(end-off, math.MaxUint32))
	}
}

// msgRecords are what comparison keeps of a session's messages, per Direction.
type msgRecords struct {
	entries [2][]Entry
	// wide holds what entries leave out, for the messages that need it (see Wire).
	wide [2][]wideEntry
}

// Entries returns the compact record of each message of direction d (Entries(d)[i] is
// Messages(d)[i]'s), what comparison keeps; empty with Options.CountOnly. Digest files rebuild
// them from their messages.
func (s *Session) Entries(d Direction) []Entry {
	if s.more == nil || s.more.recs == nil {
		return nil
	}
	return s.more.recs.entries[d]
}

// setEntries sets the entries of direction d, making the records only when there are some.
func (s *Session) setEntries(d Direction, es []Entry) {
	if len(es) > 0 || s.more != nil && s.more.recs != nil {
		s.records().entries[d] = es
	}
}

// wideList returns the wide entries of direction d, nil when there are none.
func (s *Session) wideList(d Direction) []wideEntry {
	if s.more == nil || s.more.recs == nil {
		return nil
	}
	return s.more.recs.wide[d]
}

// setWide sets the wide entries of direction d, making the records only when there are some.
func (s *Session) setWide(d Direction, ws []wideEntry) {
	if len(ws) > 0 || s.more != nil && s.more.recs != nil {
		s.records().wide[d] = ws
	}
}

// records returns the session's message records, making them on first use.
func (s *Session) records() *msgRecords {
	m := s.grow()
	if m.recs == nil {
		m.recs = new(msgRecords)
	}
	return m.recs
}

// wideOf returns the wideEntry of entry e of direction d, and whether there is one.
func (s *Session) wideOf(d Direction, e *Entry) (wideEntry, bool) {
	ws := s.wideList(d)
	if len(ws) == 0 {
		return wideEntry{}, false // most sessions: asked for every message they have
	}
	k := sort.Search(len(ws), func(i int) bool { return ws[i].index >= e.index })
	if k < len(ws) && ws[k].index == e.index {
		return ws[k], true
	}
	return wideEntry{}, false
}

// Wire returns Message.WireDigest's prefix and Message.WireLength for entry e of direction d.
func (s *Session) Wire(d Direction, e *Entry) (Digest64, int64) {
	if w, ok := s.wideOf(d, e); ok {
		return w.wire, int64(w.wireN)
	}
	return e.digest, int64(e.length)
}

// Probe returns the wspath probe number (probe/marker) that the payload of entry e of direction
// d starts with, if it does.
func (s *Session) Probe(d Direction, e *Entry) (int, bool) {
	w, _ := s.wideOf(d, e)
	return int(w.probe) - 1, w.probe > 0
}

// WithEntries returns s itself when it holds Entries for all its Messages, else a copy of s
// with Entries made from its Messages (made by hand, or by correlate for a bridge).
func WithEntries(s *Session) *Session {
	var cp *Session
	for _, d := range Directions {
		if len(s.Messages(d)) == 0 || len(s.Entries(d)) == len(s.Messages(d)) {
			continue
		}
		if cp == nil {
			x := *s
			if x.more != nil { // the copy's own parts and records: s keeps its own
				m := *x.more
				if m.recs != nil {
					r := *m.recs
					m.recs = &r
				}
				x.more = &m
			}
			cp = &x
		}
		es := make([]Entry, len(s.Messages(d)))
		var ws []wideEntry
		for i := range s.Messages(d) {
			m := &s.Messages(d)[i]
			e, w, wide := entryOf(m)
			es[i] = e
			if wide {
				ws = append(ws, w)
			}
		}
		cp.setEntries(d, es)
		cp.setWide(d, ws)
	}
	if cp == nil {
		return s
	}
	return cp
}
