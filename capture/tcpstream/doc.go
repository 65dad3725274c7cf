// Package tcpstream reassembles the two directions of TCP connections and hands the in-order bytes,
// with the evidence of what is missing, to a consumer per connection.
//
// It sits between TCP segment decoding and the protocol parsers in wspath's pipeline:
//
//	packets (pcapfile) -> TCP segments (tcpdecode) -> reassembled streams (tcpstream)
//	      -> [TLS (tlsdecrypt)] -> HTTP Upgrade (handshake) -> WebSocket frames (wsframe)
//
// An Assembler keeps one state per connection (a 4-tuple, both directions). For every new connection
// it asks newStream for a Stream and then calls, in stream order, Data with each segment's new bytes,
// Gap for every range of bytes that will never come (lost, ACKed by the peer but missing from the
// capture, cut by the snap length, or given up to respect a bound), Fin and Reset, and finally Close
// with per-direction statistics. Offsets count from the byte after the ISN when the SYN was seen, or
// from the first byte seen when the capture started in the middle of a connection. Data and Gap
// calls of one direction cover the stream contiguously and never overlap.
//
//	a := tcpstream.NewAssembler(tcpstream.Config{}, func(ci tcpstream.ConnInfo) tcpstream.Stream {
//		return newMyStream(ci) // or nil to ignore the connection
//	})
//	for each decoded segment { a.Add(&seg, packet.Meta{Time: t, File: name, Number: n}) }
//	a.Flush() // end of capture: remaining holes become gaps, every connection is closed
//
// Reassembly rules: the first copy of a byte wins (retransmissions and overlaps are counted and
// dropped); bytes before offset 0 are counted and dropped; sequence numbers wrap around 2^32.
// Out-of-order bytes wait for the hole before them, bounded per connection (Config.MaxConnBuffer), in
// total (Config.MaxTotalBuffer) and in capture time (Config.HoleTimeout). A segment cut by the snap
// length delivers its captured bytes and then, at once, a GapSnaplen gap for the rest: a later full
// retransmission does not fill it (captures cut by a snap length cut every large segment, so waiting
// would only delay every stream for nothing).
//
// An Assembler is not safe for concurrent use, and Stream methods must not call back into it. Time is
// capture time (packet.Meta.Time), never the wall clock, so output is a pure function of the input.
package tcpstream
