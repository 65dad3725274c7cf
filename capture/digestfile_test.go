package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readBoth reads files as a capture (without previews, as inspect --digests does) and through a
// digest file written from it.
func readBoth(t testing.TB, files []string, opts Options) (*Capture, *Capture, []byte) {
	t.Helper()
	opts.PreviewSize = -1
	c, err := Read(files, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteDigests(&buf, c); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hop.wsd")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Read([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, d, buf.Bytes()
}

// TestDigests_RoundTrip checks that a digest file gives back the sessions of real captures field
// for field: plaintext, permessage-deflate, TLS decrypted and not, a snap length cut, a reset.
func TestDigests_RoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, files, keylog string }{
		{"ipv6", "testdata/ipv6-loopback.pcap", ""},
		{"deflate", "../examples/healthy/lb*.pcap", ""},
		{"tls-keys", "../examples/tls-c2s-drop/lb*.pcap", "../examples/tls-c2s-drop/keys.txt"},
		{"tls-nokeys", "../examples/tls-nokeys-both/lb*.pcap", ""},
		{"snaplen", "../examples/capture-gap/ingress*.pcap", ""},
		{"rst", "../examples/rst/fw*.pcap", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, _ := filepath.Glob(tc.files)
			opts := Options{}
			if tc.keylog != "" {
				opts.KeylogFiles = []string{tc.keylog}
			}
			c, d, _ := readBoth(t, files, opts)
			if len(c.Sessions) != len(d.Sessions) {
				t.Fatalf("%d sessions, %d from digests", len(c.Sessions), len(d.Sessions))
			}
			for i := range c.Sessions {
				a, b := c.Sessions[i], d.Sessions[i]
				for _, dir := range Directions {
					if len(a.Messages[dir]) != len(b.Messages[dir]) {
						t.Fatalf("session %d %s: %d messages, %d from digests", a.ID, dir, len(a.Messages[dir]), len(b.Messages[dir]))
					}
					for k := range a.Messages[dir] {
						x, y := a.Messages[dir][k], b.Messages[dir][k]
						if !x.First.Equal(y.First) || !x.Last.Equal(y.Last) {
							t.Errorf("session %d %s message %d: times %v %v, from digests %v %v", a.ID, dir, k, x.First, x.Last, y.First, y.Last)
						}
						x.First, x.Last = y.First, y.Last // equal instants; the location may differ
						if !reflect.DeepEqual(x, y) {
							t.Errorf("session %d %s message %d:\n%+v\nfrom digests\n%+v", a.ID, dir, k, x, y)
						}
					}
				}
				ha, hb := *a, *b
				ha.Messages, hb.Messages = [2][]Message{}, [2][]Message{}
				if x, y := mustJSON(t, ha), mustJSON(t, hb); x != y {
					t.Errorf("session %d without messages:\n%s\nfrom digests\n%s", a.ID, x, y)
				}
			}
			if c.Stats != d.Stats || len(c.Warnings) != len(d.Warnings) || len(c.Files) != len(d.Files) {
				t.Errorf("stats, warnings or files differ: %+v %+v", c.Stats, d.Stats)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDigests_Errors checks that damaged digest files are refused or cut with an error naming the
// file and the section, never read as something else.
func TestDigests_Errors(t *testing.T) {
	files, _ := filepath.Glob("../examples/concurrent/fw*.pcap")
	c, _, good := readBoth(t, files, Options{})
	raw := gunzip(t, good)
	dir := t.TempDir()
	write := func(name string, inner []byte) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(inner)
		zw.Close()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newer := append([]byte(digestMagic), binary.AppendUvarint(nil, DigestVersion+1)...)
	newer = append(newer, raw[len(digestMagic)+1:]...)
	badKind := bytes.Clone(raw)
	badKind[len(digestMagic)+1] = 'Z'

	t.Run("newer", func(t *testing.T) {
		_, err := ReadDigests(write("newer.wsd", newer), Options{})
		if !errors.Is(err, ErrNewerDigests) || !strings.Contains(err.Error(), "newer.wsd") {
			t.Fatalf("err = %v, want ErrNewerDigests naming the file", err)
		}
		if _, err := Read([]string{filepath.Join(dir, "newer.wsd")}, Options{}); !errors.Is(err, ErrNewerDigests) {
			t.Fatalf("Read: err = %v, want ErrNewerDigests", err)
		}
	})
	t.Run("header", func(t *testing.T) {
		_, err := ReadDigests(write("badkind.wsd", badKind), Options{})
		var de *DigestError
		if !errors.As(err, &de) || de.Section != 1 {
			t.Fatalf("err = %v, want a DigestError in section 1", err)
		}
	})
	t.Run("not-digests", func(t *testing.T) {
		_, err := ReadDigests(files[0], Options{})
		var de *DigestError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v, want a DigestError", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, cut := range []int{len(raw) - 1, len(raw) / 2, len(raw) / 5} {
			d, err := ReadDigests(write("cut.wsd", raw[:cut]), Options{})
			if err != nil {
				t.Fatalf("cut at %d: %v", cut, err)
			}
			w := d.Warnings[len(d.Warnings)-1].String()
			if !strings.Contains(w, "cut.wsd") || !strings.Contains(w, "truncated") {
				t.Errorf("cut at %d: warning %q", cut, w)
			}
			if len(d.Sessions) > len(c.Sessions) {
				t.Errorf("cut at %d: %d sessions", cut, len(d.Sessions))
			}
		}
	})
	t.Run("flipped", func(t *testing.T) {
		// Every byte of the inner stream changed in turn: an error or a warning, never a panic.
		for i := len(digestMagic); i < len(raw); i += max(1, len(raw)/300) {
			b := bytes.Clone(raw)
			b[i] ^= 0x5a
			_, _ = ReadDigests(write("flip.wsd", b), Options{})
		}
	})
	t.Run("with-other-files", func(t *testing.T) {
		p := write("good.wsd", raw)
		if _, err := Read([]string{p, files[0]}, Options{}); err == nil || !strings.Contains(err.Error(), "alone") {
			t.Fatalf("err = %v", err)
		}
	})
}

func gunzip(t testing.TB, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkDigests reads 200k small messages, then writes and reads their digest file; it reports
// the digest file's bytes per message (disk-B/msg) and MB/s of digest file read.
func BenchmarkDigests(b *testing.B) {
	const msgs = 200_000
	dir := b.TempDir()
	path := filepath.Join(dir, "small.pcap")
	writeSmallCapture(b, path, msgs)
	c, err := Read([]string{path}, Options{PreviewSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteDigests(&buf, c); err != nil {
		b.Fatal(err)
	}
	wsd := filepath.Join(dir, "small.wsd")
	if err := os.WriteFile(wsd, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d, err := ReadDigests(wsd, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(d.Sessions); n != len(c.Sessions) {
			b.Fatalf("%d sessions", n)
		}
	}
	b.ReportMetric(float64(buf.Len())/msgs, "disk-B/msg")
}

// FuzzReadDigests reads the input, gunzipped, as the inside of a digest file: ReadDigests must
// neither panic nor allocate without bound, and when it fails it must name the file.
func FuzzReadDigests(f *testing.F) {
	for _, files := range []string{"testdata/ipv6-loopback.pcap", "../examples/healthy/lb*.pcap", "../examples/capture-gap/ingress*.pcap"} {
		m, _ := filepath.Glob(files)
		c, err := Read(m, Options{PreviewSize: -1})
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteDigests(&b, c); err != nil {
			f.Fatal(err)
		}
		f.Add(gunzip(f, b.Bytes()))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, inner []byte) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(inner)
		zw.Close()
		p := filepath.Join(dir, "fuzz.wsd")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadDigests(p, Options{})
		if err != nil && !strings.Contains(err.Error(), "fuzz.wsd") {
			t.Fatalf("error does not name the file: %v", err)
		}
		if c == nil && err == nil {
			t.Fatal("no capture and no error")
		}
	})
}
