package pcapfile

import (
	"bytes"
	"io"
	"math"
	"math/bits"
	"strings"
	"time"
)

// pcapng block types (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html).
const (
	ngSHB = 0x0a0d0d0a // Section Header Block; same value in both byte orders
	ngIDB = 0x00000001 // Interface Description Block
	ngOPB = 0x00000002 // obsolete Packet Block
	ngSPB = 0x00000003 // Simple Packet Block
	ngEPB = 0x00000006 // Enhanced Packet Block
	ngISB = 0x00000005 // Interface Statistics Block
	ngDSB = 0x0000000a // Decryption Secrets Block

	ngByteOrderMagic = 0x1a2b3c4d
	secretsTLSKeyLog = 0x544c534b // DSB secrets type "TLSK": NSS key log text

	optEndOfOpt = 0
	optIfName   = 2
	optTsResol  = 9
	optTsOffset = 14

	// Interface Statistics Block options.
	optISBStartTime    = 2
	optISBEndTime      = 3
	optISBIfRecv       = 4
	optISBIfDrop       = 5
	optISBFilterAccept = 6
	optISBOSDrop       = 7
	optISBUsrDeliv     = 8
)

// iface is what a packet block needs to know about its interface.
type iface struct {
	link        LinkType
	snaplen     uint32
	unitsPerSec uint64 // timestamp units per second, from if_tsresol (default 10^6)
	offsetSec   int64  // if_tsoffset
	info        *Interface
}

// time converts a 64-bit pcapng timestamp of the interface.
func (f *iface) time(ts uint64) time.Time {
	switch f.unitsPerSec {
	case 1e6:
		return time.Unix(int64(ts/1e6)+f.offsetSec, int64(ts%1e6)*1e3)
	case 1e9:
		return time.Unix(int64(ts/1e9)+f.offsetSec, int64(ts%1e9))
	}
	sec, frac := ts/f.unitsPerSec, ts%f.unitsPerSec
	hi, lo := bits.Mul64(frac, 1e9)
	ns, _ := bits.Div64(hi, lo, f.unitsPerSec) // hi < unitsPerSec since frac < unitsPerSec
	return time.Unix(int64(sec)+f.offsetSec, int64(ns))
}

// readSHB reads a Section Header Block at the current position; it sets the byte order and
// forgets the interfaces of the previous section.
func (r *Reader) readSHB() error {
	h, err := r.need(12)
	if err != nil {
		return r.truncated(0, "pcapng section header", 12, err)
	}
	switch be32(h[8:]) {
	case ngByteOrderMagic:
		r.be = true
	case 0x4d3c2b1a:
		r.be = false
	default:
		return r.errorf(0, 0, "%w: pcapng byte-order magic 0x%08x", ErrCorrupt, be32(h[8:]))
	}
	total, err := r.blockLength(h, 0)
	if err != nil {
		return err
	}
	if total < 28 {
		return r.errorf(0, 0, "%w: section header block of %d bytes", ErrCorrupt, total)
	}
	b, err := r.needBlock(total, 0, "section header block")
	if err != nil {
		return err
	}
	if major := r.u16(b[12:]); major != 1 {
		return r.errorf(0, 0, "%w: pcapng version %d.%d", ErrUnsupported, major, r.u16(b[14:]))
	}
	r.ifaces = r.ifaces[:0]
	r.section++
	r.skip(total)
	return nil
}

// blockLength validates the total length field of the block header h.
func (r *Reader) blockLength(h []byte, packet int) (int, error) {
	total := r.u32(h[4:])
	if total < 12 || total%4 != 0 || total > maxBlockLength {
		return 0, r.errorf(packet, 0, "%w: pcapng block type 0x%08x has length %d", ErrCorrupt, r.u32(h), total)
	}
	return int(total), nil
}

