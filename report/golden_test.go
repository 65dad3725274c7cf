package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/correlate"
	"github.com/wspath/wspath/hopsconfig"
	"github.com/wspath/wspath/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (check, then go test ./report -update):\n%s", name, got)
	}
}

// c2sDrop reads the bundled lab case where the firewall drops a client message.
func c2sDrop(t *testing.T) *schema.Result { return example(t, "c2s-drop") }

// example compares the bundled lab case examples/name.
func example(t *testing.T, name string) *schema.Result {
	t.Helper()
	cfg, err := hopsconfig.Load(filepath.Join("..", "examples", name, "hops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	hops, err := correlate.ReadHops(cfg, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return correlate.Compare(hops, correlate.Options{Incident: cfg.Incident})
}

// TestCompare_Golden renders lab cases in every format, for a wide and a narrow terminal (only
// the table depends on the width; the others are checked to not): c2s-drop (a message lost) and
// app-modify (messages changed in transit by a relay).
func TestCompare_Golden(t *testing.T) {
	for _, cs := range []string{"c2s-drop", "app-modify"} {
		r := example(t, cs)
		for _, f := range []Format{Table, Markdown, Jira, HTML, JSON} {
			for _, width := range []int{80, 200} {
				name := fmt.Sprintf("compare-%s.%s-w%d.golden", cs, f, width)
				t.Run(name, func(t *testing.T) {
					var b bytes.Buffer
					if err := Compare(&b, f, r, Options{Width: width}); err != nil {
						t.Fatal(err)
					}
					if f == Table && width > 0 {
						for i, l := range strings.Split(b.String(), "\n") {
							if w := twwidth.Width(l); w > width {
								t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, w, width, l)
							}
						}
					}
					golden(t, name, b.Bytes())
				})
			}
		}
	}
}

// TestInspect_Golden renders the lb hop of the c2s-drop case, with messages, in every format.
func TestInspect_Golden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "c2s-drop", "lb-*.pcap"))
	c, err := capture.Read(files, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{Table, Markdown, Jira, JSON} {
		t.Run(f.String(), func(t *testing.T) {
			var b bytes.Buffer
			if err := Inspect(&b, f, c, Options{Messages: true}); err != nil {
				t.Fatal(err)
			}
			golden(t, "inspect-lb."+f.String()+".golden", b.Bytes())
		})
	}
}

// TestInspect_GoldenViews renders a router's capture on two interfaces at once (dumpcap -i f0
// -i f1, the fwpcapng-s2c-drop case's fw hop): each connection once per interface, the
// interface column telling the two rows apart.
func TestInspect_GoldenViews(t *testing.T) {
	c, err := capture.Read([]string{filepath.Join("..", "examples", "fwpcapng-s2c-drop", "fw.pcapng")}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{Table, Markdown, JSON} {
		t.Run(f.String(), func(t *testing.T) {
			var b bytes.Buffer
			if err := Inspect(&b, f, c, Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, "inspect-fw-views."+f.String()+".golden", b.Bytes())
		})
	}
}
