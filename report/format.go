package report

import (
	"fmt"
	"strings"
)

// Format is an output format.
type Format uint8

// Output formats.
const (
	Table    Format = iota // a table for a terminal
	Markdown               // a Markdown table to paste into a ticket
	JSON                   // one JSON object, for scripts
	Jira                   // Jira wiki markup, for Jira tickets
	HTML                   // one self-contained HTML page
)

// Formats lists the accepted format names, for help texts.
const Formats = "table|markdown|jira|html|json"

// ParseFormat returns the Format named s ("table", "markdown" or "md", "jira", "html", "json").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "table", "text":
		return Table, nil
	case "markdown", "md":
		return Markdown, nil
	case "json":
		return JSON, nil
	case "jira":
		return Jira, nil
	case "html":
		return HTML, nil
	}
	return Table, fmt.Errorf("unknown format %q (want %s)", s, Formats)
}

// String returns the format's name.
func (f Format) String() string {
	return [...]string{"table", "markdown", "json", "jira", "html"}[f]
}

// Options tune what the renderers show. The zero value shows the defaults.
type Options struct {
	// Messages lists every message, not only per-connection counts (inspect).
	Messages bool
	// NoPayload leaves payload previews out of every format, for tickets in sensitive systems.
	NoPayload bool
	// All lists fully delivered connections too; by default they are counted, not listed.
	All bool
	// Width is the terminal's width in columns for the table format: a table that does not fit
	// becomes one block of lines per connection. 0 means no limit.
	Width int
	// Color marks verdicts with ANSI colours in the table format (for a terminal that wants them).
	Color bool
}
