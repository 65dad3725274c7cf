package tcpdecode

import (
	"net/netip"

	"github.com/wspath/wspath/capture/pcapfile"
)

// Ethertypes and IP protocol numbers used by the decoder.
const (
	// EtherIPv4 and EtherIPv6 are the ethertypes of IPv4 and IPv6.
	EtherIPv4   = 0x0800
	EtherIPv6   = 0x86dd
	etherVLAN   = 0x8100 // 802.1Q
	etherQinQ   = 0x88a8 // 802.1ad
	etherQinQ91 = 0x9100 // old QinQ
	etherQinQ92 = 0x9200

	protoHopByHop = 0
	protoTCP      = 6
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDestOpts = 60

	maxIPv6ExtHeaders = 16
)

// decodeError is an error with a fixed detail, so that Decode does not allocate when it fails.
type decodeError struct {
	err    error
	detail string
}

func (e *decodeError) Error() string { return e.err.Error() + ": " + e.detail }
func (e *decodeError) Unwrap() error { return e.err }

// The errors Decode returns. They are never modified.
var (
	errLinkType      = &decodeError{ErrUnknownLinkType, "no decoder for this link type"}
	errShortLink     = &decodeError{ErrTruncated, "link-layer header not captured"}
	errShortVLAN     = &decodeError{ErrTruncated, "VLAN tag not captured"}
	errEthertype     = &decodeError{ErrNotTCP, "ethertype is not IPv4 or IPv6"}
	errAddrFamily    = &decodeError{ErrNotTCP, "address family is not IPv4 or IPv6"}
	errIPVersion     = &decodeError{ErrMalformed, "IP version does not match the link-layer type"}
	errShortIPv4     = &decodeError{ErrTruncated, "IPv4 header not captured"}
	errIPv4HdrLen    = &decodeError{ErrMalformed, "IPv4 header length below 20 or beyond total length"}
	errIPv4Proto     = &decodeError{ErrNotTCP, "IPv4 protocol is not TCP"}
	errIPv4Frag      = &decodeError{ErrFragment, "IPv4 fragment"}
	errShortIPv6     = &decodeError{ErrTruncated, "IPv6 header not captured"}
	errShortIPv6Ext  = &decodeError{ErrTruncated, "IPv6 extension header not captured"}
	errIPv6ExtLen    = &decodeError{ErrMalformed, "IPv6 extension header beyond payload length"}
	errIPv6ExtCount  = &decodeError{ErrMalformed, "too many IPv6 extension headers"}
	errIPv6Next      = &decodeError{ErrNotTCP, "IPv6 next header is not TCP"}
	errIPv6Frag      = &decodeError{ErrFragment, "IPv6 fragment"}
	errShortTCP      = &decodeError{ErrTruncated, "TCP header not captured"}
	errTCPLen        = &decodeError{ErrMalformed, "TCP header longer than the IP payload"}
	errTCPDataOffset = &decodeError{ErrMalformed, "TCP data offset below 20 bytes"}
)

// Decode decodes the packet data, of link type lt, into seg. On error seg is left partly written
// and the error wraps ErrUnknownLinkType, ErrNotTCP, ErrFragment, ErrTruncated or ErrMalformed.
// seg.Payload aliases data. Decode does not allocate and keeps no state between packets (what
// needs state, tunnels and IP fragments, is package encap's), so it is safe for concurrent use.
func Decode(lt pcapfile.LinkType, data []byte, seg *Segment) error {
	// The link switch is LinkPayload's, kept inline here: this is the per-packet fast path.
	var etype uint16
	var b []byte
	seg.Iface, seg.Way = 0, WayUnknown
	switch lt {
	case pcapfile.LinkEthernet:
		if len(data) < 14 {
			return errShortLink
		}
		etype, b = be16(data[12:]), data[14:]
	case pcapfile.LinkLinuxSLL:
		if len(data) < 16 {
			return errShortLink
		}
		etype, b, seg.Way = be16(data[14:]), data[16:], wayOf(be16(data))
	case pcapfile.LinkLinuxSLL2:
		if len(data) < 20 {
			return errShortLink
		}
		etype, b, seg.Iface = be16(data), data[20:], be32(data[4:])
	default:
		var err error
		if etype, b, err = LinkPayload(lt, data); err != nil {
			return err
		}
	}
	for etype == etherVLAN || etype == etherQinQ || etype == etherQinQ91 || etype == etherQinQ92 {
		if len(b) < 4 {
			return errShortVLAN
		}
		etype, b = be16(b[2:]), b[4:]
	}
	switch etype {
	case EtherIPv4:
		return decodeIPv4(b, seg)
	case EtherIPv6:
		return decodeIPv6(b, seg)
	}
	return errEthertype
}

