package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCompletion_Bash sources the generated script in a real bash and asks it to complete.
func TestCompletion_Bash(t *testing.T) {
	code, script, stderr := runWspath(t, "completion", "bash")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	path := filepath.Join(t.TempDir(), "wspath.bash")
	os.WriteFile(path, []byte(script), 0o644)
	for _, tc := range []struct {
		words string // the command line, the last word being completed
		want  []string
		never []string
	}{
		{"wspath com", []string{"compare", "completion"}, []string{"inspect"}},
		{"wspath compare --f", []string{"--format"}, []string{"--count"}},
		{"wspath compare -f ", []string{"table", "markdown", "jira", "html", "json"}, nil},
		{"wspath probe --de", []string{"--deflate"}, nil},
		{"wspath completion ", []string{"bash", "zsh", "fish"}, nil},
	} {
		words := strings.Fields(tc.words)
		if strings.HasSuffix(tc.words, " ") {
			words = append(words, "")
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := "source " + path + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "; _wspath; printf '%s\\n' \"${COMPREPLY[@]}\""
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.words, err, out)
		}
		got := strings.Fields(string(out))
		for _, w := range tc.want {
			if !contains(got, w) {
				t.Errorf("%q completes to %q, lacking %q", tc.words, got, w)
			}
		}
		for _, n := range tc.never {
			if contains(got, n) {
				t.Errorf("%q completes to %q, with %q", tc.words, got, n)
			}
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestCompletion_ZshFish(t *testing.T) {
	for _, shell := range []string{"zsh", "fish"} {
		code, script, stderr := runWspath(t, "completion", shell)
		if code != exitOK || !strings.Contains(script, "compare") || !strings.Contains(script, "probe") {
			t.Errorf("%s: exit %d, %s\n%s", shell, code, stderr, script)
		}
		if bin, err := exec.LookPath(shell); err == nil {
			path := filepath.Join(t.TempDir(), "wspath."+shell)
			os.WriteFile(path, []byte(script), 0o644)
			flag := "-n"
			if shell == "fish" {
				flag = "--no-execute"
			}
			if out, err := exec.Command(bin, flag, path).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", shell, flag, err, out)
			}
		}
	}
	if code, _, _ := runWspath(t, "completion", "tcsh"); code != exitError {
		t.Errorf("unknown shell: exit %d", code)
	}
}

// TestMan renders the generated man page with groff when it is there.
func TestMan(t *testing.T) {
	code, page, stderr := runWspath(t, "man")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{".TH wspath 1", "compare", "probe", "plan", "hops.yaml lists the hops"} {
		if !strings.Contains(page, w) {
			t.Errorf("man page lacks %q", w)
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww")
	cmd.Stdin = strings.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "wspath") {
		t.Errorf("groff: %v\n%.500s", err, out)
	}
}
