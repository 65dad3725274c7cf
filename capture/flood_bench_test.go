package capture_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/report"
)

// BenchmarkInspect_UpgradeFlood reads a flood of unanswered WebSocket Upgrades (100k and 1M
// connections, see writeUpgradeFlood) as `wspath inspect` does (counts only) and writes its
// report as JSON and as a table, reporting the peak heap in use, the process's peak RSS (VmHWM,
// reset before each run; Linux only) and that RSS per connection. The 1M case writes a 550 MB
// capture to the temporary directory: go test ./capture -run '^$' -bench Inspect_UpgradeFlood
// -benchtime 1x.
func BenchmarkInspect_UpgradeFlood(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		path := filepath.Join(b.TempDir(), fmt.Sprintf("flood-%d.pcap", n))
		for _, f := range []report.Format{report.JSON, report.Table} {
			b.Run(fmt.Sprintf("%dk/%s", n/1000, f), func(b *testing.B) {
				if _, err := os.Stat(path); err != nil {
					capture.WriteUpgradeFlood(b, path, n)
				}
				fi, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(fi.Size())
				b.ReportAllocs()
				var heap, rss float64
				for b.Loop() {
					runtime.GC()
					debug.FreeOSMemory()
					resetPeakRSS()
					stop := capture.WatchHeap()
					c, err := capture.Read([]string{path}, capture.Options{CountOnly: true})
					if err != nil {
						b.Fatal(err)
					}
					if err := report.Inspect(io.Discard, f, c, report.Options{}); err != nil {
						b.Fatal(err)
					}
					heap, rss = stop(), peakRSS()
				}
				b.ReportMetric(heap, "peak-heap-MB")
				if rss > 0 {
					b.ReportMetric(rss, "peak-RSS-MB")
					b.ReportMetric(rss*(1<<20)/float64(n), "RSS-B/conn")
				}
			})
		}
	}
}

// resetPeakRSS starts the kernel's count of the process's peak RSS (VmHWM) again from its
// present RSS.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns the process's peak RSS (VmHWM) in MiB, 0 where /proc does not say.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))))
			if err != nil {
				return 0
			}
			return float64(kb) / 1024
		}
	}
	return 0
}
