package handshake

// common returns b as a string, without copying it when it is a name or value that most WebSocket
// handshakes carry: each field of a parsed head was a string of its own, garbage as soon as the head
// is read, and a flood of Upgrades made one per field per connection. A switch on string(b)
// compares without converting.
func common(b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	case "Host":
		return "Host"
	case "host":
		return "host"
	case "Upgrade":
		return "Upgrade"
	case "upgrade":
		return "upgrade"
	case "Connection":
		return "Connection"
	case "connection":
		return "connection"
	case "websocket":
		return "websocket"
	case "WebSocket":
		return "WebSocket"
	case "keep-alive, Upgrade":
		return "keep-alive, Upgrade"
	case "Sec-WebSocket-Key":
		return "Sec-WebSocket-Key"
	case "sec-websocket-key":
		return "sec-websocket-key"
	case "Sec-WebSocket-Version":
		return "Sec-WebSocket-Version"
	case "sec-websocket-version":
		return "sec-websocket-version"
	case "13":
		return "13"
	case "Sec-WebSocket-Extensions":
		return "Sec-WebSocket-Extensions"
	case "sec-websocket-extensions":
		return "sec-websocket-extensions"
	case "permessage-deflate":
		return "permessage-deflate"
	case "permessage-deflate; client_max_window_bits":
		return "permessage-deflate; client_max_window_bits"
	case "Sec-WebSocket-Protocol":
		return "Sec-WebSocket-Protocol"
	case "sec-websocket-protocol":
		return "sec-websocket-protocol"
	case "Sec-WebSocket-Accept":
		return "Sec-WebSocket-Accept"
	case "sec-websocket-accept":
		return "sec-websocket-accept"
	case "Origin":
		return "Origin"
	case "origin":
		return "origin"
	case "User-Agent":
		return "User-Agent"
	case "user-agent":
		return "user-agent"
	case "Accept-Encoding":
		return "Accept-Encoding"
	case "Accept-Language":
		return "Accept-Language"
	case "Cache-Control":
		return "Cache-Control"
	case "Pragma":
		return "Pragma"
	case "no-cache":
		return "no-cache"
	case "X-Forwarded-For":
		return "X-Forwarded-For"
	case "X-Forwarded-Proto":
		return "X-Forwarded-Proto"
	case "X-Real-IP":
		return "X-Real-IP"
	case "Cookie":
		return "Cookie"
	case "Authorization":
		return "Authorization"
	case "Server":
		return "Server"
	case "Date":
		return "Date"
	}
	return string(b)
}
