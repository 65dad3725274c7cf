package capture_test

import (
	"strings"
	"testing"

	"github.com/wspath/wspath/capture"
)

// TestRead_UpgradeRequestDropped: a capture that dropped the client's Upgrade request (kernel
// drops) but kept the server's 101 and the client's later packets is no one-way capture: the
// client's frames are read from where the capture has them, as tshark reads them.
func TestRead_UpgradeRequestDropped(t *testing.T) {
	c, err := capture.Read([]string{"testdata/upgrade-request-dropped.pcap"}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sessions) != 1 {
		t.Fatalf("%d sessions, want 1", len(c.Sessions))
	}
	s := c.Sessions[0]
	if s.Request != nil || s.Response == nil || s.Response.Status != 101 {
		t.Fatalf("request %v, response %v: want the 101 without its request", s.Request, s.Response)
	}
	if s.OneWay() {
		t.Errorf("read as a one-way capture: the client's packets are in it")
	}
	// tshark (-d tcp.port==80,websocket): 65 text messages from the client.
	if got := s.Counts(capture.ClientToServer).Data; got != 65 {
		t.Errorf("client data messages %d, want 65 (tshark)", got)
	}
	found := false
	for _, p := range s.Problems() {
		found = found || strings.Contains(p.Message, "Upgrade request is not in the capture")
	}
	if !found {
		t.Errorf("no problem says the request is missing: %v", s.Problems())
	}
}
