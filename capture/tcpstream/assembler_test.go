package tcpstream

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture/packet"
)

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:80")
	t0  = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// recorder logs every call as a line of text, for comparing with the expected event sequence.
type recorder struct {
	log   *[]string
	stats *[][2]Stats
}

func (r *recorder) Data(d Dir, b []byte, off uint64, m packet.Meta) {
	*r.log = append(*r.log, fmt.Sprintf("D%d @%d %s", d, off, b))
}
func (r *recorder) Gap(d Dir, off, n uint64, why GapReason, m packet.Meta) {
	*r.log = append(*r.log, fmt.Sprintf("G%d @%d+%d %s #%d", d, off, n, why, m.Number))
}
func (r *recorder) Fin(d Dir, m packet.Meta)   { *r.log = append(*r.log, fmt.Sprintf("F%d", d)) }
func (r *recorder) Reset(d Dir, m packet.Meta) { *r.log = append(*r.log, fmt.Sprintf("R%d", d)) }
func (r *recorder) Close(st [2]Stats) {
	*r.log = append(*r.log, "C")
	*r.stats = append(*r.stats, st)
}

// step is one crafted segment: from 0 is the client, 1 the server.
type step struct {
	from  int
	flags Flags
	seq   uint32
	ack   uint32
	data  string
	wire  int // PayloadLength when above len(data)
	ms    int // capture time after t0, milliseconds
	zwin  bool
	other bool // use a second client port (another connection)
}

type harness struct {
	a     *Assembler
	log   []string
	stats [][2]Stats
	n     int
}

func newHarness(cfg Config) *harness {
	h := &harness{}
	h.a = NewAssembler(cfg, func(ci ConnInfo) Stream {
		syn := "nosyn"
		if ci.SYN {
			syn = "syn"
		}
		h.log = append(h.log, fmt.Sprintf("open %s->%s %s #%d", ci.A, ci.B, syn, ci.Start.Number))
		return &recorder{log: &h.log, stats: &h.stats}
	})
	return h
}

func (h *harness) run(steps []step) {
	for _, s := range steps {
		c := cli
		if s.other {
			c = netip.AddrPortFrom(cli.Addr(), cli.Port()+1)
		}
		seg := Segment{Src: c, Dst: srv, Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: 1000,
			WindowScale: -1, Payload: []byte(s.data), PayloadLength: max(s.wire, len(s.data))}
		if s.from == 1 {
			seg.Src, seg.Dst = srv, c
		}
		if s.zwin {
			seg.Window = 0
		}
		h.n++
		h.a.Add(&seg, packet.Meta{Time: t0.Add(time.Duration(s.ms) * time.Millisecond), File: "t.pcap", Number: h.n})
	}
}

// handshake returns SYN, SYN-ACK, ACK with client ISN 99 and server ISN 499: data starts at 100 and 500.
func handshake() []step {
	return []step{
		{from: 0, flags: SYN, seq: 99},
		{from: 1, flags: SYN | ACK, seq: 499, ack: 100},
		{from: 0, flags: ACK, seq: 100, ack: 500},
	}
}

