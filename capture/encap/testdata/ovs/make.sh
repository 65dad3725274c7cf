#!/bin/bash
# make.sh OUTDIR: real tunnel captures made by Open vSwitch's userspace (netdev) datapath, which
# encapsulates in user space: this machine's kernel has VXLAN only, no GRE, Geneve or ERSPAN.
#
# Namespaces ($P = ${WSL_NS_PREFIX:-tun-}): ${P}c (client 10.9.1.1) and ${P}s (server 10.9.1.2)
# hang off bridge br0 of an ovs-vswitchd running in ${P}ovs; br0 mirrors every packet into eight
# tunnel ports towards the collector ${P}col through the underlay bridge br-phy: over IPv4
# (10.9.2.1 -> 10.9.2.2) GRE key 1234 with Ethernet inside, Geneve VNI 5001, VXLAN VNI 42, ERSPAN
# type II session 1, ERSPAN type III session 2; over IPv6 (fd09:2::1 -> fd09:2::2) ip6gre key 77,
# Geneve VNI 6001, ERSPAN type III session 3. tcpdump on the collector's interface makes collector.pcap;
# tcpdump on the server's makes server.pcap (the plain view). ws.py (python3-websockets) is the
# WebSocket echo server and a client sending ten messages of 9 to 1359 bytes.
# Needs root, openvswitch-switch, ethtool, tcpdump, python3-websockets.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
P=${WSL_NS_PREFIX:-tun-}
D=$(mktemp -d /tmp/ovs-run.XXXXXX)
teardown() {
	set +e
	for f in "$D"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	for n in ovs c s col; do
		pids=$(ip netns pids "$P$n" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill $pids 2>/dev/null
		ip netns del "$P$n" 2>/dev/null
	done
	rm -rf "$D"
}
trap teardown EXIT
for n in ovs c s col; do
	ip netns del "$P$n" 2>/dev/null || true
	ip netns add "$P$n"
	ip netns exec "$P$n" ip link set lo up
done
x() { ip netns exec "${P}ovs" "$@"; }
ip link add vc netns "${P}ovs" type veth peer name eth0 netns "${P}c"
ip link add vs netns "${P}ovs" type veth peer name eth0 netns "${P}s"
ip link add vcol netns "${P}ovs" type veth peer name eth0 netns "${P}col"
ip netns exec "${P}c" ip addr add 10.9.1.1/24 dev eth0
ip netns exec "${P}s" ip addr add 10.9.1.2/24 dev eth0
ip netns exec "${P}col" ip addr add 10.9.2.2/24 dev eth0
for n in c s col; do
	ip netns exec "$P$n" ip link set eth0 up
	# The userspace datapath forwards what AF_PACKET gives it: checksums must be complete.
	ip netns exec "$P$n" ethtool -K eth0 tx off >/dev/null
done
for v in vc vs vcol; do x ip link set "$v" up; done
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
x ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb-server.pid" --detach --log-file="$D/ovsdb-server.log"
V=(ovs-vsctl --db="unix:$D/db.sock")
x "${V[@]}" --no-wait init
x ovs-vswitchd "unix:$D/db.sock" --pidfile="$D/ovs-vswitchd.pid" --detach --log-file="$D/ovs-vswitchd.log"
A=(ovs-appctl -t "$D/ovs-vswitchd.$(cat "$D/ovs-vswitchd.pid").ctl")
x "${V[@]}" add-br br0 -- set bridge br0 datapath_type=netdev -- add-port br0 vc -- add-port br0 vs
x "${V[@]}" add-br br-phy -- set bridge br-phy datapath_type=netdev -- add-port br-phy vcol
x ip addr add 10.9.2.1/24 dev br-phy
x ip -6 addr add fd09:2::1/64 dev br-phy nodad
ip netns exec "${P}col" ip -6 addr add fd09:2::2/64 dev eth0 nodad
x ip link set br-phy up
x ip link set br0 up
x "${A[@]}" ovs/route/add 10.9.2.0/24 br-phy >/dev/null
colmac=$(ip netns exec "${P}col" cat /sys/class/net/eth0/address)
x "${A[@]}" ovs/route/add fd09:2::/64 br-phy >/dev/null
x "${A[@]}" tnl/arp/set br-phy 10.9.2.2 "$colmac" >/dev/null
x "${A[@]}" tnl/neigh/set br-phy fd09:2::2 "$colmac" >/dev/null
x "${V[@]}" add-port br0 gre0 -- set interface gre0 type=gre options:remote_ip=10.9.2.2 options:key=1234 \
	-- add-port br0 gnv0 -- set interface gnv0 type=geneve options:remote_ip=10.9.2.2 options:key=5001 \
	-- add-port br0 vx0 -- set interface vx0 type=vxlan options:remote_ip=10.9.2.2 options:key=42 \
	-- add-port br0 ers1 -- set interface ers1 type=erspan options:remote_ip=10.9.2.2 options:key=1 options:erspan_ver=1 options:erspan_idx=7 \
	-- add-port br0 ers2 -- set interface ers2 type=erspan options:remote_ip=10.9.2.2 options:key=2 options:erspan_ver=2 options:erspan_dir=1 options:erspan_hwid=4 \
	-- add-port br0 gre6 -- set interface gre6 type=ip6gre options:remote_ip=fd09:2::2 options:key=77 \
	-- add-port br0 gnv6 -- set interface gnv6 type=geneve options:remote_ip=fd09:2::2 options:key=6001 \
	-- add-port br0 ers6 -- set interface ers6 type=ip6erspan options:remote_ip=fd09:2::2 options:key=3 options:erspan_ver=2 options:erspan_dir=0 options:erspan_hwid=5
for p in gre0 gnv0 vx0 ers1 ers2 gre6 gnv6 ers6; do
	x "${V[@]}" -- --id=@p get port "$p" -- --id=@m create mirror name="m$p" select-all=true output-port=@p -- add bridge br0 mirrors @m >/dev/null
done
sleep 1
x "${A[@]}" dpctl/del-flows >/dev/null # flows cached before the mirrors existed
ip netns exec "${P}col" tcpdump -Z root -n -i eth0 -w "$out/collector.pcap" 2>"$D/td-col.err" &
tcol=$!
ip netns exec "${P}s" tcpdump -Z root -n -i eth0 -w "$out/server.pcap" tcp 2>"$D/td-s.err" &
ts=$!
for f in "$D/td-col.err" "$D/td-s.err"; do
	for _ in $(seq 100); do grep -qs "listening on" "$f" && break; sleep 0.05; done
done
ip netns exec "${P}s" /usr/bin/python3 "$here/ws.py" server &
sleep 1
ip netns exec "${P}c" /usr/bin/python3 "$here/ws.py" client >"$D/client.out"
sleep 1
kill -INT $tcol $ts
wait $tcol $ts || true
[ "$(grep -c True "$D/client.out")" = 10 ] || { echo "make.sh: the client did not get its ten echoes" >&2; exit 1; }
echo "make.sh: $out/collector.pcap $out/server.pcap"
