#!/bin/sh
# Regenerates the real captures in this directory. Run as root; uses only loopback.
# Traffic: python3 http.server on 127.0.0.1 and ::1, curl requests, openssl s_server with TLS.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
/usr/bin/python3 -m http.server --bind 127.0.0.1 18080 --directory "$work" >/dev/null 2>&1 &
h4=$!
/usr/bin/python3 -m http.server --bind ::1 18081 --directory "$work" >/dev/null 2>&1 &
h6=$!
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl s_server -quiet -accept 127.0.0.1:18443 -cert "$work/cert.pem" -key "$work/key.pem" -www >/dev/null 2>&1 &
tls=$!
head -c 3000 /dev/zero | tr '\0' 'x' >"$work/page.txt"
sleep 1

traffic() {
	curl -s -o /dev/null http://127.0.0.1:18080/page.txt
	curl -s -o /dev/null "http://[::1]:18081/page.txt"
	curl -s -o /dev/null http://127.0.0.1:18080/missing
}

# capture NAME TCPDUMP-ARGS...: capture traffic() into NAME
capture() {
	name=$1
	shift
	tcpdump --immediate-mode -U -q "$@" -w "$name" 'tcp port 18080 or tcp port 18081 or tcp port 18443' 2>/dev/null &
	td=$!
	sleep 1
	traffic
	sleep 0.5
	kill -INT $td
	wait $td || true
}

capture lo.pcap -i lo
capture any-sll2.pcap -i any
capture any-sll.pcap -i any -y LINUX_SLL
capture lo-nano.pcap -i lo --time-stamp-precision=nano
capture lo-snap96.pcap -i lo -s 96
mergecap -F pcapng -w two-linktypes.pcapng lo.pcap any-sll2.pcap
gzip -9 -n -c lo.pcap >lo.pcap.gz
gzip -9 -n -c two-linktypes.pcapng >two-linktypes.pcapng.gz

# TLS with a key log, stored in a Decryption Secrets Block.
tcpdump --immediate-mode -U -q -i lo -w "$work/tls.pcap" 'tcp port 18443' 2>/dev/null &
td=$!
sleep 1
SSLKEYLOGFILE="$work/keylog.txt" curl -s -k -o /dev/null https://127.0.0.1:18443/
sleep 0.5
kill -INT $td
wait $td || true
cp "$work/keylog.txt" tls-keylog.txt
editcap --inject-secrets "tls,$work/keylog.txt" "$work/tls.pcap" tls-dsb.pcapng

kill $h4 $h6 $tls
rm -rf "$work"

# What tshark sees, for the tests to compare against: one line per packet.
for f in lo.pcap any-sll2.pcap any-sll.pcap lo-nano.pcap lo-snap96.pcap two-linktypes.pcapng tls-dsb.pcapng; do
	tshark -r "$f" -T fields -E separator=/t -e frame.number -e frame.time_epoch -e frame.len \
		-e frame.cap_len -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e tcp.srcport -e tcp.dstport \
		-e tcp.seq_raw -e tcp.ack_raw -e tcp.flags -e tcp.window_size_value -e tcp.len \
		-e tcp.options.wscale.shift >"$f.tshark.tsv"
done
