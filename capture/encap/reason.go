package encap

import (
	"errors"
	"fmt"

	"github.com/google/gopacket/layers"
)

// Errors Decode returns besides tcpdecode's; test with errors.Is.
var (
	// ErrHeld: the packet is a fragment, kept until its datagram is complete.
	ErrHeld = errors.New("IP fragment held for reassembly")
	// ErrUnknownTunnel: the packet is in an encapsulation wspath does not decode (a GRE
	// protocol, an MPLS payload, nesting deeper than MaxDepth, ...).
	ErrUnknownTunnel = errors.New("unknown tunnel")
	// ErrFragments: a fragment that cannot be reassembled (overlapping with different bytes, a
	// datagram over 64 KiB) or past the memory bound.
	ErrFragments = errors.New("IP fragment not reassembled")
)

// Kind classifies why a packet was of no use.
type Kind uint8

// Kinds of Reason.
const (
	KindNone          Kind = iota
	KindNotTCP             // well-formed, but no TCP in it
	KindUnknownTunnel      // an encapsulation wspath does not decode
	KindFragment           // a fragment never reassembled
	KindMalformed          // a header is impossible
	KindTruncated          // headers cut by the snap length
)

// String returns "not_tcp", "unknown_tunnel", "fragment", "malformed" or "truncated".
func (k Kind) String() string {
	switch k {
	case KindNotTCP:
		return "not_tcp"
	case KindUnknownTunnel:
		return "unknown_tunnel"
	case KindFragment:
		return "fragment"
	case KindMalformed:
		return "malformed"
	case KindTruncated:
		return "truncated"
	}
	return "none"
}

// Reason.What of a UDP packet on a port no tunnel was named for, whose payload looks like a
// tunnel's header: Num is its destination port.
const (
	whatVXLANLike  = "vxlan-like udp port"
	whatGeneveLike = "geneve-like udp port"
)

// Reason says why the last packet Decode was given was of no use. It is a comparable value, so
// callers can count packets per Reason in a map without allocating.
type Reason struct {
	Kind  Kind
	What  string // a fixed phrase: "ethertype", "ip protocol", "udp port", "gre protocol", ...
	Num   int    // the number What names, -1 when none
	Depth int    // encapsulations peeled before the point of failure
}

// String describes the reason, e.g. "ethertype 0x0806 (ARP)" or "gre protocol 0x880b (PPP)
// inside 1 tunnel".
func (r Reason) String() string {
	s := r.What
	switch {
	case r.Num < 0:
	case r.What == "ethertype" || r.What == "gre protocol" || r.What == "geneve protocol" || r.What == "ppp protocol":
		s += fmt.Sprintf(" 0x%04x", r.Num)
		if n := layers.EthernetType(r.Num).String(); r.What != "ppp protocol" && !isUnknownName(n) {
			s += " (" + n + ")"
		}
	case r.What == whatVXLANLike || r.What == whatGeneveLike:
		kind, field := "VXLAN", "vxlan_port"
		if r.What == whatGeneveLike {
			kind, field = "Geneve", "geneve_port"
		}
		s = fmt.Sprintf("udp port %d (looks like %s: name the port with %s to decode it)", r.Num, kind, field)
	case r.What == "ip protocol":
		s += fmt.Sprintf(" %d", r.Num)
		if n := layers.IPProtocol(r.Num).String(); !isUnknownName(n) {
			s += " (" + n + ")"
		}
	default:
		s += fmt.Sprintf(" %d", r.Num)
	}
	if r.Depth > 0 {
		s += fmt.Sprintf(" inside %d encapsulation(s)", r.Depth)
	}
	return s
}

// isUnknownName reports whether gopacket's enum String gave no name ("Unknown..." or a number).
func isUnknownName(n string) bool {
	return n == "" || len(n) >= 7 && n[:7] == "Unknown" || n[0] >= '0' && n[0] <= '9'
}
