package capture

import (
	"context"
	"sort"
)

// Want names a message whose full Message a report needs, as a Compact read gave it: its
// session's ID, its direction and index, and the packet its first frame header came in
// (Entry.Packet).
type Want struct {
	Session   int
	Direction Direction
	Index     int
	Packet    PacketRef
}

// ReadEvidence is the second, targeted read of a hop's files after a Compact read: it reads
// them again with the same options and keeps only the messages wanted, in full (preview, full
// digests, last packet, close reason). Nothing else is kept, so it needs no more memory than
// counting. It returns the Message of each Want found; one not found (the files changed since)
// is absent from the map. The error is Read's when nothing could be read; a file that could not
// be read among others is no error here, as the first read reported it.
func ReadEvidence(ctx context.Context, paths []string, opts Options, wants []Want) (map[Want]*Message, error) {
	out := map[Want]*Message{}
	if len(wants) == 0 {
		return out, nil
	}
	opts.Compact, opts.CountOnly, opts.Progress = false, false, nil
	opts.evidence = map[PacketRef]bool{}
	for _, w := range wants {
		opts.evidence[w.Packet] = true
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
		ms := s.Messages(w.Direction)
		k := sort.Search(len(ms), func(i int) bool { return ms[i].Index >= w.Index })
		if k < len(ms) && ms[k].Index == w.Index && ms[k].Packet == w.Packet {
			out[w] = &ms[k]
		}
	}
	return out, nil
}
