package schema

import (
	"fmt"
	"time"
)

// enum is a small enumeration of the JSON contract, named by its String: VerdictKind,
// SegmentKind, MatchedBy.
type enum interface {
	~uint8
	String() string
}

// enumText is MarshalText for an enum of n values; what names the enum in the error.
func enumText[T enum](v, n T, what string) ([]byte, error) {
	if v >= n {
		return nil, fmt.Errorf("schema: unknown %s %d", what, uint8(v))
	}
	return []byte(v.String()), nil
}

// enumParse is UnmarshalText for an enum of n values: it sets *p to the value named b, and
// leaves it alone when no value is.
func enumParse[T enum](p *T, b []byte, n T, what string) error {
	for v := T(0); v < n; v++ {
		if v.String() == string(b) {
			*p = v
			return nil
		}
	}
	return fmt.Errorf("schema: unknown %s %q", what, b)
}

// VerdictKind is what became of the messages of one direction of a connection.
type VerdictKind uint8

// Verdict kinds, from best to worst as Result.Summary ranks them: a worse kind on any direction
// is the verdict of the whole comparison.
const (
	// Delivered: every message seen upstream reached every hop downstream.
	Delivered VerdictKind = iota
	// CaptureGap: a hop's capture lacks messages the network delivered (the capture started late,
	// ended early, dropped packets, or a hop further along has them).
	CaptureGap
	// Undecided: messages may be missing but the captures do not say (TLS without keys, the
	// connection not found at a hop, ...).
	Undecided
	// Modified: a message reached a hop changed: where it was missing by digest, that hop had,
	// at the same position in the stream (between the same matched neighbours), with the same
	// opcode and in time, a message matching nothing upstream. Not a loss, but a finding.
	Modified
	// Closed: messages were not delivered because the connection ended (close frame, FIN, RST)
	// at or before the hop they did not reach.
	Closed
	// Lost: messages seen upstream never reached a hop downstream while the connection was up.
	Lost
)

// numVerdicts is the number of verdict kinds.
const numVerdicts = 6

// String returns the JSON name: "delivered", "capture_gap", "undecided", "modified", "closed" or
// "lost".
func (v VerdictKind) String() string {
	switch v {
	case Delivered:
		return "delivered"
	case CaptureGap:
		return "capture_gap"
	case Undecided:
		return "undecided"
	case Modified:
		return "modified"
	case Closed:
		return "closed"
	case Lost:
		return "lost"
	}
	return fmt.Sprintf("verdict%d", uint8(v))
}

// MarshalText implements encoding.TextMarshaler with String's names.
func (v VerdictKind) MarshalText() ([]byte, error) { return enumText(v, numVerdicts, "verdict") }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *VerdictKind) UnmarshalText(b []byte) error {
	return enumParse(v, b, numVerdicts, "verdict")
}

// SegmentKind says what the component between two adjacent hops did to a connection.
type SegmentKind uint8

// Segment kinds.
const (
	// SegmentUnknown: no connection was seen at both hops, so nothing can be said.
	SegmentUnknown SegmentKind = iota
	// Passthrough: same key, same framing: the bytes went through unchanged (an L3/L4 device).
	Passthrough
	// Reframed: same key but different framing (re-masked, re-fragmented, recompressed): a proxy
	// that forwards the handshake and re-encodes frames.
	Reframed
	// Terminated: a new connection (different Sec-WebSocket-Key, or TLS ended there): a proxy that
	// terminates WebSocket or TLS.
	Terminated
	// Bridged: WebSocket became plain TCP (a WebSocket-to-TCP bridge such as websockify; the later
	// hop is `bridge: tcp`): messages are matched by their bytes in the stream.
	Bridged
)

// numSegmentKinds is the number of segment kinds.
const numSegmentKinds = 5

// String returns the JSON name: "unknown", "passthrough", "reframed", "terminated" or "bridged".
func (k SegmentKind) String() string {
	switch k {
	case SegmentUnknown:
		return "unknown"
	case Passthrough:
		return "passthrough"
	case Reframed:
		return "reframed"
	case Terminated:
		return "terminated"
	case Bridged:
		return "bridged"
	}
	return fmt.Sprintf("segment%d", uint8(k))
}

// MarshalText implements encoding.TextMarshaler with String's names.
func (k SegmentKind) MarshalText() ([]byte, error) {
	return enumText(k, numSegmentKinds, "segment kind")
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *SegmentKind) UnmarshalText(b []byte) error {
	return enumParse(k, b, numSegmentKinds, "segment kind")
}

// Duration is a time.Duration that marshals to JSON as Go's duration string ("1.5s", "-250ms"),
// which time.ParseDuration reads back.
type Duration time.Duration

// String returns the duration in Go notation.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	*d = Duration(v)
	return nil
}

// MatchedBy says how a hop's session was tied to the sessions of its connection at other hops.
type MatchedBy uint8

// Ways of matching, the first session of a connection being matched by nothing.
const (
	// MatchedFirst: the first session of its connection, tied to nothing before it.
	MatchedFirst MatchedBy = iota
	// MatchedByKey: the same Sec-WebSocket-Key as at another hop.
	MatchedByKey
	// MatchedByTLS: the same TLS ClientHello random as at another hop (the same TLS session).
	MatchedByTLS
	// MatchedByH2Stream: the same HTTP/2 stream of the same TCP or TLS connection.
	MatchedByH2Stream
	// MatchedByTimeDigests: the nearest in time (clocks corrected) carrying the same messages.
	MatchedByTimeDigests
	// MatchedByTimeTLS: the nearest in time with the same shape of TLS records (no keys to read
	// the messages).
	MatchedByTimeTLS
)

// numMatchedBy is the number of ways of matching.
const numMatchedBy = 6

// String returns the JSON name: "" (first), "key", "tls", "h2 stream", "time+digests" or
// "time+tls".
func (m MatchedBy) String() string {
	if m < numMatchedBy {
		return [numMatchedBy]string{"", "key", "tls", "h2 stream", "time+digests", "time+tls"}[m]
	}
	return fmt.Sprintf("matched%d", uint8(m))
}

// MarshalText implements encoding.TextMarshaler with String's names.
func (m MatchedBy) MarshalText() ([]byte, error) { return enumText(m, numMatchedBy, "way of matching") }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *MatchedBy) UnmarshalText(b []byte) error {
	return enumParse(m, b, numMatchedBy, "way of matching")
}
