// Package tcpdecode decodes the link, IP and TCP headers of a captured packet into a Segment.
//
// It is the second stage of wspath's capture pipeline:
//
//	bytes -> packets (pcapfile) -> TCP segments (tcpdecode) -> streams (tcpstream) -> ...
//
// Link types: Ethernet (with 802.1Q, 802.1ad and 0x9100 VLAN tags), Linux cooked captures v1 and
// v2 (tcpdump -i any), raw IP (101, 12, 14, 228, 229), BSD null and OpenBSD loop. Network: IPv4 with
// options and IPv6 with hop-by-hop, routing, fragment, destination-options and AH extension
// headers. A part of a fragmented datagram is ErrFragment and anything else that is not plain TCP
// ErrNotTCP: package encap takes those (tunnels, reassembly), using LinkPayload and DecodeIP. Ethernet padding is trimmed using the IP length; an IP length of 0 (TSO/GSO captures)
// means "whatever was captured". Checksums are not verified: captures taken on the sending host
// see them before the NIC fills them in.
//
// The headers are decoded by hand, without gopacket, at a few nanoseconds per packet and with no
// allocation:
//
//	var seg tcpdecode.Segment
//	for {
//		p, err := r.Next() // a pcapfile.Reader
//		...
//		if err := tcpdecode.Decode(p.LinkType, p.Data, &seg); err != nil {
//			continue // errors.Is(err, tcpdecode.ErrNotTCP) etc.
//		}
//		use(seg.Src, seg.Dst, seg.Seq, seg.Payload) // Payload aliases p.Data
//	}
package tcpdecode
