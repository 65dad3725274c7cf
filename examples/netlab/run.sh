#!/bin/bash
# run.sh <scenario> <outdir>: build the five-namespace WebSocket path, run one scenario with
# tcpdump at every hop, and write <outdir>/hops.yaml, the captures and truth.json.
# Needs root and the packages from install.sh. See README.md for the topology.
set -euo pipefail

usage() { echo "usage: $0 {healthy|c2s-drop|s2c-drop|proxy-timeout|concurrent|capture-gap|rst|tls-c2s-drop|tls-nokeys|tls-nokeys-both|tls12-s2c-drop|tomcat-healthy|tomcat-c2s-drop|node-s2c-drop|caddy-c2s-drop|apache-s2c-drop|socketio-healthy|app-drop|app-drop-copies|app-modify|backpressure|capture-stops|lb-timeout|tls-lb-timeout|ingress-timeout|capture-drops|capture-drops-loss|h2-c2s-drop|h2-tls-s2c-drop|vxlan-c2s-drop|erspan-c2s-drop|geneve-s2c-drop|erspan3-s2c-drop|gretap-c2s-drop|bridge-c2s-drop|ipip-c2s-drop|ip4ip6-c2s-drop|mplspw-c2s-drop|gre-s2c-drop|mpls-s2c-drop|pppoe-s2c-drop|h2-deflate-s2c-drop|lighttpd-c2s-drop|nghttpx-c2s-drop|varnish-s2c-drop|socat-s2c-drop|lossy|lossy-dupes|lossy-drop|ingress-hung|rst-s2c|varnish-timeout|server-killed|lbany-c2s-drop|nghttpx-h2-tls-c2s-drop|wstunnel-c2s-drop|h2o-c2s-drop|stunnel-c2s-drop|nghttpx-h2-s2c-drop|fwany-s2c-drop|asym-c2s-drop|asym-s2c-drop|conntrack-idle|mtu-blackhole|fwpcapng-s2c-drop|close-drop|pings-in-fragments|reroute-s2c-drop} <outdir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
scenario=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
PY=/usr/bin/python3 # Debian's python3, which has python3-websockets
P=${WSL_NS_PREFIX:-wsl-} # prefix of every namespace this lab creates (WSL_NS_PREFIX lets runs go side by side)
HOPS=(client lb fw ingress server)

# ---- scenario parameters --------------------------------------------------------------------
conns=3
stagger=0.1
sched=(--count 12 --interval 0.05 --mix chat --big 3000)
compress=on
deadline=3
read_timeout=60s
tunnel_timeout=60s # haproxy's timeout tunnel
client_args=() # wsl_client.py's own options (--deaf-idle)
fw_rules=()
ingress_snap=()
tls=          # "", 1.3 or 1.2: the client speaks wss:// and haproxy terminates TLS
keylog_hops=() # hops whose hops.yaml entry names the key log (keys.txt)
backend=python # the server: python (wsl_server.py), tomcat (Tomcat 10's example echo endpoints), node
               # (wsl_server.js, ws) or socketio (wsl_sio_server.js, socket.io; the client is then wsl_sio_client.js)
ingress=nginx  # the ingress proxy: nginx (nginx.conf), caddy (caddy.Caddyfile), apache (apache.conf) or
               # relay (wsl_relay.py, a WebSocket relay with an upstream handshake of its own)
# ingress may also be lighttpd (lighttpd.conf, mod_proxy with the upgrade header), varnish
               # (varnish.vcl: Upgrade requests piped), nghttpx (nghttp2-proxy, HTTP/1.1 front and back) or
               # socat (a plain TCP relay: no HTTP at all)
lb_if=l0       # the interface the lb hop's tcpdump captures on (any: both of haproxy's connections, SLL2)
fw_if=f0       # the interface the fw hop's tcpdump captures on (any: both of the router's, SLL2)
fw_dumpcap=    # set: the fw hop is captured by dumpcap on f0 and f1 at once (dumpcap -i f0 -i f1), one
               # pcapng file, fw.pcapng, with two interfaces (fw_if is then not used)
lb=haproxy     # the load balancer: haproxy (haproxy.cfg), stunnel (stunnel4 ending TLS and relaying the
               # bytes over TCP: tls must be set) or nghttpx (nghttp2-proxy: HTTP/1.1 and, with client=h2,
               # RFC 8441 HTTP/2 in front, HTTP/1.1 to nginx)
fw_loss=       # a probability: the fw drops that share of the TCP packets it forwards, both ways, at random
               # (iptables statistic; this kernel has no netem); TCP retransmits, nothing is lost for good
pipe_timeout=60 # Varnish's pipe_timeout: how long a piped connection may stay idle (seconds)
fw_dup=        # a probability: the fw sends that share of the TCP packets it forwards twice, both ways
               # (iptables TEE to the next hop: a duplicate, as netem duplicate would make)
fw_oneway=     # in or out: a second tcpdump on the fw's f0 with -Q in (only what comes from the lb: client to
               # server) or -Q out (server to client), as a capture on a path with asymmetric routing sees;
               # hops-oneway.yaml gives it as the fw hop's capture
fw_ct_timeout= # seconds: the fw's conntrack forgets an idle established TCP connection after that long
               # (nf_conntrack_tcp_timeout_established, no loose pick-up), and drops packets conntrack
               # calls INVALID: the next segment of a connection idle longer is dropped, both ways
fw_mtu=        # the MTU of the fw's f1 (toward nginx; nginx's i0 stays at 1500), the ICMP "fragmentation
               # needed" the fw would send dropped: full-size segments vanish both ways, small ones pass
reroute=()     # conn and c2s message index: a second link fw f2 10.231.33.1 <-> ingress i2 10.231.33.2, and once
               # the client logs sending that message, ingress routes its answers to the lb over it: the
               # ingress capture (i0) stops seeing the server's side, asymmetric routing from then on
kill_hop=()    # namespace, conn, c2s message index and seconds: once the client logs sending that message,
               # every process in that namespace but the captures gets SIGSTOP, and SIGKILL that many
               # seconds later (0: at once)
relay_args=()  # wsl_relay.py's fault options (--drop conn:dir:idx, --alter conn:dir:idx:how)
server_args=() # wsl_server.py's fault options (--stall conn:delay:seconds)
small_bufs=()  # namespaces whose TCP buffers are made small (tcp_rmem, tcp_wmem), so backpressure shows
stop_capture=() # hop and message index: once the client logs sending that message on conn 1, the hop's
                # tcpdump gets SIGINT while the traffic goes on
drop_rate=100000 # bytes/s at which the fwdrop capture's file is written
drop_capture=() # tcpdump options of a second capture on fw's f0 (hop fwdrop, next to fw), made to drop
                # packets: a tiny kernel buffer under a burst of traffic
paths=()       # the client's request path templates, used in turn (default /chat/{conn})
server_rules=() # iptables rule in the server namespace (the bridge scenario drops on the TCP side there)
client=python  # the client: python (wsl_client.py, HTTP/1.1) or h2 (wsl_h2_client.js: every WebSocket an
               # RFC 8441 stream of one HTTP/2 connection to haproxy, which speaks HTTP/1.1 to nginx)
vxlan=         # 1: the fw<->ingress link is a VXLAN overlay (VNI 42) over an underlay veth whose MTU
               # equals the overlay's, so full-size segments leave as fragmented outer IPv4; the
               # ingress hop is captured on the underlay
mirror=        # erspan, erspan3, gretap or geneve: the fw<->ingress link crosses an Open vSwitch bridge
               # (userspace netdev datapath, namespace tap) that mirrors it into an ERSPAN type II
               # (session 1), ERSPAN type III (session 2), GRE (key 1234, Ethernet inside) or Geneve
               # (VNI 5001) tunnel port toward the collector namespace col, as a switch's ERSPAN
               # session or a cloud traffic mirror does; the ingress hop is the collector's capture
tunnel=        # the fw<->ingress link carried by wsl_tunnel.py, a tunnel endpoint in user space (this
               # kernel has no ipip/sit/ip6_tunnel/gre/mpls/pppoe driver): ipip, gre, ip4ip6, mpls,
               # mplspw or pppoe; the ingress hop is captured on the underlay
WS_VERSION=8.23.0 # npm package ws for the node back end, installed into the work directory
SIO_VERSION=4.8.4 # npm packages socket.io and socket.io-client for the socketio back end and client
SIO_PING_MS=500   # engine.io ping interval of the socketio back end: several "2"/"3" pairs per connection
# Tomcat's examples webapp echoes; the three connections use its three echo endpoints.
TOMCAT_PATHS=(--path /examples/websocket/echoProgrammatic --path /examples/websocket/echoAnnotation
	--path /examples/websocket/echoStreamAnnotation)
case "$scenario" in
healthy) ;;
c2s-drop)
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
vxlan-c2s-drop) # c2s-drop with the fw<->ingress link carried over VXLAN
	compress=off
	vxlan=1
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
erspan-c2s-drop) # c2s-drop with the ingress hop a port-mirror copy delivered over ERSPAN
	compress=off
	mirror=erspan
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
gretap-c2s-drop) # c2s-drop with the ingress hop a port-mirror copy delivered over GRE (key, Ethernet inside)
	compress=off
	mirror=gretap
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
geneve-s2c-drop | erspan3-s2c-drop) # s2c-drop with the ingress hop a port-mirror copy over Geneve / ERSPAN III
	mirror=${scenario%%-*}
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
s2c-drop)
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
proxy-timeout)
	conns=2
	read_timeout=3s
	sched=(--count 10 --interval 0.05 --mix chat --big 3000 --idle 2:4:5) ;;
