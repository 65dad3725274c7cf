package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"encoding/binary"
	"hash"

	"github.com/wspath/wspath/capture/packet"
	"golang.org/x/crypto/chacha20poly1305"
)

// recordCipher removes the protection of records in one direction.
type recordCipher interface {
	// open decrypts and authenticates payload, the fragment of a record with header hdr, as
	// record number seq. It writes the plaintext into dst's backing array when large enough and
	// returns the content type and the content, or ok false when authentication fails.
	// payload is not modified.
	open(dst []byte, seq uint64, hdr, payload []byte) (typ uint8, content []byte, ok bool)
	// explicitSeq returns the sequence number a sender most likely used for payload when the
	// record carries it (TLS 1.2 AES-GCM explicit nonces), for resynchronising after a gap.
	explicitSeq(payload []byte) (uint64, bool)
}

// prf12 is the TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret, label + seed) cut to n bytes.
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	mac := hmac.New(h, secret)
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	a := ls
	out := make([]byte, 0, n+mac.Size())
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
	}
	return out[:n]
}

// expandLabel is HKDF-Expand-Label of RFC 8446 section 7.1.
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, n int) []byte {
	info := make([]byte, 0, 4+6+len(label)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		return nil // only for n > 255 hash lengths, which no caller asks for
	}
	return out
}

// newAEAD returns the AEAD of a suite for key.
func newAEAD(b bulk, key []byte) cipher.AEAD {
	switch b {
	case bulkAESGCM:
		blk, err := aes.NewCipher(key)
		if err != nil {
			return nil
		}
		a, err := cipher.NewGCM(blk)
		if err != nil {
			return nil
		}
		return a
	case bulkChaCha:
		a, err := chacha20poly1305.New(key)
		if err != nil {
			return nil
		}
		return a
	}
	return nil
}

// aead13 protects TLS 1.3 records (RFC 8446 section 5.2).
type aead13 struct {
	aead  cipher.AEAD
	iv    [12]byte
	nonce [12]byte
}

// newCipher13 derives the record protection of a TLS 1.3 traffic secret. It returns nil when the
// secret does not fit the suite.
func newCipher13(s *suite, secret []byte) recordCipher {
	if len(secret) != s.prf().Size() {
		return nil
	}
	key := expandLabel(s.prf, secret, "key", nil, s.keyLen)
	iv := expandLabel(s.prf, secret, "iv", nil, 12)
	a := newAEAD(s.bulk, key)
	if a == nil || len(iv) != 12 {
		return nil
	}
	return &aead13{aead: a, iv: [12]byte(iv)}
}

