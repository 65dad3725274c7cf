package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds returns the real captures of the capture packages' testdata, and the key logs that
// decrypt the TLS ones.
func fuzzSeeds(tb testing.TB) (captures, keylogs []string) {
	for _, pat := range []string{"*/testdata/*.pcap", "*/testdata/*/*.pcap", "*/testdata/*.pcapng", "*/testdata/*.gz", "testdata/*.pcap"} {
		m, _ := filepath.Glob(pat)
		captures = append(captures, m...)
	}
	keylogs, _ = filepath.Glob("tlsdecrypt/testdata/*.keys")
	if len(captures) == 0 {
		tb.Fatal("no seed captures")
	}
	return captures, keylogs
}

// FuzzRead writes the input as a capture file and reads it: Read must neither panic nor hang nor
// allocate without bound, whatever the bytes; and when it fails it must say which file.
func FuzzRead(f *testing.F) {
	captures, keylogs := fuzzSeeds(f)
	for _, p := range captures {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 256<<10 && filepath.Ext(p) != ".gz" {
			f.Add(b)
		}
	}
	// Synthetic shapes the real captures lack: deflate with takeover, fragments, hostile frames.
	synthPath := filepath.Join(f.TempDir(), "seed.pcap")
	s := newSynth(f, synthPath)
	c := s.conn("10.1.0.1:40000", "10.2.0.1:8080", true)
	c.upgrade(testKey, "permessage-deflate; client_max_window_bits=9")
	c.send(false, frame(0x1, false, true, false, []byte{0xf2, 0x48, 0xcd}))
	c.send(false, frame(0x0, true, false, false, []byte{0xc9, 0xc9, 0x07, 0x00}))
	c.send(true, frame(0x9, true, false, true, []byte("ping")))
	c.send(false, frame(0x3, true, false, false, []byte("reserved opcode")))
	c.send(false, []byte{0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	c.fin(true)
	s.close()
	b, err := os.ReadFile(synthPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)

	// The key logs are copied: the fuzz workers must not depend on files others may rewrite.
	dir := f.TempDir()
	var keys []string
	for i, k := range keylogs {
		b, err := os.ReadFile(k)
		if err != nil {
			f.Fatal(err)
		}
		keys = append(keys, filepath.Join(dir, fmt.Sprintf("keylog%d.txt", i)))
		if err := os.WriteFile(keys[i], b, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		path := filepath.Join(dir, "in.pcap")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		capt, err := Read([]string{path}, Options{KeylogFiles: keys, MaxConnBuffer: 1 << 20, MaxTotalBuffer: 8 << 20})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Read took %v on %d bytes", d, len(data))
		}
		if err != nil {
			if !contains(err.Error(), path) && !contains(err.Error(), "in.pcap") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		checkCapture(t, capt)
	})
}

// checkCapture checks invariants any Capture must keep, however broken its input.
func checkCapture(t *testing.T, c *Capture) {
	t.Helper()
	if len(c.Warnings) > maxWarnings+1 {
		t.Errorf("%d warnings, bound is %d", len(c.Warnings), maxWarnings+1)
	}
	for i, s := range c.Sessions {
		if s.ID != i+1 {
			t.Errorf("session %d has ID %d", i, s.ID)
		}
		if len(s.Problems()) > maxProblems {
			t.Errorf("session %d: %d problems", s.ID, len(s.Problems()))
		}
		for _, d := range Directions {
			for j, m := range s.Messages(d) {
				if m.Index != j || m.Direction != d {
					t.Errorf("session %d %s message %d: index %d direction %s", s.ID, d, j, m.Index, m.Direction)
				}
				if len(m.Preview) > DefaultPreviewSize {
					t.Errorf("preview of %d bytes", len(m.Preview))
				}
				if m.Length < 0 || m.WireLength < 0 {
					t.Errorf("negative length %d/%d", m.Length, m.WireLength)
				}
			}
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