concurrent)
	conns=30
	stagger=0.02
	compress=off
	sched=(--count 4 --interval 0.2 --mix chatter --tripwire 17:c2s:2)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c17-m2 -j DROP) ;;
capture-gap)
	ingress_snap=(-s 80) ;;
rst-s2c)
	# rst the other way: the fw answers server->client message 6 of conn 1 with a reset toward nginx
	conns=2
	compress=off
	sched+=(--tripwire 1:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c1-m6 -j REJECT --reject-with tcp-reset) ;;
rst)
	conns=2
	compress=off
	sched+=(--tripwire 1:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c1-m6 -j REJECT --reject-with tcp-reset) ;;
tls-c2s-drop)
	tls=1.3
	keylog_hops=(client lb)
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
tls-nokeys)
	tls=1.3
	keylog_hops=(lb)
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
tls-nokeys-both)
	tls=1.3
	keylog_hops=()
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
tls12-s2c-drop)
	tls=1.2
	keylog_hops=(client lb)
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
tomcat-healthy)
	backend=tomcat
	paths=("${TOMCAT_PATHS[@]}")
	sched+=(--echo) ;;
tomcat-c2s-drop)
	backend=tomcat
	paths=("${TOMCAT_PATHS[@]}")
	compress=off
	sched+=(--echo --tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
node-s2c-drop)
	backend=node
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
caddy-c2s-drop)
	ingress=caddy
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
apache-s2c-drop)
	ingress=apache
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
socketio-healthy)
	backend=socketio
	compress=off # engine.io's default: no permessage-deflate
	sched=(--count 12 --interval 0.2 --mix chat --big 3000) ;;
app-drop)
	ingress=relay
	relay_args=(--drop 2:c2s:6) ;;
app-drop-copies) # app-drop on identical heartbeats only: which copy was lost only times tell
	ingress=relay
	sched=(--count 12 --interval 0.2 --mix beats)
	relay_args=(--drop 2:c2s:3 --drop 3:s2c:7) ;;
app-modify)
	ingress=relay
	relay_args=(--alter 1:c2s:6:filter --alter 2:s2c:3:flip --alter 3:s2c:11:flip) ;;
backpressure)
	conns=2
	compress=off
	sched=(--count 12 --interval 0.05 --mix upload --big 3000)
	server_args=(--stall 2:0.3:4)
	small_bufs=(client lb ingress server) ;;
capture-stops)
	sched=(--count 12 --interval 0.2 --mix chat --big 3000)
	stop_capture=(ingress 9) ;;
varnish-timeout)
	# Varnish's pipe_timeout ends conn 2 while it idles; the client, not reading while idle, sends
	# its next message into the closed path (ingress-timeout with Varnish).
	ingress=varnish
	conns=2
	pipe_timeout=3
	client_args=(--deaf-idle)
	sched=(--count 10 --interval 0.05 --mix chat --big 3000 --idle 2:4:5) ;;
ingress-timeout)
	# nginx's proxy_read_timeout ends conn 2 while it idles; the client, not reading while idle,
	# sends its next message into the closed path.
	conns=2
	read_timeout=3s
	client_args=(--deaf-idle)
	sched=(--count 10 --interval 0.05 --mix chat --big 3000 --idle 2:4:5) ;;
lb-timeout | tls-lb-timeout)
	# haproxy's timeout tunnel ends conn 2 while it idles; the client, not reading while idle, sends
	# its next message into the closed connection.
	conns=2
	tunnel_timeout=3s
	client_args=(--deaf-idle)
	sched=(--count 10 --interval 0.05 --mix chat --big 3000 --idle 2:4:5)
	if [ "$scenario" = tls-lb-timeout ]; then
		tls=1.3
		keylog_hops=(client lb)
	fi ;;
capture-drops | capture-drops-deflate)
	conns=8
	stagger=0.01
	compress=off
	[ "$scenario" = capture-drops-deflate ] && compress=on # permessage-deflate with context takeover
	sched=(--count 100 --interval 0.02 --mix chatter)
	drop_capture=(-B 32 -U) ;;
capture-drops-loss)
	conns=8
	stagger=0.01
	compress=off
	sched=(--count 100 --interval 0.02 --mix chatter --tripwire 5:c2s:30)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c5-m30 -j DROP)
	drop_capture=(-B 32 -U) ;;
