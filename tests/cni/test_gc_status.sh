#!/usr/bin/env bash
# test_gc_status.sh - STATUS (ready / not ready / version gate) and GC of every attachment not
# in cni.dev/valid-attachments: veths, agent endpoints and host-local reservations, while
# someone else's "sl..." link and the valid attachment survive; GC with the agent down.
. "$(dirname "$0")/lib.sh"

setup_node
start_agent
make_conf "$T/c11.json" --version 1.1.0

gc_env() { # CONF: GC gets CNI_COMMAND and CNI_PATH only
	OUT=$(nsenter --net="/run/netns/$NODE" env -i PATH="$PATH" CNI_COMMAND="$1" \
		CNI_PATH="$CNI_PATH_DIRS" "$SLUICE" <"$2" 2>>"$T/stderr.log")
	RC=$?
	printf '%s\n' "$OUT" >"$T/out.json"
}

gc_env STATUS "$T/c11.json"
check "STATUS with a ready agent: exit 0, no output" test "$RC" = 0 -a -z "$OUT"
make_conf "$T/c10.json"
gc_env STATUS "$T/c10.json"
check "STATUS with cniVersion 1.0.0 -> 1" expect_error 1 STATUS
gc_env GC "$T/c10.json"
check "GC with cniVersion 1.0.0 -> 1" expect_error 1 GC

for g in g1 g2 g3; do
	add_pod_ns "$g"
	cni ADD "$g" eth0 "$(pod_ns "$g")" "$T/c11.json"
	cp "$T/out.json" "$T/$g.json"
done
check "three attachments" test "$(sl_links)/$(agent_endpoints)/$(ipam_files)" = 3/3/3
in_node ip link add slfake0 type veth peer name slfake1
printf 'ghost\r\neth0' >"$IPAMDIR/10.99.0.200"
check "a stale host-local reservation with no veth" test "$(ipam_files)" = 4

make_conf "$T/gc.json" --version 1.1.0 --valid g1/eth0
gc_env GC "$T/gc.json"
check "GC succeeds, prints nothing" test "$RC" = 0 -a -z "$OUT"
check "GC kept g1, removed g2, g3 and the ghost" test "$(sl_links)/$(agent_endpoints)/$(ipam_files)" = 1/1/1
check "GC kept g1's veth" test -n "$(veth_of g1 eth0)"
check "GC removed g2's and g3's veths" test -z "$(veth_of g2 eth0)$(veth_of g3 eth0)"
check "GC left someone else's sl* link alone" in_node ip link show dev slfake0 >/dev/null
check "GC released the ghost reservation" test ! -e "$IPAMDIR/10.99.0.200"
make_conf "$T/chk.json" --version 1.1.0 --prev "$T/g1.json"
cni CHECK g1 eth0 "$(pod_ns g1)" "$T/chk.json"
check "g1 still passes CHECK after GC" test "$RC" = 0
make_conf "$T/bad.json" --version 1.1.0 --set 'cni.dev/valid-attachments={"containerID":"g1"}'
gc_env GC "$T/bad.json"
check "GC with a malformed valid-attachments -> 7" expect_error 7 "cni.dev/valid-attachments"
make_conf "$T/bad.json" --version 1.1.0 --set 'cni.dev/valid-attachments=[{"containerID":"g1"}]'
gc_env GC "$T/bad.json"
check "GC with an entry lacking ifname -> 7" expect_error 7 "ifname"

# agent down: STATUS 50; GC still sweeps veths and reservations, and reports the agent
stop_agent
gc_env STATUS "$T/c11.json"
check "STATUS with the agent down -> 50 naming the socket" expect_error 50 "agent $T/state/agent.sock"
make_conf "$T/gc0.json" --version 1.1.0 --valid ""
gc_env GC "$T/gc0.json"
check "GC with the agent down reports it (11)" expect_error 11 "agent"
check "... but removed g1's veth and reservation anyway" test "$(sl_links)/$(ipam_files)" = 0/0
start_agent
gc_env GC "$T/gc0.json"
check "GC with the agent back, nothing valid: succeeds" test "$RC" = 0
check "nothing left" nothing_left
in_node ip link del slfake0
