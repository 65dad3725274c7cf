package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wspath/wspath/report"
)

// Exit statuses, like diff's.
const (
	exitOK           = 0   // everything delivered
	exitLoss         = 1   // frames disappear, arrive changed (modified), or a connection closed mid-path
	exitError        = 2   // wspath could not do its job
	exitInconclusive = 3   // nothing proven lost, but some verdict is capture_gap or undecided, or a hop was left out
	exitInterrupted  = 130 // Ctrl-C (SIGINT) or SIGTERM: stopped, nothing half written left behind
)

// exitStatus is an error-free outcome that still sets the exit status (compare's verdicts).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is a command line that cannot be run; the message says what to type instead.
type usageError string

func (e usageError) Error() string { return string(e) }

// newApp defines the whole command line; completion scripts and the man page are generated from it.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "wspath",
		Usage:     "find the hop where WebSocket messages disappear, from captures taken at every hop",
		UsageText: "wspath COMMAND [options] ARGS...   (wspath help COMMAND for one command)",
		Version:   version(),
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once, by run, with their exit status; urfave must not exit for us.
		ExitErrHandler: func(*cli.Context, error) {},
		Suggest:        true,
		Commands:       []*cli.Command{compareCommand(), inspectCommand(), planCommand(), probeCommand(), initCommand(), completionCommand(), manCommand()},
		// For profiling on real captures: wspath --cpuprofile cpu.out inspect big.pcap.
		Flags: []cli.Flag{&cli.StringFlag{Name: "cpuprofile", Hidden: true,
			Usage: "write a CPU profile of the run to `FILE` (go tool pprof)"}},
		Before: startProfile,
		After:  stopProfile,
		// Reached with no command, or with a word that is not one (urfave passes it as an argument).
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				_ = cli.ShowAppHelp(c)
				return exitStatus(exitError)
			}
			return unknownCommand(c.App, c.Args().First())
		},
	}
	return app
}

// startProfile starts the CPU profile --cpuprofile asks for.
func startProfile(c *cli.Context) error {
	path := c.String("cpuprofile")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	c.App.Metadata = map[string]any{"cpuprofile": f}
	return nil
}

// stopProfile ends the CPU profile started by startProfile, if any.
func stopProfile(c *cli.Context) error {
	f, ok := c.App.Metadata["cpuprofile"].(*os.File)
	if !ok {
		return nil
	}
	pprof.StopCPUProfile()
	return f.Close()
}

// run is the whole command, testable in-process: it never calls os.Exit.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run, stopping when ctx is done (main cancels it on Ctrl-C): reading stops
// within a few thousand packets, a report file being written is removed, and the exit status is
// 130, as a shell gives a command ended by SIGINT.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, flagsFirst(args, app.Commands))
	var st exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &st):
		return int(st)
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "wspath: interrupted")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "wspath: %v\n", err)
	return exitError
}

// unknownCommand says that word is no command, suggesting the nearest one.
func unknownCommand(app *cli.App, word string) error {
	msg := fmt.Sprintf("%q is not a wspath command", word)
	var names []string
	for _, c := range app.VisibleCommands() {
		names = append(names, c.Name)
	}
	if s := nearest(word, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return usageError(msg + " (commands: " + strings.Join(names, ", ") + "; wspath help for more)")
}

// flagsFirst moves a subcommand's flags in front of its arguments. urfave/cli v2 stops parsing flags
// at the first argument, but people type `wspath compare hops.yaml -f json`.
func flagsFirst(args []string, cmds []*cli.Command) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	for _, c := range cmds {
		if c.HasName(args[1]) {
			cmd = c
		}
	}
	if cmd == nil || len(cmd.Subcommands) > 0 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

// outputFlags are the flags every command that renders a report takes.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "output format: " + report.Formats},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` (atomically) instead of standard output; - is standard output"},
		&cli.BoolFlag{Name: "no-payload", Usage: "leave payload previews out of the report"},
	}
}

// nearest returns the candidate within two edits of word (the closest, the first on ties), or "".
// urfave's own suggestion always names some command, however far; a wrong hint misleads.
func nearest(word string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counting an adjacent swap as one edit.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