// needBlock returns the whole block of total bytes and checks its trailing length.
func (r *Reader) needBlock(total, packet int, what string) ([]byte, error) {
	b, err := r.need(total)
	if err != nil {
		return nil, r.truncated(packet, what, total, err)
	}
	if t := r.u32(b[total-4:]); t != uint32(total) {
		return nil, r.errorf(packet, 0, "%w: %s: trailing length %d differs from %d", ErrCorrupt, what, t, total)
	}
	return b, nil
}

func isPacketBlock(t uint32) bool { return t == ngEPB || t == ngSPB || t == ngOPB }

// prefetch reads the blocks before the first packet (interfaces, secrets), so that Secrets and
// Info are complete for them right after NewReader. An error is kept for Next to return.
func (r *Reader) prefetch() {
	for {
		h, err := r.peekUpTo(4)
		if err != nil || len(h) < 4 || isPacketBlock(r.u32(h)) {
			return
		}
		var p Packet
		if _, err := r.block(&p); err != nil {
			if err != io.EOF {
				r.err = err
			}
			return
		}
	}
}

// nextNg reads blocks until a packet block, which it decodes into p.
func (r *Reader) nextNg(p *Packet) error {
	for {
		ok, err := r.block(p)
		if err != nil || ok {
			return err
		}
	}
}

// block reads one pcapng block. ok reports whether it was a packet, decoded into p.
func (r *Reader) block(p *Packet) (ok bool, err error) {
	h, err := r.need(8)
	if err != nil {
		if err == io.EOF {
			return false, err
		}
		num := 0
		if rest := r.buf[r.r:r.w]; len(rest) >= 4 && isPacketBlock(r.u32(rest)) {
			num = r.n + 1
		}
		return false, r.truncated(num, "pcapng block header", 8, err)
	}
	num := 0 // packet number for errors about this block
	if isPacketBlock(r.u32(h)) {
		num = r.n + 1
	}
	typ := r.u32(h)
	if typ == ngSHB {
		return false, r.readSHB()
	}
	total, err := r.blockLength(h, num)
	if err != nil {
		return false, err
	}
	b, err := r.needBlock(total, num, blockName(typ))
	if err != nil {
		return false, err
	}
	body := b[8 : total-4]
	switch typ {
	case ngEPB, ngOPB:
		err = r.enhancedPacket(p, typ, body, num)
		ok = err == nil
	case ngSPB:
		err = r.simplePacket(p, body, num)
		ok = err == nil
	case ngIDB:
		err = r.interfaceDescription(body)
	case ngDSB:
		err = r.decryptionSecrets(body)
	case ngISB:
		err = r.interfaceStatistics(body)
	}
	if err != nil {
		return false, err
	}
	r.skip(total)
	return ok, nil
}

func blockName(t uint32) string {
	switch t {
	case ngIDB:
		return "interface description block"
	case ngEPB:
		return "enhanced packet block"
	case ngSPB:
		return "simple packet block"
	case ngOPB:
		return "packet block"
	case ngDSB:
		return "decryption secrets block"
	case ngISB:
		return "interface statistics block"
	}
	return "pcapng block"
}

// enhancedPacket decodes the body of an Enhanced Packet Block or an obsolete Packet Block into p.
// p.Data aliases the buffer; the caller skips the block afterwards.
func (r *Reader) enhancedPacket(p *Packet, typ uint32, body []byte, num int) error {
	if len(body) < 20 {
		return r.errorf(num, 0, "%w: %s of %d bytes", ErrCorrupt, blockName(typ), len(body)+12)
	}
	var id uint32
	if typ == ngOPB {
		id = uint32(r.u16(body))
	} else {
		id = r.u32(body)
	}
	if id >= uint32(len(r.ifaces)) {
		return r.errorf(num, 0, "%w: packet for interface %d, %d declared", ErrCorrupt, id, len(r.ifaces))
	}
	f := &r.ifaces[id]
	ts := uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
	caplen, length := r.u32(body[12:]), r.u32(body[16:])
	if caplen > MaxCaptureLength || caplen > uint32(len(body)-20) {
		return r.errorf(num, 0, "%w: captured length %d in a block of %d bytes", ErrCorrupt, caplen, len(body)+12)
	}
	end := 20 + int(caplen)
	p.set(f.time(ts), f.link, body[20:end:end], int(length), f.info)
	return nil
}

