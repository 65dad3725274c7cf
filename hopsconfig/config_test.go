package hopsconfig

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// configDir makes a directory with empty capture and key log files.
func configDir(t testing.TB) string {
	dir := t.TempDir()
	for _, f := range []string{"lb.pcap", "fw-1.pcap", "fw-2.pcap", "ingress.pcapng", "keylog.txt", "srv.pcap.gz"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeConfig(t testing.TB, dir, text string) string {
	p := filepath.Join(dir, "hops.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig_Example(t *testing.T) {
	dir := configDir(t)
	p := writeConfig(t, dir, `incident: INC-4711 chat messages lost      # optional label
hops:
  - name: lb
    pcap: lb.pcap
    keylog: keylog.txt
  - name: fw
    pcap: [fw-1.pcap, fw-2.pcap]
  - name: ingress
    pcap: ingress.pcapng
    server: 10.0.3.2:8080
    clock_offset: -1.5s
  - name: server
    pcap: "*.gz"
    port: 8080
`)
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	off := -1500 * time.Millisecond
	want := &Config{File: p, Incident: "INC-4711 chat messages lost", Hops: []Hop{
		{Name: "lb", Files: []string{filepath.Join(dir, "lb.pcap")}, Keylog: filepath.Join(dir, "keylog.txt"), Line: 3},
		{Name: "fw", Files: []string{filepath.Join(dir, "fw-1.pcap"), filepath.Join(dir, "fw-2.pcap")}, Line: 6},
		{Name: "ingress", Files: []string{filepath.Join(dir, "ingress.pcapng")}, Server: netip.MustParseAddrPort("10.0.3.2:8080"), ClockOffset: &off, Line: 8},
		{Name: "server", Files: []string{filepath.Join(dir, "srv.pcap.gz")}, Port: 8080, Line: 12},
	}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadConfig_Errors(t *testing.T) {
	tests := []struct {
		name, text, want string
		notExist         bool
	}{
		{"empty", "", "hops.yaml: no hops", false},
		{"no_hops_field", "incident: x\n", "hops.yaml:1: hops: no hops", false},
		{"hops_empty_list", "hops: []\n", "hops.yaml:1: hops: no hops", false},
		{"hops_null", "hops:\n", "hops.yaml:1: hops: no hops", false},
		{"not_a_mapping", "- a\n- b\n", "hops.yaml:1: expected a mapping with incident and hops", false},
		{"unknown_top_field", "hop: []\n", "hops.yaml:1: hop: unknown field", false},
		{"unknown_hop_field", "hops:\n  - name: lb\n    pcap: lb.pcap\n    pacp: x\n", "hops.yaml:4: hops[0].pacp: unknown field", false},
		{"duplicate_name", "hops:\n  - name: lb\n    pcap: lb.pcap\n  - name: lb\n    pcap: lb.pcap\n", `hops.yaml:4: hops[1].name: duplicate hop name "lb" (first at line 2)`, false},
		{"empty_name", "hops:\n  - name: ''\n    pcap: lb.pcap\n", "hops.yaml:2: hops[0].name: empty hop name", false},
		{"missing_name", "hops:\n  - pcap: lb.pcap\n", "hops.yaml:2: hops[0].name: empty hop name", false},
		{"missing_pcap", "hops:\n  - name: lb\n", "hops.yaml:2: hops[0].pcap: no capture file", false},
		{"glob_matches_nothing", "hops:\n  - name: lb\n    pcap: lb.pcap\n  - name: fw\n    pcap: fw-*.pcapng\n", `hops.yaml:5: hops[1].pcap: glob "fw-*.pcapng" matches no file`, false},
		{"glob_in_list", "hops:\n  - name: fw\n    pcap: [lb.pcap, 'x*']\n", `hops.yaml:3: hops[0].pcap[1]: glob "x*" matches no file`, false},
		{"bad_glob", "hops:\n  - name: fw\n    pcap: 'a[.pcap'\n", `hops.yaml:3: hops[0].pcap: bad glob "a[.pcap"`, false},
		{"missing_file", "hops:\n  - name: lb\n    pcap: nope.pcap\n", "hops.yaml:3: hops[0].pcap: file nope.pcap does not exist", true},
		{"missing_keylog", "hops:\n  - name: lb\n    pcap: lb.pcap\n    keylog: keys.txt\n", "hops.yaml:4: hops[0].keylog: file keys.txt does not exist", true},
		{"directory", "hops:\n  - name: lb\n    pcap: sub\n", "hops.yaml:3: hops[0].pcap: sub is not a regular file", false},
		{"pcap_mapping", "hops:\n  - name: lb\n    pcap: {a: b}\n", "hops.yaml:3: hops[0].pcap: expected a file, a glob or a list of them", false},
		{"pcap_empty_list", "hops:\n  - name: lb\n    pcap: []\n", "hops.yaml:3: hops[0].pcap: no capture file", false},
		{"bad_duration", "hops:\n  - name: lb\n    pcap: lb.pcap\n    clock_offset: 1.5\n", `hops.yaml:4: hops[0].clock_offset: bad duration "1.5": want a number with a unit, like -1.5s or 200ms`, false},
		{"huge_duration", "hops:\n  - name: lb\n    pcap: lb.pcap\n    clock_offset: 100h\n", "hops.yaml:4: hops[0].clock_offset: clock offset 100h0m0s is larger than 24h0m0s", false},
		{"bad_server", "hops:\n  - name: lb\n    pcap: lb.pcap\n    server: example.com:80\n", `hops.yaml:4: hops[0].server: bad address "example.com:80": want ip:port, [ipv6]:port or an ip`, false},
		{"bad_port", "hops:\n  - name: lb\n    pcap: lb.pcap\n    port: 70000\n", `hops.yaml:4: hops[0].port: bad port "70000": want a number from 1 to 65535`, false},
		{"server_and_port", "hops:\n  - name: lb\n    pcap: lb.pcap\n    server: 10.0.0.1:80\n    port: 80\n", "hops.yaml:5: hops[0].port: give server or port, not both", false},
		{"bad_vxlan_port", "hops:\n  - name: lb\n    pcap: lb.pcap\n    vxlan_port: [4789, x]\n", `hops.yaml:4: hops[0].vxlan_port[1]: bad port "x": want a number from 1 to 65535`, false},
		{"port_both_tunnels", "hops:\n  - name: lb\n    pcap: lb.pcap\n    vxlan_port: 9000\n    geneve_port: [7000, 9000]\n", "hops.yaml:2: hops[0].geneve_port: port 9000 is named for VXLAN and Geneve: a port carries one of them", false},
		{"bridge_first", "hops:\n  - name: lb\n    pcap: lb.pcap\n    port: 80\n    bridge: tcp\n", "hops.yaml:2: hops[0].bridge: the first hop cannot be a bridge: its streams are aligned with the messages of the hop before", false},
		{"bridge_no_port", "hops:\n  - name: lb\n    pcap: lb.pcap\n  - name: vnc\n    pcap: lb.pcap\n    bridge: tcp\n", "hops.yaml:6: hops[1].bridge: a bridge hop needs port (or server with a port): the TCP server behind the bridge", false},
		{"bridge_kind", "hops:\n  - name: lb\n    pcap: lb.pcap\n  - name: vnc\n    pcap: lb.pcap\n    port: 5900\n    bridge: udp\n", "hops.yaml:7: hops[1].bridge: bad bridge \"udp\": want tcp (the hop's capture holds the TCP side of a WebSocket-to-TCP bridge)", false},
		{"duplicate_field", "hops:\n  - name: lb\n    name: fw\n    pcap: lb.pcap\n", "hops.yaml:3: hops[0].name: duplicate field", false},
		{"hop_not_mapping", "hops:\n  - lb.pcap\n", "hops.yaml:2: hops[0]: expected a mapping with name and pcap", false},
		{"yaml_syntax", "hops:\n  - name: [lb\n", "hops.yaml:1: did not find expected ',' or ']'", false},
		{"two_documents", "hops:\n  - name: lb\n    pcap: lb.pcap\n---\nhops: []\n", "hops.yaml:4: more than one YAML document", false},
		{"alias", "x: &a lb.pcap\nhops:\n  - name: lb\n    pcap: *a\n", "hops.yaml:1: x: unknown field", false},
		{"alias_in_hop", "hops:\n  - name: lb\n    pcap: &a lb.pcap\n    keylog: *a\n", "hops.yaml:4: hops[0].keylog: YAML aliases are not supported", false},
		{"incident_list", "incident: [a]\nhops: []\n", "hops.yaml:1: incident: expected a single value", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := configDir(t)
			p := writeConfig(t, dir, tt.text)
			_, err := Load(p)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			got = strings.ReplaceAll(got, dir, "DIR")
			if got != tt.want {
				t.Errorf("error = %q\nwant    %q", got, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid")
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", !tt.notExist, tt.notExist)
			}
		})
	}
}

func TestLoadConfig_Unreadable(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || errors.Is(err, ErrInvalid) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want a not-exist error that is not ErrInvalid", err)
	}
}

// FuzzLoadConfig parses the input as hops.yaml both ways, as compare reads it (files must exist)
// and as plan does (before the captures are taken). Seeds: the hand-written examples in
// testdata/hops, every lab case's hops.yaml and plan's description of a path; the fuzz directory
// holds the files they name. Errors must wrap ErrInvalid, and whatever Load accepts LoadPlan
// accepts too.
func FuzzLoadConfig(f *testing.F) {
	var seeds []string
	for _, pat := range []string{"testdata/hops/*.yaml", "../examples/*/hops.yaml", "../plan/testdata/hops.yaml"} {
		m, _ := filepath.Glob(pat)
		seeds = append(seeds, m...)
	}
	if len(seeds) < 3 {
		f.Fatalf("%d seed files", len(seeds))
	}
	seen := map[string]bool{}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		if !seen[string(b)] {
			seen[string(b)] = true
			f.Add(b)
		}
	}
	f.Add([]byte("hops:\n  - name: lb\n    pcap: [lb.pcap, 'fw-*']\n    clock_offset: 1s\n"))
	dir := configDir(f)
	for _, name := range []string{"client.pcap", "lb-1.pcap", "fw.pcap", "ingress.pcap", "server.pcap", "keys.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig("hops.yaml", data, dir)
		checkParsed(t, cfg, err)
		planned, perr := (&configParser{file: "hops.yaml", dir: dir, plan: true}).parse(data)
		checkParsed(t, planned, perr)
		if err == nil && perr != nil {
			t.Fatalf("Load accepts what LoadPlan refuses: %v", perr)
		}
	})
}

// checkParsed checks a parse result of FuzzLoadConfig: an error wrapping ErrInvalid and naming
// the file, or hops with distinct names and files.
func checkParsed(t *testing.T, cfg *Config, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "hops.yaml") {
			t.Fatalf("error %v does not wrap ErrInvalid or name the file", err)
		}
		return
	}
	if len(cfg.Hops) == 0 {
		t.Fatal("a configuration without hops was accepted")
	}
	names := map[string]bool{}
	for _, h := range cfg.Hops {
		if h.Name == "" || names[h.Name] || len(h.Files) == 0 {
			t.Fatalf("bad hop accepted: %+v", h)
		}
		names[h.Name] = true
	}
}

