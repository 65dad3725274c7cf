package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun_Broken runs the command on every input of testdata/broken (see its README.md) and checks
// the exit status and the exact message naming the file and the place: a broken capture or
// hops.yaml is an error (exit 2); a capture that is only damaged, or hostile, is read and the
// damage is reported in the output.
func TestRun_Broken(t *testing.T) {
	const dir = "testdata/broken"
	p := func(name string) string { return filepath.Join(dir, name) }
	jsonMessage := func(text string) string { return `"message": "` + text + `"` }
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // each must appear in stderr
		stdout []string // each must appear in stdout
	}{
		{"empty file", []string{"inspect", p("empty.pcap")}, exitError,
			[]string{"wspath: " + p("empty.pcap") + ": offset 0: truncated capture file: empty file\n"}, nil},
		{"text file", []string{"inspect", p("notes.pcap")}, exitError,
			[]string{"wspath: " + p("notes.pcap") + ": offset 0: not a pcap or pcapng capture file: bad magic 0x54686573\n"}, nil},
		{"bad magic", []string{"inspect", p("bad-magic.pcap")}, exitError,
			[]string{"wspath: " + p("bad-magic.pcap") + ": offset 0: not a pcap or pcapng capture file: bad magic 0xd4c3b200\n"}, nil},
		{"truncated global header", []string{"inspect", p("truncated-header.pcap")}, exitError,
			[]string{"wspath: " + p("truncated-header.pcap") + ": offset 0: truncated capture file: pcap file header of 24 bytes cut after 10\n"}, nil},
		{"gzip of garbage", []string{"inspect", p("garbage.pcap.gz")}, exitError,
			[]string{"wspath: " + p("garbage.pcap.gz") + ": offset 0: not a pcap or pcapng capture file: bad magic 0x"}, nil},
		{"missing file", []string{"inspect", p("nowhere.pcap")}, exitError,
			[]string{"wspath: ", p("nowhere.pcap")}, nil},
		{"directory", []string{"inspect", dir}, exitError, []string{"wspath: ", dir}, nil},
		{"one good file, one broken", []string{"inspect", p("malicious-long-control.pcap"), p("notes.pcap")}, exitError,
			[]string{p("notes.pcap") + ": offset 0: not a pcap"}, nil},
		{"truncated last packet", []string{"inspect", p("truncated-last-packet.pcap")}, exitOK, nil, []string{
			"1 WebSocket connection(s) in 67 packet(s) from 1 file(s)\n",
			"warning: " + p("truncated-last-packet.pcap") + ": packet 68 (offset 8066): truncated capture file: packet record of 82 bytes cut after 62\n"}},
		{"pcapng cut mid-block", []string{"inspect", p("cut-mid-block.pcapng")}, exitOK, nil, []string{
			"1 WebSocket connection(s) in 67 packet(s) from 1 file(s)\n",
			"warning: " + p("cut-mid-block.pcapng") + ": packet 68 (offset 9328): truncated capture file: enhanced packet block of 100 bytes cut after 50\n"}},
		{"unknown link type", []string{"inspect", p("unknown-linktype.pcap")}, exitOK, nil, []string{
			"0 WebSocket connection(s) in 68 packet(s) from 1 file(s)\n",
			"warning: " + p("unknown-linktype.pcap") + ": packet 1: link type linktype_147 is not supported: 68 packet(s) from here on skipped\n"}},
		{"snap length 40", []string{"inspect", p("snaplen40.pcap")}, exitOK, nil, []string{
			"warning: " + p("snaplen40.pcap") + ": packet 1: snap length: 68 packet(s) from here on cut before the end of their TCP/IP headers (this one after 40 bytes) were not read"}},
		{"key log with bad lines", []string{"inspect", "--keylog", p("bad-keylog.txt"), p("malicious-long-control.pcap")}, exitOK, nil, []string{
			"warning: " + p("bad-keylog.txt") + ": line 2: CLIENT_RANDOM: client random is not 64 hex digits\n",
			"warning: " + p("bad-keylog.txt") + ": line 3: CLIENT_HANDSHAKE_TRAFFIC_SECRET: client random is not 64 hex digits\n",
			"warning: " + p("bad-keylog.txt") + ": line 4: expected LABEL <hex> <hex>\n"}},
		{"missing key log", []string{"inspect", "--keylog", p("nowhere.txt"), p("malicious-long-control.pcap")}, exitError,
			[]string{"key log: ", p("nowhere.txt")}, nil},
		// The hostile frames are checked in the JSON output: it does not depend on table widths.
		{"reserved opcode", []string{"inspect", "-m", "-f", "json", p("malicious-reserved-opcode.pcap")}, exitOK, nil, []string{
			jsonMessage("wsframe: reserved opcode at stream offset 238 (" + p("malicious-reserved-opcode.pcap") + " packet 10)"),
			`"preview": "hello"`}},
		{"length 2^63", []string{"inspect", "-m", "-f", "json", p("malicious-length-2p63.pcap")}, exitOK, nil, []string{
			jsonMessage("wsframe: 64-bit payload length with the most significant bit set at stream offset 238 (" + p("malicious-length-2p63.pcap") + " packet 10)"),
			`"preview": "hello"`}},
		{"control frame of 200 bytes", []string{"inspect", "-m", "-f", "json", p("malicious-long-control.pcap")}, exitOK, nil, []string{
			jsonMessage("wsframe: control frame payload longer than 125 bytes at stream offset 238 (" + p("malicious-long-control.pcap") + " packet 10)"),
			`"preview": "hello"`, `"preview": "after"`}},
		{"deflate bomb", []string{"inspect", "-m", "-f", "json", p("malicious-deflate-bomb.pcap")}, exitOK, nil, []string{
			`"kind": "limit"`, `"message": "message 1: wsframe: inflated message too large: more than 67108864 bytes"`,
			`"length": 67108864`, "\"compressed\",\n            \"oversize\"", `"preview": "after"`}},
		{"invalid yaml", []string{"compare", p("invalid.yaml")}, exitError,
			[]string{"wspath: " + p("invalid.yaml") + ":2: did not find expected ',' or ']'\n"}, nil},
		{"unknown hop field", []string{"compare", p("unknown-field.yaml")}, exitError,
			[]string{"wspath: " + p("unknown-field.yaml") + ":4: hops[0].colour: unknown field\n"}, nil},
		{"duplicate hop names", []string{"compare", p("duplicate-names.yaml")}, exitError,
			[]string{"wspath: " + p("duplicate-names.yaml") + `:4: hops[1].name: duplicate hop name "lb" (first at line 2)` + "\n"}, nil},
		{"hop capture missing", []string{"compare", p("missing-file.yaml")}, exitError,
			[]string{"wspath: " + p("missing-file.yaml") + ":3: hops[0].pcap: file " + p("nowhere.pcap") + " does not exist\n"}, nil},
		{"bad clock offset", []string{"compare", p("bad-clock-offset.yaml")}, exitError,
			[]string{"wspath: " + p("bad-clock-offset.yaml") + `:4: hops[0].clock_offset: bad duration "3 seconds": want a number with a unit, like -1.5s or 200ms` + "\n"}, nil},
		{"hop key log with bad lines", []string{"compare", p("keylog-bad-lines.yaml")}, exitOK, nil, []string{
			"warning: lb: " + p("bad-keylog.txt") + ": line 2: CLIENT_RANDOM: client random is not 64 hex digits\n",
			"warning: lb: " + p("bad-keylog.txt") + ": line 4: expected LABEL <hex> <hex>\n"}},
		{"hop key log that is no key log", []string{"compare", p("keylog-garbage.yaml")}, exitError,
			[]string{"wspath: hop lb: key log " + p("garbage-keylog.txt") + ": line 1: expected LABEL <hex> <hex>"},
			[]string{"warning: lb: key log " + p("garbage-keylog.txt"), "│ srv "}},
		{"key log that is no key log", []string{"inspect", "--keylog", p("garbage-keylog.txt"), p("malicious-long-control.pcap")}, exitError,
			[]string{"wspath: key log " + p("garbage-keylog.txt") + ": line 1: expected LABEL <hex> <hex>"}, nil},
		{"missing hops.yaml", []string{"compare", p("nowhere.yaml")}, exitError, []string{"wspath: ", p("nowhere.yaml")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runWspath(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout %s\nstderr %s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q\nlacks %q", stderr, w)
				}
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout %q\nlacks %q", stdout, w)
				}
			}
			if tc.code == exitError && strings.Count(stderr, "\n") != 1 {
				t.Errorf("want one line of error, got %q", stderr)
			}
			if strings.Contains(stderr+stdout, "panic") || strings.Contains(stderr+stdout, "goroutine") {
				t.Errorf("panic: %s%s", stdout, stderr)
			}
		})
	}
}

// TestRun_BrokenCorpusListed checks that every file of testdata/broken is in its README table.
func TestRun_BrokenCorpusListed(t *testing.T) {
	readme, err := os.ReadFile("testdata/broken/README.md")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "README.md" && !strings.Contains(string(readme), "`"+e.Name()+"`") {
			t.Errorf("%s is not in testdata/broken/README.md", e.Name())
		}
	}
}
