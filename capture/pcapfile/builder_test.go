package pcapfile

import (
	"encoding/binary"
	"time"
)

// Test helpers that write capture files byte by byte, independently of the reader.

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// pcapFile builds a classic pcap file.
type pcapFile struct {
	order byteOrder
	nano  bool
	b     []byte
}

func newPcap(order byteOrder, nano bool, link uint32) *pcapFile {
	f := &pcapFile{order: order, nano: nano}
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	f.b = order.AppendUint32(f.b, magic)
	f.b = order.AppendUint16(f.b, 2)
	f.b = order.AppendUint16(f.b, 4)
	f.b = order.AppendUint32(f.b, 0)      // thiszone
	f.b = order.AppendUint32(f.b, 0)      // sigfigs
	f.b = order.AppendUint32(f.b, 262144) // snaplen
	f.b = order.AppendUint32(f.b, link)
	return f
}

func (f *pcapFile) packet(t time.Time, data []byte, length int) *pcapFile {
	frac := t.Nanosecond()
	if !f.nano {
		frac /= 1000
	}
	f.b = f.order.AppendUint32(f.b, uint32(t.Unix()))
	f.b = f.order.AppendUint32(f.b, uint32(frac))
	f.b = f.order.AppendUint32(f.b, uint32(len(data)))
	f.b = f.order.AppendUint32(f.b, uint32(length))
	f.b = append(f.b, data...)
	return f
}

// ngFile builds a pcapng file.
type ngFile struct {
	order byteOrder
	b     []byte
}

func newNg(order byteOrder) *ngFile {
	f := &ngFile{order: order}
	f.section()
	return f
}

func (f *ngFile) block(typ uint32, body []byte) *ngFile {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	f.b = f.order.AppendUint32(f.b, typ)
	f.b = f.order.AppendUint32(f.b, n)
	f.b = append(f.b, body...)
	f.b = f.order.AppendUint32(f.b, n)
	return f
}

func (f *ngFile) section() *ngFile {
	var body []byte
	body = f.order.AppendUint32(body, 0x1a2b3c4d)
	body = f.order.AppendUint16(body, 1)
	body = f.order.AppendUint16(body, 0)
	body = f.order.AppendUint64(body, ^uint64(0))
	return f.block(0x0a0d0d0a, body)
}

// iface adds an IDB; opts are (code, value) pairs.
func (f *ngFile) iface(link uint16, snaplen uint32, opts ...ngOpt) *ngFile {
	var body []byte
	body = f.order.AppendUint16(body, link)
	body = f.order.AppendUint16(body, 0)
	body = f.order.AppendUint32(body, snaplen)
	for _, o := range opts {
		body = f.order.AppendUint16(body, o.code)
		body = f.order.AppendUint16(body, uint16(len(o.value)))
		body = append(body, o.value...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0)
	}
	return f.block(1, body)
}

type ngOpt struct {
	code  uint16
	value []byte
}

func (f *ngFile) epb(id uint32, ts uint64, data []byte, length int) *ngFile {
	var body []byte
	body = f.order.AppendUint32(body, id)
	body = f.order.AppendUint32(body, uint32(ts>>32))
	body = f.order.AppendUint32(body, uint32(ts))
	body = f.order.AppendUint32(body, uint32(len(data)))
	body = f.order.AppendUint32(body, uint32(length))
	body = append(body, data...)
	return f.block(6, body)
}

func (f *ngFile) opb(id uint16, ts uint64, data []byte) *ngFile {
	var body []byte
	body = f.order.AppendUint16(body, id)
	body = f.order.AppendUint16(body, 0)
	body = f.order.AppendUint32(body, uint32(ts>>32))
	body = f.order.AppendUint32(body, uint32(ts))
	body = f.order.AppendUint32(body, uint32(len(data)))
	body = f.order.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	return f.block(2, body)
}

func (f *ngFile) spb(data []byte, length int) *ngFile {
	var body []byte
	body = f.order.AppendUint32(body, uint32(length))
	body = append(body, data...)
	return f.block(3, body)
}

func (f *ngFile) dsb(typ uint32, secret string) *ngFile {
	var body []byte
	body = f.order.AppendUint32(body, typ)
	body = f.order.AppendUint32(body, uint32(len(secret)))
	body = append(body, secret...)
	return f.block(10, body)
}

// isb adds an Interface Statistics Block; counters are (option code, value) pairs.
func (f *ngFile) isb(id uint32, ts uint64, counters ...[2]uint64) *ngFile {
	var body []byte
	body = f.order.AppendUint32(body, id)
	body = f.order.AppendUint32(body, uint32(ts>>32))
	body = f.order.AppendUint32(body, uint32(ts))
	for _, c := range counters {
		body = f.order.AppendUint16(body, uint16(c[0]))
		body = f.order.AppendUint16(body, 8)
		body = f.order.AppendUint64(body, c[1])
	}
	if len(counters) > 0 {
		body = append(body, 0, 0, 0, 0)
	}
	return f.block(5, body)
}
