package tlsdecrypt_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"

	"github.com/wspath/wspath/capture/packet"
	"github.com/wspath/wspath/capture/tlsdecrypt"
)

// recorder keeps a copy of every byte written to a connection: what a capture of it would see.
type recorder struct {
	net.Conn
	wire *bytes.Buffer
}

func (r recorder) Write(b []byte) (int, error) {
	r.wire.Write(b)
	return r.Conn.Write(b)
}

// plaintext is a tlsdecrypt.Handler that keeps the decrypted bytes of each direction.
type plaintext struct{ dir [2]bytes.Buffer }

func (p *plaintext) Plaintext(dir packet.Direction, b []byte, m packet.Meta) { p.dir[dir].Write(b) } // copy: b is reused
func (p *plaintext) Record(dir packet.Direction, n int, m packet.Meta)       {}

// A TLS 1.3 connection made by Go's crypto/tls, which writes its secrets to a key log as
// SSLKEYLOGFILE does, decrypted from the bytes on the wire.
func Example() {
	cert, err := tls.LoadX509KeyPair("testdata/certs/ec.crt", "testdata/certs/ec.key")
	if err != nil {
		fmt.Println(err)
		return
	}
	var keylog, c2s, s2c bytes.Buffer
	a, b := net.Pipe()
	client := tls.Client(recorder{a, &c2s}, &tls.Config{InsecureSkipVerify: true, ServerName: "wspath.test",
		MinVersion: tls.VersionTLS13, KeyLogWriter: &keylog})
	server := tls.Server(recorder{b, &s2c}, &tls.Config{Certificates: []tls.Certificate{cert}})
	go func() {
		buf := make([]byte, 64)
		n, _ := server.Read(buf)
		server.Write(bytes.ToUpper(buf[:n]))
		server.Close()
	}()
	client.Write([]byte("GET /chat HTTP/1.1\r\n\r\n"))
	io.ReadAll(client)
	client.Close()

	kl, errs := tlsdecrypt.ParseKeylog(keylog.Bytes())
	fmt.Println("key log entries:", kl.Len(), "unusable lines:", len(errs)) // TLS 1.3: four secrets per connection
	h := &plaintext{}
	c := tlsdecrypt.NewConn(kl, h)
	c.Feed(tlsdecrypt.ClientToServer, c2s.Bytes(), packet.Meta{File: "client.pcap", Number: 1})
	c.Feed(tlsdecrypt.ServerToClient, s2c.Bytes(), packet.Meta{File: "client.pcap", Number: 2})
	c.Close()
	info := c.Info()
	fmt.Println(info.Version, info.SNI, info.Decrypted)
	fmt.Printf("%q\n%q\n", h.dir[0].String(), h.dir[1].String())

	// Without the key, only the records' shapes are known.
	c = tlsdecrypt.NewConn(nil, &plaintext{})
	c.Feed(tlsdecrypt.ClientToServer, c2s.Bytes(), packet.Meta{})
	c.Close()
	fmt.Println(c.Info().Decrypted)
	// Output:
	// key log entries: 4 unusable lines: 0
	// TLS 1.3 wspath.test true
	// "GET /chat HTTP/1.1\r\n\r\n"
	// "GET /CHAT HTTP/1.1\r\n\r\n"
	// false
}
