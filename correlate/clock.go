package correlate

import (
	"slices"
	"time"

	"github.com/wspath/wspath/schema"
)

// maxClockSamples bounds the samples kept per hop and direction for clock and latency estimates;
// past it every other sample is dropped, which keeps the median representative.
const maxClockSamples = 1 << 16

// samples collects time differences for one hop.
type samples struct {
	c2s, s2c []time.Duration // later hop's time minus earlier hop's, per travel direction
}

func addSample(s *[]time.Duration, d time.Duration) {
	if len(*s) >= maxClockSamples {
		// Thin deterministically: keep the even positions.
		k := 0
		for i := 0; i < len(*s); i += 2 {
			(*s)[k] = (*s)[i]
			k++
		}
		*s = (*s)[:k]
	}
	*s = append(*s, d)
}

// median returns the median of ds (the lower middle for an even count) without changing ds.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	c := slices.Clone(ds)
	slices.Sort(c)
	return c[(len(c)-1)/2]
}

// estimateOffset turns samples of (this hop - previous hop) differences into a clock offset.
// A message going forward (client to server) shows offset + latency, one going back shows
// offset - latency, so with both the latency cancels out; with one direction only the latency
// is taken as zero. ok is false without samples.
func estimateOffset(s samples) (off time.Duration, ok bool) {
	switch {
	case len(s.c2s) > 0 && len(s.s2c) > 0:
		return (median(s.c2s) + median(s.s2c)) / 2, true
	case len(s.c2s) > 0:
		return median(s.c2s), true
	case len(s.s2c) > 0:
		return median(s.s2c), true
	}
	return 0, false
}

// latencyOf summarises one-way delays (already clock corrected); nil without samples.
func latencyOf(ds []time.Duration) *schema.Latency {
	if len(ds) == 0 {
		return nil
	}
	l := &schema.Latency{Median: schema.Duration(median(ds)), Samples: len(ds), Max: schema.Duration(ds[0])}
	for _, d := range ds[1:] {
		if schema.Duration(d) > l.Max {
			l.Max = schema.Duration(d)
		}
	}
	return l
}
