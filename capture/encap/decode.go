package encap

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// MaxDepth bounds the encapsulations peeled from one packet (tunnels, MPLS label stacks, PPPoE
// and Ethernet-in-something each count one); deeper nesting is ErrUnknownTunnel.
const MaxDepth = 8

// maxTunnels bounds the tunnel identities numbered per Decoder (distinct outer address pairs and
// ids); packets of further tunnels are ErrUnknownTunnel.
const maxTunnels = 1 << 20

// UDP ports that carry tunnels.
const (
	portVXLAN      = 4789
	portVXLANLinux = 8472 // the Linux kernel's default before IANA assigned 4789
	portVXLANGPE   = 4790
	portGeneve     = 6081
)

// Ethertypes (also GRE and Geneve protocol types) handled here beyond IPv4/IPv6.
const (
	etherTEB     = 0x6558 // transparent Ethernet bridging
	etherERSPAN2 = 0x88be // ERSPAN type I (no GRE sequence number) and II
	etherERSPAN3 = 0x22eb
	etherMPLS    = 0x8847
	etherMPLSMC  = 0x8848
	etherPPPoE   = 0x8864 // PPPoE session stage
)

// TunnelKind is the kind of one tunnel level in a tunnel's identity.
type TunnelKind uint8

// Tunnel kinds.
const (
	TunnelVXLAN TunnelKind = iota + 1
	TunnelGeneve
	TunnelGRE
	TunnelERSPAN
	TunnelIPinIP // IPv4 or IPv6 in IPv4 or IPv6
	TunnelPPTP   // PPTP's enhanced GRE (version 1) carrying PPP
)

// String returns "vxlan", "geneve", "gre", "erspan", "ip-in-ip" or "pptp".
func (k TunnelKind) String() string {
	switch k {
	case TunnelVXLAN:
		return "vxlan"
	case TunnelGeneve:
		return "geneve"
	case TunnelGRE:
		return "gre"
	case TunnelERSPAN:
		return "erspan"
	case TunnelIPinIP:
		return "ip-in-ip"
	case TunnelPPTP:
		return "pptp"
	}
	return "tunnel"
}

// level is one tunnel a packet came through: the part of its identity kept in the key.
type level struct {
	kind  TunnelKind
	lo    [16]byte // outer addresses, lower first, so both directions share the identity
	hi    [16]byte
	id    uint32 // VNI, GRE key or ERSPAN session
	hasID bool
}

// Config tunes a Decoder. The zero value means the defaults.
type Config struct {
	// MaxFragmentBytes bounds the bytes of incomplete datagrams held for reassembly; past it the
	// oldest are dropped. 0 means 16 MiB.
	MaxFragmentBytes int
	// FragmentTimeout is how long, in capture time, an incomplete datagram waits for its other
	// fragments (Linux's ipfrag_time). 0 means 30s.
	FragmentTimeout time.Duration
	// Ports are the UDP ports that carry a tunnel besides its standard ones.
	Ports Ports
}

// Ports names UDP destination ports on which a capture carries VXLAN or Geneve besides their
// standard ones (4789 and Linux's 8472; 6081): a VXLAN on 9999, say. A tunnel is never guessed
// from a port nobody named; such packets are counted as unused, with a hint when their payload
// looks like a tunnel header.
type Ports struct {
	VXLAN  []uint16
	Geneve []uint16
}

// Decoder decodes tunnelled and fragmented packets into TCP segments. Make one with NewDecoder;
// it holds fragments and tunnel numbers between packets, so it is not safe for concurrent use
// and one Decoder should see all the packets of a capture, in capture order.
type Decoder struct {
	levels  [MaxDepth]level
	nlevels int
	depth   int // encapsulations peeled so far, tunnels or not (Ethernet frames inside them not counted)
	frames  int // Ethernet frames met inside encapsulations, bounded like depth
	ids     map[string]uint32
	names   []string
	key     []byte
	frag    defragmenter
	why     Reason
	seg     *tcpdecode.Segment
	now     time.Time
	ports   Ports

	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	ip4    layers.IPv4
	udp    layers.UDP
	vxlan  layers.VXLAN
	gre    layers.GRE
	erspan layers.ERSPANII
}

// NewDecoder returns a Decoder.
func NewDecoder(cfg Config) *Decoder {
	if cfg.MaxFragmentBytes <= 0 {
		cfg.MaxFragmentBytes = 16 << 20
	}
	if cfg.FragmentTimeout <= 0 {
		cfg.FragmentTimeout = 30 * time.Second
	}
	return &Decoder{ids: map[string]uint32{}, frag: newDefragmenter(cfg), ports: cfg.Ports}
}

