package wsframe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestRing_KeepsLastWindow(t *testing.T) {
	for _, window := range []int{256, 512, 32768} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(window)))
			var r ring
			var all []byte
			for i := 0; i < 300; i++ {
				n := rng.IntN(window * 3 / 2)
				if i%7 == 0 {
					n = rng.IntN(8)
				}
				out := make([]byte, n)
				for j := range out {
					out[j] = byte(rng.Uint32())
				}
				all = append(all, out...)
				r.write(out, window)
				want := all[max(0, len(all)-window):]
				got := r.buf
				if r.wrapped() {
					got = r.appendLinear(nil)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("write %d: history differs (len %d, want %d)", i, len(got), len(want))
				}
				if cap(r.buf) > window {
					t.Fatalf("capacity %d past the window %d", cap(r.buf), window)
				}
			}
		})
	}
}

// TestInflater_SharedInterleaved checks that connections sharing one InflatePool, their messages
// interleaved, inflate exactly as with their own.
func TestInflater_SharedInterleaved(t *testing.T) {
	msgs := sampleMessages()
	comp := deflateMessages(t, msgs, true)
	shared := NewInflatePool(0)
	fs := []*Inflater{
		NewInflater(InflateOptions{Pool: shared}),
		NewInflater(InflateOptions{Pool: shared, WindowBits: 15}),
		NewInflater(InflateOptions{Pool: shared}),
	}
	for i := range comp {
		for k, f := range fs {
			f.Write(comp[i][:len(comp[i])/3])
			f.Write(comp[i][len(comp[i])/3:])
			if k == 1 {
				continue // finished below, after the others used the shared decoder
			}
			var out bytes.Buffer
			if _, err := f.Finish(&out); err != nil || !bytes.Equal(out.Bytes(), msgs[i]) {
				t.Fatalf("inflater %d message %d: %v %.30q", k, i, err, out.Bytes())
			}
		}
		var out bytes.Buffer
		if _, err := fs[1].Finish(&out); err != nil || !bytes.Equal(out.Bytes(), msgs[i]) {
			t.Fatalf("inflater 1 message %d: %v", i, err)
		}
	}
	if shared.Buffered() != 0 {
		t.Errorf("Buffered() = %d after all messages finished", shared.Buffered())
	}
}

func TestInflater_SharedBudget(t *testing.T) {
	shared := NewInflatePool(100)
	a := NewInflater(InflateOptions{Pool: shared, NoContextTakeover: true})
	b := NewInflater(InflateOptions{Pool: shared, NoContextTakeover: true})
	// a's message, 60 bytes: a stored (uncompressed) deflate block of 54 bytes, then the header
	// byte of the empty stored block whose 00 00 ff ff RFC 7692 strips.
	msgA := append(append([]byte{0x00, 54, 0x00, ^byte(54), 0xff}, bytes.Repeat([]byte("x"), 54)...), 0x00)
	a.Write(msgA)
	b.Write(make([]byte, 60)) // does not fit: b's message fails, a's does not
	if shared.Buffered() != 60 {
		t.Fatalf("Buffered() = %d, want 60", shared.Buffered())
	}
	_, err := b.Finish(io.Discard)
	if !errors.Is(err, ErrInflateTooLarge) || !bytes.Contains([]byte(err.Error()), []byte("all connections")) {
		t.Fatalf("b: err = %v", err)
	}
	var outA bytes.Buffer
	if _, err := a.Finish(&outA); err != nil || outA.String() != strings.Repeat("x", 54) {
		t.Fatalf("a: %q, err = %v; want its 54 bytes", outA.String(), err)
	}
	if shared.Buffered() != 0 {
		t.Fatalf("Buffered() = %d after Finish", shared.Buffered())
	}
	// The budget is free again.
	b.Write([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})
	var out bytes.Buffer
	if _, err := b.Finish(&out); err != nil || out.String() != "Hello" {
		t.Fatalf("after the budget freed: %q %v", out.String(), err)
	}
}

// TestInflater_Memory checks what an Inflater keeps between messages: nothing before its first
// message, and with a shared InflatePool only its window-sized history.
func TestInflater_Memory(t *testing.T) {
	shared := NewInflatePool(0)
	if n := testing.AllocsPerRun(100, func() { NewInflater(InflateOptions{Pool: shared}) }); n > 1 {
		t.Errorf("NewInflater: %v allocations, want 1", n)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB, compresses to ~1 KiB
	msgs := [][]byte{big, []byte("small"), big}
	for _, tc := range []struct {
		bits     int
		takeover bool
		histCap  int
	}{
		{8, true, 256},
		{15, true, 32 << 10},
		{15, false, 0},
	} {
		t.Run(fmt.Sprintf("bits=%d,takeover=%v", tc.bits, tc.takeover), func(t *testing.T) {
			comp := deflateMessages(t, msgs, false) // no back references: any window decodes them
			f := NewInflater(InflateOptions{Pool: shared, WindowBits: tc.bits, NoContextTakeover: !tc.takeover})
			for i, c := range comp {
				f.Write(c)
				var out bytes.Buffer
				if _, err := f.Finish(&out); err != nil || !bytes.Equal(out.Bytes(), msgs[i]) {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			if cap(f.hist.buf) != tc.histCap {
				t.Errorf("history capacity %d, want %d", cap(f.hist.buf), tc.histCap)
			}
			if cap(f.in) > keepCompressed {
				t.Errorf("compressed buffer capacity %d kept after Finish", cap(f.in))
			}
			if f.own != nil {
				t.Error("a sharing Inflater made its own InflatePool")
			}
		})
	}
}

// BenchmarkInflater_ManyConnections inflates one small message on each of many connections in
// turn, sharing an InflatePool, as capture.Read does.
func BenchmarkInflater_ManyConnections(b *testing.B) {
	msgs := sampleMessages()[:4]
	comp := deflateMessages(b, msgs, true)
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	const conns = 1000
	b.SetBytes(int64(total * conns))
	b.ReportAllocs()
	for b.Loop() {
		shared := NewInflatePool(0)
		fs := make([]*Inflater, conns)
		for i := range fs {
			fs[i] = NewInflater(InflateOptions{Pool: shared})
		}
		for _, c := range comp {
			for _, f := range fs {
				f.Write(c)
				if _, err := f.Finish(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
