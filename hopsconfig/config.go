package hopsconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalid is the sentinel every error from Load about the contents of hops.yaml wraps:
// callers test errors.Is(err, ErrInvalid) to tell a bad configuration from an unreadable file.
var ErrInvalid = errors.New("invalid hops configuration")

// Bounds on a hops.yaml file, so that no input can make Load use unbounded resources.
const (
	// MaxSize is the largest hops.yaml Load reads.
	MaxSize = 1 << 20
	// MaxHops is the largest number of hops a configuration may list.
	MaxHops = 64
	// MaxFilesPerHop bounds the capture files of one hop, after glob expansion.
	MaxFilesPerHop = 4096
	// MaxClockOffset bounds the magnitude of a hop's clock_offset.
	MaxClockOffset = 24 * time.Hour
)

// Error is an error at one place in a hops.yaml file. It unwraps to ErrInvalid and to the
// cause, when there is one (fs.ErrNotExist for a missing file, for example).
type Error struct {
	File  string // the configuration file as given to Load
	Line  int    // 1-based line, 0 when not about one line
	Field string // "hops[1].pcap", empty when not about one field
	Msg   string // what is wrong
	Err   error  // the cause, or nil
}

// Error formats the error as "file:line: field: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalid and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

// Config is a loaded hops.yaml: the hops of a WebSocket path in order, client side first.
type Config struct {
	File     string // the configuration file as given to Load
	Incident string // optional label for the report
	Hops     []Hop  // in path order, at least one
}

// Hop is one hop of a Config, with its paths resolved relative to the configuration file.
type Hop struct {
	Name  string   // unique, not empty
	Files []string // capture files, globs expanded, in the order listed (each glob sorted)
	// Keylog is the TLS key log file for this hop, or "".
	Keylog string
	// Server, when valid, narrows the hop to connections to this server address (port 0: any).
	Server netip.AddrPort
	// Port, when not 0, narrows the hop to connections to this server port.
	Port uint16
	// ClockOffset is the known offset of this hop's clock against the first hop's, or nil.
	ClockOffset *time.Duration
	// Bridge is "tcp" when this hop's capture holds the TCP side of a WebSocket-to-TCP bridge
	// (websockify, say): its connections to Port or Server are byte streams, aligned with the
	// messages of the hop before (bridge.go). "" for a WebSocket hop.
	Bridge string
	// VXLANPorts and GenevePorts are UDP ports on which this hop's capture carries VXLAN or
	// Geneve besides their standard ones (4789 and 8472; 6081): a VXLAN on 9999, say.
	VXLANPorts, GenevePorts []uint16
	// Dropped is the count of packets the capturing program said it dropped ("dropped: 1234",
	// from tcpdump's "1234 packets dropped by kernel"); 0 when not given.
	Dropped int64
	// Line is the line of the hop's entry in the configuration file.
	Line int

	// Where and how to capture, for `wspath plan`. Compare uses only Capture.Interface: a
	// capture of several interfaces (a router's, compared as views) is narrowed to that one.
	Capture Capture
}

// Capture says how to reach a hop to capture there. Empty fields are unknown: plan shows a
// marked placeholder for them.
type Capture struct {
	Host      string       // the machine that captures (an ssh destination), or ""
	Interface string       // the interface to capture on ("any" allowed), or ""
	Addresses []netip.Addr // addresses whose traffic the capture filter keeps
	// Stack names the program that ends TLS at this hop, for key log advice: haproxy, nginx,
	// node, go, curl, browser, java (Tomcat, Jetty, ...), python, envoy, other; "" when unknown.
	Stack string
	// Patterns are the pcap entries as written (globs unexpanded, relative to hops.yaml); Keylog
	// the keylog entry as written. Only LoadPlan sets them.
	Patterns []string
	Keylog   string
}

// LoadPlan reads hops.yaml before the captures are taken, for `wspath plan`: it checks
// the file as Load does but does not look for the capture and key log files; Files holds
// the pcap entries resolved against the file's directory, globs unexpanded.
func LoadPlan(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	p := &configParser{file: path, dir: filepath.Dir(path), plan: true}
	return p.parse(data)
}

