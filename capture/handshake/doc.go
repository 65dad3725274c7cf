// Package handshake parses the HTTP/1.1 Upgrade request and response that open a WebSocket
// connection (RFC 6455 section 4, RFC 9112 message heads).
//
// It sits between TCP reassembly (or TLS decryption) and the WebSocket frame parser in wspath's
// pipeline:
//
//	reassembled streams -> [TLS] -> handshake -> wsframe -> capture.Session
//
// The parsers work on the first bytes of a stream, which may arrive over several TCP segments: call
// ParseRequest (or ParseResponse) with all the bytes seen so far; ErrIncomplete means "feed more and
// call again", and Head.Length tells where the WebSocket frames begin once the head is complete.
//
//	h, err := handshake.ParseRequest(buf)
//	switch {
//	case errors.Is(err, handshake.ErrIncomplete):
//		// wait for the next segment
//	case err != nil:
//		// not HTTP, or a broken head: err carries the byte position
//	case h.IsWebSocketUpgrade():
//		key := h.Get("Sec-WebSocket-Key")
//		frames := buf[h.Length:]
//	}
//
// Every bound is explicit (MaxHeadSize, MaxFields, MaxLineLength) so that no input can make the
// parsers allocate without limit; they never panic. Head values are copies: the parsers keep no
// reference to the input slice. The header policy is here too (policy.go): IsCredential tells
// which fields must never be stored in wspath's output, CorrelationFields which are kept, and
// RedactProtocol hides tokens smuggled in Sec-WebSocket-Protocol. AcceptKey, ParseExtensions and
// NegotiatedDeflate interpret the WebSocket-specific fields.
package handshake
