package plan

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wspath/wspath/hopsconfig"
)

// Options tune the commands. The zero value means the defaults.
type Options struct {
	RingFileMB int // size of each ring buffer file, tcpdump -C; default 100
	RingFiles  int // files in the ring, tcpdump -W; default 20
	Rotate     int // seconds per file for strftime names (-G); default 300
}

func (o Options) withDefaults() Options {
	if o.RingFileMB <= 0 {
		o.RingFileMB = 100
	}
	if o.RingFiles <= 0 {
		o.RingFiles = 20
	}
	if o.Rotate <= 0 {
		o.Rotate = 300
	}
	return o
}

// Placeholders stand for what hops.yaml does not say; a command holding one cannot run as it is.
const (
	PlaceholderInterface = "<INTERFACE>"
	PlaceholderHost      = "<HOST>"
	PlaceholderPort      = "<PORT>"
)

// Hop is the plan for one capture point.
type Hop struct {
	Name    string
	Where   string   // "on HOST, interface IF", placeholders marked
	Command string   // the tcpdump command line, shell-quoted
	Notes   []string // caveats and advice for this hop, one sentence or short paragraph each
}

// Plan is the capture plan of a whole path.
type Plan struct {
	File  string // the hops.yaml it came from
	Hops  []Hop
	Notes []string // advice for every hop
}

// New makes the plan of cfg.
func New(cfg *hopsconfig.Config, opts Options) *Plan {
	o := opts.withDefaults()
	p := &Plan{File: cfg.File}
	for _, hc := range cfg.Hops {
		p.Hops = append(p.Hops, newHop(hc, o))
	}
	p.Notes = []string{
		"Start every capture before the traffic (or the probe), and stop each with Ctrl-C a few seconds after it is over " +
			"(tcpdump receives packets in blocks up to a second late, and Ctrl-C discards the block not yet received). " +
			"tcpdump then prints \"N packets dropped by kernel\": if N is not 0, write it in hops.yaml as that hop's dropped: N.",
		"Copy the files next to hops.yaml (the names above are the ones it points at), then run: wspath compare " + base(cfg.File),
		"To make traffic that stands out in the captures, run wspath probe wss://HOST/PATH --keylog keys.txt while they run " +
			"(against an echo endpoint); compare names the probe numbers that went missing.",
		"--time-stamp-precision nano needs tcpdump 4.6 or later on a kernel and NIC that give nanosecond time stamps; " +
			"if tcpdump refuses it, leave it out (microseconds still work).",
		"-Z root keeps tcpdump root so it can open the next ring file in a root-owned directory; to run it as the tcpdump " +
			"user instead, leave -Z root out and capture into a directory that user may write.",
		"Clocks: wspath estimates each hop's clock offset from the messages it matches, so NTP-synchronised hosts need " +
			"nothing more. Check each host with chronyc tracking (System time), timedatectl timesync-status or ntpq -p; " +
			"an offset you know can be given in hops.yaml as clock_offset.",
	}
	return p
}

func base(path string) string {
	if path == "" {
		return "hops.yaml"
	}
	return path
}

func newHop(hc hopsconfig.Hop, o Options) Hop {
	c := hc.Capture
	h := Hop{Name: hc.Name}
	iface, host := c.Interface, c.Host
	if iface == "" {
		iface = PlaceholderInterface
		h.Notes = append(h.Notes, "hops.yaml gives no interface for this hop: replace "+PlaceholderInterface+
			" (ip -br addr lists them), or set interface: in hops.yaml.")
	}
	if host == "" {
		host = PlaceholderHost
	}
	h.Where = fmt.Sprintf("on %s, interface %s", host, iface)
	if c.Host != "" {
		h.Where += " (ssh " + c.Host + ")"
	}
	args := []string{"sudo", "tcpdump", "-i", iface, "-s", "0", "--time-stamp-precision", "nano", "-n", "-B", "16384", "-Z", "root"}
	w, notes := output(hc, o)
	args = append(args, w...)
	h.Notes = append(h.Notes, notes...)
	filter, fnotes := captureFilter(hc)
	h.Notes = append(h.Notes, fnotes...)
	args = append(args, filter)
	h.Command = shellJoin(args)
	if iface == "any" {
		h.Notes = append(h.Notes, "-i any records Linux cooked (SLL2) headers, which wspath reads; but on a proxy it "+
			"captures both sides (client to proxy and proxy to upstream) as one hop. Narrow the hop with port: or server: "+
			"in hops.yaml, or capture each interface as its own hop.")
	}
	if c.Keylog != "" || c.Stack != "" {
		h.Notes = append(h.Notes, keylogAdvice(c.Stack, c.Keylog)...)
	}
	return h
}

