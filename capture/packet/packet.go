// Package packet names a captured packet for every stage of package capture, as gopacket's
// CaptureInfo does for its layers: the TCP reassembly (tcpstream), the frame parser (wsframe), TLS
// decryption (tlsdecrypt) and the HTTP/2 demultiplexer (h2demux) all pass the same Meta along with
// the bytes a packet carried, so that a message, an error or a gap can say which packet to open
// in Wireshark. It is a leaf: it imports nothing of wspath, and every stage may import it.
package packet

import "time"

// Meta identifies a captured packet: its capture time, the capture file and the packet's 1-based
// number in that file.
type Meta struct {
	Time   time.Time // capture time
	File   string    // capture file name
	Number int       // 1-based packet number in File
}

// Ref returns the file and number of m, without its time.
func (m Meta) Ref() Ref { return Ref{File: m.File, Number: m.Number} }

// Ref names a captured packet without its time: the capture file and the packet's 1-based number
// in it, as Wireshark numbers frames.
type Ref struct {
	File   string
	Number int
}

// Direction is the way bytes travel on a connection whose client is known: the client is the
// side that opened it (sent the SYN, the TLS ClientHello, the HTTP request).
type Direction uint8

// The two directions of a connection; they index per-direction arrays.
const (
	ClientToServer Direction = iota
	ServerToClient
)

// Other returns the opposite direction.
func (d Direction) Other() Direction { return d ^ 1 }

// String returns the name used in JSON output: "client_to_server" or "server_to_client".
func (d Direction) String() string {
	if d == ServerToClient {
		return "server_to_client"
	}
	return "client_to_server"
}