// Decode decodes a packet of link type lt captured at t into seg. It returns nil when seg holds
// a TCP segment (seg.Tunnel names its tunnel, 0 for none; seg.Payload aliases data or, for a
// reassembled datagram, a buffer of the Decoder valid until the next call); ErrHeld for a
// fragment kept for later; otherwise an error wrapping tcpdecode.ErrNotTCP, ErrUnknownTunnel,
// ErrFragments, tcpdecode.ErrUnknownLinkType, ErrTruncated or ErrMalformed, with Reason saying
// more.
func (d *Decoder) Decode(lt pcapfile.LinkType, data []byte, t time.Time, seg *tcpdecode.Segment) error {
	d.nlevels, d.depth, d.frames, d.seg, d.now, d.why = 0, 0, 0, seg, t, Reason{}
	d.frag.expire(t)
	etype, b, err := tcpdecode.LinkPayload(lt, data)
	if err != nil {
		switch {
		case errors.Is(err, tcpdecode.ErrNotTCP):
			d.why = Reason{Kind: KindNotTCP, What: "address family", Num: -1}
		case errors.Is(err, tcpdecode.ErrTruncated):
			d.why = Reason{Kind: KindTruncated, What: "link-layer header", Num: -1}
		case errors.Is(err, tcpdecode.ErrMalformed):
			d.why = Reason{Kind: KindMalformed, What: "link-layer header", Num: -1}
		}
		return err
	}
	return d.ether(etype, b)
}

// Encapsulated reports whether the last packet decoded came through at least one
// encapsulation (a tunnel, MPLS, PPPoE).
func (d *Decoder) Encapsulated() bool { return d.depth > 0 }

// Reason says why the last packet given to Decode was of no use; its Kind is KindNone after a
// success or ErrHeld.
func (d *Decoder) Reason() Reason { return d.why }

// Tunnel describes tunnel number id (a Segment.Tunnel), outermost first, e.g.
// "vxlan vni 42 10.0.0.1<->10.0.0.2"; "" for 0 or an unknown number.
func (d *Decoder) Tunnel(id uint32) string {
	if id == 0 || int(id) > len(d.names) {
		return ""
	}
	return d.names[id-1]
}

// fail records why the packet is of no use and returns the matching error.
func (d *Decoder) fail(k Kind, what string, num int) error {
	d.why = Reason{Kind: k, What: what, Num: num, Depth: d.depth}
	switch k {
	case KindNotTCP:
		return tcpdecode.ErrNotTCP
	case KindUnknownTunnel:
		return ErrUnknownTunnel
	case KindFragment:
		return ErrFragments
	case KindTruncated:
		return tcpdecode.ErrTruncated
	}
	return tcpdecode.ErrMalformed
}

// enter counts one more encapsulation and, for a tunnel (kind != 0), records its identity.
func (d *Decoder) enter(kind TunnelKind, src, dst netip.Addr, id uint32, hasID bool) error {
	if d.depth >= MaxDepth {
		return d.fail(KindUnknownTunnel, "encapsulations nested deeper than", MaxDepth)
	}
	d.depth++
	if kind == 0 {
		return nil
	}
	l := level{kind: kind, lo: src.As16(), hi: dst.As16(), id: id, hasID: hasID}
	if string(l.hi[:]) < string(l.lo[:]) {
		l.lo, l.hi = l.hi, l.lo
	}
	d.levels[d.nlevels] = l
	d.nlevels++
	return nil
}

// tunnelID returns the number of the current tunnel path, numbering it when new; 0 outside
// tunnels, and ok false past maxTunnels.
func (d *Decoder) tunnelID() (uint32, bool) {
	if d.nlevels == 0 {
		return 0, true
	}
	k := d.key[:0]
	for _, l := range d.levels[:d.nlevels] {
		k = append(k, byte(l.kind))
		k = append(k, l.lo[:]...)
		k = append(k, l.hi[:]...)
		if l.hasID {
			k = append(k, 1, byte(l.id>>24), byte(l.id>>16), byte(l.id>>8), byte(l.id))
		} else {
			k = append(k, 0)
		}
	}
	d.key = k
	if id, ok := d.ids[string(k)]; ok {
		return id, true
	}
	if len(d.names) >= maxTunnels {
		return 0, false
	}
	id := uint32(len(d.names) + 1)
	d.ids[string(k)] = id
	d.names = append(d.names, d.describe())
	return id, true
}

// describe names the current tunnel path, outermost first.
func (d *Decoder) describe() string {
	var b strings.Builder
	for i, l := range d.levels[:d.nlevels] {
		if i > 0 {
			b.WriteString(" / ")
		}
		b.WriteString(l.kind.String())
		if l.hasID {
			switch l.kind {
			case TunnelVXLAN, TunnelGeneve:
				b.WriteString(" vni ")
			case TunnelERSPAN:
				b.WriteString(" session ")
			default:
				b.WriteString(" key ")
			}
			b.WriteString(strconv.FormatUint(uint64(l.id), 10))
		}
		b.WriteByte(' ')
		b.WriteString(addrString(l.lo))
		b.WriteString("<->")
		b.WriteString(addrString(l.hi))
	}
	return b.String()
}

