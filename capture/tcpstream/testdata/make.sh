#!/bin/sh
# Makes the tcpstream test captures in three private network namespaces: client tcps-a (10.77.1.1)
# -> router tcps-r -> server tcps-b (10.77.2.1). The router drops 10% of the client's data packets
# with iptables (this kernel has no netem), so the capture at the server sees holes that the
# client's retransmissions fill later. Run as root from this directory. See README.md.
set -eu
cleanup() {
	[ -n "${DUMP:-}" ] && kill "$DUMP" 2>/dev/null || true
	for ns in tcps-a tcps-r tcps-b; do ip netns del $ns 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
for ns in tcps-a tcps-r tcps-b; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add va netns tcps-a type veth peer name ra netns tcps-r
ip link add vb netns tcps-b type veth peer name rb netns tcps-r
ip -n tcps-a addr add 10.77.1.1/24 dev va
ip -n tcps-r addr add 10.77.1.2/24 dev ra
ip -n tcps-r addr add 10.77.2.2/24 dev rb
ip -n tcps-b addr add 10.77.2.1/24 dev vb
for l in "tcps-a va" "tcps-r ra" "tcps-r rb" "tcps-b vb"; do set -- $l; ip -n $1 link set $2 up gso_max_segs 1; done
ip -n tcps-a route add default via 10.77.1.2
ip -n tcps-b route add default via 10.77.2.2
ip netns exec tcps-r sysctl -q net.ipv4.ip_forward=1
ip netns exec tcps-r iptables -A FORWARD -p tcp --dport 9000 -m length --length 200:65535 \
	-m statistic --mode random --probability 0.1 -j DROP

capture() { # file snaplen
	ip netns exec tcps-b python3 peer.py server 10.77.2.1 9000 &
	SRV=$!
	sleep 0.5
	ip netns exec tcps-b tcpdump -i vb -s "$2" --immediate-mode -B 32768 -U -w "$1" tcp port 9000 &
	DUMP=$!
	sleep 1
	ip netns exec tcps-a python3 peer.py client 10.77.2.1 9000 60000
	wait $SRV
	sleep 1.5
	kill $DUMP
	wait $DUMP || true
	DUMP=
}
capture loss.pcap 262144
capture snaplen.pcap 120
# Swap every 5th data packet with the next one.
python3 reorder.py loss.pcap reorder.pcap 5
# Remove the 10th, 11th and 30th original client data packets, as a capture that missed them: the
# server ACKed those bytes, so they must come out as GapAcked.
editcap -F pcap loss.pcap capturedrop.pcap $(tshark -r loss.pcap -T fields -e frame.number \
	-Y 'tcp.dstport == 9000 && tcp.len > 0 && !tcp.analysis.retransmission' | sed -n '10p;11p;30p')
