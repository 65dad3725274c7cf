package correlate

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
)

// FuzzCompare perturbs a crafted path with the fuzzer's bytes (dropped, reordered and changed
// messages, removed keys and sessions, TLS without keys, shifted times, TCP events) and checks that Compare
// neither panics nor produces a Result that does not marshal.
func FuzzCompare(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte("\x00\x01\x02\x03\xff\xfe\xfd\x10\x20\x30\x40\x50\x60\x70\x80\x90"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 256 {
			ops = ops[:256]
		}
		specs := []connSpec{
			{key: keyN(1), c2s: same("t", 6), s2c: seq("s", 4)},
			{key: keyN(2), startMs: 30, c2s: same("t", 6), s2c: same("h", 3)},
			{key: keyN(3), startMs: 60, c2s: seq("x", 3)},
		}
		caps := simulate(simOpts{hops: 3, skew: []time.Duration{0, 2 * time.Second, -time.Second}}, specs)
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i], int(ops[i+1])
			c := caps[arg%len(caps)]
			if len(c.Sessions) == 0 {
				continue
			}
			s := c.Sessions[(arg/3)%len(c.Sessions)]
			d := capture.Direction(arg & 1)
			ms := s.Messages(d)
			switch op % 11 {
			case 0:
				if len(ms) > 0 {
					k := arg % len(ms)
					s.SetMessages(d, append(ms[:k:k], ms[k+1:]...))
				}
			case 1:
				s.Request = nil
			case 2:
				opaque(s, arg%7, arg%5)
			case 3:
				c.Sessions = append(c.Sessions[:0:0], c.Sessions[1:]...)
			case 4:
				if len(ms) > 0 {
					ms[arg%len(ms)].First = ms[arg%len(ms)].First.Add(time.Duration(arg-128) * 100 * time.Millisecond)
				}
			case 5:
				s.TCP[d].RST = &capture.TCPEvent{Time: s.Start.Add(time.Duration(arg) * 5 * time.Millisecond)}
			case 6:
				a := s.TCP[d].Anomalies()
				a.Gaps = append(a.Gaps, capture.Gap{Offset: uint64(arg), Length: uint64(arg) + 1, Reason: capture.GapReason(arg % 4)})
				s.TCP[d].SetAnomalies(a)
			case 7:
				if len(ms) > 0 {
					m := &ms[arg%len(ms)]
					m.Flags |= capture.Incomplete
					m.Digest = capture.Digest{}
				}
			case 8:
				c.End = c.Start.Add(time.Duration(arg) * 10 * time.Millisecond)
			case 9:
				if len(ms) > 1 {
					ms[0], ms[len(ms)-1] = ms[len(ms)-1], ms[0]
				}
			case 10: // changed in transit, or in this capture only
				if len(ms) > 0 {
					m := &ms[arg%len(ms)]
					m.Digest[0] ^= byte(arg | 1)
					m.Length += int64(arg%3) - 1
					m.Preview = []byte{byte(arg)}
				}
			}
		}
		hops := hopsOf(caps)
		if len(ops) > 0 && ops[0]%5 == 0 {
			hops[1].Capture = nil
		}
		r := Compare(hops, Options{})
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
		if len(r.Refused) > 0 {
			return // no connections: the input was refused (hops out of order, say)
		}
		for _, h := range r.Hops {
			if h.Matched != h.Connections && !slices.Contains(r.Summary.LeftOut, h.Name) {
				t.Fatalf("hop %s: %d sessions, %d placed in connections: sessions were dropped", h.Name, h.Connections, h.Matched)
			}
		}
	})
}
