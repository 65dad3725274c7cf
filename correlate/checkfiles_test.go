package correlate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wspath/wspath/hopsconfig"
)

// TestCheckFiles covers files of equal size that differ at the start, only in the middle (where
// the fingerprint of their ends cannot see it), not at all, and copies at the same hop.
func TestCheckFiles(t *testing.T) {
	base := make([]byte, 300<<10)
	for i := range base {
		base[i] = byte(i * 7)
	}
	changed := func(at int) []byte {
		b := append([]byte(nil), base...)
		b[at] ^= 1
		return b
	}
	tests := []struct {
		name  string
		files [][]byte // one per hop
		hops  []string
		same  bool
	}{
		{"differ at the start", [][]byte{base, changed(10)}, []string{"a", "b"}, false},
		{"differ in the middle", [][]byte{base, changed(150 << 10)}, []string{"a", "b"}, false},
		{"differ at the end", [][]byte{base, changed(300<<10 - 1)}, []string{"a", "b"}, false},
		{"copies at two hops", [][]byte{base, changed(5), base}, []string{"a", "b", "c"}, true},
		{"copies at one hop", [][]byte{base, base, changed(5)}, []string{"a", "a", "b"}, false},
		{"small copies", [][]byte{[]byte("tiny"), []byte("tiny")}, []string{"a", "b"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := &hopsconfig.Config{}
			for i, b := range tt.files {
				p := filepath.Join(dir, string(rune('0'+i))+".pcap")
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if n := len(cfg.Hops); n > 0 && cfg.Hops[n-1].Name == tt.hops[i] {
					cfg.Hops[n-1].Files = append(cfg.Hops[n-1].Files, p)
					continue
				}
				cfg.Hops = append(cfg.Hops, hopsconfig.Hop{Name: tt.hops[i], Files: []string{p}})
			}
			err := CheckFiles(cfg)
			if got := errors.Is(err, ErrSameCapture); got != tt.same {
				t.Errorf("CheckFiles = %v, want same capture %v", err, tt.same)
			}
		})
	}
}
