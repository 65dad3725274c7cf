package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/wspath/wspath/capture/packet"
)

// Bounds. Every buffer a Conn keeps is limited by one of these.
const (
	// maxRecordLen bounds TLSCiphertext.length (RFC 5246 section 6.2.3: 2^14 + 2048).
	maxRecordLen = 1<<14 + 2048
	// maxQueue bounds the bytes of records held per direction while waiting for the other
	// direction's handshake messages.
	maxQueue = 1 << 20
	// maxHandshakeMsg bounds a handshake message kept for parsing; longer ones are skipped.
	maxHandshakeMsg = 1 << 18
	// maxTranscript bounds the TLS 1.2 handshake messages kept for the extended master secret.
	maxTranscript = 1 << 20
	// maxResyncTries bounds the sequence numbers tried on the first record after a gap.
	maxResyncTries = 4096
	// maxResyncBytes bounds the bytes decrypted while trying sequence numbers after a gap.
	maxResyncBytes = 16 << 20
	// minRecordLen is the smallest protected record: header and a 16-byte tag.
	minRecordLen = 5 + 16
)

// Directions, as passed to Feed and Handler.
const (
	ClientToServer = packet.ClientToServer
	ServerToClient = packet.ServerToClient
)

// Handler receives what a Conn finds. Its methods are called synchronously from Feed, Gap and
// Close, in stream order per direction.
type Handler interface {
	// Plaintext receives decrypted application data of direction dir, in order; m is the packet
	// that completed the record. b is only valid during the call: copy what you keep.
	Plaintext(dir packet.Direction, b []byte, m packet.Meta)
	// Record receives the shape of every record of outer type application_data in direction
	// dir, decrypted or not: its ciphertext length and the packet that completed it. Hops
	// without keys can be compared by record count, size and timing. In TLS 1.3 these include
	// the encrypted handshake records.
	Record(dir packet.Direction, length int, m packet.Meta)
}

// Info describes a TLS connection as far as the Conn has seen it. It never holds key material.
type Info struct {
	SNI          string   // server_name offered by the client
	ALPN         []string // protocols offered by the client
	Version      string   // negotiated, e.g. "TLS 1.3"
	CipherSuite  string   // negotiated, e.g. "TLS_AES_128_GCM_SHA256", or "0xNNNN"
	Resumed      bool     // session resumption (TLS 1.2 session id or ticket, TLS 1.3 PSK)
	ClientRandom [32]byte // identifies the connection in a key log; public
	// Decrypted is true when keys for application data were found and nothing failed so far.
	Decrypted bool
	// Reason says why application data is not (or no longer) decrypted, e.g. "no key for client
	// random <hex>", "server record 7 failed authentication", "unsupported cipher suite 0x0005".
	// Empty when Decrypted.
	Reason string
	// Records counts records of outer type application_data per direction.
	Records [2]int
	// PlainRecords counts records whose application data were passed to Plaintext.
	PlainRecords [2]int
	// PlainBytes counts the bytes passed to Plaintext per direction.
	PlainBytes [2]int64
}

// record is one complete TLS record.
type record struct {
	hdr     [5]byte
	payload []byte
	m       packet.Meta
	lost    uint64 // bytes lost in the direction just before this record
	resync  bool   // the record follows a gap or a loss of framing: its sequence number is unknown
}

// half is the state of one direction.
type half struct {
	buf     []byte   // bytes of an incomplete record, or being scanned after a loss of framing
	queue   []record // complete records waiting for the other direction's handshake
	queued  int
	desync  bool   // framing lost: scan for a record header
	scanned int    // while desync: bytes of buf already ruled out as the start of a header
	lost    uint64 // bytes lost since the last record
	resync  bool   // the next record follows a gap
	count   int    // records processed, for messages
	hs      []byte // incomplete handshake message
	hsSkip  int    // bytes of an oversize handshake message still to skip
	ciph    recordCipher
	seq     uint64
	next    recordCipher // TLS 1.3: application keys, installed at Finished
	secret  []byte       // TLS 1.3: current application traffic secret, for KeyUpdate
	inApp   bool         // TLS 1.3: application keys in use
	ccs     bool         // TLS 1.2: ChangeCipherSpec seen, records are protected
	dead    bool         // no more decryption in this direction
	scratch []byte       // plaintext of the current record
	hdr     [5]byte      // header of the current record (kept here so records stay on the stack)
}

