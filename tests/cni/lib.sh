# shellcheck shell=bash
# lib.sh - shared by the cni suite's tests: a test netns playing the node, a real sluice-agent
# (standalone) inside it, pod netns, the plugin run exactly as a runtime runs it (env + stdin
# request built from the conflist the agent wrote), checks, and cleanup on any exit.
# Every name starts with slt-cni-<pid> so parallel runs of other suites never collide.
set -uo pipefail

BUILD=${SLUICE_BUILD:?set SLUICE_BUILD to the meson build dir}
TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SLUICE=$BUILD/cni/sluice
AGENT=$BUILD/agent/sluice-agent
CNITEST=$TESTS/cnitest.py
P=slt-cni-$$
NODE=$P-node
T=$(mktemp -d "/tmp/$P.XXXXXX")
BPFFS=/sys/fs/bpf/$P
CIDR=${CIDR:-10.99.0.0/24}
NODE_IP=10.250.0.1
CNI_PATH_DIRS=$BUILD/cni:/usr/lib/cni
CONFLIST=$T/net.d/10-sluice.conflist
IPAMDIR=$T/ipam/sluice
AGENT_PID=
passed=0
failed=0

if [ "$(id -u)" != 0 ]; then
	echo "needs root"
	echo "0 passed, 0 failed"
	exit 77
fi
for b in "$SLUICE" "$AGENT"; do
	[ -x "$b" ] || { echo "missing $b (build it first)"; echo "0 passed, 1 failed"; exit 1; }
done

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check "what" CMD...: one test case
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

in_node() { nsenter --net="/run/netns/$NODE" "$@"; }

cleanup() {
	local ns
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$BPFFS" 2>/dev/null
	if [ "${KEEP_LOGS:-}" = "" ]; then rm -rf "$T"; else echo "logs kept in $T"; fi
}

finish() {
	if [ "$failed" -gt 0 ]; then
		echo "--- agent log (tail)"; tail -n 30 "$T/agent.log" 2>/dev/null
		echo "--- plugin log (tail)"; tail -n 30 "$T/sluice.log" 2>/dev/null
	fi
	cleanup
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
trap finish EXIT
trap 'exit 1' INT TERM

# wait_for SECONDS CMD...: poll a condition with a deadline (an event we cannot subscribe to)
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

setup_node() {
	ip netns add "$NODE" || exit 1
	ip -n "$NODE" link set lo up
	ip -n "$NODE" addr add "$NODE_IP/32" dev lo
	mkdir -p "$T/state" "$T/net.d" "$T/ipam"
}

start_agent() {
	rm -f "$CONFLIST"
	# not through in_node: $! must be the agent itself (nsenter execs it), not a subshell
	nsenter --net="/run/netns/$NODE" "$AGENT" --node n1 --pod-cidr "$CIDR" --bpffs "$BPFFS" --state-dir "$T/state" \
		--cni-conf-dir "$T/net.d" --ipam-data-dir "$T/ipam" --metrics-addr '' \
		--log-level debug >>"$T/agent.log" 2>&1 &
	AGENT_PID=$!
	if ! wait_for 30 test -S "$T/state/agent.sock" -a -f "$CONFLIST"; then
		echo "agent did not become ready"; tail -n 20 "$T/agent.log"; exit 1
	fi
	PINS_AT_START=${PINS_AT_START:-$(pins)}
}

stop_agent() {
	[ -n "$AGENT_PID" ] || return 0
	kill "$AGENT_PID" && wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

# make_conf OUT [cnitest.py conf options]: the request config, logging to $T/sluice.log
make_conf() {
	local out=$1
	shift
	python3 "$CNITEST" conf "$CONFLIST" --set "logFile=\"$T/sluice.log\"" "$@" >"$out"
}

# cni CMD ID IFNAME NETNS CONF [extra env...]: runs the plugin in the node; sets OUT and RC
cni() {
	local cmd=$1 id=$2 ifn=$3 ns=$4 conf=$5
	shift 5
	OUT=$(in_node env -i PATH="$PATH" CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" \
		CNI_NETNS="$ns" CNI_IFNAME="$ifn" CNI_PATH="$CNI_PATH_DIRS" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$id;K8S_POD_UID=uid-$id" \
		"$@" "$SLUICE" <"$conf" 2>>"$T/stderr.log")
	RC=$?
	printf '%s\n' "$OUT" >"$T/out.json"
}

# jget FILE PATH: a field of a JSON file
jget() { python3 "$CNITEST" get "$@"; }
agent_call() { python3 "$CNITEST" agent "$T/state/agent.sock" "$1"; }

# expect_error CODE SUBSTRING: the last cni call failed with this code and message
expect_error() {
	local code msg
	code=$(jget "$T/out.json" code) || { echo "  no error JSON: $OUT"; return 1; }
	msg=$(jget "$T/out.json" msg)
	if [ "$RC" -eq 0 ] || [ "$code" != "$1" ] || [[ "$msg" != *"$2"* ]]; then
		echo "  rc=$RC code=$code msg=$msg (want code $1, \"$2\")"
		return 1
	fi
}

add_pod_ns() { ip netns add "$P-$1" && ip -n "$P-$1" link set lo up; }
pod_ns() { echo "/run/netns/$P-$1"; }
veth_of() { in_node ip -o link show | awk -F': ' -v a="sluice $1 $2" '$0 ~ a {print $2}' | cut -d@ -f1; }
# our veths left in the node
sl_links() { in_node ip -o link show | grep -c 'alias sluice ' || true; }
# host-local reservations left (files other than lock and last_reserved_ip.*)
ipam_files() {
	find "$IPAMDIR" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null | wc -l
}
agent_endpoints() {
	agent_call '{"op":"endpoint_list"}' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["endpoints"]))'
}
# entries in the pinned endpoint map (what the datapath sees), whether the agent runs or not
map_entries() {
	bpftool -j map dump pinned "$BPFFS/v1/sl_endpoints" 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?"
}
# pins: the plugin never creates any; the agent's set stays what it was at start
pins() { find "$BPFFS" -mindepth 1 2>/dev/null | sort | md5sum | cut -c1-8; }
# nothing_left: no veth, reservation, endpoint (agent or map), host route, or new pin
nothing_left() {
	local l i e m r p
	l=$(sl_links)
	i=$(ipam_files)
	e=$(agent_endpoints 2>/dev/null || echo "?")
	m=$(map_entries)
	r=$(in_node ip -4 route show | grep -c "^${CIDR%.*}" || true)
	p=$(pins)
	if [ "$l" != 0 ] || [ "$i" != 0 ] || { [ "$e" != 0 ] && [ "$e" != "?" ]; } ||
		[ "$m" != 0 ] || [ "$r" != 0 ] || [ "$p" != "$PINS_AT_START" ]; then
		echo "  leaked: links=$l ipam=$i endpoints=$e map=$m routes=$r pins=$p/$PINS_AT_START"
		return 1
	fi
}
