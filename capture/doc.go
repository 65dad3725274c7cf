// Package capture turns the capture files of one hop into WebSocket sessions.
//
// It is the first stage of wspath's pipeline:
//
//	bytes -> packets (pcapfile) -> TCP segments (tcpdecode; tunnels and IP fragments: encap)
//	      -> reassembled streams (tcpstream)
//	      -> [TLS records, decrypted with a key log (tlsdecrypt)] -> HTTP Upgrade (handshake)
//	         or HTTP/2 streams with extended CONNECT (h2demux: one Session per stream)
//	      -> WebSocket frames and messages (wsframe) -> Session
//
// The stages pass along, with the bytes, the position of the packet that carried them
// (packet.Meta: time, file, number) and speak of directions as packet.Direction, so a message,
// gap or error anywhere can name the packet to open in Wireshark.
//
// Read is the entry point: it reads every file of a hop as one time-ordered capture and returns a
// Capture holding one Session per WebSocket connection found. A Session keeps, per direction, the
// ordered messages with a SHA-256 digest of each payload (unmasked and decompressed) and a bounded
// preview, never the payload itself, so memory does not grow with the volume of healthy traffic.
//
//	c, err := capture.Read([]string{"lb-1.pcap", "lb-2.pcap"}, capture.Options{})
//	if err != nil { ... }              // a file could not be opened or is not a capture;
//	                                   // c, when not nil, still holds what the other files gave
//	for _, s := range c.Sessions {
//		fmt.Println(s.Client, s.Server, s.Path(), s.Key(), len(s.Messages[capture.ClientToServer]))
//	}
//
// Stats, FileInfo.Stats and the Unused lists say what became of every packet, per file: TCP used,
// or not used and why (not TCP, an unknown tunnel or link type, fragments never reassembled); a file
// whose packets are mostly unusable gets a Warning.
//
// A host that forwards a connection (a router, a firewall), captured on several interfaces at once
// (pcapng with an interface per capture point, or Linux cooked SLL2 from tcpdump -i any), holds
// each of its segments twice: each interface's copy is a view, reassembled as a connection of its
// own, and Session.Interface names it, so that correlate can compare the views as two hops. A
// Linux cooked v1 capture records no interface: Session.Forwarded says when the packet types show
// the host forwarded the connection anyway.
//
// Problems that affect only part of a capture (a truncated last packet, a TCP gap, an invalid frame)
// do not make Read fail: they are recorded as Warnings on the Capture or Problems on the Session they
// concern, next to what could still be read.
package capture
