#!/bin/bash
# regen-all.sh <outroot>: run every scenario into <outroot>/<scenario>/. Exits non-zero if any
# scenario fails (including truth.py's cross-check). Needs root; see README.md.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <outroot>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
rc=0
for s in healthy c2s-drop s2c-drop proxy-timeout concurrent capture-gap rst \
	tls-c2s-drop tls-nokeys tls-nokeys-both tls12-s2c-drop tomcat-healthy tomcat-c2s-drop node-s2c-drop \
	caddy-c2s-drop apache-s2c-drop socketio-healthy app-drop app-drop-copies app-modify backpressure capture-stops lb-timeout tls-lb-timeout ingress-timeout \
	capture-drops capture-drops-deflate capture-drops-loss \
	h2-c2s-drop h2-tls-s2c-drop vxlan-c2s-drop erspan-c2s-drop geneve-s2c-drop erspan3-s2c-drop gretap-c2s-drop bridge-c2s-drop \
	ipip-c2s-drop ip4ip6-c2s-drop mplspw-c2s-drop gre-s2c-drop mpls-s2c-drop pppoe-s2c-drop h2-deflate-s2c-drop \
	lighttpd-c2s-drop nghttpx-c2s-drop varnish-s2c-drop socat-s2c-drop lossy ingress-hung \
	stunnel-c2s-drop nghttpx-h2-s2c-drop fwany-s2c-drop lossy-dupes rst-s2c \
	varnish-timeout server-killed lbany-c2s-drop nghttpx-h2-tls-c2s-drop lossy-drop h2o-c2s-drop; do
	if ! "$here/run.sh" "$s" "$1/$s"; then
		echo "regen-all.sh: $s failed" >&2
		rc=1
	fi
done
exit $rc
