package capture_test

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/report"
)

// BenchmarkInspect is the whole of `wspath inspect -f json` without --messages: the capture read
// with counts only, then the report. small is 400k messages of 20 to 400 bytes, one a packet
// (per-packet costs dominate), mixed 100 MB of messages of 60 bytes to 16 KB. Besides MB/s it
// reports the CPU time per read (cpu-ms/op): above the wall time (ns/op) when the read's stages
// run on two cores at once. WSPATH_BENCH_CAPTURE=FILE adds a run on a capture of one's own (the
// perf captures of examples/netlab/perf.sh, say).
func BenchmarkInspect(b *testing.B) {
	dir := b.TempDir()
	cases := []struct {
		name  string
		write func(path string)
	}{
		{"small", func(path string) { capture.WriteSmallCapture(b, path, 400_000) }},
		{"mixed", func(path string) { capture.WriteBenchCapture(b, path, 100<<20) }},
	}
	if p := os.Getenv("WSPATH_BENCH_CAPTURE"); p != "" {
		cases = append(cases, struct {
			name  string
			write func(path string)
		}{"file", nil})
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			path := os.Getenv("WSPATH_BENCH_CAPTURE")
			if bc.write != nil {
				path = filepath.Join(dir, bc.name+".pcap")
				if _, err := os.Stat(path); err != nil {
					bc.write(path)
				}
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				c, err := capture.Read([]string{path}, capture.Options{CountOnly: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := report.Inspect(io.Discard, report.JSON, c, report.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time the process has used (user and system, all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
