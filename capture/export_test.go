package capture

// Test helpers for the external tests of package capture_test (flood_bench_test.go), which
// render reports and so cannot live in package capture (report imports capture).

// WriteUpgradeFlood is writeUpgradeFlood.
var WriteUpgradeFlood = writeUpgradeFlood

// WatchHeap starts a heapWatch; the function it returns stops it and returns the peak in MiB.
func WatchHeap() func() float64 { return watchHeap().peakMB }

// WriteSmallCapture is writeSmallCapture; WriteBenchCapture is writeBenchCapture.
var (
	WriteSmallCapture = writeSmallCapture
	WriteBenchCapture = writeBenchCapture
)
