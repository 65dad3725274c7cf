// Command wspath finds where WebSocket messages disappear on a multi-hop path, from tcpdump captures
// taken at every hop.
//
//	wspath inspect FILE...          list the WebSocket connections and messages in captures of one hop
//	wspath compare hops.yaml        match connections across hops and report the first hop where frames disappear
//
// Exit status, like diff: 0 everything delivered, 1 frames disappear, 2 error, 3 inconclusive.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first Ctrl-C stops the run cleanly (exit 130); once it has, a second one is Go's
	// default again and ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(runContext(ctx, os.Args, os.Stdout, os.Stderr))
}
