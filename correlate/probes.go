package correlate

// probeNumbers returns the wspath probe numbers (probe/marker) of the messages of findings, in
// order, each once (a message can be judged at two hops), or nil when none is a probe. capture
// reads the marker from the message's preview, so a capture read with previews off
// (--no-payload) names no probes.
func (j *judger) probeNumbers(items []finding) []int {
	var out []int
	seen := map[int]bool{}
	for _, f := range items {
		if f.msg == nil {
			continue
		}
		if n, ok := j.c.sess[f.lastHop].Probe(j.tr.dir, f.msg); ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
