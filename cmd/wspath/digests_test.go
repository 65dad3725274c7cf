package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/wspath/wspath/hopsconfig"
)

// TestDigests_SameVerdicts reduces every hop of every bundled example to a digest file with
// inspect --digests, as each host would, and checks that compare on the digest files gives the
// same JSON as compare on the captures, except each hop's file list and what comes from payload
// previews, which digest files do not carry: where a changed message first differs.
func TestDigests_SameVerdicts(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*", "hops.yaml"))
	if len(cases) == 0 {
		t.Fatal("no bundled examples")
	}
	for _, hopsYAML := range cases {
		t.Run(filepath.Base(filepath.Dir(hopsYAML)), func(t *testing.T) {
			cfg, err := hopsconfig.Load(hopsYAML)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			yaml := fmt.Sprintf("incident: %q\nhops:\n", cfg.Incident)
			var kept []string // a bridge hop's files: absolute path, the path as the case gives it
			for _, h := range cfg.Hops {
				if h.Bridge != "" {
					// A bridge hop keeps its capture: its streams are aligned by their payload bytes,
					// which digest files do not carry.
					files := make([]string, len(h.Files))
					for i, f := range h.Files {
						abs, _ := filepath.Abs(f)
						files[i] = fmt.Sprintf("%q", abs)
						kept = append(kept, abs, f)
					}
					yaml += fmt.Sprintf("  - name: %s\n    pcap: [%s]\n    port: %d\n    bridge: tcp\n", h.Name, strings.Join(files, ", "), h.Port)
					continue
				}
				wsd := filepath.Join(dir, h.Name+".wsd")
				args := append([]string{"inspect", "--digests", "-o", wsd}, h.Files...)
				if h.Keylog != "" {
					args = append(args, "--keylog", h.Keylog)
				}
				if code, _, stderr := runWspath(t, args...); code != 0 {
					t.Fatalf("inspect --digests of hop %s: exit %d: %s", h.Name, code, stderr)
				}
				yaml += fmt.Sprintf("  - name: %s\n    pcap: %s\n", h.Name, wsd)
				if h.Server.IsValid() {
					yaml += fmt.Sprintf("    server: %s\n", h.Server)
				}
				if h.Port != 0 {
					yaml += fmt.Sprintf("    port: %d\n", h.Port)
				}
				if h.ClockOffset != nil {
					yaml += fmt.Sprintf("    clock_offset: %s\n", *h.ClockOffset)
				}
			}
			digestsYAML := filepath.Join(dir, "hops.yaml")
			if err := os.WriteFile(digestsYAML, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			want := compareJSON(t, hopsYAML)
			got := compareJSON(t, digestsYAML)
			if len(kept) > 0 { // the bridge hop's packets are named by the path the case gives
				exit := got["exit"]
				b, _ := json.Marshal(got)
				got = nil
				if err := json.Unmarshal([]byte(strings.NewReplacer(kept...).Replace(string(b))), &got); err != nil {
					t.Fatal(err)
				}
				got["exit"] = exit
			}
			if !reflect.DeepEqual(got, want) {
				a, _ := json.MarshalIndent(want, "", " ")
				b, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("compare on digests differs from compare on captures:\n%s", lineDiff(string(a), string(b)))
			}
		})
	}
}

// compareJSON runs compare -f json and returns the document without the hops' file lists.
func compareJSON(t *testing.T, hopsYAML string) map[string]any {
	t.Helper()
	code, stdout, stderr := runWspath(t, "compare", hopsYAML, "-f", "json")
	if code == exitError {
		t.Fatalf("compare %s: exit %d: %s", hopsYAML, code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("compare %s: %v", hopsYAML, err)
	}
	hops, _ := doc["hops"].([]any)
	for _, h := range hops {
		delete(h.(map[string]any), "files")
	}
	doc["exit"] = code
	dropPreviewFacts(doc)
	return doc
}

var firstDifference = regexp.MustCompile(`, first difference at byte \d+`)

// dropPreviewFacts removes from a compare document what is computed from payload previews.
func dropPreviewFacts(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "first_difference")
		for k, e := range x {
			if s, ok := e.(string); ok {
				x[k] = firstDifference.ReplaceAllString(s, "")
			} else {
				dropPreviewFacts(e)
			}
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok {
				x[i] = firstDifference.ReplaceAllString(s, "")
			} else {
				dropPreviewFacts(e)
			}
		}
	}
}

// lineDiff lists the lines of b that differ from a's at the same position (enough to see why).
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 40; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y))
		}
	}
	return strings.Join(out, "\n")
}
