package correlate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestCompare_BothSidesInOneCapture: `tcpdump -i any` on a proxy host holds the client's
// connection to the proxy and the proxy's connection upstream, with the same key. The hop is
// compared as two, so a message the proxy received and never forwarded is placed between them.
func TestCompare_BothSidesInOneCapture(t *testing.T) {
	var specs []connSpec
	for i := 0; i < 4; i++ {
		c := connSpec{key: keyN(i), startMs: i * 50, c2s: seq("m", 5), s2c: seq("r", 5)}
		if i == 2 {
			c.dropC2S = map[int]int{3: 2} // hop 2 (the proxy's upstream side) never sees message 3
		}
		specs = append(specs, c)
	}
	caps := simulate(simOpts{hops: 3}, specs)
	both := *caps[1]
	both.Sessions = append(append([]*capture.Session(nil), caps[1].Sessions...), caps[2].Sessions...)
	r := Compare([]Hop{{Name: "lb", Capture: caps[0]}, {Name: "proxy", Capture: &both}}, Options{})

	var names []string
	for _, h := range r.Hops {
		names = append(names, h.Name)
	}
	if len(names) != 3 || names[1] != "proxy.in" || names[2] != "proxy.out" {
		t.Fatalf("hops %v, want lb proxy.in proxy.out", names)
	}
	if len(r.Connections) != 4 {
		t.Fatalf("%d connections, want 4 (no phantom for the second side)", len(r.Connections))
	}
	d := r.Connections[2].Directions.ClientToServer
	if d.Verdict != schema.Lost || str(d.FirstMissingHop) != "proxy.out" {
		t.Errorf("verdict %s at %s, want lost at proxy.out: %s", d.Verdict, str(d.FirstMissingHop), d.Reason)
	}
	if r.Summary.Connections.Delivered != 3 {
		t.Errorf("summary %+v", r.Summary.Connections)
	}
}

