package wsframe

import (
	"strings"
	"testing"
)

// TestTextLike: a text payload read through the masking key of a wrong boundary (four bytes of
// masked text taken for a key) turns ASCII into control characters about half the time, which
// resynchronisation must not take for a frame; real text, masked or not, passes. (Found on a
// real capture, examples/mtu-blackhole: a path MTU black hole cut a 3 KB masked text message in
// the ingress capture, and the parser resynchronised 104 bytes into its tail, on a 110-byte
// "text frame" of garbage that swallowed the next real message.)
func TestTextLike(t *testing.T) {
	text := []byte(`{"seq":7,"conn":3,"dir":"c2s","text":"message 7 of conn 3","blob":"` + strings.Repeat("lorem ipsum dolor sit amet ", 8) + `"}`)
	key := [4]byte{0x3a, 0x91, 0x5c, 0x07}
	masked := make([]byte, len(text))
	maskBytes(masked, text, key, 0)
	for _, tc := range []struct {
		name string
		h    Header
		b    []byte
		want bool
	}{
		{"plain text", Header{Opcode: OpText}, text, true},
		{"masked text, its own key", Header{Opcode: OpText, Masked: true, Mask: key}, masked, true},
		{"tabs and newlines", Header{Opcode: OpText}, []byte("a\tb\nc\r\nd\te\tf\ng\th\ni\tj"), true},
		// A wrong boundary at byte 40: the next four masked bytes are its key.
		{"masked text, a key from inside it", Header{Opcode: OpText, Masked: true, Mask: [4]byte(masked[40:44])}, masked[44:], false},
		{"plain text unmasked by a key from itself", Header{Opcode: OpText, Masked: true, Mask: [4]byte(text[10:14])}, text[14:], false},
	} {
		if got := textLike(tc.h, tc.b); got != tc.want {
			t.Errorf("%s: textLike = %v, want %v", tc.name, got, tc.want)
		}
	}
}
