// Command gen is the TLS client used to make the captures under testdata (see ../README.md).
// It is a test tool, not part of wspath.
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "server address")
	maxVer := flag.String("max", "1.3", "highest TLS version: 1.2 or 1.3")
	suite := flag.String("suite", "", "TLS 1.2 cipher suite name")
	keylog := flag.String("keylog", "", "key log file (appended)")
	ws := flag.String("ws", "", "WebSocket path: speak WebSocket instead of plain lines")
	n := flag.Int("n", 3, "messages per connection")
	size := flag.Int("size", 0, "size of one extra large message")
	conns := flag.Int("conns", 1, "connections, sharing a session cache (resumption)")
	sni := flag.String("sni", "wspath.test", "server name")
	alpn := flag.String("alpn", "", "comma-separated ALPN protocols")
	flag.Parse()

	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: *sni, MaxVersion: tls.VersionTLS13,
		ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	if *maxVer == "1.2" {
		cfg.MaxVersion = tls.VersionTLS12
	}
	if *alpn != "" {
		cfg.NextProtos = strings.Split(*alpn, ",")
	}
	if *suite != "" {
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			if s.Name == *suite {
				cfg.CipherSuites = []uint16{s.ID}
			}
		}
		if cfg.CipherSuites == nil {
			log.Fatalf("unknown suite %s", *suite)
		}
	}
	if *keylog != "" {
		f, err := os.OpenFile(*keylog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		cfg.KeyLogWriter = f
	}
	for i := 0; i < *conns; i++ {
		if err := run(*addr, cfg, *ws, *n, *size, i); err != nil {
			log.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func run(addr string, cfg *tls.Config, ws string, n, size, conn int) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	st := c.ConnectionState()
	fmt.Fprintf(os.Stderr, "conn %d: %s %s resumed=%v\n", conn, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.DidResume)
	done := make(chan struct{})
	br := bufio.NewReader(c)
	if ws != "" {
		key := make([]byte, 16)
		rand.Read(key)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
			ws, cfg.ServerName, base64.StdEncoding.EncodeToString(key))
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			if l == "\r\n" {
				break
			}
		}
	}
	go func() { io.Copy(io.Discard, br); close(done) }()
	send := func(msg []byte) error {
		if ws != "" {
			msg = frame(msg)
		}
		_, err := c.Write(msg)
		time.Sleep(30 * time.Millisecond)
		return err
	}
	for i := 0; i < n; i++ {
		if err := send([]byte(fmt.Sprintf("conn %d message %d\n", conn, i))); err != nil {
			return err
		}
	}
	if size > 0 {
		big := []byte(strings.Repeat("0123456789abcdef", size/16+1)[:size-1] + "\n")
		if err := send(big); err != nil {
			return err
		}
	}
	time.Sleep(100 * time.Millisecond)
	if ws != "" {
		c.Write([]byte{0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2})
		time.Sleep(50 * time.Millisecond)
	}
	c.CloseWrite()
	select {
	case <-done:
	case <-time.After(500 * time.Millisecond):
	}
	return nil
}

// frame makes a masked text frame.
func frame(p []byte) []byte {
	f := []byte{0x81}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	case len(p) < 1<<16:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(len(p)))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(len(p)))
	}
	mask := []byte{0x11, 0x22, 0x33, 0x44}
	f = append(f, mask...)
	for i, b := range p {
		f = append(f, b^mask[i%4])
	}
	return f
}
