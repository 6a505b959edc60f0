#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# routes_sandbox.sh - cross-node networking in a real 2..3-node e2e/sandbox whose only routes
# between nodes are the agents' (SLUICE_SANDBOX_ROUTES=0): each agent routes every other
# node's podCIDR via its InternalIP (proto 92); TCP, UDP, ICMP and raw SCTP between pods on
# different nodes, both ways, with --cross-node-forwarding fib (counted fwd_fib) and stack
# (fwd_stack); spoofed sources dropped across nodes; a node added and removed while a ping
# stream flows between two other nodes: routes follow, no stale route is left, no packet of the
# stream is lost; a stale route of ours from an earlier run is removed at agent start.
# Own sandbox dir and prefix; `e2e/sandbox down` on exit, even on failure.
set -uo pipefail

AGENT=${SLUICE_AGENT:?SLUICE_AGENT must name the sluice-agent binary}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SB=$HERE/../../e2e/sandbox
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() {
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi
}
check_not() {
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then bad "$d"; else ok "$d"; fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "needs root: skipped"
	echo "0 passed, 0 failed"
	exit 77
fi

T=$(mktemp -d "/tmp/slt-rt-$$-XXXXXX")
export SLUICE_SANDBOX_DIR=$T/sandbox
export SLUICE_SANDBOX_PREFIX=sltrt$(($$ % 100000))
export SLUICE_BUILD=$(cd "$(dirname "$AGENT")/.." && pwd)
export SLUICE_SANDBOX_ROUTES=0 # the agents' routes only
export SLUICE_AGENT_LOG_LEVEL=info
unset SLUICE_AGENT_ARGS
P=$SLUICE_SANDBOX_PREFIX
PING_PID=

cleanup() {
	[ -n "$PING_PID" ] && kill "$PING_PID" 2>/dev/null
	"$SB" down >/dev/null 2>&1 || echo "cleanup: e2e/sandbox down failed" >&2
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

routes() { ip -n "$P-node-$1" -4 route show proto 92; }
# wait_routes K WANT [TIMEOUT_S]: node K's routes of ours become exactly WANT (the agent acts on
# a Node watch event; there is no event we can wait on from outside, so poll with a deadline).
wait_routes() {
	local k=$1 want=$2 deadline=$((SECONDS + ${3:-15})) got
	while :; do
		got=$(routes "$k" | sed 's/ *$//')
		[ "$got" = "$want" ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			echo "  node-$k routes: got '$got', want '$want'"
			return 1
		fi
		sleep 0.05
	done
}
counter() { # counter K REASON: packets of REASON (both directions) on node K
	"$SB" ctl --node "$1" -- -o json counters |
		python3 -c 'import json,sys; print(sum(c["packets"] for c in json.load(sys.stdin) if c["reason"] == sys.argv[1]))' "$2"
}
route_line() { echo "10.244.$1.0/24 via 10.200.0.$1 dev eth0"; } # (show proto 92 omits it)

probes() { # probes TAG: every protocol between x/a (node-1) and x/b (node-2), both ways
	local tag=$1 proto
	for proto in tcp udp sctp; do
		check "$tag: $proto node-1 -> node-2" "$SB" probe x/a x/b 80 "$proto" --timeout 2
		check "$tag: $proto node-2 -> node-1" "$SB" probe x/b x/a 80 "$proto" --timeout 2
	done
	check "$tag: icmp node-1 -> node-2" "$SB" probe x/a x/b 0 icmp --timeout 2
	check "$tag: icmp node-2 -> node-1" "$SB" probe x/b x/a 0 icmp --timeout 2
}

if ! "$SB" up --nodes 2 >"$T/up.log" 2>&1; then
	bad "sandbox up: $(tail -5 "$T/up.log")"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
ok "2-node sandbox up without the sandbox's own routes"
check "node-1 routes node-2's pods via node-2 (ours only)" wait_routes 1 "$(route_line 2)"
check "node-2 routes node-1's pods via node-1 (ours only)" wait_routes 2 "$(route_line 1)"

PORTS=(--port serve-80-tcp:80/TCP --port serve-80-udp:80/UDP --port serve-80-sctp:80/SCTP)
"$SB" pod add x/a --node 1 "${PORTS[@]}" >/dev/null &&
	"$SB" pod add x/b --node 2 "${PORTS[@]}" >/dev/null || bad "pods added"
# Each agent knows the other node's pod (its identity) once synced: the FIB path is for pods.
"$SB" wait-synced >/dev/null || bad "wait-synced"

# --- default forwarding (fib): every protocol, counted as fwd_fib on both nodes
fib1=$(counter 1 fwd_fib)
fib2=$(counter 2 fwd_fib)
probes fib
[ "$(counter 1 fwd_fib)" -gt "$fib1" ] && [ "$(counter 2 fwd_fib)" -gt "$fib2" ] &&
	ok "fib: both nodes forwarded by bpf_fib_lookup (fwd_fib moved)" ||
	bad "fib: fwd_fib did not move ($fib1 -> $(counter 1 fwd_fib), $fib2 -> $(counter 2 fwd_fib))"

# --- spoofed sources are dropped across nodes: a foreign address of node-1's range, and the
# other node's pod's own address
spoof1=$(counter 1 drop_spoofed_ip)
"$SB" exec x/a -- ip addr add 10.244.1.250/32 dev eth0
check_not "spoofed source (10.244.1.250, node-1's range) gets no answer from node-2" \
	"$SB" exec x/a -- ping -c 3 -i 0.1 -W 1 -I 10.244.1.250 "$("$SB" exec x/b -- ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)"
"$SB" exec x/a -- ip addr del 10.244.1.250/32 dev eth0
"$SB" exec x/a -- ip addr add 10.244.2.77/32 dev eth0
check_not "spoofed source (10.244.2.77, node-2's range) gets no answer" \
	"$SB" exec x/a -- ping -c 3 -i 0.1 -W 1 -I 10.244.2.77 10.200.0.2
"$SB" exec x/a -- ip addr del 10.244.2.77/32 dev eth0
[ "$(counter 1 drop_spoofed_ip)" -ge $((spoof1 + 6)) ] &&
	ok "spoofed packets counted drop_spoofed_ip on the sending node" ||
	bad "drop_spoofed_ip: $spoof1 -> $(counter 1 drop_spoofed_ip), want +6"
check "real source still answered after the spoof attempts" "$SB" probe x/a x/b 0 icmp

# --- a node joins and leaves while a ping stream flows between node-1 and node-2
B_IP=$("$SB" exec x/b -- ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
"$SB" exec x/a -- ping -i 0.02 -W 1 "$B_IP" >"$T/ping.log" 2>&1 &
PING_PID=$!
if "$SB" node add >"$T/nodeadd.log" 2>&1; then ok "node-3 added while traffic flows"; else
	bad "node add: $(tail -3 "$T/nodeadd.log")"
fi
check "node-1 gets a route to node-3's pods" wait_routes 1 "$(route_line 2)
$(route_line 3)"
check "node-2 gets a route to node-3's pods" wait_routes 2 "$(route_line 1)
$(route_line 3)"
check "node-3 routes to node-1's and node-2's pods" wait_routes 3 "$(route_line 1)
$(route_line 2)"
"$SB" pod add x/c --node 3 "${PORTS[@]}" >/dev/null || bad "pod x/c on node-3"
"$SB" wait-synced >/dev/null || bad "wait-synced"
check "node-1 -> node-3 tcp" "$SB" probe x/a x/c 80 tcp --timeout 2
check "node-3 -> node-2 udp" "$SB" probe x/c x/b 80 udp --timeout 2
check "node-3 -> node-1 sctp" "$SB" probe x/c x/a 80 sctp --timeout 2
if "$SB" node del 3 >"$T/nodedel.log" 2>&1; then ok "node-3 removed while traffic flows"; else
	bad "node del: $(tail -3 "$T/nodedel.log")"
fi
check "node-1: route to node-3's pods gone, nothing stale" wait_routes 1 "$(route_line 2)"
check "node-2: route to node-3's pods gone, nothing stale" wait_routes 2 "$(route_line 1)"
kill -INT "$PING_PID" 2>/dev/null
wait "$PING_PID" 2>/dev/null
PING_PID=
stats=$(grep -E "packets transmitted" "$T/ping.log")
sent=$(sed -E 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1/' <<<"$stats")
got=$(sed -E 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\2/' <<<"$stats")
if [ -n "$sent" ] && [ "$sent" -gt 20 ] && [ $((sent - got)) -le 1 ]; then
	ok "ping stream node-1 -> node-2 across the node add/remove: $got of $sent answered"
else
	bad "ping stream lost packets: '$stats'"
fi

# --- a stale route of ours (a node deleted while its agent was down) goes at agent start
ip -n "$P-node-1" route add 10.244.99.0/24 via 10.200.0.99 proto 92
"$SB" agent restart --node 1 >/dev/null 2>&1 || bad "agent restart node-1"
check "stale route of an earlier run removed at agent start" wait_routes 1 "$(route_line 2)"
check "an administrator's route (other proto) is left alone" \
	ip -n "$P-node-1" route add 10.244.98.0/24 via 10.200.0.98 proto static
"$SB" agent restart --node 1 >/dev/null 2>&1 || bad "agent restart node-1"
[ -n "$(ip -n "$P-node-1" route show 10.244.98.0/24 proto static)" ] &&
	ok "... and still there after an agent restart" || bad "the other route disappeared"

# --- stack forwarding: same probes, counted as fwd_stack, never fwd_fib
for k in 1 2; do
	SLUICE_AGENT_ARGS=--cross-node-forwarding=stack "$SB" agent restart --node $k >/dev/null 2>&1 ||
		bad "agent restart node-$k with --cross-node-forwarding=stack"
done
fib1=$(counter 1 fwd_fib)
stack1=$(counter 1 fwd_stack)
probes stack
[ "$(counter 1 fwd_fib)" -eq "$fib1" ] && [ "$(counter 1 fwd_stack)" -gt "$stack1" ] &&
	ok "stack: forwarded by the host stack (fwd_stack moved, fwd_fib did not)" ||
	bad "stack: fwd_fib $fib1 -> $(counter 1 fwd_fib), fwd_stack $stack1 -> $(counter 1 fwd_stack)"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
