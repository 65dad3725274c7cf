package packet

import (
	"fmt"
	"testing"
	"time"
	"unsafe"
)

func TestFiles_StampRoundTrip(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	metas := []Meta{
		{},
		{Time: at, File: "a.pcap", Number: 1},
		{Time: at, File: "b.pcap", Number: 7},
		{Time: at, File: "a.pcap", Number: 1<<40 - 1},
		{Time: at, File: "a.pcap", Number: 1 << 40},
		{Time: at, File: "c.pcap", Number: -3},
		{Time: at.UTC(), Number: 5},
		{Time: time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)), File: "b.pcap", Number: 2},
	}
	var f Files
	stamps := make([]Stamp, len(metas))
	for i, m := range metas {
		stamps[i] = f.Stamp(m)
	}
	for i := range 5000 { // many files, named in turn
		m := Meta{Time: at, File: fmt.Sprintf("rot-%d.pcap", i), Number: i}
		if got := f.Meta(f.Stamp(m)); got != m {
			t.Fatalf("%+v came back as %+v", m, got)
		}
	}
	for i, m := range metas {
		if got := f.Meta(stamps[i]); got != m {
			t.Errorf("%+v came back as %+v", m, got)
		}
	}
	if got := f.Meta(Stamp{}); got != (Meta{}) {
		t.Errorf("zero Stamp is %+v, want the zero Meta", got)
	}
	if n := unsafe.Sizeof(Stamp{}); n != 32 {
		t.Errorf("Stamp is %d bytes, want 32", n)
	}
}
