package correlate_test

import (
	"fmt"

	"github.com/wspath/wspath/capture"
	"github.com/wspath/wspath/correlate"
	"github.com/wspath/wspath/hopsconfig"
)

// Compare the hops of a path and print where messages disappeared.
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
	r := correlate.Compare(hops, correlate.Options{})
	fmt.Println(r.Summary.Verdict, *r.Summary.Segment, *r.Summary.Direction, r.Summary.MissingMessages)
	fmt.Println("exit status", r.ExitCode())
	// Output:
	// lost between fw and ingress client_to_server 6
	// exit status 1
}
