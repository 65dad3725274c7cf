// Package tlsdecrypt decrypts TLS 1.2 and 1.3 connections with an NSS key log, and describes
// the records of connections it cannot decrypt.
//
// It sits between TCP reassembly and the HTTP/WebSocket parsers in wspath's pipeline:
//
//	packets -> TCP segments -> reassembled streams -> [tlsdecrypt] -> HTTP Upgrade -> WebSocket frames
//
// For a connection whose first client bytes are a ClientHello (IsClientHello), the builder feeds
// the reassembled bytes of each direction to a Conn, which parses the handshake (SNI, ALPN,
// version, cipher suite, resumption), derives the record keys from the key log and passes the
// application data, in order, to a Handler. Every application-data record's shape (length and
// packet) is reported as well, with or without keys, so hops whose TLS cannot be opened can still
// be compared by record count, size and timing.
//
//	kl, errs := tlsdecrypt.ParseKeylog(keylogBytes) // errs: one per unusable line, no secrets
//	c := tlsdecrypt.NewConn(kl, handler)
//	c.Feed(tlsdecrypt.ClientToServer, clientBytes, packet.Meta{Time: t, File: "lb.pcap", Number: 3})
//	c.Feed(tlsdecrypt.ServerToClient, serverBytes, meta)
//	c.Gap(tlsdecrypt.ServerToClient, 1448)           // bytes missing from the capture
//	c.Close()
//	info := c.Info()                                  // info.Decrypted, info.Reason, ...
//
// Supported: TLS 1.3 with TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
// TLS_CHACHA20_POLY1305_SHA256 (handshake and application traffic secrets, KeyUpdate,
// HelloRetryRequest, PSK resumption); TLS 1.2 with AES-GCM, ChaCha20-Poly1305 and AES-CBC
// (SHA-1, SHA-256, SHA-384 MACs, encrypt-then-MAC) suites over ECDHE, DHE and RSA key exchange,
// from CLIENT_RANDOM, PMS_CLIENT_RANDOM, RSA (encrypted pre-master secret prefix) and
// "RSA Session-ID:" key log lines, with the extended master secret when negotiated. Not
// supported: TLS 1.3 0-RTT early data, SSL 3.0 to TLS 1.1, renegotiation, compression.
// A resumed TLS 1.2 connection needs its own key log line (CLIENT_RANDOM, as NSS and OpenSSL
// write, or "RSA Session-ID:" for its session id): Go's crypto/tls logs none for resumed
// connections, and a Conn does not carry secrets over from other connections.
//
// A missing or wrong key, an unknown suite, a record that fails authentication: Info.Reason says
// so and the Conn keeps reporting record shapes; no input makes it panic. Key material never
// appears in errors, Info, or fmt output of a Keylog or Conn.
package tlsdecrypt
