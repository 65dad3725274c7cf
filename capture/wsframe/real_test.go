package wsframe

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture/handshake"
	"github.com/wspath/wspath/capture/packet"
)

// segment is one TCP segment's payload from a testdata/*.segments.gz file (made with tshark, see
// testdata/README.md).
type segment struct {
	off  uint64 // stream offset in its direction
	meta packet.Meta
	data []byte
}

// loadSegments returns the segments per direction: [0] from the client (the side that sent the
// first payload), [1] from the server.
func loadSegments(t testing.TB, name string) [2][]segment {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [2][]segment
	client := ""
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 6 {
			t.Fatalf("bad line %q", sc.Text())
		}
		num, _ := strconv.Atoi(fs[0])
		sec, _ := strconv.ParseFloat(fs[1], 64)
		seq, _ := strconv.ParseUint(fs[4], 10, 64)
		data, err := hex.DecodeString(fs[5])
		if err != nil {
			t.Fatal(err)
		}
		if client == "" {
			client = fs[2]
		}
		d := 0
		if fs[2] != client {
			d = 1
		}
		m := packet.Meta{Time: time.Unix(0, int64(sec*1e9)), File: name, Number: num}
		out[d] = append(out[d], segment{off: seq - 1, meta: m, data: data})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tsharkFrame is one frame as tshark's websocket dissector reports it.
type tsharkFrame struct{ op, fin, length int }

// loadTshark returns tshark's frames per direction (client first).
func loadTshark(t testing.TB, name string) [2][]tsharkFrame {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out [2][]tsharkFrame
	client := ""
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fs := strings.Fields(line)
		if client == "" {
			client = fs[0]
		}
		d := 0
		if fs[0] != client {
			d = 1
		}
		ops, fins, lens := strings.Split(fs[1], ","), strings.Split(fs[2], ","), strings.Split(fs[3], ",")
		for i := range ops {
			op, _ := strconv.Atoi(ops[i])
			fin, _ := strconv.Atoi(fins[i])
			n, _ := strconv.Atoi(lens[i])
			out[d] = append(out[d], tsharkFrame{op, fin, n})
		}
	}
	return out
}

// message is a message assembled by msgBuilder.
type message struct {
	op      uint8
	frames  int
	wire    int
	payload []byte
	rsv1    bool
	err     error
	offset  uint64
}

// msgBuilder is a Handler that assembles messages and inflates compressed ones, as capture's
// session builder does.
type msgBuilder struct {
	infl   *Inflater
	msgs   []message
	frames []Frame
	errs   []*FrameError
	cur    *message // open data message
	ctl    *message // current control frame
	gaps   uint64
}

func (b *msgBuilder) FrameStart(f Frame) {
	b.frames = append(b.frames, f)
	if f.IsControl() {
		b.ctl = &message{op: f.Opcode, frames: 1, offset: f.Offset}
		return
	}
	if f.Opcode != OpContinuation || b.cur == nil {
		b.cur = &message{op: f.Opcode, rsv1: f.RSV1, offset: f.Offset}
	}
	b.cur.frames++
}

func (b *msgBuilder) Payload(p []byte) {
	if b.ctl != nil {
		b.ctl.payload = append(b.ctl.payload, p...)
		return
	}
	b.cur.wire += len(p)
	if b.cur.rsv1 && b.infl != nil {
		b.infl.Write(p)
		return
	}
	b.cur.payload = append(b.cur.payload, p...)
}

func (b *msgBuilder) PayloadGap(n uint64) {
	b.gaps += n
	if b.ctl == nil && b.cur.rsv1 && b.infl != nil {
		b.infl.Gap(n)
	}
}

