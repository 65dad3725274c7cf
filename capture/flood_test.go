package capture

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// floodOut, when set, makes TestWriteUpgradeFlood write the flood captures there, for measuring
// the wspath binary on them (peak RSS per output format): go test ./capture -run
// WriteUpgradeFlood -flood-out DIR.
var floodOut = flag.String("flood-out", "", "directory to write upgrade-flood captures into")

// writeUpgradeFlood writes n TCP connections to one server, each completing its TCP handshake
// and sending a WebSocket Upgrade request that the server acknowledges and never answers, as a
// reconnect storm against a stuck backend looks: correct TCP/IP headers, no other payload.
func writeUpgradeFlood(tb testing.TB, path string, n int) {
	s := newSynth(tb, path)
	srv := netip.MustParseAddrPort("10.200.0.1:8080")
	for i := 0; i < n; i++ {
		cli := addr(i)
		req := []byte(fmt.Sprintf("GET /chat?c=%d HTTP/1.1\r\nHost: chat.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: https://chat.example.test\r\n\r\n", i, floodKey(i)))
		const cisn, sisn = 5000, 90000
		s.packet(cli, srv, cisn, 0, tcpSYN, nil)
		s.packet(srv, cli, sisn, cisn+1, tcpSYN|tcpACK, nil)
		s.packet(cli, srv, cisn+1, sisn+1, tcpACK, nil)
		s.packet(cli, srv, cisn+1, sisn+1, tcpACK|tcpPSH, req)
		s.packet(srv, cli, sisn+1, cisn+1+uint32(len(req)), tcpACK, nil)
		s.tick(10 * time.Microsecond)
	}
	s.close()
}

// floodKey is a distinct 16-byte nonce in base64 for connection i.
func floodKey(i int) string {
	var nonce [16]byte
	copy(nonce[:], fmt.Sprintf("flood-%010d", i))
	return base64.StdEncoding.EncodeToString(nonce[:])
}

func TestWriteUpgradeFlood(t *testing.T) {
	if *floodOut == "" {
		t.Skip("writes flood captures only with -flood-out")
	}
	for _, n := range []int{100000, 1000000} {
		writeUpgradeFlood(t, filepath.Join(*floodOut, fmt.Sprintf("upgrade-flood-%d.pcap", n)), n)
	}
}

func BenchmarkRead_UpgradeFlood100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "flood.pcap")
	writeUpgradeFlood(b, path, 100000)
	benchRead(b, path, Options{}, func(c *Capture) {
		if len(c.Sessions) != 100000 {
			b.Fatalf("%d sessions, want 100000", len(c.Sessions))
		}
	})
}
