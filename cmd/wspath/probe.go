package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wspath/wspath/probe"
)

func probeCommand() *cli.Command {
	return &cli.Command{
		Name:      "probe",
		Usage:     "send numbered WebSocket messages through the path and report which came back",
		ArgsUsage: "ws://HOST/PATH | wss://HOST/PATH",
		Description: "Connects over HTTP/1.1, sends --count messages (\"wspath-probe #N run=ID ...\"), text and binary\n" +
			"in turn, with sizes in all three WebSocket length encodings, and reads the server's replies (an\n" +
			"echo server returns each). Captures taken meanwhile show the probes; 'wspath compare' names the\n" +
			"probe numbers that went missing and where. --keylog writes the TLS secrets (NSS key log format)\n" +
			"so a wss:// capture can be decrypted (name the file as the hop's keylog in hops.yaml).\n\n" +
			"Exit status: 0 every probe came back, 1 some did not, 2 error.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "count", Aliases: []string{"n"}, Value: 20, Usage: "probe messages to send"},
			&cli.DurationFlag{Name: "interval", Aliases: []string{"i"}, Value: 200 * time.Millisecond, Usage: "time between sends"},
			&cli.StringFlag{Name: "sizes", Usage: "payload sizes used in turn, comma separated (default: 44,125,126,4000,65636: every length encoding)"},
			&cli.BoolFlag{Name: "text", Usage: "send text messages only"},
			&cli.BoolFlag{Name: "binary", Usage: "send binary messages only"},
			&cli.BoolFlag{Name: "deflate", Usage: "offer permessage-deflate"},
			&cli.DurationFlag{Name: "wait", Value: 3 * time.Second, Usage: "how long to wait for replies after the last send"},
			&cli.StringFlag{Name: "keylog", Usage: "append the TLS secrets to `FILE` (NSS key log format, like SSLKEYLOGFILE)"},
			&cli.StringFlag{Name: "cafile", Usage: "trust the CA certificates in PEM `FILE`"},
			&cli.BoolFlag{Name: "insecure", Aliases: []string{"k"}, Usage: "do not verify the server's certificate"},
			&cli.StringSliceFlag{Name: "header", Aliases: []string{"H"}, Usage: "extra request header `NAME: VALUE` (Origin, Authorization, ...)"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "output format: table|json"},
		},
		Action: runProbe,
	}
}

func runProbe(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("probe: want one ws:// or wss:// URL (usage: wspath probe wss://host/path [--count N] [--keylog FILE])")
	}
	o := probe.Options{URL: c.Args().First(), Count: c.Int("count"), Interval: c.Duration("interval"),
		Text: c.Bool("text"), Binary: c.Bool("binary"), Compress: c.Bool("deflate"), Wait: c.Duration("wait"),
		KeylogFile: c.String("keylog"), CAFile: c.String("cafile"), Insecure: c.Bool("insecure"), Header: http.Header{}}
	if s := c.String("sizes"); s != "" {
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 {
				return fmt.Errorf("--sizes %q: want sizes in bytes, comma separated", s)
			}
			o.Sizes = append(o.Sizes, n)
		}
	}
	for _, h := range c.StringSlice("header") {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("--header %q: want NAME: VALUE", h)
		}
		o.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if f := c.String("format"); f != "table" && f != "json" {
		return fmt.Errorf("unknown format %q (want table|json)", f)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := probe.Run(ctx, o)
	if res == nil {
		return err
	}
	if c.String("format") == "json" {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(probeJSON(res)); werr != nil {
			return werr
		}
	} else {
		writeProbeText(c.App.Writer, res)
	}
	if err != nil {
		return err
	}
	if len(res.Missing()) > 0 {
		return exitStatus(exitLoss)
	}
	return nil
}

func writeProbeText(w io.Writer, res *probe.Result) {
	missing := res.Missing()
	fmt.Fprintf(w, "probe %s (run %s): %d sent, %d came back", res.URL, res.Run, len(res.Probes), len(res.Probes)-len(missing))
	if res.Compressed {
		fmt.Fprint(w, ", permessage-deflate")
	}
	fmt.Fprintln(w)
	if len(missing) > 0 {
		var s []string
		for _, n := range missing {
			s = append(s, "#"+strconv.Itoa(n))
		}
		fmt.Fprintf(w, "did not come back: %s\n", strings.Join(s, ", "))
	}
	if res.Stuck != "" {
		fmt.Fprintf(w, "stuck: %s\n", res.Stuck)
	}
	if res.Closed != "" {
		fmt.Fprintf(w, "connection ended: %s\n", res.Closed)
	}
	if res.Other > 0 {
		fmt.Fprintf(w, "%d other message(s) received\n", res.Other)
	}
	fmt.Fprintf(w, "%-6s %-6s %8s  %-15s  %s\n", "probe", "type", "bytes", "sent (UTC)", "came back")
	for _, p := range res.Probes {
		typ := "text"
		if p.Binary {
			typ = "binary"
		}
		back := "no"
		switch {
		case p.Back && p.Intact:
			back = "after " + p.RTT.Round(time.Microsecond).String()
		case p.Back:
			back = "after " + p.RTT.Round(time.Microsecond).String() + ", changed"
		}
		fmt.Fprintf(w, "#%-5d %-6s %8d  %-15s  %s\n", p.N, typ, p.Size, p.Sent.UTC().Format("15:04:05.000000"), back)
	}
}

// probeJSON is the JSON form of a probe run (for scripts and the lab tests).
func probeJSON(res *probe.Result) any {
	type probeDoc struct {
		N      int     `json:"n"`
		Type   string  `json:"type"`
		Size   int     `json:"size"`
		Sent   string  `json:"sent"`
		Back   bool    `json:"back"`
		Intact bool    `json:"intact"`
		RTTms  float64 `json:"rtt_ms"`
	}
	doc := struct {
		URL        string     `json:"url"`
		Run        string     `json:"run"`
		Compressed bool       `json:"compressed"`
		Missing    []int      `json:"missing"`
		Closed     string     `json:"closed,omitempty"`
		Stuck      string     `json:"stuck,omitempty"`
		Other      int        `json:"other"`
		Probes     []probeDoc `json:"probes"`
	}{URL: res.URL, Run: res.Run, Compressed: res.Compressed, Missing: res.Missing(), Closed: res.Closed, Stuck: res.Stuck, Other: res.Other}
	if doc.Missing == nil {
		doc.Missing = []int{}
	}
	for _, p := range res.Probes {
		typ := "text"
		if p.Binary {
			typ = "binary"
		}
		doc.Probes = append(doc.Probes, probeDoc{N: p.N, Type: typ, Size: p.Size, Sent: p.Sent.UTC().Format(time.RFC3339Nano),
			Back: p.Back, Intact: p.Intact, RTTms: float64(p.RTT.Microseconds()) / 1000})
	}
	return doc
}
