package correlate

import "github.com/wspath/wspath/probe/marker"

// probeNumbers returns the wspath probe numbers (probe/marker) of the messages of findings, in
// order, or nil when none is a probe. The marker is read from the message's preview, so a capture
// read with previews off (--no-payload) names no probes.
func probeNumbers(items []finding) []int {
	var out []int
	for _, f := range items {
		if f.msg == nil {
			continue
		}
		if n, _, ok := marker.Parse(f.msg.Preview); ok {
			out = append(out, n)
		}
	}
	return out
}