// rawPatterns returns the pcap entries as written.
func rawPatterns(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, it := range n.Content {
		out = append(out, it.Value)
	}
	return out
}

// Load reads and checks a hops.yaml file. Capture and key log paths are taken relative to
// the file's directory, globs are expanded and every file named must exist. Errors about the
// contents are *Error values wrapping ErrInvalid; an unreadable file gives the os error.
func Load(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, data, filepath.Dir(path))
}

// readConfigFile reads hops.yaml, up to MaxSize.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hops configuration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("hops configuration %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is larger than %d bytes", MaxSize)}
	}
	return data, nil
}

// configParser walks the YAML node tree of one file.
type configParser struct {
	file string
	dir  string
	// plan: the captures are not taken yet, so files are not looked for (LoadPlan).
	plan bool
}

func (p *configParser) errf(n *yaml.Node, field, format string, args ...any) *Error {
	e := &Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseConfig parses data as the hops.yaml named file, resolving relative paths against dir.
func parseConfig(file string, data []byte, dir string) (*Config, error) {
	p := &configParser{file: file, dir: dir}
	return p.parse(data)
}

// document decodes data as one YAML document and returns its top-level mapping.
func (p *configParser) document(data []byte) (*yaml.Node, error) {
	file := p.file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errf(nil, "", "no hops")
		}
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: file, Line: line, Msg: m[2]}
		}
		return nil, &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errf(&extra, "", "more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, p.errf(root, "", "no hops")
		}
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "", "expected a mapping with incident and hops")
	}
	return root, nil
}

// parse parses data as p's hops.yaml.
func (p *configParser) parse(data []byte) (*Config, error) {
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	cfg := &Config{File: p.file}
	var hopsNode *yaml.Node
	err = p.eachField(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "incident":
			s, err := p.scalar(v, "incident")
			cfg.Incident = s
			return err
		case "hops":
			hopsNode = v
			return nil
		}
		return p.errf(k, key, "unknown field")
	})
	if err != nil {
		return nil, err
	}
	if hopsNode == nil {
		return nil, p.errf(root, "hops", "no hops")
	}
	if hopsNode.Kind != yaml.SequenceNode {
		if hopsNode.Kind == yaml.ScalarNode && hopsNode.Tag == "!!null" {
			return nil, p.errf(hopsNode, "hops", "no hops")
		}
		return nil, p.errf(hopsNode, "hops", "expected a list of hops")
	}
	if len(hopsNode.Content) == 0 {
		return nil, p.errf(hopsNode, "hops", "no hops")
	}
	if len(hopsNode.Content) > MaxHops {
		return nil, p.errf(hopsNode, "hops", "%d hops, at most %d allowed", len(hopsNode.Content), MaxHops)
	}
	seen := map[string]int{}
	for i, hn := range hopsNode.Content {
		h, err := p.hop(hn, fmt.Sprintf("hops[%d]", i))
		if err != nil {
			return nil, err
		}
		if i == 0 && h.Bridge != "" {
			return nil, p.errf(hn, "hops[0].bridge", "the first hop cannot be a bridge: its streams are aligned with the messages of the hop before")
		}
		if line, dup := seen[h.Name]; dup {
			return nil, p.errf(hn, fmt.Sprintf("hops[%d].name", i), "duplicate hop name %q (first at line %d)", h.Name, line)
		}
		seen[h.Name] = h.Line
		cfg.Hops = append(cfg.Hops, h)
	}
	return cfg, nil
}

// eachField calls fn for every key of mapping n, rejecting aliases, non-string and duplicate keys.
func (p *configParser) eachField(n *yaml.Node, prefix string, fn func(key string, k, v *yaml.Node) error) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errf(k, prefix, "expected a field name")
		}
		field := k.Value
		if prefix != "" {
			field = prefix + "." + k.Value
		}
		if seen[k.Value] {
			return p.errf(k, field, "duplicate field")
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			return p.errf(v, field, "YAML aliases are not supported")
		}
		if err := fn(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// scalar returns the string value of a scalar node.
func (p *configParser) scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, field, "expected a single value")
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

