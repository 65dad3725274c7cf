package report

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapeControl makes s safe to print on a terminal: control characters (ESC, CR, BEL, C1 controls, ...) and
// invalid UTF-8 are shown as \xNN or \u{NNNN} escapes, so bytes from the wire cannot move the cursor,
// change colours or hide earlier lines. Newlines and tabs become \n and \t to keep one cell one line.
func EscapeControl(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\\' ||
			unicode.Is(unicode.Bidi_Control, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Bidi_Control, r):
			b.WriteString(`\u{`)
			b.WriteString(strconv.FormatInt(int64(r), 16))
			b.WriteString(`}`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// preview renders a payload preview as text: printable UTF-8 as is (escaped), anything else as hex.
func preview(p []byte, truncated bool) string { return EscapeControl(previewRaw(p, truncated)) }

// previewRaw is preview before escaping, for renderers that escape each cell themselves (escaping
// twice would show a NUL byte as \\x00).
func previewRaw(p []byte, truncated bool) string {
	if len(p) == 0 {
		return ""
	}
	s := "0x" + hexString(p)
	if utf8.Valid(p) {
		s = string(p)
	}
	if truncated {
		s += "…"
	}
	return s
}

func hexString(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		b.WriteString(hex2(c))
	}
	return b.String()
}
