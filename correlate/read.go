package correlate

import (
	"fmt"
	"sync"

	"github.com/wspath/wspath/capture"
)

// ReadHops reads the captures of every hop of cfg, concurrently, with opts applied to each hop
// (its key log and narrowing from cfg added). It fails when a hop's files cannot be read at all
// (missing, not a capture), naming the hop; damage inside a capture is a warning on that hop.
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
			if err != nil {
				errs[i] = fmt.Errorf("hop %s: %w", hc.Name, err)
				return
			}
			hops[i].Capture = c
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return hops, nil
}
