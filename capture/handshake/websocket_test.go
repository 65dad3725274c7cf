package handshake

import (
	"reflect"
	"testing"
)

func TestAcceptKey_RFC6455Example(t *testing.T) {
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey = %q", got)
	}
}

func TestIsCredential_Names(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"Cookie", true}, {"set-cookie", true}, {"Authorization", true}, {"PROXY-AUTHORIZATION", true},
		{"X-Api-Key", true}, {"X-Auth-Token", true}, {"X-CSRF-Token", true}, {"X-Amz-Security-Token", true},
		{"X-Client-Secret", true}, {"X-My-Auth", true}, {"Sec-WebSocket-Key", false}, {"Host", false},
		{"X-Forwarded-For", false}, {"User-Agent", false}, {"Origin", false}, {"X-Request-Id", false},
		{"Sec-WebSocket-Accept", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsCredential(tt.name); got != tt.want {
				t.Errorf("IsCredential(%q) = %v", tt.name, got)
			}
		})
	}
}

func TestParseExtensions_Cases(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Extension
	}{
		{"empty", "", nil},
		{"chrome offer", "permessage-deflate; client_max_window_bits", []Extension{
			{"permessage-deflate", map[string]string{"client_max_window_bits": ""}}}},
		{"two", "permessage-deflate; server_no_context_takeover; client_max_window_bits=10, x-webkit-deflate-frame", []Extension{
			{"permessage-deflate", map[string]string{"server_no_context_takeover": "", "client_max_window_bits": "10"}},
			{"x-webkit-deflate-frame", map[string]string{}}}},
		{"quoted", `foo; a="x,y;z"; B="q\"r", bar`, []Extension{
			{"foo", map[string]string{"a": "x,y;z", "b": `q"r`}}, {"bar", map[string]string{}}}},
		{"empty entries", " , ,Permessage-Deflate ,", []Extension{{"permessage-deflate", map[string]string{}}}},
		{"params without name", "; a=1, b", []Extension{{"b", map[string]string{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseExtensions(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseExtensions(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNegotiatedDeflate_Cases(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
		want Deflate
	}{
		{"none", "", false, Deflate{}},
		{"other", "x-webkit-deflate-frame", false, Deflate{}},
		{"defaults", "permessage-deflate", true, Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"python websockets", "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", true,
			Deflate{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"no takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", true,
			Deflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"invalid", "permessage-deflate; server_max_window_bits=7; foo", true,
			Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, Invalid: []string{"foo", "server_max_window_bits=7"}}},
		{"first wins", "permessage-deflate; server_max_window_bits=9, permessage-deflate", true,
			Deflate{ServerMaxWindowBits: 9, ClientMaxWindowBits: 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := NegotiatedDeflate(tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if ok && !reflect.DeepEqual(*d, tt.want) {
				t.Errorf("got %+v, want %+v", *d, tt.want)
			}
		})
	}
}
