package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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
			sameCapture(t, c, d)
		})
	}
}

// sameCapture checks that d, read from a digest file, holds what c does.
func sameCapture(t *testing.T, c, d *Capture) {
	t.Helper()
	if len(c.Sessions) != len(d.Sessions) {
		t.Fatalf("%d sessions, %d from digests", len(c.Sessions), len(d.Sessions))
	}
	for i := range c.Sessions {
		a, b := c.Sessions[i], d.Sessions[i]
		for _, dir := range Directions {
			if len(a.Messages(dir)) != len(b.Messages(dir)) {
				t.Fatalf("session %d %s: %d messages, %d from digests", a.ID, dir, len(a.Messages(dir)), len(b.Messages(dir)))
			}
			for k := range a.Messages(dir) {
				x, y := a.Messages(dir)[k], b.Messages(dir)[k]
				if !x.First.Equal(y.First) || !x.Last.Equal(y.Last) {
					t.Errorf("session %d %s message %d: times %v %v, from digests %v %v", a.ID, dir, k, x.First, x.Last, y.First, y.Last)
				}
				x.First, x.Last = y.First, y.Last // equal instants; the location may differ
				if !reflect.DeepEqual(x, y) {
					t.Errorf("session %d %s message %d:\n%+v\nfrom digests\n%+v", a.ID, dir, k, x, y)
				}
			}
		}
		ha, hb := a.withoutMessages(), b.withoutMessages()
		if x, y := mustJSON(t, ha), mustJSON(t, hb); x != y {
			t.Errorf("session %d without messages:\n%s\nfrom digests\n%s", a.ID, x, y)
		}
	}
	if c.Stats != d.Stats || len(c.Warnings) != len(d.Warnings) || len(c.Files) != len(d.Files) {
		t.Errorf("stats, warnings or files differ: %+v %+v", c.Stats, d.Stats)
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
	t.Run("cut-compressed", func(t *testing.T) {
		// Cut inside the compressed data, even before the magic inflates: still a digest file
		// (its gzip header says so), cut short, never taken for a capture.
		for _, cut := range []int{30, len(good) / 3, len(good) - 9} {
			p := filepath.Join(dir, "cutz.wsd")
			if err := os.WriteFile(p, good[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := Read([]string{p}, Options{})
			var de *DigestError
			switch {
			case err != nil && (!errors.As(err, &de) || !strings.Contains(err.Error(), "cutz.wsd") || !strings.Contains(err.Error(), "truncated")):
				t.Errorf("cut at %d of %d: err = %v, want a DigestError saying the digest file is truncated", cut, len(good), err)
			case err == nil && (len(d.Warnings) == 0 || !strings.Contains(d.Warnings[len(d.Warnings)-1].String(), "truncated")):
				t.Errorf("cut at %d of %d: warnings %q", cut, len(good), d.Warnings)
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

// digestInner assembles the inside of a digest file (before gzip): the magic, version 1 and
// the sections given as kind, body, kind, body, ...
func digestInner(sections ...any) []byte {
	b := append([]byte(digestMagic), 1)
	for i := 0; i < len(sections); i += 2 {
		body := []byte(fmt.Sprint(sections[i+1]))
		if raw, ok := sections[i+1].([]byte); ok {
			body = raw
		}
		b = append(b, byte(sections[i].(rune)))
		b = binary.AppendUvarint(b, uint64(len(body)))
		b = append(b, body...)
	}
	return b
}

// messageSection builds a message section: direction, count, the column lengths as given (they
// may lie), then the columns' bytes.
func messageSection(dir, count uint64, lens [msgColumns]uint64, cols ...[]byte) []byte {
	b := binary.AppendUvarint(nil, dir)
	b = binary.AppendUvarint(b, count)
	for _, n := range lens {
		b = binary.AppendUvarint(b, n)
	}
	for _, c := range cols {
		b = append(b, c...)
	}
	return b
}

// uvarints appends each value as a uvarint.
func uvarints(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// hostileDigest is the inside of a digest file whose numbers lie so as to make the reader
// allocate what they say, with what reading it must give.
type hostileDigest struct {
	name     string
	inner    []byte
	sessions int    // sessions read before the damage
	want     string // in the one warning; "" for none
}

// hostileDigests returns the digest files of TestReadDigests_Hostile (each a seed of
// FuzzReadDigests too, under testdata/fuzz/FuzzReadDigests).
func hostileDigests() []hostileDigest {
	const header, session = `{}`, `{"Client":"10.0.0.1:1","Server":"10.0.0.2:80"}`
	closeMsg := uint64(kindClose | kindFirstZero | kindLastZero | uint64(OpClose))
	// One close message whose reason claims 2^50 bytes of a column that holds none.
	cols := [][]byte{uvarints(closeMsg), uvarints(0, 0), nil, nil, uvarints(0), uvarints(0, 0), uvarints(0, 0, 0, 0), uvarints(1000, 1<<50)}
	var lens [msgColumns]uint64
	for i, c := range cols {
		lens[i] = uint64(len(c))
	}
	return []hostileDigest{
		{"negative message count in a session", digestInner(secHeader, header, secSession,
			`{"Counts":[{"Data":-5},{}]}`, secMessages, messageSection(0, 0, [msgColumns]uint64{})),
			0, "section 2: session: negative message count"},
		{"message counts whose sum overflows", digestInner(secHeader, header, secSession,
			`{"Counts":[{"Data":9223372036854775807,"Control":9223372036854775807},{}]}`, secMessages, messageSection(0, 0, [msgColumns]uint64{}),
			secEnd, uvarints(1)),
			1, ""},
		{"column lengths that wrap around to the section's size", digestInner(secHeader, header, secSession, session,
			secMessages, messageSection(0, 1, [msgColumns]uint64{1<<64 - 1, 1})),
			1, "section 3: message columns do not add up to the section"},
		{"close reason longer than its column", digestInner(secHeader, header, secFile, "x.pcap", secSession, session,
			secMessages, messageSection(0, 1, lens, cols...)),
			1, "section 4: message column ends early"},
	}
}

// TestReadDigests_Hostile reads digest files whose numbers lie so as to make the reader allocate
// what they say (a negative or overflowing message count in a session, column lengths near 2^64
// that wrap around to the section's size, a close reason claiming 2^50 bytes): each panicked in
// makeslice before the fix, or asked for as much memory as the file claimed. Now the sessions
// before the damage are read and one warning names the file, the section and what is wrong.
func TestReadDigests_Hostile(t *testing.T) {
	for _, tt := range hostileDigests() {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "hostile.wsd")
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(tt.inner)
			zw.Close()
			if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := ReadDigests(p, Options{})
			if err != nil {
				t.Fatalf("err = %v, want the sessions before the damage and a warning", err)
			}
			if len(c.Sessions) != tt.sessions {
				t.Errorf("%d sessions, want %d", len(c.Sessions), tt.sessions)
			}
			var ws []string
			for _, w := range c.Warnings {
				ws = append(ws, w.String())
			}
			if tt.want == "" {
				if len(ws) != 0 {
					t.Errorf("warnings %q, want none", ws)
				}
				return
			}
			if len(ws) != 1 || !strings.Contains(ws[0], "hostile.wsd") || !strings.Contains(ws[0], tt.want) {
				t.Errorf("warnings %q, want one naming the file and %q", ws, tt.want)
			}
		})
	}
}

// TestReduce_RoundTrip checks that the digest file ReduceContext writes while reading gives back,
// field for field, what Read gives: with messages written every few per direction, so that the
// sections of connections open at once interleave and come before their sessions. The cases
// hold concurrent connections, permessage-deflate, TLS, mid-stream pick-ups, HTTP/2 streams.
func TestReduce_RoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, files, keylog string }{
		{"concurrent", "../examples/concurrent/fw*.pcap", ""},
		{"capture-drops", "../examples/capture-drops/fw.pcap", ""},
		{"deflate", "../examples/capture-drops-deflate/ingress*.pcap", ""},
		{"tls-keys", "../examples/tls-c2s-drop/lb*.pcap", "../examples/tls-c2s-drop/keys.txt"},
		{"tls-nokeys", "../examples/tls-nokeys-both/lb*.pcap", ""},
		{"capture-gap", "../examples/capture-gap/ingress*.pcap", ""},
		{"h2c", "testdata/h2c-client.pcap", ""},
		{"h2-tls", "../examples/h2-tls-s2c-drop/lb*.pcap", "../examples/h2-tls-s2c-drop/keys.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, _ := filepath.Glob(tc.files)
			if len(files) == 0 {
				t.Fatalf("no files %s", tc.files)
			}
			opts := Options{PreviewSize: -1}
			if tc.keylog != "" {
				opts.KeylogFiles = []string{tc.keylog}
			}
			c, err := Read(files, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, every := range []int{1, 3, digestFlush} {
				opts.flushEvery = every
				var buf bytes.Buffer
				if _, err := ReduceContext(context.Background(), files, opts, &buf); err != nil {
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
				sameCapture(t, c, d)
				opts.Compact = true
				cc, err := Read(files, opts)
				if err != nil {
					t.Fatal(err)
				}
				dc, err := Read([]string{path}, Options{Compact: true})
				if err != nil {
					t.Fatal(err)
				}
				sameEntries(t, cc, dc)
				opts.Compact = false
			}
		})
	}
}

// TestDigests_Version1 checks that a digest file of the first version, written before files
// were written while reading, still reads as the capture it was made from.
func TestDigests_Version1(t *testing.T) {
	c, err := Read([]string{"../examples/concurrent/fw.pcap"}, Options{PreviewSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Read([]string{"testdata/concurrent-fw.v1.wsd"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sessions) == 0 {
		t.Fatal("no sessions")
	}
	// Fields added to sessions since are zero in it.
	for _, s := range c.Sessions {
		for i := range s.TCP {
			s.TCP[i].ISN, s.TCP[i].SYN, s.TCP[i].End = 0, false, 0
		}
	}
	sameCapture(t, c, d)
}

// sameEntries checks that the compact records of d, read from a digest file, are c's.
func sameEntries(t *testing.T, c, d *Capture) {
	t.Helper()
	if len(c.Sessions) != len(d.Sessions) {
		t.Fatalf("compact: %d sessions, %d from digests", len(c.Sessions), len(d.Sessions))
	}
	for i := range c.Sessions {
		a, b := c.Sessions[i], d.Sessions[i]
		for _, dir := range Directions {
			if len(a.Entries(dir)) != len(b.Entries(dir)) || !reflect.DeepEqual(a.wideList(dir), b.wideList(dir)) {
				t.Fatalf("compact: session %d %s: %d entries (%d wide), %d (%d) from digests", a.ID, dir,
					len(a.Entries(dir)), len(a.wideList(dir)), len(b.Entries(dir)), len(b.wideList(dir)))
			}
			for k := range a.Entries(dir) {
				x, y := a.Entries(dir)[k], b.Entries(dir)[k]
				if x != y {
					t.Errorf("compact: session %d %s entry %d:\n%+v\nfrom digests\n%+v", a.ID, dir, k, x, y)
				}
			}
		}
	}
}
