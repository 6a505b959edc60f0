#!/usr/bin/env bash
# lifecycle.sh - an agent in a fresh netns with a private bpffs dir: bpffs mounted, pins,
# conflist, socket mode, sysctl, health endpoints, metrics, sluicectl, one agent per state dir,
# SIGTERM leaves everything in place, sluicectl still reads the pins with the agent down.
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1

check "agent starts and becomes ready" start_agent --ipam-data-dir "$T/ipam"
check "bpffs mounted on the --bpffs dir" test "$(stat -f -c %T "$BPFFS")" = bpf_fs
for p in sl_from_pod sl_to_pod sl_endpoints sl_counters; do
	check "pinned $p" test -e "$BPFFS/v1/$p"
done
check "no temporary pins left" test -z "$(ls "$BPFFS/v1" | grep -e __new)"
expect_eq "socket mode 0600" "$(stat -c %a "$SOCK")" 600
check "socket is a socket" test -S "$SOCK"
expect_eq "net.ipv4.ip_forward=1 in the agent's netns" \
	"$(in_ns cat /proc/sys/net/ipv4/ip_forward)" 1

want=$(python3 -c 'import json,sys; print(json.dumps({"cniVersion":"1.0.0",
 "cniVersions":["1.0.0","1.1.0"],"name":"sluice","plugins":[{"type":"sluice",
 "stateDir":sys.argv[1],"bpffs":sys.argv[2],"ipam":{"type":"host-local",
 "ranges":[[{"subnet":"10.77.0.0/24"}]],"dataDir":sys.argv[3]}}]}, sort_keys=True))' \
	"$STATE" "$BPFFS" "$T/ipam")
got=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' \
	"$CNI/10-sluice.conflist")
expect_eq "conflist content" "$got" "$want"
expect_eq "no temporary conflist left" "$(ls -A "$CNI")" "10-sluice.conflist"

st=$(api '{"op":"status"}')
expect_eq "status ok" "$(printf '%s' "$st" | jget ok)" true
expect_eq "status mode" "$(printf '%s' "$st" | jget mode)" standalone
expect_eq "status node" "$(printf '%s' "$st" | jget node)" "node-$ID"
expect_eq "status abi" "$(printf '%s' "$st" | jget abi)" 1
expect_eq "status bpffs" "$(printf '%s' "$st" | jget bpffs)" "$BPFFS/v1"
expect_eq "status endpoints" "$(printf '%s' "$st" | jget endpoints)" 0

