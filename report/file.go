package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes a report to path atomically: into a temporary file in the same directory, renamed
// over path only when write succeeded, so a failed or interrupted run never leaves half a report (or
// clobbers the previous one). Errors name path, never the temporary file, which the user did not ask
// for and which is gone by then.
func WriteFile(path string, write func(io.Writer) error) (err error) {
	if fi, statErr := os.Stat(path); statErr == nil && fi.IsDir() {
		return fmt.Errorf("%s: is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return pathError("create", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = pathError("write", path, err)
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// pathError restates a file system error about the temporary file as one about path; other errors
// (from the renderer) are returned as they are.
func pathError(op, path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return &fs.PathError{Op: op, Path: path, Err: pe.Err}
	case errors.As(err, &le):
		return &fs.PathError{Op: op, Path: path, Err: le.Err}
	}
	return err
}
