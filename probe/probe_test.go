package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wspath/wspath/probe/marker"
)

// echoServer echoes every message except the probes numbered in drop.
func echoServer(t *testing.T, tlsOn bool, drop ...int) *httptest.Server {
	up := websocket.Upgrader{EnableCompression: true}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if n, _, ok := marker.Parse(p); ok && contains(drop, n) {
				continue
			}
			if c.WriteMessage(typ, p) != nil {
				return
			}
		}
	})
	if tlsOn {
		return httptest.NewTLSServer(h)
	}
	return httptest.NewServer(h)
}

func contains(ns []int, n int) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

func TestRun_Echo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tls      bool
		compress bool
		drop     []int
	}{
		{"ws", false, false, nil},
		{"ws deflate, two dropped", false, true, []int{3, 7}},
		{"wss with key log", true, false, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := echoServer(t, tc.tls, tc.drop...)
			defer srv.Close()
			u := "ws" + strings.TrimPrefix(srv.URL, "http")
			keylog := filepath.Join(t.TempDir(), "keys.txt")
			o := Options{URL: u, Count: 10, Interval: 5 * time.Millisecond, Wait: 500 * time.Millisecond,
				Compress: tc.compress, Insecure: tc.tls}
			if tc.tls {
				o.KeylogFile = keylog
			}
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Missing(); !reflect.DeepEqual(got, tc.drop) {
				t.Errorf("missing %v, want %v", got, tc.drop)
			}
			if res.Compressed != tc.compress {
				t.Errorf("compressed %v, want %v", res.Compressed, tc.compress)
			}
			sizes := map[int]bool{}
			for _, p := range res.Probes {
				if p.Back && (!p.Intact || p.RTT <= 0) {
					t.Errorf("probe %+v", p)
				}
				switch {
				case p.Size <= 125:
					sizes[7] = true
				case p.Size <= 65535:
					sizes[16] = true
				default:
					sizes[64] = true
				}
			}
			if len(sizes) != 3 {
				t.Errorf("length encodings used: %v", sizes)
			}
			if tc.tls {
				b, err := os.ReadFile(keylog)
				if err != nil || !strings.Contains(string(b), "CLIENT_TRAFFIC_SECRET_0 ") {
					t.Errorf("key log: %v %q", err, b)
				}
			}
		})
	}
}

func TestRun_BadURL(t *testing.T) {
	for _, u := range []string{"http://x", "ws://", "nonsense"} {
		if _, err := Run(context.Background(), Options{URL: u}); err == nil || !strings.Contains(err.Error(), "ws://") {
			t.Errorf("Run(%q): %v", u, err)
		}
	}
}
