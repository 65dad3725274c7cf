#!/bin/bash
# perf.sh [--scale F] [--repeat N] OUTDIR: make two captures of real WebSocket echo traffic (python
# websockets server and client in two network namespaces joined by a veth pair, tcpdump writing on
# the server side) and measure wspath against tshark's WebSocket pass on them, in one run.
#   mixed.pcap: 40 connections, 80k client messages of 20 B to 16 KB (log-uniform), each echoed
#               (about 160k messages, 400 MB);
#   small.pcap: 40 connections, 480k client messages of 20 to 400 B, each echoed (about 960k
#               messages and packets, 290 MB).
# --scale F multiplies the message counts (0.1 for a quick run). Captures already in OUTDIR made
# with the same scale are reused. Prints, per run: seconds, MB/s and packets/s of capture, peak
# RSS, and the ratio of tshark's time to wspath's (wall, and CPU time, which a busy machine
# disturbs less). Needs root, tshark, tcpdump, python3-websockets.
set -euo pipefail

scale=1
repeat=1
while [ $# -gt 1 ]; do
	case "$1" in
	--scale) scale=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--scale F] [--repeat N] OUTDIR" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
P=${WSL_NS_PREFIX:-wsl-}
CLI=${P}perf-cli
SRV=${P}perf-srv
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

cleanup() {
	[ -n "${pids:-}" ] && kill $pids 2>/dev/null || true
	ip netns del "$CLI" 2>/dev/null || true
	ip netns del "$SRV" 2>/dev/null || true
}
trap cleanup EXIT

