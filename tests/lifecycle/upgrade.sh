#!/usr/bin/env bash
# upgrade.sh - upgrades keep conntrack and policy in force. Same ABI: a restarted agent adopts
# the pins (same map ids). Next ABI (tests/lifecycle/abi-next.sh: SL_ABI_VERSION + 1 and a
# different struct sl_ct_val layout): the new agent finds v1 pins, creates its maps under v2,
# converts every entry, moves the veths onto its programs with tc replace and removes v1. An
# established TCP flow a -> b keeps flowing throughout; its replies are allowed only by
# conntrack (a's ingress is isolated), so it proves the converted conntrack entry is used;
# the policies stay enforced on new connections and later policy changes still apply.
. "$(dirname "$0")/lib.sh"
need_root
SRC=${SLUICE_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}
NEXT_DIR=${SLUICE_BUILD_ROOT:-$T}/tests/lifecycle/abi-next
V1=$AGENT
if V2=$("$SRC/tests/lifecycle/abi-next.sh" "$SRC" "$NEXT_DIR" 2>"$T/next.err"); then
	ok "next-ABI build ($V2)"
else
	bad "next-ABI build: $(tail -5 "$T/next.err")"
	finish
	exit 1
fi
setup_ns || exit 1
check "API server up" kapi_start || exit 1
check "agent (ABI v1) ready" start_agent --kubeconfig "$T/kubeconfig" || exit 1
ns_create x '"ns":"x"'
pod_create x a '"pod":"a"'
pod_create x b '"pod":"b"'
converged
POD_SERVE=1 POD_NS=x POD_NAME=a check "pod x/a wired on v1 pins" pod 1 10.77.0.11 1
HA=$HIF
POD_SERVE=1 POD_NS=x POD_NAME=b check "pod x/b wired on v1 pins" pod 2 10.77.0.12 1
np_create x '{"metadata":{"name":"allow-a"},"spec":{"podSelector":{"matchLabels":{"pod":"b"}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"pod":"a"}}}],"ports":[{"port":80}]}]}}'
np_create x '{"metadata":{"name":"isolate-a"},"spec":{"podSelector":{"matchLabels":{"pod":"a"}},"policyTypes":["Ingress"]}}'
check "policies applied" converged
check "a -> b allowed (allow-a)" can 1 10.77.0.12
check "b -/-> a denied (isolate-a)" cannot 2 10.77.0.11

# An established flow a -> b, echoing every 20 ms; b's answers enter a only through conntrack.
ip netns exec "$NS-p1" $KH flow 10.77.0.12 80 "$T/flow.n" "$T/flow.stop" 2>"$T/flow.err" &
FLOW=$!
LC_BG+=("$FLOW")
flowing() { [ "$(cat "$T/flow.n" 2>/dev/null || echo 0)" -gt "$1" ]; }
check "flow established" wait_until 10 flowing 5

# Same ABI: the restarted agent adopts every pinned map.
maps="sl_endpoints sl_ident sl_peer sl_cidr sl_ports sl_ct"
ids() { for m in $maps; do bpftool -j map show pinned "$BPFFS/v$1/$m" | jget id; done | tr '\n' ' '; }
before=$(ids 1)
check "same-ABI restart: agent stops" stop_agent TERM
check "same-ABI restart: agent ready" start_agent --kubeconfig "$T/kubeconfig"
expect_eq "same-ABI restart: map ids unchanged (pins adopted)" "$(ids 1)" "$before"
n=$(cat "$T/flow.n")
check "flow alive after the restart" wait_until 10 flowing $((n + 10))

# Next ABI.
old_progs="$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id) $(
	bpftool -j prog show pinned "$BPFFS/v1/sl_to_pod" | jget id)"
old_ct=$(bpftool -j map show pinned "$BPFFS/v1/sl_ct" | jget bytes_value)
check "upgrade: old agent stops" stop_agent TERM
n_down=$(cat "$T/flow.n")
AGENT=$V2
check "upgrade: new agent (next ABI) ready" start_agent --kubeconfig "$T/kubeconfig"
AGENT=$V1
expect_match "new agent migrated v1" "$(cat "$AGENT_LOG")" 'migrate: done'
grep -E 'entries migrated|migrate: done' "$AGENT_LOG" | sed 's/.*msg=/# /'
check "v1 pins removed" test ! -e "$BPFFS/v1"
check "v2 pins there" test -e "$BPFFS/v2/sl_from_pod" -a -e "$BPFFS/v2/sl_ct"
expect_eq "sl_ct value grew ($old_ct -> 56 bytes)" \
	"$(bpftool -j map show pinned "$BPFFS/v2/sl_ct" | jget bytes_value)" 56
new_from=$(bpftool -j prog show pinned "$BPFFS/v2/sl_from_pod" | jget id)
new_to=$(bpftool -j prog show pinned "$BPFFS/v2/sl_to_pod" | jget id)
for k in 1 2; do
	expect_eq "pod $k's veth runs the new sl_from_pod" "$(tc_prog_ids "sla${SID}k$k" ingress)" \
		"$new_from"
	expect_eq "pod $k's veth runs the new sl_to_pod" "$(tc_prog_ids "sla${SID}k$k" egress)" \
		"$new_to"
done
for id in $old_progs; do
	check "old program $id gone from the kernel" wait_until 10 prog_gone "$id"
done

# The flow's conntrack entry, as the new layout (BTF-formatted by bpftool).
ct_entry() {
	bpftool -j map dump pinned "$BPFFS/v2/sl_ct" | python3 -c '
import json, socket, struct, sys
best = None
for e in json.load(sys.stdin):
    k = bytes(int(x, 16) for x in e["key"])
    s, d = socket.inet_ntoa(k[12:16]), socket.inet_ntoa(k[28:32])
    v = e["formatted"]["value"]
    if (s, d, struct.unpack(">H", k[34:36])[0]) == ("10.77.0.11", "10.77.0.12", 80) and \
            (best is None or v["packets"] > best["packets"]):
        best = v   # the long flow (probe connections have few packets)
if best:
    print(best["created_ns"], best["state"], best["packets"], int(best["expires_ns"] > 0))'
}
entry=$(ct_entry)
expect_match "flow's conntrack entry converted (created_ns state packets expires>0: $entry)" \
	"$entry" '^0 2 [1-9][0-9]* 1$'
check "flow kept flowing across the upgrade" wait_until 10 flowing $((n_down + 20))
check "flow had no error" test ! -s "$T/flow.err"
p0=$(ct_entry | cut -d' ' -f3)
more_packets() { [ "$(ct_entry | cut -d' ' -f3)" -gt "$p0" ]; }
check "the new datapath counts the flow on the converted entry" wait_until 10 more_packets
check "new agent synced" converged
check "after the upgrade: a -> b allowed (new connection)" can 1 10.77.0.12
check "after the upgrade: b -/-> a still denied" cannot 2 10.77.0.11
np_delete x isolate-a
check "policy change after the upgrade applied" converged
check "after isolate-a is deleted: b -> a allowed" can 2 10.77.0.11
touch "$T/flow.stop"
check "flow ends cleanly" wait "$FLOW"
check "the veth still runs the new program" test "$(tc_prog_ids "$HA" ingress)" = "$new_from"
finish
