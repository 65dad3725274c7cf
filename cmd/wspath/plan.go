package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/wspath/wspath/hopsconfig"
	"github.com/wspath/wspath/plan"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "print the tcpdump command to run at each hop of hops.yaml, with TLS key log and clock advice",
		ArgsUsage: "hops.yaml",
		Description: "Reads hops.yaml before the captures exist. Besides pcap, port and server, a hop may say how to\n" +
			"reach it, for plan only (compare ignores these):\n\n" +
			"    host: fw1.example.net          # where the capture runs\n" +
			"    interface: eth1                # the interface (any is allowed, see the caveat it prints)\n" +
			"    addresses: [10.0.0.5]          # addresses the capture filter keeps\n" +
			"    stack: haproxy                 # what ends TLS here: haproxy, nginx, node, go, python, java, curl, browser\n\n" +
			"What hops.yaml does not say is shown as a placeholder (<INTERFACE>, <PORT>, <HOST>) to replace.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "ring-size", Value: 100, Usage: "size in MB of each ring buffer file (tcpdump -C)"},
			&cli.IntFlag{Name: "ring-files", Value: 20, Usage: "files in the ring buffer (tcpdump -W)"},
			&cli.IntFlag{Name: "rotate", Value: 300, Usage: "seconds per file when hops.yaml names files by time (tcpdump -G)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the plan to `FILE`; - is standard output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("plan: want one hops.yaml (usage: wspath plan hops.yaml; wspath init writes one)")
			}
			cfg, err := hopsconfig.LoadPlan(c.Args().First())
			if err != nil {
				return err
			}
			p := plan.New(cfg, plan.Options{RingFileMB: c.Int("ring-size"), RingFiles: c.Int("ring-files"), Rotate: c.Int("rotate")})
			return emit(c, func(w io.Writer) error { return p.Write(w) })
		},
	}
}