// output returns tcpdump's file arguments for the hop's first pcap entry: a -C/-W ring buffer when
// the entry ends in '*' (tcpdump appends the file number there), -G rotation with strftime names
// when the '*' is inside, and otherwise a ring whose names hops.yaml must be told about.
func output(hc hopsconfig.Hop, o Options) ([]string, []string) {
	var notes []string
	pattern := hc.Name + ".pcap*"
	if len(hc.Capture.Patterns) > 0 {
		pattern = hc.Capture.Patterns[0]
	}
	if len(hc.Capture.Patterns) > 1 {
		notes = append(notes, fmt.Sprintf("hops.yaml lists %d pcap entries for this hop; the command writes the first, %s.", len(hc.Capture.Patterns), pattern))
	}
	ring := []string{"-C", strconv.Itoa(o.RingFileMB), "-W", strconv.Itoa(o.RingFiles)}
	star := strings.IndexAny(pattern, "*?[")
	switch {
	case star == len(pattern)-1 && pattern[star] == '*':
		prefix := pattern[:star]
		notes = append(notes, fmt.Sprintf("A ring of %d files of %d MB: tcpdump writes %s00, %s01, ... and overwrites the oldest, so the disk never holds more than %d MB; hops.yaml's %s reads them in order.",
			o.RingFiles, o.RingFileMB, prefix, prefix, o.RingFiles*o.RingFileMB, pattern))
		return append(ring, "-w", prefix), notes
	case star >= 0 && pattern[star] == '*' && !strings.ContainsAny(pattern[star+1:], "*?["):
		name := pattern[:star] + "%Y%m%d-%H%M%S" + pattern[star+1:]
		notes = append(notes, fmt.Sprintf("A new file every %d s named after its start time, which hops.yaml's %s matches. -G keeps no ring: remove old files yourself (say, find . -name '%s' -mmin +120 -delete), or set pcap: to NAME* for a -C/-W ring.",
			o.Rotate, pattern, filepath.Base(pattern)))
		return []string{"-G", strconv.Itoa(o.Rotate), "-w", name}, notes
	case star >= 0:
		notes = append(notes, fmt.Sprintf("hops.yaml's %s is a glob plan cannot turn into tcpdump file names: the command writes %s.pcap* instead; change pcap: to match.", pattern, hc.Name))
		return append(ring, "-w", hc.Name+".pcap"), notes
	}
	notes = append(notes, fmt.Sprintf("With a ring buffer tcpdump writes %s00, %s01, ...: change this hop's pcap: to %s* in hops.yaml (or leave out -C and -W for one unbounded file named %s).",
		pattern, pattern, pattern, pattern))
	return append(ring, "-w", pattern), notes
}

// captureFilter builds the BPF filter: TCP, the hop's addresses, and its server address and port.
func captureFilter(hc hopsconfig.Hop) (string, []string) {
	parts := []string{"tcp"}
	var notes []string
	if as := hc.Capture.Addresses; len(as) > 0 {
		var hosts []string
		for _, a := range as {
			hosts = append(hosts, "host "+a.String())
		}
		h := strings.Join(hosts, " or ")
		if len(hosts) > 1 {
			h = "(" + h + ")"
		}
		parts = append(parts, h)
	}
	port := hc.Port
	if hc.Server.IsValid() {
		parts = append(parts, "host "+hc.Server.Addr().String())
		if hc.Server.Port() != 0 {
			port = hc.Server.Port()
		}
	}
	switch {
	case port != 0:
		parts = append(parts, "port "+strconv.Itoa(int(port)))
	case len(hc.Capture.Addresses) == 0 && !hc.Server.IsValid():
		parts = append(parts, "port "+PlaceholderPort)
		notes = append(notes, "hops.yaml gives no port, server or addresses for this hop: replace "+PlaceholderPort+
			" with the WebSocket server's port at this hop (or set port:, server: or addresses: in hops.yaml).")
	}
	return strings.Join(parts, " and "), notes
}

// shellJoin quotes args for a POSIX shell where needed.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Write writes the plan as text: per hop where to run what, then the notes for every hop.
func (p *Plan) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Capture plan for %s: %d hop(s). Run each command where it says, all at the same time.\n", base(p.File), len(p.Hops))
	for _, h := range p.Hops {
		fmt.Fprintf(&b, "\n## hop %s: %s\n%s\n", h.Name, h.Where, h.Command)
		for _, n := range h.Notes {
			b.WriteString(wrapNote(n))
		}
	}
	b.WriteString("\n## every hop\n")
	for _, n := range p.Notes {
		b.WriteString(wrapNote(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrapNote writes a note as "# - ..." comment lines of at most 100 columns.
func wrapNote(n string) string {
	var b strings.Builder
	line := "# -"
	for _, word := range strings.Fields(n) {
		if len(line)+1+len(word) > 100 && line != "# -" {
			b.WriteString(line + "\n")
			line = "#  "
		}
		line += " " + word
	}
	return b.String() + line + "\n"
}
