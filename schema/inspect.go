package schema

// InspectSchema is the value of Inspect.Schema, naming the version of the inspect JSON contract.
const InspectSchema = "wspath.inspect/v1"

// Inspect is the JSON contract of `wspath inspect --format json` (documented in README): one
// capture's files, packet statistics, WebSocket handshakes, warnings and connections.
type Inspect struct {
	Schema      string    `json:"schema"`
	Files       []File    `json:"files"`
	Stats       Stats     `json:"stats"`
	Upgrades    Upgrades  `json:"upgrades"`
	Warnings    []string  `json:"warnings"`
	Connections []Session `json:"connections"`
}

// Upgrades counts the WebSocket handshakes seen: answered with 101 (or, for an RFC 8441
// extended CONNECT on HTTP/2, a 2xx), refused (another status: a gateway's 502, a server's 403)
// and never answered (a backend that is down or stuck, often in a reconnect storm). Connections
// picked up mid-stream have no handshake to count.
type Upgrades struct {
	Requests   int `json:"requests"`
	Switched   int `json:"switched"`
	Refused    int `json:"refused"`
	Unanswered int `json:"unanswered"`
	// Summarised are the refused and unanswered ones past the bound on such sessions kept
	// (capture.Options.MaxQuietSessions): counted here and in the totals, not listed.
	Summarised []SummarisedUpgrades `json:"summarised"`
}

// SummarisedUpgrades counts the refused or unanswered handshakes to one server port that were
// counted but not listed.
type SummarisedUpgrades struct {
	Port    uint16 `json:"port"`
	Outcome string `json:"outcome"`
	Count   int    `json:"count"`
}

// File describes one capture file read.
type File struct {
	Name      string   `json:"name"`
	Format    string   `json:"format"`
	Gzip      bool     `json:"gzip"`
	LinkTypes []string `json:"link_types"`
	Packets   int      `json:"packets"`
	Bytes     int64    `json:"bytes"`
	First     *string  `json:"first"`
	Last      *string  `json:"last"`
	Drops     *Drops   `json:"drops"` // null: the file records nothing about drops
	Stats     Stats    `json:"stats"`
}

// Drops is what the capturing system said it dropped (pcapng interface statistics).
type Drops struct {
	Dropped  int64   `json:"dropped"`
	Received *int64  `json:"received"`
	Start    *string `json:"start"`
	End      *string `json:"end"`
}

// Stats counts the packets of a capture or file by what could be done with them.
type Stats struct {
	Packets       int            `json:"packets"`
	TCP           int            `json:"tcp"`
	NonTCP        int            `json:"non_tcp"`
	Truncated     int            `json:"truncated"`
	UnknownLink   int            `json:"unknown_link"`
	Malformed     int            `json:"malformed"`
	Tunneled      int            `json:"tunneled"`
	UnknownTunnel int            `json:"unknown_tunnel"`
	Fragments     int            `json:"fragments"`
	FragmentsLost int            `json:"fragments_lost"`
	Unused        []UnusedReason `json:"unused"`
}

// PerDirection holds one value per direction under the JSON names of capture.Direction.
type PerDirection[T any] struct {
	ClientToServer T `json:"client_to_server"`
	ServerToClient T `json:"server_to_client"`
}

// Session is one WebSocket connection found in the capture (capture.Session).
type Session struct {
	ID          int                  `json:"id"`
	Key         *string              `json:"key"`
	Path        string               `json:"path"`
	Host        string               `json:"host,omitempty"`
	Client      string               `json:"client"`
	Server      string               `json:"server"`
	Tunnel      string               `json:"tunnel,omitempty"`
	Interface   string               `json:"interface,omitempty"`
	Subprotocol string               `json:"subprotocol,omitempty"`
	Extensions  string               `json:"extensions,omitempty"`
	Status      int                  `json:"status"`
	AcceptValid *bool                `json:"accept_valid,omitempty"`
	Headers     map[string]string    `json:"headers,omitempty"`
	MidStream   bool                 `json:"mid_stream"`
	TLS         *TLS                 `json:"tls,omitempty"`
	HTTP2       *HTTP2               `json:"http2,omitempty"`
	Start       string               `json:"start"`
	End         string               `json:"end"`
	Ending      string               `json:"ending"`
	Messages    PerDirection[int]    `json:"messages"`
	Control     PerDirection[int]    `json:"control_frames"`
	Incomplete  PerDirection[int]    `json:"incomplete_messages"`
	Close       PerDirection[*Close] `json:"close"`
	TCP         PerDirection[TCP]    `json:"tcp"`
	Problems    []Problem            `json:"problems"`
	MessageList []Message            `json:"message_list,omitempty"`
}