func (c *aead13) open(dst []byte, seq uint64, hdr, payload []byte) (uint8, []byte, bool) {
	if len(payload) < c.aead.Overhead()+1 {
		return 0, nil, false
	}
	c.nonce = c.iv
	for i := 0; i < 8; i++ {
		c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	out, err := c.aead.Open(dst[:0], c.nonce[:], payload, hdr)
	if err != nil {
		return 0, nil, false
	}
	// TLSInnerPlaintext: content, content type, zero padding.
	i := len(out) - 1
	for i >= 0 && out[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, false
	}
	return out[i], out[:i], true
}

func (c *aead13) explicitSeq([]byte) (uint64, bool) { return 0, false }

// aad12 builds the TLS 1.2 additional data: seq_num, type, version, length.
func aad12(buf *[13]byte, seq uint64, hdr []byte, n int) []byte {
	binary.BigEndian.PutUint64(buf[:8], seq)
	buf[8], buf[9], buf[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(buf[11:], uint16(n))
	return buf[:]
}

// gcm12 protects TLS 1.2 AES-GCM records (RFC 5288): a 4-byte salt from the key block and an
// 8-byte explicit nonce in front of each record.
type gcm12 struct {
	aead  cipher.AEAD
	nonce [12]byte
	aad   [13]byte
}

func (c *gcm12) open(dst []byte, seq uint64, hdr, payload []byte) (uint8, []byte, bool) {
	if len(payload) < 8+c.aead.Overhead() {
		return 0, nil, false
	}
	copy(c.nonce[4:], payload[:8])
	ct := payload[8:]
	out, err := c.aead.Open(dst[:0], c.nonce[:], ct, aad12(&c.aad, seq, hdr, len(ct)-c.aead.Overhead()))
	if err != nil {
		return 0, nil, false
	}
	return hdr[0], out, true
}

func (c *gcm12) explicitSeq(payload []byte) (uint64, bool) {
	if len(payload) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(payload), true
}

// chacha12 protects TLS 1.2 ChaCha20-Poly1305 records (RFC 7905): nonce = iv XOR seq.
type chacha12 struct {
	aead  cipher.AEAD
	iv    [12]byte
	nonce [12]byte
	aad   [13]byte
}

func (c *chacha12) open(dst []byte, seq uint64, hdr, payload []byte) (uint8, []byte, bool) {
	if len(payload) < c.aead.Overhead() {
		return 0, nil, false
	}
	c.nonce = c.iv
	for i := 0; i < 8; i++ {
		c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	out, err := c.aead.Open(dst[:0], c.nonce[:], payload, aad12(&c.aad, seq, hdr, len(payload)-c.aead.Overhead()))
	if err != nil {
		return 0, nil, false
	}
	return hdr[0], out, true
}

func (c *chacha12) explicitSeq([]byte) (uint64, bool) { return 0, false }

// cbc12 protects TLS 1.2 CBC records: explicit IV, MAC-then-encrypt (RFC 5246 section 6.2.3.2),
// or encrypt-then-MAC when RFC 7366 was negotiated.
type cbc12 struct {
	block cipher.Block
	mac   hash.Hash
	etm   bool
	aad   [13]byte
	sum   []byte
}

func (c *cbc12) open(dst []byte, seq uint64, hdr, payload []byte) (uint8, []byte, bool) {
	bs := c.block.BlockSize()
	ml := c.mac.Size()
	if c.etm {
		if len(payload) < bs+bs+ml {
			return 0, nil, false
		}
		body, tag := payload[:len(payload)-ml], payload[len(payload)-ml:]
		if !c.checkMAC(seq, hdr, body, tag) {
			return 0, nil, false
		}
		payload = body
	}
	if len(payload) < 2*bs || len(payload)%bs != 0 {
		return 0, nil, false
	}
	iv, ct := payload[:bs], payload[bs:]
	if cap(dst) < len(ct) {
		dst = make([]byte, len(ct))
	}
	out := dst[:len(ct)]
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(out, ct)
	pad := int(out[len(out)-1])
	if pad+1 > len(out) {
		return 0, nil, false
	}
	for _, p := range out[len(out)-1-pad:] {
		if int(p) != pad {
			return 0, nil, false
		}
	}
	out = out[:len(out)-1-pad]
	if c.etm {
		return hdr[0], out, true
	}
	if len(out) < ml {
		return 0, nil, false
	}
	content, tag := out[:len(out)-ml], out[len(out)-ml:]
	if !c.checkMAC(seq, hdr, content, tag) {
		return 0, nil, false
	}
	return hdr[0], content, true
}

func (c *cbc12) checkMAC(seq uint64, hdr, data, tag []byte) bool {
	c.mac.Reset()
	c.mac.Write(aad12(&c.aad, seq, hdr, len(data)))
	c.mac.Write(data)
	c.sum = c.mac.Sum(c.sum[:0])
	return hmac.Equal(c.sum, tag)
}

func (c *cbc12) explicitSeq([]byte) (uint64, bool) { return 0, false }

// keys12 holds the TLS 1.2 key block split per direction.
type keys12 struct {
	mac, key, iv [2][]byte // index: 0 client write, 1 server write
}

// newKeys12 expands the master secret into the key block (RFC 5246 section 6.3).
func newKeys12(s *suite, master, clientRandom, serverRandom []byte) *keys12 {
	ml := s.macLen()
	ivl := 0
	switch s.bulk {
	case bulkAESGCM:
		ivl = 4
	case bulkChaCha:
		ivl = 12
	}
	seed := make([]byte, 0, 64)
	seed = append(append(seed, serverRandom...), clientRandom...)
	kb := prf12(s.prf, master, "key expansion", seed, 2*(ml+s.keyLen+ivl))
	k := &keys12{}
	for d := 0; d < 2; d++ {
		k.mac[d] = kb[d*ml : (d+1)*ml]
		k.key[d] = kb[2*ml+d*s.keyLen : 2*ml+(d+1)*s.keyLen]
		o := 2*ml + 2*s.keyLen
		k.iv[d] = kb[o+d*ivl : o+(d+1)*ivl]
	}
	return k
}

// newCipher12 returns the record protection of direction d, or nil.
func newCipher12(s *suite, k *keys12, d packet.Direction, etm bool) recordCipher {
	switch s.bulk {
	case bulkAESGCM:
		a := newAEAD(s.bulk, k.key[d])
		if a == nil {
			return nil
		}
		c := &gcm12{aead: a}
		copy(c.nonce[:4], k.iv[d])
		return c
	case bulkChaCha:
		a := newAEAD(s.bulk, k.key[d])
		if a == nil {
			return nil
		}
		return &chacha12{aead: a, iv: [12]byte(k.iv[d])}
	case bulkAESCBC:
		blk, err := aes.NewCipher(k.key[d])
		if err != nil {
			return nil
		}
		return &cbc12{block: blk, mac: hmac.New(s.mac, k.mac[d]), etm: etm}
	}
	return nil
}
