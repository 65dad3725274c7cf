package pcapfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// name is an if_name option.
func name(s string) ngOpt { return ngOpt{optIfName, []byte(s)} }

// ifaceRow is a packet as these tests check it: interface ID and name, time, data.
func ifaceRow(p Packet) string {
	return fmt.Sprintf("%d:%s@%s:%s", p.Interface.ID, p.Interface, epoch(p.Time), p.Data)
}

func TestReader_Interfaces(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name  string
		data  []byte
		want  []string // ifaceRow of each packet
		names []string // Interfaces, by String
	}{
		{"pcap_one_unnamed", newPcap(le, false, 1).packet(time.Unix(1, 0), []byte("a"), 1).b,
			[]string{"0:interface 0@1.000000000:a"}, []string{"interface 0"}},
		{"two_named_each_its_resolution_and_offset", newNg(le).
			iface(1, 0, name("eth0")).
			iface(1, 0, name("eth1"), ngOpt{optTsResol, []byte{9}}, ngOpt{optTsOffset, le.AppendUint64(nil, 100)}).
			epb(0, 1_000_001, []byte("a"), 1).epb(1, 1_000_000_002, []byte("b"), 1).epb(0, 2_000_000, []byte("c"), 1).b,
			[]string{"0:eth0@1.000001000:a", "1:eth1@101.000000002:b", "0:eth0@2.000000000:c"}, []string{"eth0", "eth1"}},
		{"name_nul_padded", newNg(be).iface(276, 0, name("any\x00\x00")).epb(0, 0, []byte("a"), 1).b,
			[]string{"0:any@0.000000000:a"}, []string{"any"}},
		{"name_not_utf8", newNg(le).iface(1, 0, name("e\xfft")).epb(0, 0, []byte("a"), 1).b,
			[]string{"0:e\uFFFDt@0.000000000:a"}, []string{"e\uFFFDt"}},
		{"sections_redeclare_by_name", append(
			newNg(le).iface(1, 0, name("eth0")).iface(1, 0, name("eth1")).epb(1, 1, []byte("a"), 1).b,
			newNg(be).iface(1, 0, name("eth1")).iface(1, 0, name("eth2")).iface(1, 0, name("eth0")).
				epb(0, 2, []byte("b"), 1).epb(1, 3, []byte("c"), 1).epb(2, 4, []byte("d"), 1).b...),
			[]string{"1:eth1@0.000001000:a", "1:eth1@0.000002000:b", "2:eth2@0.000003000:c", "0:eth0@0.000004000:d"},
			[]string{"eth0", "eth1", "eth2"}},
		{"sections_unnamed_by_index", append(
			newNg(le).iface(1, 0).iface(1, 0).epb(1, 1, []byte("a"), 1).b,
			newNg(le).iface(1, 0).epb(0, 2, []byte("b"), 1).b...),
			[]string{"1:interface 1@0.000001000:a", "0:interface 0@0.000002000:b"}, []string{"interface 0", "interface 1"}},
		{"obsolete_and_simple_blocks", newNg(le).iface(1, 0, name("lo")).iface(1, 0, name("eth0")).
			opb(1, 5, []byte("a")).spb([]byte("b"), 1).b,
			[]string{"1:eth0@0.000005000:a", "0:lo@0.000005000:b"}, []string{"lo", "eth0"}},
		{"late_declaration", newNg(le).iface(1, 0, name("eth0")).epb(0, 1, []byte("a"), 1).
			iface(1, 0, name("eth1")).epb(1, 2, []byte("b"), 1).b,
			[]string{"0:eth0@0.000001000:a", "1:eth1@0.000002000:b"}, []string{"eth0", "eth1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ifaceRow(p))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("packets\n got %q\nwant %q", got, tt.want)
			}
			var names []string
			for i, f := range r.Interfaces() {
				if f.ID != i {
					t.Errorf("interface %d has ID %d", i, f.ID)
				}
				names = append(names, f.String())
			}
			if strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Errorf("Interfaces %q, want %q", names, tt.names)
			}
		})
	}
}

func TestMerger_Interfaces(t *testing.T) {
	le := binary.LittleEndian
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// dumpcap -b rotation: the same two interfaces in each file; another capture's file adds a
	// third, declared in another order; a pcap file's one interface is unnamed.
	a := write("a", newNg(le).iface(1, 0, name("eth0")).iface(1, 0, name("eth1")).
		epb(0, 1, []byte("a1"), 2).epb(1, 4, []byte("a2"), 2).b)
	b := write("b", newNg(le).iface(1, 0, name("eth1")).iface(1, 0, name("eth0")).iface(1, 0, name("eth2")).
		epb(0, 2, []byte("b1"), 2).epb(2, 3, []byte("b2"), 2).epb(1, 5, []byte("b3"), 2).b)
	c := write("c", newPcap(le, false, 1).packet(time.Unix(0, 6000), []byte("c1"), 2).b)
	tests := []struct {
		name  string
		paths []string
		want  string
		names string
	}{
		{"rotated_and_reordered", []string{a, b}, "0:a1 1:b1 2:b2 1:a2 0:b3", "eth0 eth1 eth2"},
		{"other_file_first", []string{b, a}, "1:a1 0:b1 2:b2 0:a2 1:b3", "eth1 eth0 eth2"},
		{"with_pcap", []string{a, c}, "0:a1 1:a2 2:c1", "eth0 eth1 interface 2"},
		{"one_file", []string{b}, "0:b1 2:b2 1:b3", "eth1 eth0 eth2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := OpenAll(tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var names []string
			for _, f := range m.Interfaces() {
				names = append(names, f.String())
			}
			if got := strings.Join(names, " "); got != tt.names {
				t.Errorf("Interfaces before reading %q, want %q", got, tt.names)
			}
			var got []string
			for {
				p, err := m.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if fs := m.Interfaces(); p.Interface != fs[p.Interface.ID] {
					t.Errorf("%s: interface %v is not Interfaces()[%d]", p.Data, p.Interface, p.Interface.ID)
				}
				got = append(got, fmt.Sprintf("%d:%s", p.Interface.ID, p.Data))
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}
