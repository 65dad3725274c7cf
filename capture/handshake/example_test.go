package handshake_test

import (
	"errors"
	"fmt"

	"github.com/wspath/wspath/capture/handshake"
)

// The opening of a WebSocket connection as a browser sends it and a server answers it (RFC 6455
// section 1.3's key), arriving over two TCP segments.
func Example() {
	request := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n\x81\x85"

	// The first segment ends mid-head: feed more and call again.
	if _, err := handshake.ParseRequest([]byte(request[:40])); errors.Is(err, handshake.ErrIncomplete) {
		fmt.Println("incomplete after 40 bytes")
	}
	req, err := handshake.ParseRequest([]byte(request))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Method, req.Target, req.IsWebSocketUpgrade())
	fmt.Printf("frames start at byte %d: % x\n", req.Length, request[req.Length:])

	response := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"
	resp, err := handshake.ParseResponse([]byte(response))
	if err != nil {
		fmt.Println(err)
		return
	}
	key := req.Get("sec-websocket-key") // field names compare case-insensitively
	fmt.Println(resp.Status, resp.Get("Sec-WebSocket-Accept") == handshake.AcceptKey(key))
	if d, ok := handshake.NegotiatedDeflate(resp.Get("Sec-WebSocket-Extensions")); ok {
		fmt.Printf("deflate: server no context takeover %v, client window %d bits\n",
			d.ServerNoContextTakeover, d.ClientMaxWindowBits)
	}
	fmt.Println("Cookie is a credential:", handshake.IsCredential("Cookie"))
	// Output:
	// incomplete after 40 bytes
	// GET /chat true
	// frames start at byte 224: 81 85
	// 101 true
	// deflate: server no context takeover true, client window 15 bits
	// Cookie is a credential: true
}
