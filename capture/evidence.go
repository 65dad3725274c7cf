package capture

import (
	"context"
	"net/netip"
	"sort"
)

// Want names a message whose full Message a report needs, as a Compact read gave it: its
// session's ID and endpoints, its direction and its index there.
type Want struct {
	Session        int
	Client, Server netip.AddrPort
	Direction      Direction
	Index          int
}

// evidenceKey is what a read finds a wanted message by before its session has an ID: who sent
// it to whom, and its index in that direction. Connections that share the endpoints (a port
// reused, HTTP/2 streams of one connection) may keep a few messages more, which ReadEvidence
// then tells apart by session.
type evidenceKey struct {
	from, to netip.AddrPort
	index    int
}

// key returns the evidenceKey of w.
func (w *Want) key() evidenceKey {
	if w.Direction == ClientToServer {
		return evidenceKey{w.Client, w.Server, w.Index}
	}
	return evidenceKey{w.Server, w.Client, w.Index}
}

// ReadEvidence is the second, targeted read of a hop's files after a Compact read: it reads
// them again with the same options and keeps only the messages wanted, in full (preview, full
// digests, packets, close reason). Nothing else is kept, so it needs no more memory than
// counting. It returns the Message of each Want found; one not found (the files changed since)
// is absent from the map. The error is Read's when nothing could be read; a file that could not
// be read among others is no error here, as the first read reported it.
func ReadEvidence(ctx context.Context, paths []string, opts Options, wants []Want) (map[Want]*Message, error) {
	out := map[Want]*Message{}
	if len(wants) == 0 {
		return out, nil
	}
	opts.Compact, opts.CountOnly, opts.Progress = false, false, nil
	opts.evidence = map[evidenceKey]bool{}
	for _, w := range wants {
		opts.evidence[w.key()] = true
	}
	c, err := ReadContext(ctx, paths, opts)
	if c == nil {
		return out, err
	}
	for _, w := range wants {
		if w.Session < 1 || w.Session > len(c.Sessions) || w.Direction > ServerToClient {
			continue
		}
		s := c.Sessions[w.Session-1]
		if s.Client != w.Client || s.Server != w.Server {
			continue // not the session the first read gave that ID: the files changed
		}
		ms := s.Messages(w.Direction)
		k := sort.Search(len(ms), func(i int) bool { return ms[i].Index >= w.Index })
		if k < len(ms) && ms[k].Index == w.Index {
			out[w] = &ms[k]
		}
	}
	return out, nil
}
