package correlate

import (
	"fmt"
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
		if d, ok := ackedHoles(h.Capture.Sessions); ok {
			out = append(out, d)
		}
	}
	return out
}

// ackedHoles is the drop count a capture proves by itself: holes in its TCP streams that the
// peers acknowledged (the network delivered those bytes and the capture missed them), one packet
// at least each, over the time they were noticed. A capture that drops packets with no counter
// (a pcap file, tcpdump's count not given) drops them in bursts: a message missing there then
// may be missing from the capture only.
func ackedHoles(ss []*capture.Session) (dropCount, bool) {
	var d dropCount
	for _, s := range ss {
		for _, dir := range capture.Directions {
			for _, g := range s.TCP[dir].Gaps() {
				if g.Reason != capture.GapAcked || g.Time.IsZero() {
					continue
				}
				d.n++
				if d.start.IsZero() || g.Time.Before(d.start) {
					d.start = g.Time
				}
				if g.Time.After(d.end) {
					d.end = g.Time
				}
			}
		}
	}
	d.source = fmt.Sprintf("the capture's own holes that the peers acknowledged, %s to %s", stamp(d.start), stamp(d.end))
	return d, d.n > 0
}

// droppedWarning is the hop warning for a count given in hops.yaml; a pcapng file's counters
// have their own warning from capture.
func droppedWarning(n int64) string {
	return fmt.Sprintf("hops.yaml says this capture dropped %d packets: messages missing at this hop may be missing from the capture only, not from the network", n)
}

// droppedHere explains a message (track position k) absent at hop h, expected there at te, by
// packets h's capture admits dropping around te; "" when no count covers te or the capture
// shows h's stream whole where the message would be.
func (j *judger) droppedHere(k int, h int, te time.Time) string {
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
		return ""
	}
	packets := "packets"
	if d.n == 1 {
		packets = "packet"
	}
	return fmt.Sprintf("%s's capture admits %d dropped %s (%s) while the message would have passed, and nothing after it in the stream there shows whether it was carried",
		j.hs[h].name, d.n, packets, d.source)
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
