package wsframe

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
)

// deflateMessages compresses msgs as a permessage-deflate sender would: one compressor for the
// whole connection (takeover) or one per message, each message ending with a sync flush whose
// 00 00 ff ff tail is removed.
func deflateMessages(t testing.TB, msgs [][]byte, takeover bool) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		buf.Reset()
		w.Write(m)
		w.Flush()
		b := buf.Bytes()
		if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
			t.Fatalf("no sync flush tail: %x", b[max(0, len(b)-8):])
		}
		out = append(out, append([]byte(nil), b[:len(b)-4]...))
	}
	return out
}

func sampleMessages() [][]byte {
	var msgs [][]byte
	for i := 0; i < 30; i++ {
		msgs = append(msgs, fmt.Appendf(nil, `{"seq":%d,"type":"tick","payload":"%s"}`, i, bytes.Repeat([]byte("abcdefgh"), i*20)))
	}
	return msgs
}

func TestInflater_ContextTakeover(t *testing.T) {
	for _, takeover := range []bool{true, false} {
		t.Run(fmt.Sprintf("takeover=%v", takeover), func(t *testing.T) {
			msgs := sampleMessages()
			comp := deflateMessages(t, msgs, takeover)
			f := NewInflater(InflateOptions{NoContextTakeover: !takeover})
			for i, c := range comp {
				// Feed in two writes, as frames would arrive.
				f.Write(c[:len(c)/2])
				f.Write(c[len(c)/2:])
				var out bytes.Buffer
				n, err := f.Finish(&out)
				if err != nil || n != int64(len(msgs[i])) || !bytes.Equal(out.Bytes(), msgs[i]) {
					t.Fatalf("message %d: n=%d err=%v got %.40q", i, n, err, out.Bytes())
				}
			}
		})
	}
}

