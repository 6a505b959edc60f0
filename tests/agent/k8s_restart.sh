#!/usr/bin/env bash
# k8s_restart.sh - Kubernetes mode across an agent restart and API-server faults: the pinned
# maps are adopted (same map ids, sl_ct not flushed), an established TCP flow keeps flowing, a
# policy created while the agent was down is enforced after it is back; dropped watches, a
# forced 410 and an API-server restart all converge (digest and traffic).
. "$(dirname "$0")/k8s_lib.sh"
need_root
setup_ns || exit 1
check "API server up" start_kapi || exit 1
check "agent ready" start_agent --kubeconfig "$T/kubeconfig" || exit 1
ns_create x '"ns":"x"'
pod_create x a '"pod":"a"'
pod_create x b '"pod":"b"'
synced >/dev/null
check "endpoint x/a" wire 1 x a 10.77.0.11
check "endpoint x/b" wire 2 x b 10.77.0.12
np_create x '{"metadata":{"name":"allow-a"},"spec":{"podSelector":{"matchLabels":{"pod":"b"}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"pod":"a"}}}],"ports":[{"port":80}]}]}}'
synced >/dev/null
check "a -> b allowed" can 1 10.77.0.12
check "b -/-> ... (a open: b -> a allowed)" can 2 10.77.0.11

# An established flow a -> b, echoing every 20 ms.
ip netns exec "$NS-p1" $KH flow 10.77.0.12 80 "$T/flow.n" "$T/flow.stop" 2>"$T/flow.err" &
FLOW=$!
BGPIDS+=("$FLOW")
flowing() { # the flow's counter moves past $1
	[ "$(cat "$T/flow.n" 2>/dev/null || echo 0)" -gt "$1" ]
}
check "flow established" wait_until 10 flowing 5

maps="sl_endpoints sl_ident sl_peer sl_cidr sl_ports sl_ct"
ids_before=$(for m in $maps; do map_id "$m"; done | tr '\n' ' ')
ct_before=$(map_count sl_ct)
check "agent stops (SIGTERM)" stop_agent TERM
# While the agent is down: a's ingress is isolated (b may no longer open connections to a).
np_create x '{"metadata":{"name":"isolate-a"},"spec":{"podSelector":{"matchLabels":{"pod":"a"}},"policyTypes":["Ingress"]}}'
n_down=$(cat "$T/flow.n")
words_b=$(ep_words 10.77.0.12)
check "agent restarts" start_agent --kubeconfig "$T/kubeconfig"
ids_after=$(for m in $maps; do map_id "$m"; done | tr '\n' ' ')
expect_eq "map ids unchanged across the restart" "$ids_after" "$ids_before"
expect_match "sl_ct not flushed ($ct_before entries before)" "$(map_count sl_ct)" '^[1-9]'
check "agent synced after the restart" converged
check "flow kept flowing across the restart" wait_until 10 flowing $((n_down + 20))
check "flow had no error" test ! -s "$T/flow.err"
check "policy made while down is enforced: b -/-> a" cannot 2 10.77.0.11
check "policy from before still enforced: a -> b" can 1 10.77.0.12
expect_match "b still selected (ingress word set; was $words_b)" "$(ep_words 10.77.0.12)" \
	'^0 [1-9][0-9]* '
grep -o 'restart diff:.*' "$AGENT_LOG" | tail -1 | sed 's/^/# /'

# API-server faults.
fault() { kreq POST /_kapi/fault "$1"; }
check "fault: drop watches" fault '{"action":"drop-watches"}'
kpatch /api/v1/namespaces/x/pods/a '{"metadata":{"labels":{"pod":"z"}}}'
check "converged after dropped watches" converged
check "relabel seen: a -/-> b" cannot 1 10.77.0.12
check "fault: 410 Gone" fault '{"action":"gone","count":1}'
kpatch /api/v1/namespaces/x/pods/a '{"metadata":{"labels":{"pod":"a"}}}'
check "converged after 410" converged
check "relabel back seen: a -> b" can 1 10.77.0.12
check "fault: API server restart" fault '{"action":"restart","down_seconds":1}'
wait_until 10 in_ns $KH req "$KURL" GET /version
np_delete x allow-a
check "converged after the API-server restart" converged 30
check "after the API-server restart: b -> a still isolated" cannot 2 10.77.0.11
np_delete x isolate-a
check "converged" converged 30
check "all open again: b -> a" can 2 10.77.0.11
touch "$T/flow.stop"
check "flow ends cleanly" wait "$FLOW"
finish