// Conn decrypts one TLS connection, fed with the reassembled TCP bytes of both directions.
//
// Feed the two directions in capture order; a Conn tolerates one direction running ahead of the
// other by holding records (at most 1 MiB per direction) until the handshake messages they depend
// on have been seen. A Conn is not safe for concurrent use. Key material stays inside the Conn:
// fmt prints only its Info.
type Conn struct {
	kl     *Keylog
	h      Handler
	half   [2]half
	closed bool

	chSeen, shSeen bool
	ch             *clientHello
	sh             *serverHello
	version        uint16
	suite          *suite
	suiteID        uint16
	resumed        bool
	keysFound      bool
	reason         string

	// TLS 1.2 key exchange.
	chMsg        []byte // raw ClientHello, for the session hash
	srvMsgs      []byte // raw server handshake messages up to ServerHelloDone
	cliMsgs      []byte // raw client handshake messages after the ClientHello up to ClientKeyExchange
	brokenHash   bool   // a gap or bound broke the transcript
	shdSeen      bool
	ckeSeen      bool
	encPMS       []byte // first 8 bytes of the RSA-encrypted pre-master secret
	keys12       *keys12
	keys12Tried  bool
	masterSecret []byte // the TLS 1.2 master secret once known, to remember for resumptions
	ticket       []byte // a TLS 1.2 NewSessionTicket the server issued

	counts [2]struct {
		records, plainRecords int
		plainBytes            int64
	}
}

// NewConn returns a Conn that decrypts with secrets from k (nil: none; only record shapes and the
// handshake description come out) and reports to h.
func NewConn(k *Keylog, h Handler) *Conn {
	return &Conn{kl: k, h: h}
}

// Format prints the connection's Info, never its keys.
func (c *Conn) Format(f fmt.State, verb rune) {
	i := c.Info()
	fmt.Fprintf(f, "tlsdecrypt.Conn{%s %s SNI=%q decrypted=%v %s}", i.Version, i.CipherSuite, i.SNI, i.Decrypted, i.Reason)
}

// Info describes the connection so far.
func (c *Conn) Info() Info {
	i := Info{Version: versionName(c.version), Resumed: c.resumed, Reason: c.reason}
	if c.suiteID != 0 {
		i.CipherSuite = suiteName(c.suiteID)
	}
	if c.ch != nil {
		i.SNI = c.ch.sni
		i.ALPN = append([]string(nil), c.ch.alpn...)
		i.ClientRandom = c.ch.random
	}
	if i.Reason == "" && !c.keysFound {
		switch {
		case !c.chSeen:
			i.Reason = "no ClientHello seen"
		case c.kl.Len() == 0:
			i.Reason = "no key log"
		default:
			i.Reason = "handshake incomplete"
		}
	}
	i.Decrypted = c.keysFound && c.reason == ""
	for d := range 2 {
		i.Records[d] = c.counts[d].records
		i.PlainRecords[d] = c.counts[d].plainRecords
		i.PlainBytes[d] = c.counts[d].plainBytes
	}
	return i
}

// fail records the first reason decryption stopped.
func (c *Conn) fail(format string, args ...any) {
	if c.reason == "" {
		c.reason = fmt.Sprintf(format, args...)
	}
}

func dirName(d packet.Direction) string {
	if d == ServerToClient {
		return "server"
	}
	return "client"
}

// Feed gives the Conn the next reassembled bytes of direction dir, in any chunking; m is the
// packet that carried them. Feed does not keep b.
func (c *Conn) Feed(dir packet.Direction, b []byte, m packet.Meta) {
	if dir != ClientToServer && dir != ServerToClient {
		return
	}
	h := &c.half[dir]
	for len(b) > 0 {
		if h.desync {
			b = c.scan(dir, b, m)
			continue
		}
		if len(h.buf) == 0 {
			n := c.records(dir, b, m)
			b = b[n:]
			if h.desync {
				continue
			}
			if len(b) >= 5+maxRecordLen {
				return // cannot happen: records stops only at an incomplete record
			}
			h.buf = append(h.buf, b...)
			return
		}
		// Complete the buffered record with as few bytes as needed.
		need := 5 - len(h.buf)
		if need <= 0 {
			need = 5 + int(binary.BigEndian.Uint16(h.buf[3:5])) - len(h.buf)
		}
		take := min(need, len(b))
		h.buf = append(h.buf, b[:take]...)
		b = b[take:]
		if len(h.buf) < 5 {
			continue
		}
		if !validHeader(h.buf) {
			h.desync, h.resync = true, true
			continue
		}
		if n := c.records(dir, h.buf, m); n == len(h.buf) {
			h.buf = h.buf[:0]
		}
	}
}

