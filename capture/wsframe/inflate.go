package wsframe

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxInflate is the default InflateOptions.MaxSize: 64 MiB.
const DefaultMaxInflate = 64 << 20

// deflateTail ends a message's compressed bytes: RFC 7692 section 7.2.2 strips the 0x00 0x00 0xff
// 0xff of the closing sync flush, which is put back; an empty final stored block follows so that a
// complete message ends with io.EOF and a cut one with io.ErrUnexpectedEOF.
var deflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Inflate errors, returned by Inflater.Finish.
var (
	// ErrInflateTooLarge: the message inflates past InflateOptions.MaxSize (or its compressed
	// bytes pass MaxCompressed): a deflate bomb or a very large message.
	ErrInflateTooLarge = errors.New("wsframe: inflated message too large")
	// ErrCorrupt: the compressed bytes are not valid deflate data.
	ErrCorrupt = errors.New("wsframe: corrupt deflate data")
	// ErrIncompleteMessage: part of the message's compressed bytes were not captured.
	ErrIncompleteMessage = errors.New("wsframe: compressed message not fully captured")
	// ErrContextLost: the message refers to earlier output of the connection (context takeover)
	// that was lost with an earlier undecodable message.
	ErrContextLost = errors.New("wsframe: deflate context lost at an earlier message")
)

// InflateOptions configure an Inflater for one direction of a connection, from the negotiated
// permessage-deflate parameters of the sender of that direction. The zero value means context
// takeover, a 15-bit window and the default bounds.
type InflateOptions struct {
	// NoContextTakeover: the sender resets its compressor for each message
	// (server_no_context_takeover for server messages, client_no_context_takeover for client ones).
	NoContextTakeover bool
	// WindowBits is the sender's LZ77 window, 8 to 15 (server_max_window_bits or
	// client_max_window_bits). 0 means 15; other values are clamped to 8..15. The Inflater keeps
	// exactly this much history (with context takeover), so a smaller window costs less memory.
	WindowBits int
	// MaxSize bounds the inflated bytes of one message. 0 means DefaultMaxInflate.
	MaxSize int64
	// MaxCompressed bounds the compressed bytes buffered for one message. 0 means MaxSize.
	MaxCompressed int
	// Pool, when not nil, lends the Inflater its decompressor and scratch buffers and bounds the
	// compressed bytes buffered by all Inflaters sharing it. Nil: the Inflater makes its own on
	// first use.
	Pool *InflatePool
	// MidStream says the stream was picked up after it began (the handshake was not captured):
	// with context takeover the earlier output is unknown, as after a lost message.
	MidStream bool
}

// Inflater decompresses the permessage-deflate messages (RFC 7692) of one direction, in order.
// Write the compressed payload of a message (the frames' payloads, unmasked, concatenated), then
// call Finish to stream the inflated bytes to a writer. The compressed bytes of the current message
// are buffered (bounded by MaxCompressed, and by the InflatePool's budget when shared); the
// inflated output is never held beyond the sliding window the next message may refer to. An
// Inflater is not safe for concurrent use.
//
// Memory: a new Inflater holds no buffer. It keeps the compressed bytes of the message in progress
// (released after Finish when large) and, with context takeover, a history of at most 2^WindowBits
// bytes grown as output comes. The flate decoder and the read buffer (some 50 KB) belong to the
// InflatePool and are used only inside Finish, so many connections can share one.
//
// With context takeover, a message that cannot be decoded (gap, corrupt data, bound hit) makes the
// window unknown. Later messages are then inflated with only the output known since: one that
// refers further back fails with ErrContextLost, never with wrong bytes; once a full window of
// output is known again, decoding is exact again. ContextLost reports that state.
type Inflater struct {
	opts    InflateOptions
	window  int    // bytes of history the sender may refer to
	in      []byte // compressed bytes of the current message
	over    bool   // current message passed MaxCompressed
	overAll bool   // current message did not fit in the shared InflatePool's budget
	gap     bool   // current message lost bytes
	hist    ring   // recent output: the dictionary of the next message
	partial bool   // hist does not reach back a full window since a loss
	own     *InflatePool
}

// keepCompressed is the capacity of the compressed-bytes buffer kept between messages; a larger
// one, grown by a large message, is released after Finish.
const keepCompressed = 4 << 10

// NewInflater returns an Inflater with the given options. It allocates nothing more until used.
func NewInflater(opts InflateOptions) *Inflater {
	if opts.WindowBits == 0 {
		opts.WindowBits = 15
	}
	opts.WindowBits = min(max(opts.WindowBits, 8), 15)
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxInflate
	}
	if opts.MaxCompressed <= 0 {
		opts.MaxCompressed = int(min(opts.MaxSize, 1<<40))
	}
	return &Inflater{opts: opts, window: 1 << opts.WindowBits, partial: opts.MidStream && !opts.NoContextTakeover}
}

// Write appends compressed payload bytes of the current message. It copies p and never fails:
// bytes past MaxCompressed (or past the shared InflatePool's budget) are dropped and reported by
// Finish.
func (f *Inflater) Write(p []byte) (int, error) {
	if f.over {
		return len(p), nil
	}
	if len(f.in)+len(p) > f.opts.MaxCompressed {
		f.over = true
	} else if !f.opts.Pool.take(len(p)) {
		f.over, f.overAll = true, true
	}
	if f.over {
		f.release()
		return len(p), nil
	}
	f.in = append(f.in, p...)
	return len(p), nil
}

