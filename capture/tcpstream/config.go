package tcpstream

import "time"

// Defaults for the zero Config.
const (
	DefaultMaxConnBuffer = 4 << 20
	// maxConnBufferLimit caps MaxConnBuffer so a connection's count fits in an int32 even a
	// segment past the bound.
	maxConnBufferLimit    = 1 << 30
	DefaultMaxTotalBuffer = 256 << 20
	DefaultHoleTimeout    = 5 * time.Second
	DefaultMaxConnections = 1 << 20
	DefaultClosedTimeout  = 60 * time.Second
	DefaultMaxGaps        = 64
	DefaultResetLinger    = 2 * time.Second
)

// chunkOverhead is added to each buffered chunk's length when counting against the buffer bounds,
// so that floods of tiny out-of-order segments are bounded too.
const chunkOverhead = 64

// Config bounds an Assembler. The zero value, and any field left at zero or below, means the default.
type Config struct {
	// MaxConnBuffer bounds the out-of-order bytes held per connection (both directions), each
	// buffered chunk counting 64 bytes more than its length. Past it the oldest hole of the
	// connection is given up (GapBufferLimit, or GapAcked). Default 4 MiB.
	MaxConnBuffer int
	// MaxTotalBuffer bounds the out-of-order bytes held by all connections, counted the same way.
	// Past it the oldest hole of all is given up. Default 256 MiB.
	MaxTotalBuffer int
	// HoleTimeout is how long, in capture time, out-of-order bytes wait for the hole before them;
	// the wait restarts whenever the direction makes progress. Then the hole becomes a GapLost
	// (or GapAcked) gap. Checked as packets arrive. Default 5s.
	HoleTimeout time.Duration
	// MaxConnections bounds the connections tracked at once; a new connection past it closes the
	// least recently active one. Default 1<<20.
	MaxConnections int
	// ClosedTimeout is how long, in capture time, a closed connection's 4-tuple is remembered so
	// that its late packets (final ACKs, retransmissions) do not open a new connection. A SYN with
	// a new ISN opens one at once. Default 60s.
	ClosedTimeout time.Duration
	// MaxGaps bounds Stats.Gaps per direction. Default 64.
	MaxGaps int
	// ResetLinger is how long, in capture time, a connection stays open after a RST before it is
	// closed. A RST injected by a middlebox reaches one side only; the other keeps sending, and a
	// capture between them sees those bytes after the RST: they are evidence too. Default 2s.
	ResetLinger time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxConnBuffer <= 0 {
		c.MaxConnBuffer = DefaultMaxConnBuffer
	}
	c.MaxConnBuffer = min(c.MaxConnBuffer, maxConnBufferLimit)
	if c.MaxTotalBuffer <= 0 {
		c.MaxTotalBuffer = DefaultMaxTotalBuffer
	}
	if c.HoleTimeout <= 0 {
		c.HoleTimeout = DefaultHoleTimeout
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.ClosedTimeout <= 0 {
		c.ClosedTimeout = DefaultClosedTimeout
	}
	if c.MaxGaps <= 0 {
		c.MaxGaps = DefaultMaxGaps
	}
	if c.ResetLinger <= 0 {
		c.ResetLinger = DefaultResetLinger
	}
	return c
}
