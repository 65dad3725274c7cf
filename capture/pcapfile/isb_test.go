package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// infoAtEnd reads every packet and returns the final Info: statistics blocks come last.
func infoAtEnd(t *testing.T, r *Reader) Info {
	t.Helper()
	if _, err := readAll(r); err != io.EOF {
		t.Fatal(err)
	}
	return r.Info()
}

// TestInterfaceStats_Dumpcap reads the drop counters dumpcap wrote after its capture buffer
// overflowed (testdata/make-isb.sh; the counts are those dumpcap printed at exit).
func TestInterfaceStats_Dumpcap(t *testing.T) {
	r, err := Open("testdata/isb-drops.pcapng.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := infoAtEnd(t, r)
	if len(in.Stats) != 1 {
		t.Fatalf("%d interface statistics, want 1: %+v", len(in.Stats), in.Stats)
	}
	st := in.Stats[0]
	if st.Interface != 0 || st.Received != 6897 || st.IfDrop != 13964 || st.OSDrop != -1 {
		t.Errorf("stats = %+v, want interface 0, received 6897, ifdrop 13964, no osdrop", st)
	}
	if n, ok := st.Dropped(); n != 13964 || !ok {
		t.Errorf("Dropped() = %d, %v; want 13964, true", n, ok)
	}
	if in.Packets != 6897 {
		t.Errorf("%d packets, want 6897 (dumpcap's count)", in.Packets)
	}
	if st.Start.IsZero() || st.End.IsZero() || st.Start.After(in.First) || st.End.Before(in.Last) {
		t.Errorf("counting period %v to %v does not cover the packets %v to %v", st.Start, st.End, in.First, in.Last)
	}
}

func TestInterfaceStats_Blocks(t *testing.T) {
	t0 := uint64(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro())
	pkt := make([]byte, 60)
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		// Two interfaces; interface 1 reports twice (cumulative: the later block wins), and a
		// second section restarts interface numbering.
		f := newNg(order).iface(1, 0).iface(1, 0).
			epb(0, t0, pkt, 60).
			isb(1, t0+1, [2]uint64{optISBIfRecv, 10}, [2]uint64{optISBOSDrop, 2}).
			isb(0, t0+2).
			isb(1, t0+3, [2]uint64{optISBIfRecv, 20}, [2]uint64{optISBOSDrop, 5}, [2]uint64{optISBIfDrop, 1}).
			section().iface(1, 0).
			isb(0, t0+4, [2]uint64{optISBUsrDeliv, 7})
		r, err := NewReader(bytes.NewReader(f.b), "isb.pcapng")
		if err != nil {
			t.Fatal(err)
		}
		in := infoAtEnd(t, r)
		if len(in.Stats) != 3 {
			t.Fatalf("%T: %d statistics, want 3: %+v", order, len(in.Stats), in.Stats)
		}
		if s := in.Stats[0]; s.Section != 0 || s.Interface != 1 || s.Received != 20 || s.OSDrop != 5 || s.IfDrop != 1 {
			t.Errorf("%T: interface 1 = %+v, want the later block (20 received, 5+1 dropped)", order, s)
		}
		if n, ok := in.Stats[0].Dropped(); n != 6 || !ok {
			t.Errorf("%T: Dropped() = %d, %v; want 6, true", order, n, ok)
		}
		if n, ok := in.Stats[1].Dropped(); n != 0 || ok {
			t.Errorf("%T: a block without drop counters: Dropped() = %d, %v; want 0, false", order, n, ok)
		}
		if s := in.Stats[2]; s.Section != 1 || s.Interface != 0 || s.Delivered != 7 {
			t.Errorf("%T: second section = %+v", order, s)
		}
	}
}

func TestInterfaceStats_Corrupt(t *testing.T) {
	for name, f := range map[string]*ngFile{
		"unknown interface": newNg(binary.LittleEndian).iface(1, 0).isb(3, 0),
		"short block":       newNg(binary.LittleEndian).iface(1, 0).block(5, []byte{0, 0, 0, 0}),
		"option overrun":    newNg(binary.LittleEndian).iface(1, 0).block(5, append(make([]byte, 12), 4, 0, 200, 0)),
	} {
		r, err := NewReader(bytes.NewReader(f.b), "bad.pcapng")
		if err == nil {
			_, err = r.Next()
		}
		var pe *Error
		if !errors.Is(err, ErrCorrupt) || !errors.As(err, &pe) || pe.File != "bad.pcapng" {
			t.Errorf("%s: err = %v, want ErrCorrupt naming the file", name, err)
		}
	}
}
