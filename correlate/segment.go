package correlate

import (
	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// segments classifies, for every pair of adjacent hops, what the component between them did to
// the connections seen at both.
func segments(conns []*conn, tracks [][2]*track, hs []*hopState) []schema.HopPair {
	out := []schema.HopPair{}
	for h := 0; h+1 < len(hs); h++ {
		seg := schema.HopPair{From: hs[h].name, To: hs[h+1].name}
		for i, c := range conns {
			a, b := c.sess[h], c.sess[h+1]
			if a == nil || b == nil {
				continue
			}
			switch segmentKind(a, b, tracks[i], h, h+1) {
			case schema.Passthrough:
				seg.Counts.Passthrough++
			case schema.Reframed:
				seg.Counts.Reframed++
			case schema.Terminated:
				seg.Counts.Terminated++
			case schema.Bridged:
				seg.Counts.Bridged++
			default:
				seg.Counts.Unknown++
			}
		}
		best, n := schema.SegmentUnknown, 0
		for _, k := range []struct {
			kind schema.SegmentKind
			n    int
		}{{schema.Bridged, seg.Counts.Bridged}, {schema.Terminated, seg.Counts.Terminated}, {schema.Reframed, seg.Counts.Reframed}, {schema.Passthrough, seg.Counts.Passthrough}} {
			if k.n > n {
				best, n = k.kind, k.n
			}
		}
		seg.Kind = best
		out = append(out, seg)
	}
	return out
}

// segmentKind compares one connection's sessions at hops ha and hb.
func segmentKind(a, b *capture.Session, tt [2]*track, ha, hb int) schema.SegmentKind {
	if a.Bridge() != nil || b.Bridge() != nil {
		return schema.Bridged // a WebSocket-to-TCP bridge: bytes, no frames, on one side
	}
	switch {
	case a.TLS() != nil && b.TLS() != nil:
		if a.TLS().ClientRandom != b.TLS().ClientRandom {
			return schema.Terminated
		}
		if !a.TLS().Decrypted || !b.TLS().Decrypted {
			return schema.Passthrough // the same TLS connection went through
		}
	case (a.TLS() == nil) != (b.TLS() == nil):
		return schema.Terminated // TLS started or ended between the hops
	}
	if (a.HTTP2() == nil) != (b.HTTP2() == nil) {
		return schema.Terminated // a front end translated WebSocket over HTTP/2 (RFC 8441) to HTTP/1.1, or back
	}
	ka, kb := a.Key(), b.Key()
	if ka != "" && kb != "" && ka != kb {
		return schema.Terminated
	}
	compared, same := 0, true
	for _, tr := range tt {
		for _, id := range tr.ids {
			x, y := id.at(ha), id.at(hb)
			if x == nil || y == nil {
				continue
			}
			compared++
			_, xn := a.Wire(tr.dir, x)
			_, yn := b.Wire(tr.dir, y)
			if x.Frames() != y.Frames() || xn != yn ||
				x.Flags().Has(capture.Compressed) != y.Flags().Has(capture.Compressed) {
				same = false
			}
		}
	}
	if compared == 0 {
		if ka != "" && ka == kb && a.Path() == b.Path() {
			return schema.Passthrough
		}
		return schema.SegmentUnknown
	}
	if same {
		return schema.Passthrough
	}
	return schema.Reframed
}