// Gap tells the Conn that n bytes of direction dir are missing from the capture at this point.
// The Conn drops the incomplete record, resynchronises at the next plausible record header and,
// where the cipher allows, finds the sequence number again by trial decryption.
func (c *Conn) Gap(dir packet.Direction, n uint64) {
	if (dir != ClientToServer && dir != ServerToClient) || n == 0 {
		return
	}
	h := &c.half[dir]
	h.lost += n + uint64(len(h.buf))
	h.buf = h.buf[:0]
	h.desync, h.scanned = true, 0
	h.resync = true
	h.hs = h.hs[:0]
	h.hsSkip = 0
	if !c.keysFound {
		c.brokenHash = true
	}
}

// Close tells the Conn that no more bytes will come. Records still held for a handshake that
// will not complete are dropped and the reason recorded.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	c.pump()
	for d := range c.half {
		h := &c.half[d]
		if len(h.queue) > 0 {
			c.fail("handshake incomplete: %d %s records not decrypted", len(h.queue), dirName(packet.Direction(d)))
			h.queue, h.queued = nil, 0
		}
	}
}

// validHeader reports whether b starts with a plausible TLS record header.
func validHeader(b []byte) bool {
	return len(b) >= 5 && b[0] >= recordChangeCipherSpec && b[0] <= recordHeartbeat && b[1] == 3 &&
		b[2] <= 4 && int(binary.BigEndian.Uint16(b[3:5])) <= maxRecordLen
}

// records handles the complete records at the start of b and returns the bytes used. It stops
// at an incomplete record, or sets desync at an invalid header.
func (c *Conn) records(dir packet.Direction, b []byte, m packet.Meta) int {
	h := &c.half[dir]
	n := 0
	for len(b)-n >= 5 {
		hdr := b[n : n+5]
		if !validHeader(hdr) {
			h.desync = true
			h.resync = true
			return n
		}
		l := int(binary.BigEndian.Uint16(hdr[3:5]))
		if len(b)-n < 5+l {
			break
		}
		r := record{hdr: [5]byte(hdr), payload: b[n+5 : n+5+l], m: m, lost: h.lost, resync: h.resync}
		h.lost, h.resync = 0, false
		c.record(dir, r)
		n += 5 + l
	}
	return n
}

// scan looks for the next record header after a loss of framing. It keeps at most two records'
// worth of bytes and returns what is left of b.
func (c *Conn) scan(dir packet.Direction, b []byte, m packet.Meta) []byte {
	h := &c.half[dir]
	const window = 2*(5+maxRecordLen) + 5
	take := min(window-len(h.buf), len(b))
	h.buf = append(h.buf, b[:take]...)
	b = b[take:]
	for i := h.scanned; i+5 <= len(h.buf); i++ {
		if !validHeader(h.buf[i:]) {
			continue
		}
		end := i + 5 + int(binary.BigEndian.Uint16(h.buf[i+3:i+5]))
		if end+5 > len(h.buf) {
			// Wait for the next header to confirm this one.
			h.lost += uint64(i)
			h.buf = append(h.buf[:0], h.buf[i:]...)
			h.scanned = 0
			if len(h.buf) >= window {
				break // cannot happen: a record and a header fit in the window
			}
			return b
		}
		if !validHeader(h.buf[end:]) {
			continue
		}
		h.lost += uint64(i)
		h.desync, h.scanned = false, 0
		rest := h.buf[i:]
		n := c.records(dir, rest, m)
		if h.desync {
			h.buf = append(h.buf[:0], rest[n:]...)
			return b
		}
		tail := rest[n:]
		h.buf = append(h.buf[:0], tail...)
		return b
	}
	// No header: keep the last 4 bytes, which may start one.
	keep := min(4, len(h.buf))
	h.lost += uint64(len(h.buf) - keep)
	h.buf = append(h.buf[:0], h.buf[len(h.buf)-keep:]...)
	h.scanned = 0
	return b
}

