package correlate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
)

// A hop whose capture holds the TCP side of a WebSocket-to-TCP bridge (hops.yaml `bridge: tcp`)
// has no frames, only the bytes the messages carried. Each of its TCP streams is aligned with the
// WebSocket session of the hop before that it carries, and becomes a session of its own whose
// messages are the upstream messages found, in order, in the stream's bytes (and, for bytes
// found in no upstream message, a message of their own). Everything after that (matching,
// alignment, verdicts) treats it like any other hop; the segment into it is "bridged".

const (
	// bridgeLookahead bounds how many upstream messages are tried at one stream position after a
	// message's bytes were not found there.
	bridgeLookahead = 64
	// bridgeWindow is how far a stream's start may be from its session's, hop clocks included.
	bridgeWindow = time.Minute
)

// bridgeHop turns the bridged TCP streams of hop h into sessions aligned with the hop before.
func bridgeHop(h, prev *Hop) {
	if h.Capture == nil {
		return
	}
	if prev.Capture == nil {
		bridgeWarn(h, "bridge: the hop before could not be read, so the TCP streams are not compared")
		return
	}
	type pair struct {
		st    *capture.Stream
		sess  *capture.Session
		found int
		delta time.Duration
	}
	var pairs []pair
	for _, st := range h.Capture.Streams {
		for _, s := range prev.Capture.Sessions {
			d := st.Start.Sub(s.Start)
			if !readable(s) || d > bridgeWindow || d < -bridgeWindow || st.Start.After(s.End.Add(bridgeWindow)) {
				continue
			}
			n := 0
			for _, dir := range capture.Directions {
				n += alignStream(st, s, dir).found
			}
			if n > 0 {
				pairs = append(pairs, pair{st, s, n, max(d, -d)})
			}
		}
	}
	// Most bytes found first; equal ones by the closer start, then the earlier stream.
	sort.SliceStable(pairs, func(i, j int) bool {
		a, b := pairs[i], pairs[j]
		if a.found != b.found {
			return a.found > b.found
		}
		if a.delta != b.delta {
			return a.delta < b.delta
		}
		return a.st.ID < b.st.ID
	})
	usedSt, usedSess := map[*capture.Stream]bool{}, map[*capture.Session]bool{}
	var made []*capture.Session
	for _, p := range pairs {
		if usedSt[p.st] || usedSess[p.sess] {
			continue
		}
		usedSt[p.st], usedSess[p.sess] = true, true
		made = append(made, bridgedSession(p.st, p.sess))
	}
	for _, st := range h.Capture.Streams {
		if !usedSt[st] {
			bridgeWarn(h, fmt.Sprintf("bridge: TCP stream %s-%s (from %s) carries no message of %s's WebSocket connections; not compared",
				st.Client, st.Server, st.Start.UTC().Format(time.RFC3339Nano), prev.Name))
		}
	}
	sort.SliceStable(made, func(i, j int) bool { return made[i].Start.Before(made[j].Start) })
	for i, s := range made {
		s.ID = len(h.Capture.Sessions) + i + 1
	}
	h.Capture.Sessions = append(h.Capture.Sessions, made...)
}

func bridgeWarn(h *Hop, msg string) {
	h.Capture.Warnings = append(h.Capture.Warnings, capture.Warning{Message: msg})
}

// bridgedSession is the session that stream st makes of upstream session up.
func bridgedSession(st *capture.Stream, up *capture.Session) *capture.Session {
	s := &capture.Session{Client: st.Client, Server: st.Server, Start: st.Start, End: st.End,
		Request: up.Request, Response: up.Response, TCP: st.TCP, Ending: st.Ending}
	s.SetBridge(st)
	for _, d := range capture.Directions {
		s.SetMessages(d, alignStream(st, up, d).msgs)
	}
	return s
}

// streamAlignment is the outcome of walking one direction of a bridged stream.
type streamAlignment struct {
	msgs  []capture.Message
	found int // upstream messages found
}

// alignStream walks direction d of st through the data messages of up in order: a message whose
// bytes are next in the stream (same length and SHA-256) was carried; one whose bytes are not
// there is missing at this hop, as long as a later message's bytes are (tried at the same
// position, then searched for by its preview); bytes that no message explains become a message
// of their own. Messages whose payload is not known (incomplete, undecodable) cannot be found.
// When up negotiated websockify's base64 subprotocol, each text message carried the base64 of
// the bytes the stream holds (see codec.carried).
func alignStream(st *capture.Stream, up *capture.Session, d capture.Direction) streamAlignment {
	data := st.Data[d]
	var ups []*capture.Message
	for i := range up.Messages(d) {
		if m := &up.Messages(d)[i]; m.Opcode.IsData() {
			ups = append(ups, m)
		}
	}
	c := codec{base64: base64Session(up)}
	var out streamAlignment
	pos := 0
	for i := 0; i < len(ups) && pos < len(data); {
		j, at, n := c.nextFound(data, pos, ups[i:])
		if j < 0 {
			break
		}
		if at > pos {
			out.msgs = append(out.msgs, streamMessage(st, d, pos, at, nil))
		}
		m := ups[i+j]
		out.msgs = append(out.msgs, streamMessage(st, d, at, at+n, m))
		out.found++
		pos = at + n
		i += j + 1
	}
	if pos < len(data) {
		out.msgs = append(out.msgs, streamMessage(st, d, pos, len(data), nil))
	}
	for k := range out.msgs {
		out.msgs[k].Index = k
	}
	return out
}

