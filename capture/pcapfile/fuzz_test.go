package pcapfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzReader reads arbitrary bytes as a capture file: it must never panic, must return at most
// what the input holds, and must end with io.EOF or an *Error.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"lo-snap96.pcap", "tls-dsb.pcapng", "lo.pcap.gz", "two-linktypes.pcapng.gz"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 4096 && !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			b = b[:4096]
		}
		f.Add(b)
	}
	f.Add(newNg(binary.LittleEndian).iface(1, 0, name("eth0")).iface(1, 0, name("eth1")).epb(1, 1, []byte("a"), 1).
		section().iface(1, 0, name("eth1")).iface(1, 0).epb(0, 2, []byte("b"), 1).epb(1, 3, []byte("c"), 1).b)
	f.Add(newNg(binary.BigEndian).iface(1, 0, ngOpt{9, []byte{0x80 | 20}}, ngOpt{14, make([]byte, 8)}).
		epb(0, 1<<40, []byte("abc"), 3).spb([]byte("defg"), 10).opb(0, 5, []byte("h")).
		dsb(0x544c534b, "CLIENT_RANDOM 1 2").
		isb(0, 1<<40, [2]uint64{optISBStartTime, 1 << 39}, [2]uint64{optISBIfDrop, 7}, [2]uint64{optISBOSDrop, 1 << 63}).b)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(newPcap(binary.BigEndian, true, 276).packet(time.Unix(0, 0), []byte("xyz"), 3).b)
	w.Close()
	f.Add(gz.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("NewReader error %T %v", err, err)
			}
			return
		}
		defer r.Close()
		var total int64
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Next error %T %v", err, err)
				}
				break
			}
			if len(p.Data) != p.CaptureLength || p.CaptureLength > MaxCaptureLength {
				t.Fatalf("packet %d: len %d caplen %d", p.Number, len(p.Data), p.CaptureLength)
			}
			if fs := r.Interfaces(); p.Interface == nil || p.Interface.ID >= len(fs) || fs[p.Interface.ID] != p.Interface ||
				len(p.Interface.Name) > maxIfName {
				t.Fatalf("packet %d: interface %+v of %d", p.Number, p.Interface, len(fs))
			}
			total += int64(p.CaptureLength)
			if total > 64<<20 {
				break // a gzip bomb may legitimately expand; stop early
			}
		}
		if r.Info().Bytes != total && total <= 64<<20 {
			t.Fatalf("Info.Bytes %d, read %d", r.Info().Bytes, total)
		}
	})
}
