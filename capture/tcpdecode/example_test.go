package tcpdecode_test

import (
	"fmt"
	"io"

	"github.com/wspath/wspath/capture/pcapfile"
	"github.com/wspath/wspath/capture/tcpdecode"
)

func ExampleDecode() {
	r, err := pcapfile.Open("../pcapfile/testdata/lo-snap96.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	var seg tcpdecode.Segment
	for i := 0; i < 2; i++ {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err := tcpdecode.Decode(p.LinkType, p.Data, &seg); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(seg.Src.Addr(), "->", seg.Dst, seg.Flags, "wscale", seg.WindowScale, "payload", seg.PayloadLength)
	}
	// Output:
	// 127.0.0.1 -> 127.0.0.1:18080 SYN wscale 10 payload 0
	// 127.0.0.1 -> 127.0.0.1:33982 SYN|ACK wscale 10 payload 0
}
