package pcapfile

import (
	"errors"
	"strconv"
)

// Sentinel errors that callers branch on with errors.Is. Errors returned by this package are
// *Error values that wrap one of these (or an operating-system error such as fs.ErrNotExist).
var (
	// ErrNotCapture: the input is neither pcap nor pcapng (bad magic), or is a directory.
	ErrNotCapture = errors.New("not a pcap or pcapng capture file")
	// ErrTruncated: the file ends inside a header, a packet record or a block. All packets
	// before that point were returned.
	ErrTruncated = errors.New("truncated capture file")
	// ErrCorrupt: a length or field is impossible (a record longer than MaxCaptureLength, a
	// pcapng block whose trailing length differs, a packet for an undeclared interface).
	ErrCorrupt = errors.New("corrupt capture file")
	// ErrUnsupported: a well-formed file uses something this package does not read (pcap or
	// pcapng major version other than 2 or 1, a timestamp resolution finer than 2^-63 s).
	ErrUnsupported = errors.New("unsupported capture file")
)

// Error is a failure to read a capture file, with the place where it happened.
type Error struct {
	File   string // file name as given to Open, or the name given to NewReader
	Packet int    // 1-based number the failing packet has or would have had; 0 when not about a packet
	Offset int64  // byte offset in the (decompressed) file of the record or block; -1 when unknown
	Err    error  // the cause; wraps a sentinel error of this package or an OS error
}

// Error formats the error as "file: packet N (offset X): cause", leaving out the parts that are
// unknown.
func (e *Error) Error() string {
	s := e.File
	if e.Packet > 0 {
		s += ": packet " + strconv.Itoa(e.Packet)
	}
	if e.Offset >= 0 {
		if e.Packet > 0 {
			s += " (offset " + strconv.FormatInt(e.Offset, 10) + ")"
		} else {
			s += ": offset " + strconv.FormatInt(e.Offset, 10)
		}
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