func addrString(a [16]byte) string { return netip.AddrFrom16(a).Unmap().String() }

// ether decodes what follows an ethertype: VLAN tags, IP, MPLS, PPPoE, Ethernet.
func (d *Decoder) ether(etype uint16, b []byte) error {
	for tcpdecode.IsVLAN(etype) {
		if err := d.dot1q.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
			return d.fail(KindTruncated, "vlan tag", -1)
		}
		etype, b = uint16(d.dot1q.Type), d.dot1q.Payload
	}
	switch etype {
	case tcpdecode.EtherIPv4:
		return d.ipv4(b)
	case tcpdecode.EtherIPv6:
		return d.ipv6(b)
	case etherMPLS, etherMPLSMC:
		return d.mpls(b)
	case etherPPPoE:
		return d.pppoe(b)
	case etherTEB:
		return d.ethernet(b)
	}
	return d.fail(KindNotTCP, "ethertype", int(etype))
}

// ethernet decodes an Ethernet frame carried in a tunnel.
func (d *Decoder) ethernet(b []byte) error {
	if d.frames++; d.frames > MaxDepth { // Ethernet in Ethernet (ethertype 0x6558) without end
		return d.fail(KindUnknownTunnel, "encapsulations nested deeper than", MaxDepth)
	}
	if err := d.eth.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return d.fail(KindTruncated, "inner ethernet header", -1)
	}
	if d.eth.EthernetType == layers.EthernetTypeLLC {
		return d.fail(KindNotTCP, "802.3 frame length", int(d.eth.Length))
	}
	return d.ether(uint16(d.eth.EthernetType), d.eth.Payload)
}

// ipv4 decodes an IPv4 packet: a fragment goes to reassembly, the rest by protocol.
func (d *Decoder) ipv4(b []byte) error {
	if len(b) < 20 {
		return d.fail(KindTruncated, "ipv4 header", -1)
	}
	if b[0]>>4 != 4 {
		return d.fail(KindMalformed, "ip version", int(b[0]>>4))
	}
	if err := d.ip4.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		if int(b[0]&0x0f)*4 > len(b) {
			return d.fail(KindTruncated, "ipv4 header", -1)
		}
		return d.fail(KindMalformed, "ipv4 header", -1)
	}
	ip := &d.ip4
	src, dst := netip.AddrFrom4([4]byte(ip.SrcIP)), netip.AddrFrom4([4]byte(ip.DstIP))
	if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
		whole := b[:len(ip.Contents)+len(ip.Payload)]
		return d.fragment(fragKey{v6: false, proto: uint8(ip.Protocol), id: uint32(ip.Id), src: src.As16(), dst: dst.As16()},
			whole[:len(ip.Contents)], int(ip.FragOffset)*8, ip.Flags&layers.IPv4MoreFragments != 0, ip.Payload,
			int(ip.Length)-len(ip.Contents) > len(ip.Payload))
	}
	return d.ipPayload(uint8(ip.Protocol), src, dst, ip.Payload, b)
}

// ipv6 decodes an IPv6 packet, walking its extension headers; a fragment goes to reassembly.
func (d *Decoder) ipv6(b []byte) error {
	if len(b) < 40 {
		return d.fail(KindTruncated, "ipv6 header", -1)
	}
	if b[0]>>4 != 6 {
		return d.fail(KindMalformed, "ip version", int(b[0]>>4))
	}
	total := 40 + (int(b[4])<<8 | int(b[5]))
	if total == 40 {
		total = len(b) // jumbogram or segmentation offload
	}
	cut := total > len(b)
	if total < len(b) {
		b = b[:total]
	}
	src, dst := netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	next, off := b[6], 40
	for range 16 {
		switch next {
		case 0, 43, 60, 51, 44: // hop-by-hop, routing, destination options, AH, fragment
		default:
			return d.ipPayload(next, src, dst, b[off:], b)
		}
		if len(b)-off < 8 {
			return d.fail(KindTruncated, "ipv6 extension header", -1)
		}
		var n int
		switch next {
		case 44:
			fo := int(b[off+2])<<8 | int(b[off+3])
			if fo&0xfff9 != 0 {
				id := uint32(b[off+4])<<24 | uint32(b[off+5])<<16 | uint32(b[off+6])<<8 | uint32(b[off+7])
				return d.fragment(fragKey{v6: true, proto: b[off], id: id, src: src.As16(), dst: dst.As16()},
					b[:40], fo&^7, fo&1 != 0, b[off+8:], cut)
			}
			n = 8
		case 51:
			n = (int(b[off+1]) + 2) * 4
		default:
			n = (int(b[off+1]) + 1) * 8
		}
		if n > len(b)-off {
			return d.fail(KindTruncated, "ipv6 extension header", -1)
		}
		next, off = b[off], off+n
	}
	return d.fail(KindMalformed, "ipv6 extension headers over", 16)
}

