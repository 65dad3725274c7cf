package encap

import (
	"net/netip"

	"github.com/google/gopacket"

	"github.com/wspath/wspath/capture/tcpdecode"
)

// greLayer decodes GRE (RFC 2784/2890) and what it carries. gopacket's GRE layer reads its
// optional fields without checking the length, so the header length is checked here first.
func (d *Decoder) greLayer(src, dst netip.Addr, b []byte) error {
	if len(b) < 4 {
		return d.fail(KindTruncated, "gre header", -1)
	}
	if b[0]&0x40 != 0 {
		return d.fail(KindUnknownTunnel, "gre with source routing", -1) // deprecated by RFC 2784
	}
	n := 4
	for _, bit := range []byte{0x80, 0x20, 0x10} { // checksum, key, sequence
		if b[0]&bit != 0 {
			n += 4
		}
	}
	if b[1]&0x80 != 0 { // acknowledgment number (PPTP's enhanced GRE)
		n += 4
	}
	if len(b) < n {
		return d.fail(KindTruncated, "gre header", -1)
	}
	switch v := b[1] & 7; v {
	case 0:
	case 1:
		return d.pptp(src, dst, b[:n], b[n:])
	default:
		return d.fail(KindUnknownTunnel, "gre version", int(v))
	}
	g := &d.gre
	if err := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return d.fail(KindMalformed, "gre header", -1)
	}
	proto := uint16(g.Protocol)
	switch proto {
	case etherERSPAN2:
		if !g.SeqPresent { // type I: the mirrored frame follows the GRE header directly
			if err := d.enter(TunnelERSPAN, src, dst, 0, false); err != nil {
				return err
			}
			return d.ethernet(g.Payload)
		}
		return d.erspan2(src, dst, g.Payload)
	case etherERSPAN3:
		return d.erspan3(src, dst, g.Payload)
	}
	if err := d.enter(TunnelGRE, src, dst, g.Key, g.KeyPresent); err != nil {
		return err
	}
	switch proto {
	case tcpdecode.EtherIPv4:
		return d.ipv4(g.Payload)
	case tcpdecode.EtherIPv6:
		return d.ipv6(g.Payload)
	case etherTEB:
		return d.ethernet(g.Payload)
	case etherMPLS, etherMPLSMC:
		return d.mpls(g.Payload)
	}
	return d.fail(KindUnknownTunnel, "gre protocol", int(proto))
}

// erspan2 decodes an ERSPAN type II header (8 bytes after GRE) with gopacket's layer, after
// checking the length it does not check.
func (d *Decoder) erspan2(src, dst netip.Addr, b []byte) error {
	if len(b) < 8 {
		return d.fail(KindTruncated, "erspan header", -1)
	}
	e := &d.erspan
	if err := e.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return d.fail(KindMalformed, "erspan header", -1)
	}
	if e.Version != 1 {
		return d.fail(KindUnknownTunnel, "erspan version", int(e.Version))
	}
	if err := d.enter(TunnelERSPAN, src, dst, uint32(e.SessionID), true); err != nil {
		return err
	}
	return d.ethernet(e.Payload)
}

// erspan3 decodes an ERSPAN type III header (12 bytes, then an 8-byte platform-specific
// subheader when the O flag is set). gopacket v1.1.19 has no layer for it.
func (d *Decoder) erspan3(src, dst netip.Addr, b []byte) error {
	if len(b) < 12 {
		return d.fail(KindTruncated, "erspan header", -1)
	}
	if v := b[0] >> 4; v != 2 {
		return d.fail(KindUnknownTunnel, "erspan version", int(v))
	}
	session := uint32(b[2]&0x03)<<8 | uint32(b[3])
	ft := (b[10] >> 2) & 0x1f // frame type: 0 Ethernet, 2 IP
	n := 12
	if b[11]&0x01 != 0 { // O: optional platform-specific subheader
		n += 8
	}
	if len(b) < n {
		return d.fail(KindTruncated, "erspan header", -1)
	}
	if err := d.enter(TunnelERSPAN, src, dst, session, true); err != nil {
		return err
	}
	switch ft {
	case 0:
		return d.ethernet(b[n:])
	case 2:
		if len(b) > n && b[n]>>4 == 6 {
			return d.ipv6(b[n:])
		}
		return d.ipv4(b[n:])
	}
	return d.fail(KindUnknownTunnel, "erspan frame type", int(ft))
}

// geneve decodes Geneve (RFC 8926). gopacket v1.1.19's layer copies every option into a new
// slice and keeps the header offset in a uint8 that wraps for option lengths over 247 bytes, so
// the 8-byte header is read here; options are skipped whole.
func (d *Decoder) geneve(src, dst netip.Addr, b []byte) error {
	if len(b) < 8 {
		return d.fail(KindTruncated, "geneve header", -1)
	}
	if v := b[0] >> 6; v != 0 {
		return d.fail(KindUnknownTunnel, "geneve version", int(v))
	}
	n := 8 + int(b[0]&0x3f)*4
	if len(b) < n {
		return d.fail(KindTruncated, "geneve options", -1)
	}
	proto := uint16(b[2])<<8 | uint16(b[3])
	vni := uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])
	if err := d.enter(TunnelGeneve, src, dst, vni, true); err != nil {
		return err
	}
	return d.tunnelPayload("geneve protocol", proto, b[n:])
}

