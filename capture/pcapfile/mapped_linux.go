//go:build linux

package pcapfile

import (
	"os"
	"syscall"
	"unsafe"
)

const canMap = true

// mapFile maps n bytes of f from offset off, read-only, its pages mapped at once (MAP_POPULATE:
// one system call instead of a page fault per few pages).
func mapFile(f *os.File, off int64, n int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), off, n, syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
}

func unmapFile(b []byte) { _ = syscall.Munmap(b) }

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
