package wsframe

import (
	"encoding/binary"
	"math/bits"
)

// maskBytes XORs src with the masking key into dst (which must be at least as long as src),
// starting at key byte phase (0-3), and returns the phase for the byte after src. dst and src may
// be the same slice. It works 32, then 8 bytes at a time.
func maskBytes(dst, src []byte, key [4]byte, phase int) int {
	dst = dst[:len(src)]
	i := 0
	// Byte at a time until phase is 0 again is unnecessary: rotate the key instead.
	k32 := binary.LittleEndian.Uint32(key[:])
	k32 = bits.RotateLeft32(k32, -8*(phase&3))
	k64 := uint64(k32) | uint64(k32)<<32
	for ; i+32 <= len(src); i += 32 { // unrolled: the loop overhead was a third of the time
		s, d := src[i:i+32], dst[i:i+32]
		binary.LittleEndian.PutUint64(d, binary.LittleEndian.Uint64(s)^k64)
		binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^k64)
		binary.LittleEndian.PutUint64(d[16:], binary.LittleEndian.Uint64(s[16:])^k64)
		binary.LittleEndian.PutUint64(d[24:], binary.LittleEndian.Uint64(s[24:])^k64)
	}
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^k64)
	}
	for ; i < len(src); i++ {
		dst[i] = src[i] ^ key[(phase+i)&3]
	}
	return (phase + len(src)) & 3
}
