# shellcheck shell=bash
# k8s_lib.sh - on top of lib.sh, for the Kubernetes-mode agent tests: the test API server
# (e2e/kapi) inside the test's netns, API requests, pods wired as the CNI wires them (netns,
# veth, filters from the agent's pins, endpoint_add with namespace/pod), TCP servers and
# probes, reading endpoint words and identities from the pinned maps, wait-synced.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KH="python3 $HERE/k8s_helper.py"
KAPI=$HERE/../../e2e/kapi/kapi.py
KAPI_PID=
KURL=
NODE=node-$ID
PODS=()
BGPIDS=()

k8s_cleanup() {
	local rc=$?
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$KAPI_PID" ] && kill "$KAPI_PID" 2>/dev/null
	for p in "${PODS[@]}"; do ip netns del "$p" 2>/dev/null; done
	(exit $rc)
	cleanup
}
trap k8s_cleanup EXIT

# start_kapi: the API server on the netns' loopback; sets KURL, writes $T/kubeconfig.
start_kapi() {
	rm -f "$T/kapi.url"
	# nsenter directly (not the in_ns function, which would run in a subshell): $! is then the
	# server itself (nsenter execs it), so the cleanup's kill reaches it.
	nsenter --net="/run/netns/$NS" -- python3 "$KAPI" --listen "127.0.0.1:${1:-0}" --kubeconfig-out "$T/kubeconfig" \
		--ready-file "$T/kapi.url" --bookmark-interval 2 >>"$T/kapi.log" 2>&1 &
	KAPI_PID=$!
	wait_until 20 test -s "$T/kapi.url" || { cat "$T/kapi.log" >&2; return 1; }
	KURL=$(cat "$T/kapi.url")
}

# kreq METHOD PATH [BODY [CTYPE]]: runs in the netns (kapi listens on its loopback).
kreq() { in_ns $KH req "$KURL" "$@" >>"$T/kreq.log"; }
kpatch() { kreq PATCH "$1" "$2" application/merge-patch+json; }
ns_create() { kreq POST /api/v1/namespaces "{\"metadata\":{\"name\":\"$1\",\"labels\":{$2}}}"; }
# pod_create NS NAME LABELS_JSON_BODY
pod_create() {
	kreq POST "/api/v1/namespaces/$1/pods" "{\"metadata\":{\"name\":\"$2\",\"labels\":{$3}},$(
	)\"spec\":{\"nodeName\":\"$NODE\",\"containers\":[{\"name\":\"c\",\"image\":\"x\",$(
	)\"ports\":[{\"name\":\"web\",\"containerPort\":80}]}]}}"
}
np_create() { kreq POST "/apis/networking.k8s.io/v1/namespaces/$1/networkpolicies" "$2"; }
np_delete() { kreq DELETE "/apis/networking.k8s.io/v1/namespaces/$1/networkpolicies/$2"; }

# timed METHOD PATH BODY [CTYPE]: the write, then prints the ms until the agent applied it.
timed() { in_ns $KH timed "$KURL" "$SOCK" "$@"; }
# synced [TIMEOUT]: the agent applied the API's current state; prints the ms it took.
synced() { in_ns $KH wait-synced "$KURL" "$SOCK" "${1:-10}"; }
# converged [TIMEOUT]: synced, quietly.
converged() { synced "$@" >/dev/null; }

# wire K NS POD IP: a pod netns $NS-pK (eth0 IP/32 via the link-local gateway), the host end
# slaNNNNNNkK in $NS with the pinned programs attached, a TCP echo server on :80 in the pod;
# then endpoint_add. Leaves the answer in $T/add-K.json; returns 1 if it was not ok.
wire() {
	local p=$NS-p$1 h=sla${SID}k$1 hmac pmac idx r
	if ! ip netns list | grep -qw "$p"; then
		PODS+=("$p")
		wire_veth "$p" "$h" "$4" "$BPFFS/v1" || return 1
		ip netns exec "$p" $KH serve 80 >/dev/null 2>&1 </dev/null &
		BGPIDS+=($!)
	fi
	hmac=$(ip -n "$NS" -j link show "$h" | jget 0.address)
	pmac=$(ip -n "$p" -j link show eth0 | jget 0.address)
	idx=$(ip -n "$NS" -j link show "$h" | jget 0.ifindex)
	r=$(api "{\"op\":\"endpoint_add\",\"containerID\":\"k8s$1\",\"ifname\":\"eth0\",$(
	)\"netns\":\"/run/netns/$p\",\"namespace\":\"$2\",\"pod\":\"$3\",\"ip\":\"$4\",$(
	)\"hostIfname\":\"$h\",\"hostIfindex\":$idx,\"podMac\":\"$pmac\",\"hostMac\":\"$hmac\"}")
	printf '%s' "$r" >"$T/add-$1.json"
	[ "$(printf '%s' "$r" | jget ok)" = true ]
}
unwire_ep() { api "{\"op\":\"endpoint_del\",\"containerID\":\"k8s$1\",\"ifname\":\"eth0\"}" >/dev/null; }

# can K IP: pod K reaches IP:80 (TCP, answer included). cannot K IP: it does not.
can() { ip netns exec "$NS-p$1" $KH probe "$2" 80 1; }
cannot() { ! ip netns exec "$NS-p$1" $KH probe "$2" 80 0.4; }

# ep_words IP: "pol_egress pol_ingress identity flags" of IP's sl_endpoints entry.
ep_words() {
	local o
	o=$(printf '%s' "$1" | awk -F. '{printf "%d %d %d %d", $1, $2, $3, $4}')
	bpftool -j map lookup pinned "$BPFFS/v1/sl_endpoints" \
		key 0 0 0 0 0 0 0 0 0 0 0xff 0xff $o 2>/dev/null |
		python3 -c '
import json, struct, sys
b = bytes(int(x, 16) for x in json.load(sys.stdin)["value"])
flags, pe, pi, ident = struct.unpack_from("<IIII", b, 20)
print(pe, pi, ident, flags)' 2>/dev/null
}
# ident_of IP: its sl_ident id, empty when absent.
ident_of() {
	local o
	o=$(printf '%s' "$1" | awk -F. '{printf "%d %d %d %d", $1, $2, $3, $4}')
	bpftool -j map lookup pinned "$BPFFS/v1/sl_ident" key 0 0 0 0 0 0 0 0 0 0 0xff 0xff $o \
		2>/dev/null | python3 -c '
import json, struct, sys
print(struct.unpack_from("<I", bytes(int(x, 16) for x in json.load(sys.stdin)["value"]))[0])' \
		2>/dev/null
}
map_count() { bpftool -j map dump pinned "$BPFFS/v1/$1" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
