#!/bin/bash
# regen-all.sh <outroot> [scenario...]: run every scenario (or those named) into
# <outroot>/<scenario>/. Exits non-zero if any scenario fails (including truth.py's
# cross-check). Needs root; see README.md.
# WSL_LAB_JOBS (default 2) scenarios run side by side, each line of runs under a namespace prefix
# of its own: a run mostly waits (message intervals, timeouts), so two halve the lab's time.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 <outroot> [scenario...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
jobs=${WSL_LAB_JOBS:-2}
scenarios=(healthy c2s-drop s2c-drop proxy-timeout concurrent capture-gap rst
	tls-c2s-drop tls-nokeys tls-nokeys-both tls12-s2c-drop tomcat-healthy tomcat-c2s-drop node-s2c-drop
	caddy-c2s-drop apache-s2c-drop socketio-healthy app-drop app-drop-copies app-modify backpressure capture-stops lb-timeout tls-lb-timeout ingress-timeout
	capture-drops capture-drops-deflate capture-drops-loss
	h2-c2s-drop h2-tls-s2c-drop vxlan-c2s-drop erspan-c2s-drop geneve-s2c-drop erspan3-s2c-drop gretap-c2s-drop bridge-c2s-drop
	ipip-c2s-drop ip4ip6-c2s-drop mplspw-c2s-drop gre-s2c-drop mpls-s2c-drop pppoe-s2c-drop h2-deflate-s2c-drop
	lighttpd-c2s-drop nghttpx-c2s-drop varnish-s2c-drop socat-s2c-drop lossy ingress-hung
	stunnel-c2s-drop nghttpx-h2-s2c-drop fwany-s2c-drop lossy-dupes rst-s2c
	varnish-timeout server-killed lbany-c2s-drop nghttpx-h2-tls-c2s-drop lossy-drop h2o-c2s-drop asym-c2s-drop asym-s2c-drop conntrack-idle fwpcapng-s2c-drop close-drop pings-in-fragments reroute-s2c-drop)
if [ $# -gt 1 ]; then
	scenarios=("${@:2}")
fi

# line K runs scenarios K, K+jobs, ... one after another; a run's output is printed when it ends.
line() {
	local k=$1 rc=0 s keep t0
	for ((i = k; i < ${#scenarios[@]}; i += jobs)); do
		s=${scenarios[i]}
		# WSL_KEEP_LOGS: each run's application logs go to a directory of its own under it.
		keep=
		[ -z "${WSL_KEEP_LOGS:-}" ] || { keep=$WSL_KEEP_LOGS/$s && mkdir -p "$keep"; }
		t0=$SECONDS
		if WSL_KEEP_LOGS=$keep WSL_NS_PREFIX="${WSL_NS_PREFIX:-wsl-}$k-" "$here/run.sh" "$s" "$out/$s" >"$out/$s.log" 2>&1; then
			cat "$out/$s.log"
		else
			cat "$out/$s.log"
			echo "regen-all.sh: $s failed" >&2
			rc=1
		fi
		rm -f "$out/$s.log"
		echo "regen-all.sh: $s took $((SECONDS - t0)) s"
	done
	return $rc
}

pids=()
for ((k = 0; k < jobs; k++)); do
	line "$k" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
exit $rc
