#!/bin/bash
# perf-relay.sh [--sizes N,N...] [--spread MS] [--concurrency C] [--reuse] OUTDIR: measure
# wspath compare matching connections through a terminating hop, end to end on real traffic. In
# three network namespaces of its own (cli, rel, srv, joined by veth pairs), wsl_relayperf.py
# runs a python3-websockets echo server, a WebSocket relay that opens its own upstream
# connection for each one it accepts (a fresh Sec-WebSocket-Key, as a gateway does) and a client
# opening N connections, one every MS ms (at most C open at once), 6 small text messages each way on each.
# tcpdump writes the relay's client side (relay-in.pcap) and its server side (relay-out.pcap);
# hops.yaml names the two. For each size (default 2000 and 20000) it prints compare's wall and
# CPU seconds, peak RSS (/usr/bin/time -v), the connections matched across the relay, the
# verdict summary, and checks them against the programs' own counts: every connection delivered
# and matched, the segment terminated. Then the growth of CPU time from the first size to the
# last, against linear and n log n. Exits 1 if a check fails. Needs root, tcpdump,
# python3-websockets. On a shared machine run it under nice. --reuse measures again on the
# captures of an earlier run in OUTDIR, where there are some.
set -euo pipefail

sizes=2000,20000
spread=2
concurrency=500
reuse=0
while [ $# -gt 1 ]; do
	case "$1" in
	--sizes) sizes=$2; shift 2 ;;
	--spread) spread=$2; shift 2 ;;
	--concurrency) concurrency=$2; shift 2 ;;
	--reuse) reuse=1; shift ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--sizes N,N...] [--spread MS] [--concurrency C] [--reuse] OUTDIR" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
P=${WSL_NS_PREFIX:-wsl-}rly-
NSES=(cli rel srv)
work=$(mktemp -d)
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
# shellcheck source=netns.sh
. "$here/netns.sh"

# The relay holds two descriptors per connection open, the client and server one each.
need=$((2 * concurrency + 256))
if [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || {
		echo "$0: ulimit -n is $(ulimit -n), $need needed for --concurrency $concurrency" >&2
		exit 2
	}
fi

echo "== building wspath"
(cd "$repo" && CGO_ENABLED=0 go build -o "$out/wspath" ./cmd/wspath)
W="$out/wspath"

# traffic N DIR: run N connections through the relay, capturing both of its sides into DIR.
traffic() {
	# Not "n": netns.sh's loops set a global n.
	local conns=$1 dir=$2
	lab_up
	link cli c0 10.238.1.1 rel r0 10.238.1.2
	link rel r1 10.238.2.1 srv s0 10.238.2.2
	for x in cli rel srv; do
		# A wide ephemeral range: 20000 connections from one address, none reusing a port.
		ns "$x" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
		ns "$x" sysctl -qw net.core.somaxconn=4096
	done
	# Segmentation offloads off, so the captures hold wire-sized packets, as on a real NIC.
	ns cli ethtool -K c0 tso off gso off gro off >/dev/null 2>&1 || true
	for i in r0 r1; do ns rel ethtool -K "$i" tso off gso off gro off >/dev/null 2>&1 || true; done
	ns srv ethtool -K s0 tso off gso off gro off >/dev/null 2>&1 || true
	ns srv $PY "$here/wsl_relayperf.py" serve --host 10.238.2.2 --port 8080 >"$dir/server.log" 2>&1 &
	ns rel $PY "$here/wsl_relayperf.py" relay --host 10.238.1.2 --port 80 --upstream 10.238.2.2:8080 >"$dir/relay.log" 2>&1 &
	wait_port rel 10.238.2.2 8080
	wait_port cli 10.238.1.2 80
	# The captures start after wait_port's probe connections have ended: they hold only the traffic.
	sleep 0.3
	ns rel tcpdump -i r0 -s 0 -B 65536 -n -w "$dir/relay-in.pcap" tcp port 80 2>"$dir/relay-in.tcpdump.log" &
	ns rel tcpdump -i r1 -s 0 -B 65536 -n -w "$dir/relay-out.pcap" tcp port 8080 2>"$dir/relay-out.tcpdump.log" &
	for _ in $(seq 50); do
		grep -q listening "$dir/relay-in.tcpdump.log" && grep -q listening "$dir/relay-out.tcpdump.log" && break
		sleep 0.1
	done
	ns cli $PY "$here/wsl_relayperf.py" clients --connect 10.238.1.2:80 --conns "$conns" \
		--spread "$spread" --concurrency "$concurrency" >"$dir/client.log" 2>&1 || true
	sleep 1
	# Server and relay print their counts on TERM; tcpdump flushes on INT.
	for x in srv rel; do
		for pid in $(ip netns pids "$P$x"); do
			case "$(cat "/proc/$pid/comm")" in
			python3) kill -TERM "$pid" ;;
			tcpdump) kill -INT "$pid" ;;
			esac
		done
	done
	for _ in $(seq 100); do
		[ -z "$(ip netns pids "${P}srv")$(ip netns pids "${P}rel")" ] && break
		sleep 0.1
	done
	lab_teardown
	printf 'hops:\n  - {name: relay-in, pcap: relay-in.pcap}\n  - {name: relay-out, pcap: relay-out.pcap}\n' >"$dir/hops.yaml"
}

