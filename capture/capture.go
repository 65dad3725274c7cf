package capture

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/wspath/wspath/capture/encap"
)

// Options tune Read. The zero value means the defaults.
type Options struct {
	// PreviewSize is how many payload bytes each Message keeps for people to read. 0 means 64;
	// a negative value keeps none (--no-payload).
	PreviewSize int
	// MaxMessageSize bounds the payload bytes hashed per message, after decompression; past it
	// the message is flagged Oversize. 0 means 64 MiB.
	MaxMessageSize int64
	// MaxConnBuffer bounds out-of-order bytes buffered per TCP connection. 0 means 4 MiB.
	MaxConnBuffer int
	// MaxTotalBuffer bounds out-of-order bytes buffered across all connections. It bounds
	// separately, with the same value, the compressed bytes of permessage-deflate messages waiting
	// to be inflated, and the bytes held for HTTP heads and frame resynchronisation (a connection
	// past that is no longer read, with a warning). 0 means 256 MiB.
	MaxTotalBuffer int
	// KeylogFiles are NSS key log files (SSLKEYLOGFILE format) for TLS decryption. Secrets found
	// in pcapng Decryption Secrets Blocks are used as well. Lines that do not parse are warnings.
	KeylogFiles []string
	// Server, when valid, keeps only connections to this server address (port 0: any port).
	Server netip.AddrPort
	// Port, when not 0, keeps only connections with this server port.
	Port uint16
	// MaxConnections bounds the TCP connections tracked at once (a SYN flood, a reconnect storm);
	// past it the least recently active is ended early, and a warning says how many were. 0 means
	// DefaultMaxConnections.
	MaxConnections int
	// MaxQuietSessions bounds the sessions kept whose WebSocket never opened and that carried no
	// message: an Upgrade nobody answered, or answered with another status. Past it they are
	// counted per server port and outcome in Capture.Summarised instead. 0 means
	// DefaultMaxQuietSessions.
	MaxQuietSessions int
	// TunnelPorts names UDP ports that carry VXLAN or Geneve besides their standard ones (a
	// VXLAN on 9999): packets to them are decoded as that tunnel. Unnamed ports are never guessed.
	TunnelPorts encap.Ports
	// Bridge reads the connections to Server or Port (one must be set) as the TCP side of a
	// WebSocket-to-TCP bridge: plain byte streams, kept in Capture.Streams with their payload.
	Bridge bool
	// Progress, when set, is called every few thousand packets and once at the end with how far
	// the read is, for a progress display; it must return quickly. Bytes are counted from the
	// packets read, so for gzipped files they can run past Total (the compressed size).
	Progress func(Progress)
	// CountOnly counts the messages of each session (Session.Counts) without keeping them:
	// Session.Messages stays empty, so memory follows the number of connections, not of messages
	// (inspect without --messages).
	CountOnly bool
	// Compact keeps only Session.Entries, not Session.Messages: 40 bytes per message, what
	// compare needs. The full Message of the few messages a report names is read again with
	// ReadEvidence.
	Compact bool
	// Serial reads on the calling goroutine only. Otherwise a second goroutine reads the files
	// and decodes the packets' headers while the first reassembles the connections, so that a
	// read uses two cores; a caller that reads as many captures at once as there are cores
	// gains nothing from that.
	Serial bool
	// evidence, when not nil, keeps Messages only for those it names, and no Entries
	// (ReadEvidence).
	evidence map[evidenceKey]bool
	// flushEvery, with ReduceContext, is how many messages of a direction are held before they
	// are written; 0 means digestFlush (tests write after a few, to interleave connections).
	flushEvery int
}

// Bounds on what a flood can make Read keep.
const (
	DefaultMaxConnections   = 1 << 17
	DefaultMaxQuietSessions = 100000
)

// SummaryCount is a number of quiet sessions (see Options.MaxQuietSessions) not kept one by one.
type SummaryCount struct {
	Port    uint16 // server port
	Outcome string // "unanswered" (no response to the Upgrade) or "refused" (a status other than 101)
	Count   int
}

