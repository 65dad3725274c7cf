#!/bin/bash
# probe-lab.sh <wspath> <outdir>: wspath plan, wspath probe and wspath compare against a real path.
#
#   pc (client: wspath probe) -- pf (firewall: iptables) -- pi (ingress: nginx, TLS 1.3) -- ps (echo server)
#   10.232.1.1  c0 <-> f0 10.232.1.2   10.232.2.1 f1 <-> i0 10.232.2.2   10.232.3.1 i1 <-> s0 10.232.3.2
#
# Writes <outdir>/hops.yaml (hosts, interfaces, addresses and ports for plan), takes every capture
# by running the tcpdump command `wspath plan` prints for that hop, runs `wspath probe` over wss://
# with --keylog while the firewall drops the client's data from the probe of 700 bytes on (an
# iptables length match marks the connection, then every data packet of it is dropped: TCP would
# otherwise retransmit the probe merged with the next one), and writes probe.json (which probes came
# back) and echo.jsonl (which reached the echo server). A second, short probe follows on a new
# connection, which the firewall lets through (probe2.json). Needs root, tcpdump, nginx, openssl,
# iptables and python3-websockets (install.sh). All traffic stays in the namespaces it creates.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <wspath> <outdir>" >&2; exit 2; }
wspath=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
here=$(cd "$(dirname "$0")" && pwd)
P=${WSL_NS_PREFIX:-wsl-}
NSES=(pc pf pi ps)
PY=/usr/bin/python3
work=$(mktemp -d /tmp/wsl-probe.XXXXXX)
chmod 755 "$work"

# shellcheck source=netns.sh
. "$here/netns.sh"
lab_up
link pc c0 10.232.1.1 pf f0 10.232.1.2
link pf f1 10.232.2.1 pi i0 10.232.2.2
link pi i1 10.232.3.1 ps s0 10.232.3.2
ns pc ip route add 10.232.2.0/24 via 10.232.1.2
ns pi ip route add 10.232.1.0/24 via 10.232.2.1
ns pf sysctl -qw net.ipv4.ip_forward=1

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=10.232.2.2 -addext subjectAltName=IP:10.232.2.2 \
	-keyout "$work/ingress.key" -out "$work/ingress.crt" 2>/dev/null
sed -e "s|@WORK@|$work|g" -e "s|@LISTEN@|10.232.2.2|g" -e "s|@UPSTREAM@|10.232.3.2:8765|g" \
	"$here/nginx-tls.conf" >"$work/nginx.conf"
ns ps "$PY" "$here/wsl_echo.py" --host 10.232.3.2 --port 8765 --log "$work/echo.jsonl" 2>"$work/echo.err" &
ns pi nginx -e "$work/nginx-error.log" -c "$work/nginx.conf" -p "$work" 2>"$work/nginx.err" &
wait_port ps 10.232.3.2 8765
wait_port pi 10.232.2.2 443

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.pcap* "$out/hops.yaml" "$out/keys.txt" "$out/plan.txt" "$out"/probe*.json "$out/echo.jsonl"
cat >"$out/hops.yaml" <<YAML
incident: wspath probe lab (nginx TLS, firewall drops from the 700-byte probe on)
hops:
  - name: client
    pcap: client.pcap*
    host: pc
    interface: c0
    addresses: [10.232.1.1]
    port: 443
    keylog: keys.txt
    stack: go
  - name: fw
    pcap: fw.pcap*
    host: pf
    interface: f0
    port: 443
    keylog: keys.txt
  - name: ingress
    pcap: ingress.pcap*
    host: pi
    interface: i0
    addresses: [10.232.2.2]
    port: 443
    keylog: keys.txt
    stack: nginx
  - name: server
    pcap: server.pcap*
    host: ps
    interface: s0
    port: 8765
YAML
"$wspath" plan "$out/hops.yaml" --ring-size 1 --ring-files 3 >"$out/plan.txt"