func TestAssembler_Sequences(t *testing.T) {
	open := "open 10.0.0.1:40000->10.0.0.2:80 syn #1"
	tests := []struct {
		name  string
		cfg   Config
		steps []step
		want  []string
		check func(t *testing.T, st [][2]Stats)
	}{
		{
			name: "InOrder",
			steps: append(handshake(),
				step{from: 0, flags: ACK | PSH, seq: 100, ack: 500, data: "hello"},
				step{from: 1, flags: ACK | PSH, seq: 500, ack: 105, data: "world!"},
				step{from: 0, flags: ACK | FIN, seq: 105, ack: 506},
				step{from: 1, flags: ACK | FIN, seq: 506, ack: 106},
				step{from: 0, flags: ACK, seq: 106, ack: 507}, // final ACK: ignored, no new connection
			),
			want: []string{open, "D0 @0 hello", "D1 @0 world!", "F0", "F1", "C"},
			check: func(t *testing.T, st [][2]Stats) {
				s := st[0]
				if s[0].Packets != 4 || s[1].Packets != 3 || s[0].Bytes != 5 || s[1].Bytes != 6 {
					t.Errorf("packets/bytes: %+v", s)
				}
				if s[0].HighestAck != 6 || s[1].HighestAck != 5 {
					t.Errorf("acks: %d %d", s[0].HighestAck, s[1].HighestAck)
				}
				if s[0].FIN == nil || s[0].FIN.Number != 6 || s[1].FIN == nil || s[0].RST != nil {
					t.Errorf("fin/rst: %+v", s)
				}
			},
		},
		{
			name: "WrapAround",
			steps: []step{
				{from: 0, flags: SYN, seq: 0xFFFFFFF9},
				{from: 0, flags: ACK, seq: 0xFFFFFFFA, data: "abcdefghij"},
				{from: 0, flags: ACK, seq: 7, data: "nop"}, // out of order across the wrap
				{from: 0, flags: ACK, seq: 4, data: "klm"},
			},
			want: []string{open, "D0 @0 abcdefghij", "D0 @10 klm", "D0 @13 nop"},
		},
		{
			name: "OutOfOrder",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 106, data: "ghi"},
				step{from: 0, flags: ACK, seq: 103, data: "def"},
			),
			want: []string{open, "D0 @0 abc", "D0 @3 def", "D0 @6 ghi"},
		},
		{
			name: "OverlapFirstCopyWins",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 106, data: "ghi"},
				step{from: 0, flags: ACK, seq: 106, data: "XYZjk"},   // only jk is new
				step{from: 0, flags: ACK, seq: 101, data: "QQdefQQ"}, // bc and gh already seen
			),
			want: []string{open, "D0 @0 abc", "D0 @3 def", "D0 @6 ghi", "D0 @9 jk"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][0].Duplicate != 7 || st[0][0].Retransmissions != 0 {
					t.Errorf("dup %d retrans %d", st[0][0].Duplicate, st[0][0].Retransmissions)
				}
			},
		},
		{
			name: "Retransmission",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abcdef"},
				step{from: 0, flags: ACK, seq: 100, data: "abcdef", ms: 300}, // full, after an RTO
				step{from: 0, flags: ACK, seq: 103, data: "defghi", ms: 300}, // partial
				step{from: 0, flags: ACK, seq: 108, data: "Z", ms: 300},      // keep-alive style: one old byte
			),
			want: []string{open, "D0 @0 abcdef", "D0 @6 ghi"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][0].Retransmissions != 2 || st[0][0].Duplicate != 10 {
					t.Errorf("retrans %d dup %d", st[0][0].Retransmissions, st[0][0].Duplicate)
				}
			},
		},
		{
			// tcpdump -i any on a router: every segment twice, microseconds apart.
			name: "CaptureCopy",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 103, data: "def", ms: 1},
				step{from: 0, flags: ACK, seq: 103, data: "def", ms: 1},
			),
			want: []string{open, "D0 @0 abc", "D0 @3 def"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][0].CaptureCopies != 2 || st[0][0].Retransmissions != 0 {
					t.Errorf("copies %d retrans %d", st[0][0].CaptureCopies, st[0][0].Retransmissions)
				}
			},
		},
		{
			name: "MissingSYN",
			steps: []step{
				{from: 0, flags: ACK, seq: 7000, ack: 3000}, // pure ACK of an unknown connection: ignored
				{from: 1, flags: ACK | PSH, seq: 3000, ack: 7000, data: "xyz"},
				{from: 0, flags: ACK | PSH, seq: 7000, ack: 3003, data: "hi"},
				{from: 1, flags: ACK, seq: 2990, ack: 7002, data: "0123456789xyzuv"}, // 10 bytes before the start
			},
			want: []string{"open 10.0.0.2:80->10.0.0.1:40000 nosyn #2", "D0 @0 xyz", "D1 @0 hi", "D0 @3 uv"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][0].BeforeStart != 10 || st[0][0].Duplicate != 3 || st[0][1].HighestAck != 3 {
					t.Errorf("stats %+v", st[0])
				}
			},
		},
		{
			name: "SYNACKFirst",
			steps: []step{
				{from: 1, flags: SYN | ACK, seq: 499, ack: 100},
				{from: 0, flags: ACK, seq: 100, ack: 500, data: "up"},
			},
			want: []string{"open 10.0.0.1:40000->10.0.0.2:80 syn #1", "D0 @0 up"},
		},
		{
			name: "SYNWithData",
			steps: []step{
				{from: 0, flags: SYN, seq: 99, data: "early"},
				{from: 1, flags: SYN | ACK, seq: 499, ack: 105},
				{from: 0, flags: ACK, seq: 105, ack: 500, data: "late"},
			},
			want: []string{open, "D0 @0 early", "D0 @5 late"},
		},
		{
			name: "GapAcked",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 106, data: "ghi"},
				step{from: 1, flags: ACK, seq: 500, ack: 109},
			),
			want: []string{open, "D0 @0 abc", "G0 @3+3 acked #5", "D0 @6 ghi"},
		},
		{
			name: "GapPartlyAcked",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 106, data: "ghi"},
				step{from: 1, flags: ACK, seq: 500, ack: 105},
			),
			want: []string{open, "D0 @0 abc", "G0 @3+2 acked #5", "G0 @5+1 lost #5", "D0 @6 ghi"},
		},
		{
			name: "GapLostAtFlush",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 106, data: "ghi"},
			),
			want: []string{open, "D0 @0 abc", "G0 @3+3 lost #5", "D0 @6 ghi"},
		},
		{
			name: "TailAckedNeverSeen",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 1, flags: ACK, seq: 500, ack: 110},
			),
			want: []string{open, "D0 @0 abc", "G0 @3+7 acked #5"},
		},
		{
			name: "HoleTimeout",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc", ms: 10},
				step{from: 0, flags: ACK, seq: 106, data: "ghi", ms: 20},
				step{from: 1, flags: ACK, seq: 500, data: "x", ms: 3000},
				step{from: 1, flags: ACK, seq: 501, data: "y", ms: 5019},
				step{from: 1, flags: ACK, seq: 502, data: "z", ms: 5020},   // 5s after the hole: given up first
				step{from: 0, flags: ACK, seq: 103, data: "def", ms: 6000}, // too late: dropped
			),
			want: []string{open, "D0 @0 abc", "D1 @0 x", "D1 @1 y", "G0 @3+3 lost #5", "D0 @6 ghi", "D1 @2 z"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][0].Retransmissions != 1 || len(st[0][0].Gaps) != 1 || st[0][0].Gaps[0].Reason != GapLost {
					t.Errorf("stats %+v", st[0][0])
				}
			},
		},
		{
			name: "Snaplen",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc", wire: 10},
				step{from: 0, flags: ACK, seq: 100, data: "abcdefghij"},  // full copy later: not used
				step{from: 0, flags: ACK, seq: 120, data: "uv", wire: 5}, // out of order and cut
				step{from: 0, flags: ACK, seq: 110, data: "klmnopqrst"},
			),
			want: []string{open, "D0 @0 abc", "G0 @3+7 snaplen #4", "D0 @10 klmnopqrst", "D0 @20 uv", "G0 @22+3 snaplen #6"},
		},
		{
			name: "RST",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 106, data: "ghi"},
				step{from: 1, flags: RST | ACK, seq: 500, ack: 103},
				// After the reset, in flight: delivered, since a RST from a middlebox reaches
				// one side only and the capture may sit on the other.
				step{from: 0, flags: ACK, seq: 109, data: "late"},
			),
			want: []string{open, "D0 @0 abc", "R1", "G0 @3+3 lost #5", "D0 @6 ghi", "D0 @9 late", "C"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][1].RST == nil || st[0][1].RST.Number != 6 {
					t.Errorf("rst %+v", st[0][1].RST)
				}
			},
		},
		{
			name: "FINAfterHole",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK | FIN, seq: 106, data: "ghi"},
				step{from: 1, flags: ACK | FIN, seq: 500, ack: 110},
				step{from: 0, flags: ACK, seq: 103, data: "def"}, // fills the hole: FIN follows
			),
			want: []string{open, "D0 @0 abc", "F1", "D0 @3 def", "D0 @6 ghi", "F0", "C"},
		},
		{
			name: "FINLostDataAcked",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc", ms: 1},
				step{from: 0, flags: ACK | FIN, seq: 106, ms: 2}, // bytes 3..6 missing, no chunk buffered
				step{from: 1, flags: ACK, seq: 500, ack: 107, ms: 3},
				step{from: 1, flags: ACK, seq: 500, data: "x", ms: 6000},
			),
			want: []string{open, "D0 @0 abc", "G0 @3+3 acked #5", "F0", "D1 @0 x"},
		},
		{
			name: "PortReuseAfterClose",
			steps: append(handshake(),
				step{from: 0, flags: ACK | FIN, seq: 100, ack: 500},
				step{from: 1, flags: ACK | FIN, seq: 500, ack: 101},
				step{from: 0, flags: SYN, seq: 99}, // the old SYN again: ignored
				step{from: 0, flags: SYN, seq: 9999},
				step{from: 1, flags: SYN | ACK, seq: 7777, ack: 10000},
				step{from: 0, flags: ACK, seq: 10000, ack: 7778, data: "again"},
			),
			want: []string{open, "F0", "F1", "C", "open 10.0.0.1:40000->10.0.0.2:80 syn #7", "D0 @0 again"},
		},
		{
			name: "NewISNOnOpenConnection",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "old"},
				step{from: 0, flags: SYN, seq: 5000},
				step{from: 0, flags: ACK, seq: 5001, data: "new"},
			),
			want: []string{open, "D0 @0 old", "C", "open 10.0.0.1:40000->10.0.0.2:80 syn #5", "D0 @0 new"},
		},
		{
			name: "ConnBufferLimit",
			cfg:  Config{MaxConnBuffer: 2*chunkOverhead + 6},
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "a"},
				step{from: 0, flags: ACK, seq: 103, data: "def"},
				step{from: 0, flags: ACK, seq: 108, data: "ijk"},
				step{from: 0, flags: ACK, seq: 112, data: "m"}, // over the bound: oldest hole goes, the rest at Flush
			),
			want: []string{open, "D0 @0 a", "G0 @1+2 buffer_limit #5", "D0 @3 def", "G0 @6+2 lost #6", "D0 @8 ijk", "G0 @11+1 lost #7", "D0 @12 m"},
		},
		{
			name: "TotalBufferLimit",
			cfg:  Config{MaxTotalBuffer: 2*chunkOverhead + 4},
			steps: []step{
				{from: 0, flags: SYN, seq: 99},
				{from: 0, flags: SYN, seq: 99, other: true},
				{from: 0, flags: ACK, seq: 102, data: "cd"},
				{from: 0, flags: ACK, seq: 102, data: "CD", other: true},
				{from: 0, flags: ACK, seq: 105, data: "F", other: true}, // over: conn 1's hole is oldest
			},
			want: []string{open, "open 10.0.0.1:40001->10.0.0.2:80 syn #2", "G0 @0+2 buffer_limit #3", "D0 @2 cd",
				"C", "G0 @0+2 lost #4", "D0 @2 CD", "G0 @4+1 lost #5", "D0 @5 F"},
		},
		{
			name: "OutOfWindow",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, data: "abc"},
				step{from: 0, flags: ACK, seq: 100 + 3 + 1<<30 + 1, data: "far"}, // corrupt sequence number
				step{from: 1, flags: ACK, seq: 500, ack: 100 + 1<<31 - 10},       // and a corrupt ACK
			),
			want: []string{open, "D0 @0 abc"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][0].OutOfWindow != 1 || st[0][1].HighestAck != 3 {
					t.Errorf("stats %+v", st[0])
				}
			},
		},
		{
			name: "ZeroWindowAndKeepAlive",
			steps: append(handshake(),
				step{from: 0, flags: ACK, seq: 100, ack: 500, data: "abc"},
				step{from: 1, flags: ACK, seq: 500, ack: 103, zwin: true},
				step{from: 1, flags: ACK, seq: 500, ack: 103, zwin: true},
				step{from: 0, flags: ACK, seq: 102, ack: 500, data: "c"}, // window probe / keep-alive
				step{from: 0, flags: ACK, seq: 102, ack: 500},            // zero-length keep-alive
			),
			want: []string{open, "D0 @0 abc"},
			check: func(t *testing.T, st [][2]Stats) {
				if st[0][1].ZeroWindows != 2 || st[0][0].Retransmissions != 1 || st[0][1].HighestAck != 3 {
					t.Errorf("stats %+v", st[0])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(tt.cfg)
			h.run(tt.steps)
			h.a.Flush()
			got := h.log
			// every test ends with Close from Flush if not before; compare without trailing "C"s
			want := tt.want
			for len(got) > 0 && got[len(got)-1] == "C" && (len(want) == 0 || want[len(want)-1] != "C") {
				got = got[:len(got)-1]
			}
			if !slices.Equal(got, want) {
				t.Errorf("events:\n got %s\nwant %s", strings.Join(got, " | "), strings.Join(want, " | "))
			}
			if tt.check != nil {
				if len(h.stats) == 0 {
					t.Fatal("no stream reported its statistics: nothing to check")
				}
				tt.check(t, h.stats)
			}
		})
	}
}
