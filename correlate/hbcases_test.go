package correlate

import (
	"fmt"
	"testing"
	"time"

	"github.com/wspath/wspath/schema"
)

// beats returns n heartbeats "beat", but for unique messages "u<i>" at the given indices.
func beats(n int, unique ...int) []string {
	out := same("beat", n)
	for _, i := range unique {
		out[i] = fmt.Sprintf("u%d", i)
	}
	return out
}

// TestCompare_HeartbeatHoleCases: the trials of TestCompare_HeartbeatRandom (new) and of the
// harness it grew from (old) that judged a loss or change where there was none, reduced to the
// connection with the holes; each failed before the fix. Identical copies at several hops'
// capture holes were paired one copy off: by order where each side's hole swallowed a copy the
// other has (1447), merged out of stream order (1447), guessed at a hop between the two a
// finding compares (759), or guessed at an earlier hop, which shifted the later hops' pairs with
// no guess of their own (2171); and a copy paired elsewhere read as a changed message (759, and
// 23 once offsets placed its copies). Each must be told right, or be undecided naming the
// captures whose holes make it a guess, never lost; the real drops beside them stay lost. And a
// message in a hole the capture made itself is a capture gap even when the connection closed
// right after it (116, once offsets placed its copies, read closed: before the message "could
// get there" by a latency bound another connection's losses had stretched). Holes side by side
// at two hops place copies of other sizes by offsets too (4969), which then read as changed
// (4500) unless a hole of the capture's own making comes first. And a unique message is not
// taken for an extra one downstream because a heartbeat's next copy is nearer (25: 6 lost for
// 2): the skip after which more messages pair in order wins. Last, a capture hole is no excuse
// for more missing messages than it can hold: the excess of identical copies is lost (14935, a
// capture gap of 2 before), and of other payloads undecided (1082, a capture gap of 3 before).
// Nor is a message standing in a lost one's place a change when the hop before has a hole of its
// own there that may have held it (8581: modified before; changed or lost, undecided). And a
// message missing at a hop but seen further along is in its hole, taking room from the rest
// (652: u2 undecided before, though u1, the hole's other candidate, reached the next hop). And a
// loss placed past a hop whose capture was dropping packets then (acknowledged holes in another
// direction, no FIN to show the tail whole) is low confidence, since the blind hop's component may
// be the one that dropped it (618: a confident first missing hop past the one that lost it before).
// Nor is a hop whose capture has a hole beside the place of a message it lacks sure to have
// carried it when the hole may hold another message instead: a hole larger than the messages
// missing there (46142: a copy paired one off, the unique message dropped beside it), or a hole
// beside a copy of the message (16072: the hole holds the next copy, this one dropped before).
// Each was a confident loss at the hop after the one that dropped it. And a message whose payload
// occurs once at both hops is not stepped past: offsets from a copy paired one off (a heartbeat
// dropped before it, 40020) put it in the other side's hole, and it was counted lost at one hop
// and extra at the next (lost 2 for 1). Which heartbeat was lost there is a guess: undecided.

