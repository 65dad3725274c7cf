package correlate

import "github.com/wspath/wspath/probe/marker"

// probeNumbers returns the wspath probe numbers (probe/marker) of the messages of findings, in
// order, each once (a message can be judged at two hops), or nil when none is a probe. The marker is read from the message's preview, so a capture
// read with previews off (--no-payload) names no probes.
func probeNumbers(items []finding) []int {
	var out []int
	seen := map[int]bool{}
	for _, f := range items {
		if f.msg == nil {
			continue
		}
		if n, _, ok := marker.Parse(f.msg.Preview); ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
