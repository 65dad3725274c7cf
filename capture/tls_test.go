package capture

import (
	"path/filepath"
	"testing"
)

// TestRead_TLS reads real wss:// captures (Go's crypto/tls client through haproxy terminating
// TLS, made by tlsdecrypt/testdata/gen) with and without their key logs: with keys the WebSocket
// session is read as if plaintext; without, the TLS connection is kept by its record shapes.
func TestRead_TLS(t *testing.T) {
	td := filepath.Join("tlsdecrypt", "testdata")
	for _, tc := range []struct {
		name, pcap, keys   string
		decrypted          bool
		version            string
		c2s, s2c           int
		recordsWithoutKeys bool
	}{
		{"tls13 with key log", "tls13_aes256gcm_haproxy_ws.pcap", "tls13_aes256gcm_haproxy_ws.keys", true, "TLS 1.3", 4, 4, false},
		{"tls12 with key log", "tls12_ecdhe_rsa_aes256gcm_haproxy_ws.pcap", "tls12_ecdhe_rsa_aes256gcm_haproxy_ws.keys", true, "TLS 1.2", 3, 3, false},
		{"tls13 secrets in the pcapng", "tls13_dsb.pcapng", "", true, "TLS 1.3", 4, 4, false},
		{"tls13 without keys", "tls13_aes256gcm_haproxy_ws.pcap", "", false, "TLS 1.3", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{}
			if tc.keys != "" {
				opts.KeylogFiles = []string{filepath.Join(td, tc.keys)}
			}
			c, err := Read([]string{filepath.Join(td, tc.pcap)}, opts)
			if err != nil {
				t.Fatal(err)
			}
			s := onlySession(t, c)
			if s.TLS() == nil || s.TLS().Decrypted != tc.decrypted || s.TLS().Version != tc.version || s.TLS().SNI != "wspath.test" {
				t.Fatalf("tls %+v", s.TLS())
			}
			if got := len(dataMessages(s, ClientToServer)); got != tc.c2s {
				t.Errorf("client messages %d, want %d", got, tc.c2s)
			}
			if got := len(dataMessages(s, ServerToClient)); got != tc.s2c {
				t.Errorf("server messages %d, want %d", got, tc.s2c)
			}
			if tc.decrypted && (s.Key() == "" || s.Response == nil || !s.Response.AcceptValid) {
				t.Errorf("handshake not read: key %q response %+v", s.Key(), s.Response)
			}
			if got := len(s.TLS().Records[ClientToServer]) > 0; got != tc.recordsWithoutKeys {
				t.Errorf("record shapes kept: %v, want %v", got, tc.recordsWithoutKeys)
			}
		})
	}
}

// TestRead_IPv6 reads a real WebSocket exchange over IPv6 (testdata/README.md).
func TestRead_IPv6(t *testing.T) {
	c, err := Read([]string{filepath.Join("testdata", "ipv6-loopback.pcap")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := onlySession(t, c)
	if !s.Client.Addr().Is6() || s.Server.String() != "[::1]:18765" || s.Path() != "/v6" {
		t.Errorf("client %v server %v path %q", s.Client, s.Server, s.Path())
	}
	if len(dataMessages(s, ClientToServer)) != 5 || len(dataMessages(s, ServerToClient)) != 5 {
		t.Errorf("messages %d/%d, want 5/5", len(dataMessages(s, ClientToServer)), len(dataMessages(s, ServerToClient)))
	}
}