func TestInflater_TakeoverDataNeedsContext(t *testing.T) {
	msgs := [][]byte{bytes.Repeat([]byte("same text "), 50), bytes.Repeat([]byte("same text "), 50)}
	comp := deflateMessages(t, msgs, true)
	// Without the first message's window the second refers to unknown history.
	f := NewInflater(InflateOptions{NoContextTakeover: true})
	f.Write(comp[1])
	if _, err := f.Finish(io.Discard); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestInflater_GapLosesContext(t *testing.T) {
	var msgs [][]byte
	for i := 0; i < 12; i++ {
		msgs = append(msgs, bytes.Repeat(fmt.Appendf(nil, "message number %d with shared words ", i%3), 200))
	}
	comp := deflateMessages(t, msgs, true)
	f := NewInflater(InflateOptions{WindowBits: 15})
	var results []string
	for i, c := range comp {
		if i == 2 {
			f.Write(c[:3])
			f.Gap(uint64(len(c) - 3))
		} else {
			f.Write(c)
		}
		var out bytes.Buffer
		_, err := f.Finish(&out)
		switch {
		case err == nil && !bytes.Equal(out.Bytes(), msgs[i]):
			t.Fatalf("message %d: wrong bytes without error", i)
		case err == nil:
			results = append(results, "ok")
		case errors.Is(err, ErrIncompleteMessage):
			results = append(results, "gap")
		case errors.Is(err, ErrContextLost):
			results = append(results, "lost")
		default:
			t.Fatalf("message %d: %v", i, err)
		}
	}
	// Every later message refers back to text lost with message 2: none may decode (and none
	// may decode to wrong bytes, checked above).
	if results[0] != "ok" || results[1] != "ok" || results[2] != "gap" || results[3] != "lost" || results[11] != "lost" {
		t.Errorf("results %v", results)
	}
}

// TestInflater_LostMessagesLoseContext: whole messages skipped by a hole between frames (the
// parser lost sync, a capture dropped their packets) leave the window unknown, as a gap inside a
// message does: the messages after them that refer back fail with ErrContextLost, and none
// inflates to wrong bytes.
func TestInflater_LostMessagesLoseContext(t *testing.T) {
	var msgs [][]byte
	for i := 0; i < 12; i++ {
		msgs = append(msgs, bytes.Repeat(fmt.Appendf(nil, "message number %d with shared words ", i%3), 200))
	}
	comp := deflateMessages(t, msgs, true)
	f := NewInflater(InflateOptions{WindowBits: 15})
	lost := 0
	for i, c := range comp {
		if i == 2 || i == 3 {
			continue // never captured
		}
		if i == 4 {
			f.Lost()
		}
		f.Write(c)
		var out bytes.Buffer
		_, err := f.Finish(&out)
		switch {
		case err == nil && !bytes.Equal(out.Bytes(), msgs[i]):
			t.Fatalf("message %d: wrong bytes without error", i)
		case errors.Is(err, ErrContextLost) && i >= 4:
			lost++
		case err != nil:
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if lost == 0 {
		t.Error("no message after the skipped ones failed for lack of context")
	}
}

func TestInflater_RecoversAfterFullWindow(t *testing.T) {
	// After a loss, a message that does not refer back decodes, and once a full window of output
	// is known the context is whole again.
	f := NewInflater(InflateOptions{WindowBits: 9}) // 512-byte window
	f.Write([]byte{0x01})
	f.Gap(5)
	if _, err := f.Finish(io.Discard); !errors.Is(err, ErrIncompleteMessage) || !f.ContextLost() {
		t.Fatalf("err = %v, lost = %v", err, f.ContextLost())
	}
	big := make([]byte, 600)
	for i := range big {
		big[i] = byte(i*131 + i>>3)
	}
	comp := deflateMessages(t, [][]byte{big}, false) // no back references before the message
	f.Write(comp[0])
	var out bytes.Buffer
	if _, err := f.Finish(&out); err != nil || !bytes.Equal(out.Bytes(), big) {
		t.Fatalf("err = %v", err)
	}
	if f.ContextLost() {
		t.Error("context still lost after a full window of output")
	}
}

func TestInflater_Bomb(t *testing.T) {
	zeros := make([]byte, 8<<20)
	comp := deflateMessages(t, [][]byte{zeros}, false)
	f := NewInflater(InflateOptions{MaxSize: 1 << 20})
	f.Write(comp[0])
	h := sha256.New()
	n, err := f.Finish(h)
	if !errors.Is(err, ErrInflateTooLarge) || n != 1<<20 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	// Compressed bound.
	f = NewInflater(InflateOptions{MaxCompressed: 100})
	f.Write(make([]byte, 101))
	if _, err := f.Finish(io.Discard); !errors.Is(err, ErrInflateTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestInflater_Corrupt(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"reserved block type", []byte{0x07}},
		{"cut inside a block", []byte{0x4a, 0x4c, 0x4a}},
		{"stored length mismatch", []byte{0x00, 0x05, 0x00, 0x05, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewInflater(InflateOptions{NoContextTakeover: true})
			f.Write(tt.in)
			if _, err := f.Finish(io.Discard); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestInflater_EmptyMessage(t *testing.T) {
	// An empty message compresses to 00 (an empty fixed block is 02 00; RFC 7692 7.2.3.6 allows
	// the single byte 00 too).
	for _, in := range [][]byte{{0x00}, {0x02, 0x00}} {
		f := NewInflater(InflateOptions{})
		f.Write(in)
		n, err := f.Finish(io.Discard)
		if err != nil || n != 0 {
			t.Errorf("%x: n=%d err=%v", in, n, err)
		}
	}
}

func TestInflater_RFC7692Examples(t *testing.T) {
	// RFC 7692 section 7.2.3.1 and 7.2.3.2: "Hello" compressed, twice with context takeover.
	f := NewInflater(InflateOptions{})
	for i, in := range [][]byte{
		{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
		{0xf2, 0x00, 0x11, 0x00, 0x00},
	} {
		f.Write(in)
		var out bytes.Buffer
		if _, err := f.Finish(&out); err != nil || out.String() != "Hello" {
			t.Fatalf("message %d: %q %v", i, out.String(), err)
		}
	}
}
