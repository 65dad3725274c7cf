package tlsdecrypt

import (
	"crypto/rand"
	"encoding/binary"
	"testing"

	"github.com/wspath/wspath/capture/packet"
)

// sealRecords makes n TLS 1.3 application-data records of size bytes under secret.
func sealRecords(s *suite, secret []byte, n, size int) []byte {
	sender := newCipher13(s, secret).(*aead13)
	var out []byte
	msg := make([]byte, size+1)
	rand.Read(msg[:size])
	msg[size] = recordApplicationData
	for seq := 0; seq < n; seq++ {
		hdr := []byte{recordApplicationData, 3, 3, 0, 0}
		binary.BigEndian.PutUint16(hdr[3:], uint16(len(msg)+sender.aead.Overhead()))
		nonce := sender.iv
		for i := 0; i < 8; i++ {
			nonce[4+i] ^= byte(uint64(seq) >> (56 - 8*i))
		}
		out = append(out, hdr...)
		out = sender.aead.Seal(out, nonce[:], msg, hdr)
	}
	return out
}

// appConn returns a Conn already in the application phase of a TLS 1.3 connection.
func appConn(s *suite, secret []byte, h Handler) *Conn {
	c := NewConn(nil, h)
	c.chSeen, c.shSeen, c.ch, c.sh = true, true, &clientHello{}, &serverHello{}
	c.version, c.suite, c.suiteID, c.keysFound = versionTLS13, s, s.id, true
	c.half[0].ciph, c.half[0].inApp = newCipher13(s, secret), true
	return c
}

type discard struct{ n int }

func (d *discard) Plaintext(dir packet.Direction, b []byte, m packet.Meta) { d.n += len(b) }
func (d *discard) Record(dir packet.Direction, n int, m packet.Meta)       {}

func benchmarkDecrypt(b *testing.B, id uint16) {
	s := suiteByID(id)
	secret := make([]byte, s.prf().Size())
	rand.Read(secret)
	const records, size = 64, 16384
	stream := sealRecords(s, secret, records, size)
	h := &discard{}
	c := appConn(s, secret, h)
	b.ReportAllocs()
	b.SetBytes(int64(records * size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.half[0].seq = 0
		c.Feed(0, stream, packet.Meta{})
	}
	b.StopTimer()
	if h.n != b.N*records*size || c.Info().Reason != "" {
		b.Fatalf("decrypted %d bytes, want %d: %s", h.n, b.N*records*size, c.Info().Reason)
	}
}

func BenchmarkDecryptAESGCM(b *testing.B)   { benchmarkDecrypt(b, 0x1301) }
func BenchmarkDecryptChaCha20(b *testing.B) { benchmarkDecrypt(b, 0x1303) }
