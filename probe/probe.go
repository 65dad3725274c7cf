package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wspath/wspath/probe/marker"
)

// DefaultSizes are the payload sizes probes cycle through: two in the 7-bit length encoding (the
// largest, 125, at its edge), two in the 16-bit one (126 at its edge) and one in the 64-bit one.
var DefaultSizes = []int{marker.MinSize, 125, 126, 4000, 65536 + 100}

// Options say what to send. The zero value of each field means its default.
type Options struct {
	URL      string        // ws:// or wss://
	Count    int           // messages to send; default 20
	Interval time.Duration // between sends; default 200ms
	// Sizes are payload sizes used in turn; default DefaultSizes. Sizes below marker.MinSize are
	// raised to it.
	Sizes []int
	// Text sends only text messages, Binary only binary ones; by default they alternate.
	Text, Binary bool
	// Compress offers permessage-deflate (and compresses what is sent when it is agreed).
	Compress bool
	// Wait is how long to wait for replies after the last send; default 3s.
	Wait time.Duration
	// KeylogFile, when set, receives the TLS secrets in NSS key log format (appended).
	KeylogFile string
	// CAFile adds PEM certificates to trust (a lab or internal CA); Insecure skips verification.
	CAFile   string
	Insecure bool
	// Header is sent with the upgrade request (Origin, Authorization, ...).
	Header http.Header
	// Run names this run in the markers; default 8 random hex digits.
	Run string
}

// Probe is one message sent and what became of it.
type Probe struct {
	N      int
	Binary bool
	Size   int
	Sent   time.Time
	// Back says whether a message with this probe's marker came back; Intact whether it came
	// back byte for byte.
	Back, Intact bool
	RTT          time.Duration
}

// Result is what a run did.
type Result struct {
	URL        string
	Run        string
	Compressed bool // permessage-deflate was agreed
	Probes     []Probe
	// Other counts messages received that were not replies to this run's probes.
	Other int
	// Closed is why the connection ended before the wait was over, or "".
	Closed string
	// Stuck says that a send did not finish (nothing acknowledged the bytes: the path stopped
	// carrying them), after which no more probes were sent; "" when every send finished.
	Stuck string
}

// Missing returns the numbers of the probes that did not come back.
func (r *Result) Missing() []int {
	var out []int
	for _, p := range r.Probes {
		if !p.Back {
			out = append(out, p.N)
		}
	}
	return out
}

func (o Options) withDefaults() (Options, error) {
	if o.Count <= 0 {
		o.Count = 20
	}
	if o.Interval <= 0 {
		o.Interval = 200 * time.Millisecond
	}
	if len(o.Sizes) == 0 {
		o.Sizes = DefaultSizes
	}
	if o.Wait <= 0 {
		o.Wait = 3 * time.Second
	}
	if o.Text && o.Binary {
		return o, errors.New("probe: choose text or binary, not both (neither alternates them)")
	}
	if o.Run == "" {
		b := make([]byte, 4)
		rand.Read(b)
		o.Run = hex.EncodeToString(b)
	}
	return o, nil
}

// sendTimeout bounds one send: a healthy path takes even the largest probe in far less.
const sendTimeout = 5 * time.Second

// Run connects, sends the probes and waits for the replies. It returns a Result whenever the
// connection was made, even when it broke later (the error says how).
func Run(ctx context.Context, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	conn, agreed, closeKeylog, err := dial(ctx, o)
	if err != nil {
		return nil, err
	}
	defer closeKeylog()
	defer conn.Close()
	res := &Result{URL: o.URL, Run: o.Run, Compressed: strings.Contains(agreed, "permessage-deflate")}
	conn.EnableWriteCompression(o.Compress)

	var mu sync.Mutex
	payloads := map[int][]byte{}
	readDone := make(chan error, 1)
	go func() { readDone <- readReplies(conn, o.Run, &mu, payloads, res) }()

	var sendErr error
	for n := 0; n < o.Count && sendErr == nil; n++ {
		if n > 0 {
			select {
			case <-ctx.Done():
				sendErr = ctx.Err()
				continue
			case err := <-readDone:
				sendErr = fmt.Errorf("probe: connection ended after %d probes: %w", n, err)
				readDone <- err
				continue
			case <-time.After(o.Interval):
			}
		}
		binary := o.Binary || (!o.Text && n%2 == 1)
		p := marker.Payload(n, o.Run, o.Sizes[n%len(o.Sizes)], binary)
		typ := websocket.TextMessage
		if binary {
			typ = websocket.BinaryMessage
		}
		mu.Lock()
		payloads[n] = p
		res.Probes = append(res.Probes, Probe{N: n, Binary: binary, Size: len(p), Sent: time.Now()})
		mu.Unlock()
		conn.SetWriteDeadline(time.Now().Add(sendTimeout))
		if err := conn.WriteMessage(typ, p); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// The path stopped taking bytes: that is what the probe is for, not a failure.
				mu.Lock()
				res.Stuck = fmt.Sprintf("sending #%d did not finish within %s (the connection stopped carrying data); no later probe was sent", n, sendTimeout)
				mu.Unlock()
				break
			}
			sendErr = fmt.Errorf("probe: sending #%d: %w", n, err)
		}
	}
	readErr := waitReplies(ctx, conn, o.Wait, readDone, &mu, res)
	mu.Lock()
	defer mu.Unlock()
	if readErr != nil {
		res.Closed = readErr.Error()
	}
	return res, sendErr
}

