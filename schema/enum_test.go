package schema

import (
	"encoding/json"
	"testing"
)

// TestMatchedBy_JSON: every way of matching marshals to the name the JSON contract documents and
// reads back; an unknown value or name is an error, not a silent default.
func TestMatchedBy_JSON(t *testing.T) {
	want := map[MatchedBy]string{MatchedFirst: "", MatchedByKey: "key", MatchedByTLS: "tls",
		MatchedByH2Stream: "h2 stream", MatchedByTimeDigests: "time+digests", MatchedByTimeTLS: "time+tls"}
	if len(want) != numMatchedBy {
		t.Fatalf("%d names for %d ways of matching", len(want), numMatchedBy)
	}
	for m, name := range want {
		b, err := json.Marshal(m)
		if err != nil || string(b) != `"`+name+`"` {
			t.Errorf("Marshal(%d) = %s, %v; want %q", m, b, err, name)
		}
		var back MatchedBy = 99
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("Unmarshal(%s) = %d, %v", b, back, err)
		}
	}
	if _, err := json.Marshal(MatchedBy(numMatchedBy)); err == nil {
		t.Error("an unknown way of matching marshalled")
	}
	var m MatchedBy
	if err := json.Unmarshal([]byte(`"time"`), &m); err == nil {
		t.Error(`"time" unmarshalled`)
	}
}
