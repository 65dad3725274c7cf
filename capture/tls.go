package capture

import (
	"github.com/wspath/wspath/capture/packet"
)

// maxTLSRecords bounds the record shapes kept per direction of an undecrypted session.
const maxTLSRecords = 1 << 20

// tlsHandler receives what the TLS layer of a connection yields: decrypted application bytes go to
// the same HTTP and WebSocket parsing as plaintext; record shapes are kept for hops without keys.
type tlsHandler struct{ c *conn }

func (h tlsHandler) Plaintext(dir Direction, b []byte, m packet.Meta) {
	c := h.c
	d := c.client
	if dir == ServerToClient {
		d = 1 - d
	}
	f := c.frames()
	off := f.plain[d]
	f.plain[d] += uint64(len(b))
	if c.mode != modeIgnore {
		c.plaintext(d, b, off, m)
	}
}

func (h tlsHandler) Record(dir Direction, length int, m packet.Meta) {
	s := h.c.sess
	if s == nil || s.TLS() == nil {
		return
	}
	t := s.TLS()
	t.RecordCount[dir]++
	if h.c.r.opts.CountOnly || len(t.Records[dir]) >= maxTLSRecords {
		return
	}
	t.Records[dir] = append(t.Records[dir], TLSRecord{Time: m.Time, Length: length,
		Packet: m.Ref()})
}

// finishTLS copies what the TLS layer learnt into the session.
func (c *conn) finishTLS(s *Session) {
	in := c.tls().Info()
	t := s.TLS()
	t.SNI, t.ALPN, t.Version, t.CipherSuite = in.SNI, in.ALPN, in.Version, in.CipherSuite
	t.Resumed, t.ClientRandom, t.Decrypted, t.Reason = in.Resumed, in.ClientRandom, in.Decrypted, in.Reason
	if t.Decrypted {
		t.Records, t.RecordCount = [2][]TLSRecord{}, [2]int{}
		return
	}
	c.problem(c.client, ProblemTLS, 0, c.r.stamps.Meta(c.start), "TLS not decrypted: "+in.Reason)
}