// record handles one complete record: reports its shape, then decrypts it now or queues it.
func (c *Conn) record(dir packet.Direction, r record) {
	h := &c.half[dir]
	if r.hdr[0] == recordApplicationData {
		c.counts[dir].records++
		if c.h != nil {
			c.h.Record(dir, len(r.payload), r.m)
		}
	}
	if len(h.queue) == 0 && c.process(dir, &r) {
		c.pump()
		return
	}
	if h.queued+len(r.payload) > maxQueue {
		c.fail("handshake incomplete after %d bytes of %s records", h.queued, dirName(dir))
		c.half[0].dead, c.half[1].dead = true, true
		for d := range c.half {
			c.half[d].queue, c.half[d].queued = nil, 0
		}
		return
	}
	r.payload = bytes.Clone(r.payload)
	h.queue = append(h.queue, r)
	h.queued += len(r.payload)
}

// pump processes queued records of both directions for as long as one makes progress.
func (c *Conn) pump() {
	for progress := true; progress; {
		progress = false
		for d := range c.half {
			h := &c.half[d]
			for len(h.queue) > 0 && c.process(packet.Direction(d), &h.queue[0]) {
				h.queued -= len(h.queue[0].payload)
				h.queue[0] = record{}
				h.queue = h.queue[1:]
				progress = true
			}
			if len(h.queue) == 0 {
				h.queue = nil
			}
		}
	}
}

// process handles one record in order. It returns false, having changed nothing, when the
// record must wait for the other direction.
func (c *Conn) process(dir packet.Direction, r *record) bool {
	h := &c.half[dir]
	typ := r.hdr[0]
	if h.dead {
		h.count++
		return true
	}
	switch {
	case dir == ServerToClient && !c.chSeen:
		return false // the ServerHello means nothing without the ClientHello
	case dir == ClientToServer && c.chSeen && !c.shSeen:
		return false // what follows the ClientHello depends on the version chosen
	case dir == ClientToServer && c.shSeen && c.sh.retry && typ == recordApplicationData:
		return false // protected records after a HelloRetryRequest need the second ServerHello
	case c.version == versionTLS12 && !h.ccs && typ == recordChangeCipherSpec:
		if dir == ServerToClient && !c.shdSeen {
			c.resumed = true // abbreviated handshake: ChangeCipherSpec right after the hello
		}
		if c.needKeys12() {
			return false
		}
	}
	h.count++
	switch {
	case c.version == versionTLS13 && !c.sh.retry:
		c.process13(dir, r)
	case c.version == versionTLS12 && h.ccs:
		c.process12(dir, r)
	default:
		c.processPlain(dir, r)
	}
	return true
}

// processPlain handles a record sent before encryption starts.
func (c *Conn) processPlain(dir packet.Direction, r *record) {
	h := &c.half[dir]
	switch r.hdr[0] {
	case recordHandshake:
		c.handshakeBytes(dir, r.payload)
	case recordChangeCipherSpec:
		if c.version == versionTLS12 {
			h.ccs = true
			c.install12(dir)
		}
	}
}

// process12 handles a TLS 1.2 record after ChangeCipherSpec.
func (c *Conn) process12(dir packet.Direction, r *record) {
	h := &c.half[dir]
	if h.ciph == nil {
		return
	}
	typ, plain, seq, ok := c.openRecord(dir, h.ciph, h.seq, r)
	if !ok {
		c.failRecord(dir, r)
		return
	}
	h.seq = seq + 1
	if typ == recordApplicationData {
		c.plaintext(dir, plain, r.m)
	}
}

// process13 handles a TLS 1.3 record after the ServerHello.
func (c *Conn) process13(dir packet.Direction, r *record) {
	h := &c.half[dir]
	switch r.hdr[0] {
	case recordHandshake:
		c.handshakeBytes(dir, r.payload) // plaintext: second ClientHello after a retry
		return
	case recordApplicationData:
	default:
		return // ChangeCipherSpec for middlebox compatibility, plaintext alerts
	}
	var (
		typ   uint8
		plain []byte
		ok    bool
	)
	var seq uint64
	if h.ciph != nil {
		typ, plain, seq, ok = c.openRecord(dir, h.ciph, h.seq, r)
	}
	if !ok && h.next != nil && !h.inApp {
		// Handshake keys missing or the Finished message not seen: try application keys.
		if typ, plain, seq, ok = c.openRecord(dir, h.next, 0, r); ok {
			h.ciph, h.next, h.inApp = h.next, nil, true
		}
	}
	if !ok {
		if !h.inApp && h.ciph == nil {
			return // handshake record without handshake keys: skipped
		}
		c.failRecord(dir, r)
		return
	}
	h.seq = seq + 1
	switch typ {
	case recordApplicationData:
		c.plaintext(dir, plain, r.m)
	case recordHandshake:
		c.handshakeBytes(dir, plain)
	}
}

