// Package probe sends numbered WebSocket messages through a path and reports which came back.
//
// It is the one part of wspath that makes traffic; everything else (capture, correlate, report)
// only reads captures. A probe connects to a ws:// or wss:// URL over HTTP/1.1, sends Count
// messages whose payloads carry a marker (package probe/marker) that `wspath compare` recognises in
// the captures, and reads what the server sends back, matching echoes by their marker:
//
//	res, err := probe.Run(ctx, probe.Options{URL: "wss://chat.example/ws", Count: 20, KeylogFile: "keys.txt"})
//
// Sizes cycle through all three WebSocket payload length encodings (7-bit, 16-bit and 64-bit),
// text and binary alternate, and permessage-deflate can be offered. With KeylogFile the TLS
// session secrets are appended in NSS key log format, so the capture taken at the client (or at
// any hop before TLS ends) can be decrypted by wspath and Wireshark.
//
// The WebSocket client is github.com/gorilla/websocket: it dials the TCP or TLS connection itself
// and writes an HTTP/1.1 upgrade request (no HTTP/2, whatever the server offers), takes a
// tls.Config (for the key log and a private CA) and can negotiate permessage-deflate.
package probe
