package capture

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"
)

// TestEntry_Size keeps the record comparison holds per message at 64 bytes, without pointers.
func TestEntry_Size(t *testing.T) {
	if n := unsafe.Sizeof(Entry{}); n > 64 {
		t.Errorf("Entry is %d bytes, want at most 64", n)
	}
}

// TestRead_Compact reads real captures (plaintext, permessage-deflate, TLS with keys, HTTP/2,
// a digest file) in full, Compact and evidence modes: Compact keeps the entries of the full
// read and no message; ReadEvidence gives back exactly the full read's messages wanted.
func TestRead_Compact(t *testing.T) {
	digests := filepath.Join(t.TempDir(), "fw.wsd")
	fw, err := Read(mustGlob(t, "../examples/c2s-drop/fw*.pcap"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(digests)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteDigests(f, fw); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		files  []string
		keylog string
	}{
		{"ipv6", []string{"testdata/ipv6-loopback.pcap"}, ""},
		{"deflate", mustGlob(t, "../examples/healthy/lb*.pcap"), ""},
		{"rotated", mustGlob(t, "../examples/c2s-drop/lb-*.pcap"), ""},
		{"tls-keys", mustGlob(t, "../examples/tls-c2s-drop/client*.pcap"), "../examples/tls-c2s-drop/keys.txt"},
		{"h2c", []string{"testdata/h2c-client.pcap"}, ""},
		{"digests", []string{digests}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{}
			if tc.keylog != "" {
				opts.KeylogFiles = []string{tc.keylog}
			}
			full, err := Read(tc.files, opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.Compact = true
			compact, err := Read(tc.files, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(full.Sessions) == 0 || len(full.Sessions) != len(compact.Sessions) {
				t.Fatalf("sessions: %d full, %d compact", len(full.Sessions), len(compact.Sessions))
			}
			var wants []Want
			for i, s := range compact.Sessions {
				f := full.Sessions[i]
				for _, dir := range Directions {
					if len(s.Messages[dir]) != 0 {
						t.Errorf("session %d %s: %d messages kept", s.ID, dir, len(s.Messages[dir]))
					}
					if len(s.Entries[dir]) != len(f.Messages[dir]) || len(f.Entries[dir]) != len(f.Messages[dir]) {
						t.Fatalf("session %d %s: %d entries compact, %d full, %d messages", s.ID, dir, len(s.Entries[dir]), len(f.Entries[dir]), len(f.Messages[dir]))
					}
					for k := range s.Entries[dir] {
						e, m := &s.Entries[dir][k], &f.Messages[dir][k]
						if *e != f.Entries[dir][k] {
							t.Errorf("session %d %s entry %d: compact %+v, full %+v", s.ID, dir, k, *e, f.Entries[dir][k])
						}
						if e.Index() != m.Index || e.Offset() != m.Offset || e.End() != m.End || e.Length() != m.Length ||
							e.Digest() != m.Digest.Prefix() || !e.First().Equal(m.First) || e.Packet(compact.PacketFiles) != m.Packet {
							t.Errorf("session %d %s entry %d does not match its message", s.ID, dir, k)
						}
						if k%3 == 0 {
							wants = append(wants, Want{Session: s.ID, Direction: dir, Index: e.Index(), Packet: e.Packet(compact.PacketFiles)})
						}
					}
				}
			}
			ev, err := ReadEvidence(context.Background(), tc.files, opts, wants)
			if err != nil {
				t.Fatal(err)
			}
			if len(ev) != len(wants) {
				t.Errorf("%d of %d wanted messages found", len(ev), len(wants))
			}
			for w, m := range ev {
				if want := &full.Sessions[w.Session-1].Messages[w.Direction][w.Index]; !reflect.DeepEqual(m, want) {
					t.Errorf("evidence %+v: %+v, want %+v", w, m, want)
				}
			}
		})
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return files
}
