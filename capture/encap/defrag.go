package encap

import (
	"bytes"
	"time"
)

// maxDatagram is the largest IP datagram reassembled (IPv4's total length; IPv6 jumbograms are
// not fragmented in practice).
const maxDatagram = 65535

// fragKey identifies the datagram a fragment belongs to (RFC 791, RFC 8200) within a tunnel.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	tunnel   uint32
	iface    uint32 // Segment.Iface: a router's copies on two interfaces are two datagrams
	proto    uint8
	v6       bool
}

// span is a byte range [off, end) of a datagram's payload already received.
type span struct{ off, end int }

// datagram is an incomplete datagram.
type datagram struct {
	key     fragKey
	first   time.Time
	header  []byte // IP header of the fragment at offset 0 (IPv6: the fixed 40 bytes), once seen
	data    []byte // payload, as long as the farthest fragment
	have    []span // sorted, merged
	total   int    // payload length, known from the last fragment; -1 until then
	frags   int    // fragment packets held
	bad     bool   // overlapping fragments disagreed or the datagram would pass maxDatagram
	counted bool   // its loss already counted
}

// FragmentTotals count what reassembly did.
type FragmentTotals struct {
	Fragments   int // fragment packets seen
	Reassembled int // datagrams completed
	Lost        int // fragment packets whose datagram never completed (timed out, over the bound, at the end)
	Overlaps    int // datagrams dropped because overlapping fragments carried different bytes
	Cut         int // fragments cut by the snap length, which cannot be reassembled
}

// defragmenter reassembles IP datagrams with memory bounded by maxBytes.
type defragmenter struct {
	maxBytes int
	timeout  time.Duration
	held     int
	pending  map[fragKey]*datagram
	order    []*datagram // by first fragment time (arrival order), may hold finished ones
	out      []byte      // the last reassembled datagram, reused
	totals   FragmentTotals
}

func newDefragmenter(cfg Config) defragmenter {
	return defragmenter{maxBytes: cfg.MaxFragmentBytes, timeout: cfg.FragmentTimeout, pending: map[fragKey]*datagram{}}
}

// FragmentTotals returns what reassembly did so far; Lost includes the datagrams still
// incomplete.
func (d *Decoder) FragmentTotals() FragmentTotals {
	t := d.frag.totals
	for _, g := range d.frag.pending {
		if !g.counted {
			t.Lost += g.frags
		}
	}
	return t
}

// FragmentsSeen returns FragmentTotals().Fragments, cheaply.
func (d *Decoder) FragmentsSeen() int { return d.frag.totals.Fragments }

// expire drops datagrams older than the timeout at capture time now.
func (f *defragmenter) expire(now time.Time) {
	for len(f.order) > 0 {
		g := f.order[0]
		if f.pending[g.key] == g && now.Sub(g.first) < f.timeout {
			return
		}
		f.order = f.order[1:]
		f.drop(g)
	}
}

// drop forgets g, counting its fragments as lost if it is still pending.
func (f *defragmenter) drop(g *datagram) {
	if f.pending[g.key] != g {
		return
	}
	delete(f.pending, g.key)
	f.held -= cap(g.data) + len(g.header)
	if !g.counted {
		f.totals.Lost += g.frags
		g.counted = true
	}
	if len(f.order) > 0 && len(f.pending) == 0 {
		f.order = f.order[:0]
	}
}

