package handshake

import (
	"math/rand/v2"
	"net/textproto"
	"strings"
	"testing"
)

func TestRedactProtocol(t *testing.T) {
	for in, want := range map[string]string{
		"chat": "chat",
		"base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpTVXpJ": "base64url.bearer.authorization.k8s.io.[redacted]",
		"v4.channel.k8s.io": "v4.channel.k8s.io",
		"access_token":      "[redacted]",
	} {
		if got := RedactProtocol(in); got != want {
			t.Errorf("RedactProtocol(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCorrelationField_OddNames: any spelling of a kept name is kept under its canonical form,
// including names that are not HTTP tokens but lower-case to one (HTTP/2 header lists are not
// checked as HTTP/1 heads are); other odd names and credentials are dropped.
func TestCorrelationField_OddNames(t *testing.T) {
	for _, tc := range []struct {
		name, canonical string
		keep            bool
	}{
		{"x-request-id", "X-Request-Id", true},
		{"X-REQUEST-ID", "X-Request-Id", true},
		{"x-b3-traceid", "X-B3-Traceid", true},
		{"cf-ray", "Cf-Ray", true},
		{"X-Real-\u0130p", "X-Real-Ip", true}, // U+0130 lower-cases to "i"
		{"x_request_id", "X_request_id", false},
		{"X-Request-Id ", "x-request-id ", false},
		{"x-request-\u00efd", "x-request-\u00efd", false},
		{"Cookie", "Cookie", false},
		{"Authorization", "Authorization", false},
		{"X-Custom", "X-Custom", false},
		{"", "", false},
	} {
		canonical, keep := CorrelationField(tc.name)
		if canonical != tc.canonical || keep != tc.keep {
			t.Errorf("CorrelationField(%q) = %q, %v; want %q, %v", tc.name, canonical, keep, tc.canonical, tc.keep)
		}
	}
}

func TestHead_CorrelationFields(t *testing.T) {
	h, err := ParseRequest([]byte("GET /ws HTTP/1.1\r\nHost: a\r\nx-forwarded-for: 10.0.0.1\r\n" +
		"X-Forwarded-For: 10.0.0.2\r\nCookie: s=1\r\nX-Auth-Token: t\r\nUser-Agent: ua\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := h.CorrelationFields()
	want := map[string]string{"X-Forwarded-For": "10.0.0.1, 10.0.0.2", "User-Agent": "ua"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestCorrelationField_TokenCase: a token gets the canonical form of its lower-cased spelling,
// which CorrelationField computes without lower-casing it, in any mix of cases.
func TestCorrelationField_TokenCase(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
	for range 5000 {
		b := make([]byte, 1+rng.IntN(24))
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		name := string(b)
		want := textproto.CanonicalMIMEHeaderKey(strings.ToLower(name))
		if got, _ := CorrelationField(name); got != want {
			t.Fatalf("CorrelationField(%q) = %q, want %q", name, got, want)
		}
	}
}
