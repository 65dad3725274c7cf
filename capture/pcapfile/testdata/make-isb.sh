#!/bin/bash
# make-isb.sh OUT.pcapng: a real pcapng whose Interface Statistics Block admits drops. dumpcap
# captures a veth between two namespaces made here (10.232.0.1 <-> 10.232.0.2, nothing routed
# out) with a 1 MiB buffer while a UDP flood crosses it; dumpcap is stopped (SIGSTOP) for 2 s
# mid-flood (UDP datagrams to the discard port), so the kernel's capture buffer overflows and drops packets, which dumpcap records
# as isb_ifdrop/isb_osdrop when it ends. Needs root and Debian's tshark (dumpcap), iproute2.
set -euo pipefail
out=$(readlink -f "$1")
P=isbfix-
cleanup() { ip netns del ${P}a 2>/dev/null || true; ip netns del ${P}b 2>/dev/null || true; }
cleanup; trap cleanup EXIT
ip netns add ${P}a; ip netns add ${P}b
ip link add va netns ${P}a type veth peer name vb netns ${P}b
ip -n ${P}a addr add 10.232.0.1/24 dev va; ip -n ${P}a link set va up; ip -n ${P}a link set lo up
ip -n ${P}b addr add 10.232.0.2/24 dev vb; ip -n ${P}b link set vb up; ip -n ${P}b link set lo up
rm -f "$out"
ip netns exec ${P}a dumpcap -q -i va -B 1 -s 48 -w "$out" -a duration:6 &
dc=$!
sleep 1.5
ip netns exec ${P}a /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 1.2
while time.time() < end:
    for _ in range(40):
        s.sendto(b"x" * 1200, ("10.232.0.2", 9))
    time.sleep(0.001)
' &
pg=$!
sleep 0.3
kill -STOP $dc; sleep 1; kill -CONT $dc
wait $pg || true
wait $dc
