package capture

import (
	"path/filepath"
	"testing"
)

// TestRead_Bridge: with Options.Bridge, connections to the bridged port are kept as byte
// streams, with the packets that carried each piece and the TCP holes; others are not.
func TestRead_Bridge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.pcap")
	s := newSynth(t, path)
	conn := s.conn("127.0.0.1:40000", "127.0.0.1:5901", true)
	conn.send(true, []byte("GET looks like HTTP but is just bytes"))
	conn.send(false, []byte("RFB 003.008\n"))
	conn.mss = 10
	conn.sendSkip(true, []byte("0123456789abcdefghij"), 1) // the second segment not captured
	conn.fin(true)
	other := s.conn("127.0.0.1:40001", "127.0.0.1:80", true)
	other.send(true, []byte("not bridged"))
	s.close()
	for _, tc := range []struct {
		name string
		opts Options
		n    int
	}{{"bridge", Options{Bridge: true, Port: 5901}, 1}, {"no bridge", Options{Port: 5901}, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Read([]string{path}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Streams) != tc.n {
				t.Fatalf("%d streams, want %d", len(c.Streams), tc.n)
			}
			if tc.n == 0 {
				return
			}
			st := c.Streams[0]
			if got := string(st.Data[ClientToServer]); got != "GET looks like HTTP but is just bytes0123456789" {
				t.Errorf("client bytes %q", got)
			}
			if got := string(st.Data[ServerToClient]); got != "RFB 003.008\n" {
				t.Errorf("server bytes %q", got)
			}
			if st.Server.Port() != 5901 || st.Ending != ClosedFIN || len(st.TCP[ClientToServer].Gaps()) != 1 {
				t.Errorf("server %v ending %v gaps %v", st.Server, st.Ending, st.TCP[ClientToServer].Gaps())
			}
			if r := st.At(ClientToServer, 40); r.Offset != 37 || r.Packet.Number == 0 {
				t.Errorf("run at 40: %+v", r)
			}
		})
	}
}
