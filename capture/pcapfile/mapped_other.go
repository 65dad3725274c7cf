//go:build !linux

package pcapfile

import (
	"errors"
	"os"
)

const canMap = false

func mapFile(*os.File, int64, int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapFile([]byte) {}

func addrOf([]byte) uintptr { return 0 }
