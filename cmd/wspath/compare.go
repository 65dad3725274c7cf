package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/correlate"
	"github.com/wspath/wspath/report"
)

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "match WebSocket connections across hops and report the first hop where frames disappear",
		ArgsUsage: "hops.yaml",
		Description: "hops.yaml lists the hops in path order, client side first, each with its capture file(s)\n" +
			"and optionally a TLS key log (see README). Exit status: 0 all delivered, 1 frames disappear,\n" +
			"2 error, 3 inconclusive (capture gaps or undecided verdicts only).",
		Flags:  outputFlags(),
		Action: compare,
	}
}

func compare(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("compare: want one hops.yaml (usage: wspath compare hops.yaml [-f table|markdown|json] [-o FILE])")
	}
	format, err := report.ParseFormat(c.String("format"))
	if err != nil {
		return err
	}
	cfg, err := correlate.LoadConfig(c.Args().First())
	if err != nil {
		return err
	}
	opts := capture.Options{}
	if c.Bool("no-payload") {
		opts.PreviewSize = -1
	}
	hops, readErr := correlate.ReadHops(cfg, opts)
	res := correlate.Compare(hops, correlate.Options{Incident: cfg.Incident})
	ro := report.Options{NoPayload: c.Bool("no-payload")}
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
