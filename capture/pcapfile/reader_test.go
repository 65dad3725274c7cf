package pcapfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tsharkPacket is one line of a testdata/*.tshark.tsv file.
type tsharkPacket struct {
	number         int
	epoch          string
	length, caplen int
}

func readTshark(t *testing.T, path string) []tsharkPacket {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []tsharkPacket
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		n, _ := strconv.Atoi(f[0])
		l, _ := strconv.Atoi(f[2])
		c, _ := strconv.Atoi(f[3])
		out = append(out, tsharkPacket{n, f[1], l, c})
	}
	return out
}

func epoch(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// readAll reads every packet, copying nothing but the metadata.
func readAll(r interface{ Next() (Packet, error) }) ([]Packet, error) {
	var out []Packet
	for {
		p, err := r.Next()
		if err != nil {
			return out, err
		}
		p.Data = nil
		out = append(out, p)
	}
}

func TestOpen_RealCaptures(t *testing.T) {
	tests := []struct {
		file, truth, format string
		gzip                bool
		links               []LinkType
		snapCut             bool
	}{
		{"lo.pcap", "lo.pcap", "pcap", false, []LinkType{LinkEthernet}, false},
		{"lo.pcap.gz", "lo.pcap", "pcap", true, []LinkType{LinkEthernet}, false},
		{"any-sll2.pcap", "any-sll2.pcap", "pcap", false, []LinkType{LinkLinuxSLL2}, false},
		{"any-sll.pcap", "any-sll.pcap", "pcap", false, []LinkType{LinkLinuxSLL}, false},
		{"lo-nano.pcap", "lo-nano.pcap", "pcap", false, []LinkType{LinkEthernet}, false},
		{"lo-snap96.pcap", "lo-snap96.pcap", "pcap", false, []LinkType{LinkEthernet}, true},
		{"two-linktypes.pcapng", "two-linktypes.pcapng", "pcapng", false, []LinkType{LinkEthernet, LinkLinuxSLL2}, false},
		{"two-linktypes.pcapng.gz", "two-linktypes.pcapng", "pcapng", true, []LinkType{LinkEthernet, LinkLinuxSLL2}, false},
		{"tls-dsb.pcapng", "tls-dsb.pcapng", "pcapng", false, []LinkType{LinkEthernet}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want := readTshark(t, filepath.Join("testdata", tt.truth+".tshark.tsv"))
			r, err := Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := readAll(r)
			if err != io.EOF {
				t.Fatalf("Next: %v, want io.EOF", err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d packets, tshark sees %d", len(got), len(want))
			}
			cut := false
			var bytes int64
			for i, p := range got {
				w := want[i]
				if p.Number != w.number || epoch(p.Time) != w.epoch || p.Length != w.length || p.CaptureLength != w.caplen {
					t.Errorf("packet %d: number %d time %s len %d caplen %d; tshark: %+v", i, p.Number, epoch(p.Time), p.Length, p.CaptureLength, w)
				}
				if p.File != filepath.Join("testdata", tt.file) {
					t.Errorf("packet %d: File %q", i, p.File)
				}
				cut = cut || p.CaptureLength < p.Length
				bytes += int64(p.CaptureLength)
			}
			if cut != tt.snapCut {
				t.Errorf("packets cut by snap length: %v, want %v", cut, tt.snapCut)
			}
			info := r.Info()
			if info.Format != tt.format || info.Gzip != tt.gzip || fmt.Sprint(info.LinkTypes) != fmt.Sprint(tt.links) {
				t.Errorf("Info: %+v", info)
			}
			if info.Packets != len(want) || info.Bytes != bytes || !info.First.Equal(got[0].Time) || !info.Last.Equal(got[len(got)-1].Time) {
				t.Errorf("Info counts: %+v", info)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next after EOF: %v", err)
			}
		})
	}
}

func TestReader_Secrets(t *testing.T) {
	want, err := os.ReadFile("testdata/tls-keylog.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open("testdata/tls-dsb.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !bytes.Equal(r.Secrets(), want) {
		t.Errorf("Secrets right after Open:\n%q\nwant\n%q", r.Secrets(), want)
	}
	for _, f := range []string{"lo.pcap", "two-linktypes.pcapng"} {
		r, err := Open("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		readAll(r)
		if r.Secrets() != nil {
			t.Errorf("%s: secrets %q", f, r.Secrets())
		}
		r.Close()
	}
}

func TestNewReader_Variants(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	pkt := []byte("0123456789abcdef")
	us := func(t time.Time) uint64 { return uint64(t.UnixNano() / 1000) }
	tests := []struct {
		name  string
		data  []byte
		times []time.Time
		links []LinkType
		caps  []int
	}{
		{"pcap_le_micro", newPcap(binary.LittleEndian, false, 1).packet(t0, pkt, 16).b,
			[]time.Time{t0.Truncate(time.Microsecond)}, []LinkType{1}, []int{16}},
		{"pcap_be_micro", newPcap(binary.BigEndian, false, 276).packet(t0, pkt, 16).b,
			[]time.Time{t0.Truncate(time.Microsecond)}, []LinkType{276}, []int{16}},
		{"pcap_le_nano", newPcap(binary.LittleEndian, true, 101).packet(t0, pkt, 16).b,
			[]time.Time{t0}, []LinkType{101}, []int{16}},
		{"pcap_be_nano_fcs_bits", newPcap(binary.BigEndian, true, 0x14000001).packet(t0, pkt, 1500).b,
			[]time.Time{t0}, []LinkType{1}, []int{16}},
		{"pcapng_le_micro_default", newNg(binary.LittleEndian).iface(1, 0).epb(0, us(t0), pkt, 16).b,
			[]time.Time{t0.Truncate(time.Microsecond)}, []LinkType{1}, []int{16}},
		{"pcapng_be_nano", newNg(binary.BigEndian).iface(113, 0, ngOpt{9, []byte{9}}).epb(0, uint64(t0.UnixNano()), pkt, 16).b,
			[]time.Time{t0}, []LinkType{113}, []int{16}},
		{"pcapng_binary_resolution_and_offset", newNg(binary.LittleEndian).
			iface(1, 0, ngOpt{9, []byte{0x80 | 10}}, ngOpt{14, binary.LittleEndian.AppendUint64(nil, 100)}).
			epb(0, 3*1024+512, pkt, 16).b,
			[]time.Time{time.Unix(103, 500000000)}, []LinkType{1}, []int{16}},
		{"pcapng_picoseconds", newNg(binary.BigEndian).iface(1, 0, ngOpt{9, []byte{12}}).epb(0, 1_500_000_000_123, pkt, 16).b,
			[]time.Time{time.Unix(1, 500000000)}, []LinkType{1}, []int{16}},
		{"pcapng_two_links_mixed", newNg(binary.LittleEndian).iface(1, 0).iface(276, 0, ngOpt{9, []byte{9}}).
			epb(1, uint64(t0.UnixNano()), pkt, 16).epb(0, us(t0)+1, pkt[:4], 16).b,
			[]time.Time{t0, t0.Truncate(time.Microsecond).Add(time.Microsecond)}, []LinkType{276, 1}, []int{16, 4}},
		{"pcapng_spb_opb_unknown_blocks", newNg(binary.LittleEndian).iface(101, 8).block(0x0bad, []byte("custom")).
			opb(0, us(t0), pkt).spb(pkt, 16).block(5, make([]byte, 12)).b,
			[]time.Time{t0.Truncate(time.Microsecond), t0.Truncate(time.Microsecond)}, []LinkType{101, 101}, []int{16, 8}},
		{"pcapng_two_sections", append(newNg(binary.LittleEndian).iface(1, 0).epb(0, us(t0), pkt, 16).b,
			newNg(binary.BigEndian).iface(113, 0).epb(0, us(t0), pkt, 16).b...),
			[]time.Time{t0.Truncate(time.Microsecond), t0.Truncate(time.Microsecond)}, []LinkType{1, 113}, []int{16, 16}},
	}
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			name := tt.name
			data := tt.data
			if gz {
				name += "_gzip"
				var buf bytes.Buffer
				w := gzip.NewWriter(&buf)
				w.Write(data)
				w.Close()
				data = buf.Bytes()
			}
			t.Run(name, func(t *testing.T) {
				r, err := NewReader(bytes.NewReader(data), name)
				if err != nil {
					t.Fatal(err)
				}
				for i := range tt.times {
					p, err := r.Next()
					if err != nil {
						t.Fatalf("packet %d: %v", i+1, err)
					}
					if !p.Time.Equal(tt.times[i]) || p.LinkType != tt.links[i] || p.CaptureLength != tt.caps[i] ||
						!bytes.Equal(p.Data, pkt[:tt.caps[i]]) || p.Number != i+1 {
						t.Errorf("packet %d: %+v, want time %v link %v caplen %d", i+1, p, tt.times[i], tt.links[i], tt.caps[i])
					}
				}
				if _, err := r.Next(); err != io.EOF {
					t.Errorf("after last packet: %v", err)
				}
				if r.Info().Gzip != gz {
					t.Errorf("Info.Gzip = %v", r.Info().Gzip)
				}
			})
		}
	}
}

func TestNewReader_SecretsCombined(t *testing.T) {
	f := newNg(binary.LittleEndian).dsb(0x544c534b, "CLIENT_RANDOM a b").iface(1, 0).
		dsb(0x57474b4c, "wireguard").epb(0, 0, []byte("x"), 1).dsb(0x544c534b, "CLIENT_RANDOM c d\n")
	r, err := NewReader(bytes.NewReader(f.b), "s")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Secrets()); got != "CLIENT_RANDOM a b\n" {
		t.Errorf("before packets: %q", got)
	}
	readAll(r)
	if got := string(r.Secrets()); got != "CLIENT_RANDOM a b\nCLIENT_RANDOM c d\n" {
		t.Errorf("at end: %q", got)
	}
}

func TestOpen_Errors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lo, err := os.ReadFile("testdata/lo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		is         error
		msg        string
	}{
		{"missing", filepath.Join(dir, "nope.pcap"), fs.ErrNotExist, "nope.pcap: no such file or directory"},
		{"directory", dir, ErrNotCapture, "is a directory"},
		{"text", write("text.pcap", []byte("hello world\n")), ErrNotCapture, "bad magic 0x68656c6c"},
		{"short_text", write("short", []byte("hi")), ErrNotCapture, "2 bytes"},
		{"empty", write("empty.pcap", nil), ErrTruncated, "empty file"},
		{"magic_only", write("magic.pcap", lo[:3]), ErrTruncated, "too short"},
		{"global_header", write("hdr.pcap", lo[:10]), ErrTruncated, "pcap file header of 24 bytes cut after 10"},
		{"pcap_version", write("v3.pcap", append(append([]byte{}, lo[:4]...), append([]byte{3, 0}, lo[6:24]...)...)), ErrUnsupported, "pcap version 3.4"},
		{"gzip_garbage", write("g.gz", []byte{0x1f, 0x8b, 1, 2, 3}), ErrTruncated, ""},
		{"pcapng_byte_order", write("bo.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4}), ErrCorrupt, "byte-order magic 0x01020304"},
		{"pcapng_version", write("v2.pcapng", func() []byte {
			b := newNg(binary.LittleEndian).b
			b[12] = 2
			return b
		}()), ErrUnsupported, "pcapng version 2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.path)
			if err == nil {
				r.Close()
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) || e.File != tt.path {
				t.Errorf("error %v is not an *Error naming the file", err)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want one wrapping %v and containing %q", err, tt.is, tt.msg)
			}
		})
	}
}

func TestReader_BadRecords(t *testing.T) {
	pkt := []byte("abcd")
	ok := newPcap(binary.LittleEndian, false, 1).packet(time.Unix(1, 0), pkt, 4)
	huge := newPcap(binary.LittleEndian, false, 1).packet(time.Unix(1, 0), pkt, 4).b
	huge = binary.LittleEndian.AppendUint32(huge, 1)
	huge = binary.LittleEndian.AppendUint32(huge, 0)
	huge = binary.LittleEndian.AppendUint32(huge, 0xfffffff0)
	huge = binary.LittleEndian.AppendUint32(huge, 0xfffffff0)
	trailer := newNg(binary.LittleEndian).iface(1, 0).epb(0, 0, pkt, 4).epb(0, 0, pkt, 4).b
	binary.LittleEndian.PutUint32(trailer[len(trailer)-4:], 40)
	tests := []struct {
		name    string
		data    []byte
		packets int // returned before the error
		is      error
		msg     string
	}{
		{"pcap_huge_caplen", huge, 1, ErrCorrupt, "packet 2 (offset 44): corrupt capture file: captured length 4294967280 exceeds 262144"},
		{"pcap_cut_header", append(ok.b, 1, 0, 0, 0, 0, 0), 1, ErrTruncated, "packet 2 (offset 44): truncated capture file: packet record header of 16 bytes cut after 6"},
		{"pcapng_trailer", trailer, 1, ErrCorrupt, "trailing length 40 differs from 36"},
		{"pcapng_undeclared_iface", newNg(binary.LittleEndian).iface(1, 0).epb(3, 0, pkt, 4).b, 0, ErrCorrupt, "packet 1 (offset 48): corrupt capture file: packet for interface 3, 1 declared"},
		{"pcapng_no_iface_spb", newNg(binary.LittleEndian).spb(pkt, 4).b, 0, ErrCorrupt, "simple packet block before any interface"},
		{"pcapng_caplen_beyond_block", func() []byte {
			b := newNg(binary.LittleEndian).iface(1, 0).epb(0, 0, pkt, 4).b
			binary.LittleEndian.PutUint32(b[len(b)-36+20:], 5000)
			return b
		}(), 0, ErrCorrupt, "captured length 5000 in a block of 36 bytes"},
		{"pcapng_block_length", func() []byte {
			b := newNg(binary.LittleEndian).iface(1, 0).b
			return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(b, 6), 0x7ffffff0)
		}(), 0, ErrCorrupt, "packet 1 (offset 48): corrupt capture file: pcapng block type 0x00000006 has length 2147483632"},
		{"pcapng_block_length_17MiB_claimed", func() []byte {
			b := newNg(binary.LittleEndian).iface(1, 0).b
			return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(b, 0xbad), 16<<20)
		}(), 0, ErrTruncated, "pcapng block of 16777216 bytes cut after 8"},
		{"pcapng_tsresol", newNg(binary.LittleEndian).iface(1, 0, ngOpt{9, []byte{20}}).b, 0, ErrUnsupported, "timestamp resolution 10^-20"},
		{"pcapng_option_overrun", newNg(binary.LittleEndian).iface(1, 0, ngOpt{2, []byte("eth0")}).b[:28+12+8+2], 0, ErrTruncated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data), "f")
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(r)
			if len(got) != tt.packets {
				t.Errorf("%d packets before the error, want %d", len(got), tt.packets)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want one wrapping %v and containing %q", err, tt.is, tt.msg)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

// recordStarts returns the offsets of the packet records or blocks of a capture, and of its end.
func recordStarts(t *testing.T, data []byte) (starts []int, packet []bool) {
	t.Helper()
	if binary.BigEndian.Uint32(data) == ngSHB {
		for off := 0; off < len(data); {
			typ := binary.LittleEndian.Uint32(data[off:])
			starts = append(starts, off)
			packet = append(packet, isPacketBlock(typ))
			off += int(binary.LittleEndian.Uint32(data[off+4:]))
		}
	} else {
		starts = append(starts, 0)
		packet = append(packet, false)
		for off := 24; off < len(data); off += 16 + int(binary.LittleEndian.Uint32(data[off+8:])) {
			starts = append(starts, off)
			packet = append(packet, true)
		}
	}
	return append(starts, len(data)), append(packet, false)
}

// TestReader_TruncatedEverywhere cuts real captures at every byte and checks that the packets
// before the cut are returned, then io.EOF at a record boundary or else ErrTruncated naming the
// cut packet and its offset.
func TestReader_TruncatedEverywhere(t *testing.T) {
	for _, file := range []string{"lo-snap96.pcap", "two-linktypes.pcapng", "tls-dsb.pcapng"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			starts, isPacket := recordStarts(t, data)
			for cut := 0; cut < len(data); cut++ {
				// the record the cut falls in, and packets wholly before it
				rec, packets := 0, 0
				for rec+1 < len(starts) && starts[rec+1] <= cut {
					if isPacket[rec] {
						packets++
					}
					rec++
				}
				r, err := NewReader(bytes.NewReader(data[:cut]), file)
				if err != nil {
					if !errors.Is(err, ErrTruncated) || rec != 0 {
						t.Fatalf("cut %d: NewReader: %v", cut, err)
					}
					continue
				}
				got, err := readAll(r)
				if len(got) != packets {
					t.Fatalf("cut %d: %d packets, want %d (err %v)", cut, len(got), packets, err)
				}
				if cut == starts[rec] {
					if err != io.EOF {
						t.Fatalf("cut %d at a record boundary: %v", cut, err)
					}
					continue
				}
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrTruncated) || e.Offset != int64(starts[rec]) {
					t.Fatalf("cut %d: %v, want ErrTruncated at offset %d", cut, err, starts[rec])
				}
				wantNum := 0
				if isPacket[rec] && (cut-starts[rec] >= 4 || !strings.HasSuffix(file, "pcapng")) {
					wantNum = packets + 1
				}
				if e.Packet != wantNum {
					t.Fatalf("cut %d: error %v names packet %d, want %d", cut, err, e.Packet, wantNum)
				}
			}
		})
	}
}

func TestOpen_TruncatedGzip(t *testing.T) {
	data, err := os.ReadFile("testdata/lo.pcap.gz")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cut.pcap.gz")
	if err := os.WriteFile(p, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := readAll(r)
	if len(got) == 0 || !errors.Is(err, ErrTruncated) || !strings.HasPrefix(err.Error(), p+": packet ") {
		t.Errorf("%d packets, then %v", len(got), err)
	}
	corrupt := append([]byte{}, data...)
	corrupt[len(corrupt)-6] ^= 0xff // CRC
	r2, err := NewReader(bytes.NewReader(corrupt), "crc.gz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(r2); !errors.Is(err, ErrCorrupt) || !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("bad CRC: %v", err)
	}
}

func TestReader_ClosedAndReaderErrors(t *testing.T) {
	r, err := Open("testdata/lo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	boom := errors.New("boom")
	data, _ := os.ReadFile("testdata/lo.pcap")
	r, err = NewReader(io.MultiReader(bytes.NewReader(data[:200]), &errReader{boom}), "e")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(r); !errors.Is(err, boom) {
		t.Errorf("source error: %v", err)
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }
