// Package report renders wspath's results for people and for scripts.
//
// It is the last stage of the pipeline: it takes the sessions that package capture found at a hop
// (Inspect) or the verdicts that package correlate decided across hops (Compare) and writes them as a
// terminal table, a Markdown table for incident tickets, or JSON with a stable, documented schema
// (the contract types are in package schema).
//
//	err := report.Inspect(os.Stdout, report.Table, captures, report.Options{Messages: true})
//
// Each format is one file: terminal.go and markdown.go implement sheet (lines and tables), on which
// the compare and inspect layouts are written once; a new line-oriented format is a new sheet, a new
// richer format (HTML) a new file reading the same results.
//
// Every renderer escapes text that came off the wire (previews, paths, close reasons, header values):
// terminal control sequences are shown as \xNN, Markdown cells cannot break out of their table, and
// HTML is escaped, so a hostile payload cannot rewrite a terminal or a ticket. Output is deterministic.
package report
