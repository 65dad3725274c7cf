package packet

import "time"

// Stamp is a Meta kept in 32 bytes instead of 48: the file is a number that a Files gives and
// reads back. A flood keeps a few packets' names for each of hundreds of thousands of waiting
// connections (their first and latest packets), each with a string header of its own.
type Stamp struct {
	Time time.Time
	// ref packs the file's number in Files plus one (0: no file name) above the packet number's
	// 40 bits; a Meta that does not fit (a negative number, or past 2^40 packets or 2^23
	// files) is in Files.odd, at the index below the top bit.
	ref uint64
}

const (
	numberBits = 40
	oddRef     = 1 << 63
	maxFiles   = 1<<(63-numberBits) - 1
)

// Files numbers the capture file names of one read for its Stamps. The zero value is ready to
// use; it is not safe for concurrent use.
type Files struct {
	names []string
	index map[string]uint64
	last  uint64 // the latest name's number plus one, tried first: packets come in runs per file
	odd   []Ref  // the refs that do not pack, one per Stamp made of them
}

// Stamp returns m as a Stamp that f.Meta turns back into m.
func (f *Files) Stamp(m Meta) Stamp {
	if m.Number < 0 || m.Number >= 1<<numberBits {
		return f.oddStamp(m)
	}
	file := f.number(m.File)
	if file > maxFiles {
		return f.oddStamp(m)
	}
	return Stamp{Time: m.Time, ref: file<<numberBits | uint64(m.Number)}
}

// number returns the number of the file name plus one, 0 for "", giving it one if it has none.
func (f *Files) number(name string) uint64 {
	if name == "" {
		return 0
	}
	if f.last > 0 && f.names[f.last-1] == name {
		return f.last
	}
	n, ok := f.index[name]
	if !ok {
		if f.index == nil {
			f.index = map[string]uint64{}
		}
		f.names = append(f.names, name)
		n = uint64(len(f.names))
		f.index[name] = n
	}
	f.last = n
	return n
}

func (f *Files) oddStamp(m Meta) Stamp {
	f.odd = append(f.odd, m.Ref())
	return Stamp{Time: m.Time, ref: oddRef | uint64(len(f.odd)-1)}
}

// Meta returns the Meta s was made from; s must come from f (or be the zero Stamp, which is the
// zero Meta).
func (f *Files) Meta(s Stamp) Meta {
	if s.ref&oddRef != 0 {
		r := f.odd[s.ref&^oddRef]
		return Meta{Time: s.Time, File: r.File, Number: r.Number}
	}
	m := Meta{Time: s.Time, Number: int(s.ref & (1<<numberBits - 1))}
	if file := s.ref >> numberBits; file > 0 {
		m.File = f.names[file-1]
	}
	return m
}