// waitReplies waits until every probe came back, the wait is over, or the connection ends; then
// closes the connection cleanly.
func waitReplies(ctx context.Context, conn *websocket.Conn, wait time.Duration, readDone chan error, mu *sync.Mutex, res *Result) error {
	deadline := time.After(wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-readDone:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			closeConn(conn, readDone)
			return nil
		case <-tick.C:
			mu.Lock()
			all := len(res.Missing()) == 0
			mu.Unlock()
			if all {
				closeConn(conn, readDone)
				return nil
			}
		}
	}
}

// closeConn sends a close frame and waits briefly for the server's.
func closeConn(conn *websocket.Conn, readDone chan error) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "wspath probe done"),
		time.Now().Add(time.Second))
	select {
	case <-readDone:
	case <-time.After(2 * time.Second):
	}
}

// readReplies reads until the connection ends, marking the probes whose marker comes back.
func readReplies(conn *websocket.Conn, run string, mu *sync.Mutex, payloads map[int][]byte, res *Result) error {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure {
				return nil
			}
			return err
		}
		now := time.Now()
		n, r, ok := marker.Parse(data)
		mu.Lock()
		sent, known := payloads[n]
		if !ok || r != run || !known || n >= len(res.Probes) {
			res.Other++
			mu.Unlock()
			continue
		}
		p := &res.Probes[n]
		if !p.Back {
			p.Back, p.RTT, p.Intact = true, now.Sub(p.Sent), bytes.Equal(data, sent)
		}
		mu.Unlock()
	}
}

// dial connects and returns the connection, the extensions the server agreed to, and a function
// that closes the key log.
func dial(ctx context.Context, o Options) (*websocket.Conn, string, func(), error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, "", nil, fmt.Errorf("probe: %q: want a ws:// or wss:// URL", o.URL)
	}
	tc := &tls.Config{NextProtos: []string{"http/1.1"}, InsecureSkipVerify: o.Insecure}
	closeKeylog := func() {}
	if o.KeylogFile != "" {
		f, err := os.OpenFile(o.KeylogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, "", nil, fmt.Errorf("probe: key log: %w", err)
		}
		tc.KeyLogWriter = f
		closeKeylog = func() { f.Close() }
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			closeKeylog()
			return nil, "", nil, fmt.Errorf("probe: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			closeKeylog()
			return nil, "", nil, fmt.Errorf("probe: CA file %s: no PEM certificate", o.CAFile)
		}
		tc.RootCAs = pool
	}
	d := websocket.Dialer{TLSClientConfig: tc, HandshakeTimeout: 10 * time.Second, EnableCompression: o.Compress,
		Proxy: nil, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
	conn, resp, err := d.DialContext(ctx, o.URL, o.Header)
	if err != nil {
		closeKeylog()
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			resp.Body.Close()
			return nil, "", nil, fmt.Errorf("probe: %s: handshake refused: %s %q", o.URL, resp.Status, body)
		}
		return nil, "", nil, fmt.Errorf("probe: %s: %w", o.URL, err)
	}
	conn.SetReadLimit(64 << 20)
	return conn, resp.Header.Get("Sec-WebSocket-Extensions"), closeKeylog, nil
}
