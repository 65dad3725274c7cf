package tlsdecrypt

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
)

// Bounds on key log lines.
const (
	maxKeylogLine = 4096 // longer lines are rejected unread
	maxSecretLen  = 512  // bytes of one secret or pre-master secret
)

// KeylogError is a line of a key log that could not be used. Its message names the line and the
// problem, never the secret bytes on it.
type KeylogError struct {
	Line   int    // 1-based line number
	Reason string // what is wrong, without the line's content
}

// Error formats the error as "line N: reason".
func (e *KeylogError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// secrets13 are the TLS 1.3 traffic secrets of one connection.
type secrets13 struct {
	clientHS, serverHS, clientApp, serverApp []byte
}

// Keylog holds the contents of NSS key log files (the SSLKEYLOGFILE format written by browsers,
// curl, Go's crypto/tls Config.KeyLogWriter, OpenSSL's -keylogfile and Wireshark). It is secret
// material: no method prints it, and fmt verbs print only the number of entries.
//
// The zero value and nil are empty key logs. A Keylog is not safe for concurrent mutation; once
// built it may be read by many Conns at once.
type Keylog struct {
	master   map[[32]byte][]byte     // CLIENT_RANDOM: TLS 1.2 master secret by client random
	pms      map[[32]byte][]byte     // PMS_CLIENT_RANDOM: pre-master secret by client random
	rsa      map[[8]byte][]byte      // RSA: pre-master secret by first 8 bytes of its encryption
	sessions map[string][]byte       // RSA Session-ID: master secret by session id
	tickets  map[string][]byte       // master secret by TLS 1.2 session ticket, learnt from full handshakes
	tls13    map[[32]byte]*secrets13 // TLS 1.3 traffic secrets by client random
	n        int
}

// ParseKeylog reads key log text. Lines it cannot use are skipped and reported, one error per
// line (*KeylogError); comments (#) and blank lines are ignored, as are labels wspath has no use
// for (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, EARLY_EXPORTER_SECRET, and OpenSSL's
// CLIENT/SERVER_TRAFFIC_SECRET_N, which a Conn derives itself at each KeyUpdate). The returned Keylog
// does not share memory with b.
func ParseKeylog(b []byte) (*Keylog, []error) {
	k := &Keylog{}
	var errs []error
	line := 0
	for len(b) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			l, b = b, nil
		}
		if len(l) > maxKeylogLine {
			errs = append(errs, &KeylogError{line, "line too long"})
			continue
		}
		if reason := k.addLine(strings.TrimSpace(string(l))); reason != "" {
			errs = append(errs, &KeylogError{line, reason})
		}
	}
	return k, errs
}

// addLine stores one key log line and returns why it could not, or "".
func (k *Keylog) addLine(l string) string {
	if l == "" || l[0] == '#' {
		return ""
	}
	f := strings.Fields(l)
	if len(f) >= 2 && f[0] == "RSA" && strings.HasPrefix(f[1], "Session-ID:") {
		return k.addSession(f)
	}
	if len(f) != 3 {
		return "expected LABEL <hex> <hex>"
	}
	label := f[0]
	switch label {
	case "EXPORTER_SECRET", "EARLY_EXPORTER_SECRET", "CLIENT_EARLY_TRAFFIC_SECRET",
		"CLIENT_TRAFFIC_SECRET_N", "SERVER_TRAFFIC_SECRET_N":
		// Early data is not decrypted; secrets after a KeyUpdate (OpenSSL) are derived instead.
		return ""
	case "RSA":
		return k.addRSA(f)
	case "CLIENT_RANDOM", "PMS_CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
		"SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0":
		return k.addByClientRandom(f)
	}
	if isLabel(label) {
		return fmt.Sprintf("unknown label %s", label)
	}
	return "unrecognised line"
}

// addRSA stores an "RSA <encrypted pre-master prefix> <pre-master secret>" line.
func (k *Keylog) addRSA(f []string) string {
	id, ok := decodeHex(f[1], 8, 8)
	if !ok {
		return "RSA: encrypted pre-master secret prefix is not 16 hex digits"
	}
	pms, ok := decodeHex(f[2], 48, 48)
	if !ok {
		return "RSA: pre-master secret is not 96 hex digits"
	}
	if k.rsa == nil {
		k.rsa = make(map[[8]byte][]byte)
	}
	k.rsa[[8]byte(id)] = pms
	k.n++
	return ""
}

// addByClientRandom stores a "LABEL <client random> <secret>" line: a TLS 1.2 master secret, a
// pre-master secret, or one of the TLS 1.3 traffic secrets.
func (k *Keylog) addByClientRandom(f []string) string {
	label := f[0]
	cr, ok := decodeHex(f[1], 32, 32)
	if !ok {
		return label + ": client random is not 64 hex digits"
	}
	min, max := 32, 64
	switch label {
	case "CLIENT_RANDOM":
		min, max = 48, 48
	case "PMS_CLIENT_RANDOM":
		min, max = 1, maxSecretLen
	}
	secret, ok := decodeHex(f[2], min, max)
	if !ok {
		return fmt.Sprintf("%s: secret is not %d to %d bytes of hex", label, min, max)
	}
	key := [32]byte(cr)
	switch label {
	case "CLIENT_RANDOM":
		if k.master == nil {
			k.master = make(map[[32]byte][]byte)
		}
		k.master[key] = secret
	case "PMS_CLIENT_RANDOM":
		if k.pms == nil {
			k.pms = make(map[[32]byte][]byte)
		}
		k.pms[key] = secret
	default:
		s := k.secrets13For(key)
		switch label {
		case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
			s.clientHS = secret
		case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
			s.serverHS = secret
		case "CLIENT_TRAFFIC_SECRET_0":
			s.clientApp = secret
		case "SERVER_TRAFFIC_SECRET_0":
			s.serverApp = secret
		}
	}
	k.n++
	return ""
}

