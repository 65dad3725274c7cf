package capture

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/wspath/wspath/probe/marker"
)

// TestEntry_Size keeps the record comparison holds per message at 40 bytes, without pointers.
func TestEntry_Size(t *testing.T) {
	if n := unsafe.Sizeof(Entry{}); n > 40 {
		t.Errorf("Entry is %d bytes, want at most 40", n)
	}
}

// TestSession_Size keeps Session within the 288-byte allocation size class (the next is 320):
// every listed session costs it, 100,000 of them in an unanswered-Upgrade flood. A new field
// that most sessions leave empty belongs behind a pointer (in sessionMore, as the messages and
// their records are, or in StreamAnomalies), not inline.
func TestSession_Size(t *testing.T) {
	if n := unsafe.Sizeof(Session{}); n > 288 {
		t.Errorf("Session is %d bytes, want at most 288", n)
	}
}

// TestConn_Size keeps a connection's own state within the 128-byte size class: 100,000
// connections of an unanswered-Upgrade flood wait with one each until the capture ends. The
// endpoints are tcpstream's (conn.tc), the packets kept are Stamps, and what only connections
// carrying frames, TLS, HTTP/2 or a bridged stream need is in frameState.
func TestConn_Size(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 128 {
		t.Errorf("conn is %d bytes, want at most 128", n)
	}
}

// TestRead_Compact reads real captures (plaintext, permessage-deflate, TLS with keys, HTTP/2,
// digest files of versions 2 and 1) in full, Compact and evidence modes: Compact keeps the entries of the full
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
		{"digests-v1", []string{"testdata/concurrent-fw.v1.wsd"}, ""},
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
					if len(s.Messages(dir)) != 0 {
						t.Errorf("session %d %s: %d messages kept", s.ID, dir, len(s.Messages(dir)))
					}
					if len(s.Entries(dir)) != len(f.Messages(dir)) || len(f.Entries(dir)) != len(f.Messages(dir)) {
						t.Fatalf("session %d %s: %d entries compact, %d full, %d messages", s.ID, dir, len(s.Entries(dir)), len(f.Entries(dir)), len(f.Messages(dir)))
					}
					for k := range s.Entries(dir) {
						e, m := &s.Entries(dir)[k], &f.Messages(dir)[k]
						if *e != f.Entries(dir)[k] {
							t.Errorf("session %d %s entry %d: compact %+v, full %+v", s.ID, dir, k, *e, f.Entries(dir)[k])
						}
						if e.Index() != m.Index || e.Offset() != m.Offset || e.End() != m.End || e.Length() != m.Length ||
							e.Digest() != m.Digest.Prefix() || !e.First().Equal(m.First) {
							t.Errorf("session %d %s entry %d does not match its message", s.ID, dir, k)
						}
						wd, wn := s.Wire(dir, e)
						if wd != m.WireDigest.Prefix() || wn != m.WireLength {
							t.Errorf("session %d %s entry %d: wire %x %d, message %x %d", s.ID, dir, k, wd, wn, m.WireDigest.Prefix(), m.WireLength)
						}
						if fd, fn := f.Wire(dir, &f.Entries(dir)[k]); fd != wd || fn != wn {
							t.Errorf("session %d %s entry %d: wire differs between full and compact reads", s.ID, dir, k)
						}
						if k%3 == 0 {
							wants = append(wants, Want{Session: s.ID, Client: s.Client, Server: s.Server, Direction: dir, Index: e.Index()})
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
				if want := &full.Sessions[w.Session-1].Messages(w.Direction)[w.Index]; !reflect.DeepEqual(m, want) {
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

// TestWithEntries_WideFields makes Entries of hand-built messages: a probe's number and a
// compressed message's wire digest and size are kept beside the entries, for those only.
func TestWithEntries_WideFields(t *testing.T) {
	probe := marker.Payload(17, "ab12", 64, false)
	s := &Session{ID: 1}
	s.SetMessages(ClientToServer, []Message{
		{Index: 0, Opcode: OpText, Length: 5, WireLength: 5, Digest: Digest{1}, WireDigest: Digest{1}, Preview: []byte("hello")},
		{Index: 1, Opcode: OpText, Length: 64, WireLength: 64, Digest: Digest{2}, WireDigest: Digest{2}, Preview: probe},
		{Index: 2, Opcode: OpBinary, Length: 900, WireLength: 40, Digest: Digest{3}, WireDigest: Digest{4}, Flags: Compressed},
	})
	c := WithEntries(s)
	if c == s || len(s.Entries(ClientToServer)) != 0 {
		t.Fatal("WithEntries changed the session given instead of a copy")
	}
	if WithEntries(c) != c {
		t.Error("WithEntries copied a session that has its Entries")
	}
	es := c.Entries(ClientToServer)
	for i, want := range []int{-1, 17, -1} {
		n, ok := c.Probe(ClientToServer, &es[i])
		if ok != (want >= 0) || ok && n != want {
			t.Errorf("message %d: probe %d %v, want %d", i, n, ok, want)
		}
	}
	for i, m := range s.Messages(ClientToServer) {
		if d, n := c.Wire(ClientToServer, &es[i]); d != m.WireDigest.Prefix() || n != m.WireLength {
			t.Errorf("message %d: wire %x %d, want %x %d", i, d, n, m.WireDigest.Prefix(), m.WireLength)
		}
	}
	if n := len(c.wideList(ClientToServer)); n != 2 {
		t.Errorf("%d wide entries, want 2 (the probe and the compressed message)", n)
	}
}
