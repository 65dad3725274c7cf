package correlate

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"time"

	"github.com/wspath/wspath/capture"
)

// base is the time every crafted capture is relative to.
func base() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) }

// ms is a time base()+n milliseconds.
func ms(n int) time.Time { return base().Add(time.Duration(n) * time.Millisecond) }

// connSpec describes one connection for simulate.
type connSpec struct {
	key      string             // Sec-WebSocket-Key; "" for none
	startMs  int                // handshake time at the client, ms after base
	c2s, s2c []string           // payloads, one message each
	everyMs  int                // interval between messages (0: 100ms)
	dropC2S  map[int]int        // message index -> first hop (path order) that does not see it
	dropS2C  map[int]int        // message index -> first hop in travel order (server side first) not seeing it
	frames   func(h int) int    // frames per message at hop h (nil: 1)
	keyAt    func(h int) string // key per hop, overriding key (nil: key)
}

// simOpts tune simulate.
type simOpts struct {
	hops    int
	skew    []time.Duration // per hop clock offset (hop clock minus first hop's)
	latency time.Duration   // one-way per hop (0: 1ms)
}

// simulate crafts the captures of a path of o.hops hops carrying conns.
func simulate(o simOpts, conns []connSpec) []*capture.Capture {
	if o.latency == 0 {
		o.latency = time.Millisecond
	}
	caps := make([]*capture.Capture, o.hops)
	for h := range caps {
		caps[h] = &capture.Capture{Files: []capture.FileInfo{{Name: fmt.Sprintf("hop%d.pcap", h)}}}
	}
	for ci, cs := range conns {
		every := cs.everyMs
		if every == 0 {
			every = 100
		}
		for h := 0; h < o.hops; h++ {
			var skew time.Duration
			if h < len(o.skew) {
				skew = o.skew[h]
			}
			fwd := time.Duration(h)*o.latency + skew           // client -> hop h
			back := time.Duration(o.hops-1-h)*o.latency + skew // server -> hop h
			start := ms(cs.startMs).Add(fwd)
			key := cs.key
			if cs.keyAt != nil {
				key = cs.keyAt(h)
			}
			s := &capture.Session{
				ID:     len(caps[h].Sessions) + 1,
				Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(h), 1}), uint16(40000+ci)),
				Server: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(h), 2}), 8080),
				Start:  start,
			}
			if key != "" {
				s.Request = &capture.Request{Method: "GET", Path: "/chat", Host: "chat.example", Key: key, Version: "13", Time: start,
					Packet: capture.PacketRef{File: caps[h].Files[0].Name, Number: 1}}
				s.Response = &capture.Response{Status: 101, Time: ms(cs.startMs).Add(time.Duration(2*(o.hops-1)-h) * o.latency).Add(skew)}
			} else {
				s.MidStream = true
			}
			frames := 1
			if cs.frames != nil {
				frames = cs.frames(h)
			}
			end := start
			for dir, payloads := range [][]string{cs.c2s, cs.s2c} {
				d := capture.Direction(dir)
				var off uint64
				for i, p := range payloads {
					if d == capture.ClientToServer {
						if dh, ok := cs.dropC2S[i]; ok && h >= dh {
							continue
						}
					} else if dh, ok := cs.dropS2C[i]; ok && o.hops-1-h >= dh {
						continue
					}
					var t time.Time
					if d == capture.ClientToServer {
						t = ms(cs.startMs + 10 + i*every).Add(fwd)
					} else {
						t = ms(cs.startMs + 10 + i*every + every/2).Add(back)
					}
					m := capture.Message{
						Index: len(s.Messages(d)), Direction: d, Opcode: capture.OpText,
						Length: int64(len(p)), WireLength: int64(len(p)), Digest: sha256.Sum256([]byte(p)),
						First: t, Last: t, Frames: frames, Offset: off, End: off + uint64(len(p)+6),
						Packet: capture.PacketRef{File: caps[h].Files[0].Name, Number: 10 + i}, LastPacket: capture.PacketRef{File: caps[h].Files[0].Name, Number: 10 + i},
					}
					off = m.End
					s.SetMessages(d, append(s.Messages(d), m))
					if t.After(end) {
						end = t
					}
				}
				s.TCP[d].Packets = len(s.Messages(d)) + 2
				s.TCP[d].Bytes = off
			}
			// Every sender acknowledges everything the other side sent.
			s.TCP[capture.ClientToServer].HighestAck = s.TCP[capture.ServerToClient].Bytes
			s.TCP[capture.ServerToClient].HighestAck = s.TCP[capture.ClientToServer].Bytes
			s.End = end.Add(time.Millisecond)
			caps[h].Sessions = append(caps[h].Sessions, s)
		}
	}
	for h, c := range caps {
		var skew time.Duration
		if h < len(o.skew) {
			skew = o.skew[h]
		}
		c.Start = base().Add(-time.Second).Add(skew)
		c.End = base().Add(time.Hour).Add(skew)
		c.Stats.Packets = 100 * len(c.Sessions)
	}
	return caps
}

// hopsOf names the captures hop0, hop1, ...
func hopsOf(caps []*capture.Capture) []Hop {
	hs := make([]Hop, len(caps))
	for i, c := range caps {
		hs[i] = Hop{Name: fmt.Sprintf("hop%d", i), Files: []string{fmt.Sprintf("hop%d.pcap", i)}, Capture: c}
	}
	return hs
}

// payloads returns n copies of the same payload.
func same(p string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = p
	}
	return out
}

// seq returns n distinct payloads with a prefix.
func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// keyN is a distinct fake Sec-WebSocket-Key.
func keyN(n int) string { return fmt.Sprintf("key%04d==", n) }
