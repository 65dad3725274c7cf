package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// runWspath runs the command in-process and returns its exit status and outputs.
func runWspath(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"wspath"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestFlagsFirst(t *testing.T) {
	cmds := []*cli.Command{compareCommand(), inspectCommand()}
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"wspath", "compare", "hops.yaml", "-f", "json"}, []string{"wspath", "compare", "-f", "json", "--", "hops.yaml"}},
		{[]string{"wspath", "compare", "-f", "json", "hops.yaml"}, []string{"wspath", "compare", "-f", "json", "--", "hops.yaml"}},
		{[]string{"wspath", "inspect", "a.pcap", "--messages", "b.pcap", "--format=markdown"},
			[]string{"wspath", "inspect", "--messages", "--format=markdown", "--", "a.pcap", "b.pcap"}},
		{[]string{"wspath", "inspect", "--", "-odd.pcap"}, []string{"wspath", "inspect", "--", "-odd.pcap"}},
		{[]string{"wspath", "--help"}, []string{"wspath", "--help"}},
	} {
		if got := flagsFirst(tc.in, cmds); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("flagsFirst(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRun_Errors checks that bad input gives exit status 2 and a message naming the file and place.
func TestRun_Errors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notCapture := write("notes.pcap", "this is not a capture file at all")
	badYAML := write("bad.yaml", "hops:\n  - name: lb\n    pcap: [unclosed\n")
	unknownField := write("unknown.yaml", "hops:\n  - name: lb\n    pcap: notes.pcap\n    colour: blue\n")
	dupNames := write("dup.yaml", "hops:\n  - name: lb\n    pcap: notes.pcap\n  - name: lb\n    pcap: notes.pcap\n")
	missingPcap := write("missing.yaml", "hops:\n  - name: lb\n    pcap: nowhere.pcap\n")
	notCaptureHop := write("notcap.yaml", "hops:\n  - name: lb\n    pcap: notes.pcap\n")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"inspect missing file", []string{"inspect", filepath.Join(dir, "nope.pcap")}, []string{"nope.pcap"}},
		{"inspect directory", []string{"inspect", dir}, []string{dir}},
		{"inspect not a capture", []string{"inspect", notCapture}, []string{"notes.pcap"}},
		{"inspect no file", []string{"inspect"}, []string{"no capture file"}},
		{"inspect bad format", []string{"inspect", notCapture, "-f", "xml"}, []string{`unknown format "xml"`}},
		{"compare missing yaml", []string{"compare", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml"}},
		{"compare invalid yaml", []string{"compare", badYAML}, []string{"bad.yaml:"}},
		{"compare unknown field", []string{"compare", unknownField}, []string{"unknown.yaml:4", "colour"}},
		{"compare duplicate hop", []string{"compare", dupNames}, []string{"dup.yaml:4", "lb"}},
		{"compare missing capture", []string{"compare", missingPcap}, []string{"missing.yaml:3", "nowhere.pcap"}},
		{"compare not a capture", []string{"compare", notCaptureHop}, []string{"hop lb", "notes.pcap"}},
		{"compare no args", []string{"compare"}, []string{"hops.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runWspath(t, tc.args...)
			if code != exitError {
				t.Errorf("exit status %d, want %d; stderr %q", code, exitError, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			if strings.Contains(stderr, "panic") {
				t.Errorf("panic: %s", stderr)
			}
		})
	}
}

func TestRun_OutputIsAtomic(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	os.WriteFile(out, []byte("previous report"), 0o644)
	code, _, _ := runWspath(t, "inspect", filepath.Join(dir, "nope.pcap"), "-o", out)
	if code != exitError {
		t.Fatalf("exit %d", code)
	}
	if b, _ := os.ReadFile(out); string(b) != "previous report" {
		t.Errorf("a failed run changed the output file: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestRun_BrokenHopStillReported: a hop whose file is not a capture fails the run (exit 2, the
// file named), but the report of what could be read is still written.
func TestRun_BrokenHopStillReported(t *testing.T) {
	dir := t.TempDir()
	client, _ := filepath.Abs(filepath.Join("..", "..", "examples", "healthy", "client.pcap"))
	os.WriteFile(filepath.Join(dir, "lb.pcap"), []byte("an HTML error page, not a capture"), 0o644)
	yaml := "hops:\n  - name: client\n    pcap: " + client + "\n  - name: lb\n    pcap: lb.pcap\n"
	os.WriteFile(filepath.Join(dir, "hops.yaml"), []byte(yaml), 0o644)
	code, stdout, stderr := runWspath(t, "compare", filepath.Join(dir, "hops.yaml"), "-f", "json")
	if code != exitError || !strings.Contains(stderr, "hop lb") || !strings.Contains(stderr, "lb.pcap") {
		t.Fatalf("exit %d, stderr %q: want 2 naming hop lb and lb.pcap", code, stderr)
	}
	if !strings.Contains(stdout, `"verdict": "undecided"`) || !strings.Contains(stdout, `"name": "client"`) {
		t.Errorf("the readable hop was not reported:\n%.600s", stdout)
	}
}
