package tlsdecrypt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const (
	testCR     = "0101010101010101010101010101010101010101010101010101010101010101"
	testSecret = "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdef"
)

func TestParseKeylog_Lines(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		entries int
		errs    []string // substrings of the errors, in order
	}{
		{"empty", "", 0, nil},
		{"comments and blanks", "# SSL/TLS secrets log file\n\n   \r\n", 0, nil},
		{"client random", "CLIENT_RANDOM " + testCR + " " + testSecret + "\n", 1, nil},
		{"crlf", "CLIENT_RANDOM " + testCR + " " + testSecret + "\r\n", 1, nil},
		{"tls13", "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + testCR + " " + testSecret[:64] + "\nSERVER_TRAFFIC_SECRET_0 " + testCR + " " + testSecret + "\n", 2, nil},
		{"ignored labels", "EXPORTER_SECRET " + testCR + " " + testSecret[:64] + "\nCLIENT_EARLY_TRAFFIC_SECRET " + testCR + " " + testSecret[:64], 0, nil},
		{"rsa", "RSA 0102030405060708 " + testSecret, 1, nil},
		{"pms", "PMS_CLIENT_RANDOM " + testCR + " " + testSecret[:20], 1, nil},
		{"session id", "RSA Session-ID:" + testCR + " Master-Key:" + testSecret, 1, nil},
		{"short client random", "CLIENT_RANDOM 0102 " + testSecret, 0, []string{"line 1: CLIENT_RANDOM: client random is not 64 hex digits"}},
		{"bad master length", "CLIENT_RANDOM " + testCR + " " + testSecret[:64], 0, []string{"line 1: CLIENT_RANDOM: secret is not 48 to 48 bytes"}},
		{"not hex", "CLIENT_RANDOM " + testCR + " " + strings.Repeat("zz", 48), 0, []string{"line 1: CLIENT_RANDOM: secret"}},
		{"unknown label", "\nFOO_SECRET " + testCR + " " + testSecret, 0, []string{"line 2: unknown label FOO_SECRET"}},
		{"garbage", testSecret + " " + testSecret + " " + testSecret, 0, []string{"line 1: unrecognised line"}},
		{"fields", "CLIENT_RANDOM " + testCR, 0, []string{"line 1: expected LABEL <hex> <hex>"}},
		{"rsa bad", "RSA 01 " + testSecret, 0, []string{"line 1: RSA: encrypted pre-master secret prefix"}},
		{"session bad", "RSA Session-ID:zz Master-Key:" + testSecret, 0, []string{"line 1: RSA Session-ID: session id"}},
		{"too long", strings.Repeat("A", maxKeylogLine+1), 0, []string{"line 1: line too long"}},
		{"mixed", "CLIENT_RANDOM " + testCR + " " + testSecret + "\nbad\nCLIENT_RANDOM " + testCR + " " + testSecret, 2, []string{"line 2: expected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, errs := ParseKeylog([]byte(tt.text))
			if k.Len() != tt.entries {
				t.Errorf("Len %d, want %d", k.Len(), tt.entries)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %d", errs, len(tt.errs))
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.errs[i]) {
					t.Errorf("error %q, want %q", err, tt.errs[i])
				}
				var ke *KeylogError
				if !errors.As(err, &ke) {
					t.Errorf("error %T is not a *KeylogError", err)
				}
				if strings.Contains(strings.ToLower(err.Error()), testSecret[:16]) {
					t.Errorf("error %q echoes secret bytes", err)
				}
			}
		})
	}
}

func TestKeylog_NeverPrinted(t *testing.T) {
	k, _ := ParseKeylog([]byte("CLIENT_RANDOM " + testCR + " " + testSecret + "\n"))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		for _, v := range []any{k, *k} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, testSecret[:8]) || strings.Contains(out, "\xab\xcd") || strings.Contains(out, "171") {
				t.Errorf("%s prints secrets: %q", verb, out)
			}
			if !strings.Contains(out, "1 entries") {
				t.Errorf("%s: %q", verb, out)
			}
		}
	}
	c := NewConn(k, nil)
	if out := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(out, testSecret[:8]) {
		t.Errorf("Conn prints secrets: %q", out)
	}
}

func TestKeylog_Add(t *testing.T) {
	a, _ := ParseKeylog([]byte("CLIENT_RANDOM " + testCR + " " + testSecret))
	b, _ := ParseKeylog([]byte("RSA 0102030405060708 " + testSecret + "\nSERVER_TRAFFIC_SECRET_0 " + testCR + " " + testSecret))
	a.Add(b)
	a.Add(nil)
	var nilK *Keylog
	nilK.Add(a)
	if a.Len() != 3 || nilK.Len() != 0 {
		t.Errorf("Len %d, nil Len %d", a.Len(), nilK.Len())
	}
	if a.lookupRSA([]byte{1, 2, 3, 4, 5, 6, 7, 8}) == nil || a.lookup13([32]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}) == nil {
		t.Error("entries of b not found in a")
	}
}
