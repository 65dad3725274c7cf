package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestHTML_RendersInChromium opens the HTML report in a real headless Chromium (Debian's
// chromium; .ci/run installs it) over the DevTools protocol and checks that the page, its tables
// and its SVG ladder lay out with a size, and that no script error, CSP violation or failed load
// is logged. Outside CI it is skipped when chromium is not installed.
func TestHTML_RendersInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (examples/netlab/install.sh installs it)")
		}
		t.Skip("chromium is not installed")
	}
	var b bytes.Buffer
	if err := Compare(&b, HTML, c2sDrop(t), Options{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cdp := startChromium(ctx, t, bin)
	defer cdp.Close()

	var events []string
	call := cdpCaller(t, cdp, &events)
	call("Runtime.enable", nil)
	call("Log.enable", nil)
	call("Page.enable", nil)
	call("Page.navigate", map[string]any{"url": "file://" + page})
	waitEvent(t, cdp, "Page.loadEventFired", &events)
	res := call("Runtime.evaluate", map[string]any{"returnByValue": true, "expression": `JSON.stringify((() => {
		const box = el => { if (!el) return null; const r = el.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; };
		return {
			title: document.title,
			summary: box(document.getElementById("summary")),
			connections: box(document.getElementById("connections")),
			hops: box(document.getElementById("hops")),
			hopRows: document.querySelectorAll("#hops tbody tr").length,
			svg: box(document.querySelector("svg.ladder")),
			svgLines: document.querySelectorAll("svg.ladder line").length,
			svgTexts: Array.from(document.querySelectorAll("svg.ladder text")).map(t => t.textContent),
			scripts: document.scripts.length,
		};
	})())`})
	var got struct {
		Title       string
		Summary     []int
		Connections []int
		Hops        []int
		HopRows     int
		SVG         []int `json:"svg"`
		SVGLines    int   `json:"svgLines"`
		SVGTexts    []string
		Scripts     int
	}
	var val struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(res, &val); err != nil || json.Unmarshal([]byte(val.Result.Value), &got) != nil {
		t.Fatalf("evaluate: %s (%v)", res, err)
	}
	t.Logf("%+v", got)
	if !strings.Contains(got.Title, "LOST at ingress") {
		t.Errorf("title %q", got.Title)
	}
	for name, box := range map[string][]int{"summary": got.Summary, "connections table": got.Connections, "hops table": got.Hops, "svg": got.SVG} {
		if len(box) != 2 || box[0] < 50 || box[1] < 15 {
			t.Errorf("%s did not render with a size: %v", name, box)
		}
	}
	if got.HopRows != 5 || got.SVGLines < 5 || got.Scripts != 0 {
		t.Errorf("hop rows %d, svg lines %d, scripts %d", got.HopRows, got.SVGLines, got.Scripts)
	}
	if !strings.Contains(strings.Join(got.SVGTexts, "|"), "message 6 lost") {
		t.Errorf("svg texts %q lack the lost message", got.SVGTexts)
	}
	for _, e := range events {
		t.Errorf("browser reported: %s", e)
	}
}

// startChromium starts headless Chromium on about:blank with DevTools on a free port and connects
// to its page.
func startChromium(ctx context.Context, t *testing.T, bin string) *websocket.Conn {
	t.Helper()
	// The profile lives outside t.TempDir: Chromium's helper processes may still be writing to
	// it while the test ends, which made TempDir's cleanup fail the test.
	profile, err := os.MkdirTemp("", "wspath-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir="+profile,
		"--window-size=1200,900", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that its helpers go with it
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the whole process group
		cmd.Wait()
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
	var browserURL string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if _, u, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
			browserURL = u
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if browserURL == "" {
		t.Fatal("chromium did not say where DevTools listens")
	}
	host := strings.TrimPrefix(strings.SplitN(browserURL, "/devtools/", 2)[0], "ws://")
	var targets []devtoolsTarget
	for i := 0; i < 50 && len(targets) == 0; i++ {
		resp, err := http.Get("http://" + host + "/json/list")
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		targets = pages(targets)
		if len(targets) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(targets) == 0 {
		t.Fatal("no page target")
	}
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, targets[0].WS, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(45 * time.Second))
	return conn
}

// devtoolsTarget is one entry of DevTools' /json/list.
type devtoolsTarget struct {
	Type string `json:"type"`
	WS   string `json:"webSocketDebuggerUrl"`
}

func pages(ts []devtoolsTarget) []devtoolsTarget {
	var out []devtoolsTarget
	for _, t := range ts {
		if t.Type == "page" {
			out = append(out, t)
		}
	}
	return out
}

type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// cdpCaller returns a function that sends a DevTools command and waits for its answer, noting
// error events seen meanwhile in events.
func cdpCaller(t *testing.T, c *websocket.Conn, events *[]string) func(string, map[string]any) json.RawMessage {
	id := 0
	return func(method string, params map[string]any) json.RawMessage {
		t.Helper()
		id++
		if params == nil {
			params = map[string]any{}
		}
		if err := c.WriteJSON(map[string]any{"id": id, "method": method, "params": params}); err != nil {
			t.Fatal(err)
		}
		for {
			var m cdpMessage
			if err := c.ReadJSON(&m); err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			noteError(m, events)
			if m.ID == id {
				if len(m.Error) > 0 {
					t.Fatalf("%s: %s", method, m.Error)
				}
				return m.Result
			}
		}
	}
}

func waitEvent(t *testing.T, c *websocket.Conn, method string, events *[]string) {
	t.Helper()
	for {
		var m cdpMessage
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", method, err)
		}
		noteError(m, events)
		if m.Method == method {
			return
		}
	}
}

// noteError keeps script exceptions and error-level log or console entries.
func noteError(m cdpMessage, events *[]string) {
	switch m.Method {
	case "Runtime.exceptionThrown":
		*events = append(*events, "exception: "+string(m.Params))
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Text, Source string } `json:"entry"`
		}
		json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" || p.Entry.Level == "warning" {
			*events = append(*events, fmt.Sprintf("log %s %s: %s", p.Entry.Level, p.Entry.Source, p.Entry.Text))
		}
	case "Runtime.consoleAPICalled":
		if strings.Contains(string(m.Params), `"type":"error"`) {
			*events = append(*events, "console: "+string(m.Params))
		}
	}
}
