package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/correlate"
	"github.com/wspath/wspath/hopsconfig"
)

// TestJSON_StreamedAsEncoded checks that the streamed JSON reports are byte for byte what
// encoding/json's Encoder writes for the whole document, on every bundled example: a field added
// to the contract but not to the streaming writer fails here.
func TestJSON_StreamedAsEncoded(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("..", "examples", "*", "hops.yaml"))
	if len(cases) == 0 {
		t.Fatal("no examples")
	}
	for _, hops := range cases {
		cfg, err := hopsconfig.Load(hops)
		if err != nil {
			t.Fatal(err)
		}
		hs, _ := correlate.ReadHops(cfg, capture.Options{})
		r := correlate.Compare(hs, correlate.Options{Incident: cfg.Incident})
		var got, want bytes.Buffer
		if err := Compare(&got, JSON, r, Options{}); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: streamed compare JSON differs from encoding/json's", hops)
		}
		for _, h := range hs {
			if h.Capture == nil {
				continue
			}
			for _, o := range []Options{{}, {Messages: true}} {
				got.Reset()
				want.Reset()
				if err := Inspect(&got, JSON, h.Capture, o); err != nil {
					t.Fatal(err)
				}
				enc := json.NewEncoder(&want)
				enc.SetIndent("", "  ")
				if err := enc.Encode(newInspectDoc(h.Capture, o)); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("%s hop %s (messages %v): streamed inspect JSON differs from encoding/json's", hops, h.Name, o.Messages)
				}
			}
		}
	}
}