// fragment adds one fragment: hdr is its IP header (IPv6: the fixed 40 bytes), off the payload
// offset, more its more-fragments flag, cut whether the snap length cut its payload. When the
// datagram completes, it is decoded as if it had arrived whole.
func (d *Decoder) fragment(k fragKey, hdr []byte, off int, more bool, payload []byte, cut bool) error {
	f := &d.frag
	f.totals.Fragments++
	id, ok := d.tunnelID()
	if !ok {
		return d.fail(KindUnknownTunnel, "tunnels over", maxTunnels)
	}
	k.tunnel, k.iface = id, d.seg.Iface
	g := f.pending[k]
	if g == nil {
		g = &datagram{key: k, first: d.now, total: -1}
		f.pending[k] = g
		f.order = append(f.order, g)
	}
	g.frags++
	if cut {
		f.totals.Cut++
		g.bad = true
	}
	end := off + len(payload)
	if end > maxDatagram || (!more && g.total >= 0 && g.total != end) || (g.total >= 0 && end > g.total) {
		g.bad = true
	}
	if g.bad {
		f.drop(g)
		if cut {
			return d.fail(KindTruncated, "ip fragment", -1)
		}
		return d.fail(KindFragment, "fragments that do not fit together", -1)
	}
	if !more {
		g.total = end
	}
	if off == 0 && g.header == nil {
		g.header = append([]byte(nil), hdr...)
		f.held += len(g.header)
	}
	if !g.add(off, payload, f) {
		f.totals.Overlaps++
		f.drop(g)
		return d.fail(KindFragment, "overlapping fragments with different bytes", -1)
	}
	for f.held > f.maxBytes && len(f.order) > 0 {
		old := f.order[0]
		f.order = f.order[1:]
		f.drop(old)
		if old == g {
			return d.fail(KindFragment, "fragment buffer limit", f.maxBytes)
		}
	}
	if g.total < 0 || g.header == nil || len(g.have) != 1 || g.have[0].off != 0 || g.have[0].end != g.total {
		return ErrHeld
	}
	g.counted = true // complete: none of its fragments is lost
	f.drop(g)
	f.totals.Reassembled++
	return d.reassembled(g)
}

// add copies payload at off; false when it overlaps received bytes with different ones.
func (g *datagram) add(off int, payload []byte, f *defragmenter) bool {
	end := off + len(payload)
	for _, s := range g.have {
		lo, hi := max(s.off, off), min(s.end, end)
		if lo < hi && !bytes.Equal(g.data[lo:hi], payload[lo-off:hi-off]) {
			return false
		}
	}
	if end > len(g.data) {
		if end > cap(g.data) {
			n := max(end, 2*cap(g.data))
			if g.total >= 0 {
				n = max(end, g.total)
			}
			n = min(n, maxDatagram)
			grown := make([]byte, end, n)
			copy(grown, g.data)
			f.held += cap(grown) - cap(g.data)
			g.data = grown
		}
		g.data = g.data[:end]
	}
	copy(g.data[off:], payload)
	// Insert [off, end) and merge touching spans.
	merged := g.have[:0:0]
	cur := span{off, end}
	placed := false
	for _, s := range g.have {
		switch {
		case s.end < cur.off:
			merged = append(merged, s)
		case s.off > cur.end:
			if !placed {
				merged = append(merged, cur)
				placed = true
			}
			merged = append(merged, s)
		default:
			cur = span{min(cur.off, s.off), max(cur.end, s.end)}
		}
	}
	if !placed {
		merged = append(merged, cur)
	}
	g.have = merged
	return true
}

// reassembled rebuilds the whole datagram g with an unfragmented header and decodes it.
func (d *Decoder) reassembled(g *datagram) error {
	f := &d.frag
	out := append(f.out[:0], g.header...)
	if g.key.v6 {
		out = out[:40]
		out[6] = g.key.proto // the fragment header and those before it are dropped
		out[4], out[5] = byte(g.total>>8), byte(g.total)
	} else {
		n := len(out) + g.total
		if n > maxDatagram {
			return d.fail(KindFragment, "fragments that do not fit together", -1)
		}
		out[2], out[3] = byte(n>>8), byte(n)
		out[6], out[7] = 0, 0 // no more fragments, offset 0
	}
	out = append(out, g.data[:g.total]...)
	f.out = out
	if g.key.v6 {
		return d.ipv6(out)
	}
	return d.ipv4(out)
}
