#!/bin/bash
# make.sh OUTDIR: real captures of WebSocket traffic carried by the lab's user-space tunnel endpoint
# (examples/netlab/wsl_tunnel.py) in the encapsulations this machine's kernel has no driver for,
# 6in4 (sit), 6in6, GRE (key 7, sequence numbers) with IPv6 inside, MPLS with an IPv6 payload,
# PPPoE (discovery, LCP, IPV6CP, then PPP protocol 0x0057), all carrying IPv6, and PPTP's enhanced
# GRE (version 1, call IDs 0x1111/0x2222, sequence and acknowledgment numbers) carrying PPP with
# IPv4; and, from the kernel's own VXLAN driver, a VXLAN (VNI 99) on the non-standard UDP port
# 9999 carrying IPv4 (10.10.7.0/24), which wspath decodes only when told the port.
#
# Namespaces ($P = ${WSL_NS_PREFIX:-tun-}): ${P}a (client side) and ${P}b (server side), joined by
# the underlay veth ua (10.9.5.1, fd09:5::1) <-> ub (10.9.5.2, fd09:5::2). Each encapsulation has its
# own TUN device t<mode> and overlay prefix fd0a:N::/64 (a ::1, b ::2; PPTP: 10.10.6.0/24, a .1, b
# .2), and a wsl_tunnel.py
# process at each end. ws.py (python3-websockets) serves an echo on b; the client opens one
# connection per overlay in turn and sends ten messages of 44 to 1400 bytes. tcpdump on ub writes
# underlay.pcap (all but ARP and the underlay's own ICMPv6); tcpdump -i any on b writes server.pcap,
# the plain view of the same connections on the TUN devices.
# Needs root, tcpdump, python3-websockets.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
tunnel=$(cd "$here/../../../../examples/netlab" && pwd)/wsl_tunnel.py
mkdir -p "$1"
out=$(cd "$1" && pwd)
P=${WSL_NS_PREFIX:-tun-}
D=$(mktemp -d /tmp/tun-run.XXXXXX)
teardown() {
	set +e
	for n in a b; do
		pids=$(ip netns pids "$P$n" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill $pids 2>/dev/null
		sleep 0.2
		ip netns del "$P$n" 2>/dev/null
	done
	rm -rf "$D"
}
trap teardown EXIT
for n in a b; do
	ip netns del "$P$n" 2>/dev/null || true
	ip netns add "$P$n"
	ip netns exec "$P$n" ip link set lo up
done
a() { ip netns exec "${P}a" "$@"; }
b() { ip netns exec "${P}b" "$@"; }
ip link add ua netns "${P}a" type veth peer name ub netns "${P}b"
a ip addr add 10.9.5.1/24 dev ua
b ip addr add 10.9.5.2/24 dev ub
a ip -6 addr add fd09:5::1/64 dev ua nodad
b ip -6 addr add fd09:5::2/64 dev ub nodad
a ip link set ua up
b ip link set ub up
amac=$(a cat /sys/class/net/ua/address)
bmac=$(b cat /sys/class/net/ub/address)
modes=(sit ip6ip6 gre mpls pppoe pptp)
declare -A mtu=([sit]=1480 [ip6ip6]=1460 [gre]=1468 [mpls]=1492 [pppoe]=1492 [pptp]=1460)
declare -A A=([sit]="--local 10.9.5.1 --remote 10.9.5.2" [ip6ip6]="--local fd09:5::1 --remote fd09:5::2"
	[gre]="--local 10.9.5.1 --remote 10.9.5.2 --key 7" [mpls]="--dev ua --peer-mac $bmac --push 16003,30"
	[pppoe]="--dev ua --role client --ppp-ifid 020000fffe000001"
	[pptp]="--local 10.9.5.1 --remote 10.9.5.2 --call-id 4369 --peer-call-id 8738")
declare -A B=([sit]="--local 10.9.5.2 --remote 10.9.5.1" [ip6ip6]="--local fd09:5::2 --remote fd09:5::1"
	[gre]="--local 10.9.5.2 --remote 10.9.5.1 --key 7" [mpls]="--dev ub --peer-mac $amac --push 30"
	[pppoe]="--dev ub --role ac --ppp-ifid 020000fffe000002"
	[pptp]="--local 10.9.5.2 --remote 10.9.5.1 --call-id 8738 --peer-call-id 4369")
urls=()
for n in a b; do # the kernel's VXLAN on UDP 9999 (device vxp)
	me=$([ $n = a ] && echo 1 || echo 2)
	peer=$([ $n = a ] && echo 2 || echo 1)
	ip netns exec "$P$n" ip link add vxp type vxlan id 99 local "10.9.5.$me" remote "10.9.5.$peer" dstport 9999 dev "u$n"
	ip netns exec "$P$n" ip addr add "10.10.7.$me/24" dev vxp
	ip netns exec "$P$n" ip link set vxp mtu 1450 up
done
i=0
for m in "${modes[@]}"; do
	i=$((i + 1))
	for n in a b; do
		ip netns exec "$P$n" ip tuntap add "t$m" mode tun
		ip netns exec "$P$n" sysctl -qw "net.ipv6.conf.t$m.addr_gen_mode=1" # no link-local address: quiet overlays
		if [ "$m" = pptp ]; then
			ip netns exec "$P$n" ip addr add "10.10.$i.$([ $n = a ] && echo 1 || echo 2)/24" dev "t$m"
		else
			ip netns exec "$P$n" ip -6 addr add "fd0a:$i::$([ $n = a ] && echo 1 || echo 2)/64" dev "t$m" nodad
		fi
		ip netns exec "$P$n" ip link set "t$m" mtu "${mtu[$m]}" up
	done
	if [ "$m" = pptp ]; then urls+=("ws://10.10.$i.2:8765/$m"); else urls+=("ws://[fd0a:$i::2]:8765/$m"); fi
done
urls+=("ws://10.10.7.2:8765/vxlan9999")
ip netns exec "${P}b" tcpdump -Z root -n -i ub -w "$out/underlay.pcap" not arp and not icmp6 2>"$D/td-u.err" &
tu=$! # tcpdump itself (not through a function), so that SIGINT reaches it
ip netns exec "${P}b" tcpdump -Z root -n -i any -w "$out/server.pcap" tcp port 8765 2>"$D/td-s.err" &
ts=$!
for f in "$D/td-u.err" "$D/td-s.err"; do
	for _ in $(seq 100); do grep -qs "listening on" "$f" && break; sleep 0.05; done
done
for m in "${modes[@]}"; do
	# shellcheck disable=SC2086
	b /usr/bin/python3 "$tunnel" --mode "$m" --tun "t$m" ${B[$m]} >"$D/b-$m.out" 2>&1 &
	# shellcheck disable=SC2086
	a /usr/bin/python3 "$tunnel" --mode "$m" --tun "t$m" ${A[$m]} >"$D/a-$m.out" 2>&1 &
done
for m in "${modes[@]}"; do
	for f in "$D/a-$m.out" "$D/b-$m.out"; do
		for _ in $(seq 200); do grep -qs ready "$f" && break; sleep 0.05; done
		grep -qs ready "$f" || { echo "make.sh: $m did not come up: $(cat "$f")" >&2; exit 1; }
	done
done
b /usr/bin/python3 "$here/ws.py" server 15 &
sleep 1
a /usr/bin/python3 "$here/ws.py" client "${urls[@]}" >"$D/client.out"
sleep 2 # tcpdump hands over its last packets once the kernel's ring block is retired
kill -INT $tu $ts
wait $tu $ts || true
[ "$(grep -c True "$D/client.out")" = $((10 * ${#urls[@]})) ] || { echo "make.sh: the client did not get every echo" >&2; exit 1; }
echo "make.sh: $out/underlay.pcap $out/server.pcap"
