package capture

// messageBlock is the number of messages per block of a messageList.
const messageBlock = 64

// maxFreeBlocks bounds the blocks a reader keeps for reuse.
const maxFreeBlocks = 1024

// messageList collects the messages of one direction in fixed-size blocks, so that a long
// connection never copies its messages to grow; take makes the one contiguous slice a Session
// holds. Blocks come from and go back to the reader's free list.
type messageList struct {
	blocks [][]Message // each of capacity messageBlock; all but the last are full
	n      int
}

// len returns the number of messages pushed.
func (l *messageList) len() int { return l.n }

// push appends a copy of m.
func (l *messageList) push(r *reader, m *Message) {
	k := len(l.blocks)
	if k == 0 || len(l.blocks[k-1]) == messageBlock {
		l.blocks = append(l.blocks, r.messageBlock())
		k++
	}
	l.blocks[k-1] = append(l.blocks[k-1], *m)
	l.n++
}

// take returns the messages in one slice of exactly their number (nil when there are none), each
// with Direction set to dir, and gives the blocks back to r. The list is empty afterwards.
func (l *messageList) take(r *reader, dir Direction) []Message {
	var out []Message
	if l.n > 0 {
		out = make([]Message, 0, l.n)
		for _, b := range l.blocks {
			out = append(out, b...)
		}
		for i := range out {
			out[i].Direction = dir
		}
	}
	l.release(r)
	return out
}

// release gives the blocks back to r, dropping the messages.
func (l *messageList) release(r *reader) {
	for _, b := range l.blocks {
		clear(b) // drop the previews' references before reuse
		if len(r.freeBlocks) < maxFreeBlocks {
			r.freeBlocks = append(r.freeBlocks, b[:0])
		}
	}
	l.blocks, l.n = nil, 0
}

// messageBlock returns an empty block of capacity messageBlock.
func (r *reader) messageBlock() []Message {
	if k := len(r.freeBlocks); k > 0 {
		b := r.freeBlocks[k-1]
		r.freeBlocks[k-1] = nil
		r.freeBlocks = r.freeBlocks[:k-1]
		return b
	}
	return make([]Message, 0, messageBlock)
}
