package correlate

import (
	"fmt"
	"slices"
	"time"

	"github.com/wspath/wspath/capture"
)

// A capture that admits dropping packets (tcpdump's "N packets dropped by kernel", pcapng
// interface statistics) may lack a message the network delivered. Where the dropped packets left
// a hole in a TCP stream, reassembly already sees it (gapDetail); what it cannot see is a stream
// whose tail was dropped, with no later packet to reveal the hole. Such a message is a capture
// gap, unless the capture shows the stream whole around the place the message would be.

// dropCount is what one source says a hop's capture dropped.
type dropCount struct {
	n          int64
	start, end time.Time // the period counted; zero: the whole capture
	source     string    // where the count comes from, for reasons
	// burst: counted from holes the peers acknowledged, not by the capturing program: the
	// capture dropped packets then, which says nothing of a message the receiver acknowledged
	// (it may have been dropped by a proxy all the same), only that the hop cannot place a loss.
	burst bool
}

// dropsOf collects what hop h's capture admits it dropped: the pcapng counters of its files
// and the count hops.yaml gives (as tcpdump printed it at exit).
func dropsOf(h Hop) []dropCount {
	var out []dropCount
	if h.Dropped > 0 {
		out = append(out, dropCount{n: h.Dropped, source: "hops.yaml dropped"})
	}
	if h.Capture != nil {
		for _, f := range h.Capture.Files {
			if d := f.Drops; d != nil && d.Dropped > 0 {
				out = append(out, dropCount{n: d.Dropped, start: d.Start, end: d.End, source: f.Name + "'s pcapng interface statistics"})
			}
		}
		out = append(out, ackedHoles(h.Capture.Sessions)...)
	}
	return out
}

// dropBurst is how close in time holes must be noticed to count as one burst of dropped packets.
const dropBurst = time.Second

// ackedHoles are the drops a capture proves by itself: holes in its TCP streams that the peers
// acknowledged (the network delivered those bytes and the capture missed them), one packet at
// least each, in bursts of holes noticed within dropBurst of each other. A capture that drops
// packets with no counter (a pcap file, tcpdump's count not given) drops them in bursts: a
// message missing there during one may be missing from the capture only. Outside the bursts the
// capture proved nothing of the kind.
func ackedHoles(ss []*capture.Session) []dropCount {
	var at []time.Time
	for _, s := range ss {
		for _, dir := range capture.Directions {
			for _, g := range s.TCP[dir].Gaps() {
				if g.Reason == capture.GapAcked && !g.Time.IsZero() {
					at = append(at, g.Time)
				}
			}
		}
	}
	slices.SortFunc(at, time.Time.Compare)
	var out []dropCount
	for i, t := range at {
		if i > 0 && t.Sub(at[i-1]) <= dropBurst {
			d := &out[len(out)-1]
			d.n, d.end = d.n+1, t
			continue
		}
		out = append(out, dropCount{n: 1, start: t, end: t, burst: true})
	}
	for i := range out {
		d := &out[i]
		d.source = fmt.Sprintf("holes in its own streams that the peers acknowledged, noticed %s to %s", stamp(d.start), stamp(d.end))
	}
	return out
}

// droppedWarning is the hop warning for a count given in hops.yaml; a pcapng file's counters
// have their own warning from capture.
func droppedWarning(n int64) string {
	return fmt.Sprintf("hops.yaml says this capture dropped %d packets: messages missing at this hop may be missing from the capture only, not from the network", n)
}

// droppedHere explains a message (track position k) absent at hop h, expected there at te, by
// packets h's capture admits dropping around te; "" when no count covers te or the capture
// shows h's stream whole where the message would be.
func (j *judger) droppedHere(k int, h int, te time.Time) (string, *dropCount) {
	var d *dropCount
	slack := j.inflight(h)
	for i := range j.hs[h].drops {
		c := &j.hs[h].drops[i]
		if (c.start.IsZero() || !te.Before(c.start.Add(-slack))) && (c.end.IsZero() || !te.After(c.end.Add(slack))) {
			d = c
			break
		}
	}
	if d == nil || j.seenWhole(k, h) {
		return "", nil
	}
	packets := "packets"
	if d.n == 1 {
		packets = "packet"
	}
	return fmt.Sprintf("%s's capture admits %d dropped %s (%s) while the message would have passed, and nothing after it in the stream there shows whether it was carried",
		j.hs[h].name, d.n, packets, d.source), d
}

// seenWhole reports whether hop h's capture holds its TCP stream without a hole from the
// message before track position k to the message after it (or to the FIN or RST that ended the
// direction): the capture then saw every byte where the message would have been, so dropped
// packets cannot explain its absence.
func (j *judger) seenWhole(k int, h int) bool {
	s := j.c.sess[h]
	if s == nil {
		return false
	}
	st := &s.TCP[j.tr.dir]
	var lo uint64
	for p := k - 1; p >= 0; p-- {
		if m := j.tr.ids[p].at(h); m != nil {
			lo = m.End()
			break
		}
	}
	hi, found := uint64(0), false
	for p := k + 1; p < len(j.tr.ids); p++ {
		if m := j.tr.ids[p].at(h); m != nil {
			hi, found = m.Offset(), true
			break
		}
	}
	if !found {
		if st.FIN == nil && st.RST == nil {
			return false // the tail may be what was dropped
		}
		hi = st.Bytes
		for _, g := range st.Gaps() {
			hi += g.Length
		}
	}
	for _, g := range st.Gaps() {
		if g.Offset < hi && g.Offset+g.Length > lo {
			return false
		}
	}
	return true
}
