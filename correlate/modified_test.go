package correlate

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// withPreviews gives every data message of the captures a preview of its payload (the first 64
// bytes), as capture.Read keeps by default; payloads maps a digest back to its payload.
func withPreviews(caps []*capture.Capture, payloads []string) {
	byDigest := map[capture.Digest]string{}
	for _, p := range payloads {
		byDigest[sha256.Sum256([]byte(p))] = p
	}
	for _, c := range caps {
		for _, s := range c.Sessions {
			for _, d := range capture.Directions {
				for i := range s.Messages(d) {
					m := &s.Messages(d)[i]
					if p, ok := byDigest[m.Digest]; ok {
						m.Preview = []byte(p[:min(len(p), 64)])
					}
				}
			}
		}
	}
}

// rewrite replaces message idx of direction d with payload at hop from and every hop after it in
// travel order: what a component that changes the message in transit leaves in the captures.
func rewrite(caps []*capture.Capture, d capture.Direction, idx, from int, payload string) {
	for h, c := range caps {
		if (d == capture.ClientToServer && h < from) || (d == capture.ServerToClient && h > from) {
			continue
		}
		m := &c.Sessions[0].Messages(d)[idx]
		m.Digest = sha256.Sum256([]byte(payload))
		m.WireDigest = m.Digest
		m.Length, m.WireLength = int64(len(payload)), int64(len(payload))
		m.Preview = []byte(payload[:min(len(payload), 64)])
		m.Packet.Number += 1000 // another packet than the original's, to tell them apart
	}
}

