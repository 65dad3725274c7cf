package tlsdecrypt

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// Protocol versions as they appear on the wire.
const (
	versionTLS10 = 0x0301
	versionTLS11 = 0x0302
	versionTLS12 = 0x0303
	versionTLS13 = 0x0304
)

// versionName returns "TLS 1.2" and the like, or "0xNNNN" for other values.
func versionName(v uint16) string {
	switch v {
	case versionTLS10:
		return "TLS 1.0"
	case versionTLS11:
		return "TLS 1.1"
	case versionTLS12:
		return "TLS 1.2"
	case versionTLS13:
		return "TLS 1.3"
	case 0:
		return ""
	}
	return fmt.Sprintf("0x%04x", v)
}

// bulk is the record protection of a cipher suite.
type bulk uint8

const (
	bulkAESGCM bulk = iota + 1
	bulkChaCha
	bulkAESCBC
)

// suite describes a cipher suite wspath can decrypt.
type suite struct {
	id     uint16
	name   string
	tls13  bool
	bulk   bulk
	keyLen int
	mac    func() hash.Hash // CBC record MAC; nil for AEAD suites
	prf    func() hash.Hash // TLS 1.2 PRF hash, TLS 1.3 HKDF hash
	rsaKex bool             // the client sends the pre-master secret encrypted to the server's RSA key
}

func (s *suite) macLen() int {
	if s.mac == nil {
		return 0
	}
	return s.mac().Size()
}

var (
	hSHA1   = sha1.New
	hSHA256 = sha256.New
	hSHA384 = sha512.New384
)

// suiteByID returns the suite with the given id, or nil when wspath cannot decrypt it.
func suiteByID(id uint16) *suite {
	for i := range suites {
		if suites[i].id == id {
			s := suites[i]
			return &s
		}
	}
	return nil
}

// suiteName returns the IANA name of a suite, or "0xNNNN".
func suiteName(id uint16) string {
	if s := suiteByID(id); s != nil {
		return s.name
	}
	return fmt.Sprintf("0x%04x", id)
}

// suites lists the cipher suites wspath decrypts. It is never modified.
var suites = [...]suite{
	{0x1301, "TLS_AES_128_GCM_SHA256", true, bulkAESGCM, 16, nil, hSHA256, false},
	{0x1302, "TLS_AES_256_GCM_SHA384", true, bulkAESGCM, 32, nil, hSHA384, false},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, bulkChaCha, 32, nil, hSHA256, false},

	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, nil, hSHA256, false},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, nil, hSHA384, false},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, nil, hSHA256, false},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, nil, hSHA384, false},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, nil, hSHA256, false},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, nil, hSHA384, false},
	{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, nil, hSHA256, true},
	{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, nil, hSHA384, true},

	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, nil, hSHA256, false},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, nil, hSHA256, false},
	{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, nil, hSHA256, false},

	{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hSHA1, hSHA256, true},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hSHA1, hSHA256, true},
	{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hSHA256, hSHA256, true},
	{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", false, bulkAESCBC, 32, hSHA256, hSHA256, true},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hSHA1, hSHA256, false},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hSHA1, hSHA256, false},
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hSHA256, hSHA256, false},
	{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", false, bulkAESCBC, 32, hSHA256, hSHA256, false},
	{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hSHA1, hSHA256, false},
	{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hSHA1, hSHA256, false},
	{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hSHA1, hSHA256, false},
	{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hSHA1, hSHA256, false},
	{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hSHA256, hSHA256, false},
	{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, bulkAESCBC, 32, hSHA384, hSHA384, false},
	{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hSHA256, hSHA256, false},
	{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", false, bulkAESCBC, 32, hSHA384, hSHA384, false},
}