// base64Session reports whether up negotiated websockify's "base64" subprotocol (websockify
// before 0.9, websockify-js, older noVNC clients): every message is the base64 text of the bytes
// of one read on the TCP side, in both directions.
func base64Session(up *capture.Session) bool {
	return up.Response != nil && strings.EqualFold(strings.TrimSpace(up.Response.Protocol), "base64")
}

// codec says how a bridged message's payload appears in the stream: as is, or base64-decoded.
type codec struct {
	base64 bool
}

// nextFound finds the first of ms (within bridgeLookahead) whose payload is in data at pos, or
// failing that the earliest position after pos where one of them is (found by its preview, then
// checked by digest). It returns the message's index in ms, its position and the stream bytes it
// spans, or -1.
func (c codec) nextFound(data []byte, pos int, ms []*capture.Message) (int, int, int) {
	ms = ms[:min(len(ms), bridgeLookahead)]
	for j, m := range ms {
		if n, ok := c.carried(data, pos, m); ok {
			return j, pos, n
		}
	}
	bestJ, bestAt, bestN := -1, len(data), 0
	for j, m := range ms {
		p := c.preview(m)
		if len(p) == 0 {
			continue
		}
		for from := pos + 1; from < bestAt; {
			k := bytes.Index(data[from:bestAt], p)
			if k < 0 {
				break
			}
			if n, ok := c.carried(data, from+k, m); ok {
				bestJ, bestAt, bestN = j, from+k, n
				break
			}
			from += k + 1
		}
	}
	return bestJ, bestAt, bestN
}

// preview is the start of m's payload as the stream carries it: its preview, or for base64 the
// bytes its preview's whole base64 quanta decode to (nil when they are not base64).
func (c codec) preview(m *capture.Message) []byte {
	if !c.base64 {
		return m.Preview
	}
	p := m.Preview[:len(m.Preview)/4*4]
	b, err := base64.StdEncoding.DecodeString(string(p))
	if err != nil {
		return nil
	}
	return b
}

// carried reports whether m's payload is the bytes of data at pos, and how many bytes it spans
// there. For base64, a text message of L characters (websockify encodes each read on its own,
// standard alphabet, padded) decodes to L/4*3 bytes less its padding: only the digest of the text
// is known, so each of the three lengths is tried by encoding the stream's bytes.
func (c codec) carried(data []byte, pos int, m *capture.Message) (int, bool) {
	if m.Flags.Has(capture.Incomplete) || m.Flags.Has(capture.Undecodable) || m.Flags.Has(capture.Oversize) ||
		m.Digest.IsZero() {
		return 0, false
	}
	if !c.base64 {
		ok := int64(len(data)-pos) >= m.Length && sha256.Sum256(data[pos:pos+int(m.Length)]) == [sha256.Size]byte(m.Digest)
		return int(m.Length), ok
	}
	if m.Opcode != capture.OpText || m.Length == 0 || m.Length%4 != 0 || m.Length/4*3-2 > int64(len(data)-pos) {
		return 0, false
	}
	whole := int(m.Length / 4 * 3)
	buf := make([]byte, m.Length)
	for n := whole; n > whole-3 && n > 0; n-- {
		if n > len(data)-pos {
			continue
		}
		base64.StdEncoding.Encode(buf, data[pos:pos+n])
		if sha256.Sum256(buf) == [sha256.Size]byte(m.Digest) {
			return n, true
		}
	}
	return 0, false
}

// streamMessage is the message at this hop for stream bytes [from, to) of direction d: the
// upstream message m found there, or (m nil) bytes no upstream message explains.
func streamMessage(st *capture.Stream, d capture.Direction, from, to int, m *capture.Message) capture.Message {
	first, last := st.At(d, from), st.At(d, to-1)
	out := capture.Message{Direction: d, Opcode: capture.OpBinary, Length: int64(to - from),
		WireLength: int64(to - from), First: first.Time, Last: last.Time,
		Offset: first.Offset + uint64(from-first.Pos), End: last.Offset + uint64(to-last.Pos),
		Packet: first.Packet, LastPacket: last.Packet}
	if m != nil {
		// The upstream message, carried: its size as a message (base64 text is longer than the
		// bytes it carried, which WireLength counts).
		out.Opcode, out.Digest, out.Preview, out.Length = m.Opcode, m.Digest, m.Preview, m.Length
	} else {
		out.Digest = sha256.Sum256(st.Data[d][from:to])
		out.Preview = st.Data[d][from:min(to, from+64)]
	}
	out.WireDigest = out.Digest
	return out
}