h2-c2s-drop)
	client=h2
	compress=off # as c2s-drop (h2-deflate-s2c-drop has wsl_h2_client.js speak permessage-deflate)
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
bridge-c2s-drop)
	backend=websockify
	compress=off # websockify speaks no permessage-deflate
	# chatter: no fragmented or large messages, so each echo comes back as one message
	sched=(--count 12 --interval 0.05 --mix chatter --echo --binary --tripwire 2:c2s:6)
	server_rules=(-A OUTPUT -o lo -p tcp --dport 5901 -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
wstunnel-c2s-drop)
	# bridge-c2s-drop with lighttpd's mod_wstunnel as the bridge
	backend=wstunnel
	compress=off
	sched=(--count 12 --interval 0.05 --mix chatter --echo --binary --tripwire 2:c2s:6)
	server_rules=(-A OUTPUT -o lo -p tcp --dport 5901 -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
ipip-c2s-drop | ip4ip6-c2s-drop | mplspw-c2s-drop)
	# c2s-drop with the fw<->ingress link carried over a user-space tunnel
	tunnel=${scenario%%-*}
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
gre-s2c-drop | mpls-s2c-drop | pppoe-s2c-drop)
	# s2c-drop with the fw<->ingress link carried over a user-space tunnel (fw's side of it is tn0)
	tunnel=${scenario%%-*}
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i tn0 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
h2-deflate-s2c-drop)
	client=h2 # compress stays on: the client offers permessage-deflate without context takeover
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
stunnel-c2s-drop)
	# wss:// to stunnel, which ends TLS and relays the bytes over TCP (no HTTP) to nginx
	lb=stunnel
	tls=1.3
	keylog_hops=(client lb)
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
nghttpx-h2-s2c-drop)
	# RFC 8441 through nghttpx: the h2c client's extended CONNECT streams become HTTP/1.1 Upgrades
	lb=nghttpx
	client=h2
	compress=off
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
nghttpx-h2-tls-c2s-drop)
	# as nghttpx-h2-s2c-drop over TLS 1.3 with ALPN h2 (client and lb hops keyed)
	lb=nghttpx
	client=h2
	tls=1.3
	keylog_hops=(client lb)
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
lighttpd-c2s-drop | nghttpx-c2s-drop | h2o-c2s-drop)
	ingress=${scenario%%-*}
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
lbany-c2s-drop)
	# c2s-drop with the lb hop captured by tcpdump -i any on the lb: both of haproxy's connections
	lb_if=any
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
fwany-s2c-drop)
	# s2c-drop with the fw hop captured on all of the fw's interfaces (tcpdump -i any on the router)
	fw_if=any
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
asym-c2s-drop)
	# c2s-drop, and the fw's f0 captured a second time with tcpdump -Q in: the client's side only
	fw_oneway=in
	compress=off
	sched+=(--tripwire 2:c2s:6)
	fw_rules=(-A FORWARD -i f0 -p tcp -m string --algo bm --string wsl-trip-c2s-c2-m6 -j DROP) ;;
asym-s2c-drop)
	# s2c-drop, and the fw's f0 captured a second time with tcpdump -Q out: the server's side only
	fw_oneway=out
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
reroute-s2c-drop)
	# s2c-drop, and nginx's answers move to a second fw link once conn 2 has sent message 3: the
	# ingress capture loses sight of the server's side of every connection from then on
	reroute=(2 3)
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
pings-in-fragments)
	# 40 pings between each two fragments of every fragmented message, both ways (control frames
	# inside a fragmented, compressed message); the fw drops s2c message 10 of conn 2, the one after
	sched+=(--ping-fragments 40 --tripwire 2:s2c:10)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m10 -j DROP) ;;
close-drop)
	# the fw drops every packet carrying the server's answer to the client's close (close 1000 "done"):
	# the client never completes the closing handshake and ends TCP after its close timeout
	compress=off
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --hex-string "|880603e8646f6e65|" -j DROP) ;;
mtu-blackhole)
	# a PMTU black hole between fw and nginx: f1 has MTU 1000, nginx's side 1500, and the fw's
	# "fragmentation needed" is dropped; every message that needs a full-size segment stalls its direction
	compress=off
	fw_mtu=1000 ;;
conntrack-idle)
	# the fw's conntrack forgets conn 2 while it idles 5 s; its next segments are INVALID and dropped
	conns=2
	compress=off
	fw_ct_timeout=2
	sched=(--count 10 --interval 0.05 --mix chat --big 3000 --idle 2:4:5) ;;
fwpcapng-s2c-drop)
	# s2c-drop with the fw hop captured by dumpcap on both of the fw's interfaces: one pcapng file,
	# two Interface Description Blocks (f0, f1), each packet's block naming its interface
	fw_dumpcap=1
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
varnish-s2c-drop | socat-s2c-drop)
	ingress=${scenario%%-*}
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
lossy-drop)
	# lossy-dupes, and the fw drops for good c2s message 6 of conn 2 and s2c message 9 of conn 3
	compress=off
	sched=(--count 30 --interval 0.02 --mix chat --big 3000 --tripwire 2:c2s:6 --tripwire 3:s2c:9)
	fw_rules=(-A FORWARD -p tcp -m string --algo bm --string wsl-trip- -j DROP)
	fw_loss=0.05
	fw_dup=0.1 ;;
lossy | lossy-dupes)
	# lossy-dupes: and 10% of those it forwards are sent twice (TEE), both ways.
	# 5% of the packets the fw forwards are dropped at random, both ways; TCP recovers them all.
	compress=off
	sched=(--count 30 --interval 0.02 --mix chat --big 3000)
	fw_loss=0.05
	[ "$scenario" = lossy ] || fw_dup=0.1 ;;
ingress-hung)
	# nginx stops (SIGSTOP) once the client has sent message 5 on conn 2: its kernel still takes
	# in and acknowledges what arrives; 1 s later it is killed (SIGKILL) with unread data.
	sched=(--count 12 --interval 0.1 --mix chat --big 3000)
	kill_hop=(ingress 2 5 1) ;;
server-killed)
	# the python server gets SIGKILL once the client has sent message 5 on conn 2
	sched=(--count 12 --interval 0.1 --mix chat --big 3000)
	kill_hop=(server 2 5 0) ;;
h2-tls-s2c-drop)
	client=h2
	tls=1.3
	keylog_hops=(client lb)
	compress=off
	sched+=(--tripwire 2:s2c:6)
	fw_rules=(-A FORWARD -i f1 -p tcp -m string --algo bm --string wsl-trip-s2c-c2-m6 -j DROP) ;;
*) usage ;;
esac
sched+=(--compress "$compress")

# ---- setup and teardown ---------------------------------------------------------------------
work=$(mktemp -d /tmp/wsl-work.XXXXXX)
chmod 755 "$work"

