package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

// fedPacket is what the reader learns of one packet, copied out of its batch.
type fedPacket struct {
	Err         string
	File        string
	Number      int
	Time        time.Time
	Link        pcapfile.LinkType
	CapLen, Len int
	DecErr      string
	Seg         tcpdecode.Segment // Payload cleared
	Bytes       []byte            // payload when decoded, else the packet's data
	Secrets     string
	batchOver   bool
}

// TestFeed_SameAsMerger checks that the feed gives the reader every packet of the files in the
// Merger's order, with a file's read error in its place, decoded as tcpdecode.Decode decodes it,
// the bytes the reader needs, and the key log lines of a Decryption Secrets Block with the first
// packet after it, whatever the batch sizes (one packet, one byte: every packet opens a batch).
// The bytes are read only when the feed has filled every other batch (fedPackets), so a buffer
// read into again while a batch still held it shows.
func TestFeed_SameAsMerger(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "small.pcap") // several of the Merger's buffers
	writeSmallCapture(t, big, 30_000)
	cut := filepath.Join(dir, "fw-cut.pcap")
	b, err := os.ReadFile("../examples/concurrent/fw.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, b[:len(b)*61/100], 0o644); err != nil {
		t.Fatal(err)
	}
	hops := [][]string{
		{"../examples/concurrent/lb-1.pcap", "../examples/concurrent/lb-2.pcap", "../examples/concurrent/lb-3.pcap"},
		{cut, "../examples/concurrent/client.pcap"},
		{"pcapfile/testdata/tls-dsb.pcapng"},
		{"pcapfile/testdata/two-linktypes.pcapng.gz"},
		{"encap/testdata/synthetic-tunnels.pcap"},
		{"encap/testdata/tun/underlay.pcap", "../examples/vxlan-c2s-drop/fw.pcap"},
		{big},
	}
	sizes := [][2]int{{1, 1}, {3, 100}, {7, 3000}, {feedBatchPackets, feedBatchBytes}}
	for _, paths := range hops {
		want := mergerPackets(t, paths)
		if len(want) < 10 {
			t.Fatalf("%v: %d packets, too few to test", paths, len(want))
		}
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%d-%d", filepath.Base(paths[0]), sz[0], sz[1]), func(t *testing.T) {
				got := fedPackets(t, paths, sz[0], sz[1])
				if len(got) != len(want) {
					t.Fatalf("%d packets fed, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i].batchOver {
						t.Fatalf("packet %d: a batch of more than %d packets", i, sz[0])
					}
					g, w := got[i], want[i]
					g.batchOver = false
					if !reflect.DeepEqual(g, w) {
						t.Fatalf("packet %d:\n got %+v\nwant %+v", i, g, w)
					}
				}
			})
		}
	}
}

// openMerger opens paths as one time-ordered capture, failing t on an error.
func openMerger(t *testing.T, paths []string) *pcapfile.Merger {
	t.Helper()
	readers, errs := openCaptures(paths)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	m := pcapfile.NewMerger(readers)
	m.MapFiles() // as a read does
	return m
}

// mergerPackets reads paths packet by packet as the reader did before the feed.
func mergerPackets(t *testing.T, paths []string) []fedPacket {
	t.Helper()
	m := openMerger(t, paths)
	defer m.Close()
	var out []fedPacket
	secrets := 0
	for {
		p, err := m.NextPacket()
		if err == io.EOF {
			return out
		}
		if err != nil {
			out = append(out, fedPacket{Err: err.Error()})
			continue
		}
		var seg tcpdecode.Segment
		fp := fedPacket{File: p.File, Number: p.Number, Time: p.Time, Link: p.LinkType,
			CapLen: p.CaptureLength, Len: p.Length}
		derr := tcpdecode.Decode(p.LinkType, p.Data, &seg)
		fp.Bytes = append([]byte{}, p.Data...)
		if derr != nil {
			fp.DecErr = derr.Error()
		} else {
			fp.Bytes = append([]byte{}, seg.Payload...)
			seg.Payload = nil
			fp.Seg = seg
		}
		if n := m.SecretsSize(); n > secrets {
			fp.Secrets = string(m.Secrets()[secrets:])
			secrets = n
		}
		out = append(out, fp)
	}
}

