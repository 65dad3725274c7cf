// Package wsframe parses WebSocket frames (RFC 6455) from one direction of a reassembled TCP
// stream and inflates permessage-deflate messages (RFC 7692).
//
// It sits after the HTTP Upgrade in wspath's pipeline:
//
//	reassembled streams -> [TLS] -> handshake -> wsframe -> capture.Session
//
// A Parser is fed the stream's bytes in order, one chunk per TCP segment, with its packet.Meta,
// and reports to a Handler: FrameStart, the unmasked payload (Payload, or PayloadGap for bytes
// the capture lacks), FrameEnd, and Error for protocol errors and lost synchronisation. It never
// panics and keeps no payload: Payload slices are valid only during the call.
//
//	p := wsframe.NewParser(h, wsframe.Options{Mask: wsframe.MaskRequired})
//	for _, seg := range segments {
//		p.Feed(seg.Bytes, seg.Offset, packet.Meta{Time: seg.Time, File: f, Number: seg.N})
//	}
//	p.End(lastMeta)
//
// When the stream does not start at a frame boundary (Options.MidStream: the handshake was not
// captured) or a gap swallows part of a header, the parser resynchronises: it buffers a bounded
// amount of the stream and accepts a position only when a chain of plausible headers, aligned
// with segment boundaries, follows it (see resync.go for the scoring). A short tail that can never
// make such a chain (a close frame between a hole and the end of the stream) is accepted at the
// segment start after the hole when its frames fill the bytes exactly and carry what their
// opcode requires (settle). The first frame after that has Frame.Resync set.
//
// Messages are not assembled here: the Handler (capture's session builder) groups frames into
// messages, and feeds the payload of compressed messages (RSV1 on the first frame) to an Inflater,
// which streams the inflated bytes to an io.Writer (a hash) with a hard bound per message. An
// Inflater belongs to one direction of one connection and keeps only its history window; the
// Inflaters of all connections of a capture share one InflatePool, which lends them the decoder
// and buffers while they inflate and bounds the compressed bytes they hold in all.
// ParseClose decodes close frame payloads.
package wsframe