// openRecord opens r with ciph as record number seq or, when r follows a gap, as the number found
// by trial. It returns the number used.
func (c *Conn) openRecord(dir packet.Direction, ciph recordCipher, seq uint64, r *record) (uint8, []byte, uint64, bool) {
	h := &c.half[dir]
	h.hdr = r.hdr
	if r.resync {
		s, ok := c.findSeq(ciph, seq, h.hdr[:], r)
		if !ok {
			return 0, nil, 0, false
		}
		seq = s
	}
	h.scratch = grow(h.scratch, len(r.payload))
	typ, plain, ok := ciph.open(h.scratch, seq, h.hdr[:], r.payload)
	return typ, plain, seq, ok
}

// failRecord stops decryption of direction dir at record r.
func (c *Conn) failRecord(dir packet.Direction, r *record) {
	h := &c.half[dir]
	if r.resync {
		c.fail("%s: could not resynchronise after %d lost bytes", dirName(dir), r.lost)
	} else {
		c.fail("%s record %d failed authentication", dirName(dir), h.count)
	}
	h.dead = true
}

// findSeq finds the sequence number of r when it is unknown: r follows a gap of r.lost bytes
// after record seq. It tries the explicit nonce, then every number the gap allows, at most
// maxResyncTries.
func (c *Conn) findSeq(ciph recordCipher, seq uint64, hdr []byte, r *record) (uint64, bool) {
	scratch := make([]byte, len(r.payload))
	if s, ok := ciph.explicitSeq(r.payload); ok {
		if _, _, ok := ciph.open(scratch, s, hdr, r.payload); ok {
			return s, true
		}
	}
	lo := seq + r.lost/(5+maxRecordLen)
	hi := seq + r.lost/minRecordLen + 1
	tries := uint64(min(maxResyncTries, maxResyncBytes/max(len(r.payload), 1)))
	if hi-lo > tries {
		hi = lo + tries
	}
	for k := uint64(0); k <= hi-lo; k++ {
		s := lo + k
		if _, _, ok := ciph.open(scratch, s, hdr, r.payload); ok {
			return s, true
		}
	}
	return 0, false
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// plaintext passes application data to the handler.
func (c *Conn) plaintext(dir packet.Direction, b []byte, m packet.Meta) {
	c.counts[dir].plainRecords++
	c.counts[dir].plainBytes += int64(len(b))
	if len(b) > 0 && c.h != nil {
		c.h.Plaintext(dir, b, m)
	}
}

// handshakeBytes reassembles handshake messages of direction dir and handles each complete one.
func (c *Conn) handshakeBytes(dir packet.Direction, b []byte) {
	h := &c.half[dir]
	for len(b) > 0 {
		if h.hsSkip > 0 {
			n := min(h.hsSkip, len(b))
			h.hsSkip -= n
			b = b[n:]
			continue
		}
		need := 4 - len(h.hs)
		if need <= 0 {
			need = 4 + (int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3])) - len(h.hs)
		}
		take := min(need, len(b))
		h.hs = append(h.hs, b[:take]...)
		b = b[take:]
		if len(h.hs) < 4 {
			continue
		}
		l := int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3])
		if l > maxHandshakeMsg {
			h.hsSkip = 4 + l - len(h.hs)
			h.hs = h.hs[:0]
			if !c.keysFound {
				c.brokenHash = true
			}
			continue
		}
		if len(h.hs) == 4+l {
			c.handshake(dir, h.hs)
			h.hs = h.hs[:0]
		}
	}
}

