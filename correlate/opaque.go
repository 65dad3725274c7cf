package correlate

import (
	"fmt"
	"slices"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// recordOverheads are the bytes a TLS record's length adds to its plaintext: TLS 1.3's AEAD tag
// and inner content type (17); TLS 1.2's AES-GCM explicit nonce and tag (24) or ChaCha20-Poly1305
// tag (16). Other ciphers (CBC's padding) have no fixed overhead.
func recordOverheads(version string) []int {
	switch version {
	case "TLS 1.3":
		return []int{17}
	case "TLS 1.2":
		return []int{24, 16}
	}
	return nil
}

// opaqueTail finds the TLS records that the hop without keys nearest before the first readable
// hop (in travel order) carried after the last frame that readable hop saw. It claims them only
// when the records before tile that hop's frames exactly, one or more records per frame and no
// record across a frame boundary, at one cipher overhead and one starting record (the ones
// before are the TLS handshake's and the HTTP request's): then the records after are frames,
// or TLS alerts, that the readable hop never saw. Records too small to hold a frame are left
// out, and so are those the readable hop's capture does not cover. It returns nil, "" when
// there are none or the tiling is not certain.
func (j *judger) opaqueTail() (*schema.Uncounted, string) {
	o, r := -1, -1
	for _, h := range j.tr.travel {
		s := j.c.sess[h]
		if s == nil {
			continue
		}
		if !readable(s) {
			o = h
			continue
		}
		r = h
		break
	}
	if o < 0 || r < 0 {
		return nil, ""
	}
	so, sr := j.c.sess[o], j.c.sess[r]
	start, over, n, ok := recordTiling(so, sr, j.tr.dir)
	if !ok {
		return nil, "" // no tiling, or several: nothing certain
	}
	tail := so.TLS().Records[j.tr.dir][start+n:]
	minFrame := 2 // an unmasked frame header
	if j.tr.dir == capture.ClientToServer {
		minFrame = 6 // with the masking key
	}
	u := &schema.Uncounted{Hop: j.hs[o].name, NextHop: j.hs[r].name}
	for _, rec := range tail {
		if rec.Length-over < minFrame || !j.covered(r, sr, j.expected(rec.Time, o, r)) {
			continue
		}
		if u.Records == 0 {
			u.First = rec.Time
		}
		u.Records++
		u.PlaintextBytes += int64(rec.Length - over)
	}
	if u.Records == 0 {
		return nil, ""
	}
	note := fmt.Sprintf("; besides, %s (TLS without keys) carried %d more TLS record(s) from the %s (%d bytes of plaintext, from %s) after the last frame %s saw, and %s never saw them (the records before match %s's frames record for record): messages among them did not get through either, but how many is unknown without keys, so they are not counted",
		u.Hop, u.Records, sideOf(j.tr.dir), u.PlaintextBytes, j.stampAt(u.First, o), u.NextHop, u.NextHop, u.NextHop)
	return u, note
}

// recordTiling finds how the TLS records of direction dir at so, a session without keys,
// carry the frames that the readable session sr holds, as a proxy that passes frames on
// unchanged makes them: one or more records per frame, no record across a frame boundary, each
// holding its length less the cipher's overhead. The records before start are the TLS
// handshake's and the HTTP request's; n records from start carry sr's frames, the first to the
// last. ok is false unless sr has at least 3 frames, no hole, and exactly one start and overhead
// tile them.
func recordTiling(so, sr *capture.Session, dir capture.Direction) (start, over, n int, ok bool) {
	if so == nil || sr == nil || so.TLS() == nil || readable(so) || !readable(sr) || sr.HTTP2() != nil || so.HTTP2() != nil {
		return 0, 0, 0, false
	}
	es := sr.Entries(dir)
	if len(es) < 3 || len(sr.TCP[dir].Gaps()) > 0 {
		return 0, 0, 0, false
	}
	base := es[0].Offset()
	var bounds []uint64
	for i := range es {
		if es[i].Offset() < base {
			return 0, 0, 0, false
		}
		bounds = append(bounds, es[i].Offset()-base, es[i].End()-base)
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	recs := so.TLS().Records[dir]
	fits := 0
	for _, ov := range recordOverheads(so.TLS().Version) {
		for st := 0; st < min(len(recs), 8); st++ {
			if k, tiled := tileRecords(recs[st:], ov, bounds); tiled {
				start, over, n = st, ov, k
				fits++
			}
		}
	}
	return start, over, n, fits == 1
}

// tileRecords reports whether records, each holding its length less over bytes of plaintext,
// cover the frame boundaries bounds (ascending, from 0) exactly: every boundary falls at the end
// of a record. It returns how many records reach the last boundary.
func tileRecords(recs []capture.TLSRecord, over int, bounds []uint64) (int, bool) {
	var cum uint64
	bi := 0
	for bi < len(bounds) && bounds[bi] == 0 {
		bi++
	}
	for n, rec := range recs {
		if rec.Length <= over {
			return 0, false
		}
		cum += uint64(rec.Length - over)
		if cum > bounds[bi] {
			return 0, false // a record across a frame boundary, or not these frames at all
		}
		if cum == bounds[bi] {
			bi++
			if bi == len(bounds) {
				return n + 1, true
			}
		}
	}
	return 0, false
}