// hopNodes are the entries of one hop that are checked against each other, or need all the
// others, once every field is read: the name may be missing, server and port exclude each
// other, and a bridge needs a port.
type hopNodes struct {
	name, pcap, server, port, bridge *yaml.Node
	serverText                       string
}

// hop reads one entry of hops: its fields one by one, then the checks across fields.
func (p *configParser) hop(n *yaml.Node, field string) (Hop, error) {
	h := Hop{Line: n.Line}
	if n.Kind == yaml.AliasNode {
		return h, p.errf(n, field, "YAML aliases are not supported")
	}
	if n.Kind != yaml.MappingNode {
		return h, p.errf(n, field, "expected a mapping with name and pcap")
	}
	var nodes hopNodes
	err := p.eachField(n, field, func(key string, k, v *yaml.Node) error {
		return p.hopField(&h, &nodes, key, k, v, field+"."+key)
	})
	if err != nil {
		return h, err
	}
	return h, p.finishHop(&h, &nodes, n, field)
}

// hopField reads the hop field key (named f in errors) into h, or keeps its node in nodes
// when it is checked with the others later.
func (p *configParser) hopField(h *Hop, nodes *hopNodes, key string, k, v *yaml.Node, f string) error {
	var err error
	switch key {
	case "name":
		var s string
		s, err = p.scalar(v, f)
		h.Name, nodes.name = strings.TrimSpace(s), v
	case "pcap":
		nodes.pcap = v
	case "keylog":
		err = p.keylog(h, v, f)
	case "server":
		nodes.serverText, err = p.scalar(v, f)
		nodes.server = v
	case "host", "interface", "stack":
		var s string
		s, err = p.scalar(v, f)
		switch key {
		case "host":
			h.Capture.Host = strings.TrimSpace(s)
		case "interface":
			h.Capture.Interface = strings.TrimSpace(s)
		default:
			h.Capture.Stack = strings.ToLower(strings.TrimSpace(s))
		}
	case "addresses":
		h.Capture.Addresses, err = p.addresses(v, f)
	case "port":
		if h.Port, err = p.port(v, f); err == nil {
			nodes.port = v
		}
	case "clock_offset":
		h.ClockOffset, err = p.clockOffset(v, f)
	case "bridge":
		if h.Bridge, err = p.bridge(v, f); err == nil {
			nodes.bridge = v
		}
	case "vxlan_port":
		h.VXLANPorts, err = p.ports(v, f)
	case "geneve_port":
		h.GenevePorts, err = p.ports(v, f)
	case "dropped":
		h.Dropped, err = p.dropped(v, f)
	default:
		err = p.errf(k, f, "unknown field")
	}
	return err
}

// finishHop runs the checks that need every field of hop n: a name, the capture files (looked
// for now, so a missing file is reported after any bad field), server or port, and a bridge's port.
func (p *configParser) finishHop(h *Hop, nodes *hopNodes, n *yaml.Node, field string) error {
	if h.Name == "" {
		at := nodes.name
		if at == nil {
			at = n
		}
		return p.errf(at, field+".name", "empty hop name")
	}
	if nodes.pcap == nil {
		return p.errf(n, field+".pcap", "no capture file")
	}
	if p.plan {
		h.Capture.Patterns = rawPatterns(nodes.pcap)
	}
	var err error
	if h.Files, err = p.pcaps(nodes.pcap, field+".pcap"); err != nil {
		return err
	}
	if nodes.server != nil && nodes.serverText != "" {
		if nodes.port != nil {
			return p.errf(nodes.port, field+".port", "give server or port, not both")
		}
		if h.Server, err = p.server(nodes.server, field+".server", nodes.serverText); err != nil {
			return err
		}
	}
	for _, port := range h.VXLANPorts {
		if slices.Contains(h.GenevePorts, port) {
			return p.errf(n, field+".geneve_port", "port %d is named for VXLAN and Geneve: a port carries one of them", port)
		}
	}
	if nodes.bridge != nil && h.Port == 0 && h.Server.Port() == 0 {
		return p.errf(nodes.bridge, field+".bridge", "a bridge hop needs port (or server with a port): the TCP server behind the bridge")
	}
	return nil
}