// LinkPayload strips the link-layer header (and the VLAN tags of Ethernet and cooked captures)
// of a packet of link type lt and returns the ethertype of what follows and those bytes, which
// alias data. Link types that carry IP without an ethertype (raw IP, BSD loopback) report
// EtherIPv4 or EtherIPv6. Errors wrap ErrUnknownLinkType, ErrNotTCP, ErrTruncated or ErrMalformed.
func LinkPayload(lt pcapfile.LinkType, data []byte) (uint16, []byte, error) {
	var etype uint16
	var b []byte
	switch lt {
	case pcapfile.LinkEthernet:
		if len(data) < 14 {
			return 0, nil, errShortLink
		}
		etype, b = be16(data[12:]), data[14:]
	case pcapfile.LinkLinuxSLL:
		if len(data) < 16 {
			return 0, nil, errShortLink
		}
		etype, b = be16(data[14:]), data[16:]
	case pcapfile.LinkLinuxSLL2:
		if len(data) < 20 {
			return 0, nil, errShortLink
		}
		etype, b = be16(data), data[20:]
	case pcapfile.LinkRaw, pcapfile.LinkRawDLT12, pcapfile.LinkRawDLT14:
		if len(data) < 1 {
			return 0, nil, errShortLink
		}
		switch data[0] >> 4 {
		case 4:
			return EtherIPv4, data, nil
		case 6:
			return EtherIPv6, data, nil
		}
		return 0, nil, errIPVersion
	case pcapfile.LinkIPv4:
		return EtherIPv4, data, nil
	case pcapfile.LinkIPv6:
		return EtherIPv6, data, nil
	case pcapfile.LinkNull, pcapfile.LinkLoop:
		if len(data) < 4 {
			return 0, nil, errShortLink
		}
		af := be32(data)
		if lt == pcapfile.LinkNull && af > 0xffff {
			af = le32(data) // written in the little-endian capturing host's byte order
		}
		switch af {
		case 2:
			return EtherIPv4, data[4:], nil
		case 24, 28, 30: // AF_INET6 on NetBSD/OpenBSD, FreeBSD, macOS
			return EtherIPv6, data[4:], nil
		}
		return 0, nil, errAddrFamily
	default:
		return 0, nil, errLinkType
	}
	for IsVLAN(etype) {
		if len(b) < 4 {
			return 0, nil, errShortVLAN
		}
		etype, b = be16(b[2:]), b[4:]
	}
	return etype, b, nil
}

// IsVLAN reports whether etype is a VLAN tag's: 802.1Q, 802.1ad or the older QinQ 0x9100/0x9200.
func IsVLAN(etype uint16) bool {
	return etype == etherVLAN || etype == etherQinQ || etype == etherQinQ91 || etype == etherQinQ92
}

// DecodeIP decodes an IPv4 or IPv6 packet (by its version) starting at b[0] into seg, as Decode
// does after the link layer; errors likewise.
func DecodeIP(b []byte, seg *Segment) error {
	if len(b) > 0 && b[0]>>4 == 6 {
		return decodeIPv6(b, seg)
	}
	return decodeIPv4(b, seg)
}

