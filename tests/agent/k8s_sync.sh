#!/usr/bin/env bash
# k8s_sync.sh - Kubernetes mode against the test API server: readiness and the status op's
# digest, node addresses as HOST, endpoint_add waiting for policy (and refusing unknown pods),
# real TCP between two pods flipping with deny-all / allow / pod relabel / namespace relabel /
# policy delete, a Pod deleted under its endpoint, and the policy-change -> maps latency.
. "$(dirname "$0")/k8s_lib.sh"
need_root
setup_ns || exit 1
check "API server up" start_kapi || exit 1
kreq POST /api/v1/nodes "{\"metadata\":{\"name\":\"$NODE\"},\"status\":{\"addresses\":$(
)[{\"type\":\"InternalIP\",\"address\":\"10.99.0.1\"}]}}"
check "agent ready in kubernetes mode" start_agent --kubeconfig "$T/kubeconfig" || exit 1
st=$(api '{"op":"status"}')
expect_eq "status: mode" "$(printf '%s' "$st" | jget mode)" kubernetes
expect_eq "status: synced" "$(printf '%s' "$st" | jget synced)" true
expect_eq "status: digest = the API's (wait-synced contract)" \
	"$(printf '%s' "$st" | jget digest)" "$(in_ns $KH digest "$KURL")"
check "conflist written" test -s "$CNI/10-sluice.conflist"
expect_eq "node InternalIP is HOST in sl_ident" "$(ident_of 10.99.0.1)" 1
expect_eq "netns loopback address is HOST in sl_ident" "$(ident_of 127.0.0.1)" 1
# An address the node gains later (DHCP, a secondary IP) is HOST too, and leaves with it.
is_host() { [ "$(ident_of "$1")" = 1 ]; }
not_host() { [ "$(ident_of "$1")" != 1 ]; }
ip -n "$NS" addr add 10.98.7.7/32 dev lo
check "address added to the node later: HOST in sl_ident" wait_until 5 is_host 10.98.7.7
ip -n "$NS" addr del 10.98.7.7/32 dev lo
check "address removed from the node: no longer HOST" wait_until 5 not_host 10.98.7.7

check "namespace x" ns_create x '"ns":"x"'
check "pods x/a, x/b (no status.podIP yet)" pod_create x a '"pod":"a"'
pod_create x b '"pod":"b"'
synced >/dev/null
check "endpoint x/a registered" wire 1 x a 10.77.0.11
check "endpoint x/b registered" wire 2 x b 10.77.0.12
expect_match "CNI address is the pod's identity before kubelet reports it" \
	"$(ident_of 10.77.0.12)" '^[0-9]{3,}$'
check "open without policy: a -> b" can 1 10.77.0.12
check "open without policy: b -> a" can 2 10.77.0.11

# An unknown pod: code 11 after a direct GET, and nothing in the maps.
wire 3 x ghost 10.77.0.13
r=$(cat "$T/add-3.json")
expect_eq "endpoint of a Pod the API does not have: code 11" "$(printf '%s' "$r" | jget code)" 11
expect_eq "... and no sl_endpoints entry" "$(ep_words 10.77.0.13)" ""

# deny-all ingress in x, with the latency from the write to the maps.
ms=$(timed POST /apis/networking.k8s.io/v1/namespaces/x/networkpolicies '{"metadata":{"name":"deny"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}')
echo "# latency: deny-all create -> applied to the maps: ${ms} ms"
check "deny-all: a -/-> b" cannot 1 10.77.0.12
check "deny-all: b -/-> a" cannot 2 10.77.0.11
w=$(ep_words 10.77.0.12)
expect_match "b's ingress word is set, egress open" "$w" '^0 [1-9][0-9]* '

# A pod whose object exists only via a direct GET (the informer has not seen it) is
# registered with its policy in place: create it and register at once.
pod_create x c '"pod":"c"'
check "endpoint x/c registered right after its Pod was created" wire 3 x c 10.77.0.13
expect_match "x/c came back with its ingress policy word already set" \
	"$(ep_words 10.77.0.13)" '^0 [1-9][0-9]* '

ms=$(timed POST /apis/networking.k8s.io/v1/namespaces/x/networkpolicies '{"metadata":{"name":"allow-a"},"spec":{"podSelector":{"matchLabels":{"pod":"b"}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"pod":"a"}}}],"ports":[{"port":80}]}]}}')
echo "# latency: allow create -> applied: ${ms} ms"
check "allow a->b: a -> b" can 1 10.77.0.12
check "allow a->b: c -/-> b" cannot 3 10.77.0.12
check "allow a->b: b -/-> a" cannot 2 10.77.0.11

ms=$(timed PATCH /api/v1/namespaces/x/pods/a '{"metadata":{"labels":{"pod":"z"}}}' application/merge-patch+json)
echo "# latency: pod relabel -> applied: ${ms} ms"
check "pod a relabelled: a -/-> b" cannot 1 10.77.0.12
kpatch /api/v1/namespaces/x/pods/a '{"metadata":{"labels":{"pod":"a"}}}'
synced >/dev/null
check "pod a relabelled back: a -> b" can 1 10.77.0.12

# Namespace selector: b admits pods of namespaces labelled team=blue.
np_create x '{"metadata":{"name":"allow-blue"},"spec":{"podSelector":{"matchLabels":{"pod":"b"}},"ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"team":"blue"}}}]}]}}'
synced >/dev/null
check "before the namespace relabel: c -/-> b" cannot 3 10.77.0.12
ms=$(timed PATCH /api/v1/namespaces/x '{"metadata":{"labels":{"team":"blue"}}}' application/merge-patch+json)
echo "# latency: namespace relabel -> applied: ${ms} ms"
check "namespace x labelled team=blue: c -> b" can 3 10.77.0.12
kpatch /api/v1/namespaces/x '{"metadata":{"labels":{"team":null}}}'
synced >/dev/null
check "label removed: c -/-> b" cannot 3 10.77.0.12

for p in deny allow-a allow-blue; do np_delete x $p; done
ms=$(synced)
echo "# latency: 3 policies deleted -> applied: ${ms} ms"
check "policies deleted: c -> b" can 3 10.77.0.12
check "policies deleted: b -> a" can 2 10.77.0.11
expect_eq "policies deleted: b's words are open" "$(ep_words 10.77.0.12 | cut -d' ' -f1,2)" "0 0"
# The stale entries go after a grace period, behind the flip (agent/reap.c).
peer_empty() { [ "$(map_count sl_peer)" = 0 ]; }
check "stale sl_peer entries deleted after the grace period" wait_until 5 peer_empty

# A Pod deleted in the API while its endpoint exists: endpoint kept, denied all.
kreq DELETE /api/v1/namespaces/x/pods/c
synced >/dev/null
w=$(ep_words 10.77.0.13)
expect_match "x/c deleted in the API: endpoint kept, policy-invalid (deny all)" "$w" ' (2|3)$'
check "x/c deleted in the API: c -/-> b" cannot 3 10.77.0.12
check "CNI DEL of x/c" unwire_ep 3
expect_eq "CNI DEL removed x/c's entry" "$(ep_words 10.77.0.13)" ""
expect_eq "status: no errors" "$(api '{"op":"status"}' | jget errors)" "[]"

# Latency over 20 policy flips (printed, not asserted).
lat=()
for i in $(seq 20); do
	lat+=("$(timed POST /apis/networking.k8s.io/v1/namespaces/x/networkpolicies "{\"metadata\":{\"name\":\"l$i\"},\"spec\":{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}},\"ingress\":[{\"ports\":[{\"port\":$((1000 + i))}]}]}}")")
done
printf '%s\n' "${lat[@]}" | sort -n | awk '{v[NR]=$1} END {printf "# latency: 20 policy creates -> applied (write returned -> applied digest): p50 %s ms, max %s ms\n", v[int((NR+1)/2)], v[NR]}'
sed -n 's/.*applied in \([0-9.]*\) ms (flipped at \([0-9.]*\) ms).*/\2 \1/p' "$AGENT_LOG" | sort -n |
	awk '{f[NR]=$1} END {printf "# agent: %d applies; dispatch -> flip (phase 2 done) p50 %s ms, max %s ms\n", NR, f[int((NR+1)/2)], f[NR]}'
finish