// TLS describes the TLS under a session, and whether it could be decrypted.
type TLS struct {
	SNI         string            `json:"sni,omitempty"`
	ALPN        []string          `json:"alpn,omitempty"`
	Version     string            `json:"version,omitempty"`
	CipherSuite string            `json:"cipher_suite,omitempty"`
	Resumed     bool              `json:"resumed"`
	Decrypted   bool              `json:"decrypted"`
	Reason      string            `json:"reason,omitempty"`
	Records     PerDirection[int] `json:"records"`
}

// HTTP2 describes the HTTP/2 stream of a WebSocket over HTTP/2 (RFC 8441).
type HTTP2 struct {
	StreamID uint32     `json:"stream_id"`
	Reset    *StreamEnd `json:"reset"`  // RST_STREAM, or null
	GoAway   *StreamEnd `json:"goaway"` // a GOAWAY that excluded the stream, or null
}

// StreamEnd is an HTTP/2 frame that ended a session's stream.
type StreamEnd struct {
	Direction string `json:"direction"` // the way it travelled: client_to_server is sent by the client
	Code      string `json:"code"`
	Time      string `json:"time"`
	Packet    int    `json:"packet"`
	File      string `json:"file"`
}

// Close is the close frame one side sent.
type Close struct {
	Code   uint16 `json:"code"`
	Reason string `json:"reason"`
	Time   string `json:"time"`
	Packet int    `json:"packet"`
	File   string `json:"file"`
}

// TCP is the TCP state of one direction of a session.
type TCP struct {
	Packets         int     `json:"packets"`
	Bytes           uint64  `json:"bytes"`
	Gaps            []Gap   `json:"gaps"`
	Retransmissions int     `json:"retransmissions"`
	CaptureCopies   int     `json:"capture_copies"`
	ZeroWindows     int     `json:"zero_windows"`
	FIN             *string `json:"fin"`
	RST             *string `json:"rst"`
}

// Gap is a stretch of a TCP stream the capture does not hold.
type Gap struct {
	Offset uint64 `json:"offset"`
	Length uint64 `json:"length"`
	Time   string `json:"time"`
	Reason string `json:"reason"`
}

// Problem is something in a session's bytes that could not be read as WebSocket.
type Problem struct {
	Kind      string `json:"kind"`
	Direction string `json:"direction"`
	Offset    uint64 `json:"offset"`
	File      string `json:"file,omitempty"`
	Packet    int    `json:"packet,omitempty"`
	Message   string `json:"message"`
}

// Message is one WebSocket message or control frame of a session.
type Message struct {
	Index int `json:"index"` // capture.Message.Index: position in its direction, control frames counted
	// Number is the message's number among the data (text, binary) messages of its direction, as
	// `wspath compare` numbers messages; null for control frames.
	Number     *int     `json:"number"`
	Direction  string   `json:"direction"`
	Opcode     string   `json:"opcode"`
	Length     int64    `json:"length"`
	WireLength int64    `json:"wire_length"`
	Frames     int      `json:"frames"`
	Digest     *string  `json:"digest"`
	First      string   `json:"first"`
	Last       string   `json:"last"`
	File       string   `json:"file"`
	Packet     int      `json:"packet"`
	Offset     uint64   `json:"offset"`
	Flags      []string `json:"flags"`
	CloseCode  uint16   `json:"close_code,omitempty"`
	Preview    *string  `json:"preview,omitempty"`
}
