package tcpstream

import "net/netip"

// connKey identifies a connection whatever the direction of a segment: the lower endpoint first,
// the tunnel it travels in (Segment.Tunnel), so equal addresses in two overlays stay apart, and
// the interface it was captured on (Segment.Iface), so a router's two views stay apart.
// It has no padding and no pointers, so the map hashes it as plain memory. IPv4 addresses are kept
// in their IPv4-mapped IPv6 form (such addresses never appear in IPv6 headers on the wire).
type connKey struct {
	loAddr, hiAddr [16]byte
	loPort, hiPort uint16
	tunnel, iface  uint32
}

// makeKey returns the key of the connection carrying a segment from src to dst, and whether src is
// the key's lower endpoint.
func makeKey(src, dst netip.AddrPort, tunnel, iface uint32) (connKey, bool) {
	sa, da := src.Addr().As16(), dst.Addr().As16()
	sp, dp := src.Port(), dst.Port()
	srcLo := true
	if sa != da {
		for i := range sa {
			if sa[i] != da[i] {
				srcLo = sa[i] < da[i]
				break
			}
		}
	} else {
		srcLo = sp <= dp
	}
	if srcLo {
		return connKey{loAddr: sa, hiAddr: da, loPort: sp, hiPort: dp, tunnel: tunnel, iface: iface}, true
	}
	return connKey{loAddr: da, hiAddr: sa, loPort: dp, hiPort: sp, tunnel: tunnel, iface: iface}, false
}

// fifo is a queue on a slice, reusing its storage.
type fifo[T any] struct {
	items []T
	head  int
}

func (q *fifo[T]) len() int { return len(q.items) - q.head }

func (q *fifo[T]) front() *T { return &q.items[q.head] }

func (q *fifo[T]) pop() {
	var zero T
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	}
}

func (q *fifo[T]) push(x T) {
	if q.head >= 1024 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	q.items = append(q.items, x)
}
