#!/bin/bash
# make.sh OUTDIR [WSJS]: a real capture of websockify's "base64" subprotocol. In a namespace of its
# own ($P = ${WSL_NS_PREFIX:-b64-}, loopback only): server.py on 127.0.0.1:5901 (echoes, and sends
# a tick every 200 ms for 3 s, as a VNC server pushes updates); websockify-js (npm websockify 0.7.1, noVNC's Node.js websockify, with ws 1.1.5,
# which it was written for) on 127.0.0.1:8765 bridging to it; client.py (python3-websockets)
# speaking the base64 subprotocol. iptables drops, on the TCP side only (OUTPUT -o lo, port 5901),
# the packets carrying the marker of client message 6, so that direction stalls there.
# tcpdump -i lo writes ws.pcap (port 8765) and echo.pcap (port 5901). WSJS is a directory with
# node_modules/websockify and node_modules/ws installed (npm install websockify@0.7.1 ws@1.1.5).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [WSJS]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
P=${WSL_NS_PREFIX:-b64-}
D=$(mktemp -d /tmp/b64-run.XXXXXX)
wsjs=${2:-$D/wsjs}
if [ ! -d "$wsjs/node_modules/websockify" ]; then
	npm install --no-audit --no-fund --silent --prefix "$wsjs" websockify@0.7.1 ws@1.1.5 >/dev/null
fi
teardown() {
	set +e
	pids=$(ip netns pids "${P}b64" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill $pids 2>/dev/null
	sleep 0.3
	ip netns del "${P}b64" 2>/dev/null
	rm -rf "$D"
}
trap teardown EXIT
ip netns del "${P}b64" 2>/dev/null || true
ip netns add "${P}b64"
x() { ip netns exec "${P}b64" "$@"; }
x ip link set lo up
x iptables -A OUTPUT -o lo -p tcp --dport 5901 -m string --algo bm --string wsl-b64-drop -j DROP
ip netns exec "${P}b64" tcpdump -Z root -n -i lo -w "$out/ws.pcap" tcp port 8765 2>"$D/td-ws.err" &
tws=$!
ip netns exec "${P}b64" tcpdump -Z root -n -i lo -w "$out/echo.pcap" tcp port 5901 2>"$D/td-echo.err" &
techo=$!
for f in "$D/td-ws.err" "$D/td-echo.err"; do
	for _ in $(seq 100); do grep -qs "listening on" "$f" && break; sleep 0.05; done
done
x /usr/bin/python3 "$here/server.py" 2>"$D/server.err" &
x env NODE_PATH="$wsjs/node_modules" node "$wsjs/node_modules/websockify/websockify.js" 127.0.0.1:8765 127.0.0.1:5901 >"$D/websockify.log" 2>&1 &
for port in 5901 8765; do
	for _ in $(seq 100); do x bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break; sleep 0.05; done
done
x /usr/bin/python3 "$here/client.py" | tee "$D/client.out"
sleep 2 # tcpdump hands over its last packets once the kernel's ring block is retired
kill -INT $tws $techo
wait $tws $techo || true
grep -q "subprotocol: base64" "$D/websockify.log" || { echo "make.sh: websockify did not pick base64" >&2; cat "$D/websockify.log" >&2; exit 1; }
echo "make.sh: $out/ws.pcap $out/echo.pcap"
