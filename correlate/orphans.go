package correlate

import (
	"fmt"
	"slices"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/schema"
)

// Through a terminating hop (a relay that opens its own upstream connection with a fresh
// Sec-WebSocket-Key) connections are paired by time and messages only. When many connections
// open alike and the hop's delay swings, a connection's continuation may go unpaired: the
// connection then looks as if it never got beyond the hop, while the hop after it holds a
// session seen from there on only. Such a session is evidence against calling the first lost.

// leftovers is what matching left at one hop: its sessions that no earlier hop's session was
// joined to, in start order, and per earlier hop how many connections were joined across
// with the same key and how many otherwise.
type leftovers struct {
	unpaired []*capture.Session
	sameKey  []int
	otherKey []int
}

// noteLeftovers fills each hop's leftovers from the matched connections.
func noteLeftovers(conns []*conn, hs []*hopState) {
	n := len(hs)
	for _, st := range hs {
		st.leftover = leftovers{sameKey: make([]int, n), otherKey: make([]int, n)}
	}
	for _, c := range conns {
		first := -1
		for h, s := range c.sess {
			if s == nil {
				continue
			}
			if first < 0 {
				first = h
			}
			for g := first; g < h; g++ {
				if a := c.sess[g]; a != nil {
					if k := s.Key(); k != "" && k == a.Key() {
						hs[h].leftover.sameKey[g]++
					} else {
						hs[h].leftover.otherKey[g]++
					}
				}
			}
		}
		if first > 0 {
			hs[first].leftover.unpaired = append(hs[first].leftover.unpaired, c.sess[first])
		}
	}
	for _, st := range hs {
		slices.SortStableFunc(st.leftover.unpaired, func(a, b *capture.Session) int { return pairTime(a).Compare(pairTime(b)) })
	}
}

// pairTime is when a session's handshake (or, without one, the session) began.
func pairTime(s *capture.Session) time.Time {
	if s.Request != nil {
		return s.Request.Time
	}
	return s.Start
}

// unpairedNear counts the sessions at hop h that no session of an earlier hop was joined to and
// that could be the continuation of the connection's session at hop lh: begun no earlier than
// its handshake, moved to h's clock, less the clocks' slack, and no later than that plus the
// slack and the time a relay may take to open its own connection (the longest latency measured
// into h, at least the comparison's tolerance). A session whose key differs from the
// connection's is no candidate when every connection joined across lh and h kept its key: that
// hop passes keys through.
func (j *judger) unpairedNear(lh, h int) int {
	sa, p := j.c.sess[lh], &j.hs[h].leftover
	if sa == nil || len(p.unpaired) == 0 {
		return 0
	}
	te := j.expected(pairTime(sa), lh, h)
	slack := j.clockSlack(lh, h)
	lo, hi := te.Add(-slack), te.Add(slack+max(j.latencyBound(h), j.opts.tolerance()))
	keeps := p.sameKey[lh] > 0 && p.otherKey[lh] == 0
	i, _ := slices.BinarySearchFunc(p.unpaired, lo, func(s *capture.Session, t time.Time) int { return pairTime(s).Compare(t) })
	n := 0
	for _, s := range p.unpaired[i:] {
		if pairTime(s).After(hi) {
			break
		}
		if keeps && s.Key() != "" && sa.Key() != "" {
			continue
		}
		n++
	}
	return n
}

// unpaired turns f, the connection not found at hop h (f.missHop) after hop f.lastHop, into
// undecided when h holds sessions that may be its continuation, unpaired (see unpairedNear),
// and warns on h. what says what did not reach h. It reports whether it did.
func (j *judger) unpaired(f *finding, what string) bool {
	lh, h := f.lastHop, f.missHop
	n := j.unpairedNear(lh, h)
	if n == 0 {
		return false
	}
	f.verdict, f.low = schema.Undecided, true
	f.why = fmt.Sprintf("the connection was not found at %s, but %s has %d connections not paired with any at %s in that time; their pairing through a terminating hop is uncertain: %s may have reached %s as one of them",
		j.hs[h].name, j.hs[h].name, n, j.hs[lh].name, what, j.hs[h].name)
	if w := unpairedWarning(j.hs, lh, h); !slices.Contains(j.hs[h].warnings, w) {
		j.hs[h].warnings = append(j.hs[h].warnings, w)
	}
	return true
}

// unpairedWarning is the warning on hop h when connections of hop lh not found at h are left
// undecided for its unpaired sessions.
func unpairedWarning(hs []*hopState, lh, h int) string {
	return fmt.Sprintf("%d connections seen from %s onward were not paired with any at %s (no common Sec-WebSocket-Key; time and messages did not tell them apart): connections of %s not found at %s in their time are undecided, not lost",
		len(hs[h].leftover.unpaired), hs[h].name, hs[lh].name, hs[lh].name, hs[h].name)
}
