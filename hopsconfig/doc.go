// Package hopsconfig reads hops.yaml, the description of a WebSocket path that wspath compares:
// the hops in path order (client side first), each with its capture files (or a digest file),
// optional TLS key log, server narrowing, known clock offset, drop count, bridge mode, UDP ports
// carrying tunnels (vxlan_port, geneve_port), and what `wspath plan` needs to say how to capture
// there (host, interface, addresses, stack).
//
// It sits before every other stage and imports none of them: correlate.ReadHops reads the
// captures a Config names, and plan turns one into capture commands.
//
//	cfg, err := hopsconfig.Load("hops.yaml")   // paths resolved against the file's directory
//	if errors.Is(err, hopsconfig.ErrInvalid) { // the file's contents: *Error names line and field
//		...
//	}
//
// Load checks that every file named exists (globs expanded); LoadPlan reads the same format
// before any capture exists; Quick makes a Config from captures given in path order.
package hopsconfig
