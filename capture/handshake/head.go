package handshake

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Bounds on a message head. A head that does not end within MaxHeadSize bytes, or has more than
// MaxFields fields, is rejected with ErrTooLarge.
const (
	MaxHeadSize = 16 << 10 // bytes, start line and fields, CRLFCRLF included
	MaxFields   = 100
	// MaxInterim bounds the interim (1xx other than 101) responses ParseResponse skips.
	MaxInterim = 8
)

// Errors returned by the parsers. Callers branch on them with errors.Is.
var (
	// ErrIncomplete: the bytes end before the head does; call again with more bytes.
	ErrIncomplete = errors.New("handshake: incomplete message head")
	// ErrTooLarge: the head is longer than MaxHeadSize or has more than MaxFields fields.
	ErrTooLarge = errors.New("handshake: message head too large")
	// ErrMalformed: the bytes are not an HTTP/1.x message head. The error is a *SyntaxError.
	ErrMalformed = errors.New("handshake: malformed message head")
)

// SyntaxError is a malformed head, with the byte offset (from the start of the bytes given to the
// parser) where the problem was found. It unwraps to ErrMalformed.
type SyntaxError struct {
	Offset int
	Msg    string
}

// Error formats the error as "handshake: malformed message head at byte N: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%v at byte %d: %s", ErrMalformed, e.Offset, e.Msg)
}

// Unwrap returns ErrMalformed.
func (e *SyntaxError) Unwrap() error { return ErrMalformed }

// Field is one header field, with its name as sent (case preserved) and its value with surrounding
// whitespace removed. Folded lines (obs-fold) are joined with a single space.
type Field struct {
	Name  string
	Value string
}

// Head is a parsed HTTP/1.x request or response head.
type Head struct {
	// Request line; empty for a response.
	Method string
	Target string
	// Proto is the protocol version, e.g. "HTTP/1.1", for requests and responses.
	Proto string
	// Status line; zero for a request.
	Status int
	Reason string
	// Interim lists the status codes of interim responses (1xx other than 101, e.g. 100 Continue)
	// that ParseResponse skipped before this one.
	Interim []int
	// Fields holds the header fields in order, names as sent.
	Fields []Field
	// Length is the number of bytes of the head (of the interim responses too), up to and
	// including the empty line that ends it: what follows is the body or WebSocket frames.
	Length int
}

// Get returns the value of the field name, compared case-insensitively; repeated fields are joined
// with ", " in order. It returns "" when the field is absent.
func (h *Head) Get(name string) string {
	var out string
	n := 0
	for _, f := range h.Fields {
		if strings.EqualFold(f.Name, name) {
			if n > 0 {
				out += ", "
			}
			out += f.Value
			n++
		}
	}
	return out
}