// handshake handles one complete handshake message (header included). msg is reused after the
// call.
func (c *Conn) handshake(dir packet.Direction, msg []byte) {
	typ, body := msg[0], msg[4:]
	h := &c.half[dir]
	switch {
	case dir == ClientToServer && typ == hsClientHello:
		ch, ok := parseClientHello(body)
		if !ok {
			c.fail("malformed ClientHello")
			c.half[0].dead, c.half[1].dead = true, true
			return
		}
		if !c.chSeen {
			c.ch, c.chSeen = ch, true
			c.chMsg = bytes.Clone(msg)
		}
	case dir == ServerToClient && typ == hsServerHello:
		sh, ok := parseServerHello(body)
		if !ok {
			c.fail("malformed ServerHello")
			c.half[0].dead, c.half[1].dead = true, true
			return
		}
		c.serverHello(sh, msg)
	case h.ccs || h.inApp || h.ciph != nil || h.next != nil:
		c.protectedHandshake(dir, typ)
	case c.version == versionTLS12 && dir == ServerToClient:
		c.serverHandshake12(typ, body, msg)
	case c.version == versionTLS12 && dir == ClientToServer:
		c.clientHandshake12(typ, body, msg)
	}
}

// protectedHandshake handles a handshake message that came encrypted: in TLS 1.3, Finished
// switches direction dir to its application keys and KeyUpdate derives the next ones.
func (c *Conn) protectedHandshake(dir packet.Direction, typ byte) {
	h := &c.half[dir]
	switch typ {
	case hsFinished:
		if c.version == versionTLS13 && !h.inApp {
			h.ciph, h.next, h.inApp, h.seq = h.next, nil, true, 0
			if h.ciph == nil {
				c.fail("no %s application traffic secret for client random %x", dirName(dir), c.ch.random)
				h.dead = true
			}
		}
	case hsKeyUpdate:
		if c.version == versionTLS13 && h.inApp && h.secret != nil {
			h.secret = expandLabel(c.suite.prf, h.secret, "traffic upd", nil, len(h.secret))
			h.ciph, h.seq = newCipher13(c.suite, h.secret), 0
			if h.ciph == nil {
				h.dead = true
			}
		}
	}
}

// serverHandshake12 handles a plaintext TLS 1.2 handshake message from the server: it keeps a
// session ticket for resumption, and the server's messages up to ServerHelloDone for the
// extended master secret's session hash.
func (c *Conn) serverHandshake12(typ byte, body, msg []byte) {
	if typ == hsNewSessionTicket {
		r := &reader{b: body, ok: true}
		r.bytes(4) // ticket_lifetime_hint
		if t := r.vec16(); r.ok && len(t) > 0 {
			c.ticket = bytes.Clone(t)
			c.kl.remember12(nil, c.ticket, c.masterSecret)
		}
	}
	if c.shdSeen {
		return
	}
	c.keepTranscript(&c.srvMsgs, msg)
	if typ == hsServerHelloDone {
		c.shdSeen = true
	}
}

// clientHandshake12 handles a plaintext TLS 1.2 handshake message from the client: its messages
// up to ClientKeyExchange go into the session hash, and with RSA key exchange the start of the
// encrypted pre-master secret names the RSA key log line.
func (c *Conn) clientHandshake12(typ byte, body, msg []byte) {
	if c.ckeSeen {
		return
	}
	c.keepTranscript(&c.cliMsgs, msg)
	if typ == hsClientKeyExchange {
		c.ckeSeen = true
		if c.suite != nil && c.suite.rsaKex {
			r := &reader{b: body, ok: true}
			if p := r.vec16(); len(p) >= 8 {
				c.encPMS = bytes.Clone(p[:8])
			}
		}
	}
}

// keepTranscript appends handshake message msg to transcript t, up to maxTranscript bytes;
// past that the session hash cannot be computed.
func (c *Conn) keepTranscript(t *[]byte, msg []byte) {
	if len(*t)+len(msg) > maxTranscript {
		c.brokenHash = true
		return
	}
	*t = append(*t, msg...)
}

