# shellcheck shell=bash
# lib.sh - shared by the agent's root tests: a private netns, bpffs dir and state dir per test
# (prefix slt-ag-), agents started and stopped by PID, the local API over its socket, counted
# checks, and cleanup of everything on exit (even on failure).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AGENT=${SLUICE_AGENT:?SLUICE_AGENT must name the sluice-agent binary}
CTL=${SLUICECTL:?SLUICECTL must name the sluicectl binary}
PASS=0
FAIL=0
ID=$$
SID=$(printf %06d $((ID % 1000000))) # for link names: sla + 6 digits + 2 chars <= 15
NS=slt-ag-$ID
T=$(mktemp -d "/tmp/slt-ag-$ID-XXXXXX")
BPFFS=$T/bpffs
STATE=$T/state
CNI=$T/net.d
SOCK=$STATE/agent.sock
AGENT_PID=
AGENT_LOG=$T/agent.log
AGENT_N=0

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
# check DESCRIPTION CMD...: passes when CMD exits 0.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
# expect_match DESCRIPTION STRING PATTERN (grep -E)
expect_match() {
	# A here-string, not a pipe: with pipefail, grep -q quitting early fails the writer.
	if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else bad "$1: '$2' !~ /$3/"; fi
}
finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root: skipped"
		echo "0 passed, 0 failed"
		exit 77
	fi
}

cleanup() {
	local rc=$?
	stop_agent KILL
	ip netns del "$NS" 2>/dev/null
	if mountpoint -q "$BPFFS" 2>/dev/null; then umount "$BPFFS"; fi
	case $BPFFS in /sys/fs/bpf/slt-ag-*) rm -rf "$BPFFS" ;; esac
	if mountpoint -q "$T/bpffs" 2>/dev/null; then umount "$T/bpffs"; fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

setup_ns() {
	ip netns add "$NS" && ip -n "$NS" link set lo up
}

in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }

api() { python3 "$HERE/helper.py" call "$SOCK" "$1"; }
# jget PATH < JSON
jget() { python3 "$HERE/helper.py" get "$1"; }

# wire_veth PODNS HOSTIF IP PINDIR: as the CNI wires a pod: netns PODNS with eth0 (IP/32,
# default route through the link-local gateway, answered by a permanent neighbour entry), the
# host end HOSTIF in $NS (up, a /32 route to IP) with PINDIR's sl_from_pod and sl_to_pod attached.
wire_veth() {
	local p=$1 h=$2 hmac
	ip netns add "$p" || return 1
	ip -n "$NS" link add "$h" type veth peer name eth0 netns "$p" || return 1
	ip -n "$NS" link set "$h" up
	ip -n "$p" link set lo up
	ip -n "$p" link set eth0 up
	ip -n "$p" addr add "$3/32" dev eth0
	hmac=$(ip -n "$NS" -j link show "$h" | jget 0.address)
	ip -n "$p" route add 169.254.1.1 dev eth0 scope link
	ip -n "$p" route add default via 169.254.1.1 dev eth0
	ip -n "$p" neigh add 169.254.1.1 lladdr "$hmac" dev eth0 nud permanent
	ip -n "$NS" route add "$3/32" dev "$h"
	in_ns tc qdisc add dev "$h" clsact
	in_ns tc filter add dev "$h" ingress prio 1 handle 0x5c1 bpf da \
		object-pinned "$4/sl_from_pod" || return 1
	in_ns tc filter add dev "$h" egress prio 1 handle 0x5c1 bpf da \
		object-pinned "$4/sl_to_pod" || return 1
}

# wait_until TIMEOUT_S CMD...: polls CMD (an event we cannot subscribe to) until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

agent_ready() {
	[ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null &&
		[ "$(api '{"op":"status"}' | jget ready)" = true ]
}

# start_agent [EXTRA FLAGS]: starts an agent in $NS with the test's dirs, waits until ready.
start_agent() {
	AGENT_N=$((AGENT_N + 1))
	# nsenter execs the agent: $! is the agent's own PID.
	nsenter --net="/run/netns/$NS" -- "$AGENT" --node "node-$ID" --pod-cidr 10.77.0.0/24 --bpffs "$BPFFS" \
		--state-dir "$STATE" --cni-conf-dir "$CNI" --metrics-addr 127.0.0.1:9962 \
		--log-level debug "$@" >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	if ! wait_until 20 agent_ready; then
		echo "agent did not become ready; log:" >&2
		tail -20 "$AGENT_LOG" >&2
		return 1
	fi
}

# stop_agent [SIGNAL]: stops our agent by PID; returns its exit status.
stop_agent() {
	local rc=0
	[ -n "$AGENT_PID" ] || return 0
	kill -"${1:-TERM}" "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null || rc=$?
	AGENT_PID=
	return $rc
}

# add_veth N: host side sla<SID>hN (<= 15 chars) in $NS; sets HIF, HIDX, HMAC.
add_veth() {
	HIF=sla${SID}h$1
	ip -n "$NS" link add "$HIF" type veth peer name "sla${SID}p$1" || return 1
	ip -n "$NS" link set "$HIF" up
	local j
	j=$(ip -n "$NS" -j link show "$HIF") || return 1
	HIDX=$(printf '%s' "$j" | jget 0.ifindex)
	HMAC=$(printf '%s' "$j" | jget 0.address)
}

# ep_req CID IP [OP]: an endpoint_add request for the last add_veth.
ep_req() {
	printf '{"op":"%s","containerID":"%s","ifname":"eth0","netns":"/run/netns/pod-%s",%s' \
		"${3:-endpoint_add}" "$1" "$1" \
		"\"namespace\":\"default\",\"pod\":\"pod-$1\",\"podUID\":\"uid-$1\",\"ip\":\"$2\","
	printf '"hostIfname":"%s","hostIfindex":%s,"podMac":"02:00:00:00:00:%02x","hostMac":"%s"}' \
		"$HIF" "$HIDX" "${2##*.}" "$HMAC"
}

# map_entry IP: the sl_endpoints value for IP as "ep_id ifindex flags", empty when absent.
map_entry() {
	local o
	o=$(printf '%s' "$1" | awk -F. '{printf "%d %d %d %d", $1, $2, $3, $4}')
	bpftool -j map lookup pinned "$BPFFS/v1/sl_endpoints" \
		key 0 0 0 0 0 0 0 0 0 0 0xff 0xff $o 2>/dev/null |
		python3 -c '
import json, struct, sys
b = bytes(int(x, 16) for x in json.load(sys.stdin)["value"])   # struct sl_endpoint
ep_id, ifindex = struct.unpack_from("<II", b, 0)
(flags,) = struct.unpack_from("<I", b, 20)
print(ep_id, ifindex, flags)' 2>/dev/null
}

map_id() { bpftool -j map show pinned "$BPFFS/v1/$1" | jget id; }
