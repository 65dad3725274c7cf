package capture

import (
	"encoding/hex"
	"math"
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
// hop: 64 bytes, no pointers. Sizes and the stream span saturate at 4 GiB - 1 (far past
// Options.MaxMessageSize), frame counts at 65535. What a report shows about a few named messages
// only (the full digest, the last packet, the preview, a close reason) is not here: it is read
// again for those messages (ReadEvidence) or taken from Session.Messages.
type Entry struct {
	first  int64 // Message.First as Unix nanoseconds; 0 when unknown
	offset uint64
	digest Digest64
	wire   Digest64
	length uint32
	wireN  uint32
	span   uint32 // End - Offset
	index  uint32
	packet uint32 // Message.Packet.Number
	probe  uint32 // wspath probe number + 1, from the payload's first bytes; 0 when not a probe
	file   uint16 // index of Message.Packet.File in Capture.PacketFiles
	frames uint16
	flags  Flags
	opcode Opcode
}

// EntryOf returns the Entry of m, whose packet file is PacketFiles[file]. The preview, when m
// still has it, is read for a probe marker.
func EntryOf(m *Message, file int) Entry {
	e := Entry{offset: m.Offset, digest: m.Digest.Prefix(), wire: m.WireDigest.Prefix(),
		length: sat32(m.Length), wireN: sat32(m.WireLength), span: sat32(int64(m.End - m.Offset)),
		index: uint32(m.Index), packet: uint32(m.Packet.Number), file: uint16(file),
		frames: uint16(min(m.Frames, math.MaxUint16)), flags: m.Flags, opcode: m.Opcode}
	if m.End < m.Offset {
		e.span = 0
	}
	if !m.First.IsZero() {
		e.first = m.First.UnixNano()
	}
	if n, _, ok := marker.Parse(m.Preview); ok && n >= 0 && n < math.MaxUint32 {
		e.probe = uint32(n) + 1
	}
	return e
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
func (e *Entry) Flags() Flags { return e.flags }

// Length is Message.Length.
func (e *Entry) Length() int64 { return int64(e.length) }

// WireLength is Message.WireLength.
func (e *Entry) WireLength() int64 { return int64(e.wireN) }

// Digest is the prefix of Message.Digest.
func (e *Entry) Digest() Digest64 { return e.digest }

// WireDigest is the prefix of Message.WireDigest.
func (e *Entry) WireDigest() Digest64 { return e.wire }

// Offset is Message.Offset.
func (e *Entry) Offset() uint64 { return e.offset }

// End is Message.End.
func (e *Entry) End() uint64 { return e.offset + uint64(e.span) }

// Frames is Message.Frames.
func (e *Entry) Frames() int { return int(e.frames) }

// Packet is Message.Packet, with its file named by files (Capture.PacketFiles).
func (e *Entry) Packet(files []string) PacketRef {
	ref := PacketRef{Number: int(e.packet)}
	if int(e.file) < len(files) {
		ref.File = files[e.file]
	}
	return ref
}

// Probe returns the wspath probe number (probe/marker) the payload starts with, if it does.
func (e *Entry) Probe() (int, bool) { return int(e.probe) - 1, e.probe > 0 }

// setOffsets replaces the stream offsets (HTTP/2: payload positions become connection positions).
func (e *Entry) setOffsets(off, end uint64) {
	e.offset, e.span = off, 0
	if end > off {
		e.span = uint32(min(end-off, math.MaxUint32))
	}
}

// Entries returns the Entry of every message of ms, with the packet files named in files
// (appended to when new), for sessions that hold Messages but no Entries (made by hand).
func Entries(ms []Message, files *[]string) []Entry {
	if ms == nil {
		return nil
	}
	out := make([]Entry, len(ms))
	for i := range ms {
		out[i] = EntryOf(&ms[i], fileIndex(files, ms[i].Packet.File))
	}
	return out
}

// fileIndex returns the position of name in *files, appending it when absent.
func fileIndex(files *[]string, name string) int {
	for i, f := range *files {
		if f == name {
			return i
		}
	}
	*files = append(*files, name)
	return len(*files) - 1
}
