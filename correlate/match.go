package correlate

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/capture/handshake"
	"github.com/wspath/wspath/schema"
)

// conn is a connection being assembled: at most one session per hop.
type conn struct {
	sess []*capture.Session // per hop, nil where unseen
	by   []schema.MatchedBy // per hop: how the session was matched
}

// refStart is the connection's earliest start on the first hop's clock.
func (c *conn) refStart(hs []*hopState) time.Time {
	var t time.Time
	for h, s := range c.sess {
		if s == nil {
			continue
		}
		st := s.Start.Add(-hs[h].off)
		if t.IsZero() || st.Before(t) {
			t = st
		}
	}
	return t
}

// readable reports whether s's messages could be read (not TLS without keys).
func readable(s *capture.Session) bool {
	return s != nil && (s.TLS() == nil || s.TLS().Decrypted)
}

// sessionsByStart returns the sessions of a capture in start order (ID breaking ties).
func sessionsByStart(c *capture.Capture) []*capture.Session {
	if c == nil {
		return nil
	}
	out := make([]*capture.Session, 0, len(c.Sessions))
	for _, s := range c.Sessions {
		if s != nil {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b *capture.Session) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// matchByKey builds connections from Sec-WebSocket-Key: sessions with the same key at different
// hops are one connection. Should a key occur twice at a hop, the n-th occurrence at each hop
// (in start order) forms the n-th connection. Sessions without a key become single-hop
// connections.
func matchByKey(hops [][]*capture.Session) []*conn {
	n := len(hops)
	type group struct {
		key string
		per [][]*capture.Session
	}
	groups := map[string]*group{}
	var keys []string
	var out []*conn
	byAccept := acceptKeys(hops)
	for h, ss := range hops {
		for _, s := range ss {
			k := s.Key()
			if k == "" && s.Response != nil {
				// Seen from the server's side only (a one-way capture): its 101's
				// Sec-WebSocket-Accept names the key another hop saw.
				k = byAccept[s.Response.Accept]
			}
			if k == "" {
				c := &conn{sess: make([]*capture.Session, n), by: make([]schema.MatchedBy, n)}
				c.sess[h] = s
				out = append(out, c)
				continue
			}
			g := groups[k]
			if g == nil {
				g = &group{key: k, per: make([][]*capture.Session, n)}
				groups[k] = g
				keys = append(keys, k)
			}
			g.per[h] = append(g.per[h], s)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groups[k]
		rows := 0
		for _, p := range g.per {
			rows = max(rows, len(p))
		}
		for r := 0; r < rows; r++ {
			c := &conn{sess: make([]*capture.Session, n), by: make([]schema.MatchedBy, n)}
			firstSet := false
			for h, p := range g.per {
				if r < len(p) {
					c.sess[h] = p[r]
					if firstSet {
						c.by[h] = schema.MatchedByKey
					}
					firstSet = true
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// acceptKeys maps the Sec-WebSocket-Accept each key seen at some hop calls for back to the key.
// It is nil when no session lacks its request but has a response: nothing to look up.
func acceptKeys(hops [][]*capture.Session) map[string]string {
	need := false
	for _, ss := range hops {
		for _, s := range ss {
			need = need || (s.Request == nil && s.Response != nil && s.Response.Accept != "")
		}
	}
	if !need {
		return nil
	}
	m := map[string]string{}
	for _, ss := range hops {
		for _, s := range ss {
			if k := s.Key(); k != "" {
				m[handshake.AcceptKey(k)] = k
			}
		}
	}
	return m
}

// handshakeSamples collects, for hop h, differences of handshake times against the nearest
// earlier hop of known offset in connections matched by key.
func handshakeSamples(conns []*conn, hs []*hopState, h int) samples {
	var s samples
	for _, c := range conns {
		b := c.sess[h]
		if b == nil || b.Request == nil || c.by[h] != schema.MatchedByKey {
			continue
		}
		for p := h - 1; p >= 0; p-- {
			a := c.sess[p]
			if a == nil || a.Request == nil {
				continue
			}
			if !hs[p].offKnown {
				break
			}
			addSample(&s.c2s, b.Request.Time.Sub(a.Request.Time)+hs[p].off)
			if a.Response != nil && b.Response != nil {
				addSample(&s.s2c, b.Response.Time.Sub(a.Response.Time)+hs[p].off)
			}
			break
		}
	}
	return s
}

// pairScore is how well two sessions at different hops fit as one connection.
type pairScore struct {
	a, b  *conn
	sim   float64       // similarity of content and headers; higher is better
	delta time.Duration // b's time minus a's, raw clocks
	dev   time.Duration // |delta - expected offset difference|, filled in later
	how   schema.MatchedBy
}

// maxCandidates bounds the sessions at the other hop scored against one session without a key:
// the nearest in time after correcting the clocks.
const maxCandidates = 16

// maxSimMessages bounds the messages per direction compared when scoring a candidate pair.
const maxSimMessages = 128

// mergeFallback joins connections that the key could not join (key missing at a hop, or
// rewritten by a terminating proxy) by time and content, hop pair by hop pair, nearest hops first.
func mergeFallback(conns []*conn, hs []*hopState, opts *Options) []*conn {
	n := len(hs)
	for d := 1; d < n; d++ {
		for h := 0; h+d < n; h++ {
			conns = mergePair(conns, hs, h, h+d, opts)
		}
	}
	return conns
}

// mergePair joins connections seen at hop ha (and at no hop after it up to hb) with connections
// seen at hop hb (and at no hop from ha before it), best-scoring pairs first.
func mergePair(conns []*conn, hs []*hopState, ha, hb int, opts *Options) []*conn {
	as, bs := openEnds(conns, ha, hb)
	if len(as) == 0 || len(bs) == 0 {
		return conns
	}
	known := hs[ha].offKnown && hs[hb].offKnown
	idx := newCandidateIndex(bs, ha, hb)
	expected, window, ok := pairOffset(idx, as, hs, opts)
	if !ok {
		return conns // no two sessions overlap in time
	}
	pairs := scoreCandidates(idx, as, expected, window)
	if len(pairs) == 0 {
		return conns
	}
	rankPairs(pairs, ha, hb)
	merged, chosen := joinPairs(pairs, hb, opts.maxClockSkew())
	if !known && hs[ha].offKnown && len(chosen) > 0 {
		// A first estimate of the hop's clock, from the pairs just matched; refined later from
		// the messages.
		hs[hb].off, hs[hb].offKnown, hs[hb].offSource = hs[ha].off+median(chosen), true, "estimated"
	}
	out := conns[:0]
	for _, c := range conns {
		if !merged[c] {
			out = append(out, c)
		}
	}
	return out
}

// openEnds returns the connections that could be joined across hops ha and hb: as, seen at ha
// and at no hop after it up to hb; bs, seen at hb and at no hop from ha before it.
func openEnds(conns []*conn, ha, hb int) (as, bs []*conn) {
	for _, c := range conns {
		if c.sess[ha] != nil && emptyBetween(c, ha+1, hb+1) {
			as = append(as, c)
		}
		if c.sess[hb] != nil && emptyBetween(c, ha, hb) {
			bs = append(bs, c)
		}
	}
	return as, bs
}

// pairOffset returns how much later the partner of a session at idx.ha is expected at idx.hb
// (raw clocks) and the window around it where candidates are looked for: from the hops' known
// clock offsets, or else estimated from the sessions' times, warning on hb when that estimate
// is vague. ok is false when no two sessions overlap in time.
func pairOffset(idx *candidateIndex, as []*conn, hs []*hopState, opts *Options) (expected, window time.Duration, ok bool) {
	ha, hb := idx.ha, idx.hb
	if hs[ha].offKnown && hs[hb].offKnown {
		return hs[hb].off - hs[ha].off, 2 * opts.tolerance(), true
	}
	window = opts.maxClockSkew()
	est, ok, vague := idx.offsetEstimate(as, window)
	if !ok {
		return 0, 0, false
	}
	if vague {
		hs[hb].warnings = append(hs[hb].warnings, fmt.Sprintf("connections without a common Sec-WebSocket-Key were paired with %s's by time alone on a clock offset that their timing could not pin down (identical messages, regular start times): the pairing of connections may be wrong; give this hop's clock_offset in hops.yaml", hs[ha].name))
	}
	return est, window, true
}

// scoreCandidates scores each connection of as against the nearest few candidates in time at
// idx.hb, keeping the pairs that can be one connection.
func scoreCandidates(idx *candidateIndex, as []*conn, expected, window time.Duration) []pairScore {
	ha, hb := idx.ha, idx.hb
	var pairs []pairScore
	items := itemCache{}
	for _, a := range as {
		// The sessions opening with a's first message come too, however far from the expected
		// time: a relay's delay before it opens its own connection grows and shrinks with its
		// load, so the offset estimated over the whole capture can be tens of milliseconds off a
		// given pair, while connections start a few milliseconds apart.
		for _, b := range idx.withSignature(a, idx.nearest(a, expected, window, maxCandidates), expected, window, maxCandidates) {
			p, ok := scorePair(a.sess[ha], b.sess[hb], hb-ha, items)
			if !ok {
				continue
			}
			p.a, p.b = a, b
			p.dev = absDur(p.delta - expected)
			pairs = append(pairs, p)
		}
	}
	return pairs
}

// rankPairs sorts pairs best first: higher score, then nearer the expected time difference,
// then by the sessions' start and ids so that the order is the same on every run.
func rankPairs(pairs []pairScore, ha, hb int) {
	slices.SortStableFunc(pairs, func(x, y pairScore) int {
		if c := cmp.Compare(y.sim, x.sim); c != 0 && math.Abs(x.sim-y.sim) > 1e-9 {
			return c
		}
		if c := cmp.Compare(x.dev, y.dev); c != 0 {
			return c
		}
		if c := x.a.sess[ha].Start.Compare(y.a.sess[ha].Start); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a.sess[ha].ID, y.a.sess[ha].ID); c != 0 {
			return c
		}
		return cmp.Compare(x.b.sess[hb].ID, y.b.sess[hb].ID)
	})
}

// joinPairs walks the ranked pairs and joins each whose connections are both still free, share
// no hop and are at most skew from the expected time difference. It returns the connections
// joined into another (to be dropped) and the time differences of the pairs joined.
func joinPairs(pairs []pairScore, hb int, skew time.Duration) (merged map[*conn]bool, chosen []time.Duration) {
	usedA, usedB := map[*conn]bool{}, map[*conn]bool{}
	merged = map[*conn]bool{}
	for _, p := range pairs {
		if usedA[p.a] || usedB[p.b] || usedA[p.b] || usedB[p.a] || !disjoint(p.a, p.b) {
			continue
		}
		if p.dev > skew {
			continue
		}
		usedA[p.a], usedB[p.b] = true, true
		chosen = append(chosen, p.delta)
		p.a.join(p.b, hb, p.how)
		merged[p.b] = true
	}
	return merged, chosen
}

// join moves b's sessions into c: b's session at hb is matched by how, and its others keep how
// they were matched (how, for b's first session).
func (c *conn) join(b *conn, hb int, how schema.MatchedBy) {
	for h, s := range b.sess {
		if s != nil {
			c.sess[h] = s
			c.by[h] = b.by[h]
			if c.by[h] == schema.MatchedFirst {
				c.by[h] = how
			}
		}
	}
	c.by[hb] = how
}

// quickDelta is b's handshake (or start) time minus a's, raw clocks.
func quickDelta(a, b *capture.Session) time.Duration {
	if a.Request != nil && b.Request != nil {
		return b.Request.Time.Sub(a.Request.Time)
	}
	return b.Start.Sub(a.Start)
}

// emptyBetween reports whether c has no session at hops [from, to).
func emptyBetween(c *conn, from, to int) bool {
	for h := from; h < to && h < len(c.sess); h++ {
		if c.sess[h] != nil {
			return false
		}
	}
	return true
}

// disjoint reports whether two connections have no hop in common.
func disjoint(a, b *conn) bool {
	for h := range a.sess {
		if a.sess[h] != nil && b.sess[h] != nil {
			return false
		}
	}
	return true
}

// Weights of the evidence that two sessions at different hops are one connection. A pair's
// score is their sum; pairs are taken best score first, nearest in time among equal scores.
const (
	// sameSessionWeight: the same TLS session (ClientHello random) or the same HTTP/2 stream of
	// one TCP connection is one connection for certain, above any sum of the weights below.
	sameSessionWeight = 10
	// digestsWeight scales the share of messages in common (0 to 1): the messages themselves
	// are the best evidence short of a shared session, so all in common outweighs every header
	// but a request id.
	digestsWeight = 3
	// requestIDWeight: an X-Request-Id is made per request, so the same one at both hops all but
	// proves the pair; it ranks below all messages in common only because a proxy may reuse it.
	requestIDWeight = 2
	// forwardedForWeight: the later hop's X-Forwarded-For naming the earlier hop's client ties
	// the pair to one client, which may still have several connections open.
	forwardedForWeight = 0.5
	// shapeWeight scales, per direction, how alike the counts of messages (or TLS records when
	// they cannot be read) are: weak, since busy connections carry similar counts.
	shapeWeight = 0.5
	// tileWeight is added per direction where the TLS records of a side without keys carry, one
	// by one and byte for byte less the cipher's overhead, the frames the other side read
	// (recordTiling): another connection would have to match every frame size in order.
	tileWeight = 1.5
	// sniHostWeight is added when the TLS server name equals the Host of the other side and
	// taken off when it differs: one site serves many connections, but a different one rules
	// the pair out.
	sniHostWeight = 0.3
	// pathWeight is added for the same request path and taken off for a different one: proxies
	// seldom rewrite paths, but many connections share one.
	pathWeight = 0.2
	// hostWeight and protocolsWeight: the same Host, the same subprotocols are shared by most
	// connections of one application, so they only break ties.
	hostWeight      = 0.1
	protocolsWeight = 0.1
)

// scorePair scores two sessions at hops dist apart as one connection. ok is false when they
// cannot be one (a far hop pair with nothing in common).
func scorePair(a, b *capture.Session, dist int, items itemCache) (pairScore, bool) {
	p := pairScore{delta: b.Start.Sub(a.Start)}
	if q, ok, decided := h2Pair(a, b, p); decided {
		return q, ok
	}
	if sameTLSSession(a, b) {
		p.sim, p.how = sameSessionWeight, schema.MatchedByTLS
		return p, true
	}
	if a.Request != nil && b.Request != nil {
		p.delta = b.Request.Time.Sub(a.Request.Time)
		p.sim += headerScore(a, b)
	}
	if readable(a) && readable(b) {
		return digestScore(p, a, b, dist, items)
	}
	// One or both sides are TLS without keys: compare shapes, with less weight.
	return shapeScore(p, a, b, dist)
}

// sameTLSSession reports whether a and b carry the same TLS session (the same ClientHello
// random).
func sameTLSSession(a, b *capture.Session) bool {
	return a.TLS() != nil && b.TLS() != nil && a.TLS().ClientRandom == b.TLS().ClientRandom && a.TLS().ClientRandom != [32]byte{}
}

// digestScore adds to p's score the share of messages a and b (both readable) have in common,
// and times the pair by its messages when a handshake is missing.
func digestScore(p pairScore, a, b *capture.Session, dist int, items itemCache) (pairScore, bool) {
	p.how = schema.MatchedByTimeDigests
	sim, total, ds := commonMessages(a, b, items)
	if total > 0 {
		p.sim += digestsWeight * sim / float64(total)
		if (a.Request == nil || b.Request == nil) && len(ds) > 0 {
			p.delta = median(ds)
		}
	}
	switch {
	case total > 0 && sim == 0:
		return p, false // both carried messages and none in common: not one connection
	case total == 0 && (a.Request == nil || b.Request == nil):
		return p, false // nothing to compare but time
	}
	return p, dist <= 1 || p.sim > 0
}

// commonMessages aligns the first data messages of a and b in each direction: sim is how many
// they have in common, total the longer side's count summed over both directions, and ds the
// time differences (raw clocks) of up to maxSimMessages messages in common.
func commonMessages(a, b *capture.Session, items itemCache) (sim float64, total int, ds []time.Duration) {
	for _, dir := range capture.Directions {
		x, y := items.get(a, dir), items.get(b, dir)
		if len(x) == 0 && len(y) == 0 {
			continue
		}
		if anyWireOnly(x) || anyWireOnly(y) {
			x, y = byWire(x), byWire(y)
		}
		mb, matched := alignForScore(x, y)
		sim += float64(matched)
		total += max(len(x), len(y))
		for j, i := range mb {
			if i >= 0 && x[i].t != 0 && y[j].t != 0 && len(ds) < maxSimMessages {
				ds = append(ds, time.Duration(y[j].t-x[i].t))
			}
		}
	}
	return sim, total, ds
}

// shapeScore adds to p's score what can be compared when a or b is TLS without keys: the server
// name against the Host, and the number of records (or messages) each way.
func shapeScore(p pairScore, a, b *capture.Session, dist int) (pairScore, bool) {
	p.how = schema.MatchedByTimeTLS
	p.sim += sniHostScore(a, b)
	for _, dir := range capture.Directions {
		x, y := shapeCount(a, dir), shapeCount(b, dir)
		if x > 0 || y > 0 {
			p.sim += shapeWeight * float64(min(x, y)) / float64(max(x, y))
		}
		if _, _, _, ok := recordTiling(a, b, dir); ok {
			p.sim += tileWeight
		} else if _, _, _, ok := recordTiling(b, a, dir); ok {
			p.sim += tileWeight
		}
	}
	return p, dist <= 1 || p.sim > 0
}

// sniHostScore compares the TLS server name of a (or else b) with the Host header of a (or else
// b): sniHostWeight when they name the same host, minus it when not, 0 when either is missing.
func sniHostScore(a, b *capture.Session) float64 {
	sni, host := "", ""
	if a.TLS() != nil {
		sni = a.TLS().SNI
	}
	if b.TLS() != nil && sni == "" {
		sni = b.TLS().SNI
	}
	if a.Request != nil {
		host = a.Request.Host
	} else if b.Request != nil {
		host = b.Request.Host
	}
	if sni == "" || host == "" {
		return 0
	}
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	if strings.EqualFold(sni, host) {
		return sniHostWeight
	}
	return -sniHostWeight
}

// alignForScore aligns two candidates' messages as align does, without align's indexes in the
// two commonest cases of candidate scoring: the same sequence on both sides (the right partner)
// and short sequences with no digest in common (a wrong one).
func alignForScore(x, y []item) (mb []int, matched int) {
	if len(x) == len(y) && !anyIncomplete(x) && !anyIncomplete(y) {
		same := true
		for i := range x {
			if x[i].digest != y[i].digest {
				same = false
				break
			}
		}
		if same {
			mb = make([]int, len(y))
			for i := range mb {
				mb[i] = i
			}
			return mb, len(y)
		}
	}
	if len(x)*len(y) <= 256 && !anyIncomplete(x) && !anyIncomplete(y) && !shareDigest(x, y) {
		mb = make([]int, len(y))
		for i := range mb {
			mb[i] = -1
		}
		return mb, 0
	}
	return align(x, y, 0)
}

func anyIncomplete(s []item) bool {
	for i := range s {
		if s[i].incomplete {
			return true
		}
	}
	return false
}

// shareDigest reports whether some message of x has the digest of some message of y.
func shareDigest(x, y []item) bool {
	for i := range x {
		for j := range y {
			if x[i].digest == y[j].digest {
				return true
			}
		}
	}
	return false
}

// shapeCount is the number of data messages, or of TLS records when they could not be read.
func shapeCount(s *capture.Session, dir capture.Direction) int {
	if readable(s) {
		return countData(s.Entries(dir))
	}
	return len(s.TLS().Records[dir])
}

// headerScore compares handshake headers that proxies usually keep.
func headerScore(a, b *capture.Session) float64 {
	ra, rb := a.Request, b.Request
	var s float64
	if id := ra.Headers["X-Request-Id"]; id != "" && id == rb.Headers["X-Request-Id"] {
		s += requestIDWeight
	}
	if ra.Path != "" && rb.Path != "" {
		if ra.Path == rb.Path {
			s += pathWeight
		} else {
			s -= pathWeight
		}
	}
	if ra.Host != "" && ra.Host == rb.Host {
		s += hostWeight
	}
	if len(ra.Protocols) > 0 && slices.Equal(ra.Protocols, rb.Protocols) {
		s += protocolsWeight
	}
	if xff := rb.Headers["X-Forwarded-For"]; xff != "" && a.Client.IsValid() {
		if forwardedFor(xff, a.Client.Addr()) {
			s += forwardedForWeight
		}
	}
	return s
}

// forwardedFor reports whether an X-Forwarded-For list names addr.
func forwardedFor(xff string, addr netip.Addr) bool {
	for _, f := range strings.Split(xff, ",") {
		if a, err := netip.ParseAddr(strings.TrimSpace(f)); err == nil && a.Unmap() == addr.Unmap() {
			return true
		}
	}
	return false
}

// countData counts data messages.
func countData(ms []capture.Entry) int {
	n := 0
	for i := range ms {
		if ms[i].Opcode().IsData() {
			n++
		}
	}
	return n
}

// itemCache keeps each session's first data messages as items while one pair of hops is
// matched: a session is scored against up to maxCandidates others, and converting its messages
// every time was most of the cost of matching.
type itemCache map[*capture.Session]*[2][]item

// get returns up to maxSimMessages data messages of s in direction dir (raw clock); callers
// must not modify them.
func (c itemCache) get(s *capture.Session, dir capture.Direction) []item {
	e := c[s]
	if e == nil {
		e = &[2][]item{}
		for _, d := range capture.Directions {
			e[d] = dataItems(s, d, maxSimMessages)
		}
		c[s] = e
	}
	return e[dir]
}

// dataItems returns up to limit data messages of one direction as items, raw clock.
func dataItems(s *capture.Session, dir capture.Direction, limit int) []item {
	return streamItems(nil, s, dir, 0, 0, limit)
}
