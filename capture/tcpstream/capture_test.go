package tcpstream

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wspath/wspath/capture/packet"
)

// readCapture decodes the Ethernet/IPv4/TCP packets of a classic pcap file into segments.
func readCapture(tb testing.TB, path string, emit func(*Segment, packet.Meta)) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	for n := 1; ; n++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			continue
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		seg := Segment{
			Src: netip.AddrPortFrom(src.Unmap(), uint16(tcp.SrcPort)), Dst: netip.AddrPortFrom(dst.Unmap(), uint16(tcp.DstPort)),
			Seq: tcp.Seq, Ack: tcp.Ack, Window: tcp.Window, WindowScale: -1, Payload: tcp.Payload,
			PayloadLength: int(ip.Length) - int(ip.IHL)*4 - int(tcp.DataOffset)*4,
		}
		for _, fl := range []struct {
			on bool
			f  Flags
		}{{tcp.FIN, FIN}, {tcp.SYN, SYN}, {tcp.RST, RST}, {tcp.PSH, PSH}, {tcp.ACK, ACK}} {
			if fl.on {
				seg.Flags |= fl.f
			}
		}
		emit(&seg, packet.Meta{Time: ci.Timestamp, File: filepath.Base(path), Number: n})
	}
}

// collector keeps everything delivered for one connection.
type collector struct {
	info   ConnInfo
	data   [2][]byte // gaps filled with zeros
	gaps   [2][]string
	fin    [2]bool
	reset  bool
	stats  [2]Stats
	closed bool
}

func (c *collector) Data(d Dir, b []byte, off uint64, m packet.Meta) {
	c.data[d] = append(c.data[d], b...)
}
func (c *collector) Gap(d Dir, off, n uint64, r GapReason, m packet.Meta) {
	c.gaps[d] = append(c.gaps[d], fmt.Sprintf("%d+%d %s #%d", off, n, r, m.Number))
	c.data[d] = append(c.data[d], make([]byte, n)...)
}
func (c *collector) Fin(d Dir, m packet.Meta)   { c.fin[d] = true }
func (c *collector) Reset(d Dir, m packet.Meta) { c.reset = true }
func (c *collector) Close(st [2]Stats)          { c.stats, c.closed = st, true }

func TestAssembler_Captures(t *testing.T) {
	tests := []struct {
		file string
		// wantGaps counts the client's gaps by reason; allSnaplen: every gap is GapSnaplen.
		wantGaps   map[GapReason]int
		allSnaplen bool
	}{
		// Holes left by the router's drops are filled by the client's retransmissions.
		{file: "loss.pcap", wantGaps: map[GapReason]int{}},
		{file: "reorder.pcap", wantGaps: map[GapReason]int{}},
		// Three packets removed from the capture, two of them adjacent: two gaps the server ACKed.
		{file: "capturedrop.pcap", wantGaps: map[GapReason]int{GapAcked: 2}},
		{file: "snaplen.pcap", allSnaplen: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var conns []*collector
			a := NewAssembler(Config{}, func(ci ConnInfo) Stream {
				c := &collector{info: ci}
				conns = append(conns, c)
				return c
			})
			readCapture(t, filepath.Join("testdata", tt.file), a.Add)
			a.Flush()
			if len(conns) != 1 {
				t.Fatalf("%d connections", len(conns))
			}
			c := conns[0]
			if !c.info.SYN || c.info.B.Port() != 9000 || !c.closed || !c.fin[0] || !c.fin[1] || c.reset {
				t.Errorf("lifecycle: %+v", c)
			}
			if len(c.data[0]) != 60000 {
				t.Errorf("client stream is %d bytes, want 60000", len(c.data[0]))
			}
			holes := make([]bool, len(c.data[0]))
			for _, g := range c.gaps[0] {
				var off, n int
				fmt.Sscanf(g, "%d+%d", &off, &n)
				for i := off; i < off+n && i < len(holes); i++ {
					holes[i] = true
				}
			}
			for i, b := range c.data[0] {
				if !holes[i] && b != byte(i%251) {
					t.Fatalf("client byte %d is %d, want %d", i, b, i%251)
				}
			}
			if got := string(c.data[1]); got != "got 60000\n" {
				t.Errorf("server stream %q", got)
			}
			got := map[GapReason]int{}
			for _, g := range c.stats[0].Gaps {
				got[g.Reason]++
			}
			if tt.allSnaplen {
				if got[GapSnaplen] == 0 || got[GapSnaplen] != len(c.stats[0].Gaps) {
					t.Errorf("gaps %v, want only snaplen gaps", got)
				}
			} else if !maps.Equal(got, tt.wantGaps) {
				t.Errorf("gaps %v, want %v", got, tt.wantGaps)
			}
			if len(c.gaps[1]) != 0 || c.stats[1].HighestAck != 60000 {
				t.Errorf("server: gaps %q, highest ack %d", c.gaps[1], c.stats[1].HighestAck)
			}
		})
	}
}
