package capture

import (
	"bufio"
	"encoding/binary"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wspath/wspath/capture/handshake"
	"github.com/wspath/wspath/capture/internal/packetbuild"
)

// synth writes synthetic Ethernet/IPv4/TCP captures for tests and benchmarks: the shapes the real
// captures in testdata cannot give on demand (exact gaps, huge volumes, hostile frames). It
// writes connections and their timing; the bytes of each packet come from packetbuild.
type synth struct {
	tb   testing.TB
	f    *os.File
	bw   *bufio.Writer
	w    *pcapgo.Writer
	now  time.Time
	size int64
	// snap cuts every packet to this many bytes when > 0.
	snap int
	// wrap, when set, encapsulates each Ethernet frame (a tunnel) before it is written.
	wrap func(frame []byte) []byte
}

func newSynth(tb testing.TB, path string) *synth {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	return &synth{tb: tb, f: f, bw: bw, w: w, now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
}

func (s *synth) close() {
	if err := s.bw.Flush(); err != nil {
		s.tb.Fatal(err)
	}
	if err := s.f.Close(); err != nil {
		s.tb.Fatal(err)
	}
}

// tick advances the clock.
func (s *synth) tick(d time.Duration) { s.now = s.now.Add(d) }

// TCP flags, by the names the capture tests use.
const (
	tcpFIN = packetbuild.FIN
	tcpSYN = packetbuild.SYN
	tcpRST = packetbuild.RST
	tcpPSH = packetbuild.PSH
	tcpACK = packetbuild.ACK
)

// packet writes one TCP segment.
func (s *synth) packet(src, dst netip.AddrPort, seq, ack uint32, flags byte, payload []byte) {
	tcp := packetbuild.Cat(packetbuild.TCP(src.Port(), dst.Port(), seq, ack, flags, 0xffff), payload)
	b := packetbuild.Ethernet(packetbuild.EtherIPv4, packetbuild.IPv4(packetbuild.ProtoTCP, src.Addr().As4(), dst.Addr().As4(), tcp))
	if s.wrap != nil {
		b = s.wrap(b)
	}
	ci := gopacket.CaptureInfo{Timestamp: s.now, CaptureLength: len(b), Length: len(b)}
	data := b
	if s.snap > 0 && len(b) > s.snap {
		data = b[:s.snap]
		ci.CaptureLength = s.snap
	}
	if err := s.w.WritePacket(ci, data); err != nil {
		s.tb.Fatal(err)
	}
	s.size += int64(len(data)) + 16
}

// synthConn is one TCP connection in a synth capture.
type synthConn struct {
	s          *synth
	cli, srv   netip.AddrPort
	cseq, sseq uint32 // next sequence number of each side
	mss        int
}

func (s *synth) conn(cli, srv string, handshake bool) *synthConn {
	c := &synthConn{s: s, cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort(srv),
		cseq: 1000, sseq: 0xfffff000, mss: 1448} // the server's sequence numbers wrap around
	if handshake {
		s.packet(c.cli, c.srv, c.cseq, 0, tcpSYN, nil)
		c.cseq++
		s.packet(c.srv, c.cli, c.sseq, c.cseq, tcpSYN|tcpACK, nil)
		c.sseq++
		s.packet(c.cli, c.srv, c.cseq, c.sseq, tcpACK, nil)
	}
	return c
}

// send writes b from the client (or the server) in MSS-sized segments, each ACKed by the peer.
// skip leaves out the segment with that index (0-based), as a capture that missed it; ack says
// whether the peer's ACK covers it anyway.
func (c *synthConn) send(fromClient bool, b []byte) { c.sendSkip(fromClient, b, -1) }

func (c *synthConn) sendSkip(fromClient bool, b []byte, skip int) {
	src, dst, seq, peer := c.cli, c.srv, &c.cseq, &c.sseq
	if !fromClient {
		src, dst, seq, peer = c.srv, c.cli, &c.sseq, &c.cseq
	}
	for i := 0; len(b) > 0; i++ {
		n := min(len(b), c.mss)
		if i != skip {
			c.s.packet(src, dst, *seq, *peer, tcpACK|tcpPSH, b[:n])
		}
		*seq += uint32(n)
		b = b[n:]
		c.s.tick(50 * time.Microsecond)
		c.s.packet(dst, src, *peer, *seq, tcpACK, nil)
	}
}

func (c *synthConn) fin(fromClient bool) {
	if fromClient {
		c.s.packet(c.cli, c.srv, c.cseq, c.sseq, tcpFIN|tcpACK, nil)
		c.cseq++
		return
	}
	c.s.packet(c.srv, c.cli, c.sseq, c.cseq, tcpFIN|tcpACK, nil)
	c.sseq++
}

func (c *synthConn) rst(fromClient bool) {
	if fromClient {
		c.s.packet(c.cli, c.srv, c.cseq, c.sseq, tcpRST|tcpACK, nil)
		return
	}
	c.s.packet(c.srv, c.cli, c.sseq, c.cseq, tcpRST|tcpACK, nil)
}

// upgrade writes the HTTP Upgrade request and the 101 response.
func (c *synthConn) upgrade(key, extensions string) {
	req := "GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nCookie: session=secret\r\n" +
		"X-Forwarded-For: 192.0.2.7\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + handshake.AcceptKey(key) + "\r\n"
	if extensions != "" {
		req += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
		resp += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	c.send(true, []byte(req+"\r\n"))
	c.send(false, []byte(resp+"\r\n"))
}

// frame encodes one WebSocket frame; masked frames use a fixed key.
func frame(opcode byte, fin, rsv1 bool, masked bool, payload []byte) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	b := []byte{b0}
	var m byte
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}
