package handshake

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const chromeRequest = "GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: example.com:8080\r\n" +
	"Connection: keep-alive, Upgrade\r\n" +
	"Upgrade: websocket\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"Cookie: a=b\r\n" +
	"\r\n"

func TestParseRequest_Cases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
		check   func(t *testing.T, h *Head)
	}{
		{name: "chrome", in: chromeRequest + "\x81\x85", check: func(t *testing.T, h *Head) {
			if h.Method != "GET" || h.Target != "/chat?room=1" || h.Proto != "HTTP/1.1" {
				t.Errorf("request line = %q %q %q", h.Method, h.Target, h.Proto)
			}
			if h.Length != len(chromeRequest) {
				t.Errorf("Length = %d, want %d", h.Length, len(chromeRequest))
			}
			if !h.IsWebSocketUpgrade() {
				t.Error("not recognised as upgrade")
			}
			if got := h.Get("sec-websocket-key"); got != "dGhlIHNhbXBsZSBub25jZQ==" {
				t.Errorf("key = %q", got)
			}
			if len(h.Fields) != 7 || h.Fields[0].Name != "Host" {
				t.Errorf("fields = %v", h.Fields)
			}
		}},
		{name: "bare LF and lower-case names", in: "GET / HTTP/1.1\nhost: x\nupgrade: WebSocket\nconnection: upgrade\n\n", check: func(t *testing.T, h *Head) {
			if !h.IsWebSocketUpgrade() || h.Get("HOST") != "x" {
				t.Errorf("head = %+v", h)
			}
		}},
		{name: "obs-fold", in: "GET / HTTP/1.1\r\nX-Long: a\r\n  b\r\n\tc\r\nHost: h\r\n\r\n", check: func(t *testing.T, h *Head) {
			if got := h.Get("x-long"); got != "a b c" {
				t.Errorf("folded = %q", got)
			}
		}},
		{name: "repeated fields joined", in: "GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", check: func(t *testing.T, h *Head) {
			if got := h.Get("connection"); got != "keep-alive, Upgrade" {
				t.Errorf("joined = %q", got)
			}
			if !h.IsWebSocketUpgrade() {
				t.Error("not upgrade")
			}
		}},
		{name: "leading empty lines", in: "\r\n\r\nGET / HTTP/1.0\r\n\r\n", check: func(t *testing.T, h *Head) {
			if h.Proto != "HTTP/1.0" || h.Length != 22 {
				t.Errorf("head = %+v", h)
			}
		}},
		{name: "space before colon tolerated", in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", check: func(t *testing.T, h *Head) {
			if h.Get("host") != "h" {
				t.Errorf("host = %q", h.Get("host"))
			}
		}},
		{name: "empty value", in: "GET / HTTP/1.1\r\nX-Empty:\r\n\r\n", check: func(t *testing.T, h *Head) {
			if !h.Has("x-empty") || h.Get("x-empty") != "" {
				t.Errorf("fields = %v", h.Fields)
			}
		}},
		{name: "not upgrade", in: "GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", check: func(t *testing.T, h *Head) {
			if h.IsWebSocketUpgrade() {
				t.Error("h2c taken for websocket")
			}
		}},
		{name: "empty", in: "", wantErr: ErrIncomplete},
		{name: "partial line", in: "GET / HT", wantErr: ErrIncomplete},
		{name: "no blank line", in: "GET / HTTP/1.1\r\nHost: x\r\n", wantErr: ErrIncomplete},
		{name: "CR only so far", in: "GET / HTTP/1.1\r\nHost: x\r\n\r", wantErr: ErrIncomplete},
		{name: "tls bytes", in: "\x16\x03\x01\x02\x00\x01", wantErr: ErrMalformed},
		{name: "websocket frame bytes", in: "\x81\x05hello", wantErr: ErrMalformed},
		{name: "two parts", in: "GET /\r\n\r\n", wantErr: ErrMalformed},
		{name: "bad proto", in: "GET / HTTP/11\r\n\r\n", wantErr: ErrMalformed},
		{name: "bad method", in: "G(T / HTTP/1.1\r\n\r\n", wantErr: ErrMalformed},
		{name: "no colon", in: "GET / HTTP/1.1\r\nHost\r\n\r\n", wantErr: ErrMalformed},
		{name: "fold first", in: "GET / HTTP/1.1\r\n x\r\n\r\n", wantErr: ErrMalformed},
		{name: "bad name", in: "GET / HTTP/1.1\r\nHo st: x\r\n\r\n", wantErr: ErrMalformed},
		{name: "NUL in value", in: "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", wantErr: ErrMalformed},
		{name: "too many fields", in: "GET / HTTP/1.1\r\n" + strings.Repeat("A: b\r\n", MaxFields+1) + "\r\n", wantErr: ErrTooLarge},
		{name: "too large", in: "GET / HTTP/1.1\r\nA: " + strings.Repeat("b", MaxHeadSize), wantErr: ErrTooLarge},
		{name: "just under the bound", in: "GET / HTTP/1.1\r\nA: " + strings.Repeat("b", MaxHeadSize-24) + "\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseRequest([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.check != nil {
				tt.check(t, h)
			}
		})
	}
}