expect_match "/healthz 200" "$(in_ns python3 "$HERE/helper.py" http http://127.0.0.1:9962/healthz)" "^200 ok"
expect_match "/readyz 200" "$(in_ns python3 "$HERE/helper.py" http http://127.0.0.1:9962/readyz)" "^200 ready"
expect_match "unknown path 404" "$(in_ns python3 "$HERE/helper.py" http http://127.0.0.1:9962/x)" "^404"
m=$(in_ns python3 "$HERE/helper.py" http http://127.0.0.1:9962/metrics)
expect_match "/metrics has datapath counters" "$m" \
	'sluice_datapath_packets_total\{reason="drop_spoofed_ip",direction="egress"\} [0-9]+'
expect_match "/metrics has endpoints gauge" "$m" 'sluice_endpoints 0'
expect_match "/metrics has TYPE lines" "$m" '# TYPE sluice_datapath_packets_total counter'

out=$("$CTL" --bpffs "$BPFFS" --state-dir "$STATE" status)
expect_match "sluicectl status" "$out" "agent: +ready \(node node-$ID, standalone mode"
out=$("$CTL" --bpffs "$BPFFS" --state-dir "$STATE" -o json status | jget ready)
expect_eq "sluicectl -o json status" "$out" true
out=$("$CTL" --bpffs "$BPFFS" --state-dir "$STATE" counters --all)
expect_match "sluicectl counters names reasons" "$out" "drop_spoofed_ip +egress +0 +0"
out=$("$CTL" --bpffs "$BPFFS" -o json counters | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check "sluicectl -o json counters lists every named reason and direction" test "$out" -ge 40

# One agent per state dir.
rc=0
out=$(in_ns "$AGENT" --pod-cidr 10.77.0.0/24 --bpffs "$BPFFS" --state-dir "$STATE" \
	--cni-conf-dir "$CNI" --metrics-addr "" 2>&1) || rc=$?
expect_eq "second agent on the same state dir exits 1" "$rc" 1
expect_match "second agent says why" "$out" "another sluice-agent is running"
check "first agent still serves" agent_ready
prog_id=$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)
rc=0
out=$(in_ns "$AGENT" --pod-cidr 10.77.0.0/24 --bpffs "$BPFFS" --state-dir "$T/state2" \
	--cni-conf-dir "$T/net2" --metrics-addr "" 2>&1) || rc=$?
expect_eq "second agent on the same bpffs exits 1" "$rc" 1
expect_match "second agent on the same bpffs says why" "$out" \
	"another sluice-agent is using this --bpffs"
rc=0
out=$(in_ns "$AGENT" --pod-cidr 10.77.0.0/24 --bpffs "$T/bpffs3" --state-dir "$T/state3" \
	--cni-conf-dir "$T/net3" --metrics-addr 127.0.0.1:9962 2>&1) || rc=$?
expect_eq "metrics address in use: exit 1" "$rc" 1
expect_match "metrics address in use: says so" "$out" "metrics: listen on 127.0.0.1:9962: "
check "metrics address in use: fails before touching bpffs" test ! -e "$T/bpffs3"
expect_eq "the refused agents left the pins alone" \
	"$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)" "$prog_id"
check "no conflist from the refused agents" test ! -e "$T/net2/10-sluice.conflist"

# SIGTERM: exit 0, everything stays.
prog_id=$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)
rc=0
stop_agent TERM || rc=$?
expect_eq "SIGTERM exits 0" "$rc" 0
check "conflist stays" test -f "$CNI/10-sluice.conflist"
check "pins stay" test -e "$BPFFS/v1/sl_from_pod" -a -e "$BPFFS/v1/sl_endpoints"
expect_eq "pinned program still loaded" \
	"$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)" "$prog_id"
rc=0
out=$("$CTL" --bpffs "$BPFFS" --state-dir "$STATE" status) || rc=$?
expect_eq "sluicectl status exits 1 with the agent down" "$rc" 1
expect_match "sluicectl status says not reachable" "$out" "agent: +not reachable at $SOCK"
expect_match "sluicectl status says the programs are pinned" "$out" "programs pinned"
quiet() { "$@" >/dev/null; }
check "sluicectl counters works with the agent down" \
	quiet "$CTL" --bpffs "$BPFFS" --state-dir "$STATE" counters
out=$("$CTL" --bpffs "$BPFFS" --state-dir "$STATE" endpoint list 2>&1)
expect_match "sluicectl endpoint list falls back to the pins" "$out" "read from .*sl_endpoints"

# SIGINT too.
check "agent restarts" start_agent
rc=0
stop_agent INT || rc=$?
expect_eq "SIGINT exits 0" "$rc" 0

# A pin dir under /sys/fs/bpf: bpffs is mounted on /sys/fs/bpf itself when it has none (what
# a fresh machine looks like), never on the pin dir.
SYSPIN=/sys/fs/bpf/slt-ag-$ID
BPFFS_SAVED=$BPFFS
BPFFS=$SYSPIN
rm -f "$CNI/10-sluice.conflist"
check "agent starts with --bpffs under /sys/fs/bpf" start_agent
expect_eq "/sys/fs/bpf is a bpffs" "$(stat -f -c %T /sys/fs/bpf)" bpf_fs
check "no bpffs mounted on the pin dir itself" sh -c "! mountpoint -q $SYSPIN"
check "pins under /sys/fs/bpf" test -e "$SYSPIN/v1/sl_from_pod" -a -e "$SYSPIN/v1/sl_endpoints"
expect_match "conflist names that bpffs" "$(cat "$CNI/10-sluice.conflist")" "\"bpffs\":.*\"$SYSPIN\""
stop_agent TERM
rm -rf "$SYSPIN"
BPFFS=$BPFFS_SAVED

finish
