package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Schema is the value of Result.Schema, naming the version of the compare JSON contract.
const Schema = "wspath.compare/v1"

// Result is the outcome of Compare. It marshals with encoding/json to the wspath.compare/v1
// contract directly; it holds no payloads, only digests, sizes, times and packet numbers.
type Result struct {
	Schema      string       `json:"schema"`
	Incident    string       `json:"incident"`
	Hops        []HopResult  `json:"hops"`
	Connections []Connection `json:"connections"`
	Segments    []HopPair    `json:"segments"`
	Summary     Summary      `json:"summary"`
	// Refused, when not empty, says why the input cannot be compared (hops listed out of order, a
	// single hop): the verdicts would be wrong, so there are none, and the exit status is 2.
	Refused []string `json:"refused,omitempty"`
}

// HopResult describes one hop's capture as used in the comparison.
type HopResult struct {
	Name        string   `json:"name"`
	Files       []string `json:"files"`
	Packets     int      `json:"packets"`
	Connections int      `json:"connections"` // sessions found in the hop's capture
	Matched     int      `json:"matched"`     // of those, sessions placed in a Connection
	// ClockOffset is this hop's clock minus the first hop's: given in hops.yaml, estimated from
	// matched messages and handshakes, or null when nothing could be estimated.
	ClockOffset       *Duration `json:"clock_offset"`
	ClockOffsetSource string    `json:"clock_offset_source"` // "reference", "given", "estimated" or "none"
	// Latency is the one-way time from the previous hop to this one, clocks corrected; null for
	// the first hop or when no message was seen at both.
	Latency  *Latency   `json:"latency"`
	Start    *time.Time `json:"start"`
	End      *time.Time `json:"end"`
	Warnings []string   `json:"warnings"`
	// Unused says, per file of the hop, how many packets could not be used and why (not TCP, an
	// unknown tunnel or link type, fragments never reassembled, ...).
	Unused []FileUnused `json:"unused"`
}

// FileUnused counts the packets of one capture file that could not be used.
type FileUnused struct {
	File    string         `json:"file"`
	Packets int            `json:"packets"` // all packets of the file
	Unused  int            `json:"unused"`  // those not used, for any reason
	Reasons []UnusedReason `json:"reasons"` // most packets first
}

// UnusedReason counts the packets not used for one reason (capture.Unused).
type UnusedReason struct {
	Kind    string `json:"kind"`
	Reason  string `json:"reason"`
	Packets int    `json:"packets"`
}

// Latency summarises the one-way delay between two adjacent hops over matched messages.
type Latency struct {
	Median  Duration `json:"median"`
	Max     Duration `json:"max"`
	Samples int      `json:"samples"`
}

// Connection is one WebSocket connection followed across the hops.
type Connection struct {
	ID   int     `json:"id"`   // 1-based, in order of start time
	Key  *string `json:"key"`  // Sec-WebSocket-Key at the first hop that saw a handshake, or null
	Path *string `json:"path"` // request path, or null
	// Hops holds where the connection was seen at each hop, null where unseen; it marshals to an
	// object keyed by hop name in path order.
	Hops       HopValues[ConnectionHop] `json:"hops"`
	Directions Directions               `json:"directions"`
	Verdict    VerdictKind              `json:"verdict"` // the worse of the two directions
}

// ConnectionHop is a connection as seen at one hop.
type ConnectionHop struct {
	Client  string    `json:"client"`  // client address at this hop, "ip:port"
	Server  string    `json:"server"`  // server address at this hop
	Session int       `json:"session"` // capture.Session.ID at this hop
	Key     *string   `json:"key"`     // Sec-WebSocket-Key at this hop, null when not captured
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Ending  string    `json:"ending"` // "open", "close", "fin" or "reset"
	TLS     string    `json:"tls"`    // "", "decrypted" or "encrypted" (no keys)
	// MatchedBy says how this hop's session was tied to the connection: "key", "tls",
	// "h2 stream", "time+digests", "time+tls" or "" for the first session of the connection.
	MatchedBy MatchedBy `json:"matched_by"`
}