func TestCompare_HeartbeatHoleCases(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		trial    hbTrial
		c2s, s2c dirWant
	}{
		{name: "old 1621: c2s holes at hop0, hop1, hop2",
			trial: hbTrial{hops: 4, lat: 16035 * time.Microsecond, skew: make([]time.Duration, 4),
				holes: []hbHole{{2, 0, 5, 6}, {1, 0, 5, 6}, {0, 0, 2, 3}},
				conns: []connSpec{{key: keyN(1), everyMs: 144, c2s: beats(9), s2c: same("ack", 9), dropS2C: map[int]int{0: 3, 4: 1}}}},
			c2s: dirWant{verdict: schema.Undecided, firstMiss: "hop3", missing: 1, index: -1, low: true,
				reason: "hole in hop0's capture (1 holes, 10 bytes: acked) and hop1's capture (1 holes, 10 bytes: acked) and hop2's capture"},
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop0", missing: 2, index: -1, reason: "never left hop3"}},
		{name: "old 2112: s2c holes at hop2 and hop1, skewed clock",
			trial: hbTrial{hops: 3, lat: 7362 * time.Microsecond, skew: []time.Duration{0, 404 * ms, 0},
				holes: []hbHole{{2, 1, 5, 6}, {1, 1, 3, 5}},
				conns: []connSpec{{key: keyN(1), everyMs: 22, c2s: beats(22, 1, 5, 6, 15, 16, 20), s2c: same("ack", 22)}}},
			c2s: delivered,
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 3, index: -1}},
		{name: "old 2535: s2c holes at hop1 and hop2 side by side",
			trial: hbTrial{hops: 3, lat: 27336 * time.Microsecond, skew: []time.Duration{0, -723 * ms, 579 * ms},
				holes: []hbHole{{1, 1, 2, 4}, {2, 1, 4, 5}},
				conns: []connSpec{{key: keyN(1), everyMs: 46, c2s: beats(7), s2c: same("ack", 7)}}},
			c2s: delivered,
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 3, index: -1}},
		{name: "new 759: s2c guessed at the hop between",
			trial: hbTrial{hops: 4, lat: 9520 * time.Microsecond, skew: []time.Duration{0, -132 * ms, 678 * ms, 0}, fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{2, 1, 3, 5}, {1, 1, 3, 4}},
				conns: []connSpec{{key: keyN(1), everyMs: 19, c2s: beats(6), s2c: same("ack", 6), dropC2S: map[int]int{4: 2}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 1, index: -1},
			s2c: dirWant{verdict: schema.Undecided, firstMiss: "hop0", missing: 1, index: -1, low: true,
				reason: "hole in hop2's capture (1 holes, 18 bytes: acked) and hop1's capture (1 holes, 9 bytes: acked)"}},
		{name: "new 1447: s2c holes at hop1 and hop2 each swallow a copy the other has",
			trial: hbTrial{hops: 3, lat: 37995 * time.Microsecond, skew: make([]time.Duration, 3), fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{1, 1, 6, 8}, {1, 1, 2, 3}, {2, 1, 8, 9}},
				conns: []connSpec{{key: keyN(1), everyMs: 161, c2s: beats(15), s2c: same("ack", 15)}}},
			c2s: delivered,
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 4, index: -1}},
		{name: "new 2171: s2c guessed at hop1 shifts hop0's pairs",
			trial: hbTrial{hops: 4, lat: 17370 * time.Microsecond, skew: []time.Duration{0, 81 * ms, 0, 0}, fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{0, 0, 12, 14}, {2, 1, 6, 8}, {1, 1, 6, 8}},
				conns: []connSpec{{key: keyN(1), everyMs: 68, c2s: beats(18), s2c: same("ack", 18), dropC2S: map[int]int{13: 1}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 1, index: -1},
			s2c: dirWant{verdict: schema.Undecided, firstMiss: "hop0", missing: 2, index: -1, low: true,
				reason: "hole in hop2's capture (1 holes, 18 bytes: acked) and hop1's capture (1 holes, 18 bytes: acked)"}},
		{name: "new 23: s2c copy placed by offsets is no change",
			trial: hbTrial{hops: 2, lat: 29484 * time.Microsecond, skew: []time.Duration{0, 645 * ms}, fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{1, 1, 5, 6}, {0, 1, 6, 7}},
				conns: []connSpec{{key: keyN(1), everyMs: 40, c2s: beats(17, 0, 4, 5, 7, 10, 13), s2c: same("ack", 17), dropC2S: map[int]int{10: 1, 15: 1}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 2, index: -1},
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 2, index: -1}},
		{name: "new 116: c2s holes at hop0 and hop1, closed right after the last message",
			trial: hbTrial{hops: 2, lat: 30115 * time.Microsecond, skew: make([]time.Duration, 2), fin: true, finAfter: ms,
				holes: []hbHole{{1, 0, 7, 8}, {0, 0, 8, 10}},
				conns: []connSpec{{key: keyN(1), everyMs: 6, c2s: beats(26), s2c: same("ack", 26)},
					{key: keyN(2), startMs: 7, everyMs: 140, c2s: beats(26, 2, 4, 11, 14, 15, 19, 20, 21, 24), s2c: same("ack", 26),
						dropC2S: map[int]int{16: 1, 22: 1}}}},
			c2s: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 3, index: -1, reason: "10-byte TCP gap (stream bytes 70 to 80, reason acked)"},
			s2c: delivered},
		{name: "new 4969: c2s holes at hop0 and hop1 side by side swallow copies of other sizes",
			trial: hbTrial{hops: 3, lat: 29035 * time.Microsecond, skew: make([]time.Duration, 3), fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{1, 0, 20, 22}, {0, 0, 18, 20}},
				conns: []connSpec{{key: keyN(1), everyMs: 151, c2s: beats(32, 0, 3, 10, 13, 15, 16, 20, 21, 25), s2c: same("ack", 32),
					dropS2C: map[int]int{19: 1, 22: 2}}}},
			c2s: dirWant{verdict: schema.CaptureGap, firstMiss: "hop0", missing: 4, index: -1},
			// Times place the s2c copies: #19 never reached hop1 (in order: both on the last
			// copies, "never left hop2", a hop that lost nothing).
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 2, index: -1, reason: "#19 never reached hop1; #21 never reached hop0"}},
		{name: "new 4500: c2s copies the holes swallowed are no change",
			trial: hbTrial{hops: 2, lat: 4257 * time.Microsecond, skew: []time.Duration{0, 455 * ms},
				holes: []hbHole{{0, 0, 3, 4}, {1, 0, 4, 6}},
				conns: []connSpec{{key: keyN(1), everyMs: 157, c2s: beats(13, 5, 7, 8, 12), s2c: same("ack", 13), dropS2C: map[int]int{7: 1}}}},
			c2s: dirWant{verdict: schema.CaptureGap, firstMiss: "hop0", missing: 3, index: -1},
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop0", missing: 1, index: -1}},
		{name: "new 25 (conn 3): a unique message is no extra because a heartbeat is nearer",
			trial: hbTrial{hops: 2, lat: 7144 * time.Microsecond, skew: make([]time.Duration, 2), fin: true, finAfter: 5 * time.Second,
				conns: []connSpec{{key: keyN(1), everyMs: 155, c2s: beats(24, 0, 1, 5, 6, 12, 14, 15, 18, 21), s2c: same("ack", 24),
					dropC2S: map[int]int{9: 1, 11: 1}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 2, index: -1},
			s2c: delivered},
		{name: "new 14935: c2s a hole room for 1 of 2 missing heartbeats",
			trial: hbTrial{hops: 2, lat: 3222 * time.Microsecond, skew: make([]time.Duration, 2), fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{1, 0, 6, 7}, {1, 1, 3, 5}},
				conns: []connSpec{{key: keyN(1), everyMs: 168, c2s: beats(11, 8, 10), s2c: same("ack", 11), dropC2S: map[int]int{2: 1}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 1, index: -1, reason: "room for 1 of the 2 identical 10-byte messages missing there"},
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop1", missing: 2, index: -1}},
		{name: "new 1082: c2s a hole too small for 3 missing messages of other payloads",
			trial: hbTrial{hops: 2, lat: 22972 * time.Microsecond, skew: make([]time.Duration, 2), fin: true, finAfter: ms,
				holes: []hbHole{{1, 0, 5, 7}},
				conns: []connSpec{{key: keyN(1), everyMs: 5, c2s: beats(9, 2, 5, 6, 7), s2c: same("ack", 9),
					dropC2S: map[int]int{7: 1}, dropS2C: map[int]int{6: 1, 8: 1}}}},
			c2s: dirWant{verdict: schema.Undecided, firstMiss: "hop1", missing: 3, index: -1, low: true,
				reason: "holes of its own making there (16 bytes) but too small for the 3 messages missing at hop1"},
			// Times place the s2c copies: #6 was due at hop0 before its FIN and is lost, #8
			// was not (in order: both on the last copies, closed).
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop0", missing: 1, index: -1, reason: "message 6 "}},
		{name: "new 8581: c2s a message beside a hole upstream is no evidence of a change",
			trial: hbTrial{hops: 2, lat: 3256 * time.Microsecond, skew: []time.Duration{0, 438 * ms}, fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{0, 0, 3, 4}},
				conns: []connSpec{{key: keyN(1), everyMs: 52, c2s: beats(6, 0, 4), s2c: same("ack", 6), dropC2S: map[int]int{4: 1}, dropS2C: map[int]int{2: 1}}}},
			c2s: dirWant{verdict: schema.Undecided, firstMiss: "hop1", missing: 1, index: -1, low: true,
				reason: "hop0's capture has a hole of its own making there that may have held that one: whether the message was changed or lost is not known"},
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop0", missing: 1, index: -1}},
		{name: "new 652: c2s a hole taken by a message a later hop has leaves no room for the one dropped beside it",
			trial: hbTrial{hops: 3, lat: 5744 * time.Microsecond, skew: []time.Duration{0, 528 * ms, 0}, fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{1, 0, 1, 2}},
				conns: []connSpec{{key: keyN(1), everyMs: 166, c2s: beats(9, 1, 2, 3, 4), s2c: same("ack", 9),
					dropC2S: map[int]int{2: 1, 5: 1}, dropS2C: map[int]int{4: 1}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 2, index: 2, reason: "8 bytes, 8 of them held by messages a hop further along has"},
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 1, index: -1}},
		{name: "new 618: c2s a loss placed past a hop whose capture was dropping packets then is low confidence",
			trial: hbTrial{hops: 3, lat: 17232 * time.Microsecond, skew: make([]time.Duration, 3),
				holes: []hbHole{{1, 1, 3, 4}},
				conns: []connSpec{{key: keyN(1), everyMs: 11, c2s: beats(6), s2c: same("ack", 6), dropC2S: map[int]int{1: 1, 5: 1}, dropS2C: map[int]int{5: 2}}}},
			// Placed by time, the first copy lost is #1, before hop1's capture dropped anything:
			// lost at hop1 for sure, as the truth says (in order, #4 and #5 were placed at
			// hop2, low confidence, within hop1's dropping time); #5 still is.
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 2, index: -1,
				reason: "#1 never reached hop1; #5 never reached hop2"},
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop0", missing: 1, index: -1}},
		{name: "new 46142: c2s a hole larger than the messages missing beside it leaves the dropping hop blind",
			trial: hbTrial{hops: 3, lat: 19491 * time.Microsecond, skew: []time.Duration{0, 0, -448 * ms}, fin: true, finAfter: ms,
				holes: []hbHole{{1, 0, 1, 3}},
				conns: []connSpec{{key: keyN(1), everyMs: 14, c2s: beats(9, 2, 8), s2c: same("ack", 9), dropC2S: map[int]int{2: 1}, dropS2C: map[int]int{4: 2, 6: 1}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop2", missing: 1, index: 2, low: true,
				reason: "whether it reached hop1 before is not known: hop1's capture has holes of its own making there (20 bytes) larger than the 18 bytes of messages missing at hop1"},
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop0", missing: 2, index: 4}},
		{name: "new 16072: c2s a hole beside a copy of the missing heartbeat leaves the dropping hop blind",
			trial: hbTrial{hops: 4, lat: 37121 * time.Microsecond, skew: []time.Duration{0, 0, 497 * ms, 0}, fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{2, 0, 2, 4}, {2, 1, 2, 4}, {1, 1, 4, 6}},
				conns: []connSpec{{key: keyN(1), everyMs: 69, c2s: beats(8, 0, 3, 6), s2c: same("ack", 8), dropC2S: map[int]int{2: 2}, dropS2C: map[int]int{1: 3}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop3", missing: 1, index: 2, low: true,
				reason: "whether it reached hop2 before is not known: hop2's capture has a hole of its own making beside a copy of the message"},
			s2c: dirWant{verdict: schema.Undecided, firstMiss: "hop0", missing: 3, index: -1, low: true}},
		{name: "new 9139: c2s a copy that never passed a whole capture is not paired further along past a holed one",
			trial: hbTrial{hops: 4, lat: 1356 * time.Microsecond, skew: []time.Duration{0, 0, 445 * ms, 171 * ms}, fin: true, finAfter: 5 * time.Second,
				holes: []hbHole{{3, 0, 6, 7}, {2, 0, 11, 13}, {0, 1, 5, 6}},
				conns: []connSpec{{key: keyN(1), everyMs: 144, c2s: beats(15), s2c: same("ack", 15), dropC2S: map[int]int{0: 1}}}},
			c2s: dirWant{verdict: schema.Lost, firstMiss: "hop1", missing: 1, index: 0},
			s2c: dirWant{verdict: schema.CaptureGap, firstMiss: "hop0", missing: 1, index: -1}},
		{name: "new 40020: c2s a unique message at both hops is not stepped past for a heartbeat dropped before it",
			trial: hbTrial{hops: 2, lat: 21541 * time.Microsecond, skew: make([]time.Duration, 2),
				holes: []hbHole{{1, 1, 3, 4}, {0, 0, 1, 2}},
				conns: []connSpec{{key: keyN(1), everyMs: 114, c2s: beats(6, 1, 3), s2c: same("ack", 6), dropC2S: map[int]int{0: 1}, dropS2C: map[int]int{5: 1}}}},
			c2s: dirWant{verdict: schema.Undecided, firstMiss: "hop1", missing: 1, index: -1, low: true,
				reason: "one of several identical messages around a hole in hop0's capture"},
			s2c: dirWant{verdict: schema.Lost, firstMiss: "hop0", missing: 1, index: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(hopsOf(tt.trial.captures()), Options{})
			if len(r.Refused) > 0 || len(r.Connections) != len(tt.trial.conns) || r.Connections[0].Key == nil || *r.Connections[0].Key != keyN(1) {
				t.Fatalf("refused %q, %d connections, the first not %s", r.Refused, len(r.Connections), keyN(1))
			}
			d := r.Connections[0].Directions
			checkDir(t, "client_to_server", d.ClientToServer, tt.c2s)
			checkDir(t, "server_to_client", d.ServerToClient, tt.s2c)
		})
	}
}
