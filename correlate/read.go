package correlate

import (
	"errors"
	"fmt"
	"sync"

	"github.com/wspath/wspath/capture"
)

// ReadHops reads the captures of every hop of cfg, concurrently, with opts applied to each hop
// (its key log and narrowing from cfg added). A hop whose files cannot all be read (missing, not
// a capture) makes the returned error name the hop; the hops are returned all the same, with
// what could be read (a nil Capture where nothing could), so that Compare can still report the
// other hops, judging what depends on the broken one as undecided.
func ReadHops(cfg *Config, opts capture.Options) ([]Hop, error) {
	hops := make([]Hop, len(cfg.Hops))
	errs := make([]error, len(cfg.Hops))
	var wg sync.WaitGroup
	for i, hc := range cfg.Hops {
		hops[i] = Hop{Name: hc.Name, Files: hc.Files, ClockOffset: hc.ClockOffset}
		o := opts
		if hc.Keylog != "" {
			o.KeylogFiles = append(append([]string(nil), opts.KeylogFiles...), hc.Keylog)
		}
		o.Server, o.Port = hc.Server, hc.Port
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := capture.Read(hc.Files, o)
			hops[i].Capture = c
			if err != nil {
				errs[i] = fmt.Errorf("hop %s: %w", hc.Name, err)
				if c != nil {
					c.Warnings = append(c.Warnings, capture.Warning{Message: err.Error()})
				}
			}
		}()
	}
	wg.Wait()
	return hops, errors.Join(errs...)
}