func TestLoadConfig_Dropped(t *testing.T) {
	dir := configDir(t)
	cfg, err := Load(writeConfig(t, dir, "hops:\n  - name: lb\n    pcap: lb.pcap\n    dropped: 2,444\n  - name: fw\n    pcap: fw-1.pcap\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hops[0].Dropped != 2444 || cfg.Hops[1].Dropped != 0 {
		t.Errorf("dropped = %d, %d; want 2444, 0", cfg.Hops[0].Dropped, cfg.Hops[1].Dropped)
	}
	for _, bad := range []string{"-3", "many", "1.5"} {
		_, err := Load(writeConfig(t, dir, "hops:\n  - name: lb\n    pcap: lb.pcap\n    dropped: "+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), "hops.yaml:4: hops[0].dropped: bad packet count") {
			t.Errorf("dropped: %s: err = %v, want a bad packet count at line 4", bad, err)
		}
	}
}

func TestLoadConfig_TunnelPorts(t *testing.T) {
	dir := configDir(t)
	cfg, err := Load(writeConfig(t, dir, "hops:\n  - name: lb\n    pcap: lb.pcap\n    vxlan_port: 9999\n    geneve_port: [7000, 7001]\n  - name: fw\n    pcap: fw-1.pcap\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Hops[0]
	if !slices.Equal(h.VXLANPorts, []uint16{9999}) || !slices.Equal(h.GenevePorts, []uint16{7000, 7001}) || cfg.Hops[1].VXLANPorts != nil {
		t.Errorf("ports %v %v, next hop %v", h.VXLANPorts, h.GenevePorts, cfg.Hops[1].VXLANPorts)
	}
}