func TestCompare_Modified(t *testing.T) {
	long := strings.Repeat("x", 100) + "-tail"
	c2s := []string{"hello", "caf\u00e9 au lait", "third message", long, "fifth"}
	s2c := []string{"one", "two", "three", "four", "five"}
	tests := []struct {
		name  string
		dir   capture.Direction
		idx   int
		from  int // first hop, path order, with the changed payload (travel order applies)
		to    string
		tweak func(caps []*capture.Capture)
		want  dirWant
		delta int64
		first int64 // -1: null
		exit  int
	}{
		{name: "byte_flip", dir: capture.ClientToServer, idx: 2, from: 2, to: "third messagE",
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop2", missing: 1, index: 2, reason: "message 2 (13 bytes, hop1 at"},
			delta: 0, first: 12, exit: 1},
		{name: "truncation", dir: capture.ServerToClient, idx: 3, from: 1, to: "fou",
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop1", missing: 1, index: 3, reason: "1 bytes shorter, first difference at byte 3"},
			delta: -1, first: 3, exit: 1},
		{name: "extension", dir: capture.ClientToServer, idx: 0, from: 1, to: "hello, world",
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop1", missing: 1, index: 0, reason: "7 bytes longer, first difference at byte 5"},
			delta: 7, first: 5, exit: 1},
		{name: "re_encoding_latin1", dir: capture.ClientToServer, idx: 1, from: 3, to: "caf\xe9 au lait",
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop3", missing: 1, index: 1, reason: "the component between hop2 and hop3 altered it"},
			delta: -1, first: 3, exit: 1},
		{name: "last_message", dir: capture.ClientToServer, idx: 4, from: 2, to: "FIFTH",
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop2", missing: 1, index: 4},
			delta: 0, first: 0, exit: 1},
		{name: "difference_past_the_preview", dir: capture.ClientToServer, idx: 3, from: 2, to: strings.Repeat("x", 100) + "-TAIL",
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop2", missing: 1, index: 3},
			delta: 0, first: -1, exit: 1},
		{name: "no_previews", dir: capture.ServerToClient, idx: 0, from: 2, to: "ONE",
			tweak: func(caps []*capture.Capture) {
				for _, c := range caps {
					for _, d := range capture.Directions {
						for i := range c.Sessions[0].Messages(d) {
							c.Sessions[0].Messages(d)[i].Preview = nil
						}
					}
				}
			},
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop2", missing: 1, index: 0},
			delta: 0, first: -1, exit: 1},
		{
			// The case: the connection closes shortly after the changed message passed;
			// the close is not why it "did not pass".
			name: "close_after_the_change", dir: capture.ServerToClient, idx: 4, from: 1, to: "FIVE",
			tweak: func(caps []*capture.Capture) {
				for h := 0; h < 2; h++ {
					s := caps[h].Sessions[0]
					s.SetClose(capture.ClientToServer, &capture.Close{Code: 1000, Time: ms(10 + 4*100 + 50 + 30).Add(time.Duration(h) * time.Millisecond), Packet: capture.PacketRef{File: "x", Number: 99}})
					s.Ending = capture.ClosedClean
				}
			},
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop1", missing: 1, index: 4},
			delta: 0, first: 0, exit: 1},
		{
			// The close crosses the changed message: at hop1 it comes before the message could
			// have arrived, as far as the latency bound can tell, yet hop1 has the message.
			name: "close_crossing_the_change", dir: capture.ServerToClient, idx: 4, from: 1, to: "FIVE",
			tweak: func(caps []*capture.Capture) {
				for h := 0; h < 2; h++ {
					s := caps[h].Sessions[0]
					s.SetClose(capture.ClientToServer, &capture.Close{Code: 1000, Time: ms(10 + 4*100 + 50 - 1), Packet: capture.PacketRef{File: "x", Number: 99}})
					s.Ending = capture.ClosedClean
				}
			},
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop1", missing: 1, index: 4},
			delta: 0, first: 0, exit: 1},
		{
			name: "other_opcode_is_not_the_same_message", dir: capture.ClientToServer, idx: 2, from: 2, to: "third messagE",
			tweak: func(caps []*capture.Capture) {
				for h := 2; h < 4; h++ {
					caps[h].Sessions[0].Messages(capture.ClientToServer)[2].Opcode = capture.OpBinary
				}
			},
			want: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 1, index: 2}, exit: 1},
		{
			// A slow rewriting proxy: later than the latency allows, but between the same
			// neighbours at both hops: the same message, at low confidence, saying so.
			name: "late_between_neighbours", dir: capture.ClientToServer, idx: 2, from: 2, to: "third messagE",
			tweak: func(caps []*capture.Capture) {
				for h := 2; h < 4; h++ {
					m := &caps[h].Sessions[0].Messages(capture.ClientToServer)[2]
					m.First = m.First.Add(80 * time.Millisecond)
					m.Last = m.First
				}
			},
			want:  dirWant{verdict: schema.Modified, firstMiss: "hop2", missing: 1, index: 2, low: true, reason: "it arrived 81ms later than the latency measured would have it, more than the 50ms allowed"},
			delta: 0, first: 12, exit: 1},
		{
			name: "too_late_is_not_the_same_message", dir: capture.ClientToServer, idx: 4, from: 2, to: "FIFTH",
			tweak: func(caps []*capture.Capture) {
				for h := 2; h < 4; h++ {
					m := &caps[h].Sessions[0].Messages(capture.ClientToServer)[4]
					m.First = m.First.Add(5 * time.Second)
					m.Last = m.First
				}
			},
			want: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 1, index: 4}, exit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps := simulate(simOpts{hops: 4}, []connSpec{{key: keyN(1), c2s: c2s, s2c: s2c}})
			withPreviews(caps, append(append([]string{}, c2s...), s2c...))
			rewrite(caps, tt.dir, tt.idx, tt.from, tt.to)
			if tt.tweak != nil {
				tt.tweak(caps)
			}
			r := Compare(hopsOf(caps), Options{})
			c := r.Connections[0]
			got, other := c.Directions.ClientToServer, c.Directions.ServerToClient
			if tt.dir == capture.ServerToClient {
				got, other = other, got
			}
			checkDir(t, tt.dir.String(), got, tt.want)
			checkDir(t, "other direction", other, delivered)
			if code := r.ExitCode(); code != tt.exit {
				t.Errorf("ExitCode() = %d, want %d", code, tt.exit)
			}
			ch := got.Evidence.Change
			if tt.want.verdict != schema.Modified {
				if ch != nil {
					t.Errorf("change = %+v, want null", ch)
				}
				return
			}
			if r.Summary.Verdict != schema.Modified || r.Summary.Connections.Modified != 1 || !strings.Contains(r.Summary.Reason, "1 message of 1 connection was changed in transit between") {
				t.Errorf("summary = %+v", r.Summary)
			}
			if ch == nil {
				t.Fatal("evidence.change is null")
			}
			orig := []string{c2s[tt.idx], s2c[tt.idx]}[tt.dir]
			if ch.Original.Digest != capture.Digest(sha256.Sum256([]byte(orig))).String() || ch.Original.Size != int64(len(orig)) ||
				ch.Changed.Digest != capture.Digest(sha256.Sum256([]byte(tt.to))).String() || ch.Changed.Size != int64(len(tt.to)) {
				t.Errorf("change = %+v, want %q -> %q", ch, orig, tt.to)
			}
			if ch.SizeDelta != tt.delta {
				t.Errorf("size_delta = %d, want %d", ch.SizeDelta, tt.delta)
			}
			switch {
			case tt.first < 0 && ch.FirstDifference != nil:
				t.Errorf("first_difference = %d, want null", *ch.FirstDifference)
			case tt.first >= 0 && (ch.FirstDifference == nil || *ch.FirstDifference != tt.first):
				t.Errorf("first_difference = %v, want %d", ch.FirstDifference, tt.first)
			}
			if ch.Original.Hop != str(got.LastSeenHop) || ch.Changed.Hop != str(got.FirstMissingHop) ||
				ch.Changed.Packet != ch.Original.Packet+1000 || ch.Changed.File == "" || ch.Original.File == "" {
				t.Errorf("change does not locate both messages: %+v", ch)
			}
		})
	}
}

