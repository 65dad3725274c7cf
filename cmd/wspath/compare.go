package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/correlate"
	"github.com/wspath/wspath/hopsconfig"
	"github.com/wspath/wspath/report"
)

// hopsFormat is the hops.yaml format as compare --help shows it, so an installed binary explains
// itself without the README.
const hopsFormat = `hops.yaml lists the hops in path order, client side first:

  incident: checkout websocket drops   # optional, heads the report
  hops:
    - name: client                     # unique hop name
      pcap: client.pcap                # a file, a glob (lb-*.pcap) or a list; relative to hops.yaml
    - name: lb
      pcap: [lb-1.pcap, lb-2.pcap]     # rotated files of one capture are read as one
      keylog: lb-keys.log              # optional TLS key log (SSLKEYLOGFILE format) to decrypt wss://
      port: 8443                       # optional: only connections to this server port
      server: 10.0.0.7:8443            #   or only to this server (ip:port or ip); not both
      clock_offset: -1.5s              # optional: this hop's clock minus the first hop's, if known
      vxlan_port: 9999                 # optional: UDP port(s) carrying VXLAN besides 4789/8472
                                       #   (geneve_port: Geneve besides 6081); never guessed
    - name: server
      pcap: server.pcap

'wspath init' writes a commented hops.yaml to start from; 'wspath plan hops.yaml' prints the
tcpdump command to run at each hop.

Without a file, 'wspath compare client.pcap lb.pcap server.pcap' takes the captures as hops in
path order, named after the files.

Exit status: 0 all delivered at every hop; 1 messages lost, changed, or a connection closed in the
middle of the path (also with nothing in flight); 2 error, or input refused (hops out of order, one
hop, one capture given twice); 3 inconclusive (capture gaps, undecided verdicts, or a hop left out
of the comparison: its capture holds no WebSocket or is from another run).`

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:        "compare",
		Usage:       "match WebSocket connections across hops and report the first hop where frames disappear",
		ArgsUsage:   "hops.yaml | CAPTURE CAPTURE...",
		Description: hopsFormat,
		Flags: append(outputFlags(),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list connections that delivered everything too (by default they are counted)"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colours (also: NO_COLOR set, or output not a terminal)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress line on standard error while the captures are read"},
		),
		Action: compare,
	}
}

// compareGCPercent is the garbage collector's target while compare runs: the heap may grow 20%
// past what is live, not 100% (Go's default). On 4 hops of 960k messages 25% cut the peak RSS
// from 684 MB to 472 MB for 10% more CPU time; with the 40-byte entries, 20% instead of 25%
// gives 279-286 MB instead of 289-311 (3 runs each, load 8-11) for about 5% more CPU time.
const compareGCPercent = 20

func compare(c *cli.Context) error {
	format, err := report.ParseFormat(c.String("format"))
	if err != nil {
		return err
	}
	cfg, err := compareConfig(c.Args().Slice())
	if err != nil {
		return err
	}
	where := cfg.File
	if where == "" {
		where = "compare" // captures given on the command line
	}
	if err := correlate.CheckFiles(cfg); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	opts := capture.Options{}
	if c.Bool("no-payload") {
		opts.PreviewSize = -1
	}
	if !c.Bool("quiet") && stderrIsTerminal(c.App.ErrWriter) {
		bar := newProgressBar(c.App.ErrWriter)
		opts.Progress = bar.update
		defer bar.finish()
	}
	// Every hop's Entries only (40 bytes a message); the few messages the verdicts name are read
	// again in full for the report's evidence.
	opts.Compact = true
	// Entries hold no pointers, so a garbage collection costs little however many there are:
	// collecting more often keeps the peak memory near what is live (GOGC, when set, decides).
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(compareGCPercent))
	}
	hops, readErr := correlate.ReadHopsContext(c.Context, cfg, opts)
	if err := c.Context.Err(); err != nil {
		return err
	}
	// What the reads leave behind (file buffers, the message blocks copied into the sessions'
	// entries) is garbage now; given back to the system before comparing, it does not add to
	// what comparing needs at its peak (4 hops of 960k messages: about 15 MB less peak RSS).
	debug.FreeOSMemory()
	an := correlate.Analyze(hops, correlate.Options{Incident: cfg.Incident})
	hops = nil // the Analysis holds what it needs
	ev, evErr := correlate.ReadEvidence(c.Context, cfg, opts, an.Wanted())
	if err := c.Context.Err(); err != nil {
		return err
	}
	readErr = errors.Join(readErr, evErr)
	res := an.Result(ev)
	if len(res.Refused) > 0 {
		// No verdicts: they would be wrong. Say what to fix.
		return errors.Join(readErr, fmt.Errorf("%s: %s", where, strings.Join(res.Refused, "; ")))
	}
	out := c.String("output")
	tt := detectTerminal(c.App.Writer, out != "" && out != "-", c.Bool("no-color"))
	ro := report.Options{NoPayload: c.Bool("no-payload"), All: c.Bool("all"), Width: tt.width, Color: tt.color}
	if err := emit(c, func(w io.Writer) error { return report.Compare(w, format, res, ro) }); err != nil {
		return err
	}
	if readErr != nil {
		// The report shows what could be read; the run still failed.
		return readErr
	}
	if code := res.ExitCode(); code != exitOK {
		return exitStatus(code)
	}
	return nil
}

// compareConfig reads hops.yaml, or makes the hops of the quick form from captures given in order.
func compareConfig(args []string) (*hopsconfig.Config, error) {
	switch {
	case len(args) == 0:
		return nil, usageError("compare: want hops.yaml, or two or more captures in path order (usage: wspath compare hops.yaml [-f table|markdown|json] [-o FILE]; wspath init writes a hops.yaml)")
	case len(args) == 1:
		if isCapture(args[0]) {
			return nil, usageError(fmt.Sprintf("compare takes hops.yaml; for one capture use inspect (wspath inspect %s), or give every hop's capture in path order (wspath compare client.pcap lb.pcap server.pcap)", args[0]))
		}
		return hopsconfig.Load(args[0])
	}
	for _, a := range args {
		if strings.HasSuffix(a, ".yaml") || strings.HasSuffix(a, ".yml") {
			return nil, usageError(fmt.Sprintf("compare: %s: give one hops.yaml alone, or only captures", a))
		}
	}
	return hopsconfig.Quick(args)
}

// isCapture says whether path opens as a pcap or pcapng file (maybe gzipped).
func isCapture(path string) bool {
	r, err := pcapfile.Open(path)
	if err != nil {
		return false
	}
	r.Close()
	return true
}

// emit writes a report to --output (atomically; "-" is standard output) or to standard output.
// Writing stops once the command's context is done (Ctrl-C), and an --output file is then not
// left half written.
func emit(c *cli.Context, write func(io.Writer) error) error {
	ctx := c.Context
	guarded := func(w io.Writer) error { return write(ctxWriter{ctx, w}) }
	if out := c.String("output"); out != "" && out != "-" {
		return report.WriteFile(out, guarded)
	}
	return guarded(c.App.Writer)
}

// ctxWriter fails its writes once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (cw ctxWriter) Write(p []byte) (int, error) {
	if err := cw.ctx.Err(); err != nil {
		return 0, err
	}
	return cw.w.Write(p)
}