func str(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// viewsOf returns copies of sessions with the endpoints of like (session for session): the same
// TCP connections seen on another interface of the same host.
func viewsOf(sessions, like []*capture.Session) []*capture.Session {
	var out []*capture.Session
	for i, s := range sessions {
		v := *s
		v.Client, v.Server = like[i].Client, like[i].Server
		out = append(out, &v)
	}
	return out
}

// TestCompare_RouterViews: `tcpdump -i any` on a router captures each forwarded connection on two
// interfaces, the same endpoints on both (capture keeps the views apart by interface). The hop is
// compared as NAME.in and NAME.out, so a message the router dropped is lost inside it. With a
// third capture point in the same file (a NAT'd continuation upstream: a container's bridge port,
// the bridge, the uplink), the first and the last point are compared and the middle view is left
// out with a warning, never taken for a connection of its own.
func TestCompare_RouterViews(t *testing.T) {
	for _, tt := range []struct {
		name   string
		hops   int
		merge  func(caps []*capture.Capture) []*capture.Session
		wantIn string
		extra  bool
	}{
		{"two_interfaces", 3, func(caps []*capture.Capture) []*capture.Session {
			return append(append([]*capture.Session(nil), caps[1].Sessions...), viewsOf(caps[2].Sessions, caps[1].Sessions)...)
		}, "fw.out", false},
		{"mid_stream", 3, func(caps []*capture.Capture) []*capture.Session {
			// The capture began after the handshakes, and its first packet of each connection
			// was a server-to-client one leaving on the client's side: first packets would put
			// the views the wrong way round.
			in := viewsOf(caps[1].Sessions, caps[1].Sessions)
			out := viewsOf(caps[2].Sessions, caps[1].Sessions)
			for i := range in {
				in[i].Request, in[i].Response, in[i].MidStream = nil, nil, true
				out[i].Request, out[i].Response, out[i].MidStream = nil, nil, true
				out[i].Start = in[i].Start.Add(-time.Millisecond)
			}
			return append(in, out...)
		}, "fw.out", false},
		{"third_view_and_nat", 4, func(caps []*capture.Capture) []*capture.Session {
			s := append([]*capture.Session(nil), caps[1].Sessions...)
			s = append(s, viewsOf(caps[2].Sessions, caps[1].Sessions)...)
			return append(s, caps[3].Sessions...)
		}, "fw.out", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var specs []connSpec
			for i := 0; i < 4; i++ {
				c := connSpec{key: keyN(i), startMs: i * 50, c2s: seq(fmt.Sprint("m", i), 5), s2c: seq(fmt.Sprint("r", i), 5)}
				if i == 2 {
					c.dropC2S = map[int]int{3: tt.hops - 1} // the last capture point never sees message 3
				}
				specs = append(specs, c)
			}
			caps := simulate(simOpts{hops: tt.hops}, specs)
			fw := *caps[1]
			fw.Sessions = tt.merge(caps)
			r := Compare([]Hop{{Name: "lb", Capture: caps[0]}, {Name: "fw", Capture: &fw}}, Options{})
			if len(r.Refused) > 0 {
				t.Fatalf("refused: %q", r.Refused)
			}
			var names []string
			for _, h := range r.Hops {
				names = append(names, h.Name)
			}
			if len(names) != 3 || names[1] != "fw.in" || names[2] != "fw.out" {
				t.Fatalf("hops %v, want lb fw.in fw.out", names)
			}
			if len(r.Connections) != 4 {
				t.Fatalf("%d connections, want 4 (no phantom for a view)", len(r.Connections))
			}
			d := r.Connections[2].Directions.ClientToServer
			if d.Verdict != schema.Lost || str(d.FirstMissingHop) != tt.wantIn {
				t.Errorf("verdict %s at %s, want lost at %s: %s", d.Verdict, str(d.FirstMissingHop), tt.wantIn, d.Reason)
			}
			var warned bool
			for _, w := range r.Hops[1].Warnings {
				warned = warned || strings.Contains(w, "third interface")
			}
			if warned != tt.extra {
				t.Errorf("warning of a left-out view: %v, want %v (%q)", warned, tt.extra, r.Hops[1].Warnings)
			}
		})
	}
}

// TestCompare_CapturedTwiceWithoutInterface: a hop whose capture took the connection twice,
// arriving and leaving a host that forwards it, without the interface of each packet (tcpdump -i
// any in Linux cooked v1), cannot say whether a message it saw once left the host: a loss placed
// after it is low confidence, saying why. A stray copy (a retransmission right behind the
// original) is no such capture.
func TestCompare_CapturedTwiceWithoutInterface(t *testing.T) {
	for _, tt := range []struct {
		name      string
		copies    int
		forwarded bool // Linux cooked v1 packet types say so (capture.Session.Forwarded)
		wantLow   bool
	}{{"forwarding_host", 12, false, true}, {"stray_copy", 1, false, false}, {"forwarded_copies_apart", 0, true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			specs := []connSpec{{key: keyN(1), c2s: seq("m", 8), s2c: seq("r", 8), dropC2S: map[int]int{3: 2}}}
			caps := simulate(simOpts{hops: 3}, specs)
			s := caps[1].Sessions[0]
			for d := range s.TCP {
				s.TCP[d].Packets = 40
				s.TCP[d].SetAnomalies(capture.StreamAnomalies{CaptureCopies: tt.copies})
			}
			s.SetForwarded(tt.forwarded)
			r := Compare([]Hop{{Name: "lb", Capture: caps[0]}, {Name: "fw", Capture: caps[1]}, {Name: "ingress", Capture: caps[2]}}, Options{})
			d := r.Connections[0].Directions.ClientToServer
			if d.Verdict != schema.Lost || str(d.FirstMissingHop) != "ingress" {
				t.Fatalf("verdict %s at %s, want lost at ingress: %s", d.Verdict, str(d.FirstMissingHop), d.Reason)
			}
			if d.LowConfidence != tt.wantLow || strings.Contains(d.Reason, "holds this connection twice") != tt.wantLow {
				t.Errorf("low confidence %v, want %v: %s", d.LowConfidence, tt.wantLow, d.Reason)
			}
			warned := false
			for _, w := range r.Hops[1].Warnings {
				warned = warned || strings.Contains(w, "captured twice at once")
			}
			if warned != tt.wantLow {
				t.Errorf("fw warned %v, want %v: %q", warned, tt.wantLow, r.Hops[1].Warnings)
			}
		})
	}
}