// Directions holds the two directions of a connection.
type Directions struct {
	ClientToServer DirectionResult `json:"client_to_server"`
	ServerToClient DirectionResult `json:"server_to_client"`
}

// DirectionResult is the verdict on one direction of a connection.
type DirectionResult struct {
	// Messages is the number of data messages at the first hop, in travel order, that saw any.
	Messages      int         `json:"messages"`
	Verdict       VerdictKind `json:"verdict"`
	LowConfidence bool        `json:"low_confidence"`
	// FirstMissingHop is the first hop, in travel order, without the message (for modified:
	// the first hop with it changed); LastSeenHop the hop before it that had it (intact).
	FirstMissingHop *string `json:"first_missing_hop"`
	LastSeenHop     *string `json:"last_seen_hop"`
	// Segment names where the trouble is, between two capture points ("between fw and ingress"):
	// the hop that last saw the first missing message and FirstMissingHop, or for a connection
	// ended in the middle of the path the capture points on both sides of the component that
	// ended it; null when delivered.
	Segment *string `json:"segment,omitempty"`
	// Missing counts the messages given this verdict.
	Missing int `json:"missing"`
	// Uncounted, when messages are missing, is what may be missing besides but cannot be
	// counted (TLS records at a hop without keys that never reached the next hop); absent when
	// there is none.
	Uncounted *Uncounted `json:"uncounted,omitempty"`
	// Probes lists the numbers of the messages given this verdict that are `wspath probe`
	// messages (their payload starts with its marker), in travel order; absent when none is.
	Probes []int `json:"probes,omitempty"`
	// Index, Time, Size and Digest describe the first missing message as seen at LastSeenHop:
	// Index is its 0-based position among the data (text, binary) messages of this direction
	// there, as `wspath inspect --messages` numbers it (Evidence.LastSeen.Index is the same number);
	// null when nothing is missing.
	Index  *int       `json:"index"`
	Time   *time.Time `json:"time"`
	Size   *int64     `json:"size"`
	Digest *string    `json:"digest"`
	// PerHop counts this direction's messages at each hop, null where the connection was unseen.
	PerHop   HopValues[HopCount] `json:"per_hop"`
	Evidence Evidence            `json:"evidence"`
	Reason   string              `json:"reason"`
}

// HopCount is how much of one direction a hop saw.
type HopCount struct {
	// Messages counts data messages (text, binary); null when the hop could not read them (TLS
	// without keys).
	Messages *int `json:"messages"`
	// Matched counts the messages that were aligned with messages at another hop.
	Matched int `json:"matched"`
	// TLSRecords counts TLS application-data records when the hop could not decrypt them.
	TLSRecords *int `json:"tls_records,omitempty"`
}

// Evidence supports a verdict with packet-level facts from the captures.
type Evidence struct {
	// LastSeen is the first missing message at the last hop that saw it.
	LastSeen *MessageRef `json:"last_seen"`
	// FirstMiss is where to look for it at the first hop missing it; null when not about a message.
	FirstMiss *MissRef `json:"first_miss"`
	// DownstreamAcked says whether, at the last hop that saw the message, the next component's
	// TCP acknowledged the bytes that carried it (true: it received the message and did not
	// forward it); null when unknown.
	DownstreamAcked *bool `json:"downstream_acked"`
	// TCP lists TCP trouble (retransmissions, zero windows, gaps, RST) at the hops around the
	// loss.
	TCP []TCPNote `json:"tcp"`
	// Ending is how the connection ended where that explains the verdict: a close frame with its
	// code, a FIN or a RST, with hop and side.
	Ending *EndNote `json:"ending"`
	// Change is, for verdict modified, the first changed message: the original and what arrived
	// instead; null otherwise.
	Change *Change `json:"change"`
	// Notes are further facts, one sentence each.
	Notes []string `json:"notes"`
}

