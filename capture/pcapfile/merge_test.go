package pcapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMerger_Order(t *testing.T) {
	dir := t.TempDir()
	// file writes a pcap whose packets carry their label as data, at the given seconds.
	file := func(name string, secs ...int) string {
		f := newPcap(binary.LittleEndian, false, 1)
		for i, s := range secs {
			f.packet(time.Unix(int64(s), 0), []byte(fmt.Sprintf("%s%d", name, i+1)), 2)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, f.b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := file("a", 1, 3, 5), file("b", 2, 3, 3, 4), file("c")
	d := file("d", 0, 6)
	data, _ := os.ReadFile(d)
	os.WriteFile(d, data[:len(data)-1], 0o644) // d's second packet is cut

	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"interleaved_ties_in_file_order", []string{a, b}, "a1 b1 a2 b2 b3 b4 a3 EOF"},
		{"ties_follow_argument_order", []string{b, a}, "a1 b1 b2 b3 a2 b4 a3 EOF"},
		{"empty_file", []string{c, a}, "a1 a2 a3 EOF"},
		{"none", nil, "EOF"},
		{"truncated_file_leaves_merge", []string{a, d}, "d1 ERR(d: packet 2) a1 a2 a3 EOF"},
		{"one_file", []string{a}, "a1 a2 a3 EOF"},
		{"one_truncated_file", []string{d}, "d1 ERR(d: packet 2) EOF"},
	}
	next := map[string]func(*Merger) (*Packet, error){
		"Next": func(m *Merger) (*Packet, error) {
			p, err := m.Next()
			return &p, err
		},
		"NextPacket": (*Merger).NextPacket,
	}
	for _, tt := range tests {
		for _, method := range []string{"Next", "NextPacket"} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				m, err := OpenAll(tt.paths)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				var got []string
				for range 20 { // bounded: a merge that never ends fails below
					p, err := next[method](m)
					if err == io.EOF {
						got = append(got, "EOF")
						break
					}
					if err != nil {
						var e *Error
						if !errors.As(err, &e) || !errors.Is(err, ErrTruncated) {
							t.Fatalf("error %v", err)
						}
						got = append(got, fmt.Sprintf("ERR(%s: packet %d)", filepath.Base(e.File), e.Packet))
						continue
					}
					got = append(got, string(p.Data))
				}
				if s := strings.Join(got, " "); s != tt.want {
					t.Errorf("got  %s\nwant %s", s, tt.want)
				}
				if p, err := next[method](m); err != io.EOF || p != nil && p.Data != nil {
					t.Errorf("after the end: %v, %v", p, err)
				}
				if len(m.Infos()) != len(tt.paths) {
					t.Errorf("Infos: %d", len(m.Infos()))
				}
			})
		}
	}
}

func TestMerger_RealFiles(t *testing.T) {
	paths := []string{"testdata/any-sll2.pcap", "testdata/lo.pcap.gz", "testdata/tls-dsb.pcapng"}
	m, err := OpenAll(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var last time.Time
	n := map[string]int{}
	for {
		p, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Time.Before(last) {
			t.Fatalf("%s packet %d at %v goes back from %v", p.File, p.Number, p.Time, last)
		}
		last = p.Time
		n[p.File]++
		if p.Number != n[p.File] {
			t.Fatalf("%s: packet %d out of file order", p.File, p.Number)
		}
	}
	infos := m.Infos()
	for i, p := range paths {
		if infos[i].Name != p || infos[i].Packets != n[p] || n[p] == 0 {
			t.Errorf("%s: info %+v, %d packets merged", p, infos[i], n[p])
		}
	}
	if keylog, _ := os.ReadFile("testdata/tls-keylog.txt"); string(m.Secrets()) != string(keylog) {
		t.Errorf("Secrets: %q", m.Secrets())
	}
	if m.SecretsSize() != len(m.Secrets()) {
		t.Errorf("SecretsSize %d, Secrets %d bytes", m.SecretsSize(), len(m.Secrets()))
	}
}

func TestOpenAll_MissingFile(t *testing.T) {
	_, err := OpenAll([]string{"testdata/lo.pcap", "testdata/missing.pcap"})
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "testdata/missing.pcap: ") {
		t.Errorf("error %v", err)
	}
}
