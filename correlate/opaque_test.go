package correlate

import (
	"testing"

	"github.com/wspath/wspath/capture"
)

// TestRecordTiling: the TLS records of a hop without keys are tied to the frames a readable hop
// read only when they carry them exactly, record for record, at one start and cipher overhead.
func TestRecordTiling(t *testing.T) {
	frames := []int{64, 18, 23, 20, 17, 20, 21, 100, 97, 20} // tls-nokeys-both-stall, fw, /chat/2
	recs := func(head []int, sizes []int, over int, tail ...int) []capture.TLSRecord {
		var out []capture.TLSRecord
		for _, n := range head {
			out = append(out, capture.TLSRecord{Length: n})
		}
		for _, n := range sizes {
			out = append(out, capture.TLSRecord{Length: n + over})
		}
		for _, n := range tail {
			out = append(out, capture.TLSRecord{Length: n})
		}
		return out
	}
	split := append([]int{64, 10, 8}, frames[2:]...)               // a frame in two records
	merged := append([]int{64, 18 + 23}, frames[3:]...)            // two frames in one record
	other := append(append([]int{}, frames[:7]...), 99, 97, 20, 1) // another connection's sizes
	tests := []struct {
		name    string
		version string
		recs    []capture.TLSRecord
		start   int
		n       int
		ok      bool
	}{
		{"TLS 1.3, records after", "TLS 1.3", recs([]int{69, 289}, frames, 17, 1755, 37, 19), 2, 10, true},
		{"TLS 1.3, a frame in two records", "TLS 1.3", recs([]int{69, 289}, split, 17), 2, 11, true},
		{"TLS 1.2 GCM", "TLS 1.2", recs([]int{289}, frames, 24), 1, 10, true},
		{"two frames in one record", "TLS 1.3", recs([]int{69, 289}, merged, 17), 0, 0, false},
		{"another connection", "TLS 1.3", recs([]int{69, 289}, other, 17), 0, 0, false},
		{"fewer records than frames", "TLS 1.3", recs([]int{69, 289}, frames[:6], 17), 0, 0, false},
		{"TLS 1.2 CBC: no fixed overhead", "TLS 1.0", recs(nil, frames, 24), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr := &capture.Session{}
			var off uint64 = 301
			for i, n := range frames {
				m := capture.Message{Index: i, Opcode: capture.OpText, Offset: off, End: off + uint64(n), Frames: 1}
				sr.SetMessages(capture.ClientToServer, append(sr.Messages(capture.ClientToServer), m))
				off += uint64(n)
			}
			sr = capture.WithEntries(sr)
			so := &capture.Session{}
			so.SetTLS(&capture.TLSInfo{Version: tt.version})
			so.TLS().Records[capture.ClientToServer] = tt.recs
			start, _, n, ok := recordTiling(so, sr, capture.ClientToServer)
			if ok != tt.ok || (ok && (start != tt.start || n != tt.n)) {
				t.Errorf("start %d, %d records, ok %v; want %d, %d, %v", start, n, ok, tt.start, tt.n, tt.ok)
			}
		})
	}
}
