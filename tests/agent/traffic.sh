#!/usr/bin/env bash
# traffic.sh - two pods on the node (veths wired as the CNI does, filters attached from the
# agent's pins): a ping stream between them through the BPF redirect loses no packet while the
# agent is stopped and restarted, and the restarted agent swaps in its new programs in place.
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1
start_agent || exit 1
PODS=()

# pod K IP: netns slt-ag-ID-pK with eth0 (IP/32, default route through the link-local
# gateway answered by a permanent neighbour entry), the host end slaNNNNNNkK in $NS.
pod() {
	local p=$NS-p$1 h=sla${SID}k$1 hmac pmac
	PODS+=("$p")
	wire_veth "$p" "$h" "$2" "$BPFFS/v1" || return 1
	hmac=$(ip -n "$NS" -j link show "$h" | jget 0.address)
	pmac=$(ip -n "$p" -j link show eth0 | jget 0.address)
	local idx
	idx=$(ip -n "$NS" -j link show "$h" | jget 0.ifindex)
	r=$(api "{\"op\":\"endpoint_add\",\"containerID\":\"traffic$1\",\"ifname\":\"eth0\",$(
		)\"netns\":\"/run/netns/$p\",\"ip\":\"$2\",\"hostIfname\":\"$h\",$(
		)\"hostIfindex\":$idx,\"podMac\":\"$pmac\",\"hostMac\":\"$hmac\"}")
	[ "$(printf '%s' "$r" | jget ok)" = true ] || { echo "add: $r" >&2; return 1; }
}
cleanup_pods() { for p in "${PODS[@]}"; do ip netns del "$p" 2>/dev/null; done; }
trap 'cleanup_pods; cleanup' EXIT

check "pod 1 wired" pod 1 10.77.0.11
check "pod 2 wired" pod 2 10.77.0.12
check "pods talk through the datapath" ip netns exec "$NS-p1" ping -c 1 -W 2 10.77.0.12 >/dev/null

redirects() {
	"$CTL" --bpffs "$BPFFS" -o json counters |
		python3 -c 'import json,sys; print(sum(c["packets"] for c in json.load(sys.stdin) if c["reason"]=="fwd_redirect"))'
}
before=$(redirects)
# 3000 echo requests, one every 2 ms; the agent restarts in the middle.
ip netns exec "$NS-p1" ping -q -i 0.002 -c 3000 -W 1 10.77.0.12 >"$T/ping.out" 2>&1 &
PING=$!
moving() { [ "$(redirects)" -gt $((before + 100)) ]; }
check "stream started" wait_until 10 moving
old_prog=$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)
check "agent stops (SIGTERM) during the stream" stop_agent TERM
check "agent restarts during the stream" start_agent
new_prog=$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)
wait "$PING"
rc=$?
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping.out")
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.out")
expect_eq "ping exits 0" "$rc" 0
expect_eq "no packet lost across the restart ($(tail -2 "$T/ping.out" | head -1))" "$got" "$sent"
check "the stream went through the redirect" test "$(redirects)" -ge $((before + 5000))
h=sla${SID}k1
att=$(in_ns bpftool -j net show dev "$h" | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)[0]["tc"] if t["kind"]=="clsact/ingress"])')
check "restart swapped in the new program ($old_prog -> $new_prog)" test "$new_prog" != "$old_prog"
expect_eq "veth runs the new program" "$att" "[$new_prog]"
finish
