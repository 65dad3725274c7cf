package capture

import (
	"strings"
	"testing"
)

// TestRead_UpgradeAfterKeepAlive: a proxy's pooled upstream connection carries ordinary requests
// before the Upgrade (haproxy's http-reuse does this for a client's GET and its WebSockets).
func TestRead_UpgradeAfterKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		exchange []string // request, response pairs before the Upgrade
		want     int      // sessions
	}{
		{"content-length", []string{
			"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello=world",
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthanks"[:len("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")+5]}, 1},
		{"no body, 304 and HEAD", []string{
			"GET /a HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
			"HEAD /b HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
			"GET /c HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 3\r\n\r\nno\n"}, 1},
		{"chunked response: end unknown", []string{
			"GET /a HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := readSynth(t, func(s *synth) {
				conn := s.conn("10.0.0.1:40000", "10.0.0.2:80", true)
				for i := 0; i < len(tc.exchange); i += 2 {
					conn.send(true, []byte(tc.exchange[i]))
					conn.send(false, []byte(tc.exchange[i+1]))
				}
				conn.upgrade(testKey, "")
				conn.send(true, frame(0x1, true, false, true, []byte("after keep-alive")))
				conn.fin(true)
			})
			if len(c.Sessions) != tc.want {
				t.Fatalf("%d sessions, want %d", len(c.Sessions), tc.want)
			}
			if tc.want == 0 {
				return
			}
			s := c.Sessions[0]
			if s.Key() != testKey || len(s.Messages(ClientToServer)) != 1 || !strings.HasPrefix(string(s.Messages(ClientToServer)[0].Preview), "after") {
				t.Errorf("key %q messages %v problems %v", s.Key(), s.Messages(ClientToServer), s.Problems())
			}
		})
	}
}
