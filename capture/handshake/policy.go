package handshake

import (
	"net/textproto"
	"strings"
)

// What wspath keeps of a handshake's header fields: it stores the few that match a connection
// across hops or explain it, and never one that carries a credential, whatever the list says.

// credentialFields are header names (lower case) whose values are secrets.
var credentialFields = [...]string{
	"authorization", "proxy-authorization", "cookie", "set-cookie", "cookie2", "set-cookie2",
	"x-api-key", "api-key", "apikey", "x-apikey", "x-auth-token", "x-access-token", "x-csrf-token",
	"x-xsrf-token", "x-amz-security-token", "x-goog-iap-jwt-assertion", "x-forwarded-access-token",
	"x-vault-token", "private-token", "x-session-id", "x-session-token", "x-auth",
}

// credentialParts are name fragments that mark a field as probably secret.
var credentialParts = [...]string{"token", "secret", "password", "passwd", "apikey", "api-key", "api_key", "credential", "session", "cookie", "signature"}

// IsCredential reports whether a header field with this name carries a credential (Cookie,
// Set-Cookie, Authorization, Proxy-Authorization, API keys, tokens, ...) and must never be stored
// in wspath's output. The name is compared case-insensitively; besides a fixed list, any name
// containing "token", "secret", "password", "apikey", "credential", "session", "cookie" or
// "signature", or ending in "-auth"/"-authorization", counts, erring on the side of not storing.
// Note that Sec-WebSocket-Protocol sometimes smuggles a bearer token (e.g. Kubernetes'
// "base64url.bearer.authorization.k8s.io.<token>"); that field is not covered here.
func IsCredential(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, c := range credentialFields {
		if n == c {
			return true
		}
	}
	for _, p := range credentialParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return strings.HasSuffix(n, "-auth") || strings.HasSuffix(n, "-authorization")
}

// correlationFields are the header names (canonical) that help match a connection across hops
// (request and trace ids, X-Forwarded-For) or explain it (proxies on the way, client and server).
var correlationFields = [...]string{
	"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port",
	"X-Real-Ip", "X-Request-Id", "X-Correlation-Id", "X-Amzn-Trace-Id",
	"Traceparent", "Forwarded", "Via", "User-Agent", "Server",
	"X-B3-Traceid", "Cf-Ray",
}

// isCorrelationField reports whether the canonical name is one of correlationFields.
func isCorrelationField(canonical string) bool {
	for _, c := range correlationFields {
		if canonical == c {
			return true
		}
	}
	return false
}

// CorrelationField returns the canonical form of a header field name (as
// textproto.CanonicalMIMEHeaderKey gives it, "X-Request-Id") and whether wspath keeps that field:
// one that helps match a connection across hops or explain it, never a credential. The name is
// lower-cased first, so that any spelling of a kept name is kept under one form.
func CorrelationField(name string) (canonical string, keep bool) {
	// Lower-casing a token would change nothing (CanonicalMIMEHeaderKey gives a token one form
	// whatever its case) but copy every field name of every handshake.
	if !isToken(name) {
		name = strings.ToLower(name)
	}
	canonical = textproto.CanonicalMIMEHeaderKey(name)
	return canonical, isCorrelationField(canonical) && !IsCredential(canonical)
}

// CorrelationFields returns the fields of h that CorrelationField keeps, by canonical name, the
// values of repeated fields joined as Get joins them; nil when there is none.
func (h *Head) CorrelationFields() map[string]string {
	var out map[string]string
	for _, f := range h.Fields {
		if !mayCorrelate(f.Name) {
			continue
		}
		name, keep := CorrelationField(f.Name)
		if !keep {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = h.Get(name)
	}
	return out
}

// RedactProtocol hides subprotocol tokens that carry credentials (IsCredential does not cover
// Sec-WebSocket-Protocol): Kubernetes-style clients send
// "base64url.bearer.authorization.k8s.io.<token>" because browsers cannot set Authorization.
// The part before the last dot is kept, as it names the scheme.
func RedactProtocol(p string) string {
	l := strings.ToLower(p)
	if strings.Contains(l, "bearer") || strings.Contains(l, "authorization") || strings.Contains(l, "token") {
		if i := strings.LastIndexByte(p, '.'); i > 0 {
			return p[:i+1] + "[redacted]"
		}
		return "[redacted]"
	}
	return p
}

// mayCorrelate reports whether name may be one of correlationFields once made canonical: only then
// is its canonical form made, a copy for every name not already canonical (Sec-WebSocket-Key) of
// every handshake. CanonicalMIMEHeaderKey changes only the ASCII case of a token, so a token is
// compared without case; any other name is left to CorrelationField.
func mayCorrelate(name string) bool {
	if !isToken(name) {
		return true
	}
	for _, c := range correlationFields {
		if len(name) == len(c) && strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}
