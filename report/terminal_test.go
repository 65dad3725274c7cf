package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestCompareTerminal_ColourAndCollapse(t *testing.T) {
	r := c2sDrop(t)
	for _, tc := range []struct {
		name  string
		o     Options
		want  []string
		never []string
	}{
		{"plain", Options{Width: 200}, []string{"2 more connection(s) delivered", "│ 2    │"}, []string{"\x1b[", "│ 1    │"}},
		{"colour", Options{Width: 200, Color: true}, []string{"\x1b[1;31mLOST\x1b[0m", "\x1b[1;31mlost\x1b[0m", "\x1b[32mdelivered\x1b[0m"}, nil},
		{"narrow colour", Options{Width: 60, Color: true}, []string{"\x1b[1mconnection 2", "\x1b[1;31mlost\x1b[0m"}, []string{"┌"}},
		{"all", Options{Width: 200, All: true}, []string{"│ 1    │", "│ 3    │"}, []string{"more connection(s)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Compare(&b, Table, r, tc.o); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
			if tc.o.All {
				// The lost connection still comes first.
				if i, j := strings.Index(out, "│ 2    │"), strings.Index(out, "│ 1    │"); i < 0 || j < i {
					t.Errorf("problems not first:\n%s", out)
				}
			}
		})
	}
}

func TestWrapLines(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  []string
	}{
		{"a bb ccc dddd", 6, []string{"a bb", "ccc", "dddd"}},
		{"averyveryverylongword x", 5, []string{"averyveryverylongword", "x"}},
		{"µs µs µs", 5, []string{"µs µs", "µs"}},
		{"no limit here", 0, []string{"no limit here"}},
		{"", 10, nil},
	} {
		got := wrapLines(tc.in, tc.width)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("wrapLines(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

// TestCompare_NamesProbes: directions whose missing messages are wspath probes name them in every
// format for people.
func TestCompare_NamesProbes(t *testing.T) {
	r := c2sDrop(t)
	r.Connections[1].Directions.ClientToServer.Probes = []int{6, 7, 8, 9, 10, 11, 14}
	want := "probes #6-#11, #14 lost between fw and ingress (connection 2, to server)"
	for _, f := range []Format{Table, Markdown, Jira, HTML} {
		var b bytes.Buffer
		if err := Compare(&b, f, r, Options{}); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		if f == Jira {
			got = strings.ReplaceAll(got, `\-`, "-")
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %q:\n%s", f, want, got)
		}
	}
	if got := numberRanges([]int{1, 2, 4, 6, 7, 8}); got != "#1, #2, #4, #6-#8" {
		t.Errorf("numberRanges = %q", got)
	}
}

func TestStartsBlock(t *testing.T) {
	for l, want := range map[string]bool{"- x": true, "-x": false, "#6 never": false, "# h": true, "## h": true,
		"> q": true, "1. x": true, "1.5s": false, "12) x": true, "==": true, "=x": false, "plain": false, "->": false} {
		if got := startsBlock(l); got != want {
			t.Errorf("startsBlock(%q) = %v, want %v", l, got, want)
		}
	}
}
