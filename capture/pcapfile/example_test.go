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