// TestCompare_ModifiedAmongLosses: between the same neighbours one message is dropped and the next
// one changed; timing tells which is which.
func TestCompare_ModifiedAmongLosses(t *testing.T) {
	caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: seq("a", 6), dropC2S: map[int]int{2: 2}}})
	// hop2 lacks a-2; rewrite its copy of a-3 (now at position 2 there).
	for h := 2; h < 3; h++ {
		m := &caps[h].Sessions[0].Messages(capture.ClientToServer)[2]
		m.Digest = sha256.Sum256([]byte("a-3 changed"))
		m.Length = 11
	}
	r := Compare(hopsOf(caps), Options{})
	d := r.Connections[0].Directions.ClientToServer
	checkDir(t, "c2s", d, dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 1, index: 2})
	if r.Summary.Connections.Lost != 1 {
		t.Errorf("summary counts %+v", r.Summary.Connections)
	}
}

// TestCompare_ModifiedTwoInARow: two consecutive messages changed pair in order.
func TestCompare_ModifiedTwoInARow(t *testing.T) {
	caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: seq("a", 6)}})
	rewrite(caps, capture.ClientToServer, 2, 1, "A-2")
	rewrite(caps, capture.ClientToServer, 3, 1, "A-3")
	r := Compare(hopsOf(caps), Options{})
	d := r.Connections[0].Directions.ClientToServer
	checkDir(t, "c2s", d, dirWant{verdict: schema.Modified, firstMiss: "hop1", missing: 2, index: 2})
	if ch := d.Evidence.Change; ch == nil || ch.Changed.Digest != capture.Digest(sha256.Sum256([]byte("A-2"))).String() {
		t.Errorf("change = %+v, want the first changed message", ch)
	}
}

// TestCompare_DeflateEitherSideIsNotModified: a terminating proxy that compresses on one side
// only changes the wire bytes, not the message: compared after inflation, delivered.
func TestCompare_DeflateEitherSideIsNotModified(t *testing.T) {
	caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: seq("a", 4), s2c: seq("b", 4)}})
	for h := 0; h < 2; h++ {
		for _, d := range capture.Directions {
			for i := range caps[h].Sessions[0].Messages(d) {
				m := &caps[h].Sessions[0].Messages(d)[i]
				m.Flags |= capture.Compressed
				m.WireDigest = sha256.Sum256([]byte{byte(i), 0xff})
				m.WireLength = 3
			}
		}
	}
	r := Compare(hopsOf(caps), Options{})
	checkDir(t, "c2s", r.Connections[0].Directions.ClientToServer, delivered)
	checkDir(t, "s2c", r.Connections[0].Directions.ServerToClient, delivered)
}

// TestVerdictKind_Modified: the new kind keeps its place in the order and its JSON name.
func TestVerdictKind_Modified(t *testing.T) {
	if !(schema.Undecided < schema.Modified && schema.Modified < schema.Closed) {
		t.Errorf("modified ranks wrong: undecided %d, modified %d, closed %d", schema.Undecided, schema.Modified, schema.Closed)
	}
	b, err := json.Marshal(schema.Modified)
	if err != nil || string(b) != `"modified"` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	var v schema.VerdictKind
	if err := json.Unmarshal(b, &v); err != nil || v != schema.Modified {
		t.Errorf("unmarshal = %v, %v", v, err)
	}
	r := &schema.Result{Summary: schema.Summary{Verdict: schema.Modified}}
	if r.ExitCode() != 1 {
		t.Errorf("ExitCode() = %d, want 1", r.ExitCode())
	}
}