func (b *msgBuilder) FrameEnd(m packet.Meta) {
	if b.ctl != nil {
		b.msgs = append(b.msgs, *b.ctl)
		b.ctl = nil
		return
	}
	last := b.frames[len(b.frames)-1]
	if !last.Fin {
		return
	}
	if b.cur.rsv1 && b.infl != nil {
		var out bytes.Buffer
		_, b.cur.err = b.infl.Finish(&out)
		b.cur.payload = out.Bytes()
	}
	b.msgs = append(b.msgs, *b.cur)
	b.cur = nil
}

func (b *msgBuilder) Error(err *FrameError) { b.errs = append(b.errs, err) }

// parseReal runs one direction of a real capture through handshake and frame parsing.
func parseReal(t *testing.T, segs []segment, client bool, deflate *handshake.Deflate) (*msgBuilder, *handshake.Head) {
	t.Helper()
	var head []byte
	var h *handshake.Head
	var err error
	b := &msgBuilder{}
	if deflate != nil {
		opts := InflateOptions{NoContextTakeover: deflate.ServerNoContextTakeover, WindowBits: deflate.ServerMaxWindowBits}
		if client {
			opts = InflateOptions{NoContextTakeover: deflate.ClientNoContextTakeover, WindowBits: deflate.ClientMaxWindowBits}
		}
		b.infl = NewInflater(opts)
	}
	rule := MaskForbidden
	if client {
		rule = MaskRequired
	}
	p := NewParser(b, Options{Mask: rule})
	for _, s := range segs {
		if h == nil {
			head = append(head, s.data...)
			if client {
				h, err = handshake.ParseRequest(head)
			} else {
				h, err = handshake.ParseResponse(head)
			}
			if err != nil {
				continue
			}
			if rest := head[h.Length:]; len(rest) > 0 {
				p.Feed(rest, uint64(h.Length), s.meta)
			}
			continue
		}
		p.Feed(s.data, s.off, s.meta)
	}
	p.End(packet.Meta{})
	if h == nil {
		t.Fatalf("no handshake head: %v", err)
	}
	return b, h
}

func TestParser_RealCaptures(t *testing.T) {
	for _, mode := range []string{"deflate", "plain"} {
		t.Run(mode, func(t *testing.T) {
			segs := loadSegments(t, "testdata/ws-"+mode+".segments.gz")
			want := loadTshark(t, "testdata/ws-"+mode+".tshark")
			// The server's response tells the deflate parameters.
			_, resp := parseReal(t, segs[1], false, nil)
			d, ok := handshake.NegotiatedDeflate(resp.Get("Sec-WebSocket-Extensions"))
			if ok != (mode == "deflate") {
				t.Fatalf("deflate negotiated = %v", ok)
			}
			var got [2]*msgBuilder
			var req *handshake.Head
			got[0], req = parseReal(t, segs[0], true, d)
			got[1], resp = parseReal(t, segs[1], false, d)
			if resp.Status != 101 || resp.Get("Sec-WebSocket-Accept") != handshake.AcceptKey(req.Get("Sec-WebSocket-Key")) {
				t.Fatalf("handshake: status %d accept mismatch", resp.Status)
			}
			// The request's Cookie, as tshark reads it: a credential the reports never print.
			if got := req.Get("Cookie"); got != "session=secret" {
				t.Errorf("Cookie = %q, want session=secret", got)
			}
			for dir := 0; dir < 2; dir++ {
				b := got[dir]
				if len(b.errs) != 0 || b.gaps != 0 {
					t.Fatalf("dir %d: errors %v gaps %d", dir, b.errs, b.gaps)
				}
				// Frame by frame, as tshark's websocket dissector saw them.
				if len(b.frames) != len(want[dir]) {
					t.Fatalf("dir %d: %d frames, tshark %d", dir, len(b.frames), len(want[dir]))
				}
				for i, f := range b.frames {
					w := want[dir][i]
					fin := 0
					if f.Fin {
						fin = 1
					}
					// tshark's websocket.payload_length is the 7-bit field: 126 and 127 announce
					// the 16- and 64-bit forms.
					code := int(f.Length)
					switch {
					case f.Length > 0xffff:
						code = 127
					case f.Length >= 126:
						code = 126
					}
					if int(f.Opcode) != w.op || fin != w.fin || code != w.length {
						t.Fatalf("dir %d frame %d: op %d fin %d len %d, tshark %+v", dir, i, f.Opcode, fin, f.Length, w)
					}
				}
			}
			// Messages: the echo server returns what it got, so each data message's payload is
			// the same in both directions after unmasking and inflating, whatever the framing.
			var data [2][]message
			for dir := 0; dir < 2; dir++ {
				for _, m := range got[dir].msgs {
					if m.err != nil {
						t.Fatalf("dir %d message at %d: %v", dir, m.offset, m.err)
					}
					if m.op == OpText || m.op == OpBinary {
						data[dir] = append(data[dir], m)
					}
				}
			}
			if len(data[0]) != 25 || len(data[1]) != 25 {
				t.Fatalf("data messages %d/%d, want 25", len(data[0]), len(data[1]))
			}
			for i := range data[0] {
				if !bytes.Equal(data[0][i].payload, data[1][i].payload) {
					t.Fatalf("message %d differs: %.40q vs %.40q", i, data[0][i].payload, data[1][i].payload)
				}
			}
			if want := fmt.Sprintf(`{"seq":3,"type":"tick","body":"%s"}`, strings.Repeat("abc", 21)); string(data[0][3].payload) != want {
				t.Errorf("message 3 = %q", data[0][3].payload)
			}
			if string(data[0][21].payload) != "part-one part-two part-three" || data[0][21].frames != 4 {
				t.Errorf("fragmented message = %q in %d frames", data[0][21].payload, data[0][21].frames)
			}
			last := got[0].msgs[len(got[0].msgs)-1]
			code, reason, err := ParseClose(last.payload)
			if last.op != OpClose || code != 1000 || reason != "done here" || err != nil {
				t.Errorf("close: op %d code %d reason %q err %v", last.op, code, reason, err)
			}
		})
	}
}

