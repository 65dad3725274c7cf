package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
)

// Handshake message types (RFC 8446 section 4, RFC 5246 section 7.4).
const (
	hsClientHello       = 1
	hsServerHello       = 2
	hsNewSessionTicket  = 4
	hsEncryptedExt      = 8
	hsCertificate       = 11
	hsServerKeyExchange = 12
	hsCertRequest       = 13
	hsServerHelloDone   = 14
	hsCertVerify        = 15
	hsClientKeyExchange = 16
	hsFinished          = 20
	hsKeyUpdate         = 24
)

// Extensions used here.
const (
	extServerName        = 0
	extSessionTicket     = 35
	extALPN              = 16
	extEncryptThenMAC    = 22
	extExtendedMaster    = 23
	extPreSharedKey      = 41
	extSupportedVersions = 43
)

// Record content types.
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
	recordHeartbeat        = 24
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest (RFC 8446 section 4.1.3).
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// reader reads big-endian fields from a handshake message, failing softly on short input.
type reader struct {
	b  []byte
	ok bool
}

func (r *reader) bytes(n int) []byte {
	if !r.ok || n < 0 || n > len(r.b) {
		r.ok = false
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() int {
	v := r.bytes(1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (r *reader) u16() int {
	v := r.bytes(2)
	if v == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(v))
}

func (r *reader) vec8() []byte  { return r.bytes(r.u8()) }
func (r *reader) vec16() []byte { return r.bytes(r.u16()) }

// clientHello is what wspath keeps of a ClientHello.
type clientHello struct {
	random    [32]byte
	sessionID []byte
	suites    []uint16
	sni       string
	alpn      []string
	versions  []uint16 // supported_versions
	ems, etm  bool
	ticket    []byte // TLS 1.2 session ticket offered for resumption
}

// parseClientHello parses the body of a ClientHello message.
func parseClientHello(body []byte) (*clientHello, bool) {
	r := &reader{b: body, ok: true}
	r.u16()
	ch := &clientHello{}
	copy(ch.random[:], r.bytes(32))
	ch.sessionID = bytes.Clone(r.vec8())
	cs := r.vec16()
	for i := 0; i+1 < len(cs); i += 2 {
		ch.suites = append(ch.suites, binary.BigEndian.Uint16(cs[i:]))
	}
	r.vec8()
	if !r.ok {
		return nil, false
	}
	eachExtension(r, func(typ int, data []byte) {
		e := &reader{b: data, ok: true}
		switch typ {
		case extServerName:
			list := &reader{b: e.vec16(), ok: e.ok}
			for list.ok && len(list.b) > 0 {
				kind := list.u8()
				name := list.vec16()
				if list.ok && kind == 0 && ch.sni == "" && len(name) <= 255 {
					ch.sni = string(name)
				}
			}
		case extALPN:
			list := &reader{b: e.vec16(), ok: e.ok}
			for list.ok && len(list.b) > 0 {
				p := list.vec8()
				if list.ok && len(ch.alpn) < 32 {
					ch.alpn = append(ch.alpn, string(p))
				}
			}
		case extSupportedVersions:
			v := e.vec8()
			for i := 0; i+1 < len(v); i += 2 {
				ch.versions = append(ch.versions, binary.BigEndian.Uint16(v[i:]))
			}
		case extSessionTicket:
			if len(data) > 0 && len(data) <= 1<<14 {
				ch.ticket = bytes.Clone(data)
			}
		case extExtendedMaster:
			ch.ems = true
		case extEncryptThenMAC:
			ch.etm = true
		}
	})
	return ch, true
}

// eachExtension calls f for each extension left in a hello message (none when the message ends
// before its extensions block), stopping at the first malformed one.
func eachExtension(r *reader, f func(typ int, data []byte)) {
	if len(r.b) == 0 {
		return
	}
	exts := &reader{b: r.vec16(), ok: r.ok}
	for exts.ok && len(exts.b) > 0 {
		typ := exts.u16()
		data := exts.vec16()
		if !exts.ok {
			return
		}
		f(typ, data)
	}
}

// serverHello is what wspath keeps of a ServerHello.
type serverHello struct {
	random    [32]byte
	sessionID []byte
	suite     uint16
	version   uint16 // negotiated: supported_versions when present, else legacy_version
	ems, etm  bool
	psk       bool // pre_shared_key accepted (TLS 1.3 resumption)
	retry     bool // HelloRetryRequest
}

// parseServerHello parses the body of a ServerHello message.
func parseServerHello(body []byte) (*serverHello, bool) {
	r := &reader{b: body, ok: true}
	sh := &serverHello{version: uint16(r.u16())}
	copy(sh.random[:], r.bytes(32))
	sh.sessionID = bytes.Clone(r.vec8())
	sh.suite = uint16(r.u16())
	r.u8()
	if !r.ok {
		return nil, false
	}
	sh.retry = sh.random == helloRetryRandom
	eachExtension(r, func(typ int, data []byte) {
		switch typ {
		case extSupportedVersions:
			if len(data) == 2 {
				sh.version = binary.BigEndian.Uint16(data)
			}
		case extExtendedMaster:
			sh.ems = true
		case extEncryptThenMAC:
			sh.etm = true
		case extPreSharedKey:
			sh.psk = true
		}
	})
	return sh, true
}

// IsClientHello reports whether b, the first bytes a client sent on a TCP connection, start with
// a TLS handshake record holding a ClientHello. It needs at least the first 6 bytes.
func IsClientHello(b []byte) bool {
	if len(b) < 6 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[3:5]))
	return b[0] == recordHandshake && b[1] == 3 && b[2] <= 4 && n >= 4 && n <= maxRecordLen &&
		b[5] == hsClientHello
}
