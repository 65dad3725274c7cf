package pcapfile

import "strconv"

// LinkType is a LINKTYPE_ value from a pcap file header or a pcapng Interface Description Block:
// the link-layer header type of the packets (https://www.tcpdump.org/linktypes.html). It is 16
// bits wide, unlike gopacket's layers.LinkType, so LINKTYPE_LINUX_SLL2 (276) stays 276.
type LinkType uint16

// Link types that wspath decodes. Other values are carried through unchanged.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte address family in the writer's byte order
	LinkEthernet  LinkType = 1   // Ethernet II, possibly with 802.1Q / QinQ tags
	LinkRawDLT12  LinkType = 12  // raw IP, as some BSDs wrote DLT_RAW
	LinkRawDLT14  LinkType = 14  // raw IP, as OpenBSD wrote DLT_RAW
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6, version from the first nibble
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte address family, big-endian
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1 (16-byte header)
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2 (20-byte header), tcpdump -i any
)

// String returns a short lower-case name: "ethernet", "linux_sll", "linux_sll2", "raw", "null",
// "loop", "ipv4", "ipv6", or "linktype_N" for other values.
func (t LinkType) String() string {
	switch t {
	case LinkNull:
		return "null"
	case LinkEthernet:
		return "ethernet"
	case LinkRaw, LinkRawDLT12, LinkRawDLT14:
		return "raw"
	case LinkLoop:
		return "loop"
	case LinkLinuxSLL:
		return "linux_sll"
	case LinkIPv4:
		return "ipv4"
	case LinkIPv6:
		return "ipv6"
	case LinkLinuxSLL2:
		return "linux_sll2"
	}
	return "linktype_" + strconv.Itoa(int(t))
}