// keylog reads a hop's keylog field: the file must exist, except for a plan, which keeps the
// entry as written.
func (p *configParser) keylog(h *Hop, v *yaml.Node, f string) error {
	s, err := p.scalar(v, f)
	if err != nil || s == "" {
		return err
	}
	if p.plan {
		h.Capture.Keylog = s
		return nil
	}
	h.Keylog, err = p.existing(v, f, s)
	return err
}

// port reads a server port, 1 to 65535.
func (p *configParser) port(v *yaml.Node, f string) (uint16, error) {
	s, err := p.scalar(v, f)
	if err != nil {
		return 0, err
	}
	port, perr := strconv.ParseUint(s, 10, 16)
	if perr != nil || port == 0 {
		return 0, p.errf(v, f, "bad port %q: want a number from 1 to 65535", s)
	}
	return uint16(port), nil
}

// server reads a server address: ip:port, [ipv6]:port, or an ip alone (port 0: any).
func (p *configParser) server(v *yaml.Node, f, s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, p.errf(v, f, "bad address %q: want ip:port, [ipv6]:port or an ip", s)
	}
	return netip.AddrPortFrom(a, 0), nil
}

// clockOffset reads a Go duration, at most MaxClockOffset either way.
func (p *configParser) clockOffset(v *yaml.Node, f string) (*time.Duration, error) {
	s, err := p.scalar(v, f)
	if err != nil {
		return nil, err
	}
	d, derr := time.ParseDuration(s)
	if derr != nil {
		return nil, p.errf(v, f, "bad duration %q: want a number with a unit, like -1.5s or 200ms", s)
	}
	if d > MaxClockOffset || d < -MaxClockOffset {
		return nil, p.errf(v, f, "clock offset %s is larger than %s", d, MaxClockOffset)
	}
	return &d, nil
}

// bridge reads the bridge field; "tcp" is the one kind of bridge.
func (p *configParser) bridge(v *yaml.Node, f string) (string, error) {
	s, err := p.scalar(v, f)
	if err != nil {
		return "", err
	}
	if s != "tcp" {
		return "", p.errf(v, f, "bad bridge %q: want tcp (the hop's capture holds the TCP side of a WebSocket-to-TCP bridge)", s)
	}
	return s, nil
}

// dropped reads the count of packets the capturing program dropped, commas allowed.
func (p *configParser) dropped(v *yaml.Node, f string) (int64, error) {
	s, err := p.scalar(v, f)
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if perr != nil || n < 0 {
		return 0, p.errf(v, f, "bad packet count %q: want the number tcpdump printed as \"N packets dropped by kernel\"", s)
	}
	return n, nil
}

// addresses reads a list of IP addresses (or one).
func (p *configParser) addresses(n *yaml.Node, field string) ([]netip.Addr, error) {
	return eachItem(n, field, func(it *yaml.Node, f string) (netip.Addr, error) {
		s, err := p.scalar(it, f)
		if err != nil {
			return netip.Addr{}, err
		}
		a, aerr := netip.ParseAddr(strings.TrimSpace(s))
		if aerr != nil {
			return netip.Addr{}, p.errf(it, f, "bad address %q: want an IPv4 or IPv6 address", s)
		}
		return a, nil
	})
}

// ports reads UDP ports that carry a tunnel (vxlan_port, geneve_port): one port or a list.
func (p *configParser) ports(n *yaml.Node, field string) ([]uint16, error) {
	return eachItem(n, field, p.port)
}

