#!/bin/sh
# install.sh: install what the lab needs on Debian (12 "bookworm" tested). Idempotent; needs root.
set -eu
missing=""
for p in tshark tcpdump nginx haproxy python3-websockets iproute2 iptables openssl tomcat10 tomcat10-examples caddy apache2 chromium fonts-dejavu-core websockify openvswitch-switch ethtool lighttpd varnish nghttp2-proxy socat stunnel4 h2o; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js for the node-* scenarios: Debian's nodejs and npm, unless a node and npm (say from
# NodeSource, whose nodejs package carries npm) are already there. run.sh installs the npm package
# ws into its work directory at run time.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "install.sh: installing$missing"
	apt-get update
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
# Debian starts nginx, haproxy, tomcat10, caddy, apache2, lighttpd, varnish, h2o and openvswitch-switch as services on install (where there is
# an init); the lab runs its own copies in namespaces (Tomcat with its own CATALINA_BASE, Caddy with
# its own Caddyfile, Apache with its own ServerRoot) and needs nothing from them.
dpkg -l tshark tcpdump nginx haproxy python3-websockets iproute2 iptables openssl tomcat10 tomcat10-examples \
	caddy apache2 chromium websockify openvswitch-switch ethtool lighttpd varnish nghttp2-proxy socat stunnel4 h2o nodejs |
	awk '/^ii/ {print $2, $3}'
echo "node $(node --version), npm $(npm --version 2>/dev/null)"
