# netns.sh: the network-namespace plumbing the lab scripts share (run.sh, probe-lab.sh).
# Source it after setting P (the prefix of every namespace the script creates), NSES (the
# namespaces, without the prefix) and work (a temporary directory removed on exit); then
# lab_up creates the namespaces. Nothing here touches a namespace outside "$P${NSES[@]}".

# lab_teardown stops every process in the lab's namespaces (TERM, then KILL) and deletes them.
lab_teardown() {
	set +e
	for n in "${NSES[@]}"; do
		ip netns list | grep -qw "^$P$n" || continue
		pids=$(ip netns pids "$P$n")
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
	done
	sleep 0.5
	for n in "${NSES[@]}"; do
		ip netns list | grep -qw "^$P$n" || continue
		pids=$(ip netns pids "$P$n")
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		ip netns del "$P$n"
	done
}

lab_cleanup() {
	rc=$?
	lab_teardown
	rm -rf "$work"
	exit $rc
}

# ns runs a command in one of the lab's namespaces: ns NAME CMD...
ns() { local n=$1; shift; ip netns exec "$P$n" "$@"; }

# lab_up removes what a killed run left behind, arranges the teardown on exit, and creates the
# namespaces, each with its loopback up.
lab_up() {
	lab_teardown
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
	for n in "${NSES[@]}"; do
		ip netns add "$P$n"
		ns "$n" ip link set lo up
	done
}

# link joins two namespaces by a veth pair with a /24 address at each end.
link() { # nsA ifA addrA nsB ifB addrB
	ip link add "$2" netns "$P$1" type veth peer name "$5" netns "$P$4"
	ns "$1" ip addr add "$3/24" dev "$2"
	ns "$4" ip addr add "$6/24" dev "$5"
	# One MTU-sized segment per packet (no GSO super-packets), so large messages span segments.
	ns "$1" ip link set "$2" gso_max_segs 1 up
	ns "$4" ip link set "$5" gso_max_segs 1 up
}

# wait_port waits up to 5 s for a TCP port to accept connections, seen from a namespace.
wait_port() { # ns addr port
	for _ in $(seq 100); do
		ns "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "$(basename "$0"): $1 $2:$3 did not come up" >&2
	return 1
}