// addSession stores a "RSA Session-ID:<hex> Master-Key:<hex>" line (JSSE and old NSS loggers).
func (k *Keylog) addSession(f []string) string {
	var sidHex, mkHex string
	switch {
	case len(f) == 3 && strings.HasPrefix(f[2], "Master-Key:"):
		sidHex, mkHex = strings.TrimPrefix(f[1], "Session-ID:"), strings.TrimPrefix(f[2], "Master-Key:")
	default:
		return "RSA Session-ID: expected Session-ID:<hex> Master-Key:<hex>"
	}
	sid, ok := decodeHex(sidHex, 1, 32)
	if !ok {
		return "RSA Session-ID: session id is not 1 to 32 bytes of hex"
	}
	mk, ok := decodeHex(mkHex, 48, 48)
	if !ok {
		return "RSA Session-ID: master key is not 96 hex digits"
	}
	if k.sessions == nil {
		k.sessions = make(map[string][]byte)
	}
	k.sessions[string(sid)] = mk
	k.n++
	return ""
}

// decodeHex decodes s when it is valid hex of min to max bytes.
func decodeHex(s string, min, max int) ([]byte, bool) {
	if len(s)%2 != 0 || len(s)/2 < min || len(s)/2 > max {
		return nil, false
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}

// isLabel reports whether s looks like a key log label (upper case, digits, underscores), so that
// it can be named in an error without risk of echoing a secret.
func isLabel(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Add copies the entries of other into k; entries of other replace those of k for the same
// connection. Add on a nil k does nothing.
func (k *Keylog) Add(other *Keylog) {
	if k == nil || other == nil {
		return
	}
	mergeSecrets(&k.master, other.master)
	mergeSecrets(&k.pms, other.pms)
	mergeSecrets(&k.rsa, other.rsa)
	mergeSecrets(&k.sessions, other.sessions)
	mergeSecrets(&k.tickets, other.tickets)
	for key, v := range other.tls13 {
		s := k.secrets13For(key)
		if v.clientHS != nil {
			s.clientHS = v.clientHS
		}
		if v.serverHS != nil {
			s.serverHS = v.serverHS
		}
		if v.clientApp != nil {
			s.clientApp = v.clientApp
		}
		if v.serverApp != nil {
			s.serverApp = v.serverApp
		}
	}
	k.n += other.n
}

// mergeSecrets copies src into *dst, making *dst when needed; later entries win.
func mergeSecrets[K comparable](dst *map[K][]byte, src map[K][]byte) {
	for key, v := range src {
		if *dst == nil {
			*dst = make(map[K][]byte, len(src))
		}
		(*dst)[key] = v
	}
}

// Len returns the number of key log lines stored (0 for nil).
func (k *Keylog) Len() int {
	if k == nil {
		return 0
	}
	return k.n
}

// Format prints only the number of entries, whatever the verb, so that a Keylog passed to fmt or a
// logger by mistake does not leak secrets.
func (k Keylog) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "tlsdecrypt.Keylog{%d entries}", k.n)
}

// String returns "tlsdecrypt.Keylog{N entries}", never the secrets.
func (k Keylog) String() string { return fmt.Sprintf("tlsdecrypt.Keylog{%d entries}", k.n) }

// GoString is String, so that %#v does not print the secrets either.
func (k Keylog) GoString() string { return k.String() }

func (k *Keylog) lookupMaster(cr [32]byte) []byte {
	if k == nil {
		return nil
	}
	return k.master[cr]
}

func (k *Keylog) lookupPMS(cr [32]byte) []byte {
	if k == nil {
		return nil
	}
	return k.pms[cr]
}

func (k *Keylog) lookupRSA(prefix []byte) []byte {
	if k == nil || len(prefix) < 8 {
		return nil
	}
	return k.rsa[[8]byte(prefix[:8])]
}

// secrets13For returns the TLS 1.3 secrets of a client random, adding an empty entry if needed.
func (k *Keylog) secrets13For(cr [32]byte) *secrets13 {
	if k.tls13 == nil {
		k.tls13 = make(map[[32]byte]*secrets13)
	}
	s := k.tls13[cr]
	if s == nil {
		s = &secrets13{}
		k.tls13[cr] = s
	}
	return s
}

func (k *Keylog) lookupTicket(ticket []byte) []byte {
	if k == nil || len(ticket) == 0 {
		return nil
	}
	return k.tickets[string(ticket)]
}

// remember12 keeps the master secret of a decrypted TLS 1.2 full handshake under its session id
// and session ticket, so that a later connection resuming the session decrypts too: Go's key log
// writes no line for resumed TLS 1.2 connections, and tshark caches sessions the same way. The
// Keylog is owned by one capture Read, so what it learns stays within that capture.
func (k *Keylog) remember12(sid, ticket, master []byte) {
	if k == nil || master == nil {
		return
	}
	if len(sid) > 0 && k.sessions[string(sid)] == nil {
		if k.sessions == nil {
			k.sessions = make(map[string][]byte)
		}
		k.sessions[string(sid)] = master
	}
	if len(ticket) > 0 {
		if k.tickets == nil {
			k.tickets = make(map[string][]byte)
		}
		k.tickets[string(ticket)] = master
	}
}

func (k *Keylog) lookupSession(sid []byte) []byte {
	if k == nil || len(sid) == 0 {
		return nil
	}
	return k.sessions[string(sid)]
}

func (k *Keylog) lookup13(cr [32]byte) *secrets13 {
	if k == nil {
		return nil
	}
	return k.tls13[cr]
}
