package wsframe_test

import (
	"bytes"
	"fmt"

	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/wsframe"
)

// printer is a wsframe.Handler that prints what the parser finds and collects payloads.
type printer struct {
	payload bytes.Buffer
}

func (p *printer) FrameStart(f wsframe.Frame) {
	fmt.Printf("frame at offset %d: opcode %d, fin %v, rsv1 %v, masked %v, %d bytes\n",
		f.Offset, f.Opcode, f.Fin, f.RSV1, f.Masked, f.Length)
	p.payload.Reset()
}
func (p *printer) Payload(b []byte)     { p.payload.Write(b) } // b is valid during the call only
func (p *printer) PayloadGap(n uint64)  { fmt.Printf("%d payload bytes not captured\n", n) }
func (p *printer) FrameEnd(packet.Meta) { fmt.Printf("  payload %q\n", p.payload.String()) }
func (p *printer) Error(err *wsframe.FrameError) {
	fmt.Println("error:", err)
}

// Frames of a client-to-server stream, as they arrive over TCP: a masked text frame (RFC 6455
// section 5.7's "Hello") split across two segments, then a close frame.
func Example() {
	hello := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	closeFrame := []byte{0x88, 0x82, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8}
	p := wsframe.NewParser(&printer{}, wsframe.Options{Mask: wsframe.MaskRequired})
	p.Feed(hello[:4], 0, packet.Meta{Number: 1})
	p.Feed(append(hello[4:], closeFrame...), 4, packet.Meta{Number: 2})
	p.End(packet.Meta{Number: 2})

	code, reason, err := wsframe.ParseClose([]byte{0x03, 0xe8})
	fmt.Println("close:", code, reason == "", err)
	// Output:
	// frame at offset 0: opcode 1, fin true, rsv1 false, masked true, 5 bytes
	//   payload "Hello"
	// frame at offset 11: opcode 8, fin true, rsv1 false, masked true, 2 bytes
	//   payload "\x03\xe8"
	// close: 1000 true <nil>
}

// Inflating permessage-deflate messages (RFC 7692 section 7.2.3.2's "Hello", then the same
// message again, which with context takeover refers back to the first).
func ExampleInflater() {
	in := wsframe.NewInflater(wsframe.InflateOptions{})
	for _, compressed := range [][]byte{
		{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
		{0xf2, 0x00, 0x11, 0x00, 0x00},
	} {
		in.Write(compressed)
		var out bytes.Buffer
		n, err := in.Finish(&out) // streams the inflated bytes, bounded by InflateOptions.MaxSize
		fmt.Println(n, out.String(), err)
	}
	// Output:
	// 5 Hello <nil>
	// 5 Hello <nil>
}
