#!/bin/bash
# Regenerates the captures under testdata/ (see ../README.md). Run as root from this directory:
#   ./make.sh            (needs tcpdump, tshark, openssl, haproxy, python3-websockets, go)
# Traffic stays on 127.0.0.1. Every server and tcpdump started here is stopped by PID.
set -eu
# Run in a network namespace of our own, so no other capture or server on the host interferes.
if [ -z "${WSPATH_IN_NETNS:-}" ]; then
	ns=wspath-tlsdecrypt-$$
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	rc=0
	WSPATH_IN_NETNS=1 ip netns exec "$ns" "$0" "$@" || rc=$?
	ip netns del "$ns"
	exit $rc
fi
OUT=$(cd .. && pwd)
W=$(mktemp -d)
trap 'stop; rm -rf "$W"' EXIT
go build -o "$W/client" .
cp "$OUT/certs/"* "$W/"
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }

wait_port() { # port: wait until something listens on it
	for _ in $(seq 50); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done
	echo "nothing listens on $1" >&2; return 1
}

capture() { # name port
	tcpdump -i lo --immediate-mode -U -s 0 -w "$OUT/$1.pcap" "tcp port $2" 2>"$W/tcpdump.log" & PIDS+=($!)
	for _ in $(seq 50); do grep -q listening "$W/tcpdump.log" && break; sleep 0.1; done
	sleep 0.2
}

finish() { # name
	sleep 1
	stop
	local n
	n=$(tshark -r "$OUT/$1.pcap" 2>/dev/null | wc -l)
	if [ "$n" -lt 10 ]; then echo "$1: only $n packets captured" >&2; exit 1; fi
}

# openssl_case name port client-args -- server-args
openssl_case() {
	local name=$1 port=$2; shift 2
	local cargs=() sargs=()
	while [ "$1" != "--" ]; do cargs+=("$1"); shift; done; shift
	sargs=("$@")
	rm -f "$OUT/$name.keys"
	capture "$name" "$port"
	openssl s_server -quiet -accept "$port" -naccept 1 -rev "${sargs[@]}" </dev/null >/dev/null 2>&1 & PIDS+=($!)
	wait_port "$port"
	echo "== $name" >&2
	timeout 20 "$W/client" -addr "127.0.0.1:$port" -keylog "$OUT/$name.keys" "${cargs[@]}"
	finish "$name"
}

# haproxy_case name port kind(plain|ws) bind-options -- client-args
haproxy_case() {
	local name=$1 port=$2 kind=$3 bindopts=$4; shift 5
	local back=$((port + 1000))
	rm -f "$OUT/$name.keys"
	/usr/bin/python3 echo.py "$kind" "$back" </dev/null & PIDS+=($!)
	cat > "$W/h.cfg" <<CFG
global
	tune.ssl.default-dh-param 2048
defaults
	mode tcp
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend f
	bind 127.0.0.1:$port ssl $bindopts
	default_backend b
backend b
	server s 127.0.0.1:$back
CFG
	capture "$name" "$port"
	haproxy -f "$W/h.cfg" -db </dev/null >/dev/null 2>&1 & PIDS+=($!)
	wait_port "$port"; wait_port "$back"
	echo "== $name" >&2
	timeout 20 "$W/client" -addr "127.0.0.1:$port" -keylog "$OUT/$name.keys" "$@"
	finish "$name"
}

C="-cert $W/rsa.crt -key $W/rsa.key"
E="-cert $W/ec.crt -key $W/ec.key"
openssl_case tls13_aes128gcm_openssl 18401 -n 3 -size 20000 -alpn http/1.1 -- $C -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
openssl_case tls13_aes256gcm_openssl 18402 -n 3 -- $C -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
openssl_case tls13_chacha20_openssl 18403 -n 3 -- $C -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
openssl_case tls13_hrr_openssl 18404 -n 2 -- $C -tls1_3 -groups P-384
openssl_case tls12_ecdhe_rsa_aes128cbcsha_openssl 18405 -max 1.2 -suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA -n 3 -size 20000 -- $C -tls1_2
openssl_case tls12_rsa_aes256cbcsha_openssl 18406 -max 1.2 -suite TLS_RSA_WITH_AES_256_CBC_SHA -n 3 -- $C -tls1_2 -cipher AES256-SHA -no_ticket
openssl_case tls12_ecdhe_ecdsa_aes128cbcsha256_openssl 18407 -max 1.2 -suite TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 -n 3 -- $E -tls1_2
openssl_case tls12_rsa_aes128gcm_openssl 18408 -max 1.2 -suite TLS_RSA_WITH_AES_128_GCM_SHA256 -n 3 -- $C -tls1_2 -cipher AES128-GCM-SHA256 -no_ticket

