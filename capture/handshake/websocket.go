package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// websocketGUID is the fixed string RFC 6455 section 1.3 appends to the key.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value a server must send for the client's
// Sec-WebSocket-Key (RFC 6455 section 4.2.2): base64(SHA-1(key + GUID)). The key is used as sent,
// after trimming surrounding whitespace.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(strings.TrimSpace(key) + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Extension is one entry of a Sec-WebSocket-Extensions list (RFC 6455 section 9.1). Params maps
// lower-cased parameter names to values; a parameter without a value maps to "". Quoted values are
// unquoted.
type Extension struct {
	Name   string
	Params map[string]string
}

// Bounds for ParseExtensions: entries beyond these are ignored.
const (
	maxExtensions = 16
	maxParams     = 16
)

// ParseExtensions parses a Sec-WebSocket-Extensions value (all occurrences joined with commas, as
// Head.Get returns them) into its extensions, in order. Parsing is lenient: empty entries are
// skipped, names and parameter names are lower-cased, quoted strings may contain commas and
// semicolons. At most 16 extensions with 16 parameters each are returned.
func ParseExtensions(s string) []Extension {
	var out []Extension
	var cur *Extension
	var item strings.Builder
	inQuote, escaped := false, false
	finishItem := func() {
		t := strings.TrimSpace(item.String())
		item.Reset()
		if cur == nil {
			if t != "" && len(out) < maxExtensions {
				out = append(out, Extension{Name: strings.ToLower(t), Params: map[string]string{}})
				cur = &out[len(out)-1]
			}
			return
		}
		if t == "" || len(cur.Params) >= maxParams {
			return
		}
		k, v, _ := strings.Cut(t, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = unquote(v[1 : len(v)-1])
		}
		if k != "" {
			cur.Params[k] = v
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ';':
			finishItem()
			if cur == nil {
				// ";" with no name before it: attach parameters to nothing.
				cur = &Extension{Params: map[string]string{}}
			}
			continue
		case !inQuote && c == ',':
			finishItem()
			cur = nil
			continue
		}
		item.WriteByte(c)
	}
	finishItem()
	return out
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Deflate is the permessage-deflate configuration (RFC 7692) a server accepted. Window bits are
// 8..15; 15 when the parameter was absent (or, for client_max_window_bits, sent without a value).
type Deflate struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int
	ClientMaxWindowBits     int
	// Invalid lists parameters that RFC 7692 does not allow in a response (unknown names,
	// out-of-range window bits), which a conforming client would refuse. They are
	// ignored for decoding.
	Invalid []string
}

// NegotiatedDeflate reads the Sec-WebSocket-Extensions value of a 101 response and returns the
// permessage-deflate configuration the server accepted, or false when it did not accept it. Only
// the first permessage-deflate entry counts (a server accepts at most one).
func NegotiatedDeflate(responseExtensions string) (*Deflate, bool) {
	for _, e := range ParseExtensions(responseExtensions) {
		if e.Name != "permessage-deflate" {
			continue
		}
		d := &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
		keys := make([]string, 0, len(e.Params))
		for k := range e.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := e.Params[k]
			switch k {
			case "server_no_context_takeover":
				d.ServerNoContextTakeover = true
			case "client_no_context_takeover":
				d.ClientNoContextTakeover = true
			case "server_max_window_bits", "client_max_window_bits":
				if v == "" && k == "client_max_window_bits" {
					continue
				}
				n, err := strconv.Atoi(v)
				if err != nil || n < 8 || n > 15 {
					d.Invalid = append(d.Invalid, k+"="+v)
					continue
				}
				if k == "server_max_window_bits" {
					d.ServerMaxWindowBits = n
				} else {
					d.ClientMaxWindowBits = n
				}
			default:
				d.Invalid = append(d.Invalid, k)
			}
		}
		return d, true
	}
	return nil, false
}
