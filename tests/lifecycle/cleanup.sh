#!/usr/bin/env bash
# cleanup.sh - `sluice-agent cleanup` (uninstall): refuses while the agent runs; removes the
# conflist, our tc filters, the routes marked as ours, every pin and pin dir, the state dir's
# files; the programs and maps are gone from the kernel afterwards; a second run is a no-op;
# another CNI's conflist, tc filters (also one at our handle), pins, routes and files stay.
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1
check "foreign program built" foreign_obj || exit 1
check "agent ready" start_agent || exit 1
check "pod 1 wired" pod 1 10.77.0.11
H1=$HIF
check "pod 2 wired" pod 2 10.77.0.12
H2=$HIF
check "pods talk through the datapath" ip netns exec "$NS-p1" ping -c 1 -W 2 10.77.0.12 >/dev/null

# What another CNI (or the admin) has on the node.
printf '{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"bridge"}]}\n' \
	>"$CNI/05-other.conflist"
check "foreign filter beside ours" in_ns tc filter add dev "$H1" ingress prio 7 handle 7 bpf \
	da obj "$T/foreign.o" sec tc
ip -n "$NS" link add "sla${SID}x0" type veth peer name "sla${SID}x1"
in_ns tc qdisc add dev "sla${SID}x0" clsact
check "foreign program at our handle and prio elsewhere" in_ns tc filter add dev "sla${SID}x0" \
	ingress prio 1 handle 0x5c1 bpf da obj "$T/foreign.o" sec tc
check "foreign pin in the bpffs root" bpftool prog load "$T/foreign.o" "$BPFFS/foreign_prog" \
	type classifier
mkdir -p "$BPFFS/othercni"
check "foreign pin in another dir" bpftool map create "$BPFFS/othercni/sl_lookalike" type hash \
	key 4 value 4 entries 4 name lookalike
check "our route (proto 92, as agent/routes.c marks them)" \
	ip -n "$NS" route add 10.88.0.0/24 dev "$H1" proto 92
check "foreign route" ip -n "$NS" route add 10.89.0.0/24 dev "$H1" proto static
echo keep >"$STATE/other.txt"

progs="$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id) $(
	bpftool -j prog show pinned "$BPFFS/v1/sl_to_pod" | jget id)"
maps=""
for m in sl_endpoints sl_ct sl_peer sl_ident sl_counters; do
	[ -e "$BPFFS/v1/$m" ] && maps="$maps $(map_id "$m")"
done

cleanup_cmd() {
	in_ns "$AGENT" cleanup --bpffs "$BPFFS" --state-dir "$STATE" --cni-conf-dir "$CNI" "$@"
}
cleanup_cmd >"$T/c0.log" 2>&1
expect_eq "cleanup refuses while the agent runs (exit 1)" "$?" 1
expect_match "... and says why" "$(cat "$T/c0.log")" 'sluice-agent is running'
check "... and removed nothing (conflist still there)" test -e "$CNI/10-sluice.conflist"
check "... (pins still there)" test -e "$BPFFS/v1/sl_from_pod"

check "agent stops" stop_agent TERM
cleanup_cmd >"$T/c1.log" 2>&1
expect_eq "cleanup exits 0" "$?" 0
sed 's/^/# /' "$T/c1.log"
check "conflist removed" test ! -e "$CNI/10-sluice.conflist"
check "other CNI's conflist kept" test -e "$CNI/05-other.conflist"
for h in "$H1" "$H2"; do
	for d in ingress egress; do
		expect_eq "$h $d: no program of ours" "$(tc_prog_names "$h" $d | tr ' ' '\n' |
			grep -c '^sl_')" 0
	done
done
expect_match "foreign filter beside ours kept" "$(tc_prog_names "$H1" ingress)" '^foreign[^ ]*$'
expect_match "foreign program at our handle kept" "$(tc_prog_names "sla${SID}x0" ingress)" \
	'^foreign[^ ]*$' 
check "no pin dir left" test -z "$(ls -d "$BPFFS"/v* 2>/dev/null)"
check "foreign pin kept" test -e "$BPFFS/foreign_prog"
check "foreign pin dir kept, sl_-named pin in it too" test -e "$BPFFS/othercni/sl_lookalike"
expect_eq "our route removed" "$(ip -n "$NS" route show 10.88.0.0/24)" ""
expect_match "foreign route kept" "$(ip -n "$NS" route show 10.89.0.0/24)" '^10\.89\.0\.0/24'
for f in agent.sock endpoints.json agent.lock; do
	check "state file $f removed" test ! -e "$STATE/$f"
done
check "foreign state file kept" test -e "$STATE/other.txt"
for id in $progs; do
	check "program $id gone from the kernel" wait_until 10 prog_gone "$id"
done
for id in $maps; do
	check "map $id gone from the kernel" wait_until 10 map_gone "$id"
done

cleanup_cmd >"$T/c2.log" 2>&1
expect_eq "second cleanup exits 0" "$?" 0
expect_match "... and finds nothing" "$(cat "$T/c2.log")" 'nothing of Sluice'

# A 10-sluice.conflist that is not ours (no sluice plugin) is left alone.
printf '{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge"}]}\n' \
	>"$CNI/10-sluice.conflist"
cleanup_cmd >"$T/c3.log" 2>&1
expect_eq "cleanup with a foreign 10-sluice.conflist exits 0" "$?" 0
check "... and keeps it" test -e "$CNI/10-sluice.conflist"
expect_match "... saying so" "$(cat "$T/c3.log")" 'not ours, left alone'
check "the pods' veths are still there (pods are the runtime's)" \
	ip -n "$NS" link show "$H1" >/dev/null
finish