// serverHello records the negotiated parameters and, for TLS 1.3, installs handshake keys.
func (c *Conn) serverHello(sh *serverHello, msg []byte) {
	if c.shSeen && !c.sh.retry {
		return
	}
	c.sh, c.shSeen = sh, true
	c.version, c.suiteID = sh.version, sh.suite
	if sh.retry {
		return
	}
	c.suite = suiteByID(sh.suite)
	switch {
	case c.version != versionTLS12 && c.version != versionTLS13:
		c.fail("unsupported version %s", versionName(c.version))
	case c.suite == nil || c.suite.tls13 != (c.version == versionTLS13):
		c.fail("unsupported cipher suite 0x%04x", sh.suite)
		c.suite = nil
	}
	if c.suite == nil || c.reason != "" {
		c.half[0].dead, c.half[1].dead = true, true
		return
	}
	if c.version == versionTLS12 {
		c.resumed = len(sh.sessionID) > 0 && bytes.Equal(sh.sessionID, c.ch.sessionID)
		if len(c.srvMsgs)+len(msg) <= maxTranscript {
			c.srvMsgs = append(c.srvMsgs, msg...)
		}
		return
	}
	c.resumed = sh.psk
	s := c.kl.lookup13(c.ch.random)
	if s == nil || s.clientHS == nil && s.serverHS == nil && s.clientApp == nil && s.serverApp == nil {
		c.fail("no key for client random %x", c.ch.random)
		c.half[0].dead, c.half[1].dead = true, true
		return
	}
	hsSecrets := [2][]byte{s.clientHS, s.serverHS}
	appSecrets := [2][]byte{s.clientApp, s.serverApp}
	for d := range c.half {
		h := &c.half[d]
		if hsSecrets[d] != nil {
			if h.ciph = newCipher13(c.suite, hsSecrets[d]); h.ciph == nil {
				c.fail("%s handshake traffic secret does not fit %s", dirName(packet.Direction(d)), c.suite.name)
			}
		}
		if appSecrets[d] == nil {
			c.fail("key log lacks %s application traffic secret for client random %x", dirName(packet.Direction(d)), c.ch.random)
			continue
		}
		h.secret = bytes.Clone(appSecrets[d])
		if h.next = newCipher13(c.suite, h.secret); h.next == nil {
			c.fail("%s application traffic secret does not fit %s", dirName(packet.Direction(d)), c.suite.name)
			continue
		}
		c.keysFound = true
	}
}

// needKeys12 derives the TLS 1.2 keys when possible and reports whether a ChangeCipherSpec must
// wait for messages of the other direction first.
func (c *Conn) needKeys12() (wait bool) {
	if c.keys12 != nil || c.keys12Tried || c.suite == nil {
		return false
	}
	master := c.kl.lookupMaster(c.ch.random)
	if master == nil {
		master = c.kl.lookupSession(c.sh.sessionID)
	}
	if master == nil && c.resumed {
		master = c.kl.lookupTicket(c.ch.ticket)
	}
	if master == nil && !c.resumed {
		if !c.ckeSeen || (c.sh.ems && c.ch.ems && !c.shdSeen) {
			if !c.closed {
				return true
			}
		} else {
			master = c.master12()
		}
	}
	c.keys12Tried = true
	if master == nil {
		if c.reason == "" {
			c.fail("no key for client random %x", c.ch.random)
		}
		return false
	}
	c.keys12 = newKeys12(c.suite, master, c.ch.random[:], c.sh.random[:])
	c.keysFound = true
	c.masterSecret = master
	c.kl.remember12(c.sh.sessionID, c.ticket, master)
	return false
}

// master12 computes the master secret from a pre-master secret in the key log.
func (c *Conn) master12() []byte {
	pms := c.kl.lookupPMS(c.ch.random)
	if pms == nil && c.suite.rsaKex {
		pms = c.kl.lookupRSA(c.encPMS)
	}
	if pms == nil {
		return nil
	}
	if c.sh.ems && c.ch.ems {
		if c.brokenHash {
			c.fail("handshake transcript incomplete: cannot compute the extended master secret")
			return nil
		}
		var th hash.Hash = c.suite.prf()
		th.Write(c.chMsg)
		th.Write(c.srvMsgs)
		th.Write(c.cliMsgs)
		return prf12(c.suite.prf, pms, "extended master secret", th.Sum(nil), 48)
	}
	seed := make([]byte, 0, 64)
	seed = append(append(seed, c.ch.random[:]...), c.sh.random[:]...)
	return prf12(c.suite.prf, pms, "master secret", seed, 48)
}

// install12 switches direction dir to the TLS 1.2 keys after its ChangeCipherSpec.
func (c *Conn) install12(dir packet.Direction) {
	h := &c.half[dir]
	if dir == ServerToClient && !c.shdSeen && !c.resumed {
		c.resumed = true // abbreviated handshake with a session ticket
	}
	if c.keys12 == nil {
		h.dead = true
		if c.reason == "" {
			c.fail("no key for client random %s", hex.EncodeToString(c.ch.random[:]))
		}
		return
	}
	h.ciph = newCipher12(c.suite, c.keys12, dir, c.sh.etm && c.ch.etm)
	h.seq = 0
	if h.ciph == nil {
		h.dead = true
		c.fail("cannot set up %s", c.suite.name)
	}
}