// simplePacket decodes the body of a Simple Packet Block into p: interface 0, no timestamp.
func (r *Reader) simplePacket(p *Packet, body []byte, num int) error {
	if len(body) < 4 {
		return r.errorf(num, 0, "%w: simple packet block of %d bytes", ErrCorrupt, len(body)+12)
	}
	if len(r.ifaces) == 0 {
		return r.errorf(num, 0, "%w: simple packet block before any interface", ErrCorrupt)
	}
	f := &r.ifaces[0]
	length := r.u32(body)
	caplen := min(uint64(length), uint64(len(body)-4))
	if f.snaplen != 0 {
		caplen = min(caplen, uint64(f.snaplen))
	}
	if caplen > MaxCaptureLength {
		return r.errorf(num, 0, "%w: captured length %d exceeds %d", ErrCorrupt, caplen, MaxCaptureLength)
	}
	end := 4 + int(caplen)
	p.set(r.lastTime, f.link, body[4:end:end], int(length), f.info)
	return nil
}

// eachOption calls fn with the code and value of each option in opts, a block's option list,
// until the end-of-options marker; what names the block's options in errors.
func (r *Reader) eachOption(opts []byte, what string, fn func(code uint16, v []byte) error) error {
	for len(opts) >= 4 {
		code, n := r.u16(opts), int(r.u16(opts[2:]))
		if code == optEndOfOpt {
			return nil
		}
		if n > len(opts)-4 {
			return r.errorf(0, 0, "%w: %s option %d of %d bytes overruns its block", ErrCorrupt, what, code, n)
		}
		if err := fn(code, opts[4:4+n]); err != nil {
			return err
		}
		opts = opts[min(len(opts), 4+(n+3)&^3):]
	}
	return nil
}