NSES=("${HOPS[@]}")
[ -z "$mirror" ] || NSES+=(tap col)
# shellcheck source=netns.sh
. "$here/netns.sh"
lab_up
# mirror_link joins fw and ingress through an Open vSwitch bridge in the tap namespace (its userspace
# netdev datapath: this kernel has no GRE, Geneve or ERSPAN driver and no openvswitch module in use)
# and mirrors every packet crossing it into one tunnel port toward the collector col (10.231.40.2),
# as a switch's ERSPAN session or a cloud traffic mirror delivers a copy of a port's traffic.
# The collector's link has MTU 9000, as mirror destinations do: a full-size frame plus the
# encapsulation is more than 1500 bytes.
mirror_link() {
	ip link add f1 netns "${P}fw" type veth peer name tf netns "${P}tap"
	ip link add i0 netns "${P}ingress" type veth peer name ti netns "${P}tap"
	ip link add tc netns "${P}tap" type veth peer name m0 netns "${P}col"
	ns fw ip addr add 10.231.3.1/24 dev f1
	ns ingress ip addr add 10.231.3.2/24 dev i0
	ns col ip addr add 10.231.40.2/24 dev m0
	ns fw ip link set f1 gso_max_segs 1 up
	ns ingress ip link set i0 gso_max_segs 1 up
	ns col ip link set m0 mtu 9000 up
	ns tap ip link set tf gso_max_segs 1 up
	ns tap ip link set ti gso_max_segs 1 up
	ns tap ip link set tc mtu 9000 up
	# The userspace datapath forwards what AF_PACKET gives it: checksums must be complete.
	ns fw ethtool -K f1 tx off >/dev/null
	ns ingress ethtool -K i0 tx off >/dev/null
	local D=$work/ovs
	mkdir -p "$D"
	export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
	ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	ns tap ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb-server.pid" --detach -vconsole:off \
		--log-file="$D/ovsdb-server.log"
	local V=(ovs-vsctl --db="unix:$D/db.sock")
	ns tap "${V[@]}" --no-wait init
	ns tap ovs-vswitchd "unix:$D/db.sock" --pidfile="$D/ovs-vswitchd.pid" --detach -vconsole:off --log-file="$D/ovs-vswitchd.log"
	local A=(ovs-appctl -t "$D/ovs-vswitchd.$(cat "$D/ovs-vswitchd.pid").ctl")
	ns tap "${V[@]}" add-br br0 -- set bridge br0 datapath_type=netdev -- add-port br0 tf -- add-port br0 ti
	ns tap "${V[@]}" add-br br-phy -- set bridge br-phy datapath_type=netdev -- add-port br-phy tc
	ns tap ip addr add 10.231.40.1/24 dev br-phy
	ns tap ip link set br-phy up
	ns tap ip link set br0 up
	ns tap "${A[@]}" ovs/route/add 10.231.40.0/24 br-phy >/dev/null
	ns tap "${A[@]}" tnl/arp/set br-phy 10.231.40.2 "$(ns col cat /sys/class/net/m0/address)" >/dev/null
	case "$mirror" in
	erspan) ns tap "${V[@]}" add-port br0 mir0 -- set interface mir0 type=erspan options:remote_ip=10.231.40.2 \
		options:key=1 options:erspan_ver=1 options:erspan_idx=3 ;;
	geneve) ns tap "${V[@]}" add-port br0 mir0 -- set interface mir0 type=geneve options:remote_ip=10.231.40.2 \
		options:key=5001 ;;
	erspan3) ns tap "${V[@]}" add-port br0 mir0 -- set interface mir0 type=erspan options:remote_ip=10.231.40.2 \
		options:key=2 options:erspan_ver=2 options:erspan_dir=1 options:erspan_hwid=4 ;;
	gretap) ns tap "${V[@]}" add-port br0 mir0 -- set interface mir0 type=gre options:remote_ip=10.231.40.2 \
		options:key=1234 ;;
	esac
	ns tap "${V[@]}" -- --id=@p get port mir0 -- --id=@m create mirror name=m0 select-all=true output-port=@p \
		-- add bridge br0 mirrors @m >/dev/null
	sleep 1
	ns tap "${A[@]}" dpctl/del-flows >/dev/null # flows cached before the mirror existed
}
# link  client c0 10.231.1.1 <-> 10.231.1.2 l0 lb
# link  lb     l1 10.231.2.1 <-> 10.231.2.2 f0 fw
# link  fw     f1 10.231.3.1 <-> 10.231.3.2 i0 ingress
# link  ingress i1 10.231.4.1 <-> 10.231.4.2 s0 server
link client c0 10.231.1.1 lb l0 10.231.1.2
link lb l1 10.231.2.1 fw f0 10.231.2.2
if [ -z "$mirror" ]; then
	link fw f1 10.231.3.1 ingress i0 10.231.3.2
else
	mirror_link
fi
link ingress i1 10.231.4.1 server s0 10.231.4.2
if [ -n "$vxlan" ]; then
	# The veth becomes the underlay (10.231.30.0/24); the overlay device vx0 takes the fw and
	# ingress addresses. vx0 gets MTU 1500 while the underlay allows 1550, then the underlay goes
	# back to 1500: Linux's VXLAN does not set DF, so 1550-byte outer packets leave fragmented.
	ns fw ip link set f1 mtu 1550
	ns ingress ip link set i0 mtu 1550
	ns fw ip addr flush dev f1
	ns ingress ip addr flush dev i0
	ns fw ip addr add 10.231.30.1/24 dev f1
	ns ingress ip addr add 10.231.30.2/24 dev i0
	ns fw ip link add vx0 type vxlan id 42 local 10.231.30.1 remote 10.231.30.2 dstport 4789 dev f1
	ns ingress ip link add vx0 type vxlan id 42 local 10.231.30.2 remote 10.231.30.1 dstport 4789 dev i0
	ns fw ip addr add 10.231.3.1/24 dev vx0
	ns ingress ip addr add 10.231.3.2/24 dev vx0
	ns fw ip link set vx0 mtu 1500 gso_max_segs 1 up
	ns ingress ip link set vx0 mtu 1500 gso_max_segs 1 up
	ns fw ip link set f1 mtu 1500
	ns ingress ip link set i0 mtu 1500
fi
if [ -n "$tunnel" ]; then
	# The veth f1<->i0 becomes the underlay; tn0 (a TUN device; TAP for the Ethernet pseudowire),
	# served by wsl_tunnel.py in each namespace, takes the fw and ingress addresses. Its MTU is the
	# underlay's less the encapsulation, as a kernel tunnel's would be.
	declare -A tun_mtu=([ipip]=1480 [gre]=1468 [ip4ip6]=1460 [mpls]=1492 [mplspw]=1474 [pppoe]=1492)
	fw_mac=$(ns fw cat /sys/class/net/f1/address)
	ingress_mac=$(ns ingress cat /sys/class/net/i0/address)
	tun_fw=(--mode "$tunnel" --tun tn0)
	tun_ingress=(--mode "$tunnel" --tun tn0)
	for h in fw ingress; do
		ns "$h" ip addr flush dev "$([ $h = fw ] && echo f1 || echo i0)"
		ns "$h" ip tuntap add tn0 mode "$([ "$tunnel" = mplspw ] && echo tap || echo tun)"
		ns "$h" sysctl -qw net.ipv6.conf.tn0.disable_ipv6=1
	done
	case "$tunnel" in
	ipip | gre)
		ns fw ip addr add 10.231.30.1/24 dev f1
		ns ingress ip addr add 10.231.30.2/24 dev i0
		tun_fw+=(--local 10.231.30.1 --remote 10.231.30.2 --key 1001)
		tun_ingress+=(--local 10.231.30.2 --remote 10.231.30.1 --key 1001) ;;
	ip4ip6)
		ns fw ip -6 addr add fd31:30::1/64 dev f1 nodad
		ns ingress ip -6 addr add fd31:30::2/64 dev i0 nodad
		tun_fw+=(--local fd31:30::1 --remote fd31:30::2)
		tun_ingress+=(--local fd31:30::2 --remote fd31:30::1) ;;
	mpls | mplspw)
		# Unidirectional LSPs: fw pushes a transport label and the bottom label; towards fw the
		# transport label is already popped (penultimate-hop popping), only the bottom label is left.
		bottom=24
		[ "$tunnel" = mplspw ] && bottom=200
		tun_fw+=(--dev f1 --peer-mac "$ingress_mac" --push "16002,$bottom")
		tun_ingress+=(--dev i0 --peer-mac "$fw_mac" --push "$bottom") ;;
	pppoe)
		tun_fw+=(--dev f1 --role client --ppp-addr 10.231.3.1)
		tun_ingress+=(--dev i0 --role ac --ppp-addr 10.231.3.2) ;;
	esac
	if [ "$tunnel" != ip4ip6 ]; then
		ns fw sysctl -qw net.ipv6.conf.f1.disable_ipv6=1
		ns ingress sysctl -qw net.ipv6.conf.i0.disable_ipv6=1
	fi
	ns fw ip addr add 10.231.3.1/24 dev tn0
	ns ingress ip addr add 10.231.3.2/24 dev tn0
	ns fw ip link set tn0 mtu "${tun_mtu[$tunnel]}" up
	ns ingress ip link set tn0 mtu "${tun_mtu[$tunnel]}" up
	ns ingress "$PY" "$here/wsl_tunnel.py" "${tun_ingress[@]}" >"$work/tunnel-ingress.out" 2>&1 &
	ns fw "$PY" "$here/wsl_tunnel.py" "${tun_fw[@]}" >"$work/tunnel-fw.out" 2>&1 &
	for _ in $(seq 200); do
		grep -qs ready "$work/tunnel-fw.out" && grep -qs ready "$work/tunnel-ingress.out" && break
		sleep 0.05
	done
	grep -qs ready "$work/tunnel-fw.out" && grep -qs ready "$work/tunnel-ingress.out" ||
		{ echo "run.sh: the $tunnel tunnel did not come up" >&2; cat "$work"/tunnel-*.out >&2; exit 1; }