// decodeIPv4 decodes an IPv4 packet starting at b[0].
func decodeIPv4(b []byte, seg *Segment) error {
	if len(b) < 20 {
		return errShortIPv4
	}
	if b[0]>>4 != 4 {
		return errIPVersion
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(be16(b[2:]))
	if total == 0 { // segmentation offload: the length is not filled in yet
		total = len(b)
	}
	if ihl < 20 || ihl > total {
		return errIPv4HdrLen
	}
	if ihl > len(b) {
		return errShortIPv4
	}
	if b[9] != protoTCP {
		return errIPv4Proto
	}
	if be16(b[6:])&0x3fff != 0 { // more-fragments flag or an offset: a part of a datagram
		return errIPv4Frag
	}
	if total < len(b) {
		b = b[:total] // Ethernet padding or trailer
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	return decodeTCP(b[ihl:], total-ihl, src, dst, seg)
}

// decodeIPv6 decodes an IPv6 packet starting at b[0], skipping extension headers.
func decodeIPv6(b []byte, seg *Segment) error {
	if len(b) < 40 {
		return errShortIPv6
	}
	if b[0]>>4 != 6 {
		return errIPVersion
	}
	total := 40 + int(be16(b[4:]))
	if total == 40 { // jumbogram or segmentation offload: use what was captured
		total = len(b)
	}
	if total < len(b) {
		b = b[:total]
	}
	next, off := b[6], 40
	for range maxIPv6ExtHeaders {
		var n int
		switch next {
		case protoTCP:
			src := netip.AddrFrom16([16]byte(b[8:24]))
			dst := netip.AddrFrom16([16]byte(b[24:40]))
			return decodeTCP(b[off:], total-off, src, dst, seg)
		case protoHopByHop, protoRouting, protoDestOpts, protoAH, protoFragment:
			if total-off < 8 {
				return errIPv6ExtLen
			}
			if len(b)-off < 8 {
				return errShortIPv6Ext
			}
			switch next {
			case protoFragment:
				if be16(b[off+2:])&0xfff9 != 0 { // offset or M flag; an atomic fragment is whole
					return errIPv6Frag
				}
				n = 8
			case protoAH:
				n = (int(b[off+1]) + 2) * 4
			default:
				n = (int(b[off+1]) + 1) * 8
			}
		default:
			return errIPv6Next
		}
		if n > total-off {
			return errIPv6ExtLen
		}
		if n > len(b)-off {
			return errShortIPv6Ext
		}
		next, off = b[off], off+n
	}
	return errIPv6ExtCount
}

// decodeTCP decodes a TCP header at b[0]; length is the TCP length the IP header gives and
// len(b) <= length is what was captured of it.
func decodeTCP(b []byte, length int, src, dst netip.Addr, seg *Segment) error {
	if length < 20 {
		return errTCPLen
	}
	if len(b) < 20 {
		return errShortTCP
	}
	off := int(b[12]>>4) * 4
	if off < 20 {
		return errTCPDataOffset
	}
	if off > length {
		return errTCPLen
	}
	if off > len(b) {
		return errShortTCP
	}
	seg.Src = netip.AddrPortFrom(src, be16(b))
	seg.Dst = netip.AddrPortFrom(dst, be16(b[2:]))
	seg.Seq = be32(b[4:])
	seg.Ack = be32(b[8:])
	seg.Flags = Flags(b[13])
	seg.Window = be16(b[14:])
	seg.WindowScale = -1
	seg.Tunnel = 0
	if seg.Flags&SYN != 0 && off > 20 {
		seg.WindowScale = windowScale(b[20:off])
	}
	seg.Payload = b[off:]
	seg.PayloadLength = length - off
	return nil
}

// windowScale returns the shift count of the window scale option in opts, or -1.
func windowScale(opts []byte) int8 {
	for len(opts) > 0 {
		switch opts[0] {
		case 0: // end of options
			return -1
		case 1: // no-operation
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return -1
		}
		if opts[0] == 3 && opts[1] == 3 {
			return int8(min(opts[2], 14))
		}
		opts = opts[opts[1]:]
	}
	return -1
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