// ipPayload decodes what an IP header of protocol proto carries; ip is the whole IP packet.
func (d *Decoder) ipPayload(proto uint8, src, dst netip.Addr, b, ip []byte) error {
	switch proto {
	case 6: // TCP: the fast path reads it
		if err := tcpdecode.DecodeIP(ip, d.seg); err != nil {
			switch {
			case errors.Is(err, tcpdecode.ErrTruncated):
				return d.fail(KindTruncated, "tcp header", -1)
			case errors.Is(err, tcpdecode.ErrFragment):
				return d.fail(KindMalformed, "fragment", -1) // cannot happen: fragments went to fragment
			}
			return d.fail(KindMalformed, "tcp header", -1)
		}
		id, ok := d.tunnelID()
		if !ok {
			return d.fail(KindUnknownTunnel, "tunnels over", maxTunnels)
		}
		d.seg.Tunnel = id
		return nil
	case 4, 41: // IPv4 or IPv6 in IP
		if err := d.enter(TunnelIPinIP, src, dst, 0, false); err != nil {
			return err
		}
		if proto == 4 {
			return d.ipv4(b)
		}
		return d.ipv6(b)
	case 47:
		return d.greLayer(src, dst, b)
	case 17:
		return d.udpLayer(src, dst, b)
	case 137: // MPLS in IP (RFC 4023)
		if err := d.enter(TunnelIPinIP, src, dst, 0, false); err != nil {
			return err
		}
		return d.mpls(b)
	}
	return d.fail(KindNotTCP, "ip protocol", int(proto))
}

// udpLayer decodes UDP, and the tunnels on their ports (the standard ones and those named in
// Config.Ports).
func (d *Decoder) udpLayer(src, dst netip.Addr, b []byte) error {
	if err := d.udp.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return d.fail(KindTruncated, "udp header", -1)
	}
	p := d.udp.Payload
	port := uint16(d.udp.DstPort)
	switch {
	case port == portVXLAN || port == portVXLANLinux || slices.Contains(d.ports.VXLAN, port):
		if err := d.vxlan.DecodeFromBytes(p, gopacket.NilDecodeFeedback); err != nil {
			return d.fail(KindTruncated, "vxlan header", -1)
		}
		if p[0]&0x08 == 0 { // RFC 7348: the I flag is set for a valid VNI (Linux drops the rest)
			return d.fail(KindMalformed, "vxlan header without its I flag", -1)
		}
		if err := d.enter(TunnelVXLAN, src, dst, d.vxlan.VNI, true); err != nil {
			return err
		}
		return d.ethernet(d.vxlan.Payload)
	case port == portVXLANGPE:
		return d.vxlanGPE(src, dst, p)
	case port == portGeneve || slices.Contains(d.ports.Geneve, port):
		return d.geneve(src, dst, p)
	}
	switch tunnelLike(p) {
	case TunnelVXLAN:
		return d.fail(KindNotTCP, whatVXLANLike, int(port))
	case TunnelGeneve:
		return d.fail(KindNotTCP, whatGeneveLike, int(port))
	}
	return d.fail(KindNotTCP, "udp port", int(min(d.udp.SrcPort, d.udp.DstPort)))
}

// tunnelLike says whether a UDP payload on a port nobody named looks like a VXLAN or Geneve
// header followed by an Ethernet frame carrying IPv4, IPv6 or ARP, for a hint in the unused reason:
// reserved bits zero, the flags and version these tunnels send, and a plausible inner ethertype.
func tunnelLike(p []byte) TunnelKind {
	ipEther := func(b []byte) bool {
		if len(b) < 14+20 {
			return false
		}
		et := uint16(b[12])<<8 | uint16(b[13])
		return et == tcpdecode.EtherIPv4 && b[14]>>4 == 4 || et == tcpdecode.EtherIPv6 && b[14]>>4 == 6 ||
			et == 0x0806 && b[14] == 0 && b[15] == 1 // ARP on Ethernet
	}
	switch {
	case len(p) >= 8 && p[0] == 0x08 && p[1]|p[2]|p[3]|p[7] == 0 && ipEther(p[8:]):
		return TunnelVXLAN
	case len(p) >= 8 && p[0]>>6 == 0 && p[2] == 0x65 && p[3] == 0x58 && p[7] == 0:
		if n := 8 + int(p[0]&0x3f)*4; ipEther(p[min(n, len(p)):]) {
			return TunnelGeneve
		}
	}
	return 0
}
