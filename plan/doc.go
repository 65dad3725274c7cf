// Package plan turns a hops.yaml into the commands that take its captures: for each hop, the
// tcpdump command line (interface, a capture filter from the hop's addresses and ports, full
// packets, nanosecond time stamps, a ring buffer writing the files hops.yaml names), where to run
// it, how to get the TLS key log for the program that ends TLS there, and how to check the clock.
//
// It reads a configuration loaded with hopsconfig.LoadPlan (before any capture exists) and
// writes text; it runs nothing.
//
//	cfg, _ := hopsconfig.LoadPlan("hops.yaml")
//	p := plan.New(cfg, plan.Options{})
//	p.Write(os.Stdout)
package plan
