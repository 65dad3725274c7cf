package capture

// messageBlock is the largest number of messages per block of a blockList. Blocks start at one
// message and double up to it, so that a direction with few messages holds no more than append
// would give it.
const messageBlock = 64

// maxFreeBlocks bounds the blocks a reader keeps for reuse.
const maxFreeBlocks = 1024

// blockList collects the messages (or entries) of one direction in blocks, so that a long
// connection never copies them to grow; take makes the one contiguous slice a Session holds.
// Full-size blocks come from and go back to a free list of the reader.
type blockList[T any] struct {
	blocks [][]T // all but the last are full
	n      int
}

// messageList holds full Messages; entryList their Entries.
type (
	messageList = blockList[Message]
	entryList   = blockList[Entry]
)

// push appends a copy of m, taking a new block from free when the last is full.
func (l *blockList[T]) push(free *[][]T, m *T) {
	k := len(l.blocks)
	if k == 0 || len(l.blocks[k-1]) == cap(l.blocks[k-1]) {
		size := 1
		if k > 0 {
			size = min(2*cap(l.blocks[k-1]), messageBlock)
		}
		l.blocks = append(l.blocks, newBlock(free, size))
		k++
	}
	l.blocks[k-1] = append(l.blocks[k-1], *m)
	l.n++
}

// take returns the elements in one slice of exactly their number (nil when there are none) and
// gives the blocks back to free. The list is empty afterwards.
func (l *blockList[T]) take(free *[][]T) []T {
	var out []T
	switch len(l.blocks) {
	case 0:
	case 1:
		out = l.blocks[0] // the first block, of one message, is the exact slice
		l.blocks = nil
	default:
		out = make([]T, 0, l.n)
		for _, b := range l.blocks {
			out = append(out, b...)
		}
	}
	l.release(free)
	return out
}

// release gives the full-size blocks back to free, dropping the elements.
func (l *blockList[T]) release(free *[][]T) {
	for _, b := range l.blocks {
		if cap(b) == messageBlock && len(*free) < maxFreeBlocks {
			clear(b) // drop the previews' references before reuse
			*free = append(*free, b[:0])
		}
	}
	l.blocks, l.n = nil, 0
}

// newBlock returns an empty block of capacity size.
func newBlock[T any](free *[][]T, size int) []T {
	if k := len(*free); k > 0 && size == messageBlock {
		b := (*free)[k-1]
		(*free)[k-1] = nil
		*free = (*free)[:k-1]
		return b
	}
	return make([]T, 0, size)
}
