package correlate

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// checkChains verifies that every connection joins sessions of one simulated connection (the
// simulator gives connection i the client port 40000+i at every hop) and returns, per simulated
// connection, its Connection.
func checkChains(t *testing.T, r *schema.Result) map[uint16]*schema.Connection {
	t.Helper()
	out := map[uint16]*schema.Connection{}
	for i := range r.Connections {
		c := &r.Connections[i]
		var port uint16
		for _, hv := range c.Hops {
			if hv.Value == nil {
				continue
			}
			ap, err := netip.ParseAddrPort(hv.Value.Client)
			if err != nil {
				t.Fatalf("connection %d: bad client %q", c.ID, hv.Value.Client)
			}
			if port == 0 {
				port = ap.Port()
			} else if ap.Port() != port {
				t.Errorf("connection %d joins client ports %d and %d (at %s)", c.ID, port, ap.Port(), hv.Hop)
			}
		}
		out[port] = c
	}
	return out
}

func seenAt(c *schema.Connection) string {
	s := ""
	for _, hv := range c.Hops {
		if hv.Value != nil {
			s += "x"
		} else {
			s += "."
		}
	}
	return s
}

func TestCompare_Matching(t *testing.T) {
	typing := `{"type":"typing"}`
	tests := []struct {
		name  string
		n     int // concurrent connections
		hops  int
		skew  []time.Duration
		spec  func(i int) connSpec
		tweak func(caps []*capture.Capture)
		check func(t *testing.T, r *schema.Result, byPort map[uint16]*schema.Connection)
	}{
		{
			name: "missing_key_at_one_hop",
			n:    20, hops: 4,
			spec: func(i int) connSpec {
				return connSpec{key: keyN(i), startMs: i * 50, c2s: same(typing, 8), s2c: same("hb", 8),
					keyAt: func(h int) string {
						if h == 1 {
							return ""
						}
						return keyN(i)
					}}
			},
			check: func(t *testing.T, r *schema.Result, byPort map[uint16]*schema.Connection) {
				if len(r.Connections) != 20 {
					t.Fatalf("got %d connections, want 20", len(r.Connections))
				}
				for _, c := range r.Connections {
					if seenAt(&c) != "xxxx" || c.Verdict != schema.Delivered {
						t.Errorf("connection %d: seen %s, verdict %s", c.ID, seenAt(&c), c.Verdict)
					}
					if c.Hops[1].Value.MatchedBy != schema.MatchedByTimeDigests {
						t.Errorf("connection %d: hop1 matched by %q", c.ID, c.Hops[1].Value.MatchedBy)
					}
				}
			},
		},
		{
			name: "forty_identical_behind_terminating_proxy_with_skew",
			n:    40, hops: 4,
			skew: []time.Duration{0, 0, 2500 * time.Millisecond, -1200 * time.Millisecond},
			spec: func(i int) connSpec {
				cs := connSpec{key: keyN(i), startMs: i * 37, c2s: same(typing, 10), s2c: same("hb", 10),
					keyAt: func(h int) string {
						if h >= 2 {
							return "new" + keyN(i)
						}
						return keyN(i)
					}}
				if i%7 == 3 {
					cs.dropC2S = map[int]int{9: 3} // the server side loses the last typing
				}
				return cs
			},
			check: func(t *testing.T, r *schema.Result, byPort map[uint16]*schema.Connection) {
				if len(r.Connections) != 40 {
					t.Fatalf("got %d connections, want 40", len(r.Connections))
				}
				for i := 0; i < 40; i++ {
					c := byPort[uint16(40000+i)]
					if c == nil || seenAt(c) != "xxxx" {
						t.Fatalf("simulated connection %d not followed across all hops", i)
					}
					want := schema.Delivered
					if i%7 == 3 {
						want = schema.Lost
					}
					if c.Directions.ClientToServer.Verdict != want {
						t.Errorf("connection %d: c2s %s, want %s: %s", i, c.Directions.ClientToServer.Verdict, want, c.Directions.ClientToServer.Reason)
					}
				}
				for h, want := range []time.Duration{0, 0, 2500 * time.Millisecond, -1200 * time.Millisecond} {
					got := r.Hops[h].ClockOffset
					if got == nil || absDur(time.Duration(*got)-want) > 5*time.Millisecond {
						t.Errorf("hop%d clock offset = %v, want about %v", h, got, want)
					}
				}
				if l := r.Hops[2].Latency; l == nil || absDur(time.Duration(l.Median)-time.Millisecond) > 2*time.Millisecond {
					t.Errorf("hop2 latency = %+v, want about 1ms", l)
				}
				if k := r.Segments[1].Kind; k != schema.Terminated {
					t.Errorf("segment hop1-hop2 = %s, want terminated", k)
				}
				if k := r.Segments[0].Kind; k != schema.Passthrough {
					t.Errorf("segment hop0-hop1 = %s, want passthrough", k)
				}
				if r.Summary.Verdict != schema.Lost || r.Summary.AffectedConnections != 6 || *r.Summary.Segment != "between hop2 and hop3" {
					t.Errorf("summary = %+v", r.Summary)
				}
			},
		},
		{
			name: "seen_at_some_hops_only",
			n:    3, hops: 4,
			spec: func(i int) connSpec {
				return connSpec{key: keyN(i), startMs: i * 1000, c2s: seq(fmt.Sprint(i), 3)}
			},
			tweak: func(caps []*capture.Capture) {
				// Connection 1 is only at hops 0 and 2; connection 2 only at hop 3.
				caps[1].Sessions = []*capture.Session{caps[1].Sessions[0], caps[1].Sessions[2]}
				caps[3].Sessions = []*capture.Session{caps[3].Sessions[0], caps[3].Sessions[2]}
				caps[0].Sessions = caps[0].Sessions[:2]
				caps[2].Sessions = caps[2].Sessions[:2]
				caps[1].Sessions = caps[1].Sessions[:1]
			},
			check: func(t *testing.T, r *schema.Result, byPort map[uint16]*schema.Connection) {
				want := map[uint16]string{40000: "xxxx", 40001: "x.x.", 40002: "...x"}
				for p, w := range want {
					c := byPort[p]
					if c == nil || seenAt(c) != w {
						t.Errorf("client port %d: seen %v, want %s", p, c, w)
					}
				}
				c := byPort[40001]
				if c.Directions.ClientToServer.Verdict != schema.Undecided || *c.Directions.ClientToServer.FirstMissingHop != "hop3" {
					t.Errorf("partial connection: %+v", c.Directions.ClientToServer)
				}
			},
		},
		{
			name: "reframed_by_proxy",
			n:    5, hops: 3,
			spec: func(i int) connSpec {
				return connSpec{key: keyN(i), startMs: i * 10, c2s: same("x", 4), frames: func(h int) int { return 1 + h/2 }}
			},
			check: func(t *testing.T, r *schema.Result, byPort map[uint16]*schema.Connection) {
				if r.Segments[0].Kind != schema.Passthrough || r.Segments[1].Kind != schema.Reframed {
					t.Errorf("segments = %+v", r.Segments)
				}
				if r.Summary.Verdict != schema.Delivered {
					t.Errorf("summary = %+v", r.Summary)
				}
			},
		},
		{
			name: "key_missing_everywhere_but_first",
			n:    10, hops: 3,
			skew: []time.Duration{0, 3 * time.Second, -2 * time.Second},
			spec: func(i int) connSpec {
				return connSpec{key: keyN(i), startMs: i * 150, c2s: seq(fmt.Sprint("m", i%3), 5), s2c: same("ok", 5),
					keyAt: func(h int) string {
						if h == 0 {
							return keyN(i)
						}
						return ""
					}}
			},
			check: func(t *testing.T, r *schema.Result, byPort map[uint16]*schema.Connection) {
				if len(r.Connections) != 10 {
					t.Fatalf("got %d connections, want 10", len(r.Connections))
				}
				for _, c := range r.Connections {
					if seenAt(&c) != "xxx" || c.Verdict != schema.Delivered {
						t.Errorf("connection %d: seen %s verdict %s", c.ID, seenAt(&c), c.Verdict)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs := make([]connSpec, tt.n)
			for i := range specs {
				specs[i] = tt.spec(i)
			}
			caps := simulate(simOpts{hops: tt.hops, skew: tt.skew}, specs)
			if tt.tweak != nil {
				tt.tweak(caps)
			}
			r := Compare(hopsOf(caps), Options{})
			tt.check(t, r, checkChains(t, r))
		})
	}
}

func TestCompare_Deterministic(t *testing.T) {
	specs := make([]connSpec, 30)
	for i := range specs {
		specs[i] = connSpec{key: keyN(i), startMs: i * 20, c2s: same("t", 5), s2c: same("h", 5),
			keyAt: func(h int) string {
				if h == 1 {
					return ""
				}
				return keyN(i)
			}}
	}
	caps := simulate(simOpts{hops: 3}, specs)
	a := Compare(hopsOf(caps), Options{})
	for n := 0; n < 5; n++ {
		b := Compare(hopsOf(caps), Options{})
		ja, jb := mustJSON(t, a), mustJSON(t, b)
		if string(ja) != string(jb) {
			t.Fatal("Compare is not deterministic")
		}
	}
}
