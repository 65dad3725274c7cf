// Package h2demux splits the two byte streams of one HTTP/2 connection into per-stream events:
// decoded header lists (HPACK with its dynamic table), DATA payloads, stream resets and GOAWAY.
//
// It sits in wspath's capture pipeline after TCP reassembly (and TLS decryption, for ALPN h2):
//
//	reassembled streams -> [TLS] -> h2demux.Demux -> per-stream headers and DATA
//	                              -> RFC 8441 WebSocket streams (extended CONNECT) -> wsframe
//
// Frames are read with golang.org/x/net/http2's Framer and header blocks decoded with its hpack
// package rather than by hand: they are the parsers Go's own HTTP/2 client and server use, kept
// up to date with the RFCs, and HPACK's Huffman code and dynamic table are easy to get subtly
// wrong. The Demux only buffers bytes until a whole frame is present, because a capture hands
// bytes over in packet-sized pieces and the Framer reads from an io.Reader.
//
//	d := h2demux.New(handler)       // handler implements Handler
//	d.Feed(packet.ClientToServer, b, off, meta)
//	d.Feed(packet.ServerToClient, b, off, meta)
//
// A Demux is not safe for concurrent use. Byte slices passed to a Handler are valid only during
// the call.
package h2demux
