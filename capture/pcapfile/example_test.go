package pcapfile_test

import (
	"errors"
	"fmt"
	"io"

	"github.com/wspath/wspath/capture/pcapfile"
)

func ExampleOpen() {
	r, err := pcapfile.Open("testdata/two-linktypes.pcapng.gz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	cut := 0
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err) // e.g. "f.pcap: packet 7 (offset 1234): truncated capture file: ..."
			return
		}
		if p.CaptureLength < p.Length {
			cut++
		}
	}
	info := r.Info()
	fmt.Println(info.Format, info.Gzip, info.LinkTypes, info.Packets, cut)
	// Output: pcapng true [ethernet linux_sll2] 73 0
}

// A pcapng file may hold several interfaces (dumpcap -i eth0 -i eth1, or mergecap of two
// captures, as here): each packet names the one it was captured on.
func ExampleReader_Interfaces() {
	r, err := pcapfile.Open("testdata/two-linktypes.pcapng")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	packets := map[int]int{}
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		packets[p.Interface.ID]++
	}
	for _, f := range r.Interfaces() {
		fmt.Printf("%s: %s, %d packets\n", f, f.LinkType, packets[f.ID])
	}
	// Output:
	// interface 0: ethernet, 36 packets
	// interface 1: linux_sll2, 37 packets
}
