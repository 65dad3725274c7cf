package tlsdecrypt

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/wspath/wspath/capture/packet"
)

// chunk is reassembled TCP payload of one direction of one stream, as carried by one packet.
type chunk struct {
	dir  packet.Direction
	data []byte
	m    packet.Meta
}

// stream is one TCP connection of a test capture, reassembled (loopback captures lose nothing).
type stream struct {
	chunks []chunk
}

// readCapture reads a pcap or pcapng file and returns its TCP streams in order of their first
// packet, and for pcapng the key log bytes of its Decryption Secrets Blocks.
func readCapture(t testing.TB, path string) ([]*stream, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var (
		src  source
		link layers.LinkType
		dsb  []byte
	)
	if strings.HasSuffix(path, ".pcapng") {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		src, link = r, r.LinkType()
		dsb = decryptionSecrets(raw)
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		src, link = r, r.LinkType()
	}
	type key struct{ a, b netip.AddrPort }
	type state struct {
		s      *stream
		client netip.AddrPort
		next   [2]uint32
		init   [2]bool
	}
	byKey := map[key]*state{}
	var out []*stream
	for n := 1; ; n++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, link, gopacket.Default)
		tl, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tl == nil || p.NetworkLayer() == nil {
			continue
		}
		srcIP, _ := netip.AddrFromSlice(p.NetworkLayer().NetworkFlow().Src().Raw())
		dstIP, _ := netip.AddrFromSlice(p.NetworkLayer().NetworkFlow().Dst().Raw())
		from := netip.AddrPortFrom(srcIP, uint16(tl.SrcPort))
		to := netip.AddrPortFrom(dstIP, uint16(tl.DstPort))
		k := key{from, to}
		if to.String() < from.String() {
			k = key{to, from}
		}
		st := byKey[k]
		if st == nil {
			if !tl.SYN || tl.ACK {
				continue
			}
			st = &state{s: &stream{}, client: from}
			byKey[k] = st
			out = append(out, st.s)
		}
		d := ClientToServer
		if from != st.client {
			d = ServerToClient
		}
		if tl.SYN {
			st.next[d], st.init[d] = tl.Seq+1, true
			continue
		}
		payload := tl.Payload
		if len(payload) == 0 || !st.init[d] {
			continue
		}
		off := int32(st.next[d] - tl.Seq)
		if off < 0 {
			t.Fatalf("%s: packet %d: gap in loopback capture", path, n)
		}
		if int(off) >= len(payload) {
			continue
		}
		payload = payload[off:]
		st.next[d] += uint32(len(payload))
		st.s.chunks = append(st.s.chunks, chunk{d, bytes.Clone(payload), packet.Meta{Time: ci.Timestamp, File: filepath.Base(path), Number: n}})
	}
	return out, dsb
}

// decryptionSecrets returns the TLS key log bytes of the Decryption Secrets Blocks of a
// little-endian pcapng file.
func decryptionSecrets(b []byte) []byte {
	var out []byte
	for len(b) >= 12 {
		typ := binary.LittleEndian.Uint32(b)
		l := int(binary.LittleEndian.Uint32(b[4:]))
		if l < 12 || l > len(b) {
			break
		}
		if typ == 0x0000000A && l >= 20 && binary.LittleEndian.Uint32(b[8:]) == 0x544c534b {
			n := int(binary.LittleEndian.Uint32(b[12:]))
			if 16+n <= l {
				out = append(out, b[16:16+n]...)
			}
		}
		b = b[l:]
	}
	return out
}

// collector is a Handler that keeps everything.
type collector struct {
	plain   [2]bytes.Buffer
	calls   [2]int // Plaintext calls
	records [2][]int
	metas   [2][]packet.Meta
}

func (c *collector) Plaintext(dir packet.Direction, b []byte, m packet.Meta) {
	c.plain[dir].Write(b)
	c.calls[dir]++
}
func (c *collector) Record(dir packet.Direction, n int, m packet.Meta) {
	c.records[dir] = append(c.records[dir], n)
	c.metas[dir] = append(c.metas[dir], m)
}

// expect is one line of a .tshark file.
type expect struct {
	records int
	bytes   int
	sha     string
}

// readExpect reads name.tshark: tshark's view, per stream and direction.
func readExpect(t testing.TB, path string) map[[2]int]expect {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[[2]int]expect{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s, d int
		var e expect
		if _, err := fmt.Sscanf(sc.Text(), "stream %d dir %d records %d bytes %d sha256 %s", &s, &d, &e.records, &e.bytes, &e.sha); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[[2]int{s, d}] = e
	}
	return out
}

// feedMode says how a test hands a stream's bytes to a Conn.
type feedMode int

const (
	feedPackets     feedMode = iota // packet by packet, in capture order
	feedClientFirst                 // all client bytes, then all server bytes
	feedServerFirst                 // all server bytes, then all client bytes
	feedBytes                       // one byte at a time, in capture order
	feedJoined                      // each direction as one chunk, client first
)

func (f feedMode) String() string {
	return [...]string{"packets", "client_first", "server_first", "bytes", "joined"}[f]
}

// run feeds a stream to a new Conn and returns what came out.
func run(s *stream, kl *Keylog, mode feedMode) (*collector, Info) {
	col := &collector{}
	c := NewConn(kl, col)
	switch mode {
	case feedPackets:
		for _, ch := range s.chunks {
			c.Feed(ch.dir, ch.data, ch.m)
		}
	case feedClientFirst, feedServerFirst:
		first := ClientToServer
		if mode == feedServerFirst {
			first = ServerToClient
		}
		for _, d := range []packet.Direction{first, first.Other()} {
			for _, ch := range s.chunks {
				if ch.dir == d {
					c.Feed(ch.dir, ch.data, ch.m)
				}
			}
		}
	case feedBytes:
		for _, ch := range s.chunks {
			for i := range ch.data {
				c.Feed(ch.dir, ch.data[i:i+1], ch.m)
			}
		}
	case feedJoined:
		var all [2][]byte
		for _, ch := range s.chunks {
			all[ch.dir] = append(all[ch.dir], ch.data...)
		}
		c.Feed(0, all[0], packet.Meta{})
		c.Feed(1, all[1], packet.Meta{})
	}
	c.Close()
	return col, c.Info()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var _ = time.Time{}
