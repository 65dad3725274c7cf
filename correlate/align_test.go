package correlate

import (
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
)

// items makes a sequence from one-letter names, '?' being an incomplete message, at times
// t0, t0+step, ...
func items(names string, t0 time.Time, step time.Duration) []item {
	var out []item
	for i, c := range names {
		it := item{length: 4, t: t0.Add(time.Duration(i) * step).UnixNano()}
		if c == '?' {
			it.incomplete = true
			it.length = 1
		} else {
			it.digest = capture.Digest(sha256.Sum256([]byte{byte(c)})).Prefix()
		}
		out = append(out, it)
	}
	return out
}

func TestAlign_Cases(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		window  time.Duration
		bAt     func(b []item) // adjust times of b
		want    []int
		matched int
	}{
		{name: "identical", a: "abcd", b: "abcd", want: []int{0, 1, 2, 3}, matched: 4},
		{name: "one_missing", a: "abcd", b: "abd", want: []int{0, 1, 3}, matched: 3},
		{name: "tail_missing", a: "abcd", b: "ab", want: []int{0, 1}, matched: 2},
		{name: "extra_downstream", a: "abd", b: "abcd", want: []int{0, 1, -1, 2}, matched: 3},
		{name: "duplicates_in_order", a: "tttt", b: "ttt", want: []int{0, 1, 2}, matched: 3},
		{name: "duplicates_around_missing", a: "ttAtt", b: "tAtt", want: []int{0, 2, 3, 4}, matched: 4},
		{name: "duplicates_not_collapsed", a: "tatbt", b: "tatbt", want: []int{0, 1, 2, 3, 4}, matched: 5},
		{
			name: "duplicate_picked_by_time", a: "tt", b: "t", window: time.Second,
			bAt:  func(b []item) { b[0].t = base().Add(10*time.Second + time.Millisecond).UnixNano() },
			want: []int{1}, matched: 1,
		},
		{
			name: "extra_duplicate_downstream_by_time", a: "t", b: "tt", window: time.Second,
			bAt: func(b []item) {
				b[0].t = base().Add(-10 * time.Second).UnixNano()
				b[1].t = base().Add(time.Millisecond).UnixNano()
			},
			want: []int{-1, 0}, matched: 1,
		},
		{name: "incomplete_by_position", a: "ab?d", b: "abcd", want: []int{0, 1, 2, 3}, matched: 4},
		{name: "incomplete_at_end", a: "abc", b: "ab?", want: []int{0, 1, 2}, matched: 3},
		{name: "incomplete_unsafe", a: "abcd", b: "ab?e", want: []int{0, 1, -1, -1}, matched: 2},
		// A stream that ends inside a message (the capture or the connection ended, the sender
		// stopped mid-message): its last item is the start of the next message the other has.
		{name: "cut_short_downstream", a: "abcde", b: "ab?", want: []int{0, 1, 2}, matched: 3},
		{name: "cut_short_upstream", a: "ab?", b: "abcde", want: []int{0, 1, 2, -1, -1}, matched: 3},
		{name: "cut_short_first", a: "abc", b: "?", want: []int{0}, matched: 1},
		{name: "cut_short_after_a_loss", a: "abcde", b: "ac?", want: []int{0, 2, 3}, matched: 3},
		{name: "cut_short_after_no_match", a: "abcd", b: "x?", want: []int{-1, -1}, matched: 0},
		{name: "disjoint", a: "abc", b: "xyz", want: []int{-1, -1, -1}, matched: 0},
		{name: "empty_upstream", a: "", b: "ab", want: []int{-1, -1}, matched: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := items(tt.a, base(), 10*time.Second)
			b := items(tt.b, base().Add(time.Millisecond), 10*time.Second)
			if tt.bAt != nil {
				tt.bAt(b)
			}
			got, matched := align(a, b, tt.window)
			if !slices.Equal(got, tt.want) || matched != tt.matched {
				t.Errorf("align(%q, %q) = %v, %d; want %v, %d", tt.a, tt.b, got, matched, tt.want, tt.matched)
			}
		})
	}
}

// TestAlign_Long checks that long runs of identical messages with a few missing stay exact and
// linear.
func TestAlign_Long(t *testing.T) {
	n := 20000
	a := items(string(slices.Repeat([]byte("t"), n)), base(), time.Millisecond)
	var b []item
	for i, it := range a {
		if i%1000 != 999 {
			b = append(b, it)
		}
	}
	_, matched := align(a, b, time.Second)
	if matched != len(b) {
		t.Errorf("matched %d, want %d", matched, len(b))
	}
}

// TestAlignHoles_LazyIndex: the walk makes its digest indices and first anchor only when it
// needs them; made up front, as they once were, they must give the same alignment, on random
// sequences with repeats, incomplete messages, capture holes, losses, extras and times far apart.
func TestAlignHoles_LazyIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 17))
	stream := func(names []byte, src int, keep func(int) bool, late time.Duration) []item {
		var out []item
		var off, hole uint64
		for i, c := range names {
			frame := uint64(c-'a') + 8
			if !keep(i) {
				hole += frame
				off += frame
				continue
			}
			it := item{digest: capture.Digest(sha256.Sum256([]byte{c})).Prefix(), length: int64(frame) - 6,
				t: base().Add(time.Duration(i)*10*time.Millisecond + late).UnixNano(), src: src,
				off: off, end: off + frame, raw: off, hole: hole, holeKnown: true}
			if rng.IntN(20) == 0 {
				it.incomplete, it.digest = true, capture.Digest64{}
			}
			out = append(out, it)
			off += frame
			hole = 0
		}
		return out
	}
	for n := range 2000 {
		names := make([]byte, 5+rng.IntN(60))
		alphabet := 1 + rng.IntN(6)
		for i := range names {
			names[i] = byte('a' + rng.IntN(alphabet))
		}
		drop := func(int) bool { return rng.IntN(6) != 0 }
		all := func(int) bool { return true }
		late := time.Duration(rng.IntN(3)) * 3 * time.Second
		a, b := stream(names, 0, all, 0), stream(names, 1, drop, late)
		if n%2 == 1 {
			a, b = b, a
		}
		window := time.Duration(rng.IntN(2)) * 2 * time.Second
		eager := newHoleWalk(a, b, window)
		eager.index()
		eager.anchor()
		want := eager.run()
		got := alignHoles(a, b, window)
		if !slices.Equal(got.mb, want.mb) || got.matched != want.matched ||
			!slices.Equal(got.unsureA, want.unsureA) || !slices.Equal(got.unsureB, want.unsureB) {
			t.Fatalf("case %d (%s, window %v): lazy %v, eager %v", n, names, window, got.mb, want.mb)
		}
	}
}
