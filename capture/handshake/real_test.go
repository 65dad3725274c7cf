package handshake

import (
	"os"
	"testing"
)

func TestParse_RealPythonWebsockets(t *testing.T) {
	reqBytes, err := os.ReadFile("testdata/python-websockets-request.http")
	if err != nil {
		t.Fatal(err)
	}
	respBytes, err := os.ReadFile("testdata/python-websockets-response.http")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseRequest(reqBytes)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ParseResponse(respBytes)
	if err != nil {
		t.Fatal(err)
	}
	if req.Length != len(reqBytes) || resp.Length != len(respBytes) {
		t.Errorf("lengths %d/%d, want %d/%d", req.Length, resp.Length, len(reqBytes), len(respBytes))
	}
	if !req.IsWebSocketUpgrade() || !resp.IsWebSocketUpgrade() || req.Target != "/chat?room=1" {
		t.Errorf("upgrade %v/%v target %q", req.IsWebSocketUpgrade(), resp.IsWebSocketUpgrade(), req.Target)
	}
	if AcceptKey(req.Get("Sec-WebSocket-Key")) != resp.Get("Sec-WebSocket-Accept") {
		t.Error("accept key mismatch")
	}
	d, ok := NegotiatedDeflate(resp.Get("Sec-WebSocket-Extensions"))
	if !ok || d.ServerMaxWindowBits != 12 || d.ClientMaxWindowBits != 12 || d.ServerNoContextTakeover || len(d.Invalid) != 0 {
		t.Errorf("deflate %+v %v", d, ok)
	}
	var creds []string
	for _, f := range req.Fields {
		if IsCredential(f.Name) {
			creds = append(creds, f.Name)
		}
	}
	if len(creds) != 1 || creds[0] != "Cookie" {
		t.Errorf("credentials %v, want [Cookie]", creds)
	}
	// Every prefix is incomplete, never an error.
	for n := 0; n < len(reqBytes); n++ {
		if _, err := ParseRequest(reqBytes[:n]); err != ErrIncomplete {
			t.Fatalf("request prefix %d: %v", n, err)
		}
	}
	for n := 0; n < len(respBytes); n++ {
		if _, err := ParseResponse(respBytes[:n]); err != ErrIncomplete {
			t.Fatalf("response prefix %d: %v", n, err)
		}
	}
}

func BenchmarkParseRequest(b *testing.B) {
	reqBytes, err := os.ReadFile("testdata/python-websockets-request.http")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(reqBytes)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(reqBytes); err != nil {
			b.Fatal(err)
		}
	}
}
