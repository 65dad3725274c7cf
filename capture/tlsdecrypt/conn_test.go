package tlsdecrypt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// captureCase is a capture under testdata with the key log to decrypt it.
type captureCase struct {
	name    string // file name without extension
	keys    string // key log file, "" for name.keys
	ext     string // ".pcap" unless set
	version string
	suite   string
	resumed []bool // per stream; nil: none resumed
	noKey   []bool // per stream: the key log has no key for it
}

var captureCases = []captureCase{
	{name: "tls13_aes128gcm_openssl", version: "TLS 1.3", suite: "TLS_AES_128_GCM_SHA256"},
	{name: "tls13_aes256gcm_openssl", version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384"},
	{name: "tls13_chacha20_openssl", version: "TLS 1.3", suite: "TLS_CHACHA20_POLY1305_SHA256"},
	{name: "tls13_hrr_openssl", version: "TLS 1.3", suite: "TLS_AES_128_GCM_SHA256"},
	{name: "tls13_keyupdate_sclient", version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384"},
	{name: "tls13_aes256gcm_haproxy_ws", version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384"},
	{name: "tls13_resume_haproxy", version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384", resumed: []bool{false, true}},
	// Key logs with the secrets of one of the two connections only: the other is reported as
	// having no key (its records still counted), and the one with keys decrypts on its own, the
	// resumed one too (TLS 1.3 logs its own traffic secrets).
	{name: "tls13_resume_haproxy", keys: "tls13_resume_haproxy.first.keys", version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384",
		resumed: []bool{false, true}, noKey: []bool{false, true}},
	{name: "tls13_resume_haproxy", keys: "tls13_resume_haproxy.second.keys", version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384",
		resumed: []bool{false, true}, noKey: []bool{true, false}},
	{name: "tls13_dsb", ext: ".pcapng", keys: "-", version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384"},
	{name: "tls12_ecdhe_rsa_aes128cbcsha_openssl", version: "TLS 1.2", suite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
	{name: "tls12_rsa_aes256cbcsha_openssl", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_256_CBC_SHA"},
	{name: "tls12_rsa_aes256cbcsha_openssl", keys: "tls12_rsa_aes256cbcsha_openssl.rsa.keys", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_256_CBC_SHA"},
	{name: "tls12_rsa_aes256cbcsha_openssl", keys: "tls12_rsa_aes256cbcsha_openssl.pms.keys", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_256_CBC_SHA"},
	{name: "tls12_rsa_aes256cbcsha_openssl", keys: "tls12_rsa_aes256cbcsha_openssl.sid.keys", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_256_CBC_SHA"},
	{name: "tls12_ecdhe_ecdsa_aes128cbcsha256_openssl", version: "TLS 1.2", suite: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
	{name: "tls12_rsa_aes128gcm_openssl", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_128_GCM_SHA256"},
	{name: "tls12_rsa_aes128gcm_openssl", keys: "tls12_rsa_aes128gcm_openssl.rsa.keys", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_128_GCM_SHA256"},
	{name: "tls12_rsa_aes128gcm_openssl", keys: "tls12_rsa_aes128gcm_openssl.pms.keys", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_128_GCM_SHA256"},
	{name: "tls12_rsa_aes128gcm_openssl", keys: "tls12_rsa_aes128gcm_openssl.sid.keys", version: "TLS 1.2", suite: "TLS_RSA_WITH_AES_128_GCM_SHA256"},
	{name: "tls12_ecdhe_rsa_aes256gcm_haproxy_ws", version: "TLS 1.2", suite: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
	{name: "tls12_ecdhe_rsa_chacha20_haproxy", version: "TLS 1.2", suite: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	{name: "tls12_ecdhe_ecdsa_aes128gcm_haproxy", version: "TLS 1.2", suite: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
	{name: "tls12_ecdhe_ecdsa_chacha20_haproxy", version: "TLS 1.2", suite: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
	// Go's key log has no line for a resumed TLS 1.2 connection: its master secret is the one
	// learnt from the full handshake it resumes (the same Keylog serves both streams), or the
	// .sid.keys log maps its session id to it.
	{name: "tls12_resume_haproxy", version: "TLS 1.2", suite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", resumed: []bool{false, true}},
	{name: "tls12_resume_haproxy", keys: "tls12_resume_haproxy.sid.keys", version: "TLS 1.2", suite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", resumed: []bool{false, true}},
	{name: "tls12_ecdhe_rsa_aes128cbcsha256_haproxy", version: "TLS 1.2", suite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
	{name: "tls12_ecdhe_rsa_aes256cbcsha384_etm_sclient", version: "TLS 1.2", suite: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
}

func (cc captureCase) path() string {
	ext := cc.ext
	if ext == "" {
		ext = ".pcap"
	}
	return filepath.Join("testdata", cc.name+ext)
}

func (cc captureCase) testName() string {
	if cc.keys == "" || cc.keys == "-" {
		return cc.name
	}
	return strings.TrimPrefix(cc.keys, cc.name+".")
}

// load reads the capture and its key log.
func (cc captureCase) load(t testing.TB) ([]*stream, *Keylog) {
	t.Helper()
	streams, dsb := readCapture(t, cc.path())
	var text []byte
	switch cc.keys {
	case "-":
		text = dsb
	case "":
		b, err := os.ReadFile(filepath.Join("testdata", cc.name+".keys"))
		if err != nil {
			t.Fatal(err)
		}
		text = b
	default:
		b, err := os.ReadFile(filepath.Join("testdata", cc.keys))
		if err != nil {
			t.Fatal(err)
		}
		text = b
	}
	kl, errs := ParseKeylog(text)
	if len(errs) > 0 || kl.Len() == 0 {
		t.Fatalf("key log: %d entries, errors %v", kl.Len(), errs)
	}
	return streams, kl
}

// TestConn_Captures decrypts every test capture, fed in several ways, and compares the
// plaintext and record counts with what tshark found (testdata/*.tshark).
func TestConn_Captures(t *testing.T) {
	for _, cc := range captureCases {
		t.Run(cc.testName(), func(t *testing.T) {
			streams, kl := cc.load(t)
			want := readExpect(t, filepath.Join("testdata", cc.name+".tshark"))
			if len(streams) == 0 {
				t.Fatal("no streams")
			}
			for _, mode := range []feedMode{feedPackets, feedClientFirst, feedServerFirst, feedBytes, feedJoined} {
				for si, s := range streams {
					col, info := run(s, kl, mode)
					if cc.noKey != nil && cc.noKey[si] {
						if info.Decrypted || !strings.Contains(info.Reason, "no key") || info.Records[0] != want[[2]int{si, 0}].records {
							t.Errorf("%s stream %d: want no key, got %+v", mode, si, info)
						}
						continue
					}
					if !info.Decrypted || info.Reason != "" {
						t.Errorf("%s stream %d: not decrypted: %q", mode, si, info.Reason)
					}
					if info.Version != cc.version || info.CipherSuite != cc.suite {
						t.Errorf("%s stream %d: %s %s, want %s %s", mode, si, info.Version, info.CipherSuite, cc.version, cc.suite)
					}
					wantResumed := cc.resumed != nil && cc.resumed[si]
					if info.Resumed != wantResumed {
						t.Errorf("%s stream %d: resumed %v, want %v", mode, si, info.Resumed, wantResumed)
					}
					if info.SNI != "wspath.test" {
						t.Errorf("%s stream %d: SNI %q", mode, si, info.SNI)
					}
					for d := 0; d < 2; d++ {
						w := want[[2]int{si, d}]
						got := col.plain[d].Bytes()
						if len(got) != w.bytes || sha(got) != w.sha {
							t.Errorf("%s stream %d dir %d: %d plaintext bytes (sha256 %.12s), tshark %d (%.12s)",
								mode, si, d, len(got), sha(got), w.bytes, w.sha)
						}
						if len(col.records[d]) != w.records || info.Records[d] != w.records {
							t.Errorf("%s stream %d dir %d: %d records, tshark %d", mode, si, d, len(col.records[d]), w.records)
						}
						if info.PlainBytes[d] != int64(w.bytes) {
							t.Errorf("%s stream %d dir %d: Info.PlainBytes %d, want %d", mode, si, d, info.PlainBytes[d], w.bytes)
						}
					}
				}
			}
		})
	}
}
