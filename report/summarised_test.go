package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// TestInspect_Summarised checks that the quiet sessions a flood made Read count instead of list
// (capture.Options.MaxQuietSessions) are counted in every format: in the Upgrade totals, and by
// port and outcome in the JSON.
func TestInspect_Summarised(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c := &capture.Capture{
		Sessions: []*capture.Session{{
			ID: 1, Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:8080"),
			Start: start, End: start, Request: &capture.Request{Method: "GET", Path: "/chat", Key: "k", Time: start},
		}},
		Summarised: []capture.SummaryCount{{Port: 8080, Outcome: "unanswered", Count: 2000}, {Port: 443, Outcome: "refused", Count: 3}},
	}
	var js bytes.Buffer
	if err := Inspect(&js, JSON, c, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Upgrades schema.Upgrades `json:"upgrades"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := schema.Upgrades{Requests: 2004, Refused: 3, Unanswered: 2001,
		Summarised: []schema.SummarisedUpgrades{{Port: 8080, Outcome: "unanswered", Count: 2000}, {Port: 443, Outcome: "refused", Count: 3}}}
	if !reflect.DeepEqual(doc.Upgrades, want) {
		t.Errorf("upgrades %+v, want %+v", doc.Upgrades, want)
	}
	for _, f := range []Format{Table, Markdown, Jira} {
		var b bytes.Buffer
		if err := Inspect(&b, f, c, Options{}); err != nil {
			t.Fatal(err)
		}
		const line = "2004 Upgrade request(s): 0 switched to WebSocket (101), 3 refused (another status), 2001 never answered"
		if !strings.Contains(b.String(), line) {
			t.Errorf("%s: no %q in\n%s", f, line, b.String())
		}
	}
}
