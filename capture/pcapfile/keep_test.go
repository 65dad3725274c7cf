package pcapfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"
)

// keepFiles writes captures of many packets of 1 to 9000 bytes, each packet's bytes telling its
// file and number, so that a packet whose Data was overwritten shows: pcap, pcapng, gzip pcap, and
// a pcap cut in the middle of a record.
func keepFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	fill := func(name string, i int) []byte {
		b := make([]byte, 1+(i*7919)%9000)
		for j := range b {
			b[j] = byte(len(name)*31 + i + j)
		}
		return b
	}
	paths := map[string]string{}
	write := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	pc := newPcap(binary.LittleEndian, false, 1)
	ng := newNg(binary.BigEndian).iface(1, 0)
	for i := range 1500 {
		pc.packet(time.Unix(int64(i), 0), fill("a.pcap", i), 9000)
		ng.epb(0, uint64(i)*1e6+500, fill("b.pcapng", i), 9000)
	}
	write("a.pcap", pc.b)
	write("b.pcapng", ng.b)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(pc.b)
	w.Close()
	write("c.pcap.gz", gz.Bytes())
	write("d.pcap", pc.b[:len(pc.b)*2/3])
	return paths
}

// TestKeepData reads captures with KeepData, holding each packet's Buffer for a window of the
// packets after it (a reader goroutine behind the feed), and checks at release that the packet's
// Data still holds what a plain read gave: no buffer is read into (or window unmapped) while
// held. It also checks that buffers are reused (memory does not grow with the file) and that the
// errors are the same. Read with small buffers (many swaps), and mapped (MapFiles: windows).
func TestKeepData(t *testing.T) {
	files := keepFiles(t)
	for _, set := range [][]string{{"a.pcap"}, {"b.pcapng"}, {"c.pcap.gz"}, {"d.pcap"}, {"a.pcap", "b.pcapng", "d.pcap"}} {
		for _, mapped := range []bool{false, true} {
			for _, window := range []int{0, 1, 40, 700} {
				name := fmt.Sprintf("%v/mapped_%v/window_%d", set, mapped, window)
				t.Run(name, func(t *testing.T) { testKeepData(t, files, set, mapped, window) })
			}
		}
	}
}

func testKeepData(t *testing.T, files map[string]string, set []string, mapped bool, window int) {
	var paths []string
	for _, s := range set {
		paths = append(paths, files[s])
	}
	want, wantErrs := plainRead(t, paths)
	m := openSmall(t, paths)
	if mapped {
		var err error
		if m, err = OpenAll(paths); err != nil {
			t.Fatal(err)
		}
		m.MapFiles()
	}
	defer m.Close()
	m.KeepData()
	type held struct {
		p   Packet
		buf *Buffer
	}
	var (
		queue  []held
		n      int
		errs   []string
		arrays = map[*byte]bool{} // the buffers' bytes
	)
	check := func(h held) {
		if !bytes.Equal(h.p.Data, want[h.p.File+fmt.Sprint(h.p.Number)]) {
			t.Fatalf("%s packet %d: Data changed while its buffer was held", h.p.File, h.p.Number)
		}
		h.buf.Release()
	}
	for {
		p, err := m.NextPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		n++
		buf := p.Buffer()
		if buf == nil {
			t.Fatal("KeepData: a packet without its Buffer")
		}
		buf.Hold()
		arrays[&buf.b[0]] = true
		queue = append(queue, held{*p, buf})
		for len(queue) > window {
			check(queue[0])
			queue = queue[1:]
		}
	}
	for _, h := range queue {
		check(h)
	}
	if n != len(want) || fmt.Sprint(errs) != fmt.Sprint(wantErrs) {
		t.Fatalf("%d packets, errors %v; a plain read: %d, %v", n, errs, len(want), wantErrs)
	}
	if !mapped && window < 100 && len(arrays) > 12*len(paths) {
		t.Errorf("%d buffers used for %d packets: released ones are not reused", len(arrays), n)
	}
	if live := liveWindows(m); mapped && window == 0 && live > 2*len(paths) {
		t.Errorf("%d windows mapped at the end: released ones are not unmapped", live)
	}
}

func liveWindows(m *Merger) int {
	n := 0
	for _, r := range m.readers {
		n += len(r.live)
	}
	return n
}

// openSmall opens paths with NewReader, whose buffers start small.
func openSmall(t *testing.T, paths []string) *Merger {
	t.Helper()
	var rs []*Reader
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		r, err := NewReader(f, p)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return NewMerger(rs)
}

// plainRead reads paths without KeepData, copying each packet's Data.
func plainRead(t *testing.T, paths []string) (map[string][]byte, []string) {
	t.Helper()
	m, err := OpenAll(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := map[string][]byte{}
	var errs []string
	for {
		p, err := m.NextPacket()
		if err == io.EOF {
			return out, errs
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if p.Buffer() != nil {
			t.Fatal("a Buffer without KeepData")
		}
		out[p.File+fmt.Sprint(p.Number)] = bytes.Clone(p.Data)
	}
}

// TestMapFiles_Shrink truncates a mapped file while it is read (logrotate's copytruncate, say):
// reading its bytes then faults, which FaultError turns into an error naming the file, wrapping
// ErrTruncated, instead of a crash.
func TestMapFiles_Shrink(t *testing.T) {
	if !canMap {
		t.Skip("no mapped files here")
	}
	for _, to := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprint(to), func(t *testing.T) {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			b, err := os.ReadFile(keepFiles(t)["a.pcap"])
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "shrinks.pcap")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := OpenAll([]string{path})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			m.MapFiles()
			m.KeepData()
			var sum int
			read := func() (err error) {
				defer func() {
					if v := recover(); v != nil {
						if err = m.FaultError(v); err == nil {
							panic(v)
						}
					}
				}()
				var held []Packet
				for n := 0; ; n++ {
					if n == 700 { // in the second window
						if err := os.Truncate(path, to); err != nil {
							t.Fatal(err)
						}
					}
					p, err := m.NextPacket()
					if err != nil {
						return err
					}
					p.Buffer().Hold()
					held = append(held, *p)
					for _, h := range held[max(len(held)-300, 0):] {
						sum += int(h.Data[len(h.Data)-1]) // packets from before the cut, too
					}
				}
			}
			err = read()
			var pe *Error
			if !errors.Is(err, ErrTruncated) || !errors.As(err, &pe) || pe.File != path {
				t.Fatalf("got %v, want an error naming %s that wraps ErrTruncated", err, path)
			}
			t.Log(err, sum)
		})
	}
}
