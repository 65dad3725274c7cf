package capture

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wspath/wspath/capture/pcapfile"
)

// ngBlock appends a little-endian pcapng block of type typ to b.
func ngBlock(b []byte, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, n)
}

// ngIDB is an Ethernet Interface Description Block body: if_name, if_tsresol (the option's byte)
// and, unless 0, if_tsoffset.
func ngIDB(name string, tsresol byte, offset int64) []byte {
	b := []byte{1, 0, 0, 0, 0, 0, 4, 0} // Ethernet, snaplen 262144
	opt := func(code uint16, v []byte) {
		b = binary.LittleEndian.AppendUint16(b, code)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	opt(2, []byte(name))
	opt(9, []byte{tsresol})
	if offset != 0 {
		opt(14, binary.LittleEndian.AppendUint64(nil, uint64(offset)))
	}
	return append(b, 0, 0, 0, 0)
}

// TestRead_PcapngViewsOwnClocks rewrites the real dumpcap capture of a router's two interfaces
// (examples/fwpcapng-s2c-drop, f0 and f1) with each interface on a clock of its own: f0 in
// microseconds, f1 in 2^-20 s units counted from if_tsoffset, 1000 s before. f1's packets are
// also carried in VXLAN, so they take the slow path (package encap), f0's the fast one. Each
// view must keep its connections and their messages' times, to the resolution, as the original.
func TestRead_PcapngViewsOwnClocks(t *testing.T) {
	orig := filepath.Join("..", "examples", "fwpcapng-s2c-drop", "fw.pcapng")
	r, err := pcapfile.Open(orig)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	shb := binary.LittleEndian.AppendUint32(nil, 0x1a2b3c4d)
	shb = append(shb, 1, 0, 0, 0)
	shb = binary.LittleEndian.AppendUint64(shb, ^uint64(0))
	out := ngBlock(nil, 0x0a0d0d0a, shb)
	out = ngBlock(out, 1, ngIDB("f0", 6, 0))
	const offset = 1000
	out = ngBlock(out, 1, ngIDB("f1", 0x80|20, offset))
	wrap := vxlanWrap(7)
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		id, data := uint32(p.Interface.ID), p.Data
		var ts uint64
		if p.Interface.Name == "f0" {
			ts = uint64(p.Time.UnixNano() / 1e3)
		} else {
			d := p.Time.Add(-offset * time.Second).Sub(time.Unix(0, 0))
			ts = uint64(d/time.Second<<20) + uint64(d%time.Second)<<20/uint64(time.Second)
			data = wrap(data)
		}
		body := binary.LittleEndian.AppendUint32(nil, id)
		body = binary.LittleEndian.AppendUint32(body, uint32(ts>>32))
		body = binary.LittleEndian.AppendUint32(body, uint32(ts))
		body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
		body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
		out = ngBlock(out, 6, append(body, data...))
	}
	path := filepath.Join(t.TempDir(), "fw-clocks.pcapng")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := Read([]string{orig}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sessions) != len(want.Sessions) || len(want.Sessions) != 6 {
		t.Fatalf("%d sessions, the original %d (want 6: 3 connections, 2 views)", len(got.Sessions), len(want.Sessions))
	}
	byView := func(c *Capture) map[[2]string]*Session {
		m := map[[2]string]*Session{}
		for _, s := range c.Sessions {
			m[[2]string{s.Key(), s.Interface()}] = s
		}
		return m
	}
	gv := byView(got)
	for k, w := range byView(want) {
		g := gv[k]
		if g == nil {
			t.Errorf("%s on %s: missing", k[0], k[1])
			continue
		}
		if k[1] == "f1" && g.Tunnel() == "" {
			t.Errorf("%s on f1: not read through the tunnel decoder", k[0])
		}
		for _, d := range Directions {
			wm, gm := w.Messages(d), g.Messages(d)
			if len(gm) != len(wm) {
				t.Errorf("%s on %s %s: %d messages, the original %d", k[0], k[1], d, len(gm), len(wm))
				continue
			}
			for i := range wm {
				if diff := wm[i].First.Sub(gm[i].First); diff < 0 || diff >= time.Microsecond || gm[i].Digest != wm[i].Digest {
					t.Errorf("%s on %s %s message %d: at %v, the original at %v", k[0], k[1], d, i, gm[i].First, wm[i].First)
				}
			}
		}
	}
}