func TestParseRequest_EveryPrefixIncomplete(t *testing.T) {
	for n := 0; n < len(chromeRequest); n++ {
		_, err := ParseRequest([]byte(chromeRequest[:n]))
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("prefix %d: err = %v, want ErrIncomplete", n, err)
		}
	}
}

func TestParseRequest_SyntaxErrorOffset(t *testing.T) {
	_, err := ParseRequest([]byte("GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n"))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SyntaxError", err)
	}
	if se.Offset != 28 {
		t.Errorf("Offset = %d, want 28 (the space in the name)", se.Offset)
	}
}

func TestParseResponse_Cases(t *testing.T) {
	const ok101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	tests := []struct {
		name       string
		in         string
		wantErr    error
		status     int
		reason     string
		interim    int
		upgrade    bool
		wantLength int
	}{
		{name: "101", in: ok101 + "\x81\x02hi", status: 101, reason: "Switching Protocols", upgrade: true, wantLength: len(ok101)},
		{name: "100 then 101", in: "HTTP/1.1 100 Continue\r\n\r\n" + ok101, status: 101, reason: "Switching Protocols", interim: 1, upgrade: true, wantLength: 25 + len(ok101)},
		{name: "403 refusal", in: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", status: 403, reason: "Forbidden", wantLength: 45},
		{name: "no reason", in: "HTTP/1.1 101\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n", status: 101, upgrade: true, wantLength: 57},
		{name: "101 without upgrade", in: "HTTP/1.1 101 OK\r\n\r\n", status: 101, reason: "OK", wantLength: 19},
		{name: "interim incomplete", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 1", wantErr: ErrIncomplete},
		{name: "bad code", in: "HTTP/1.1 1x1 Nope\r\n\r\n", wantErr: ErrMalformed},
		{name: "code 600", in: "HTTP/1.1 600 Nope\r\n\r\n", wantErr: ErrMalformed},
		{name: "not http", in: "SSH-2.0-OpenSSH_9.2\r\n\r\n", wantErr: ErrMalformed},
		{name: "too many interim", in: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", MaxInterim+1) + ok101, wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseResponse([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if h.Status != tt.status || h.Reason != tt.reason || len(h.Interim) != tt.interim ||
				h.IsWebSocketUpgrade() != tt.upgrade || h.Length != tt.wantLength {
				t.Errorf("got status %d reason %q interim %v upgrade %v length %d", h.Status, h.Reason,
					h.Interim, h.IsWebSocketUpgrade(), h.Length)
			}
		})
	}
}

// TestSplitSpace checks that request lines are split as strings.Fields splits them, on random
// lines of the bytes checkStartPrefix lets through, white space of every kind among them.
func TestSplitSpace(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "  \t\r\v\fGET/aZ09.-HTP?=\x7e"
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		var parts [3][]byte
		n := splitSpace(b, &parts)
		want := strings.Fields(string(b))
		if n != len(want) {
			t.Fatalf("%q: %d parts, strings.Fields has %d", b, n, len(want))
		}
		for i := range min(n, 3) {
			if string(parts[i]) != want[i] {
				t.Fatalf("%q: part %d = %q, want %q", b, i, parts[i], want[i])
			}
		}
	}
}

// TestParseRequestInto_Allocs checks that parsing a usual Upgrade into a reused Head makes only the
// strings that are the request's own, its target and key: its other names and values are common
// ones, or those of the request parsed before into the Head.
func TestParseRequestInto_Allocs(t *testing.T) {
	var h Head
	reqs := [2][]byte{[]byte(chromeRequest), []byte(strings.Replace(chromeRequest, "dGhlIHNhbXBsZSBub25jZQ==", "AQIDBAUGBwgJCgsMDQ4PEA==", 1))}
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		n++
		if err := ParseRequestInto(&h, reqs[n%2]); err != nil {
			t.Fatal(err)
		}
		_ = h.CorrelationFields()
	})
	if allocs > 2 {
		t.Errorf("%v allocations per request, want at most 2", allocs)
	}
	if got := h.Get("Sec-WebSocket-Key"); got != "dGhlIHNhbXBsZSBub25jZQ==" && got != "AQIDBAUGBwgJCgsMDQ4PEA==" {
		t.Errorf("key %q", got)
	}
	// A head parsed after one with other fields, or more of them, has its own values.
	other := "GET /x HTTP/1.1\r\nHost: other.example\r\nCookie: c=d\r\nX-A: 1\r\nX-B: 2\r\n\r\n"
	if err := ParseRequestInto(&h, []byte(other)); err != nil {
		t.Fatal(err)
	}
	want, _ := ParseRequest([]byte(other))
	if !slices.Equal(h.Fields, want.Fields) || h.Target != "/x" {
		t.Errorf("fields %q, want %q", h.Fields, want.Fields)
	}
}