# Run each hop's command as plan printed it, in the hop's namespace (host: names it), in $out.
declare -A tcpd
hop=
while IFS= read -r line; do
	case "$line" in
	"## hop "*) hop=$(echo "$line" | sed -E 's/^## hop ([^:]+): on ([^,]+),.*/\2/') ;;
	"sudo tcpdump "*)
		cmd=${line#sudo }
		(cd "$out" && exec ip netns exec "$P$hop" sh -c "exec $cmd") 2>"$work/tcpdump-$hop.err" &
		tcpd[$hop]=$!
		;;
	esac
done <"$out/plan.txt"
[ ${#tcpd[@]} -eq 4 ] || { echo "probe-lab.sh: plan gave ${#tcpd[@]} tcpdump commands, want 4" >&2; cat "$out/plan.txt" >&2; exit 1; }
for h in "${!tcpd[@]}"; do
	for _ in $(seq 100); do grep -qs "listening on" "$work/tcpdump-$h.err" && break; sleep 0.05; done
	grep -qs "listening on" "$work/tcpdump-$h.err" || { echo "probe-lab.sh: tcpdump at $h did not start:" >&2; cat "$work/tcpdump-$h.err" >&2; exit 1; }
done
sleep 0.3

# The 700-byte probe (#4 with these sizes; the two after it are small) makes one packet of 770 to 800 bytes at IP level (TLS
# 1.3 record of 730 bytes, 782 at IP level); it marks its connection, and every data packet of it
# is dropped. No larger probe goes first: the tail of a large one could match the length.
ns pf iptables -A FORWARD -i f0 -p tcp --dport 443 -m connmark --mark 1 -m length --length 53:65535 -j DROP
ns pf iptables -A FORWARD -i f0 -p tcp --dport 443 -m length --length 775:790 -j CONNMARK --set-mark 1
ns pf iptables -A FORWARD -i f0 -p tcp --dport 443 -m length --length 775:790 -j DROP

set +e
ns pc "$wspath" probe wss://10.232.2.2/echo --cafile "$work/ingress.crt" --keylog "$out/keys.txt" \
	--count 7 --interval 100ms --sizes 44,125,126,4000,700,44,125 --wait 2s -f json >"$out/probe.json" 2>"$work/probe.err"
probe_rc=$?
# A second connection afterwards, which the firewall lets through: traffic goes on at every hop, as
# it does in production, so each capture is seen to cover the time of the loss.
ns pc "$wspath" probe wss://10.232.2.2/echo2 --cafile "$work/ingress.crt" --keylog "$out/keys.txt" \
	--count 3 --interval 100ms --sizes 44,125,126 --wait 2s -f json >"$out/probe2.json" 2>"$work/probe2.err"
probe2_rc=$?
set -e
# tcpdump gets packets from the kernel in blocks handed over up to a second late; Ctrl-C (SIGINT)
# discards a block not yet handed over, so wait before stopping the captures.
sleep 2
for h in "${!tcpd[@]}"; do kill -INT "${tcpd[$h]}" 2>/dev/null || true; done
for h in "${!tcpd[@]}"; do wait "${tcpd[$h]}" || true; done
cp "$work/echo.jsonl" "$out/echo.jsonl"
for h in "${!tcpd[@]}"; do cp "$work/tcpdump-$h.err" "$out/tcpdump-$h.txt"; done # what each tcpdump said (packets dropped by kernel)
ns pf iptables -L FORWARD -v -n >"$out/iptables.txt"
echo "probe exit status $probe_rc, second probe $probe2_rc" >>"$out/iptables.txt"
[ $probe_rc -le 1 ] || { cat "$work/probe.err" >&2; exit 1; }
[ $probe2_rc -eq 0 ] || { echo "probe-lab.sh: the second probe lost messages" >&2; cat "$out/probe2.json" "$work/probe2.err" >&2; exit 1; }
