package correlate

import (
	"fmt"
	"time"
)

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
		return fmt.Errorf("correlate: %w", err)
	}
	*d = Duration(v)
	return nil
}