# capture NAME MESSAGES SIZES: run the echo traffic and write OUTDIR/NAME.pcap.
capture() {
	local name=$1 msgs=$2 sizes=$3
	local stamp="$out/$name.scale"
	if [ -f "$out/$name.pcap" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$scale" ]; then
		return
	fi
	cleanup
	pids=
	ip netns add "$CLI"
	ip netns add "$SRV"
	ip link add "${P}pc0" type veth peer name "${P}ps0"
	ip link set "${P}pc0" netns "$CLI"
	ip link set "${P}ps0" netns "$SRV"
	ip -n "$CLI" addr add 10.239.0.1/24 dev "${P}pc0"
	ip -n "$SRV" addr add 10.239.0.2/24 dev "${P}ps0"
	for ns in "$CLI" "$SRV"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$CLI" link set "${P}pc0" up
	ip -n "$SRV" link set "${P}ps0" up
	# Segmentation offloads off so the capture holds wire-sized packets, as on a real NIC.
	ip netns exec "$CLI" ethtool -K "${P}pc0" tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec "$SRV" ethtool -K "${P}ps0" tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec "$SRV" tcpdump -i "${P}ps0" -s 0 -B 65536 -U -w "$out/$name.pcap" tcp port 8080 2>"$out/$name.tcpdump.log" &
	local dump=$!
	pids="$dump"
	ip netns exec "$SRV" $PY "$here/wsl_bulk.py" serve --host 10.239.0.2 >"$out/$name.server.log" 2>&1 &
	local srv=$!
	pids="$pids $srv"
	for _ in $(seq 50); do
		grep -q listening "$out/$name.server.log" 2>/dev/null && grep -q listening "$out/$name.tcpdump.log" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$CLI" $PY "$here/wsl_bulk.py" send --host 10.239.0.2 --messages "$msgs" --sizes "$sizes" | tee "$out/$name.client.log"
	sleep 1
	kill -INT "$dump" # tcpdump flushes and exits on SIGINT
	kill "$srv"
	wait $pids 2>/dev/null || true
	pids=
	cat "$out/$name.tcpdump.log" | grep -v "^tcpdump: listening" >&2 || true
	echo "$scale" >"$stamp"
}

n() { awk -v n="$1" -v s="$scale" 'BEGIN { printf "%d", n * s }'; }

echo "== making captures (scale $scale) in $out"
capture mixed "$(n 80000)" 20:16000
capture small "$(n 480000)" 20:400

echo "== building wspath"
(cd "$repo" && CGO_ENABLED=0 go build -o "$out/wspath" ./cmd/wspath)
W="$out/wspath"

# Four hops of one path: the capture with its clock shifted by 0, 1, 2 and 3 ms (compare refuses
# the same file at two hops), and each hop's digest file.
for name in mixed small; do
	for h in 1 2 3 4; do
		[ -f "$out/$name-h$h.pcap" ] && [ "$out/$name-h$h.pcap" -nt "$out/$name.pcap" ] ||
			editcap -t "0.00$((h - 1))" "$out/$name.pcap" "$out/$name-h$h.pcap"
	done
	printf 'hops:\n' >"$out/$name-4hops.yaml"
	printf 'hops:\n' >"$out/$name-4digests.yaml"
	for h in 1 2 3 4; do
		printf '  - {name: h%d, pcap: %s-h%d.pcap}\n' "$h" "$name" "$h" >>"$out/$name-4hops.yaml"
		printf '  - {name: h%d, pcap: %s-h%d.wsd}\n' "$h" "$name" "$h" >>"$out/$name-4digests.yaml"
	done
done

# measure LABEL CAPTURE_BYTES PACKETS CMD...: run CMD with output discarded; print a row and set
# $secs to its wall time.
measure() {
	local label=$1 bytes=$2 packets=$3
	shift 3
	local t
	/usr/bin/time -o "$out/time.txt" -f '%e %M %U %S' "$@" >/dev/null 2>"$out/stderr.txt" || true
	read -r secs rss usr sys <"$out/time.txt"
	cpu=$(awk -v u="$usr" -v y="$sys" 'BEGIN { print u + y }')
	awk -v l="$label" -v s="$secs" -v r="$rss" -v b="$bytes" -v p="$packets" -v u="$usr" -v y="$sys" \
		'BEGIN { if (s < 0.01) s = 0.01; printf "%-34s %7.2f s %8.0f MB/s %9.0f pkt/s %6.0f MB RSS  (user %.2f s, sys %.2f s)\n", l, s, b/s/1e6, p/s, r/1024, u, y }'
}

echo "== $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$repeat"); do
	[ "$repeat" -gt 1 ] && echo "-- run $rep of $repeat"
	for name in mixed small; do
		cap="$out/$name.pcap"
		bytes=$(stat -c %s "$cap")
		packets=$("$W" inspect "$cap" -f json | $PY -c 'import json,sys; print(json.load(sys.stdin)["stats"]["packets"])')
		measure "wspath inspect $name" "$bytes" "$packets" "$W" inspect "$cap" -f json
		ws=$secs wcpu=$cpu
		measure "tshark -Y websocket $name" "$bytes" "$packets" tshark -r "$cap" -d tcp.port==8080,http -Y websocket
		ts=$secs tcpu=$cpu
		awk -v n="$name" -v a="$ts" -v b="$ws" -v c="$tcpu" -v d="$wcpu" \
			'BEGIN { if (d < 0.01) d = 0.01; printf "   ratio tshark/wspath on %s: %.1fx wall, %.1fx CPU time (user+sys)\n", n, a/b, c/d }'
		measure "wspath compare 4 hops x $name" "$((4 * bytes))" "$((4 * packets))" "$W" compare "$out/$name-4hops.yaml" -f json
		for h in 1 2 3 4; do
			"$W" inspect "$out/$name-h$h.pcap" --digests -o "$out/$name-h$h.wsd"
		done
		measure "wspath inspect --digests $name" "$bytes" "$packets" "$W" inspect "$cap" --digests -o "$out/$name.wsd"
		msgs=$("$W" inspect "$cap" -f json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(sum(sum(c[k].values()) for c in d["connections"] for k in ("messages", "control_frames")))')
		awk -v n="$name" -v s="$(stat -c %s "$out/$name.wsd")" -v m="$msgs" 'BEGIN { printf "   digest file of %s: %.1f MB, %.1f bytes per message (%d messages)\n", n, s/1e6, s/m, m }'
		measure "wspath compare 4 digests x $name" "$((4 * bytes))" "$((4 * packets))" "$W" compare "$out/$name-4digests.yaml" -f json
		if cmp -s <("$W" compare "$out/$name-4hops.yaml" -f json | grep -v '"files"\|\.pcap"\|\.wsd"') \
			<("$W" compare "$out/$name-4digests.yaml" -f json | grep -v '"files"\|\.pcap"\|\.wsd"'); then
			echo "   compare on digests gives the same JSON as on the captures (file names aside)"
		else
			echo "   compare on digests DIFFERS from compare on the captures"
		fi
	done
done
