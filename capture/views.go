package capture

import (
	"net/netip"
	"strconv"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// A host that forwards a connection (a router, a firewall, a bridge) captured on two interfaces
// at once writes each forwarded segment twice, arriving and leaving. Each interface's copy is a
// view of the connection: what one view has and the other lacks was dropped inside the host, so
// the views are reassembled apart (tcpstream keys connections by Segment.Iface) and correlate
// compares them as NAME.in and NAME.out. Two things tell views apart: a Linux cooked SLL2 header's
// interface index (tcpdump -i any), which tcpdecode puts in Segment.Iface, and the interface of
// a pcapng file with several (dumpcap -i eth0 -i eth1, tshark, mergecap), pcapfile.Packet's.

// viewBit marks a view number made by views.of for an interface other than the file's first; a
// Linux interface index (a positive C int) never has it.
const viewBit = 1 << 31

// viewKey is a pcapng interface (its pcapfile.Interface.ID) and an SLL2 interface index.
type viewKey struct {
	iface   int
	ifindex uint32
}

// views numbers the views of one capture's packets and names them. It belongs to the reader's
// goroutine (stage two of a read), which sees every packet in order.
type views struct {
	// multi: the files declare more than one interface, so sessions are named by theirs, the
	// first interface's too.
	multi bool
	first *pcapfile.Interface // the interface of ID 0, once a packet named it
	ids   map[viewKey]uint32
	list  []viewEntry // view viewBit|i is list[i]
	// last is the latest view numbered: a router's packets alternate between two views, a
	// single interface's never change.
	last    viewKey
	lastNum uint32
	// ways holds, per sender and receiver of Linux cooked v1 segments, which ways (arriving,
	// leaving: 1<<Way) they were captured: both means the host forwards the connection.
	ways map[[2]netip.AddrPort]uint8
}

// maxWays bounds the senders and receivers views.ways holds (16 bytes of key each), so that a
// flood of connections cannot grow it without end; past it, new ones are not told.
const maxWays = 1 << 18

type viewEntry struct {
	iface   *pcapfile.Interface
	ifindex uint32
}

// of returns the view number of packet p, whose SLL2 interface index (0 for other link types)
// is ifindex: the index itself on the files' first interface, as for a pcap file, so that a
// capture of one interface keys its connections as before; a number with viewBit set for the
// others.
func (v *views) of(p *pcapfile.Packet, ifindex uint32) uint32 {
	f := p.Interface
	if f == nil || f.ID == 0 {
		if v.first == nil {
			v.first = f
		}
		return ifindex
	}
	k := viewKey{iface: f.ID, ifindex: ifindex}
	if k == v.last && v.lastNum != 0 {
		return v.lastNum
	}
	n, ok := v.ids[k]
	if !ok {
		if v.ids == nil {
			v.ids = map[viewKey]uint32{}
		}
		n = viewBit | uint32(len(v.list))
		v.ids[k] = n
		v.list = append(v.list, viewEntry{iface: f, ifindex: ifindex})
	}
	v.last, v.lastNum = k, n
	return n
}

// way notes the way (arriving, leaving) a Linux cooked v1 segment was captured.
func (v *views) way(seg *tcpdecode.Segment) {
	if seg.Way == tcpdecode.WayUnknown {
		return
	}
	k := [2]netip.AddrPort{seg.Src, seg.Dst}
	if v.ways == nil {
		v.ways = map[[2]netip.AddrPort]uint8{}
	}
	if w, ok := v.ways[k]; ok || len(v.ways) < maxWays {
		v.ways[k] = w | 1<<seg.Way
	}
}

// forwarded reports whether the connection between a and b was captured, in one direction at
// least, both arriving at the host and leaving it: a host that forwards it (a router, a bridge)
// captured with tcpdump -i any in Linux cooked v1, which records no interface, so the two copies
// are one view. An endpoint's own connection arrives one way and leaves the other.
func (v *views) forwarded(a, b netip.AddrPort) bool {
	both := uint8(1<<tcpdecode.WayIn | 1<<tcpdecode.WayOut)
	return v.ways[[2]netip.AddrPort{a, b}] == both || v.ways[[2]netip.AddrPort{b, a}] == both
}

// name names view n for people: the interface's name (pcapng if_name, else "interface N") when
// the files declare several, then "ifindex N" for an SLL2 interface index; "" for a capture of
// one interface without SLL2 headers, whose connections have one view each.
func (v *views) name(n uint32) string {
	var f *pcapfile.Interface
	ifindex := n
	if n&viewBit != 0 {
		if i := int(n &^ viewBit); i < len(v.list) {
			f, ifindex = v.list[i].iface, v.list[i].ifindex
		}
	} else if v.multi || len(v.list) > 0 {
		f = v.first
		if f == nil {
			f = &pcapfile.Interface{}
		}
	}
	s := ""
	if f != nil {
		s = f.String()
	}
	if ifindex != 0 {
		if s != "" {
			s += " "
		}
		s += "ifindex " + strconv.FormatUint(uint64(ifindex), 10)
	}
	return s
}

// unnameOneView forgets the interface names of sessions that all have the same one: a Linux
// cooked capture (tcpdump -i any) of a host that forwards nothing has one view, and its
// interface index tells no session from another. Names are given as connections open, before
// the capture is known to hold a single view, and forgotten at its end.
func unnameOneView(sessions []*Session) {
	if len(sessions) == 0 {
		return
	}
	name := sessions[0].Interface()
	for _, s := range sessions[1:] {
		if s.Interface() != name {
			return
		}
	}
	for _, s := range sessions {
		s.SetInterface("")
	}
}