// interfaceDescription decodes an Interface Description Block.
func (r *Reader) interfaceDescription(body []byte) error {
	if len(body) < 8 {
		return r.errorf(0, 0, "%w: interface description block of %d bytes", ErrCorrupt, len(body)+12)
	}
	f := iface{link: LinkType(r.u16(body)), snaplen: r.u32(body[4:]), unitsPerSec: 1e6}
	var name string
	err := r.eachOption(body[8:], "interface", func(code uint16, v []byte) error {
		n := len(v)
		switch {
		case code == optIfName:
			name = ifName(v)
		case code == optTsResol && n >= 1:
			e := uint(v[0] & 0x7f)
			if v[0]&0x80 != 0 {
				if e > 63 {
					return r.errorf(0, 0, "%w: timestamp resolution 2^-%d", ErrUnsupported, e)
				}
				f.unitsPerSec = 1 << e
			} else {
				if e > 19 {
					return r.errorf(0, 0, "%w: timestamp resolution 10^-%d", ErrUnsupported, e)
				}
				f.unitsPerSec = 1
				for range e {
					f.unitsPerSec *= 10
				}
			}
		case code == optTsOffset && n >= 8:
			hi, lo := r.u32(v), r.u32(v[4:])
			if !r.be {
				hi, lo = lo, hi
			}
			f.offsetSec = int64(uint64(hi)<<32 | uint64(lo))
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.info = r.interfaces.add(name, len(r.ifaces), f.link)
	r.ifaces = append(r.ifaces, f)
	r.addLinkType(f.link)
	return nil
}

// ifName returns an if_name option's value: UTF-8 text, which writers may pad or end with NUL
// bytes, bounded so that a hostile file cannot make every packet carry a huge name.
func ifName(v []byte) string {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	if len(v) > maxIfName {
		v = v[:maxIfName]
	}
	return strings.ToValidUTF8(string(v), "\uFFFD")
}

// maxIfName bounds an interface name kept (Linux allows 15 bytes, Windows' device names are
// about 50).
const maxIfName = 256

// decryptionSecrets decodes a Decryption Secrets Block, keeping TLS key logs.
func (r *Reader) decryptionSecrets(body []byte) error {
	if len(body) < 8 {
		return r.errorf(0, 0, "%w: decryption secrets block of %d bytes", ErrCorrupt, len(body)+12)
	}
	typ, n := r.u32(body), r.u32(body[4:])
	if n > uint32(len(body)-8) {
		return r.errorf(0, 0, "%w: %d bytes of secrets in a block of %d", ErrCorrupt, n, len(body)+12)
	}
	if typ != secretsTLSKeyLog || n == 0 {
		return nil
	}
	r.secrets = append(r.secrets, body[8:8+n]...)
	if r.secrets[len(r.secrets)-1] != '\n' {
		r.secrets = append(r.secrets, '\n')
	}
	return nil
}

// interfaceStatistics decodes an Interface Statistics Block. Its counters are cumulative since the
// capture began, so a later block for the same interface replaces an earlier one.
func (r *Reader) interfaceStatistics(body []byte) error {
	if len(body) < 12 {
		return r.errorf(0, 0, "%w: interface statistics block of %d bytes", ErrCorrupt, len(body)+12)
	}
	id := r.u32(body)
	if id >= uint32(len(r.ifaces)) {
		return r.errorf(0, 0, "%w: statistics for interface %d, %d declared", ErrCorrupt, id, len(r.ifaces))
	}
	f := &r.ifaces[id]
	stamp := func(v []byte) time.Time { return r.statsTime(f, uint64(r.u32(v))<<32|uint64(r.u32(v[4:]))) }
	st := InterfaceStats{Section: r.section - 1, Interface: int(id), Time: stamp(body[4:]),
		Received: -1, IfDrop: -1, FilterAccept: -1, OSDrop: -1, Delivered: -1}
	err := r.eachOption(body[12:], "statistics", func(code uint16, v []byte) error {
		if len(v) == 8 {
			u := r.u64(v)
			if u > math.MaxInt64 {
				u = math.MaxInt64 // a counter that large is nonsense; keep it positive
			}
			switch code {
			case optISBStartTime:
				st.Start = stamp(v)
			case optISBEndTime:
				st.End = stamp(v)
			case optISBIfRecv:
				st.Received = int64(u)
			case optISBIfDrop:
				st.IfDrop = int64(u)
			case optISBFilterAccept:
				st.FilterAccept = int64(u)
			case optISBOSDrop:
				st.OSDrop = int64(u)
			case optISBUsrDeliv:
				st.Delivered = int64(u)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range r.info.Stats {
		if old := &r.info.Stats[i]; old.Section == st.Section && old.Interface == st.Interface {
			*old = st
			return nil
		}
	}
	r.info.Stats = append(r.info.Stats, st)
	return nil
}

// statsTime converts a statistics block timestamp. The format says it is in the interface's
// resolution, but dumpcap (4.0 at least) writes microseconds even on nanosecond interfaces: where
// the packets so far say the interface's resolution lands decades away and microseconds land
// within a day of them, microseconds it is.
func (r *Reader) statsTime(f *iface, ts uint64) time.Time {
	t := f.time(ts)
	if f.unitsPerSec == 1e6 || r.info.First.IsZero() {
		return t
	}
	near := func(x time.Time) bool {
		return !x.Before(r.info.First.Add(-24*time.Hour)) && !x.After(r.info.Last.Add(24*time.Hour))
	}
	if micro := (&iface{unitsPerSec: 1e6, offsetSec: f.offsetSec}).time(ts); !near(t) && near(micro) {
		return micro
	}
	return t
}
