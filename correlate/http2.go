package correlate

import (
	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// h2Pair decides a pair of sessions of which one is a WebSocket over an HTTP/2 stream (RFC 8441),
// where a connection-level identity does not name one WebSocket: the streams of one HTTP/2
// connection share its TLS ClientRandom and its TCP 4-tuple. Two sessions of the same HTTP/2
// connection are one WebSocket when their stream ids agree ("h2 stream"), and cannot be one when
// they differ. decided is false when neither identity applies, leaving the pair to the usual
// scoring (an HTTP/2 stream and the HTTP/1.1 connection a front end made of it are matched by
// time, path and message digests).
func h2Pair(a, b *capture.Session, p pairScore) (q pairScore, ok, decided bool) {
	if a.HTTP2() == nil && b.HTTP2() == nil {
		return p, false, false
	}
	sameTLS := sameTLSSession(a, b)
	sameTCP := a.TLS() == nil && b.TLS() == nil && a.Client == b.Client && a.Server == b.Server && a.Client.IsValid()
	if !sameTLS && !sameTCP {
		return p, false, false
	}
	if a.HTTP2() == nil || b.HTTP2() == nil || a.HTTP2().StreamID != b.HTTP2().StreamID {
		return p, false, true // another stream of the same connection
	}
	p.sim, p.how = sameSessionWeight, schema.MatchedByH2Stream
	return p, true, true
}
