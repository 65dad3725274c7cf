package capture

// messageBlock is the largest number of messages per block of a messageList. Blocks start at one
// message and double up to it, so that a direction with few messages holds no more than append
// would give it.
const messageBlock = 64

// maxFreeBlocks bounds the blocks a reader keeps for reuse.
const maxFreeBlocks = 1024

// messageList collects the messages of one direction in blocks, so that a long connection never
// copies its messages to grow; take makes the one contiguous slice a Session holds. Full-size
// blocks come from and go back to the reader's free list.
type messageList struct {
	blocks [][]Message // all but the last are full
	n      int
}

// push appends a copy of m.
func (l *messageList) push(r *reader, m *Message) {
	k := len(l.blocks)
	if k == 0 || len(l.blocks[k-1]) == cap(l.blocks[k-1]) {
		size := 1
		if k > 0 {
			size = min(2*cap(l.blocks[k-1]), messageBlock)
		}
		l.blocks = append(l.blocks, r.messageBlock(size))
		k++
	}
	l.blocks[k-1] = append(l.blocks[k-1], *m)
	l.n++
}

// take returns the messages in one slice of exactly their number (nil when there are none), each
// with Direction set to dir, and gives the blocks back to r. The list is empty afterwards.
func (l *messageList) take(r *reader, dir Direction) []Message {
	var out []Message
	switch len(l.blocks) {
	case 0:
	case 1:
		out = l.blocks[0] // the first block, of one message, is the exact slice
		l.blocks = nil
	default:
		out = make([]Message, 0, l.n)
		for _, b := range l.blocks {
			out = append(out, b...)
		}
	}
	for i := range out {
		out[i].Direction = dir
	}
	l.release(r)
	return out
}

// release gives the full-size blocks back to r, dropping the messages.
func (l *messageList) release(r *reader) {
	for _, b := range l.blocks {
		if cap(b) == messageBlock && len(r.freeBlocks) < maxFreeBlocks {
			clear(b) // drop the previews' references before reuse
			r.freeBlocks = append(r.freeBlocks, b[:0])
		}
	}
	l.blocks, l.n = nil, 0
}

// messageBlock returns an empty block of capacity size.
func (r *reader) messageBlock(size int) []Message {
	if k := len(r.freeBlocks); k > 0 && size == messageBlock {
		b := r.freeBlocks[k-1]
		r.freeBlocks[k-1] = nil
		r.freeBlocks = r.freeBlocks[:k-1]
		return b
	}
	return make([]Message, 0, size)
}