// eachItem reads n, one value or a list of them, with read, which is given each item and the
// name errors give it: field, or field[i] for a list's item i.
func eachItem[T any](n *yaml.Node, field string, read func(it *yaml.Node, f string) (T, error)) ([]T, error) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []T
	for i, it := range items {
		v, err := read(it, itemField(n, field, i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// itemField is the name errors give item i of n: field, or field[i] when n is a list.
func itemField(n *yaml.Node, field string, i int) string {
	if n.Kind == yaml.SequenceNode {
		return fmt.Sprintf("%s[%d]", field, i)
	}
	return field
}

// pcaps resolves the pcap field: one file or glob, or a list of them.
func (p *configParser) pcaps(n *yaml.Node, field string) ([]string, error) {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
		if len(items) == 0 {
			return nil, p.errf(n, field, "no capture file")
		}
	default:
		return nil, p.errf(n, field, "expected a file, a glob or a list of them")
	}
	var files []string
	seen := map[string]bool{}
	for i, it := range items {
		f := itemField(n, field, i)
		if it.Kind != yaml.ScalarNode {
			return nil, p.errf(it, f, "expected a file name or glob")
		}
		s, _ := p.scalar(it, f)
		if s == "" {
			return nil, p.errf(it, f, "empty file name")
		}
		if p.plan {
			files = append(files, p.resolve(s))
			continue
		}
		var got []string
		if strings.ContainsAny(s, "*?[") {
			matches, err := filepath.Glob(p.resolve(s))
			if err != nil {
				return nil, p.errf(it, f, "bad glob %q", s)
			}
			var regular []string
			for _, m := range matches {
				if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
					regular = append(regular, m)
				}
			}
			if len(regular) == 0 {
				return nil, p.errf(it, f, "glob %q matches no file", s)
			}
			sort.Strings(regular)
			got = regular
		} else {
			path, err := p.existing(it, f, s)
			if err != nil {
				return nil, err
			}
			got = []string{path}
		}
		for _, g := range got {
			if !seen[g] {
				seen[g] = true
				files = append(files, g)
			}
		}
		if len(files) > MaxFilesPerHop {
			return nil, p.errf(it, f, "more than %d capture files", MaxFilesPerHop)
		}
	}
	return files, nil
}

// resolve makes a path from the configuration relative to the configuration's directory.
func (p *configParser) resolve(s string) string {
	if filepath.IsAbs(s) {
		return filepath.Clean(s)
	}
	return filepath.Join(p.dir, s)
}

// existing resolves s and checks that it names a regular file.
func (p *configParser) existing(n *yaml.Node, field, s string) (string, error) {
	path := p.resolve(s)
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e := p.errf(n, field, "file %s does not exist", path)
		e.Err = fs.ErrNotExist
		return "", e
	case err != nil:
		e := p.errf(n, field, "file %s: %v", path, errors.Unwrap(err))
		e.Err = err
		return "", e
	case !st.Mode().IsRegular():
		return "", p.errf(n, field, "%s is not a regular file", path)
	}
	return path, nil
}

// Quick makes the hops of `wspath compare a.pcap b.pcap ...` without a hops.yaml: one hop per
// file, in the order given, named after the file without its directory and extensions (a second
// file of the same name gets "-2", ...). Every file must exist.
func Quick(files []string) (*Config, error) {
	if len(files) > MaxHops {
		return nil, fmt.Errorf("%d captures, at most %d hops allowed", len(files), MaxHops)
	}
	cfg := &Config{}
	used := map[string]bool{}
	for i, f := range files {
		st, err := os.Stat(f)
		switch {
		case err != nil:
			return nil, fmt.Errorf("hop %d: %w", i+1, err)
		case !st.Mode().IsRegular():
			return nil, fmt.Errorf("hop %d: %s is not a regular file", i+1, f)
		}
		name := filepath.Base(f)
		for _, ext := range []string{".gz", ".pcapng", ".pcap", ".cap"} {
			name = strings.TrimSuffix(name, ext)
		}
		if name == "" {
			name = "hop" + strconv.Itoa(i+1)
		}
		unique := name
		for n := 2; used[unique]; n++ {
			unique = name + "-" + strconv.Itoa(n)
		}
		used[unique] = true
		cfg.Hops = append(cfg.Hops, Hop{Name: unique, Files: []string{filepath.Clean(f)}})
	}
	return cfg, nil
}