// FileInfo describes one capture file as read.
type FileInfo struct {
	Name      string
	Format    string   // "pcap" or "pcapng"
	Gzip      bool     // the file was gzip-compressed
	LinkTypes []string // link types seen, e.g. "ethernet", "linux_sll2"
	Packets   int
	Bytes     int64 // captured bytes of packet data
	First     time.Time
	Last      time.Time
	// Drops is what the capturing system counted for the file's interfaces (pcapng Interface
	// Statistics Blocks); nil when the file records nothing about drops (tcpdump's pcap).
	Drops *Drops
	// Stats counts this file's packets by what became of them; Unused says which could not be
	// used and why.
	Stats  Stats
	Unused []Unused
}

// Drops are packets a capture admits it did not record: the interface or the capturing kernel
// dropped them (a full capture buffer). Messages missing at such a hop may be missing from the
// capture only.
type Drops struct {
	Dropped  int64     // packets dropped by the interfaces and the operating system
	Received int64     // packets the interfaces received; -1 when not recorded
	Start    time.Time // when counting began; zero when not recorded
	End      time.Time // when counting ended; zero when not recorded
}

// Warning is a problem with part of a capture that did not stop it from being read.
type Warning struct {
	File    string
	Packet  int // 1-based packet number, 0 when not about one packet
	Message string
}

// String formats the warning as "file: packet N: message".
func (w Warning) String() string {
	switch {
	case w.File == "":
		return w.Message
	case w.Packet > 0:
		return fmt.Sprintf("%s: packet %d: %s", w.File, w.Packet, w.Message)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Message)
}

// Stats counts packets by what became of them.
type Stats struct {
	Packets     int // all packets read
	TCP         int // TCP segments decoded, including those in tunnels and reassembled datagrams
	NonTCP      int // packets that were not TCP over IPv4/IPv6, inside tunnels or not
	Truncated   int // packets cut by the snap length
	UnknownLink int // packets of a link type wspath cannot decode
	Malformed   int // packets whose headers did not decode
	// Tunneled counts the TCP segments decoded from inside a tunnel or encapsulation.
	Tunneled int
	// UnknownTunnel counts packets in an encapsulation wspath does not decode.
	UnknownTunnel int
	// Fragments counts IP fragment packets; FragmentsLost those whose datagram was never
	// reassembled (a part missing, overlapping parts that disagree, the memory bound). Lost
	// fragments are counted for the whole capture only, not per file.
	Fragments     int
	FragmentsLost int
}

// Unused counts the packets not used for one reason.
type Unused struct {
	Kind    string // "not_tcp", "unknown_tunnel", "unknown_link", "fragment", "malformed", "truncated"
	Reason  string // e.g. "udp port 53", "gre protocol 0x880b inside 1 encapsulation(s)"
	Packets int
}

// UnusedPackets returns how many packets of the list could not be used, for any reason.
func UnusedPackets(us []Unused) int {
	n := 0
	for _, u := range us {
		n += u.Packets
	}
	return n
}

// Capture is everything read from the capture files of one hop.
type Capture struct {
	Files    []FileInfo
	Start    time.Time
	End      time.Time
	Stats    Stats
	Sessions []*Session
	Streams  []*Stream // with Options.Bridge: the bridged TCP connections
	Warnings []Warning
	// Unused lists the packets of all files that could not be used, by reason, most packets
	// first; FileInfo.Unused has each file's.
	Unused []Unused
	// TCPConnections counts the TCP connections seen, WebSocket or not, and ServerPorts their
	// server ports, most used first: what a capture holds when it holds no WebSocket (a capture
	// filter that missed the port, the wrong interface).
	TCPConnections int
	ServerPorts    []PortCount
	// Summarised counts the quiet sessions past Options.MaxQuietSessions, by server port and
	// outcome, most first; their connections are not in Sessions.
	Summarised []SummaryCount
}

// PortCount is how many TCP connections went to one server port.
type PortCount struct {
	Port  uint16
	Conns int
}