// Change is a message that reached a hop changed: the original, at the last hop that had it
// intact, and the message that arrived in its place at the next hop, each located by file and
// packet so both can be opened side by side (`wspath inspect -m`, Wireshark's frame.number).
type Change struct {
	Original MessageVersion `json:"original"`
	Changed  MessageVersion `json:"changed"`
	// SizeDelta is the changed size minus the original size, in payload bytes.
	SizeDelta int64 `json:"size_delta"`
	// FirstDifference is the offset of the first payload byte that differs (the shorter size when
	// one payload is a prefix of the other); null when the kept previews do not reach it or
	// none were kept (--no-payload).
	FirstDifference *int64 `json:"first_difference"`
}

// MessageVersion is one version of a changed message: where it was captured, its digest and
// its payload size (unmasked and inflated).
type MessageVersion struct {
	MessageRef
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// MessageRef locates one message in one hop's capture.
type MessageRef struct {
	Hop     string `json:"hop"`
	Session int    `json:"session"`
	// Index is the message's number among the data messages of its direction there, as
	// DirectionResult.Index and `wspath inspect --messages` number it.
	Index      int       `json:"index"`
	File       string    `json:"file"`
	Packet     int       `json:"packet"`      // packet carrying the first frame header
	LastPacket int       `json:"last_packet"` // packet carrying the last byte
	Frames     int       `json:"frames"`
	Time       time.Time `json:"time"`
	// Filter is a Wireshark display filter for Packet in File ("frame.number == 121").
	Filter string `json:"filter"`
}

// MissRef says where to look for a missing message at the hop that lacks it: when it would have
// passed there, and the next packet of the connection there (a later message, or the packet that
// ended the connection), with a Wireshark display filter.
type MissRef struct {
	Hop      string    `json:"hop"`
	File     string    `json:"file"`   // "" when no later packet of the connection is known there
	Packet   int       `json:"packet"` // 0 when none
	What     string    `json:"what"`   // what that packet is: "message 7", "TCP RST from the client side"
	Expected time.Time `json:"expected"`
	// Filter is a Wireshark display filter for that packet, or else for the time from Expected on.
	Filter string `json:"filter"`
}

// TCPNote is the TCP state of one side of a connection at one hop.
type TCPNote struct {
	Hop             string `json:"hop"`
	Side            string `json:"side"` // "client" or "server": the sender of these segments
	Packets         int    `json:"packets"`
	Retransmissions int    `json:"retransmissions"`
	ZeroWindows     int    `json:"zero_windows"`
	Gaps            int    `json:"gaps"`
	RST             bool   `json:"rst"`
	FIN             bool   `json:"fin"`
}

// EndNote is the event that ended a connection at one hop.
type EndNote struct {
	Hop    string    `json:"hop"`
	Side   string    `json:"side"` // "client" or "server": who sent it
	Kind   string    `json:"kind"` // "close", "fin" or "rst"
	Code   *uint16   `json:"code"` // close code, null for FIN/RST or a close frame without code
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
	File   string    `json:"file"`
	Packet int       `json:"packet"`
}

// HopPair is what the component between two adjacent hops (the path segment between them, in
// JSON "segments") did to the connections through it.
type HopPair struct {
	From string      `json:"from"`
	To   string      `json:"to"`
	Kind SegmentKind `json:"kind"` // the most common kind over connections seen at both hops
	// Counts counts connections by kind.
	Counts SegmentCounts `json:"counts"`
}

// SegmentCounts counts connections by SegmentKind.
type SegmentCounts struct {
	Passthrough int `json:"passthrough"`
	Reframed    int `json:"reframed"`
	Terminated  int `json:"terminated"`
	Bridged     int `json:"bridged,omitempty"`
	Unknown     int `json:"unknown"`
}

// Summary is the worst verdict of the comparison and where it happened.
type Summary struct {
	Verdict         VerdictKind `json:"verdict"`
	FirstMissingHop *string     `json:"first_missing_hop"`
	Segment         *string     `json:"segment"`   // "between fw and ingress"
	Direction       *string     `json:"direction"` // "client_to_server", "server_to_client" or "both"
	// AffectedConnections counts connections with a direction of the summary's verdict.
	AffectedConnections int `json:"affected_connections"`
	// MissingMessages sums Missing over those directions.
	MissingMessages int           `json:"missing_messages"`
	Started         *time.Time    `json:"started"` // time of the first missing message
	Connections     VerdictCounts `json:"connections"`
	Reason          string        `json:"reason"`
	// LeftOut names the hops left out of the comparison (their capture holds no WebSocket, or is
	// from another run; their warnings say why). The others are judged among themselves, and
	// "delivered" then does not cover the whole path: the exit status is 3, not 0.
	LeftOut []string `json:"left_out,omitempty"`
}

// VerdictCounts counts connections by verdict.
type VerdictCounts struct {
	Delivered  int `json:"delivered"`
	CaptureGap int `json:"capture_gap"`
	Undecided  int `json:"undecided"`
	Modified   int `json:"modified"`
	Closed     int `json:"closed"`
	Lost       int `json:"lost"`
}

// ExitCode is the process exit status for the result: 0 when everything was delivered (at every
// hop: none left out), 1 when messages were proven lost, not delivered (closed) or changed in
// transit (modified), 2 when the comparison was refused (Refused), 3 when nothing was proven but
// some captures have gaps, some verdicts are undecided or a hop was left out.
func (r *Result) ExitCode() int {
	if len(r.Refused) > 0 {
		return 2
	}
	switch r.Summary.Verdict {
	case Delivered:
		if len(r.Summary.LeftOut) > 0 {
			return 3
		}
		return 0
	case Lost, Closed, Modified:
		return 1
	}
	return 3
}

// HopValue is one hop's value in a HopValues; Value is nil where the hop has none.
type HopValue[T any] struct {
	Hop   string
	Value *T
}

// HopValues holds one value per hop, in path order. It marshals to a JSON object keyed by hop
// name in path order, with null for hops without a value.
type HopValues[T any] []HopValue[T]

// Get returns the value of the named hop, or nil.
func (v HopValues[T]) Get(hop string) *T {
	for _, e := range v {
		if e.Hop == hop {
			return e.Value
		}
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (v HopValues[T]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.Hop)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		if e.Value == nil {
			b.WriteString("null")
			continue
		}
		val, err := json.Marshal(e.Value)
		if err != nil {
			return nil, err
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler, keeping the order of the object's keys.
func (v *HopValues[T]) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*v = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("schema: hop values: want an object, got %v", tok)
	}
	var out HopValues[T]
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("schema: hop values: want a hop name, got %v", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		e := HopValue[T]{Hop: name}
		if !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			e.Value = new(T)
			if err := json.Unmarshal(raw, e.Value); err != nil {
				return err
			}
		}
		out = append(out, e)
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*v = out
	return nil
}

// Uncounted is what may also be missing but cannot be counted: TLS records that a hop without
// keys carried after the last frame the next readable hop saw, and that never reached that hop.
// Missing does not count the messages they held: without keys, how many records are data
// messages (and not pings, pongs or a close) is unknown.
type Uncounted struct {
	Hop     string `json:"hop"`      // the hop without keys that carried them
	NextHop string `json:"next_hop"` // the readable hop they never reached
	Records int    `json:"tls_records"`
	// PlaintextBytes is their size less the cipher's overhead per record.
	PlaintextBytes int64     `json:"plaintext_bytes"`
	First          time.Time `json:"first"` // the first of them, at Hop
}
