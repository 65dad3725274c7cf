package wsframe

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wspath/wspath/capture/packet"
)

// realStreams returns the client and server streams (after the handshake) of the testdata
// captures, concatenated, for fuzz seeds.
func realStreams(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/*.segments.gz")
	var out [][]byte
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := io.ReadAll(zr)
		fh.Close()
		var streams [2][]byte
		client := ""
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			fs := strings.Fields(line)
			if client == "" {
				client = fs[2]
			}
			d := 0
			if fs[2] != client {
				d = 1
			}
			p, _ := hex.DecodeString(fs[5])
			streams[d] = append(streams[d], p...)
		}
		for _, s := range streams {
			if i := bytes.Index(s, []byte("\r\n\r\n")); i >= 0 {
				s = s[i+4:]
			}
			out = append(out, s[:min(len(s), 4096)])
		}
	}
	return out
}

func FuzzParser(f *testing.F) {
	stream, _ := sampleStream()
	f.Add(stream[:500], uint16(7), false)
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o', 0x88, 0x00}, uint16(1), true)
	for _, s := range realStreams(f) {
		f.Add(s, uint16(100), false)
		f.Add(s, uint16(1448), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, seed uint16, mid bool) {
		r := &recorder{}
		p := NewParser(r, Options{MidStream: mid, ResyncBuffer: 4096})
		// Chunk sizes derived from the seed; every third chunk boundary also drops bytes.
		var off uint64
		x := uint32(seed) | 1
		for i := 0; len(b) > 0; i++ {
			x = x*1664525 + 1013904223
			n := min(int(x>>24)%64+1, len(b))
			if i%3 == 2 && seed&1 == 1 {
				p.Gap(off, uint64(n))
			} else {
				p.Feed(b[:n], off, packet.Meta{Number: i})
			}
			off += uint64(n)
			b = b[n:]
		}
		p.End(packet.Meta{})
		if r.badOrder {
			t.Fatalf("handler calls out of order:\n%s", r)
		}
		if r.inFrame {
			t.Fatalf("frame left open after End:\n%s", r)
		}
		for _, fr := range r.frames {
			if uint64(len(fr.payload))+fr.gaps != fr.Length {
				t.Fatalf("frame at %d: %d payload + %d gap bytes, length %d", fr.Offset, len(fr.payload), fr.gaps, fr.Length)
			}
		}
	})
}

func FuzzInflate(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, false)
	f.Add([]byte{0xf2, 0x00, 0x11, 0x00, 0x00}, true)
	f.Add([]byte{0x00}, false)
	f.Fuzz(func(t *testing.T, b []byte, noTakeover bool) {
		in := NewInflater(InflateOptions{NoContextTakeover: noTakeover, MaxSize: 1 << 16, WindowBits: 9})
		// Two messages from the same bytes, split at the middle: the second uses the first's context.
		for _, m := range [][]byte{b[:len(b)/2], b[len(b)/2:], b} {
			in.Write(m)
			n, err := in.Finish(io.Discard)
			if n > 1<<16 {
				t.Fatalf("inflated %d bytes past the bound (err %v)", n, err)
			}
		}
		roundTrip(t, b, noTakeover)
	})
}

// roundTrip compresses two messages made of b (each b twice over, so that it compresses) as a
// permessage-deflate sender does (RFC 7692 7.2.1: flush, drop the final 00 00 ff ff; with context
// takeover one compressor for both) and checks that an Inflater gives them back exactly.
func roundTrip(t *testing.T, b []byte, noTakeover bool) {
	msgs := [][]byte{bytes.Repeat(b[:len(b)/2], 2), bytes.Repeat(b[len(b)/2:], 2)}
	in := NewInflater(InflateOptions{NoContextTakeover: noTakeover, MaxSize: int64(4*len(b) + 1024)})
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if noTakeover {
			fw.Reset(&comp)
		}
		comp.Reset()
		fw.Write(m)
		fw.Flush()
		in.Write(bytes.TrimSuffix(comp.Bytes(), []byte{0x00, 0x00, 0xff, 0xff}))
		var out bytes.Buffer
		if _, err := in.Finish(&out); err != nil || !bytes.Equal(out.Bytes(), m) {
			t.Fatalf("message %d of %d bytes: got %d bytes back, err %v", i, len(m), out.Len(), err)
		}
	}
}
