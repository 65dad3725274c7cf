package report_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/correlate"
	"github.com/wspath/wspath/hopsconfig"
	"github.com/wspath/wspath/report"
)

// Comparing the captures of a lab run where a firewall dropped a client message (the bundled
// examples/c2s-drop), and rendering the verdicts as Markdown for an incident ticket.
func ExampleCompare() {
	cfg, err := hopsconfig.Load("../examples/c2s-drop/hops.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	hops, err := correlate.ReadHops(cfg, capture.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res := correlate.Compare(hops, correlate.Options{Incident: cfg.Incident})
	var md bytes.Buffer
	if err := report.Compare(&md, report.Markdown, res, report.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	// The headline, and the table row of the direction that lost messages.
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "## ") || strings.Contains(line, "| lost ") {
			fmt.Println(line)
		}
	}
	// Output:
	// ## wspath netlab scenario c2s-drop: LOST at ingress (between fw and ingress)
	// | 2    | /chat/2 | to server | lost      | 12     | 12 | 7  | 6       | 6      | ingress: 6 msg from #6 at 22:34:02.512 |
}

// Listing the WebSocket connections of one capture, as `wspath inspect` does, for a terminal.
func ExampleInspect() {
	c, err := capture.Read([]string{"../examples/c2s-drop/client.pcap"}, capture.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	report.Inspect(os.Stdout, report.Table, c, report.Options{})
	// Output:
	// 3 WebSocket connection(s) in 241 packet(s) from 1 file(s)
	// ┌───┬──────────────────┬─────────────────┬─────────┬──────────────────────────┬──────────────────────────┬───────────┬───────────┬────────────┐
	// │ # │ client           │ server          │ path    │ key                      │ subprotocol / extensions │ c->s msgs │ s->c msgs │ ended      │
	// ├───┼──────────────────┼─────────────────┼─────────┼──────────────────────────┼──────────────────────────┼───────────┼───────────┼────────────┤
	// │ 1 │ 10.231.1.1:36554 │ 10.231.1.2:8080 │ /chat/1 │ GzpSe7pQyvZ5IYxi2QKpnw== │                          │ 12        │ 12        │ close 1000 │
	// │ 2 │ 10.231.1.1:36570 │ 10.231.1.2:8080 │ /chat/2 │ lgaqtf0DIFP6HMf7bDQ7NA== │                          │ 12        │ 12        │ fin 1000   │
	// │ 3 │ 10.231.1.1:36582 │ 10.231.1.2:8080 │ /chat/3 │ 3hVVgX/fFzpLgjAwwqA/DA== │                          │ 12        │ 12        │ close 1000 │
	// └───┴──────────────────┴─────────────────┴─────────┴──────────────────────────┴──────────────────────────┴───────────┴───────────┴────────────┘
}
