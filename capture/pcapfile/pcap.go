package pcapfile

import (
	"io"
	"time"
)

// Magic numbers of classic pcap, as read big-endian from the first four bytes.
const (
	pcapMicro    = 0xa1b2c3d4 // microsecond timestamps
	pcapNano     = 0xa1b23c4d // nanosecond timestamps
	pcapModified = 0xa1b2cd34 // Kuznetzov's modified pcap (24-byte record headers)
)

func isPcapMagic(m uint32) bool {
	switch m {
	case pcapMicro, pcapNano, pcapModified:
		return true
	}
	sw := m>>24 | m>>8&0xff00 | m<<8&0xff0000 | m<<24
	switch sw {
	case pcapMicro, pcapNano, pcapModified:
		return true
	}
	return false
}

// readPcapHeader reads the 24-byte pcap global header.
func (r *Reader) readPcapHeader() error {
	h, err := r.need(24)
	if err != nil {
		return r.truncated(0, "pcap file header", 24, err)
	}
	m := be32(h)
	if !(m == pcapMicro || m == pcapNano || m == pcapModified) {
		m = le32(h)
	} else {
		r.be = true
	}
	r.nano = m == pcapNano
	r.modified = m == pcapModified
	if major := r.u16(h[4:]); major != 2 {
		return r.errorf(0, 0, "%w: pcap version %d.%d", ErrUnsupported, major, r.u16(h[6:]))
	}
	// Bytes 20-23: link type in the low 16 bits, FCS information in the high bits.
	r.pcapLink = LinkType(r.u32(h[20:]) & 0xffff)
	r.addLinkType(r.pcapLink)
	r.pcapIface = r.interfaces.add("", 0, r.pcapLink)
	r.skip(24)
	return nil
}

// nextPcap reads one pcap packet record into p.
func (r *Reader) nextPcap(p *Packet) error {
	hl := 16
	if r.modified {
		hl = 24
	}
	h, err := r.need(hl)
	if err == io.EOF {
		return err
	}
	if err != nil {
		return r.truncated(r.n+1, "packet record header", hl, err)
	}
	sec, frac := r.u32(h), r.u32(h[4:])
	caplen, length := r.u32(h[8:]), r.u32(h[12:])
	if caplen > MaxCaptureLength {
		return r.errorf(r.n+1, 0, "%w: captured length %d exceeds %d", ErrCorrupt, caplen, MaxCaptureLength)
	}
	total := hl + int(caplen)
	b, err := r.need(total)
	if err != nil {
		return r.truncated(r.n+1, "packet record", total, err)
	}
	ns := int64(frac)
	if !r.nano {
		ns *= 1000
	}
	p.set(time.Unix(int64(sec), ns), r.pcapLink, b[hl:total:total], int(length), r.pcapIface)
	r.skip(total)
	return nil
}
