package handshake

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// addSeeds adds the built-in examples and every file under testdata/ matching pattern.
func addSeeds(f *testing.F, pattern string, builtin ...string) {
	for _, s := range builtin {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkHead verifies the invariants every successful parse must keep.
func checkHead(t *testing.T, b []byte, h *Head, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		return
	}
	if h.Length <= 0 || h.Length > len(b) {
		t.Fatalf("Length %d out of range (input %d)", h.Length, len(b))
	}
	if len(h.Fields) > MaxFields {
		t.Fatalf("%d fields", len(h.Fields))
	}
	for _, fl := range h.Fields {
		_ = h.Get(fl.Name)
		_ = IsCredential(fl.Name)
	}
	_ = h.IsWebSocketUpgrade()
	_, _ = NegotiatedDeflate(h.Get("Sec-WebSocket-Extensions"))
}

func FuzzParseRequest(f *testing.F) {
	addSeeds(f, "*request*", chromeRequest, "GET / HTTP/1.1\nA: b\n c\n\n", "\r\nGET / HTTP/1.0\r\n\r\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseRequest(b)
		checkHead(t, b, h, err)
		if err == nil {
			// A complete head stays complete and identical with more bytes after it.
			h2, err2 := ParseRequest(append(b[:h.Length:h.Length], "\x81\x00"...))
			if err2 != nil || h2.Length != h.Length {
				t.Fatalf("re-parse: %v, length %d vs %d", err2, h2.Length, h.Length)
			}
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	addSeeds(f, "*response*", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\n\r\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseResponse(b)
		checkHead(t, b, h, err)
		if err != nil {
			return
		}
		// A complete head stays complete and identical with more bytes after it.
		h2, err2 := ParseResponse(append(b[:h.Length:h.Length], "\x81\x00"...))
		if err2 != nil || !reflect.DeepEqual(h2, h) {
			t.Fatalf("re-parse: %v\n%+v\nvs %+v", err2, h2, h)
		}
		// The head printed back in canonical form parses to the same status and fields.
		var p strings.Builder
		fmt.Fprintf(&p, "%s %03d %s\r\n", h.Proto, h.Status, h.Reason)
		for _, fl := range h.Fields {
			fmt.Fprintf(&p, "%s: %s\r\n", fl.Name, fl.Value)
		}
		p.WriteString("\r\n")
		h3, err3 := ParseResponse([]byte(p.String()))
		if err3 != nil || h3.Proto != h.Proto || h3.Status != h.Status || h3.Reason != h.Reason || !reflect.DeepEqual(h3.Fields, h.Fields) {
			t.Fatalf("printed %q parses to %+v, %v; want %+v", p.String(), h3, err3, h)
		}
	})
}

func FuzzParseExtensions(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits=10; server_no_context_takeover, x; a=\"b,c\"")
	f.Fuzz(func(t *testing.T, s string) {
		ext := ParseExtensions(s)
		if len(ext) > maxExtensions {
			t.Fatalf("%d extensions", len(ext))
		}
		d, ok := NegotiatedDeflate(s)
		if ok && (d.ServerMaxWindowBits < 8 || d.ServerMaxWindowBits > 15 || d.ClientMaxWindowBits < 8 || d.ClientMaxWindowBits > 15) {
			t.Fatalf("window bits out of range: %+v", d)
		}
	})
}
