package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"
)

// hopsTemplate is what `wspath init` writes: a hops.yaml for a typical path, every field explained.
const hopsTemplate = `# hops.yaml: the hops of one WebSocket path, in order from the client to the server.
# 'wspath plan hops.yaml' prints the tcpdump command to run at each hop;
# 'wspath compare hops.yaml' compares the captures once they are taken.
# Paths are relative to this file. Edit the names, files and addresses to match your path.

incident: websocket messages lost   # optional: a label heading the report

hops:
  - name: client                    # a unique name for the capture point
    pcap: client.pcap*              # the capture file(s): a name, a glob or a list; plan's ring buffer writes client.pcap00, ...
    # host: laptop-17               # optional, for plan: where the capture runs
    # interface: eth0               # optional, for plan: the interface to capture on
    # addresses: [192.0.2.10]       # optional, for plan: addresses the capture filter keeps
    # stack: browser                # optional, for plan: what ends TLS here (haproxy, nginx, node, go, python, java, curl, browser)

  - name: lb
    pcap: lb-*.pcap                 # tcpdump -C/-W rotates into lb.pcap0, lb.pcap1, ...: a glob reads them as one
    # keylog: lb-keys.log           # TLS key log (SSLKEYLOGFILE / NSS format) when wss:// is decrypted here
    # port: 443                     # only connections to this server port (or server: ip:port, not both)
    # clock_offset: 0s              # this hop's clock minus the first hop's, when known (else estimated)
    # vxlan_port: 9999              # a mirror or overlay sending VXLAN to a UDP port not 4789/8472 (geneve_port: not 6081)

  - name: server
    pcap: server.pcap*
    # port: 8080
`

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a commented hops.yaml to start from",
		ArgsUsage: "[FILE]",
		Description: "Writes FILE (default hops.yaml; - for standard output) describing a client, a load balancer and\n" +
			"a server, with every optional field explained. An existing file is kept unless --force.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Usage: "overwrite an existing FILE"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError("init: want at most one FILE (usage: wspath init [FILE])")
			}
			path := "hops.yaml"
			if c.NArg() == 1 {
				path = c.Args().First()
			}
			if path == "-" {
				_, err := io.WriteString(c.App.Writer, hopsTemplate)
				return err
			}
			return writeNew(path, hopsTemplate, c.Bool("force"))
		},
	}
}

// writeNew writes content to path, refusing to replace an existing file unless force.
func writeNew(path, content string, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists (--force overwrites it)", path)
	}
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
