#!/usr/bin/env bash
# ready.sh - the agent writes the conflist only once it is ready: in Kubernetes mode with the
# API server unreachable it serves its socket and /readyz says 503, and no conflist exists (so
# the runtime wires no pod through an agent without policy); once the API server is up the
# agent syncs, becomes ready and only then the conflist appears.
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1
PORT=16443
kapi_down() {
	! in_ns python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" \
		2>/dev/null
}
check "API server up once (kubeconfig for port $PORT)" kapi_start $PORT || exit 1
kill "$KAPI_PID"
wait "$KAPI_PID" 2>/dev/null
KAPI_PID=
check "API server down" wait_until 10 kapi_down

nsenter --net="/run/netns/$NS" -- "$AGENT" --node "node-$ID" --bpffs "$BPFFS" \
	--state-dir "$STATE" --cni-conf-dir "$CNI" --metrics-addr 127.0.0.1:9962 \
	--kubeconfig "$T/kubeconfig" --pod-cidr 10.77.0.0/24 --log-level debug >>"$AGENT_LOG" 2>&1 &
AGENT_PID=$!
answers() { [ -n "$(api '{"op":"status"}' | jget ready)" ]; }
check "agent serves its socket without the API server" wait_until 20 answers
expect_eq "... not ready" "$(api '{"op":"status"}' | jget ready)" false
readyz() { in_ns python3 -c '
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen("http://127.0.0.1:9962/readyz", timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)'; }
expect_eq "... /readyz 503" "$(readyz)" 503
check "... no conflist" test ! -e "$CNI/10-sluice.conflist"
check "... no temporary conflist either" test -z "$(ls -A "$CNI" 2>/dev/null)"
check "agent still alive" kill -0 "$AGENT_PID"

check "API server back" kapi_start $PORT
check "agent becomes ready" wait_until 30 agent_ready
check "conflist written once ready" test -e "$CNI/10-sluice.conflist"
expect_eq "/readyz 200" "$(readyz)" 200
expect_match "conflist names the sluice plugin" "$(cat "$CNI/10-sluice.conflist")" \
	'"type":[[:space:]]*"sluice"'
finish
