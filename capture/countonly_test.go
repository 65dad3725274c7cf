package capture

import (
	"path/filepath"
	"testing"
)

// TestRead_CountOnly reads real captures (plaintext, permessage-deflate, TLS with and without
// keys, many connections) both ways: with CountOnly no message and no TLS record is kept, and the
// counts are those of the messages a full read keeps.
func TestRead_CountOnly(t *testing.T) {
	cases := []struct {
		name   string
		files  string
		keylog string
	}{
		{"ipv6", "testdata/ipv6-loopback.pcap", ""},
		{"deflate", "../examples/healthy/lb*.pcap", ""},
		{"tls-keys", "../examples/tls-c2s-drop/client*.pcap", "../examples/tls-c2s-drop/keys.txt"},
		{"tls-nokeys", "../examples/tls-nokeys/client*.pcap", ""},
		{"concurrent", "../examples/concurrent/fw*.pcap", ""},
		{"tls-nokeys-both", "../examples/tls-nokeys-both/lb*.pcap", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, _ := filepath.Glob(tc.files)
			if len(files) == 0 {
				t.Fatalf("no files match %s", tc.files)
			}
			opts := Options{}
			if tc.keylog != "" {
				opts.KeylogFiles = []string{tc.keylog}
			}
			full, err := Read(files, opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.CountOnly = true
			counted, err := Read(files, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(full.Sessions) == 0 || len(full.Sessions) != len(counted.Sessions) {
				t.Fatalf("sessions: %d full, %d counted", len(full.Sessions), len(counted.Sessions))
			}
			for i, s := range counted.Sessions {
				f := full.Sessions[i]
				for _, dir := range Directions {
					var want Counts
					for _, m := range f.Messages(dir) {
						switch {
						case m.Opcode.IsData():
							want.Data++
						default:
							want.Control++
						}
						if m.Flags.Has(Incomplete) {
							want.Incomplete++
						}
					}
					if f.Counts(dir) != want || s.Counts(dir) != want {
						t.Errorf("session %d %s: counts %+v full, %+v counted, want %+v", s.ID, dir, f.Counts(dir), s.Counts(dir), want)
					}
					if len(s.Messages(dir)) != 0 {
						t.Errorf("session %d %s: %d messages kept", s.ID, dir, len(s.Messages(dir)))
					}
					if f.TLS() != nil {
						if n := len(f.TLS().Records[dir]); s.TLS().RecordCount[dir] != n || f.TLS().RecordCount[dir] != n || len(s.TLS().Records[dir]) != 0 {
							t.Errorf("session %d %s: records %d full, counts %d/%d, %d kept", s.ID, dir, n, f.TLS().RecordCount[dir], s.TLS().RecordCount[dir], len(s.TLS().Records[dir]))
						}
					}
				}
			}
		})
	}
}
