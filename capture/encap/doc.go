// Package encap decodes the packets that tcpdecode's fast path does not: TCP carried in tunnels
// and port-mirror encapsulations, and fragmented IP datagrams.
//
// It sits beside tcpdecode in wspath's capture pipeline and sees only what the fast path gave
// up on (tcpdecode.ErrNotTCP or tcpdecode.ErrFragment), so plain captures never reach it:
//
//	bytes -> packets (pcapfile) -> TCP segments (tcpdecode, else encap) -> streams (tcpstream) -> ...
//
// Encapsulations: VXLAN (UDP 4789 and Linux's 8472), VXLAN-GPE (4790), Geneve (6081, with
// options), GRE (checksum, key, sequence; IPv4, IPv6, MPLS and transparent Ethernet payloads),
// PPTP's enhanced GRE (version 1) carrying PPP, ERSPAN types I, II and III, IPv4-in-IPv4,
// IPv6-in-IPv4 (6in4), IPv4/IPv6-in-IPv6, MPLS label stacks (IPv4, IPv6, and pseudowire Ethernet
// with or without control word), PPPoE sessions and VLAN tags at any level, nested up to MaxDepth
// deep. IPv4 and IPv6 fragments are reassembled
// at any level, within bounded memory.
//
// Each tunnel a segment came through (kind, outer addresses as an unordered pair, VNI, GRE key or
// ERSPAN session; not PPTP's call ID, which each direction sets to the other side's) gets a number, stored in Segment.Tunnel, so that equal inner addresses in two
// overlays are two connections; Tunnel names it. MPLS labels, VLAN tags and PPPoE sessions are
// not part of it: they change hop by hop or differ between the two directions of a connection.
//
// Headers are read with gopacket's layers (IPv4, UDP, VXLAN, GRE, ERSPAN II, Ethernet, 802.1Q)
// where gopacket v1.1.19 has a DecodingLayer that gets them right; the rest are decoded here,
// see the README's design notes:
//
//	d := encap.NewDecoder(encap.Config{})
//	err := fast.Decode(p.LinkType, p.Data, &seg)
//	if errors.Is(err, tcpdecode.ErrNotTCP) || errors.Is(err, tcpdecode.ErrFragment) {
//		err = d.Decode(p.LinkType, p.Data, p.Time, &seg)
//		// nil: seg holds a TCP segment; errors.Is(err, encap.ErrHeld): a fragment kept for
//		// later; otherwise d.Reason() says why the packet was of no use.
//	}
package encap
