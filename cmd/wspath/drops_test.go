package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wspath/wspath/capture"
)

// Captures that admit dropping packets, made from the bundled real captures: gopacket's pcapng
// writer (independent of wspath's reader) copies a hop's capture, optionally leaving out the
// packets of one connection from some point on (as a capturing kernel with a full buffer
// does), and ends it with an Interface Statistics Block counting drops.

// rewriteDropping copies the pcap file src to a pcapng file in dir, leaving out the packets
// for which skip returns true and, when dropped > 0, recording that count in an Interface
// Statistics Block.
func rewriteDropping(t *testing.T, src, dir string, dropped uint64, skip func(n int, data []byte, lt layers.LinkType) bool) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".pcap")+".pcapng")
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, err := pcapgo.NewNgWriter(out, r.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	for n := 1; ; n++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if first.IsZero() {
			first = ci.Timestamp
		}
		last = ci.Timestamp
		if skip != nil && skip(n, data, r.LinkType()) {
			continue
		}
		ci.InterfaceIndex = 0
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if dropped > 0 {
		st := pcapgo.NgInterfaceStatistics{LastUpdate: last, StartTime: first, EndTime: last,
			PacketsReceived: pcapgo.NgNoValue64, PacketsDropped: dropped}
		if err := w.WriteInterfaceStats(0, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return name
}

// tcpPorts are the ports of a TCP packet, 0 when it is not TCP.
func tcpPorts(data []byte, lt layers.LinkType) (src, dst uint16) {
	p := gopacket.NewPacket(data, lt, gopacket.NoCopy)
	if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
		return uint16(tcp.SrcPort), uint16(tcp.DstPort)
	}
	return 0, 0
}

func compareWithWarnings(t *testing.T, hops string) (int, mistakeResult) {
	t.Helper()
	code, stdout, stderr := runWspath(t, "compare", hops, "-f", "json")
	var res mistakeResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, stdout, stderr)
	}
	return code, res
}

func hopWarns(res mistakeResult, hop, text string) bool {
	for _, h := range res.Hops {
		if h.Name != hop {
			continue
		}
		for _, w := range h.Warnings {
			if strings.Contains(w, text) {
				return true
			}
		}
	}
	return false
}

func TestCompare_CaptureDropsReal(t *testing.T) {
	ex := filepath.Join("..", "..", "examples")
	t.Run("healthy, drops admitted", func(t *testing.T) {
		// Nothing was lost and the capture says it dropped packets: still delivered, with the warning.
		dir := t.TempDir()
		ingress := rewriteDropping(t, filepath.Join(ex, "healthy", "ingress.pcap"), dir, 321, nil)
		code, res := compareWithWarnings(t, hopsYAML(t, "client|healthy/client.pcap", "lb|healthy/lb-*.pcap",
			"fw|healthy/fw.pcap", "ingress|"+ingress, "server|healthy/server.pcap"))
		if code != 0 {
			t.Errorf("exit %d, want %d", code, 0)
		}
		if !hopWarns(res, "ingress", "the capturing system dropped 321 packets") {
			t.Errorf("ingress warnings lack the drop count: %+v", res.Hops)
		}
	})
	t.Run("real loss, drops admitted downstream", func(t *testing.T) {
		// The firewall really dropped message 6 of conn 2; the ingress capture also admits
		// drops, but the firewall side never saw the bytes acknowledged: still lost. Where is
		// what ingress's capture cannot tell (its stream ends before the message, as a dropped
		// tail would): the server is the first hop proving the absence, and the reason says so.
		dir := t.TempDir()
		ingress := rewriteDropping(t, filepath.Join(ex, "c2s-drop", "ingress.pcap"), dir, 77, nil)
		code, res := compareWithWarnings(t, hopsYAML(t, c2sDrop[0], c2sDrop[1], c2sDrop[2], "ingress|"+ingress, c2sDrop[4]))
		if code != exitLoss {
			t.Errorf("exit %d, want %d", code, exitLoss)
		}
		d := res.Connections[1].Directions["client_to_server"]
		if res.Connections[1].Path != "/chat/2" || d.Verdict != "lost" || d.FirstMissingHop == nil || *d.FirstMissingHop != "server" || d.Missing != 6 ||
			!strings.Contains(d.Reason, "whether it reached ingress before is not known: ingress's capture admits 77 dropped packets") {
			t.Errorf("conn 2 c2s = %+v, want lost at server, 6 missing, ingress's drops named", d)
		}
	})
	t.Run("tail dropped by the capture", func(t *testing.T) {
		// In c2s-drop (the firewall drops conn 2's message 6), the client hop's capture loses conn 1's packets from the server's message 8 on. As
		// pcap, with nothing saying the capture dropped them, it is still a capture gap at the
		// client: lb sees the same TCP connection (same initial sequence numbers) and the
		// client's acknowledgements of those bytes; with the capture admitting the drops, the
		// reason gives the count. (The client hop: gopacket v1.1.19's pcapng writer cannot write
		// the server hop's link type, Linux SLL2 = 276.)
		c, err := capture.Read([]string{filepath.Join(ex, "c2s-drop", "client.pcap")}, capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var port uint16
		from := 0
		for _, s := range c.Sessions {
			if s.Request != nil && s.Request.Path == "/chat/1" {
				port = s.Client.Port()
				from = s.Messages(capture.ServerToClient)[8].Packet.Number
			}
		}
		if port == 0 || from == 0 {
			t.Fatal("conn 1 not found at the client hop")
		}
		skip := func(n int, data []byte, lt layers.LinkType) bool {
			src, dst := tcpPorts(data, lt)
			return n >= from && (src == port || dst == port)
		}
		for _, tc := range []struct {
			dropped uint64
			verdict string
			exit    int
		}{{0, "capture_gap", exitLoss}, {40, "capture_gap", exitLoss}} { // exit 1 either way: conn 2's real loss
			client := rewriteDropping(t, filepath.Join(ex, "c2s-drop", "client.pcap"), t.TempDir(), tc.dropped, skip)
			code, res := compareWithWarnings(t, hopsYAML(t, "client|"+client, c2sDrop[1], c2sDrop[2], c2sDrop[3], c2sDrop[4]))
			if code != tc.exit {
				t.Errorf("dropped %d: exit %d, want %d", tc.dropped, code, tc.exit)
			}
			d := res.Connections[0].Directions["server_to_client"]
			if res.Connections[0].Path != "/chat/1" || d.Verdict != tc.verdict || d.FirstMissingHop == nil || *d.FirstMissingHop != "client" {
				t.Errorf("dropped %d: conn 1 s2c = %+v, want %s at client", tc.dropped, d, tc.verdict)
			}
			// Either way the strongest evidence is given: the client's own acknowledgements, on
			// the one TCP connection lb and client both see (the drop count also holds).
			if !strings.Contains(d.Reason, "see one TCP connection") {
				t.Errorf("reason %q does not give the acknowledgement through one TCP connection", d.Reason)
			}
		}
	})
}
