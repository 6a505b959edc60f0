# shellcheck shell=bash
# lib.sh - shared by the lifecycle tests (suite 'agent', root): tests/agent/lib.sh and
# k8s_lib.sh (private netns, bpffs and state dirs, agents by PID, the test API server, counted
# checks, cleanup on exit) with this suite's own netns prefix, plus pods wired as the CNI wires
# them onto a given ABI version's pins, and a tiny foreign tc program (another CNI's).
. "$(dirname "${BASH_SOURCE[0]}")/../agent/k8s_lib.sh"
NS=slt-lc-$ID # our own prefix (lib.sh's cleanup deletes $NS, whatever it is)
LC_PODS=()
LC_BG=()

lc_cleanup() {
	local rc=$?
	for p in "${LC_BG[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${LC_PODS[@]}"; do ip netns del "$p" 2>/dev/null; done
	(exit $rc)
	k8s_cleanup
}
trap lc_cleanup EXIT

# pod K IP [ABI]: netns $NS-pK, eth0 IP/32 via the link-local gateway, host end slaNNNNNNkK in
# $NS with filters from $BPFFS/v<ABI>/ (default 1), then endpoint_add. Sets HIF.
pod() {
	local p=$NS-p$1 h=sla${SID}k$1 v=${3:-1} hmac pmac idx r
	LC_PODS+=("$p")
	HIF=$h
	wire_veth "$p" "$h" "$2" "$BPFFS/v$v" || return 1
	hmac=$(ip -n "$NS" -j link show "$h" | jget 0.address)
	pmac=$(ip -n "$p" -j link show eth0 | jget 0.address)
	idx=$(ip -n "$NS" -j link show "$h" | jget 0.ifindex)
	r=$(api "{\"op\":\"endpoint_add\",\"containerID\":\"lc$1\",\"ifname\":\"eth0\",$(
	)\"netns\":\"/run/netns/$p\",\"namespace\":\"${POD_NS:-default}\",$(
	)\"pod\":\"${POD_NAME:-pod$1}\",\"ip\":\"$2\",\"hostIfname\":\"$h\",$(
	)\"hostIfindex\":$idx,\"podMac\":\"$pmac\",\"hostMac\":\"$hmac\"}")
	[ "$(printf '%s' "$r" | jget ok)" = true ] || { echo "add: $r" >&2; return 1; }
	if [ -n "${POD_SERVE:-}" ]; then # a TCP echo server on :80 in the pod
		ip netns exec "$p" $KH serve 80 >/dev/null 2>&1 </dev/null &
		LC_BG+=($!)
	fi
}

# kapi_start [PORT]: the test API server on the netns' loopback, started so that $KAPI_PID is
# the server's own PID (nsenter execs it; k8s_lib.sh's start_kapi backgrounds a function, whose
# PID is a subshell's). Sets KURL, writes $T/kubeconfig.
kapi_start() {
	rm -f "$T/kapi.url"
	nsenter --net="/run/netns/$NS" -- python3 "$KAPI" --listen "127.0.0.1:${1:-0}" \
		--kubeconfig-out "$T/kubeconfig" --ready-file "$T/kapi.url" \
		--bookmark-interval 2 >>"$T/kapi.log" 2>&1 &
	KAPI_PID=$!
	wait_until 20 test -s "$T/kapi.url" || { cat "$T/kapi.log" >&2; return 1; }
	KURL=$(cat "$T/kapi.url")
}

# foreign_obj: $T/foreign.o, a tc program named "foreign" (another CNI's), built with clang.
foreign_obj() {
	cat >"$T/foreign.c" <<'C'
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
__attribute__((section("tc"), used)) int foreign(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
C
	clang -target bpf -O2 -g -idirafter "/usr/include/$(gcc -dumpmachine)" \
		-c "$T/foreign.c" -o "$T/foreign.o"
}

# tc_prog_ids DEV DIR: ids of the BPF programs of DEV's tc DIR hook (ingress|egress).
tc_prog_ids() {
	in_ns bpftool -j net show dev "$1" | python3 -c '
import json, sys
print(" ".join(str(t["id"]) for t in json.load(sys.stdin)[0]["tc"]
               if t["kind"] == "clsact/" + sys.argv[1]))' "$2"
}
# tc_prog_names DEV DIR: their names.
tc_prog_names() {
	in_ns bpftool -j net show dev "$1" | python3 -c '
import json, sys
print(" ".join(t["name"] for t in json.load(sys.stdin)[0]["tc"]
               if t["kind"] == "clsact/" + sys.argv[1]))' "$2"
}
prog_gone() { ! bpftool prog show id "$1" >/dev/null 2>&1; }
map_gone() { ! bpftool map show id "$1" >/dev/null 2>&1; }
