package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wspath/wspath/capture"
)

// hostileCapture has one session whose messages carry payloads meant to fool a terminal, a
// Markdown table or a browser, and a path and close reason from the wire that try the same.
func hostileCapture() (*capture.Capture, []string) {
	payloads := []string{
		"\x1b[31mred\x1b[0m\x1b]0;title\x07",
		"a|b|c",
		"line1\nline2\r\n",
		"<script>alert(1)</script>",
		"nul\x00byte",
		"\u202eevil",
		"[click](javascript:alert(1)) {noformat} [x|javascript:y] \\\\",
	}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s := &capture.Session{ID: 1, Start: t0, End: t0.Add(time.Second),
		Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:80"),
		Request: &capture.Request{Method: "GET", Path: "/x|<b>\x1b[2J", Key: "k"}}
	for i, p := range payloads {
		s.SetMessages(capture.ServerToClient, append(s.Messages(capture.ServerToClient), capture.Message{
			Index: i, Direction: capture.ServerToClient, Opcode: capture.OpText, Length: int64(len(p)),
			WireLength: int64(len(p)), Preview: []byte(p), First: t0, Last: t0, Frames: 1}))
	}
	return &capture.Capture{Sessions: []*capture.Session{s}, Start: t0, End: t0.Add(time.Second)}, payloads
}

func render(t *testing.T, f Format, o Options) string {
	t.Helper()
	c, _ := hostileCapture()
	var b bytes.Buffer
	if err := Inspect(&b, f, c, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestInspect_EscapesWireText(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		want   []string // must appear
		never  []string // must not appear
	}{
		{"table", Table,
			[]string{`\x1b[31mred\x1b[0m`, `line1\nline2\r\n`, `nul\x00byte`, `a|b|c`, `\u{202e}evil`},
			[]string{"\x1b", "\x07", "\x00", "line1\nline2", "\u202e", `\\x`}},
		{"markdown", Markdown,
			[]string{`\x1b[31mred\x1b[0m`, `a\|b\|c`, `\<script>alert(1)\</script>`, `nul\x00byte`, `/x\|\<b>\x1b[2J`, `[click\](javascript`},
			[]string{"\x1b", "\x00", " <script>", "|<b>", "a|b", `\\x`, "\u202e", "&lt;", "&gt;", "&amp;"}},
		{"jira", Jira,
			[]string{`\|`, `\[click\]`, `\{noformat\}`, "&#92;x1b"},
			[]string{"\x1b", "\x00", "[x|", "{noformat}", `\\`, "\u202e"}},
		{"json", JSON,
			[]string{`\\x1b[31mred`, `\u003cscript\u003e`},
			[]string{"\x1b", "\x00", "<script>", "\u202e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, tc.format, Options{Messages: true})
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q:\n%s", n, out)
				}
			}
		})
	}
}

// TestInspect_JSONPreviewIsText checks the JSON preview field: the payload escaped once by EscapeControl.
func TestInspect_JSONPreviewIsText(t *testing.T) {
	var doc struct {
		Connections []struct {
			Messages []struct {
				Preview *string `json:"preview"`
			} `json:"message_list"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(render(t, JSON, Options{Messages: true})), &doc); err != nil {
		t.Fatal(err)
	}
	_, payloads := hostileCapture()
	if len(doc.Connections) != 1 || len(doc.Connections[0].Messages) != len(payloads) {
		t.Fatalf("doc %+v", doc)
	}
	for i, m := range doc.Connections[0].Messages {
		if m.Preview == nil || *m.Preview != EscapeControl(payloads[i]) {
			t.Errorf("message %d preview %v, want %q", i, m.Preview, EscapeControl(payloads[i]))
		}
	}
}

func TestInspect_NoPayload(t *testing.T) {
	for _, f := range []Format{Table, Markdown, JSON} {
		t.Run(f.String(), func(t *testing.T) {
			out := render(t, f, Options{Messages: true, NoPayload: true})
			// "mred": the payload's "\x1b[31mred" (plain "red" is in words like "answered").
			for _, n := range []string{"mred", "script", "line1", `nul\`, "evil", `"preview"`, "0x"} {
				if strings.Contains(out, n) {
					t.Errorf("--no-payload output contains %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestEscapeControl_Cases(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[0m", `\x1b[0m`},
		{"a\\b", `a\\b`},
		{"\xff\xfe", `\xff\xfe`},
		{"tab\there", `tab\there`},
		{"\u0085", `\u{85}`},
		{"é ok", "é ok"},
	} {
		if got := EscapeControl(tc.in); got != tc.want {
			t.Errorf("EscapeControl(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCompare_EscapesWireText puts hostile text where a comparison carries text from the wire or
// from hops.yaml (incident, path, reason) and checks every format for people.
func TestCompare_EscapesWireText(t *testing.T) {
	r := c2sDrop(t)
	r.Incident = "<script>alert(1)</script>\x1b[2J"
	p := "/x</td><img src=x onerror=alert(1)>|[a](javascript:b)"
	r.Connections[1].Path = &p
	r.Connections[1].Directions.ClientToServer.Reason = "close reason \"<b>bold</b>\" {noformat} \u202e"
	for _, tc := range []struct {
		f     Format
		want  []string
		never []string
	}{
		{Table, []string{`\x1b[2J`}, []string{"\x1b[2J", "\u202e"}},
		{Markdown, []string{`\<script>`, `\<img`, `[a\](javascript`}, []string{"\x1b", " <script>", "&lt;", "\u202e"}},
		{Jira, []string{`\[a\](javascript`, `\{noformat\}`}, []string{"\x1b", "[a]", "\u202e"}},
		{HTML, []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x", "&lt;b&gt;bold"}, []string{"<script", "<img", "<b>", "\x1b", "\u202e"}},
	} {
		t.Run(tc.f.String(), func(t *testing.T) {
			var b bytes.Buffer
			if err := Compare(&b, tc.f, r, Options{Width: 100}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q", n)
				}
			}
			if tc.f == Markdown {
				if m := regexp.MustCompile(`(^|[^\\])<`).FindString(out); m != "" {
					t.Errorf("unescaped < in Markdown: %q", m)
				}
			}
		})
	}
}