fi
if [ ${#reroute[@]} -gt 0 ]; then # the second fw<->ingress link the answers move to
	link fw f2 10.231.33.1 ingress i2 10.231.33.2
	ns fw sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.f2.rp_filter=0
fi
ns lb ip route add 10.231.3.0/24 via 10.231.2.2
ns ingress ip route add 10.231.2.0/24 via 10.231.3.1
ns fw sysctl -qw net.ipv4.ip_forward=1
if [ ${#fw_rules[@]} -gt 0 ]; then ns fw iptables "${fw_rules[@]}"; fi
if [ -n "$fw_mtu" ]; then
	ns fw ip link set f1 mtu "$fw_mtu"
	ns fw iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
fi
if [ -n "$fw_ct_timeout" ]; then # per-namespace sysctls; loose 0: no pick-up of a forgotten connection
	ns fw iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
	ns fw sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 net.netfilter.nf_conntrack_tcp_timeout_established="$fw_ct_timeout"
fi
if [ -n "$fw_loss" ]; then ns fw iptables -A FORWARD -p tcp -m statistic --mode random --probability "$fw_loss" -j DROP; fi
if [ -n "$fw_dup" ]; then
	ns fw iptables -t mangle -A POSTROUTING -o f1 -p tcp -m statistic --mode random --probability "$fw_dup" -j TEE --gateway 10.231.3.2
	ns fw iptables -t mangle -A POSTROUTING -o f0 -p tcp -m statistic --mode random --probability "$fw_dup" -j TEE --gateway 10.231.2.1
fi
if [ ${#server_rules[@]} -gt 0 ]; then ns server iptables "${server_rules[@]}"; fi
# Small TCP buffers (these sysctls are per network namespace): a reader that stops reading makes
# zero windows within a few tens of KB instead of megabytes, so the captures stay small.
for h in "${small_bufs[@]}"; do
	ns "$h" sysctl -qw net.ipv4.tcp_rmem="4096 4096 4096" net.ipv4.tcp_wmem="4096 4096 4096"
done

# ---- servers --------------------------------------------------------------------------------
lb_port=8080
bind="10.231.1.2:8080"
client_tls=()
tshark_tls=()
stop_time=
if [ -n "$tls" ]; then
	# A fresh self-signed RSA certificate for chat.netlab.test; haproxy wants key and cert in one PEM.
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=chat.netlab.test \
		-addext subjectAltName=DNS:chat.netlab.test -keyout "$work/lb.key" -out "$work/lb.crt" 2>/dev/null
	cat "$work/lb.crt" "$work/lb.key" >"$work/lb.pem"
	lb_port=8443
	bind="10.231.1.2:8443 ssl crt $work/lb.pem"
	if [ "$tls" = 1.2 ]; then bind+=" ssl-max-ver TLSv1.2 ciphers ECDHE-RSA-AES128-GCM-SHA256"; fi
	if [ "$client" = h2 ]; then bind+=" alpn h2"; fi
	client_tls=(--cafile "$work/lb.crt" --keylog "$work/keys.txt")
	tshark_tls=(--tls-port 8443 --keylog keys.txt --tls-version "$tls" --keylog-hops "${keylog_hops[*]}")
fi
# h2 over cleartext: HTTP/2 with prior knowledge (haproxy's "proto h2" on the bind line).
if [ "$client" = h2 ] && [ -z "$tls" ]; then bind+=" proto h2"; fi
sed -e "s|@WORK@|$work|g" -e "s|@BIND@|$bind|g" -e "s|@TUNNEL_TIMEOUT@|$tunnel_timeout|g" "$here/haproxy.cfg" >"$work/haproxy.cfg"
server_port=8765
[ "$backend" = tomcat ] && server_port=8080
truth_ingress=()
case "$ingress" in
nginx)
	sed -e "s|@WORK@|$work|g" -e "s|@READ_TIMEOUT@|$read_timeout|g" -e "s|@UPSTREAM@|10.231.4.2:$server_port|g" \
		"$here/nginx.conf" >"$work/nginx.conf" ;;
caddy)
	sed -e "s|@WORK@|$work|g" -e "s|@UPSTREAM@|10.231.4.2:$server_port|g" "$here/caddy.Caddyfile" >"$work/Caddyfile"
	truth_ingress=(--ingress "Caddy $(dpkg-query -W -f '${Version}' caddy) (reverse_proxy, examples/netlab/caddy.Caddyfile)") ;;
apache)
	mkdir -p "$work/apache"
	sed -e "s|@WORK@|$work|g" -e "s|@UPSTREAM@|10.231.4.2:$server_port|g" "$here/apache.conf" >"$work/apache.conf"
	truth_ingress=(--ingress "Apache httpd $(dpkg-query -W -f '${Version}' apache2) (mod_proxy_http upgrade=websocket, examples/netlab/apache.conf)") ;;
lighttpd)
	sed -e "s|@WORK@|$work|g" -e "s|@UPSTREAM_HOST@|10.231.4.2|g" -e "s|@UPSTREAM_PORT@|$server_port|g" \
		"$here/lighttpd.conf" >"$work/lighttpd.conf"
	truth_ingress=(--ingress "lighttpd $(dpkg-query -W -f '${Version}' lighttpd) (mod_proxy, proxy.header upgrade, examples/netlab/lighttpd.conf)") ;;
varnish)
	sed -e "s|@UPSTREAM_HOST@|10.231.4.2|g" -e "s|@UPSTREAM_PORT@|$server_port|g" "$here/varnish.vcl" >"$work/varnish.vcl"
	truth_ingress=(--ingress "Varnish $(dpkg-query -W -f '${Version}' varnish) (Upgrade requests piped, examples/netlab/varnish.vcl)") ;;
nghttpx)
	truth_ingress=(--ingress "nghttpx $(dpkg-query -W -f '${Version}' nghttp2-proxy) (HTTP/1.1 frontend and backend)") ;;
h2o)
	sed -e "s|@WORK@|$work|g" -e "s|@UPSTREAM@|10.231.4.2:$server_port|g" "$here/h2o.conf" >"$work/h2o.conf"
	truth_ingress=(--ingress "h2o $(dpkg-query -W -f '${Version}' h2o) (proxy.reverse.url with proxy.websocket ON, examples/netlab/h2o.conf)") ;;
socat)
	truth_ingress=(--ingress "socat $(dpkg-query -W -f '${Version}' socat) (TCP relay, one upstream connection per connection)") ;;
relay)
	truth_ingress=(--relay-log "$work/relay.jsonl" --ingress "relay examples/netlab/wsl_relay.py (python3-websockets $(dpkg-query -W -f '${Version}' python3-websockets)): terminates the client's WebSocket and opens its own to the server") ;;
