#!/bin/sh
# install.sh: install what the lab needs on Debian (12 "bookworm" tested). Idempotent; needs root.
set -eu
missing=""
for p in tshark tcpdump nginx haproxy python3-websockets iproute2 iptables; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install.sh: installing$missing"
	apt-get update
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
# Debian starts nginx and haproxy as services on install; the lab runs its own copies in
# namespaces and needs nothing from them.
dpkg -l tshark tcpdump nginx haproxy python3-websockets iproute2 iptables | awk '/^ii/ {print $2, $3}'