// vxlanGPE decodes VXLAN with the generic protocol extension (draft-ietf-nvo3-vxlan-gpe), which
// gopacket does not know: its next-protocol byte replaces the implied Ethernet.
func (d *Decoder) vxlanGPE(src, dst netip.Addr, b []byte) error {
	if len(b) < 8 {
		return d.fail(KindTruncated, "vxlan-gpe header", -1)
	}
	vni := uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])
	if err := d.enter(TunnelVXLAN, src, dst, vni, true); err != nil {
		return err
	}
	if b[0]&0x04 == 0 { // no next protocol: Ethernet, as plain VXLAN
		return d.ethernet(b[8:])
	}
	switch b[3] {
	case 1:
		return d.ipv4(b[8:])
	case 2:
		return d.ipv6(b[8:])
	case 3:
		return d.ethernet(b[8:])
	case 5:
		return d.mpls(b[8:])
	}
	return d.fail(KindUnknownTunnel, "vxlan-gpe next protocol", int(b[3]))
}

// tunnelPayload decodes a tunnel payload named by an ethertype.
func (d *Decoder) tunnelPayload(what string, proto uint16, b []byte) error {
	switch proto {
	case tcpdecode.EtherIPv4:
		return d.ipv4(b)
	case tcpdecode.EtherIPv6:
		return d.ipv6(b)
	case etherTEB:
		return d.ethernet(b)
	case etherMPLS, etherMPLSMC:
		return d.mpls(b)
	}
	return d.fail(KindUnknownTunnel, what, int(proto))
}

// mpls decodes an MPLS label stack (RFC 3032) and its payload, which MPLS does not name: IPv4 or
// IPv6 by the version nibble, else a pseudowire's Ethernet frame (RFC 4448) after a control word
// (first nibble 0) or directly. gopacket v1.1.19 has MPLS only as a Decoder that allocates a
// packet and guesses IP alone, so the 4-byte labels are read here.
func (d *Decoder) mpls(b []byte) error {
	if err := d.enter(0, netip.Addr{}, netip.Addr{}, 0, false); err != nil {
		return err
	}
	for i := 0; ; i++ {
		if len(b) < 4 {
			return d.fail(KindTruncated, "mpls label stack", -1)
		}
		if i == 16 {
			return d.fail(KindUnknownTunnel, "mpls labels over", 16)
		}
		bottom := b[2]&0x01 != 0
		b = b[4:]
		if bottom {
			break
		}
	}
	if len(b) == 0 {
		return d.fail(KindTruncated, "mpls payload", -1)
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b)
	case 6:
		return d.ipv6(b)
	case 0: // pseudowire control word
		if len(b) < 4 {
			return d.fail(KindTruncated, "pseudowire control word", -1)
		}
		return d.ethernet(b[4:])
	case 1: // associated channel (RFC 4385): OAM, not traffic
		return d.fail(KindNotTCP, "mpls associated channel", -1)
	}
	return d.ethernet(b)
}

// pppoe decodes a PPPoE session packet (RFC 2516) and the PPP frame in it. gopacket v1.1.19
// has PPPoE and PPP only as Decoders that allocate a packet each.
func (d *Decoder) pppoe(b []byte) error {
	if err := d.enter(0, netip.Addr{}, netip.Addr{}, 0, false); err != nil {
		return err
	}
	if len(b) < 8 {
		return d.fail(KindTruncated, "pppoe header", -1)
	}
	if b[0] != 0x11 || b[1] != 0 {
		return d.fail(KindMalformed, "pppoe version/type/code", int(b[0])<<8|int(b[1]))
	}
	if n := int(b[4])<<8 | int(b[5]); 6+n < len(b) {
		b = b[:6+n] // Ethernet padding
	}
	if len(b) < 7 {
		return d.fail(KindMalformed, "pppoe length", len(b)-6)
	}
	return d.ppp(b[6:], "pppoe length")
}

// pptp decodes PPTP's enhanced GRE (RFC 2637 4.1: version 1, key present holding the payload
// length and the peer's call ID, optional sequence and acknowledgment numbers) and the PPP frame
// it carries. Its identity is the outer address pair alone: the call ID differs per direction
// (each side names the other's).
func (d *Decoder) pptp(src, dst netip.Addr, h, b []byte) error {
	if h[0]&0x20 == 0 || h[0]&0x80 != 0 || h[2] != 0x88 || h[3] != 0x0b {
		return d.fail(KindMalformed, "gre version 1 header", int(h[0])<<8|int(h[1]))
	}
	if err := d.enter(TunnelPPTP, src, dst, 0, false); err != nil {
		return err
	}
	n := int(h[4])<<8 | int(h[5])
	switch {
	case n == 0:
		return d.fail(KindNotTCP, "pptp acknowledgment", -1) // no payload: an acknowledgment alone
	case n > len(b):
		return d.fail(KindTruncated, "pptp payload", -1)
	}
	b = b[:n]
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 { // address and control, unless compressed away
		b = b[2:]
	}
	return d.ppp(b, "pptp ppp frame")
}

// ppp decodes a PPP frame's protocol field (one byte when compressed: RFC 1661 6.5) and the IPv4
// or IPv6 datagram it names; anything else (LCP, NCPs, MPPE-compressed or encrypted frames,
// protocol 0x00fd) is not traffic wspath can read.
func (d *Decoder) ppp(b []byte, what string) error {
	var proto uint16
	var p []byte
	switch {
	case len(b) == 0:
		return d.fail(KindMalformed, what, 0)
	case b[0]&1 != 0: // protocol field compression: one byte
		proto, p = uint16(b[0]), b[1:]
	case len(b) < 2:
		return d.fail(KindMalformed, what, len(b))
	default:
		proto, p = uint16(b[0])<<8|uint16(b[1]), b[2:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(p)
	case 0x0057:
		return d.ipv6(p)
	}
	return d.fail(KindNotTCP, "ppp protocol", int(proto))
}