# report N DIR: measure compare on DIR/hops.yaml and check its report against the programs' counts.
# Sets cpu to compare's user+sys seconds.
report() {
	local conns=$1 dir=$2
	(cd "$dir" && /usr/bin/time -v -o time.txt "$W" compare hops.yaml -f json >report.json 2>compare.stderr) || true
	cpu=$($PY - "$conns" "$dir" <<'EOF'
import json, os, re, subprocess, sys
n, d = int(sys.argv[1]), sys.argv[2]
t = open(d + "/time.txt").read()
def field(name):
    return re.search(re.escape(name) + r": (.*)", t).group(1).strip()
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
usr, sys_ = float(field("User time (seconds)")), float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)")) / 1024
def jline(name):
    lines = [l for l in open(d + "/" + name) if l.startswith("{") and "listening" not in l]
    if not lines:
        sys.exit("%s/%s: no counts:\n%s" % (d, name, open(d + "/" + name).read()[-2000:]))
    return json.loads(lines[-1])
cli, rel, srv = jline("client.log"), jline("relay.log"), jline("server.log")
drops = []
for side in ("relay-in", "relay-out"):
    m = re.search(r"(\d+) packets? dropped by kernel", open(d + "/" + side + ".tcpdump.log").read())
    drops.append("%s %s" % (side, m.group(1) if m else "?"))
r = json.load(open(d + "/report.json"))
s = r["summary"]
seg = r["segments"][0] if r.get("segments") else {"kind": "none", "counts": {}}
conns = r["connections"] if isinstance(r.get("connections"), list) else []
print("%d connections: traffic %.1f s (client); captures %.1f + %.1f MB; tcpdump drops: %s" % (
    n, cli.get("seconds", 0), *(os.path.getsize(d + "/%s.pcap" % x) / 1e6 for x in ("relay-in", "relay-out")), ", ".join(drops)), file=sys.stderr)
print("   truth: client %d/%d delivered (%d echoes checked, %d failed); relay %d connections, %d c2s + %d s2c forwarded; server %d connections, %d echoed" % (
    cli["delivered"], n, cli["echoes_ok"], cli["failed"], rel["connections"], rel["c2s"], rel["s2c"], srv["connections"], srv["echoed"]), file=sys.stderr)
print("   compare: %.2f s wall, %.2f s CPU (user %.2f, sys %.2f), %.0f MB peak RSS, exit %s" % (
    wall, usr + sys_, usr, sys_, rss, field("Exit status")), file=sys.stderr)
print("   matched: segment relay-in -> relay-out %s, counts %s" % (seg["kind"], json.dumps(seg["counts"], sort_keys=True)), file=sys.stderr)
print("   summary: %s; connections %s%s" % (s["verdict"], json.dumps(s["connections"], sort_keys=True),
      "; refused: %s" % r["refused"] if r.get("refused") else ""), file=sys.stderr)
ok = (cli["delivered"] == n and cli["failed"] == 0 and rel["connections"] == n and srv["echoed"] == 6 * n
      and s["verdict"] == "delivered" and s["connections"].get("delivered") == n
      and sum(v for k, v in s["connections"].items() if k != "delivered") == 0
      and seg["kind"] == "terminated" and seg["counts"].get("terminated") == n and not r.get("refused"))
# The relay forwards /c/N to /c/N: each connection compare joined must carry one path at both hops
# (sessions by id: the client reuses ports in a long run).
paths = {}
for side in ("relay-in", "relay-out"):
    ins = json.loads(subprocess.run([d + "/../wspath", "inspect", d + "/" + side + ".pcap", "-f", "json"],
                                    check=True, capture_output=True).stdout)
    paths[side] = {c["id"]: c["path"] for c in ins["connections"]}
right = sum(1 for c in conns if c["hops"].get("relay-in") and c["hops"].get("relay-out")
            and paths["relay-in"].get(c["hops"]["relay-in"]["session"]) == paths["relay-out"].get(c["hops"]["relay-out"]["session"]))
print("   pairs: %d of %d connections joined across the relay to their own continuation (same /c/N at both hops)" % (right, n), file=sys.stderr)
ok = ok and right == n
print("   check: %s" % ("every connection delivered, and matched across the relay as terminated" if ok else "FAILED"), file=sys.stderr)
print("%.3f %s" % (usr + sys_, "ok" if ok else "fail"))
EOF
	)
}

echo "== $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $spread ms between starts, at most $concurrency open"
failed=0
first_n='' first_cpu=''
for size in ${sizes//,/ }; do
	dir="$out/$size"
	mkdir -p "$dir"
	if [ "$reuse" = 0 ] || [ ! -s "$dir/client.log" ] || [ ! -f "$dir/hops.yaml" ]; then
		traffic "$size" "$dir"
	fi
	report "$size" "$dir"
	read -r c verdict <<<"$cpu"
	[ "$verdict" = ok ] || failed=1
	if [ -z "$first_n" ]; then
		first_n=$size first_cpu=$c
	else
		awk -v a="$first_n" -v b="$size" -v x="$first_cpu" -v y="$c" 'BEGIN {
			printf "   growth %d -> %d connections: CPU time x%.1f (linear x%.1f, n log n x%.1f)\n", a, b, y / x, b / a, b * log(b) / (a * log(a)) }'
	fi
done
exit $failed
