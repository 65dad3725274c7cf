package capture

import (
	"strconv"
	"strings"

	"github.com/wspath/wspath/capture/handshake"
	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tcpstream"
)

// Ordinary HTTP/1.1 exchanges before an Upgrade on a kept-alive connection. Proxies reuse their
// upstream connections (haproxy's http-reuse, nginx's upstream keepalive), so the Upgrade that
// carries a WebSocket may be the second or tenth request on its TCP connection. An exchange whose
// bodies have a known length (Content-Length, or none) is skipped; one whose end cannot be told
// without parsing chunked encoding or waiting for the close ends the reading of the connection.

// bodyLength returns the length of the body that follows head h, or ok false when it cannot be
// told from the head (chunked, or a response delimited by the connection's close). method is the
// request's, for a response.
func bodyLength(h *handshake.Head, method string) (n uint64, ok bool) {
	if h.Method == "" && (h.Status < 200 || h.Status == 204 || h.Status == 304 || method == "HEAD") {
		return 0, true
	}
	if h.Has("Transfer-Encoding") {
		return 0, false
	}
	cl := strings.TrimSpace(h.Get("Content-Length"))
	if cl == "" {
		return 0, h.Method != "" // a request without length has no body; a response runs to the close
	}
	v, err := strconv.ParseUint(cl, 10, 63)
	return v, err == nil
}

// plainRequest starts skipping an ordinary request (no Upgrade) and its body; its response is
// skipped in turn by plainResponse. It reports false when the exchange cannot be followed.
func (c *conn) plainRequest(h *handshake.Head, m packet.Meta) bool {
	n, ok := bodyLength(h, "")
	if !ok {
		return false
	}
	d, hs := c.client, c.hs
	hs.plainMethod = h.Method
	c.reqDone = true
	hs.head[d] = append(hs.head[d][:0], hs.head[d][h.Length:]...)
	hs.headOff[d] += uint64(h.Length)
	hs.skip[d] = n
	c.skipHead(d)
	if len(hs.head[1-d]) > 0 {
		c.parseResponse(m)
	}
	return true
}

// plainResponse skips the response to an ordinary request, then waits for the next request. It
// reports false when the response's end cannot be told.
func (c *conn) plainResponse(h *handshake.Head, m packet.Meta) bool {
	hs := c.hs
	n, ok := bodyLength(h, hs.plainMethod)
	if !ok {
		return false
	}
	d := 1 - c.client
	hs.skip[d] = n
	c.skipHead(d)
	hs.plainMethod, c.reqDone, c.respDone = "", false, false
	if len(hs.head[c.client]) > 0 {
		c.parseRequest(m)
	}
	return true
}

// skipHead drops body bytes still to be skipped from the start of direction d's buffered bytes.
func (c *conn) skipHead(d tcpstream.Dir) {
	hs := c.hs
	k := min(hs.skip[d], uint64(len(hs.head[d])))
	hs.head[d] = append(hs.head[d][:0], hs.head[d][k:]...)
	hs.headOff[d] += k
	hs.skip[d] -= k
}
