package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/wspath/wspath/report"
)

// TestRun_Interrupted checks that a run whose context is cancelled (main cancels it on Ctrl-C)
// exits 130 and leaves no report, finished or temporary, behind.
func TestRun_Interrupted(t *testing.T) {
	ex := filepath.Join("..", "..", "examples", "c2s-drop")
	for _, args := range [][]string{
		{"compare", filepath.Join(ex, "hops.yaml"), "-f", "json"},
		{"inspect", filepath.Join(ex, "client.pcap"), "-f", "json"},
	} {
		dir := t.TempDir()
		out := filepath.Join(dir, "report.json")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, stderr bytes.Buffer
		code := runContext(ctx, append([]string{"wspath"}, append(args, "-o", out)...), &stdout, &stderr)
		if code != exitInterrupted {
			t.Errorf("%s: exit %d, want %d (%s)", args[0], code, exitInterrupted, stderr.String())
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: left %v behind", args[0], left)
		}
	}
}

// TestCtxWriter_InterruptedWhileWriting checks that a report file being written when the run
// is interrupted is removed, temporary file included, and the error is the context's.
func TestCtxWriter_InterruptedWhileWriting(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	err := report.WriteFile(filepath.Join(dir, "r.txt"), func(w io.Writer) error {
		cw := ctxWriter{ctx, w}
		if _, err := cw.Write([]byte("first rows\n")); err != nil {
			return err
		}
		cancel() // Ctrl-C halfway through
		_, err := cw.Write([]byte("more rows\n"))
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left %v behind", left)
	}
}
