package main

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/urfave/cli/v2"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/report"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "list the WebSocket connections (and with --messages, every message) in the captures of one hop",
		ArgsUsage: "FILE...",
		Description: "FILEs are pcap or pcapng captures, maybe gzipped, of one hop; several files (rotated\n" +
			"tcpdump -C/-G output) are read as one time-ordered capture.",
		Flags: append(outputFlags(),
			&cli.BoolFlag{Name: "messages", Aliases: []string{"m"}, Usage: "list every message of every connection"},
			&cli.StringSliceFlag{Name: "keylog", Usage: "TLS key log `FILE` (SSLKEYLOGFILE format) to decrypt wss:// traffic"},
			&cli.StringFlag{Name: "server", Usage: "keep only connections to this server `ADDR:PORT`"},
			&cli.UintFlag{Name: "port", Usage: "keep only connections to this server `PORT`"},
			&cli.UintSliceFlag{Name: "vxlan-port", Usage: "UDP `PORT` carrying VXLAN besides 4789 and 8472 (repeatable)"},
			&cli.UintSliceFlag{Name: "geneve-port", Usage: "UDP `PORT` carrying Geneve besides 6081 (repeatable)"},
			&cli.BoolFlag{Name: "digests", Usage: "write a digest file (-o FILE) for compare instead of a report: no payload bytes"},
		),
		Action: inspect,
	}
}

func inspect(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("inspect: no capture file given (usage: wspath inspect FILE...)")
	}
	format, err := report.ParseFormat(c.String("format"))
	if err != nil {
		return err
	}
	if format == report.HTML {
		return usageError("inspect: no html format (it is compare's); use table, markdown, jira or json")
	}
	opts := capture.Options{}
	if c.Bool("no-payload") {
		opts.PreviewSize = -1
	}
	opts.KeylogFiles = c.StringSlice("keylog")
	digests := c.Bool("digests")
	if digests {
		if c.String("output") == "" || c.String("output") == "-" {
			return fmt.Errorf("inspect --digests: give the digest file to write with -o FILE")
		}
		opts.PreviewSize = -1 // payload bytes never leave the host
	}
	opts.CountOnly = !c.Bool("messages") && !digests // the report then needs the counts only
	if s := c.String("server"); s != "" {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return fmt.Errorf("--server %q: want ADDR:PORT", s)
		}
		opts.Server = ap
	}
	if p := c.Uint("port"); p > 0 {
		if p > 65535 {
			return fmt.Errorf("--port %d: out of range", p)
		}
		opts.Port = uint16(p)
	}
	if opts.TunnelPorts.VXLAN, err = udpPorts(c, "vxlan-port"); err != nil {
		return err
	}
	if opts.TunnelPorts.Geneve, err = udpPorts(c, "geneve-port"); err != nil {
		return err
	}
	if digests {
		return reduce(c, opts)
	}
	capt, err := capture.ReadContext(c.Context, c.Args().Slice(), opts)
	if cerr := c.Context.Err(); cerr != nil {
		return cerr
	}
	if capt == nil {
		return err
	}
	ro := report.Options{Messages: c.Bool("messages"), NoPayload: c.Bool("no-payload")}
	werr := emit(c, func(w io.Writer) error { return report.Inspect(w, format, capt, ro) })
	if err != nil {
		// What could be read was reported; the error still makes the run fail.
		return err
	}
	return werr
}

// udpPorts reads a repeatable port flag.
func udpPorts(c *cli.Context, name string) ([]uint16, error) {
	var out []uint16
	for _, p := range c.UintSlice(name) {
		if p == 0 || p > 65535 {
			return nil, fmt.Errorf("--%s %d: want a port from 1 to 65535", name, p)
		}
		out = append(out, uint16(p))
	}
	return out, nil
}

// reduce writes the digest file of inspect --digests while the captures are read.
func reduce(c *cli.Context, opts capture.Options) error {
	var readErr error
	werr := emit(c, func(w io.Writer) error {
		capt, err := capture.ReduceContext(c.Context, c.Args().Slice(), opts, w)
		if capt == nil {
			return err // nothing could be read, or the write failed: no file
		}
		readErr = err
		return nil
	})
	if cerr := c.Context.Err(); cerr != nil {
		return cerr
	}
	if werr != nil {
		return werr
	}
	// What could be read was written; a file that could not be read still makes the run fail.
	return readErr
}