// TestParser_RealMidStream starts the server direction of the real captures at every segment
// after the handshake: every frame found must be a real frame (same offset as in the full parse),
// and every real frame from there on must be found.
func TestParser_RealMidStream(t *testing.T) {
	for _, mode := range []string{"deflate", "plain"} {
		segs := loadSegments(t, "testdata/ws-"+mode+".segments.gz")
		for dir := 0; dir < 2; dir++ {
			full, _ := parseReal(t, segs[dir], dir == 0, nil)
			real := map[uint64]bool{}
			for _, f := range full.frames {
				real[f.Offset] = true
			}
			for k := 1; k < len(segs[dir]); k++ {
				b := &msgBuilder{}
				p := NewParser(b, Options{MidStream: true})
				for _, s := range segs[dir][k:] {
					p.Feed(s.data, s.off, s.meta)
				}
				p.End(packet.Meta{})
				for _, f := range b.frames {
					if !real[f.Offset] {
						t.Fatalf("%s dir %d from segment %d: false frame at %d", mode, dir, k, f.Offset)
					}
				}
				// Every frame that starts at or after that segment is found; a lone last frame is
				// not enough to lock on to and may go unreported.
				var rest []uint64
				for _, f := range full.frames {
					if f.Offset >= segs[dir][k].off {
						rest = append(rest, f.Offset)
					}
				}
				if len(rest) == 1 && len(b.frames) == 0 {
					continue
				}
				if len(b.frames) != len(rest) {
					t.Errorf("%s dir %d from segment %d: %d frames found, want all %d from there", mode, dir, k, len(b.frames), len(rest))
					continue
				}
				for i, f := range b.frames {
					if f.Offset != rest[i] {
						t.Errorf("%s dir %d from segment %d: frame %d at %d, want %d", mode, dir, k, i, f.Offset, rest[i])
					}
				}
			}
		}
	}
}
