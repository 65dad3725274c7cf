package correlate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/hopsconfig"
)

// TestAnalysis_Evidence compares real example captures both ways: read in full and compared,
// and read Compact, analysed, the messages the verdicts name read again, and written up. The
// JSON must be the same, and nothing is read again when every message arrived.
func TestAnalysis_Evidence(t *testing.T) {
	for _, tc := range []struct {
		name      string
		wantsNone bool
	}{
		{"c2s-drop", false},       // lost: the last message seen is named
		{"app-modify", false},     // modified: both versions, their first difference
		{"tls-c2s-drop", false},   // TLS with a key log
		{"h2-c2s-drop", false},    // WebSocket over HTTP/2
		{"healthy", true},         // all delivered
		{"bridge-c2s-drop", true}, // the messages named are at the bridge and the hop before it, read in full
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := hopsconfig.Load("../examples/" + tc.name + "/hops.yaml")
			if err != nil {
				t.Fatal(err)
			}
			full, err := ReadHops(cfg, capture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(Compare(full, Options{Incident: cfg.Incident}))

			opts := capture.Options{Compact: true}
			hops, err := ReadHops(cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			a := Analyze(hops, Options{Incident: cfg.Incident})
			wanted := a.Wanted()
			n := 0
			for _, ws := range wanted {
				n += len(ws)
			}
			if tc.wantsNone != (n == 0) {
				t.Errorf("%d messages wanted again", n)
			}
			ev, err := ReadEvidence(context.Background(), cfg, opts, wanted)
			if err != nil {
				t.Fatal(err)
			}
			for i, ws := range wanted {
				if len(ev[i]) != len(ws) {
					t.Errorf("hop %s: %d of %d wanted messages read again", cfg.Hops[i].Name, len(ev[i]), len(ws))
				}
			}
			got, _ := json.Marshal(a.Result(ev))
			if string(got) != string(want) {
				t.Errorf("compact and evidence:\n%s\nfull read:\n%s", got, want)
			}
		})
	}
}
