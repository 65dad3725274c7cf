package capture_test

import (
	"fmt"
	"path/filepath"

	"github.com/wspath/wspath/capture"
)

// Read the rotated capture files of one hop and list its WebSocket connections.
func ExampleRead() {
	files, _ := filepath.Glob("../examples/c2s-drop/lb-*.pcap")
	c, err := capture.Read(files, capture.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range c.Sessions {
		data := 0
		for _, m := range s.Messages(capture.ClientToServer) {
			if m.Opcode.IsData() { // text and binary; pings, pongs and close are control frames
				data++
			}
		}
		fmt.Printf("%s %s -> %s: %d client messages, ended by %s\n", s.Path(), s.Client, s.Server, data, s.Ending)
	}
	// Output:
	// /chat/1 10.231.1.1:36554 -> 10.231.1.2:8080: 12 client messages, ended by close
	// /chat/2 10.231.1.1:36570 -> 10.231.1.2:8080: 12 client messages, ended by fin
	// /chat/3 10.231.1.1:36582 -> 10.231.1.2:8080: 12 client messages, ended by close
}