haproxy_case tls13_aes256gcm_haproxy_ws 18411 ws "crt $W/rsa.pem ssl-min-ver TLSv1.3" -- -ws /echo -n 3 -size 30000 -alpn http/1.1
haproxy_case tls13_resume_haproxy 18412 plain "crt $W/rsa.pem ssl-min-ver TLSv1.3" -- -conns 2 -n 2
haproxy_case tls12_ecdhe_rsa_aes256gcm_haproxy_ws 18413 ws "crt $W/rsa.pem ssl-max-ver TLSv1.2" -- -max 1.2 -suite TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 -ws /echo -n 3
haproxy_case tls12_ecdhe_rsa_chacha20_haproxy 18414 plain "crt $W/rsa.pem ssl-max-ver TLSv1.2" -- -max 1.2 -suite TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 -n 3
haproxy_case tls12_ecdhe_ecdsa_aes128gcm_haproxy 18415 plain "crt $W/ec.pem ssl-max-ver TLSv1.2" -- -max 1.2 -suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 -n 3
haproxy_case tls12_ecdhe_ecdsa_chacha20_haproxy 18416 plain "crt $W/ec.pem ssl-max-ver TLSv1.2" -- -max 1.2 -suite TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 -n 3
haproxy_case tls12_resume_haproxy 18417 plain "crt $W/rsa.pem ssl-max-ver TLSv1.2" -- -max 1.2 -suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -conns 2 -n 2
haproxy_case tls12_ecdhe_rsa_aes128cbcsha256_haproxy 18418 plain "crt $W/rsa.pem ssl-max-ver TLSv1.2" -- -max 1.2 -suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 -n 3

# openssl on both sides: SHA-384 CBC with encrypt-then-MAC, and a TLS 1.3 KeyUpdate.
sclient() { # name port client-opts -- server-opts; the client sends lines, "k" asks for a KeyUpdate
	local name=$1 port=$2; shift 2
	local cargs=() sargs=()
	while [ "$1" != "--" ]; do cargs+=("$1"); shift; done; shift
	sargs=("$@")
	rm -f "$OUT/$name.keys"
	capture "$name" "$port"
	openssl s_server -quiet -accept "$port" -naccept 1 -rev "${sargs[@]}" </dev/null >/dev/null 2>&1 & PIDS+=($!)
	wait_port "$port"
	echo "== $name" >&2
	(echo "first line"; sleep 0.3; echo k; sleep 0.3; echo "after key update"; sleep 0.3; echo "third line"; sleep 0.5) |
		timeout 20 openssl s_client -connect "127.0.0.1:$port" -keylogfile "$OUT/$name.keys" -servername wspath.test "${cargs[@]}" >/dev/null 2>&1 || true
	finish "$name"
}
sclient tls12_ecdhe_rsa_aes256cbcsha384_etm_sclient 18421 -tls1_2 -cipher ECDHE-RSA-AES256-SHA384 -- $C -tls1_2
sclient tls13_keyupdate_sclient 18422 -tls1_3 -- $C -tls1_3

# Key logs in the other formats, made from the RSA captures with the server's private key:
# RSA <first 8 bytes of encrypted pre-master secret> <pre-master secret>, PMS_CLIENT_RANDOM and
# RSA Session-ID:<id> Master-Key:<master secret>.
for name in tls12_rsa_aes256cbcsha_openssl tls12_rsa_aes128gcm_openssl; do
	epms=$(tshark -r "$OUT/$name.pcap" -T fields -e tls.handshake.epms -Y tls.handshake.epms | head -1 | tr -d :)
	cr=$(tshark -r "$OUT/$name.pcap" -T fields -e tls.handshake.random -Y "tls.handshake.type == 1" | head -1 | tr -d :)
	pms=$(echo "$epms" | xxd -r -p | openssl pkeyutl -decrypt -inkey "$W/rsa.key" | xxd -p | tr -d '\n')
	echo "RSA ${epms:0:16} $pms" > "$OUT/$name.rsa.keys"
	echo "PMS_CLIENT_RANDOM $cr $pms" > "$OUT/$name.pms.keys"
	sid=$(tshark -r "$OUT/$name.pcap" -T fields -e tls.handshake.session_id -Y "tls.handshake.type == 2" | head -1 | tr -d :)
	ms=$(awk '$1 == "CLIENT_RANDOM" {print $3; exit}' "$OUT/$name.keys")
	echo "RSA Session-ID:$sid Master-Key:$ms" > "$OUT/$name.sid.keys"
done

# The resumed connection of tls12_resume_haproxy: Go's key log has no line for it; a Session-ID
# line (as JSSE writes) maps its session id to the master secret of the first connection.
{
	grep CLIENT_RANDOM "$OUT/tls12_resume_haproxy.keys"
	sid=$(tshark -r "$OUT/tls12_resume_haproxy.pcap" -T fields -e tls.handshake.session_id -Y "tls.handshake.type == 2 && tcp.stream == 1" | head -1 | tr -d :)
	ms=$(awk '$1 == "CLIENT_RANDOM" {print $3; exit}' "$OUT/tls12_resume_haproxy.keys")
	echo "RSA Session-ID:$sid Master-Key:$ms"
} > "$OUT/tls12_resume_haproxy.sid.keys"

# pcapng with the key log in a Decryption Secrets Block.
editcap --inject-secrets "tls,$OUT/tls13_aes256gcm_haproxy_ws.keys" "$OUT/tls13_aes256gcm_haproxy_ws.pcap" "$OUT/tls13_dsb.pcapng"

# Expected results, from tshark: per TCP stream and direction, decrypted bytes and their SHA-256,
# and the number of application-data records (outer content type 23).
for f in "$OUT"/*.pcap; do
	base=${f%.*}
	keys=$base.keys
	[ -f "$keys" ] || keys=/dev/null
	python3 expect.py "$f" "$keys" > "$base.tshark"
done
# tshark decrypts the pcapng with its embedded secrets even when counting records "without keys";
# it holds the same packets as its source capture.
cp "$OUT/tls13_aes256gcm_haproxy_ws.tshark" "$OUT/tls13_dsb.tshark"
