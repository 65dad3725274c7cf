#!/bin/sh
# Regenerates the broken inputs of this directory (see README.md). Run as root from this directory.
# Tools: tcpdump 4.99.3, editcap/tshark 4.0.17, python3 3.11, gzip, coreutils.
set -eu
SRC=../../../../capture/wsframe/testdata/ws-deflate.pcap   # a real loopback WebSocket capture
: > empty.pcap
printf 'These are my notes from the incident call, not a capture.\n' > notes.pcap
# pcap with a byte of the magic changed
{ printf '\324\303\262\241' | head -c 3; printf '\000'; tail -c +5 "$SRC"; } > bad-magic.pcap
head -c 10 "$SRC" > truncated-header.pcap
# cut 20 bytes before the end: inside the last packet's data
head -c $(( $(stat -c %s "$SRC") - 20 )) "$SRC" > truncated-last-packet.pcap
editcap -F pcapng "$SRC" full.pcapng
head -c $(( $(stat -c %s full.pcapng) - 50 )) full.pcapng > cut-mid-block.pcapng
rm full.pcapng
head -c 4096 /dev/urandom | gzip -9 > garbage.pcap.gz
editcap -F pcap -T user0 "$SRC" unknown-linktype.pcap
editcap -F pcap -s 40 "$SRC" snaplen40.pcap
for k in reserved-opcode long-control deflate-bomb length-2p63; do
	tcpdump -i lo -U -w "malicious-$k.pcap" 'tcp port 8799' 2>/dev/null & td=$!
	sleep 1; python3 gen-malicious.py 8799 "$k"; sleep 1
	kill "$td"; wait "$td" || true
done
