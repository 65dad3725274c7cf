package correlate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/capture/encap"
	"github.com/wspath/wspath/hopsconfig"
)

// ReadHops reads the captures of every hop of cfg, concurrently, with opts applied to each hop
// (its key log and narrowing from cfg added). A hop whose files cannot all be read (missing, not
// a capture) makes the returned error name the hop; the hops are returned all the same, with
// what could be read (a nil Capture where nothing could), so that Compare can still report the
// other hops, judging what depends on the broken one as undecided.
func ReadHops(cfg *hopsconfig.Config, opts capture.Options) ([]Hop, error) {
	return ReadHopsContext(context.Background(), cfg, opts)
}

// ReadHopsContext is ReadHops, stopping early when ctx is done: it then returns ctx's error.
func ReadHopsContext(ctx context.Context, cfg *hopsconfig.Config, opts capture.Options) ([]Hop, error) {
	hops := make([]Hop, len(cfg.Hops))
	errs := make([]error, len(cfg.Hops))
	var wg sync.WaitGroup
	// No more hops are read at once than there are cores: more would not read faster, and hops of
	// the same length would all reach their end at once, when each copies its open connections'
	// entries out of their blocks: with 4 hops on 2 cores that doubled the heap for a moment,
	// faster than the garbage collector could keep up (4 hops x 960k messages: 300-315 MB peak
	// RSS in some runs).
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	// Hops that keep every core busy read each on one goroutine: the second goroutine a read
	// can use to decode ahead (capture.Options.Serial) would only add its hand-over's cost.
	serial := len(cfg.Hops) >= runtime.GOMAXPROCS(0)
	for i, hc := range cfg.Hops {
		hops[i] = Hop{Name: hc.Name, Files: hc.Files, ClockOffset: hc.ClockOffset, Dropped: hc.Dropped}
		o := hopOptions(cfg, i, opts)
		o.Serial = o.Serial || serial
		if opts.Progress != nil {
			name := hc.Name
			o.Progress = func(p capture.Progress) { p.Name = name; opts.Progress(p) }
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := capture.ReadContext(ctx, hc.Files, o)
			hops[i].Capture = c
			if err != nil {
				errs[i] = fmt.Errorf("hop %s: %w", hc.Name, err)
				hops[i].Err = err
				if c != nil {
					c.Warnings = append(c.Warnings, capture.Warning{Message: err.Error()})
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range hops {
		oneInterface(hops[i].Capture, cfg.Hops[i].Capture.Interface)
		if cfg.Hops[i].Bridge != "" && i > 0 {
			bridgeHop(&hops[i], &hops[i-1])
		}
	}
	return hops, errors.Join(errs...)
}

// oneInterface keeps, of a capture of several interfaces (a router's, whose connections it holds
// once per interface: capture.Session.Interface), the connections captured on the interface
// hops.yaml names for the hop (interface: f0), so that the hop is that interface alone instead of
// its views compared as NAME.in and NAME.out. A name no connection was captured on (or "any")
// narrows nothing: the field also tells plan where to capture, and a capture of all interfaces
// is more than one that left the others out; a warning says so. A view is named by its pcapng
// interface name or, for a Linux cooked SLL2 capture, "ifindex N"; either part matches.
func oneInterface(c *capture.Capture, want string) {
	if c == nil || want == "" || want == "any" {
		return
	}
	var kept []*capture.Session
	names := map[string]bool{}
	for _, s := range c.Sessions {
		n := s.Interface()
		if n == "" {
			return // one view: nothing to choose
		}
		names[n] = true
		if n == want || strings.HasPrefix(n, want+" ") || strings.HasSuffix(n, " "+want) {
			kept = append(kept, s)
		}
	}
	if len(names) == 0 {
		return
	}
	list := slices.Sorted(maps.Keys(names))
	if len(kept) == 0 {
		c.Warnings = append(c.Warnings, capture.Warning{Message: fmt.Sprintf("hops.yaml gives interface %s, on which no connection was captured: every interface of the capture (%s) is compared", want, strings.Join(list, ", "))})
		return
	}
	c.Warnings = append(c.Warnings, capture.Warning{Message: fmt.Sprintf("only the connections captured on %s (hops.yaml's interface) are compared: %d of %d, the capture holding %s", want, len(kept), len(c.Sessions), strings.Join(list, ", "))})
	c.Sessions = kept
}

// hopOptions are the options hop i of cfg is read with: opts, with the hop's key log and narrowing.
// The hop before a bridge is read in full whatever opts say: the bridge looks for its messages'
// previews in the bridged stream.
func hopOptions(cfg *hopsconfig.Config, i int, opts capture.Options) capture.Options {
	hc := cfg.Hops[i]
	o := opts
	if hc.Keylog != "" {
		o.KeylogFiles = append(append([]string(nil), opts.KeylogFiles...), hc.Keylog)
	}
	o.Server, o.Port, o.Bridge = hc.Server, hc.Port, hc.Bridge != ""
	o.TunnelPorts = encap.Ports{VXLAN: hc.VXLANPorts, Geneve: hc.GenevePorts}
	if i+1 < len(cfg.Hops) && cfg.Hops[i+1].Bridge != "" {
		o.Compact = false
	}
	return o
}

// ReadEvidence is the second read of a comparison of Compact captures (see Analysis): for each
// hop of cfg with messages wanted (Analysis.Wanted), capture.ReadEvidence reads its files again,
// concurrently, with the options ReadHops used, and keeps only those messages. A hop that cannot
// be read again makes the error name it; the others' evidence is returned all the same.
func ReadEvidence(ctx context.Context, cfg *hopsconfig.Config, opts capture.Options, wants [][]capture.Want) ([]map[capture.Want]*capture.Message, error) {
	out := make([]map[capture.Want]*capture.Message, len(cfg.Hops))
	errs := make([]error, len(cfg.Hops))
	var wg sync.WaitGroup
	reads := 0
	for i := range cfg.Hops {
		if i < len(wants) && len(wants[i]) > 0 {
			reads++
		}
	}
	for i, hc := range cfg.Hops {
		if i >= len(wants) || len(wants[i]) == 0 {
			continue
		}
		o := hopOptions(cfg, i, opts)
		o.Serial = o.Serial || reads >= runtime.GOMAXPROCS(0) // as in ReadHopsContext
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := capture.ReadEvidence(ctx, hc.Files, o, wants[i])
			out[i] = ev
			if err != nil {
				errs[i] = fmt.Errorf("hop %s: reading the evidence again: %w", hc.Name, err)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

// ErrSameCapture is wrapped by the error of CheckFiles when two hops were given the same capture.
var ErrSameCapture = errors.New("the same capture is given for two hops")

// CheckFiles refuses a configuration that gives the same capture to two hops, also through other
// paths or as a copy: compared with itself, a capture proves every message delivered. Files of
// equal size are compared by SHA-256 of their first and last 64 KiB, then, when those agree, of
// their whole contents, so only likely copies are read in full.
func CheckFiles(cfg *hopsconfig.Config) error {
	bySize := map[int64][]hopFile{}
	var sizes []int64
	for _, h := range cfg.Hops {
		for _, p := range h.Files {
			fi, err := os.Stat(p)
			if err != nil {
				continue // ReadHops reports it
			}
			if bySize[fi.Size()] == nil {
				sizes = append(sizes, fi.Size())
			}
			bySize[fi.Size()] = append(bySize[fi.Size()], hopFile{h.Name, p, fi.Size()})
		}
	}
	slices.Sort(sizes)
	for _, sz := range sizes {
		// Captures of the same traffic at two hops often have the same size (a clock-shifted
		// copy, a tap and a span port) but differ in their first packets' times.
		for _, ends := range sameSum(bySize[sz], endsSum) {
			for _, g := range sameSum(ends.files, fileSum) {
				fs := g.files
				return fmt.Errorf("%w: hop %s's %s and hop %s's %s have the same contents (SHA-256 %x); each hop needs the capture taken at that hop",
					ErrSameCapture, fs[0].hop, fs[0].path, fs[1].hop, fs[1].path, g.sum[:8])
			}
		}
	}
	return nil
}

// hopFile is a capture file of a hop.
type hopFile struct {
	hop, path string
	size      int64
}

// sumGroup is files whose sum agrees.
type sumGroup struct {
	sum   [sha256.Size]byte
	files []hopFile
}

// sameSum groups the files whose sum agrees, in their order, and returns the groups whose files
// belong to more than one hop, with a file of another hop than the first second; files that
// cannot be read are left out.
func sameSum(fs []hopFile, sum func(string) ([sha256.Size]byte, error)) []sumGroup {
	if len(fs) < 2 {
		return nil
	}
	var (
		keys   [][sha256.Size]byte
		groups = map[[sha256.Size]byte][]hopFile{}
	)
	for _, f := range fs {
		k, err := sum(f.path)
		if err != nil {
			continue
		}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	var out []sumGroup
	for _, k := range keys {
		g := groups[k]
		for i := 1; i < len(g); i++ {
			if g[i].hop != g[0].hop {
				g[1], g[i] = g[i], g[1]
				out = append(out, sumGroup{k, g})
				break
			}
		}
	}
	return out
}

// endsSum is the SHA-256 of a file's first and last 64 KiB.
func endsSum(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return sum, err
	}
	const end = 64 << 10
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, end)); err != nil {
		return sum, err
	}
	if st.Size() > end {
		if _, err := io.Copy(h, io.NewSectionReader(f, max(st.Size()-end, end), end)); err != nil {
			return sum, err
		}
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func fileSum(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
