package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// TestRun_CommandLine checks what a new user meets first: usage, help, versions, typos, and the
// common mistakes with compare's arguments.
func TestRun_CommandLine(t *testing.T) {
	ex := func(p ...string) string {
		return filepath.Join(append([]string{"..", "..", "examples", "c2s-drop"}, p...)...)
	}
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdout    []string
		stderr    []string
		notStderr []string
		emptyOut  bool
	}{
		{name: "no command", args: nil, code: exitError, stdout: []string{"USAGE", "compare", "inspect"}},
		{name: "help", args: []string{"help"}, code: exitOK, stdout: []string{"compare", "inspect", "init"}},
		{name: "help compare", args: []string{"help", "compare"}, code: exitOK,
			stdout: []string{"hops.yaml lists the hops", "pcap:", "keylog:", "clock_offset:", "Exit status"}},
		{name: "compare --help", args: []string{"compare", "--help"}, code: exitOK, stdout: []string{"hops.yaml lists the hops"}},
		{name: "version", args: []string{"--version"}, code: exitOK, stdout: []string{"wspath version "}},
		{name: "typo", args: []string{"comapre"}, code: exitError, stderr: []string{`"comapre" is not a wspath command`, `did you mean "compare"?`}, emptyOut: true},
		{name: "far typo", args: []string{"frobnicate"}, code: exitError, stderr: []string{`"frobnicate" is not`}, notStderr: []string{"did you mean"}},
		{name: "flag typo", args: []string{"compare", "--formt", "json", ex("hops.yaml")}, code: exitError, stdout: []string{`Did you mean "--format"?`}},
		{name: "compare one capture", args: []string{"compare", ex("fw.pcap")}, code: exitError,
			stderr: []string{"compare takes hops.yaml; for one capture use inspect"}, notStderr: []string{"UTF-8"}},
		{name: "compare quick", args: []string{"compare", ex("client.pcap"), ex("fw.pcap"), ex("server.pcap")}, code: exitLoss,
			stdout: []string{"LOST at server (between fw and server)", "│ client │ fw │ server │"}},
		{name: "compare quick with yaml", args: []string{"compare", ex("hops.yaml"), ex("fw.pcap")}, code: exitError,
			stderr: []string{"give one hops.yaml alone"}},
		{name: "compare quick missing", args: []string{"compare", ex("client.pcap"), ex("nope.pcap")}, code: exitError,
			stderr: []string{"hop 2", "nope.pcap"}},
		{name: "output to stdout", args: []string{"compare", ex("hops.yaml"), "-f", "json", "-o", "-"}, code: exitLoss,
			stdout: []string{`"schema": "wspath.compare/v1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runWspath(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr %q", code, tc.code, stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, n := range tc.notStderr {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr has %q:\n%s", n, stderr)
				}
			}
			if tc.emptyOut && stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
		})
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error("-o - created a file named -")
		os.Remove("-")
	}
}

// TestRun_OutputErrorsNameTheFile: a report that cannot be written names the file asked for, never
// the temporary file wspath writes first.
func TestRun_OutputErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "missing-dir", "report.md")
	code, _, stderr := runWspath(t, "compare", filepath.Join("..", "..", "examples", "c2s-drop", "hops.yaml"), "-o", out)
	if code != exitError || !strings.Contains(stderr, out) || strings.Contains(stderr, ".tmp") {
		t.Errorf("exit %d, stderr %q: want 2 naming %s and no temporary file", code, stderr, out)
	}
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hops.yaml")
	if code, _, stderr := runWspath(t, "init", path); code != exitOK {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != hopsTemplate {
		t.Fatalf("init wrote %q, %v", b, err)
	}
	if code, _, stderr := runWspath(t, "init", path); code != exitError || !strings.Contains(stderr, "already exists") {
		t.Errorf("second init: exit %d, %q: want it to keep the file", code, stderr)
	}
	// Once the captures exist, compare reads the template as it is.
	// (each hop's own capture: the same file for two hops is refused)
	for f, from := range map[string]string{"client.pcap00": "client.pcap", "lb-1.pcap": "lb-1.pcap", "server.pcap00": "server.pcap"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", "healthy", from))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), src, 0o644)
	}
	if code, _, stderr := runWspath(t, "compare", path); code == exitError {
		t.Errorf("compare on the init template: %s", stderr)
	}
	code, stdout, stderr := runWspath(t, "plan", path)
	if code != exitOK || strings.Count(stdout, "sudo tcpdump") != 3 || !strings.Contains(stdout, "-w client.pcap ") {
		t.Errorf("plan on the init template: exit %d, %s\n%s", code, stderr, stdout)
	}
}

func TestDescribeBuild(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-28T00:00:00Z"},
		{Key: "vcs.modified", Value: "true"}}}
	if got, want := describeBuild(bi), "v1.2.3 (revision 0123456789ab with local changes, 2026-11-28T00:00:00Z, go1.26.8)"; got != want {
		t.Errorf("describeBuild = %q, want %q", got, want)
	}
}

func TestNearest(t *testing.T) {
	cmds := []string{"compare", "inspect", "plan", "probe", "init"}
	for in, want := range map[string]string{"comapre": "compare", "inspcet": "inspect", "prob": "probe", "xyzzy": "", "compare": "compare"} {
		if got := nearest(in, cmds); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRun_ColumnsFitsTheTable: COLUMNS narrows the default report; without a terminal, no colour.
func TestRun_ColumnsFitsTheTable(t *testing.T) {
	t.Setenv("COLUMNS", "72")
	_, stdout, _ := runWspath(t, "compare", filepath.Join("..", "..", "examples", "concurrent", "hops.yaml"))
	for i, l := range strings.Split(stdout, "\n") {
		if n := len([]rune(l)); n > 72 {
			t.Errorf("line %d has %d columns: %q", i+1, n, l)
		}
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Error("colour written to a non-terminal")
	}
	if !strings.Contains(stdout, "29 more connection(s) delivered") || !strings.Contains(stdout, "connection 17") {
		t.Errorf("want connection 17 listed and 29 collapsed:\n%s", stdout)
	}
}

func TestProbe_Errors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"probe"}, "want one ws:// or wss:// URL"},
		{[]string{"probe", "http://example.test/"}, "want a ws:// or wss:// URL"},
		{[]string{"probe", "ws://127.0.0.1:1/", "--sizes", "a,b"}, "--sizes"},
		{[]string{"probe", "ws://127.0.0.1:1/", "--text", "--binary"}, "text or binary"},
	} {
		code, _, stderr := runWspath(t, tc.args...)
		if code != exitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
