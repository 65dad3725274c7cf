package tlsdecrypt

// Conn on degraded input: no keys, a wrong key, only the application secrets, a gap in the
// records, garbage instead of TLS, a secret of the wrong length. It must say what it could not
// do and never hand out wrong plaintext.

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wspath/wspath/capture/packet"
)

// joined returns the bytes of each direction of s.
func joined(s *stream) [2][]byte {
	var all [2][]byte
	for _, ch := range s.chunks {
		all[ch.dir] = append(all[ch.dir], ch.data...)
	}
	return all
}

// readKeys reads a key log file of testdata.
func readKeys(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConn_WithoutKeys(t *testing.T) {
	for _, cc := range captureCases {
		if cc.keys != "" {
			continue
		}
		t.Run(cc.name, func(t *testing.T) {
			streams, _ := readCapture(t, cc.path())
			want := readExpect(t, filepath.Join("testdata", cc.name+".tshark"))
			for si, s := range streams {
				col, info := run(s, nil, feedPackets)
				if info.Decrypted || !strings.Contains(info.Reason, "no key") {
					t.Errorf("stream %d: decrypted %v, reason %q", si, info.Decrypted, info.Reason)
				}
				if info.Version != cc.version || info.CipherSuite != cc.suite || info.SNI != "wspath.test" {
					t.Errorf("stream %d: %s %s %q", si, info.Version, info.CipherSuite, info.SNI)
				}
				for d := 0; d < 2; d++ {
					if n := len(col.records[d]); n != want[[2]int{si, d}].records {
						t.Errorf("stream %d dir %d: %d record shapes, tshark %d", si, d, n, want[[2]int{si, d}].records)
					}
					if col.plain[d].Len() != 0 {
						t.Errorf("stream %d dir %d: plaintext without keys", si, d)
					}
					for _, m := range col.metas[d] {
						if m.Number == 0 || m.File == "" || m.Time.IsZero() {
							t.Errorf("stream %d dir %d: record without packet: %+v", si, d, m)
						}
					}
				}
			}
		})
	}
}

// corrupt flips a bit in the last secret of every key log line.
func corrupt(text []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(text), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			b := []byte(l)
			if b[len(b)-1] == '0' {
				b[len(b)-1] = '1'
			} else {
				b[len(b)-1] = '0'
			}
			l = string(b)
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}

func TestConn_WrongKey(t *testing.T) {
	for _, cc := range captureCases {
		if cc.keys != "" {
			continue
		}
		t.Run(cc.name, func(t *testing.T) {
			streams, _ := readCapture(t, cc.path())
			kl, errs := ParseKeylog(corrupt(readKeys(t, cc.name+".keys")))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for si, s := range streams {
				col, info := run(s, kl, feedPackets)
				if cc.noKey != nil && cc.noKey[si] {
					continue
				}
				if info.Decrypted || !strings.Contains(info.Reason, "failed authentication") {
					t.Errorf("stream %d: decrypted %v, reason %q", si, info.Decrypted, info.Reason)
				}
				if col.plain[0].Len()+col.plain[1].Len() != 0 {
					t.Errorf("stream %d: plaintext with a wrong key", si)
				}
			}
		})
	}
}

func TestConn_AppSecretsOnly(t *testing.T) {
	for _, name := range []string{"tls13_aes128gcm_openssl", "tls13_chacha20_openssl", "tls13_keyupdate_sclient"} {
		t.Run(name, func(t *testing.T) {
			var keep []string
			for _, l := range strings.Split(string(readKeys(t, name+".keys")), "\n") {
				if strings.HasPrefix(l, "CLIENT_TRAFFIC_SECRET_0") || strings.HasPrefix(l, "SERVER_TRAFFIC_SECRET_0") {
					keep = append(keep, l)
				}
			}
			kl, _ := ParseKeylog([]byte(strings.Join(keep, "\n")))
			streams, _ := readCapture(t, filepath.Join("testdata", name+".pcap"))
			want := readExpect(t, filepath.Join("testdata", name+".tshark"))
			col, info := run(streams[0], kl, feedPackets)
			if !info.Decrypted {
				t.Fatalf("not decrypted: %s", info.Reason)
			}
			for d := 0; d < 2; d++ {
				if sha(col.plain[d].Bytes()) != want[[2]int{0, d}].sha {
					t.Errorf("dir %d: plaintext differs from tshark", d)
				}
			}
		})
	}
}

// recordBounds returns the offsets of the records of b.
func recordBounds(b []byte) []int {
	var out []int
	for off := 0; off+5 <= len(b); off += 5 + int(binary.BigEndian.Uint16(b[off+3:])) {
		out = append(out, off)
	}
	return out
}

func TestConn_GapResync(t *testing.T) {
	for _, name := range []string{"tls13_aes128gcm_openssl", "tls12_ecdhe_rsa_aes128cbcsha_openssl"} {
		t.Run(name, func(t *testing.T) {
			streams, kl := captureCase{name: name}.load(t)
			want := readExpect(t, filepath.Join("testdata", name+".tshark"))
			all := joined(streams[0])
			// The server's echo of the large message spans several records: lose the bytes from
			// the middle of the first large record to the middle of the next one.
			d := 1
			rb := recordBounds(all[d])
			k := -1
			for i := 0; i+2 < len(rb); i++ {
				if rb[i+1]-rb[i] > 1000 && all[d][rb[i]] == recordApplicationData {
					k = i
					break
				}
			}
			if k < 0 {
				t.Fatal("no large record followed by two records")
			}
			cut0, cut1 := rb[k]+(rb[k+1]-rb[k])/2, rb[k+1]+(rb[k+2]-rb[k+1])/2
			col := &collector{}
			c := NewConn(kl, col)
			c.Feed(0, all[0], packet.Meta{})
			c.Feed(1, all[1][:cut0], packet.Meta{})
			c.Gap(1, uint64(cut1-cut0))
			c.Feed(1, all[1][cut1:], packet.Meta{})
			c.Close()
			info := c.Info()
			if !info.Decrypted {
				t.Fatalf("not decrypted after gap: %s", info.Reason)
			}
			got := col.plain[d].Bytes()
			if len(got) >= want[[2]int{0, d}].bytes || len(got) == 0 {
				t.Fatalf("%d bytes after a gap, tshark %d without", len(got), want[[2]int{0, d}].bytes)
			}
			// Every record after the gap was decrypted: the output ends like tshark's.
			ref, _ := run(streams[0], kl, feedJoined)
			tail := ref.plain[d].Bytes()
			tail = tail[len(tail)-min(len(tail), 200):]
			if !bytes.HasSuffix(got, tail[len(tail)-min(len(tail), 20):]) {
				t.Errorf("output does not end with the last record's plaintext")
			}
			if info.Records[d] >= want[[2]int{0, d}].records {
				t.Errorf("%d records counted after losing some, tshark %d", info.Records[d], want[[2]int{0, d}].records)
			}
		})
	}
}

func TestConn_Garbage(t *testing.T) {
	tests := []struct {
		name string
		c, s []byte
	}{
		{"empty", nil, nil},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n")},
		{"huge record", []byte{22, 3, 1, 0xff, 0xff, 1}, nil},
		{"short hello", []byte{22, 3, 1, 0, 4, 1, 0, 0, 0}, []byte{22, 3, 3, 0, 4, 2, 0, 0, 0}},
		{"server first", nil, []byte{22, 3, 3, 0, 4, 2, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConn(nil, &collector{})
			c.Feed(0, tt.c, packet.Meta{})
			c.Feed(1, tt.s, packet.Meta{})
			c.Feed(2, tt.s, packet.Meta{})
			c.Gap(0, 10)
			c.Gap(255, 10)
			c.Close()
			if i := c.Info(); i.Decrypted || i.Reason == "" {
				t.Errorf("info %+v", i)
			}
		})
	}
}

func TestIsClientHello_Cases(t *testing.T) {
	streams, _ := readCapture(t, filepath.Join("testdata", "tls13_aes128gcm_openssl.pcap"))
	all := joined(streams[0])
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"capture", all[0], true},
		{"server hello", all[1], false},
		{"http", []byte("GET / HTTP/1.1\r\n"), false},
		{"short", all[0][:5], false},
		{"six bytes", all[0][:6], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsClientHello(tt.b); got != tt.want {
				t.Errorf("IsClientHello = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConn_SecretWrongLength is a regression test: a TLS 1.3 secret whose length does not match
// the suite's hash made a nil cipher that was called (found by fuzzing).
func TestConn_SecretWrongLength(t *testing.T) {
	var lines []string
	for _, l := range strings.Split(string(readKeys(t, "tls13_aes128gcm_openssl.keys")), "\n") {
		if f := strings.Fields(l); len(f) == 3 {
			lines = append(lines, f[0]+" "+f[1]+" "+testSecret)
		}
	}
	kl, errs := ParseKeylog([]byte(strings.Join(lines, "\n")))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	streams, _ := readCapture(t, filepath.Join("testdata", "tls13_aes128gcm_openssl.pcap"))
	_, info := run(streams[0], kl, feedPackets)
	if info.Decrypted || !strings.Contains(info.Reason, "does not fit") {
		t.Errorf("decrypted %v, reason %q", info.Decrypted, info.Reason)
	}
}
