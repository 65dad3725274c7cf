package correlate

import (
	"fmt"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// A WebSocket connection begins with an HTTP Upgrade request and the server's answer, 101
// Switching Protocols. A request that a component never forwards (a backend it cannot reach, a
// filter) or an answer that never comes back leaves no data message to miss: without looking
// at the handshake itself, such a connection would read as delivered, having carried nothing.

// upgrade judges the handshake in the judger's direction: client to server, the request; server
// to client, the response. It returns nil when the handshake passed every hop that saw the
// connection, or when there is nothing to judge (no handshake captured).
func (j *judger) upgrade() *finding {
	if j.tr.dir == capture.ClientToServer {
		return j.upgradeRequest()
	}
	return j.upgradeResponse()
}

// upgradeRequest finds the first hop, in path order, that lacks a request an earlier hop saw.
// Hops that were left out or not read at all are passed over, as for messages.
func (j *judger) upgradeRequest() *finding {
	last := -1 // travel position of the last hop with the request so far
	for p, h := range j.tr.travel {
		if j.hs[h].excluded || j.hs[h].cap == nil {
			continue
		}
		s := j.c.sess[h]
		switch {
		case s != nil && s.Request != nil:
			last = p
			continue
		case s != nil && last >= 0:
			return nil // seen there without its handshake (picked up mid-stream): no evidence
		case s != nil || last < 0:
			continue
		}
		lh := j.tr.travel[last]
		req := j.c.sess[lh].Request
		te := j.expected(req.Time, lh, h)
		f := &finding{missHop: h, lastHop: lh, laterHop: -1}
		what := fmt.Sprintf("the WebSocket Upgrade request (%s %s, %s at %s, packet %d)", req.Method, req.Path,
			j.stampAt(req.Time, lh), j.hs[lh].name, req.Packet.Number)
		cp := j.hs[h].cap
		switch later := j.seenAfter(p); {
		case later >= 0:
			f.verdict, f.laterHop = schema.CaptureGap, later
			f.why = fmt.Sprintf("%s is not in %s's capture, but the connection is seen further along at %s: the capture missed it%s",
				what, j.hs[h].name, j.hs[later].name, j.captureTrouble(h))
		case !j.covered(h, nil, te):
			f.verdict = schema.CaptureGap
			f.why = fmt.Sprintf("%s's capture (%s to %s) does not cover %s, when %s would have passed", j.hs[h].name,
				stamp(cp.Start), stamp(cp.End), stamp(te), what)
		case j.unpaired(f, what):
			// Its continuation may be there, unpaired: a loss would be a confident guess.
		default:
			f.verdict = schema.Lost
			f.why = fmt.Sprintf("%s never reached %s: the connection was never set up beyond %s", what, j.hs[h].name, j.hs[lh].name)
			if r := j.firstResponse(); r != nil {
				f.why += fmt.Sprintf("; %s answered it itself: %s", j.hs[r.hop].name, statusLine(r.resp))
			}
		}
		return f
	}
	return nil
}

// seenAfter returns the first hop after travel position p where the connection was seen, or -1.
func (j *judger) seenAfter(p int) int {
	for _, h := range j.tr.travel[p+1:] {
		if j.c.sess[h] != nil && !j.hs[h].excluded {
			return h
		}
	}
	return -1
}

// hopResponse is a response as seen at one hop.
type hopResponse struct {
	hop  int
	resp *capture.Response
}

// firstResponse is the response nearest the server, in path order the last hop that saw one.
func (j *judger) firstResponse() *hopResponse {
	for h := len(j.c.sess) - 1; h >= 0; h-- {
		if s := j.c.sess[h]; s != nil && s.Response != nil && !j.hs[h].excluded {
			return &hopResponse{h, s.Response}
		}
	}
	return nil
}

// upgradeResponse finds the first hop, toward the client, that saw the request but not the
// response a hop nearer the server saw; or, when no hop saw any response, says where the
// request last got to.
func (j *judger) upgradeResponse() *finding {
	first := j.firstResponse()
	if first == nil {
		return j.unanswered()
	}
	for h := first.hop - 1; h >= 0; h-- {
		s := j.c.sess[h]
		if j.hs[h].excluded || s == nil || s.Request == nil || !j.tr.onPath(h) {
			continue
		}
		if s.Response != nil {
			first = &hopResponse{h, s.Response}
			continue
		}
		if nearer := j.responseBefore(h); nearer >= 0 {
			return &finding{verdict: schema.CaptureGap, missHop: h, lastHop: first.hop, laterHop: nearer,
				why: fmt.Sprintf("the answer to the WebSocket Upgrade is not in %s's capture, but %s, nearer the client, has it: the capture missed it%s",
					j.hs[h].name, j.hs[nearer].name, j.captureTrouble(h))}
		}
		te := j.expected(first.resp.Time, first.hop, h)
		f := &finding{missHop: h, lastHop: first.hop, laterHop: -1}
		what := fmt.Sprintf("the answer to the WebSocket Upgrade (%s, %s at %s, packet %d)", statusLine(first.resp),
			j.stampAt(first.resp.Time, first.hop), j.hs[first.hop].name, first.resp.Packet.Number)
		if cp := j.hs[h].cap; cp == nil || cp.End.IsZero() || !j.covered(h, s, te) {
			f.verdict = schema.CaptureGap
			f.why = fmt.Sprintf("%s's capture does not cover %s, when %s would have passed", j.hs[h].name, stamp(te), what)
			return f
		}
		if sf := j.c.sess[first.hop]; sameSequence(s, sf) {
			// One TCP connection: the client's acknowledgement of the bytes after the answer,
			// seen at first.hop, came from beyond h, so the answer passed h.
			es := sf.Entries(capture.ServerToClient)
			if len(es) > 0 && sf.TCP[capture.ClientToServer].HighestAck >= es[0].Offset() {
				f.verdict = schema.CaptureGap
				f.why = fmt.Sprintf("%s is not in %s's capture, but %s and %s see one TCP connection (the same initial sequence numbers both ways) and the client acknowledged the bytes after it at %s: it passed %s and the capture missed it",
					what, j.hs[h].name, j.hs[first.hop].name, j.hs[h].name, j.hs[first.hop].name, j.hs[h].name)
				return f
			}
		}
		f.verdict = schema.Lost
		f.why = fmt.Sprintf("%s never reached %s, which saw the request", what, j.hs[h].name)
		return f
	}
	return nil
}

// responseBefore returns a hop nearer the client than h that saw the response, or -1.
func (j *judger) responseBefore(h int) int {
	for g := h - 1; g >= 0; g-- {
		if s := j.c.sess[g]; s != nil && s.Response != nil && !j.hs[g].excluded {
			return g
		}
	}
	return -1
}

// unanswered judges a request no hop saw answered: it says where the request last got to. A
// capture there that ended too soon after it to show an answer is a capture gap; otherwise
// whether the server was slow, stuck or its answer lost beyond every capture point is not known.
func (j *judger) unanswered() *finding {
	last := -1
	for h, s := range j.c.sess {
		if s != nil && s.Request != nil && !j.hs[h].excluded {
			last = h
		}
	}
	if last < 0 {
		return nil
	}
	for h := last + 1; h < len(j.c.sess); h++ {
		if !j.hs[h].excluded && j.hs[h].cap != nil {
			return nil // the request did not get that far: upgradeRequest says why
		}
	}
	s := j.c.sess[last]
	f := &finding{verdict: schema.Undecided, missHop: -1, lastHop: last, laterHop: -1,
		seg: fmt.Sprintf("beyond %s", j.hs[last].name)}
	what := fmt.Sprintf("the WebSocket Upgrade request (%s %s) last reached %s at %s and no hop saw it answered", s.Request.Method,
		s.Request.Path, j.hs[last].name, j.stampAt(s.Request.Time, last))
	if cp := j.hs[last].cap; cp != nil && cp.End.Before(s.Request.Time.Add(j.opts.tolerance())) {
		f.verdict = schema.CaptureGap
		f.why = fmt.Sprintf("%s; %s's capture ends at %s, too soon after to show an answer", what, j.hs[last].name, j.stampAt(cp.End, last))
		return f
	}
	waited := time.Duration(0)
	if cp := j.hs[last].cap; cp != nil {
		waited = cp.End.Sub(s.Request.Time).Round(time.Millisecond)
	}
	f.why = fmt.Sprintf("%s in the %s its capture went on: the server never answered, or its answer was lost beyond every capture point", what, waited)
	return f
}

// statusLine is a response's status code and reason phrase, "101 Switching Protocols".
func statusLine(r *capture.Response) string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", r.Status, r.Reason))
}
