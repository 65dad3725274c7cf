package report

import (
	"path/filepath"
	"testing"

	"github.com/wspath/wspath/capture"
)

// TestUpgrades_HTTP2: the RFC 8441 streams of a real h2c capture (examples/h2-c2s-drop, a Node.js
// client through haproxy) were accepted with 200, which on HTTP/2 is the switch to WebSocket: the
// inspect summary counts them as switched, not as refused.
func TestUpgrades_HTTP2(t *testing.T) {
	c, err := capture.Read([]string{filepath.Join("..", "examples", "h2-c2s-drop", "client.pcap")}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := newUpgradesDoc(c)
	if u.Requests != 3 || u.Switched != 3 || u.Refused != 0 || u.Unanswered != 0 {
		t.Errorf("upgrades %+v, want 3 requests, all switched", u)
	}
}
