#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# routes_k8s.sh - Kubernetes mode's routes and pod range from Node objects, against the test
# API server: started without --pod-cidr, the agent takes its own Node's spec.podCIDR for the
# conflist's host-local range; it routes every other Node's podCIDR via its InternalIP (proto
# 92), follows Nodes added, changed (InternalIP, podCIDR set later) and deleted, and at start
# removes a route of ours for a Node deleted while it was down.
. "$(dirname "$0")/k8s_lib.sh"
need_root
setup_ns || exit 1
check "API server up" start_kapi || exit 1
ip -n "$NS" link add rtv0 type veth peer name rtv1 && ip -n "$NS" link set rtv0 up &&
	ip -n "$NS" link set rtv1 up && ip -n "$NS" addr add 10.78.0.1/24 dev rtv0 ||
	bad "underlay veth"

node_json() { # NAME PODCIDR(or "") IP
	local spec='{}'
	[ -n "$2" ] && spec="{\"podCIDR\":\"$2\",\"podCIDRs\":[\"$2\"]}"
	echo "{\"metadata\":{\"name\":\"$1\"},\"spec\":$spec,\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$3\"}]}}"
}
ours() { ip -n "$NS" -4 route show proto 92 | sed 's/ *$//'; }
has_routes() { [ "$(ours)" = "$1" ]; }
r() { echo "10.246.$1.0/24 via 10.78.0.$2 dev rtv0"; } # (show proto 92 omits it)

# start_k8s_agent: like start_agent, but with no --pod-cidr (the Node's is used).
start_k8s_agent() {
	nsenter --net="/run/netns/$NS" -- "$AGENT" --node "$NODE" --kubeconfig "$T/kubeconfig" \
		--bpffs "$BPFFS" --state-dir "$STATE" --cni-conf-dir "$CNI" \
		--metrics-addr 127.0.0.1:9962 --log-level debug >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	wait_until 20 agent_ready || { tail -20 "$AGENT_LOG" >&2; return 1; }
}

kreq POST /api/v1/nodes "$(node_json "$NODE" 10.246.5.0/24 10.78.0.1)"
kreq POST /api/v1/nodes "$(node_json other-a 10.246.6.0/24 10.78.0.6)"
# A stale route of ours from an earlier run, and someone else's route.
ip -n "$NS" route add 10.246.99.0/24 via 10.78.0.99 proto 92
ip -n "$NS" route add 10.246.98.0/24 via 10.78.0.98 proto static
check "agent ready in kubernetes mode without --pod-cidr" start_k8s_agent || exit 1
subnet=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plugins"][0]["ipam"]["ranges"][0][0]["subnet"])' "$CNI/10-sluice.conflist")
expect_eq "conflist host-local range = own Node's podCIDR" "$subnet" 10.246.5.0/24
expect_eq "status podCIDR = own Node's" "$(api '{"op":"status"}' | jget podCIDR)" 10.246.5.0/24
check "route to the other Node's pods only; stale one of ours removed at start" \
	wait_until 10 has_routes "$(r 6 6)"
check "someone else's route untouched" test -n "$(ip -n "$NS" route show 10.246.98.0/24 proto static)"

kreq POST /api/v1/nodes "$(node_json other-b 10.246.7.0/24 10.78.0.7)"
check "Node added: route follows" wait_until 10 has_routes "$(r 6 6)
$(r 7 7)"
kpatch /api/v1/nodes/other-b/status '{"status":{"addresses":[{"type":"InternalIP","address":"10.78.0.77"}]}}'
check "InternalIP changed: next hop follows" wait_until 10 has_routes "$(r 6 6)
$(r 7 77)"
# Node events are handled in order: once other-d (after other-c) is routed, other-c was seen.
kreq POST /api/v1/nodes "$(node_json other-c "" 10.78.0.8)"
kreq POST /api/v1/nodes "$(node_json other-d 10.246.9.0/24 10.78.0.9)"
check "Node without podCIDR: no route (the next Node's is there)" wait_until 10 has_routes "$(r 6 6)
$(r 7 77)
$(r 9 9)"
kpatch /api/v1/nodes/other-c '{"spec":{"podCIDR":"10.246.8.0/24","podCIDRs":["10.246.8.0/24"]}}'
check "podCIDR assigned later: route appears" wait_until 10 has_routes "$(r 6 6)
$(r 7 77)
$(r 8 8)
$(r 9 9)"
kreq DELETE /api/v1/nodes/other-a
check "Node deleted: its route goes" wait_until 10 has_routes "$(r 7 77)
$(r 8 8)
$(r 9 9)"

check "agent stopped" stop_agent
kreq DELETE /api/v1/nodes/other-c
check "routes stay while the agent is down" has_routes "$(r 7 77)
$(r 8 8)
$(r 9 9)"
check "agent restarted" start_k8s_agent
check "Node deleted while the agent was down: its route removed at start" \
	wait_until 10 has_routes "$(r 7 77)
$(r 9 9)"
check "someone else's route still untouched" \
	test -n "$(ip -n "$NS" route show 10.246.98.0/24 proto static)"
finish