// TestCompare_ChangedInOneCaptureOnly: a message changed in the middle hops' captures only, the
// hops on both sides having it as sent (a damaged capture, or a change undone further along), is
// a capture gap at the first of those hops, never a loss of the changed copy downstream.
func TestCompare_ChangedInOneCaptureOnly(t *testing.T) {
	for _, tt := range []struct {
		name    string
		hops    int
		dir     capture.Direction
		changed []int // hops (path order) whose capture has message 2 changed
		gapAt   string
	}{
		{name: "middle_of_three_s2c", hops: 3, dir: capture.ServerToClient, changed: []int{1}, gapAt: "hop1"},
		{name: "two_middle_hops_c2s", hops: 4, dir: capture.ClientToServer, changed: []int{1, 2}, gapAt: "hop1"},
		{name: "two_middle_hops_s2c", hops: 4, dir: capture.ServerToClient, changed: []int{1, 2}, gapAt: "hop2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msgs := []string{"one", "two", "three", "four", "five"}
			caps := simulate(simOpts{hops: tt.hops}, []connSpec{{key: keyN(1), c2s: msgs, s2c: msgs}})
			withPreviews(caps, msgs)
			for _, h := range tt.changed {
				m := &caps[h].Sessions[0].Messages(tt.dir)[2]
				m.Digest = sha256.Sum256([]byte("thrEe"))
				m.Preview = []byte("thrEe")
			}
			r := Compare(hopsOf(caps), Options{})
			c := r.Connections[0]
			got, other := c.Directions.ClientToServer, c.Directions.ServerToClient
			if tt.dir == capture.ServerToClient {
				got, other = other, got
			}
			checkDir(t, tt.dir.String(), got, dirWant{verdict: schema.CaptureGap, firstMiss: tt.gapAt, missing: 1, index: 2,
				reason: "capture has message 2 changed (5 bytes"})
			checkDir(t, "other direction", other, delivered)
			if r.ExitCode() != 3 {
				t.Errorf("ExitCode() = %d, want 3", r.ExitCode())
			}
		})
	}
}

// TestCompare_ModifiedListed: several changed messages are listed; a change in a direction whose
// verdict is worse (a loss further on) is still told, as a note.
func TestCompare_ModifiedListed(t *testing.T) {
	caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: seq("a", 8)}})
	rewrite(caps, capture.ClientToServer, 2, 1, "A-2")
	rewrite(caps, capture.ClientToServer, 5, 1, "A-5")
	r := Compare(hopsOf(caps), Options{})
	checkDir(t, "c2s", r.Connections[0].Directions.ClientToServer,
		dirWant{verdict: schema.Modified, firstMiss: "hop1", missing: 2, index: 2, reason: "2 changed: #2, #5 at hop1. First: message 2 ("})

	caps = simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: seq("a", 8), dropC2S: map[int]int{6: 2}}})
	rewrite(caps, capture.ClientToServer, 2, 1, "A-2")
	r = Compare(hopsOf(caps), Options{})
	d := r.Connections[0].Directions.ClientToServer
	checkDir(t, "c2s", d, dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 1, index: 6})
	if len(d.Evidence.Notes) == 0 || !strings.HasPrefix(d.Evidence.Notes[len(d.Evidence.Notes)-1], "1 changed: #2 at hop1: message 2 (") {
		t.Errorf("notes = %q, want the change told", d.Evidence.Notes)
	}
	if d.Evidence.Change != nil {
		t.Errorf("change = %+v on a lost direction", d.Evidence.Change)
	}
}

// TestCompare_EveryMessageChanged: a proxy that rewrites every message (adds a field, say) leaves
// no neighbour to align on; by position, opcode and time each is the same message changed.
func TestCompare_EveryMessageChanged(t *testing.T) {
	msgs := seq("m", 5)
	caps := simulate(simOpts{hops: 3}, []connSpec{{key: keyN(1), c2s: msgs, s2c: msgs}})
	for i, p := range msgs {
		rewrite(caps, capture.ServerToClient, i, 1, p+`,"via":"proxy"`)
	}
	r := Compare(hopsOf(caps), Options{})
	c := r.Connections[0]
	checkDir(t, "s2c", c.Directions.ServerToClient, dirWant{verdict: schema.Modified, firstMiss: "hop1", missing: 5, index: 0, reason: "5 changed: #0, #1, #2, #3, #4 at hop1"})
	checkDir(t, "c2s", c.Directions.ClientToServer, delivered)
}
