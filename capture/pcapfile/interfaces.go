package pcapfile

import "strconv"

// Interface is an interface a capture was taken on: a pcapng Interface Description Block, or the
// one interface of a classic pcap file. A host that forwards traffic (a router, a firewall)
// captured on two interfaces at once (dumpcap -i eth0 -i eth1) writes each forwarded packet
// twice, once per interface: which interface a packet came from tells the two copies apart.
//
// Interfaces are owned by the Reader or Merger that returned them and never change once
// returned, so they may be read from any goroutine; do not modify them.
type Interface struct {
	// ID numbers the interface among its Reader's (or Merger's) Interfaces, from 0. An interface
	// declared again keeps the number of its first declaration: by name (if_name), or, for an
	// unnamed one, by its index within its section. So a later section of the file, or another
	// file of a Merger (dumpcap -b rotation writes the same interfaces into every file), adds no
	// interface of its own.
	ID       int
	Name     string   // if_name, "" when the block has none (and for pcap files)
	LinkType LinkType // link type of the interface's first declaration
	key      string   // what makes two declarations one interface; see ID
}

// String names the interface: its if_name, or "interface N" (N its ID) when it has none.
func (f *Interface) String() string {
	if f.Name != "" {
		return f.Name
	}
	return "interface " + strconv.Itoa(f.ID)
}

// interfaceSet numbers interfaces by their key, in order of first declaration.
type interfaceSet struct {
	list  []*Interface
	byKey map[string]*Interface
}

// add returns the interface declared as name, the index-th of its section, with link type lt:
// the one already known under that key, or a new one.
func (s *interfaceSet) add(name string, index int, lt LinkType) *Interface {
	key := "#" + strconv.Itoa(index)
	if name != "" {
		key = "=" + name
	}
	return s.addKey(key, name, lt)
}

func (s *interfaceSet) addKey(key, name string, lt LinkType) *Interface {
	if f := s.byKey[key]; f != nil {
		return f
	}
	if s.byKey == nil {
		s.byKey = map[string]*Interface{}
	}
	f := &Interface{ID: len(s.list), Name: name, LinkType: lt, key: key}
	s.list = append(s.list, f)
	s.byKey[key] = f
	return f
}

// Interfaces returns the interfaces declared so far, numbered by their ID (index in the slice):
// for a pcapng file those of the Interface Description Blocks read (all those before the first
// packet are read by Open and NewReader), for a pcap file its one interface. The slice is newly
// allocated; the Interfaces are shared.
func (r *Reader) Interfaces() []*Interface {
	return append([]*Interface(nil), r.interfaces.list...)
}

// Interfaces returns the interfaces of all the files read so far, numbered across files by the
// rule of Interface.ID: the files' own interfaces in file order, then those declared later, as
// they are met. Packets returned by Next carry these. The slice is newly allocated.
func (m *Merger) Interfaces() []*Interface {
	if len(m.readers) == 1 {
		return m.readers[0].Interfaces()
	}
	for i := range m.readers {
		m.syncInterfaces(i)
	}
	return append([]*Interface(nil), m.interfaces.list...)
}

// syncInterfaces numbers, among the Merger's interfaces, those reader i declared since the last
// call.
func (m *Merger) syncInterfaces(i int) {
	own := m.readers[i].interfaces.list
	for _, f := range own[len(m.ifmap[i]):] {
		m.ifmap[i] = append(m.ifmap[i], m.interfaces.addKey(f.key, f.Name, f.LinkType))
	}
}

// mergedInterface renumbers packet p of reader i among the Merger's interfaces.
func (m *Merger) mergedInterface(i int, p *Packet) {
	if p.Interface == nil {
		return
	}
	if p.Interface.ID >= len(m.ifmap[i]) {
		m.syncInterfaces(i)
	}
	p.Interface = m.ifmap[i][p.Interface.ID]
}