// TestCompare_IndexPastLateCapture: the hop that last saw a lost message picked the connection up
// mid-stream (its capture began after the first messages), so its count starts late; the lost
// message's index, in the JSON and in the reason, is the one a hop that saw the direction whole
// gives it, not the late hop's own count.
func TestCompare_IndexPastLateCapture(t *testing.T) {
	specs := []connSpec{{key: keyN(1), c2s: seq("m", 10), s2c: seq("r", 10), dropC2S: map[int]int{6: 2}}}
	caps := simulate(simOpts{hops: 3}, specs)
	s := caps[1].Sessions[0]
	s.Request, s.Response, s.MidStream = nil, nil, true
	for d := range s.TCP {
		ms := append([]capture.Message(nil), s.Messages(capture.Direction(d))[3:]...)
		for i := range ms {
			ms[i].Index = i
		}
		s.SetMessages(capture.Direction(d), ms)
	}
	s.Start = s.Messages(capture.ClientToServer)[0].First
	r := Compare([]Hop{{Name: "lb", Capture: caps[0]}, {Name: "fw", Capture: caps[1]}, {Name: "ingress", Capture: caps[2]}}, Options{})
	d := r.Connections[0].Directions.ClientToServer
	if d.Verdict != schema.Lost || str(d.FirstMissingHop) != "ingress" || d.Index == nil || *d.Index != 6 {
		t.Fatalf("verdict %s at %s, index %v; want lost at ingress, index 6: %s", d.Verdict, str(d.FirstMissingHop), d.Index, d.Reason)
	}
	if !strings.HasPrefix(d.Reason, "message 6 (") {
		t.Errorf("reason does not count as the whole hops do: %s", d.Reason)
	}
}

func TestOneInterface(t *testing.T) {
	for _, tt := range []struct {
		name  string
		views []string // the sessions' interfaces
		want  string   // hops.yaml's interface
		kept  int
		warn  string
	}{
		{"pcapng_name", []string{"f0", "f1", "f0", "f1"}, "f1", 2, "only the connections captured on f1"},
		{"sll2_index", []string{"ifindex 2", "ifindex 3"}, "ifindex 3", 1, "only the connections captured on ifindex 3"},
		{"name_part", []string{"eth0 ifindex 4", "eth1 ifindex 4"}, "eth0", 1, "only"},
		{"none_matches", []string{"f0", "f1"}, "eth9", 2, "on which no connection was captured: every interface of the capture (f0, f1)"},
		{"any", []string{"f0", "f1"}, "any", 2, ""},
		{"one_view", []string{"", ""}, "eth0", 2, ""},
		{"not_given", []string{"f0", "f1"}, "", 2, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &capture.Capture{}
			for i, v := range tt.views {
				s := &capture.Session{ID: i + 1}
				s.SetInterface(v)
				c.Sessions = append(c.Sessions, s)
			}
			oneInterface(c, tt.want)
			if len(c.Sessions) != tt.kept {
				t.Errorf("%d sessions kept, want %d", len(c.Sessions), tt.kept)
			}
			var ws []string
			for _, w := range c.Warnings {
				ws = append(ws, w.Message)
			}
			if got := strings.Join(ws, "\n"); (tt.warn == "") != (got == "") || !strings.Contains(got, tt.warn) {
				t.Errorf("warnings %q, want %q", got, tt.warn)
			}
		})
	}
}
