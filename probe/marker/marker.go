// Package marker defines the payload of a wspath probe message: a numbered, recognisable prefix
// that `wspath probe` writes and `wspath compare` reads back from the captures, so a report can
// say "probe #17 lost between fw and ingress".
//
// It is a leaf package (no imports beyond the standard library) so that the sending side (package
// probe) and the reading side (package correlate) share one definition without depending on
// each other.
package marker

import (
	"bytes"
	"strconv"
)

// Prefix starts every probe payload, text or binary.
const Prefix = "wspath-probe #"

// MinSize is the smallest payload Payload makes: the marker of the largest number and a run id.
const MinSize = len(Prefix) + 10 + len(" run=") + 8 + 1

// Payload returns the payload of probe n of run (up to 8 letters or digits) with size bytes
// (at least MinSize): the marker "wspath-probe #17 run=3f9a2c01 " and then a filler that repeats
// the number, readable for text and a byte pattern for binary, so a capture shows which probe it
// is at any offset.
func Payload(n int, run string, size int, binary bool) []byte {
	head := Prefix + strconv.Itoa(n) + " run=" + run + " "
	size = max(size, len(head))
	p := make([]byte, size)
	copy(p, head)
	fill := []byte("<" + strconv.Itoa(n) + ">")
	for i := len(head); i < size; i++ {
		if binary {
			p[i] = byte(i*31 + n)
		} else {
			p[i] = fill[(i-len(head))%len(fill)]
		}
	}
	return p
}

// Parse returns the probe number and run id at the start of payload (a capture preview is
// enough), or ok false when it does not start with a probe marker.
func Parse(payload []byte) (n int, run string, ok bool) {
	rest, found := bytes.CutPrefix(payload, []byte(Prefix))
	if !found {
		return 0, "", false
	}
	end := 0
	for end < len(rest) && end < 10 && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 || end >= len(rest) || rest[end] != ' ' {
		return 0, "", false
	}
	n, err := strconv.Atoi(string(rest[:end]))
	if err != nil {
		return 0, "", false
	}
	rest = rest[end+1:]
	if r, found := bytes.CutPrefix(rest, []byte("run=")); found {
		if i := bytes.IndexByte(r, ' '); i > 0 {
			run = string(r[:i])
		}
	}
	return n, run, true
}