// release drops the buffered compressed bytes, giving their budget back.
func (f *Inflater) release() {
	f.opts.Pool.give(len(f.in))
	if cap(f.in) > keepCompressed {
		f.in = nil
	}
	f.in = f.in[:0]
}

// Gap records that n compressed bytes of the current message were not captured: Finish will
// return ErrIncompleteMessage.
func (f *Inflater) Gap(n uint64) {
	if n > 0 {
		f.gap = true
	}
}

// Lost records that whole messages may be missing before the next one (a hole between frames
// made the parser lose sync): with context takeover the window is unknown from here, as after an
// undecodable message, so later messages that refer back before the hole fail with
// ErrContextLost instead of inflating to wrong bytes.
func (f *Inflater) Lost() { f.loseContext() }

// ContextLost reports whether, because of an earlier undecodable message with context takeover,
// the next message may fail with ErrContextLost.
func (f *Inflater) ContextLost() bool { return f.partial }

// Finish inflates the current message, writing its bytes to w as they are produced, and prepares
// for the next message. It returns the number of bytes written. On error the bytes already
// written are a prefix of the message at best (with ErrInflateTooLarge, exactly its first MaxSize
// bytes) and should not be taken for the message. An error from w is returned as is.
func (f *Inflater) Finish(w io.Writer) (n int64, err error) {
	defer func() {
		f.release()
		f.over, f.overAll, f.gap = false, false, false
		if err != nil {
			f.loseContext()
		}
	}()
	if err := f.unreadable(); err != nil {
		return 0, err
	}
	d := f.pool()
	if err := f.start(d); err != nil {
		return 0, err
	}
	return f.inflate(d, w)
}

// unreadable says why the current message cannot be inflated at all: bytes missing, or more
// compressed bytes than the budgets allow; nil when it can be tried.
func (f *Inflater) unreadable() error {
	switch {
	case f.gap:
		return ErrIncompleteMessage
	case f.overAll:
		return fmt.Errorf("%w: compressed messages buffered by all connections passed %d bytes",
			ErrInflateTooLarge, f.opts.Pool.max)
	case f.over:
		return fmt.Errorf("%w: more than %d compressed bytes", ErrInflateTooLarge, f.opts.MaxCompressed)
	}
	return nil
}

// pool returns the shared InflatePool, or the Inflater's own when it was given none.
func (f *Inflater) pool() *InflatePool {
	if f.opts.Pool != nil {
		return f.opts.Pool
	}
	if f.own == nil {
		f.own = NewInflatePool(0)
	}
	return f.own
}

// start points d's flate reader at the current message and its deflate tail, with the window
// of earlier messages as dictionary (context takeover).
func (f *Inflater) start(d *InflatePool) error {
	// The tail is read from its own reader: appending it to f.in could grow the buffer past
	// what the budget counted.
	d.src.Reset(f.in)
	d.tail.Reset(deflateTail[:])
	d.mr = multiReader{&d.src, &d.tail}
	var dict []byte
	switch {
	case f.opts.NoContextTakeover:
	case f.hist.wrapped():
		d.dict = f.hist.appendLinear(d.dict[:0])
		dict = d.dict
	default:
		dict = f.hist.buf
	}
	if d.fr == nil {
		d.fr = flate.NewReader(&d.mr)
	}
	return d.fr.(flate.Resetter).Reset(&d.mr, dict)
}

// inflate reads the message from d's flate reader into w (at most MaxSize bytes), keeping the
// window for the next message, and returns the number of bytes written.
func (f *Inflater) inflate(d *InflatePool, w io.Writer) (n int64, err error) {
	for {
		k, rerr := d.fr.Read(d.scratch[:])
		if k > 0 {
			out := d.scratch[:k]
			if n+int64(k) > f.opts.MaxSize {
				out = out[:f.opts.MaxSize-n]
				err = fmt.Errorf("%w: more than %d bytes", ErrInflateTooLarge, f.opts.MaxSize)
			}
			if len(out) > 0 {
				if _, werr := w.Write(out); werr != nil {
					return n, werr
				}
				n += int64(len(out))
				f.remember(out)
			}
			if err != nil {
				return n, err
			}
		}
		switch {
		case rerr == io.EOF:
			return n, nil
		case rerr == io.ErrUnexpectedEOF:
			return n, fmt.Errorf("%w: message ends inside a deflate block", ErrCorrupt)
		case rerr != nil:
			var ce flate.CorruptInputError
			if errors.As(rerr, &ce) && f.partial && !f.opts.NoContextTakeover {
				return n, fmt.Errorf("%w: %w", ErrContextLost, rerr)
			}
			return n, fmt.Errorf("%w: %w", ErrCorrupt, rerr)
		}
	}
}

// remember adds inflated bytes to the window later messages may refer to (context takeover);
// once a whole window follows a lost context, the context is whole again.
func (f *Inflater) remember(out []byte) {
	if f.opts.NoContextTakeover {
		return
	}
	f.hist.write(out, f.window)
	if f.partial && len(f.hist.buf) >= f.window {
		f.partial = false
	}
}

// loseContext forgets the window after an undecodable message (context takeover only).
func (f *Inflater) loseContext() {
	if f.opts.NoContextTakeover {
		return
	}
	f.hist.reset()
	f.partial = true
}