esac
truth_backend=()
case "$backend" in
websockify)
	# websockify (Debian's) terminates the WebSocket on the server's port and bridges each
	# connection to a TCP echo server on the server's loopback: WebSocket becomes plain TCP there.
	ns server "$PY" "$here/wsl_tcp_echo.py" --host 127.0.0.1 --port 5901 --log "$work/echo.jsonl" 2>"$work/echo.err" &
	ns server websockify 10.231.4.2:8765 127.0.0.1:5901 >"$work/websockify.log" 2>&1 &
	: >"$work/server.jsonl" # the echo server's log stands in for the server's (truth.py --bridge)
	truth_backend=(--bridge "$work/echo.jsonl" --backend "websockify $(dpkg-query -W -f '${Version}' websockify) bridging to a TCP echo server (examples/netlab/wsl_tcp_echo.py) on the server's loopback") ;;
wstunnel)
	# lighttpd's mod_wstunnel as the bridge instead of websockify (lighttpd-wstunnel.conf)
	ns server "$PY" "$here/wsl_tcp_echo.py" --host 127.0.0.1 --port 5901 --log "$work/echo.jsonl" 2>"$work/echo.err" &
	sed -e "s|@WORK@|$work|g" "$here/lighttpd-wstunnel.conf" >"$work/lighttpd-wstunnel.conf"
	ns server lighttpd -D -f "$work/lighttpd-wstunnel.conf" >"$work/lighttpd-wstunnel.log" 2>&1 &
	: >"$work/server.jsonl"
	truth_backend=(--bridge "$work/echo.jsonl" --backend "lighttpd $(dpkg-query -W -f '${Version}' lighttpd) mod_wstunnel (examples/netlab/lighttpd-wstunnel.conf) bridging to a TCP echo server (examples/netlab/wsl_tcp_echo.py) on the server's loopback") ;;
python)
	ns server "$PY" "$here/wsl_server.py" --host 10.231.4.2 --port 8765 --log "$work/server.jsonl" \
		"${server_args[@]}" "${sched[@]}" 2>"$work/server.err" & ;;
tomcat)
	# A CATALINA_BASE of our own in the work directory; Debian's tomcat10 is only the program.
	tb="$work/tomcat"
	mkdir -p "$tb/conf/Catalina/localhost" "$tb/logs" "$tb/temp" "$tb/webapps" "$tb/work"
	cp /etc/tomcat10/web.xml /etc/tomcat10/catalina.properties /etc/tomcat10/context.xml "$tb/conf/"
	cp "$here/tomcat-server.xml" "$tb/conf/server.xml"
	printf '<Context docBase="/usr/share/tomcat10-examples/examples">\n  <Resources allowLinking="true"/>\n</Context>\n' \
		>"$tb/conf/Catalina/localhost/examples.xml"
	ns server env CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE="$tb" CATALINA_TMPDIR="$tb/temp" \
		JAVA_OPTS="-Xshare:auto -XX:TieredStopAtLevel=1 -Djava.security.egd=file:/dev/./urandom" \
		/usr/share/tomcat10/bin/catalina.sh run >"$work/tomcat.log" 2>&1 &
	# The echo endpoints write no log: truth.py reads the server's side from its capture.
	truth_backend=(--server-from-capture --backend "Apache Tomcat $(dpkg-query -W -f '${Version}' tomcat10) (Debian tomcat10-examples echo endpoints)") ;;
node)
	npm install --no-audit --no-fund --silent --prefix "$work/node" "ws@$WS_VERSION" >"$work/npm.log" 2>&1 ||
		{ cat "$work/npm.log" >&2; exit 1; }
	"$PY" "$here/wsl_schedule.py" --conns "$conns" --out "$work/schedule.json" "${sched[@]}" --log /dev/null
	ns server env NODE_PATH="$work/node/node_modules" node "$here/wsl_server.js" --host 10.231.4.2 --port 8765 \
		--schedule "$work/schedule.json" --log "$work/server.jsonl" 2>"$work/server.err" &
	truth_backend=(--backend "Node.js $(node --version) with ws $WS_VERSION (examples/netlab/wsl_server.js)") ;;
socketio)
	npm install --no-audit --no-fund --silent --prefix "$work/node" "socket.io@$SIO_VERSION" \
		"socket.io-client@$SIO_VERSION" >"$work/npm.log" 2>&1 || { cat "$work/npm.log" >&2; exit 1; }
	"$PY" "$here/wsl_schedule.py" --conns "$conns" --out "$work/schedule.json" "${sched[@]}" --log /dev/null
	ns server env NODE_PATH="$work/node/node_modules" node "$here/wsl_sio_server.js" --host 10.231.4.2 \
		--port 8765 --schedule "$work/schedule.json" --log "$work/server.jsonl" --ping-interval "$SIO_PING_MS" \
		2>"$work/server.err" &
	truth_backend=(--socketio --backend "Node.js $(node --version) with socket.io $SIO_VERSION, engine.io ping interval ${SIO_PING_MS} ms (examples/netlab/wsl_sio_server.js); client socket.io-client $SIO_VERSION (examples/netlab/wsl_sio_client.js), WebSocket transport only") ;;
esac
case "$ingress" in
nginx) ns ingress nginx -e "$work/nginx-error.log" -c "$work/nginx.conf" -p "$work" 2>"$work/nginx.err" & ;;
caddy) # HOME and XDG directories in the work directory: Caddy writes its autosave and storage there.
	ns ingress env HOME="$work/caddy" XDG_CONFIG_HOME="$work/caddy" XDG_DATA_HOME="$work/caddy" \
		caddy run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 & ;;
apache) # In the foreground (parent and one event-MPM child), so the teardown finds it in the namespace.
	ns ingress apache2 -DFOREGROUND -f "$work/apache.conf" >"$work/apache.log" 2>&1 & ;;
lighttpd) ns ingress lighttpd -D -f "$work/lighttpd.conf" >"$work/lighttpd.log" 2>&1 & ;;
varnish) # -F: in the foreground; its working directory (-n) in the work directory
	ns ingress varnishd -F -n "$work/varnish" -a 10.231.3.2:80 -f "$work/varnish.vcl" -s malloc,32m -p pipe_timeout="$pipe_timeout" \
		>"$work/varnish.log" 2>&1 & ;;
nghttpx)
	ns ingress nghttpx --frontend='10.231.3.2,80;no-tls' --backend="10.231.4.2,$server_port" --workers=1 \
		--no-ocsp --add-x-forwarded-for --errorlog-file="$work/nghttpx-error.log" \
		--accesslog-file="$work/nghttpx-access.log" >"$work/nghttpx.log" 2>&1 & ;;
h2o) ns ingress h2o -c "$work/h2o.conf" >"$work/h2o.log" 2>&1 & ;;
socat)
	ns ingress socat TCP-LISTEN:80,bind=10.231.3.2,fork,reuseaddr "TCP:10.231.4.2:$server_port" \
		>"$work/socat.log" 2>&1 & ;;
relay)
	ns ingress "$PY" "$here/wsl_relay.py" --host 10.231.3.2 --port 80 --upstream "10.231.4.2:$server_port" \
		--scenario "$scenario" --compress "$compress" --log "$work/relay.jsonl" "${relay_args[@]}" \
		2>"$work/relay.err" & ;;
esac
case "$lb" in
haproxy) ns lb haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 & ;;
stunnel)
	printf 'foreground = yes\npid = %s/stunnel.pid\n[ws]\naccept = 10.231.1.2:%s\nconnect = 10.231.3.2:80\ncert = %s/lb.pem\n' \
		"$work" "$lb_port" "$work" >"$work/stunnel.conf"
	ns lb stunnel4 "$work/stunnel.conf" >"$work/stunnel.log" 2>&1 & ;;
