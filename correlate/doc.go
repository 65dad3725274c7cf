// Package correlate follows WebSocket connections across the hops of a path and decides where
// messages disappeared.
//
// It is the stage after capture in wspath's pipeline:
//
//	hops.yaml -> hopsconfig.Load -> ReadHops (capture.Read per hop) -> Compare -> schema.Result -> report
//
// hopsconfig.Load reads hops.yaml: the hops in path order (client side first), each with its
// capture files, optional TLS key log, server narrowing and known clock offset. Compare takes one
// capture.Capture per hop and:
//
//   - matches connections across hops by Sec-WebSocket-Key (never by addresses, which NAT and
//     proxies change), falling back, when a key is missing or rewritten by a terminating proxy,
//     to time and the sequence of message digests (and TLS record shapes for hops without keys);
//   - aligns the data messages of each direction hop by hop by digest and order, duplicates in
//     order, never collapsed; across a hole in a hop's capture (packets it dropped), identical
//     messages are placed by their TCP stream offsets, and pairs nothing can place are marked
//     unsure (a loss among them is undecided);
//   - estimates each hop's clock offset (median of differences, both directions, unless given)
//     and the latency between adjacent hops;
//   - decides per connection and direction: delivered, lost, closed, modified (a message
//     reached a hop changed: both versions are located, see Change), capture_gap or undecided,
//     with the first hop missing a message, packet-level evidence and a sentence of reason;
//   - says per adjacent hop pair whether the component between passed bytes through, reframed
//     them or terminated the connection, and summarises the worst verdict.
//
// Usage:
//
//	cfg, err := hopsconfig.Load("hops.yaml")
//	if err != nil { ... }                      // errors.Is(err, hopsconfig.ErrInvalid)
//	hops, err := correlate.ReadHops(cfg, capture.Options{})   // capture.Read per hop, concurrently
//	if err != nil { ... }
//	res := correlate.Compare(hops, correlate.Options{Incident: cfg.Incident})
//	json.NewEncoder(os.Stdout).Encode(res)    // the wspath.compare/v1 contract (package schema)
//	os.Exit(res.ExitCode())
//
// A hop whose capture holds both sides of its proxy (tcpdump -i any on the proxy host), or the two
// interfaces of a host that forwards the connection (tcpdump -i any on a router, SLL2), is compared
// as two hops, NAME.in and NAME.out.
//
// Compare is a pure, deterministic function: it only reads the captures it is given, which the
// caller keeps owning, and the Result shares no memory with them. It is safe to call
// concurrently on captures nobody modifies.
package correlate
