package correlate

import (
	"sort"
	"time"

	"github.com/wspath/wspath/capture"
)

// item is one data message reduced to what alignment compares.
type item struct {
	digest     capture.Digest
	length     int64
	incomplete bool      // digest unknown: matched by position and size only
	t          time.Time // time on the first hop's clock; zero when unknown
	// wire is the digest of the payload as it travelled (still compressed), and wireLength its
	// size: what hops that pass bytes through share even where one of them could not inflate.
	wire       capture.Digest
	wireLength int64
	wireOnly   bool // the payload could not be inflated: only wire identifies it
}

// itemOf converts a message; off is the offset of its hop's clock against the first hop's. A
// message that could not be inflated matches by position only, unless the hop is aligned on wire
// digests (byWire).
func itemOf(m *capture.Message, off time.Duration) item {
	it := item{digest: m.Digest, length: m.Length, incomplete: m.Flags.Has(capture.Incomplete) || m.Digest.IsZero(),
		wire: m.WireDigest, wireLength: m.WireLength, wireOnly: m.Flags.Has(capture.Undecodable)}
	if it.wireOnly {
		it.length = 0 // the inflated size is unknown: any size agrees
	}
	if !m.First.IsZero() {
		it.t = m.First.Add(-off)
	}
	return it
}

// byWire returns the items keyed by wire digest, for aligning a hop that could not inflate some
// messages (a capture that began after permessage-deflate with context takeover was under way)
// with hops that forwarded the same compressed bytes.
func byWire(s []item) []item {
	out := make([]item, len(s))
	for i, it := range s {
		it.digest, it.length = it.wire, it.wireLength
		it.incomplete = it.wire.IsZero()
		out[i] = it
	}
	return out
}

// anyWireOnly reports whether some item could only be identified by its wire digest.
func anyWireOnly(s []item) bool {
	for _, it := range s {
		if it.wireOnly {
			return true
		}
	}
	return false
}

// digestIndex maps a digest to the ascending positions where it occurs in a sequence.
type digestIndex map[capture.Digest][]int

func indexItems(s []item) digestIndex {
	idx := make(digestIndex, len(s))
	for i, it := range s {
		if !it.incomplete {
			idx[it.digest] = append(idx[it.digest], i)
		}
	}
	return idx
}

// next returns the first position >= from holding d, or -1.
func (idx digestIndex) next(d capture.Digest, from int) int {
	pos := idx[d]
	k := sort.SearchInts(pos, from)
	if k == len(pos) {
		return -1
	}
	return pos[k]
}

// maxTimeScan bounds how many later duplicates are examined when picking the duplicate closest in
// time, so that long runs of identical messages stay linear.
const maxTimeScan = 64

// align matches the messages of an upstream sequence a with a downstream sequence b, in order:
// b is expected to be a with some messages missing and maybe some extra. It returns, for each
// element of b, the index in a it matches or -1, and how many were matched. Identical digests are
// matched in order, never collapsed; when window > 0 and two candidates for a match are more than
// window apart, the one closer in time is preferred. Incomplete messages match by position when
// the sizes agree and the neighbours match. The cost is O((len(a)+len(b)) log n).
func align(a, b []item, window time.Duration) (mb []int, matched int) {
	mb = make([]int, len(b))
	for j := range mb {
		mb[j] = -1
	}
	ia, ib := indexItems(a), indexItems(b)
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x, y := a[i], b[j]
		if !x.incomplete && !y.incomplete && x.digest == y.digest {
			if window > 0 {
				if k := closerLater(a, ia, i, y.t, window); k > i {
					i = k // a[i:k] did not reach b
					continue
				}
				if k := closerLater(b, ib, j, x.t, window); k > j {
					j = k // b[j:k] are extra
					continue
				}
			}
			mb[j] = i
			matched++
			i++
			j++
			continue
		}
		if (x.incomplete || y.incomplete) && sizesAgree(x, y) && neighboursAgree(a, b, i, j) {
			mb[j] = i
			matched++
			i++
			j++
			continue
		}
		ka, kb := -1, -1
		if !y.incomplete {
			ka = ia.next(y.digest, i)
		}
		if !x.incomplete {
			kb = ib.next(x.digest, j)
		}
		switch {
		case ka < 0 && kb < 0:
			i++
			j++
		case ka < 0:
			j++
		case kb < 0:
			i++
		case ka-i <= kb-j:
			i = ka
		default:
			j = kb
		}
	}
	return mb, matched
}

// closerLater looks, in s after position i, for a message with the same digest as s[i] that is
// closer in time to t, when s[i] is more than window away from t. It returns its position or -1.
func closerLater(s []item, idx digestIndex, i int, t time.Time, window time.Duration) int {
	if t.IsZero() || s[i].t.IsZero() {
		return -1
	}
	best := absDur(s[i].t.Sub(t))
	if best <= window {
		return -1
	}
	found := -1
	k := i
	for n := 0; n < maxTimeScan; n++ {
		k = idx.next(s[i].digest, k+1)
		if k < 0 {
			break
		}
		d := absDur(s[k].t.Sub(t))
		if d >= best {
			break
		}
		best, found = d, k
	}
	return found
}

// sizesAgree reports whether two messages, one of them incomplete, may be the same message:
// an incomplete message's length is a lower bound.
func sizesAgree(x, y item) bool {
	switch {
	case x.incomplete && y.incomplete:
		return true
	case x.incomplete:
		return x.length <= y.length
	default:
		return y.length <= x.length
	}
}

// neighboursAgree reports whether the messages after a[i] and b[j] match, or both sequences end.
func neighboursAgree(a, b []item, i, j int) bool {
	switch {
	case i+1 == len(a) && j+1 == len(b):
		return true
	case i+1 == len(a) || j+1 == len(b):
		return false
	}
	x, y := a[i+1], b[j+1]
	return !x.incomplete && !y.incomplete && x.digest == y.digest
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