nghttpx) # TLS (ALPN h2) with the lab's certificate when tls is set, else cleartext (h2c, HTTP/1.1)
	ngx_front=("--frontend=10.231.1.2,$lb_port;no-tls")
	[ -z "$tls" ] || ngx_front=("--frontend=10.231.1.2,$lb_port" "$work/lb.key" "$work/lb.crt")
	ns lb nghttpx "${ngx_front[@]}" --backend=10.231.3.2,80 --workers=1 --no-ocsp \
		--add-x-forwarded-for --errorlog-file="$work/nghttpx-lb-error.log" \
		--accesslog-file="$work/nghttpx-lb-access.log" >"$work/nghttpx-lb.log" 2>&1 & ;;
esac

wait_port server 10.231.4.2 "$server_port"
[ "$backend" != websockify ] && [ "$backend" != wstunnel ] || wait_port server 127.0.0.1 5901
if [ "$backend" = tomcat ]; then # the port opens before the examples webapp is deployed
	for _ in $(seq 300); do grep -qs "Server startup in" "$work/tomcat.log" && break; sleep 0.1; done
	grep -qs "Server startup in" "$work/tomcat.log" || { echo "run.sh: tomcat did not start" >&2; cat "$work/tomcat.log" >&2; exit 1; }
fi
wait_port ingress 10.231.3.2 80
wait_port lb 10.231.1.2 "$lb_port"

