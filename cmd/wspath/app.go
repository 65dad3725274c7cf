package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// Exit statuses, like diff's.
const (
	exitOK           = 0 // everything delivered
	exitLoss         = 1 // frames disappear
	exitError        = 2 // wspath could not do its job
	exitInconclusive = 3 // nothing proven lost, but some verdict is capture_gap or undecided
)

// exitStatus is an error-free outcome that still sets the exit status (compare's verdicts).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// run is the whole command, testable in-process: it never calls os.Exit.
func run(args []string, stdout, stderr io.Writer) int {
	app := &cli.App{
		Name:      "wspath",
		Usage:     "find the hop where WebSocket messages disappear, from captures taken at every hop",
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once, below, with their exit status; urfave must not exit for us.
		ExitErrHandler:  func(*cli.Context, error) {},
		HideHelpCommand: true,
		Commands:        []*cli.Command{inspectCommand(), compareCommand()},
	}
	err := app.Run(flagsFirst(args, app.Commands))
	var st exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &st):
		return int(st)
	}
	fmt.Fprintf(stderr, "wspath: %v\n", err)
	return exitError
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
	if cmd == nil {
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
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "output format: table|markdown|json"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` (atomically) instead of standard output"},
		&cli.BoolFlag{Name: "no-payload", Usage: "leave payload previews out of the report"},
	}
}