// fedPackets reads paths through a feed of the given batch sizes. It reads a batch only once it
// holds every batch, the feed having filled them all and read on as far as it can.
func fedPackets(t *testing.T, paths []string, packets, bytes int) []fedPacket {
	t.Helper()
	m := openMerger(t, paths)
	defer m.Close()
	f := startFeedSized(&feedReader{m: m}, packets, bytes)
	defer f.stop()
	var (
		out  []fedPacket
		held []*feedBatch
	)
	for {
		if len(held) == 0 || !held[len(held)-1].last && len(held) < feedBatches {
			held = append(held, f.next())
			continue
		}
		b := held[0]
		held = held[1:]
		for i := range b.pkts {
			fp := &b.pkts[i]
			if fp.err != nil {
				out = append(out, fedPacket{Err: fp.err.Error()})
				continue
			}
			p := fp.p
			g := fedPacket{File: p.File, Number: p.Number, Time: p.Time, Link: p.LinkType,
				CapLen: p.CaptureLength, Len: p.Length, Secrets: string(fp.secrets),
				batchOver: len(b.pkts) > packets}
			if fp.decErr != nil {
				g.DecErr, g.Bytes = fp.decErr.Error(), append([]byte{}, p.Data...)
			} else {
				g.Seg, g.Bytes = fp.seg, append([]byte{}, fp.seg.Payload...)
				g.Seg.Payload = nil
			}
			out = append(out, g)
		}
		last := b.last
		f.release(b)
		if last {
			return out
		}
	}
}

// TestReadContext_CancelledMidway checks that a read cancelled midway (Ctrl-C) returns the
// context's error at once and leaves no goroutine behind, serial or not.
func TestReadContext_CancelledMidway(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.pcap")
	writeSmallCapture(t, path, 50_000)
	for _, serial := range []bool{false, true} {
		before := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		c, err := ReadContext(ctx, []string{path}, Options{Serial: serial, Progress: func(p Progress) {
			if calls++; calls == 2 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) || c != nil {
			t.Fatalf("serial %v: got %v, %v; want no capture and context.Canceled", serial, c, err)
		}
		if calls != 2 {
			t.Errorf("serial %v: progress called %d times, want the read to stop at the first look after cancel", serial, calls)
		}
		for i := 0; runtime.NumGoroutine() > before; i++ {
			if i == 100 {
				t.Fatalf("serial %v: %d goroutines, %d before the read", serial, runtime.NumGoroutine(), before)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestRead_SerialSame checks that a serial read (Options.Serial) finds what a read on two
// goroutines does, in every mode.
func TestRead_SerialSame(t *testing.T) {
	hops := [][]string{
		{"../examples/concurrent/lb-1.pcap", "../examples/concurrent/lb-2.pcap", "../examples/concurrent/lb-3.pcap"},
		{"../examples/capture-drops-deflate/fw.pcap"},
		{"../examples/h2-tls-s2c-drop/client.pcap"},
		{"encap/testdata/synthetic-tunnels.pcap"},
	}
	// Past the first of the Merger's buffers and mapped windows, small and large packets.
	dir := t.TempDir()
	small, mixed := filepath.Join(dir, "small.pcap"), filepath.Join(dir, "mixed.pcap")
	writeSmallCapture(t, small, 10_000)
	writeBenchCapture(t, mixed, 20<<20)
	hops = append(hops, []string{small}, []string{mixed})
	for _, paths := range hops {
		keys := []string{"../examples/h2-tls-s2c-drop/keys.txt"}
		for _, opts := range []Options{{}, {CountOnly: true}, {Compact: true, KeylogFiles: keys}} {
			want, err := Read(paths, opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.Serial = true
			got, err := Read(paths, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v %+v: serial read differs", paths, opts)
			}
		}
	}
}

// TestRead_FileShrinks truncates a capture while it is read (mapped: pcapfile's MapFiles): the
// read ends with an error or a warning naming the file, serial or not, and the process goes on.
func TestRead_FileShrinks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "small.pcap")
	writeSmallCapture(t, src, 50_000)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, serial := range []bool{false, true} {
		for _, to := range []int64{0, int64(len(b) / 3)} {
			path := filepath.Join(t.TempDir(), "shrinks.pcap")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			calls := 0
			c, err := Read([]string{path}, Options{Serial: serial, Progress: func(Progress) {
				if calls++; calls == 2 {
					if err := os.Truncate(path, to); err != nil {
						t.Error(err)
					}
				}
			}})
			said := fmt.Sprint(err)
			if c != nil {
				said += fmt.Sprint(c.Warnings)
			}
			if !strings.Contains(said, path) || !strings.Contains(said, "shrank") && !strings.Contains(said, "truncated") {
				t.Errorf("serial %v, cut to %d: error %v and warnings %s, want the file named as shrunk", serial, to, err, said)
			}
		}
	}
}