// Has reports whether the field name is present (case-insensitive).
func (h *Head) Has(name string) bool {
	for _, f := range h.Fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// HasToken reports whether the comma-separated list in field name (all occurrences) contains
// token, compared case-insensitively: HasToken("Connection", "upgrade") is true for
// "Connection: keep-alive, Upgrade".
func (h *Head) HasToken(name, token string) bool {
	for _, f := range h.Fields {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		for t := range strings.SplitSeq(f.Value, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// IsWebSocketUpgrade reports whether the head asks for (request) or grants (response with status
// 101) the WebSocket protocol: "Upgrade: websocket" and "upgrade" among the Connection tokens.
func (h *Head) IsWebSocketUpgrade() bool {
	if h.Method == "" && h.Status != 101 {
		return false
	}
	return h.HasToken("Upgrade", "websocket") && h.HasToken("Connection", "upgrade")
}

// ParseRequest parses an HTTP/1.x request head at the start of b. Empty lines before the request
// line are skipped (RFC 9112 section 2.2). It returns ErrIncomplete when b ends before the head
// does, ErrTooLarge past MaxHeadSize or MaxFields, and a *SyntaxError otherwise.
func ParseRequest(b []byte) (*Head, error) {
	h := new(Head)
	if err := parseHead(h, b, 0, true); err != nil {
		return nil, err
	}
	return h, nil
}

// ParseRequestInto is ParseRequest into h, whose Fields' array it reuses: for a caller that
// parses many heads and keeps none of them (the strings of one stay valid after the next). After
// an error h holds nothing useful.
func ParseRequestInto(h *Head, b []byte) error {
	return parseHead(h, b, 0, true)
}

// ParseResponse parses an HTTP/1.x response head at the start of b. Interim responses (1xx other
// than 101 Switching Protocols, such as 100 Continue) are skipped and listed in Head.Interim; the
// returned head is the final (or 101) response and its Length counts the skipped heads too. A
// refusal (e.g. 403) is returned like any other status. Errors are as for ParseRequest.
func ParseResponse(b []byte) (*Head, error) {
	var interim []int
	start := 0
	for {
		h := new(Head)
		if err := parseHead(h, b, start, false); err != nil {
			return nil, err
		}
		if h.Status >= 200 || h.Status == 101 || h.Status < 100 {
			h.Interim = interim
			return h, nil
		}
		if len(interim) >= MaxInterim {
			return nil, fmt.Errorf("%w: more than %d interim responses", ErrTooLarge, MaxInterim)
		}
		interim = append(interim, h.Status)
		start = h.Length
	}
}

// lineEnd finds the end of the line starting at i: it returns the index of the line's last
// content byte + 1 (CR excluded) and the index of the next line, or ok=false if no LF within b.
func lineEnd(b []byte, i int) (end, next int, ok bool) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		return 0, 0, false
	}
	end = i + j
	next = end + 1
	if end > i && b[end-1] == '\r' {
		end--
	}
	return end, next, true
}

// parseHead parses one head starting at start into h. Positions in errors and Length are
// relative to b.
func parseHead(h *Head, b []byte, start int, request bool) error {
	limit := min(len(b), start+MaxHeadSize)
	w := b[:limit]
	incomplete := func() error {
		if len(b) >= start+MaxHeadSize {
			return fmt.Errorf("%w: no end within %d bytes", ErrTooLarge, MaxHeadSize)
		}
		return ErrIncomplete
	}
	i, err := parseStart(h, w, start, request, incomplete)
	if err != nil {
		return err
	}
	if n := fieldLines(w, i); n > cap(h.Fields) {
		// Made once at its size: appending field by field made four arrays for a usual
		// handshake's six fields, garbage at once for every connection of a flood.
		h.Fields = make([]Field, 0, min(n, MaxFields))
	}
	for {
		end, next, ok := lineEnd(w, i)
		if !ok {
			return incomplete()
		}
		line := w[i:end]
		switch {
		case len(line) == 0:
			h.Length = next
			return nil
		case line[0] == ' ' || line[0] == '\t':
			err = h.unfold(line, i)
		default:
			err = h.addField(line, i)
		}
		if err != nil {
			return err
		}
		i = next
	}
}

// fieldLines counts the lines from w[i:] up to the empty line that ends the head, or up to the
// last whole line of w: the fields, continuation lines included.
func fieldLines(w []byte, i int) int {
	n := 0
	for {
		end, next, ok := lineEnd(w, i)
		if !ok || end == i {
			return n
		}
		n++
		i = next
	}
}

// parseStart parses the request or status line of the head starting at w[i:] into h, emptied
// first (its Fields' array kept), and returns the position of the line after it. incomplete
// gives the error for a line without its end.
func parseStart(h *Head, w []byte, i int, request bool, incomplete func() error) (int, error) {
	*h = Head{Fields: h.Fields[:0]}
	// Skip empty lines before a request line (robustness, RFC 9112 section 2.2).
	for request {
		end, next, ok := lineEnd(w, i)
		if !ok {
			if err := checkStartPrefix(w[i:], i); err != nil {
				return 0, err
			}
			return 0, incomplete()
		}
		if end > i {
			break
		}
		i = next
	}
	end, next, ok := lineEnd(w, i)
	if !ok {
		if err := checkStartPrefix(w[i:], i); err != nil {
			return 0, err
		}
		return 0, incomplete()
	}
	var err error
	if request {
		err = parseRequestLine(h, w[i:end], i)
	} else {
		err = parseStatusLine(h, w[i:end], i)
	}
	if err != nil {
		return 0, err
	}
	return next, nil
}

// unfold adds an obs-fold line (at position pos), the continuation of the previous field's
// value, to that value.
func (h *Head) unfold(line []byte, pos int) error {
	if len(h.Fields) == 0 {
		return &SyntaxError{pos, "continuation line before any field"}
	}
	if err := checkValue(line, pos); err != nil {
		return err
	}
	f := &h.Fields[len(h.Fields)-1]
	v := strings.TrimSpace(string(line))
	if v != "" {
		if f.Value != "" {
			f.Value += " "
		}
		f.Value += v
	}
	return nil
}

// addField parses a field line (at position pos) and adds it to h, up to MaxFields fields.
func (h *Head) addField(line []byte, pos int) error {
	if len(h.Fields) >= MaxFields {
		return fmt.Errorf("%w: more than %d fields", ErrTooLarge, MaxFields)
	}
	var prev Field
	if n := len(h.Fields); n < cap(h.Fields) {
		prev = h.Fields[:n+1][n] // the field in this place of the head parsed before into h
	}
	f, err := parseField(line, pos, &prev)
	if err != nil {
		return err
	}
	h.Fields = append(h.Fields, f)
	return nil
}

// checkStartPrefix rejects early a start line that cannot be HTTP, so that a stream that is not
// HTTP at all is not buffered up to MaxHeadSize. p is the partial line so far.
func checkStartPrefix(p []byte, pos int) error {
	for k, c := range p {
		if c != '\r' && (c < 0x20 || c == 0x7f) && c != '\t' {
			return &SyntaxError{pos + k, fmt.Sprintf("control byte 0x%02x in start line", c)}
		}
		if c >= 0x80 {
			return &SyntaxError{pos + k, fmt.Sprintf("non-ASCII byte 0x%02x in start line", c)}
		}
	}
	return nil
}

func parseRequestLine(h *Head, line []byte, pos int) error {
	if err := checkStartPrefix(line, pos); err != nil {
		return err
	}
	var parts [3][]byte
	n := splitSpace(line, &parts)
	if n != 3 {
		return &SyntaxError{pos, fmt.Sprintf("request line has %d parts, want 3", n)}
	}
	for k, c := range parts[0] {
		if !isTokenChar(c) {
			return &SyntaxError{pos + k, "invalid character in method"}
		}
	}
	if !validProto(string(parts[2])) {
		return &SyntaxError{pos + len(line) - len(parts[2]), fmt.Sprintf("bad protocol version %q", parts[2])}
	}
	h.Method, h.Target, h.Proto = common(parts[0]), string(parts[1]), common(parts[2])
	return nil
}

// splitSpace splits line around runs of white space as strings.Fields does (the line holds only
// ASCII: checkStartPrefix passed it), keeping the first three parts in parts, and returns the
// number of parts. Unlike strings.Fields it makes no string of the line: the method and protocol
// are mostly common ones, and the target is made at its own length instead of keeping the whole
// line alive in a flood's requests.
func splitSpace(line []byte, parts *[3][]byte) int {
	n := 0
	for i := 0; i < len(line); {
		if isSpace(line[i]) {
			i++
			continue
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		if n < len(parts) {
			parts[n] = line[i:j]
		}
		n++
		i = j
	}
	return n
}

// isSpace reports whether c is ASCII white space, as unicode.IsSpace has it.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func parseStatusLine(h *Head, line []byte, pos int) error {
	if err := checkStartPrefix(line, pos); err != nil {
		return err
	}
	s := string(line)
	proto, rest, _ := strings.Cut(s, " ")
	if !validProto(proto) {
		return &SyntaxError{pos, fmt.Sprintf("bad protocol version %q", truncate(proto, 16))}
	}
	rest = strings.TrimLeft(rest, " ")
	code, reason, _ := strings.Cut(rest, " ")
	if len(code) != 3 || code[0] < '1' || code[0] > '5' || !isDigit(code[1]) || !isDigit(code[2]) {
		return &SyntaxError{pos + len(proto) + 1, fmt.Sprintf("bad status code %q", truncate(code, 16))}
	}
	h.Proto = proto
	h.Status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	h.Reason = strings.TrimSpace(reason)
	return nil
}

// parseField parses a field line (at position pos). A name or value with the bytes of prev's is
// prev's string: heads parsed one after the other into one Head (ParseRequestInto), as a client's
// requests or a flood's, mostly have the same fields in the same places.
func parseField(line []byte, pos int, prev *Field) (Field, error) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return Field{}, &SyntaxError{pos, "field line without a colon"}
	}
	// A name followed by whitespace is invalid (RFC 9112 section 5.1) but some senders do it;
	// being a passive observer, wspath accepts it and trims.
	name := bytes.TrimRight(line[:colon], " \t")
	if len(name) == 0 {
		return Field{}, &SyntaxError{pos, "empty field name"}
	}
	for k, c := range name {
		if !isTokenChar(c) {
			return Field{}, &SyntaxError{pos + k, fmt.Sprintf("invalid byte 0x%02x in field name", c)}
		}
	}
	v := line[colon+1:]
	if err := checkValue(v, pos+colon+1); err != nil {
		return Field{}, err
	}
	return Field{Name: reuse(prev.Name, name), Value: reuse(prev.Value, bytes.Trim(v, " \t"))}, nil
}

// reuse returns prev if it holds the bytes of b, else b as a string (see common).
func reuse(prev string, b []byte) string {
	if prev == string(b) {
		return prev
	}
	return common(b)
}

// checkValue rejects NUL, CR and LF inside a field value; other bytes (obs-text) are kept.
func checkValue(v []byte, pos int) error {
	for k, c := range v {
		if c == 0 || c == '\r' || c == '\n' {
			return &SyntaxError{pos + k, fmt.Sprintf("invalid byte 0x%02x in field value", c)}
		}
	}
	return nil
}

func validProto(p string) bool {
	return len(p) == 8 && strings.HasPrefix(p, "HTTP/") && isDigit(p[5]) && p[6] == '.' && isDigit(p[7])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isTokenChar reports whether c is an RFC 9110 tchar.
// isToken reports whether s is a non-empty HTTP token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