# ---- captures -------------------------------------------------------------------------------
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.pcap "$out"/*.pcapng "$out"/hops*.yaml "$out/truth.json" "$out/README.md" "$out/keys.txt"
declare -A tcpd
declare -A filter # per hop, when not "tcp"
[ -z "$vxlan" ] || filter[ingress]="tcp or udp port 4789 or (ip[6:2] & 0x1fff != 0)" # VXLAN and its later fragments
declare -A mirror_filter=([erspan]="ip proto 47" [erspan3]="ip proto 47" [gretap]="ip proto 47" [geneve]="udp port 6081")
[ -z "$mirror" ] || filter[ingress]=${mirror_filter[$mirror]}
declare -A tunnel_filter=([ipip]="ip proto 4" [gre]="ip proto 47" [ip4ip6]="ip6 proto 4" [mpls]=mpls [mplspw]=mpls
	[pppoe]="pppoed or pppoes")
[ -z "$tunnel" ] || filter[ingress]=${tunnel_filter[$tunnel]}
capture() { # hop tcpdump-args...
	local h=$1
	shift
	# Started directly (not through the ns function) so that $! is tcpdump itself.
	ip netns exec "$P$h" tcpdump -Z root -n "$@" "${filter[$h]:-tcp}" 2>"$work/tcpdump-$h.err" &
	tcpd[$h]=$!
}
capture client -i c0 -w "$out/client.pcap"
capture lb -i "$lb_if" -G 2 -w "$work/lb-%s.pcap"
fw_file=fw.pcap
if [ -n "$fw_dumpcap" ]; then # dumpcap writes pcapng; -f before the first -i filters every interface
	fw_file=fw.pcapng
	ip netns exec "${P}fw" dumpcap -n -f tcp -i f0 -i f1 -w "$out/$fw_file" 2>"$work/tcpdump-fw.err" &
	tcpd[fw]=$!
else
	capture fw -i "$fw_if" --time-stamp-precision=nano -w "$out/$fw_file"
fi
if [ -z "$mirror" ]; then
	capture ingress -i i0 "${ingress_snap[@]}" -w "$out/ingress.pcap"
else # the collector's interface: the mirror's tunnel packets are the ingress hop's view
	ip netns exec "${P}col" tcpdump -Z root -n -i m0 -w "$out/ingress.pcap" "${filter[ingress]}" 2>"$work/tcpdump-ingress.err" &
	tcpd[ingress]=$!
fi
capture server -i any -w "$out/server.pcap"
caps=("${HOPS[@]}")
if [ "$backend" = websockify ] || [ "$backend" = wstunnel ]; then # the bridge's TCP side, on the server's loopback
	ip netns exec "${P}server" tcpdump -Z root -n -i lo -w "$out/echo.pcap" tcp port 5901 2>"$work/tcpdump-echo.err" &
	tcpd[echo]=$!
	caps+=(echo)
fi
if [ -n "$fw_oneway" ]; then # a second tcpdump on the fw's f0 that sees one direction only
	ip netns exec "${P}fw" tcpdump -Z root -n -i f0 -Q "$fw_oneway" -w "$out/fw-oneway.pcap" tcp 2>"$work/tcpdump-fwq.err" &
	tcpd[fwq]=$!
	caps+=(fwq)
fi
if [ ${#drop_capture[@]} -gt 0 ]; then # a second tcpdump on the fw's f0 at the same time
	# Its output goes through a pipe drained at drop_rate bytes/s, like a slow disk on a busy host:
	# tcpdump blocks writing, its kernel buffer fills and the kernel drops packets.
	mkfifo "$work/fwdrop.fifo"
	"$PY" -c 'import sys, time
src, dst, rate = open(sys.argv[1], "rb"), open(sys.argv[2], "wb"), int(sys.argv[3])
while True:
    b = src.read(4096)
    if not b:
        break
    dst.write(b)
    time.sleep(len(b) / rate)' "$work/fwdrop.fifo" "$out/fwdrop.pcap" "$drop_rate" &
	drain_pid=$!
	ip netns exec "${P}fw" tcpdump -Z root -n -i f0 "${drop_capture[@]}" -w "$work/fwdrop.fifo" tcp \
		2>"$work/tcpdump-fwdrop.err" &
	tcpd[fwdrop]=$!
	caps+=(fwdrop)
fi
for h in "${caps[@]}"; do
	for _ in $(seq 100); do grep -qs "listening on\|Capturing on" "$work/tcpdump-$h.err" && break; sleep 0.05; done
done
sleep 0.3

# ---- traffic --------------------------------------------------------------------------------
set +e
if [ "$client" = h2 ]; then
	[ -f "$work/schedule.json" ] || "$PY" "$here/wsl_schedule.py" --conns "$conns" --out "$work/schedule.json" "${sched[@]}" --log /dev/null
	h2_tls=()
	[ -z "$tls" ] || h2_tls=(--cafile "$work/lb.crt" --keylog "$work/keys.txt" --server-name chat.netlab.test)
	ns client node "$here/wsl_h2_client.js" --host 10.231.1.2 --port "$lb_port" --scenario "$scenario" \
		--conns "$conns" --stagger "$stagger" --deadline "$deadline" --schedule "$work/schedule.json" \
		--log "$work/client.jsonl" --deflate "$compress" "${h2_tls[@]}" 2>"$work/client.err"
elif [ "$backend" = socketio ]; then
	ns client env NODE_PATH="$work/node/node_modules" node "$here/wsl_sio_client.js" --host 10.231.1.2 \
		--port "$lb_port" --scenario "$scenario" --conns "$conns" --stagger "$stagger" --deadline "$deadline" \
		--schedule "$work/schedule.json" --log "$work/client.jsonl" 2>"$work/client.err"
else
	ns client "$PY" "$here/wsl_client.py" --host 10.231.1.2 --port "$lb_port" --scenario "$scenario" \
		--conns "$conns" --stagger "$stagger" --deadline "$deadline" --log "$work/client.jsonl" "${client_tls[@]}" \
		"${client_args[@]}" "${paths[@]}" "${sched[@]}" 2>"$work/client.err" &
	client_pid=$!
	if [ ${#kill_hop[@]} -gt 0 ]; then # a component dies (SIGKILL) mid-stream, maybe hung (SIGSTOP) first
		for _ in $(seq 200); do
			grep -qs "\"conn\": ${kill_hop[1]}, \"dir\": \"c2s\", \"ev\": \"send\", \"idx\": ${kill_hop[2]}," "$work/client.jsonl" && break
			sleep 0.02
		done
		victims=() # every process of the namespace but the tcpdumps
		for pid in $(ip netns pids "$P${kill_hop[0]}"); do
			[[ " ${tcpd[*]} " == *" $pid "* ]] || victims+=("$pid")
		done
		kill -STOP "${victims[@]}" 2>/dev/null || true
		sleep "${kill_hop[3]}"
		kill -KILL "${victims[@]}" 2>/dev/null || true
	fi
	if [ ${#reroute[@]} -gt 0 ]; then # asymmetric routing from here on: answers leave ingress over i2
		for _ in $(seq 200); do
			grep -qs "\"conn\": ${reroute[0]}, \"dir\": \"c2s\", \"ev\": \"send\", \"idx\": ${reroute[1]}," "$work/client.jsonl" && break
			sleep 0.02
		done
		ns ingress ip route replace 10.231.2.0/24 via 10.231.33.1 dev i2
	fi
	if [ ${#stop_capture[@]} -gt 0 ]; then # one hop's capture ends while the traffic goes on
		for _ in $(seq 200); do
			grep -qs "\"conn\": 1, \"dir\": \"c2s\", \"ev\": \"send\", \"idx\": ${stop_capture[1]}," "$work/client.jsonl" && break
			sleep 0.05
		done
		stop_time=$(date +%s.%N)
		kill -INT "${tcpd[${stop_capture[0]}]}"
	fi
	wait $client_pid
fi
client_rc=$?
set -e
sleep 1
for h in "${caps[@]}"; do kill -INT "${tcpd[$h]}" 2>/dev/null || true; done
for h in "${caps[@]}"; do wait "${tcpd[$h]}" || true; done
[ -z "${drain_pid:-}" ] || wait "$drain_pid"
# What each tcpdump said it lost ("N packets dropped by kernel"): truth.json records it.
kernel_drops=()
for h in "${caps[@]}"; do
	kernel_drops+=("$h:$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$work/tcpdump-$h.err")")
done
[ $client_rc -eq 0 ] || { echo "run.sh: client failed:" >&2; cat "$work/client.err" >&2; exit 1; }

# The lb capture rotated every 2 s: name the files lb-1.pcap, lb-2.pcap, ... in time order.
i=1
for f in $(ls "$work"/lb-*.pcap | sort -t- -k2 -n); do
	mv "$f" "$out/lb-$i.pcap"
	i=$((i + 1))
done

# The TLS secrets the client logged decrypt the client<->haproxy connection, seen at client and lb.
[ -z "$tls" ] || cp "$work/keys.txt" "$out/keys.txt"
keylog() { # hop: the hops.yaml line naming the key log, if this scenario gives the hop one
	local h
	for h in "${keylog_hops[@]}"; do [ "$h" = "$1" ] && printf '    keylog: keys.txt\n'; done
	return 0
}
{
	echo "incident: wspath netlab scenario $scenario"
	echo "hops:"
	echo "  - name: client"
	echo "    pcap: client.pcap"
	keylog client
	echo "  - name: lb"
	echo "    pcap: lb-*.pcap"
	keylog lb
	echo "  - name: fw"
	echo "    pcap: $fw_file"
	if [ ${#drop_capture[@]} -gt 0 ]; then
		echo "  - name: fwdrop"
		echo "    pcap: fwdrop.pcap"
	fi
	echo "  - name: ingress"
	echo "    pcap: ingress.pcap"
	echo "  - name: server"
	echo "    pcap: server.pcap"
	if [ "$backend" = websockify ] || [ "$backend" = wstunnel ]; then
		echo "  - name: echo"
		echo "    pcap: echo.pcap"
		echo "    port: 5901"
		echo "    bridge: tcp"
	fi
} >"$out/hops.yaml"
if [ ${#drop_capture[@]} -gt 0 ]; then # the same hops with the two fw captures the other way round
	awk '/name: fwdrop$/ { print; getline; print; print fwd; print fwp; next }
		/name: fw$/ { fwd = $0; getline; fwp = $0; next } { print }' "$out/hops.yaml" >"$out/hops-fwdrop-first.yaml"
	if [ ${#fw_rules[@]} -eq 0 ]; then # nothing is lost: the two fw captures alone, both orders
		printf 'incident: wspath netlab scenario %s, the two fw captures only\nhops:\n  - name: %s\n    pcap: %s.pcap\n  - name: %s\n    pcap: %s.pcap\n' \
			"$scenario" fw fw fwdrop fwdrop >"$out/hops-two.yaml"
		printf 'incident: wspath netlab scenario %s, the two fw captures only\nhops:\n  - name: %s\n    pcap: %s.pcap\n  - name: %s\n    pcap: %s.pcap\n' \
			"$scenario" fwdrop fwdrop fw fw >"$out/hops-two-fwdrop-first.yaml"
	fi
fi

truth_oneway=()
if [ -n "$fw_oneway" ]; then # the same hops, the fw hop's capture the one-way one
	sed -e 's|^    pcap: fw.pcap$|    pcap: fw-oneway.pcap|' -e "s|^incident: .*|&, fw captured with tcpdump -Q $fw_oneway|" \
		"$out/hops.yaml" >"$out/hops-oneway.yaml"
	truth_oneway=(--one-way "fw:fw-oneway.pcap:hops-oneway.yaml:$fw_oneway")
fi
truth_views=()
# tcpdump -i any on the fw: its two interfaces are compared as fw.in (f0) and fw.out (f1)
[ "$fw_if" != any ] || truth_views=(--views "fw:$(ns fw cat /sys/class/net/f0/ifindex):$(ns fw cat /sys/class/net/f1/ifindex)")
# tcpdump -i any on the lb: haproxy's two connections, compared as lb.in (l0) and lb.out (l1)
[ "$lb_if" != any ] || truth_views=(--views "lb:$(ns lb cat /sys/class/net/l0/ifindex):$(ns lb cat /sys/class/net/l1/ifindex)")
# dumpcap on the fw's f0 and f1: the views are its two pcapng interfaces, by name
[ -z "$fw_dumpcap" ] || truth_views=(--views "fw:f0:f1" --file "fw:$fw_file")
truth_h2=()
[ "$client" = h2 ] && truth_h2=(--h2)
[ -z "${WSL_KEEP_LOGS:-}" ] || cp "$work"/*.jsonl "$work"/*.log "$WSL_KEEP_LOGS"/ 2>/dev/null || true
"$PY" "$here/truth.py" --scenario "$scenario" --out "$out" --client-log "$work/client.jsonl" "${truth_h2[@]}" \
	--server-log "$work/server.jsonl" --conns "$conns" "${tshark_tls[@]}" "${truth_backend[@]}" \
	${stop_capture[0]:+--stopped-capture "${stop_capture[0]}:$stop_time"} ${server_args[@]:+--stall "${server_args[1]}"} \
	"${truth_ingress[@]}" ${drop_capture[@]:+--kernel-drops "${kernel_drops[*]}"} "${truth_views[@]}" "${truth_oneway[@]}" \
	"${sched[@]}" --log /dev/null
echo "run.sh: $scenario -> $out ($(du -sh "$out" | cut -f1))"
