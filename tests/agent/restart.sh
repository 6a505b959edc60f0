#!/usr/bin/env bash
# restart.sh - restarts keep maps (same map ids), pins and entries, and restore state; the
# start-up reconciliation drops endpoints whose veth vanished while the agent was down,
# re-writes missing entries, removes LOCAL entries nobody owns, and re-attaches the new
# programs with replace semantics. Also after SIGKILL.
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1
start_agent || exit 1

add_veth 1
V1=("$HIF" "$HIDX" "$HMAC")
api "$(ep_req c1 10.77.0.5)" >/dev/null
add_veth 2
V2=("$HIF" "$HIDX" "$HMAC")
api "$(ep_req c2 10.77.0.6)" >/dev/null
add_veth 3
V3=("$HIF" "$HIDX" "$HMAC")
api "$(ep_req c3 10.77.0.7)" >/dev/null
expect_eq "three endpoints" "$(api '{"op":"status"}' | jget endpoints)" 3

ep_map=$(map_id sl_endpoints)
ct_map=$(map_id sl_counters)
prog1=$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)

# Plain restart: everything as it was.
conf_ino=$(stat -c %i "$CNI/10-sluice.conflist")
check "SIGTERM exits 0" stop_agent TERM
expect_eq "entries stay while the agent is down" "$(map_entry 10.77.0.5)" "1 ${V1[1]} 1"
check "agent restarts" start_agent
expect_eq "sl_endpoints map reused (same id)" "$(map_id sl_endpoints)" "$ep_map"
expect_eq "sl_counters map reused (same id)" "$(map_id sl_counters)" "$ct_map"
expect_eq "endpoints recovered" "$(api '{"op":"status"}' | jget endpoints)" 3
expect_eq "unchanged conflist not rewritten (same inode)" \
	"$(stat -c %i "$CNI/10-sluice.conflist")" "$conf_ino"
expect_eq "entry kept" "$(map_entry 10.77.0.6)" "2 ${V2[1]} 1"
r=$(api '{"op":"endpoint_get","containerID":"c3","ifname":"eth0"}')
expect_eq "state restored (id)" "$(printf '%s' "$r" | jget endpoint.id)" 3
expect_eq "state restored (pod)" "$(printf '%s' "$r" | jget endpoint.pod)" pod-c3
prog2=$(bpftool -j prog show pinned "$BPFFS/v1/sl_from_pod" | jget id)
check "program pin replaced by the new load" test "$prog2" != "$prog1"
check "no temporary pins left" test -z "$(ls "$BPFFS/v1" | grep -e __new)"
# The new programs were attached to every endpoint's veth (replace semantics).
att=$(ip netns exec "$NS" bpftool -j net show dev "${V1[0]}" 2>/dev/null |
	python3 -c 'import json,sys; d=json.load(sys.stdin)[0]["tc"]; print(sorted((t["kind"], t["id"]) for t in d))')
prog_to=$(bpftool -j prog show pinned "$BPFFS/v1/sl_to_pod" | jget id)
expect_eq "veth has the new from_pod/to_pod" "$att" \
	"[('clsact/egress', $prog_to), ('clsact/ingress', $prog2)]"

# Changes while the agent is down.
check "SIGTERM exits 0 again" stop_agent TERM
ip -n "$NS" link del "${V2[0]}"	# CNI DEL while the agent was down
key() { printf '0 0 0 0 0 0 0 0 0 0 0xff 0xff %s' "$(printf '%s' "$1" | tr . ' ')"; }
# shellcheck disable=SC2046
bpftool map delete pinned "$BPFFS/v1/sl_endpoints" key $(key 10.77.0.7)	# entry lost
# shellcheck disable=SC2046
bpftool map update pinned "$BPFFS/v1/sl_endpoints" key $(key 10.77.0.99) \
	value 9 0 0 0 ${V1[1]} 0 0 0 2 0 0 0 0 1 2 0 0 0 0 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 # stray LOCAL
# shellcheck disable=SC2046
bpftool map update pinned "$BPFFS/v1/sl_endpoints" key $(key 10.1.2.3) \
	value 77 0 0 0 0 0 0 0 2 0 0 0 0 1 2 0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 # remote
expect_eq "stray entry planted" "$(map_entry 10.77.0.99)" "9 ${V1[1]} 1"
check "agent restarts after changes" start_agent
expect_eq "map still the same" "$(map_id sl_endpoints)" "$ep_map"
expect_eq "endpoint whose veth vanished: removed from state" \
	"$(api '{"op":"endpoint_get","containerID":"c2","ifname":"eth0"}' | jget code)" 404
expect_eq "endpoint whose veth vanished: removed from the map" "$(map_entry 10.77.0.6)" ""
expect_eq "missing entry re-written" "$(map_entry 10.77.0.7)" "3 ${V3[1]} 1"
expect_eq "stray LOCAL entry removed" "$(map_entry 10.77.0.99)" ""
expect_eq "non-local entry left alone" "$(map_entry 10.1.2.3)" "77 0 0"
expect_eq "untouched endpoint kept" "$(map_entry 10.77.0.5)" "1 ${V1[1]} 1"
expect_eq "state file follows" \
	"$(python3 -c 'import json,sys; print([e["id"] for e in json.load(open(sys.argv[1]))["endpoints"]])' "$STATE/endpoints.json")" "[1, 3]"
add_veth 4
r=$(api "$(ep_req c4 10.77.0.8)")
expect_eq "ids continue after a restart" "$(printf '%s' "$r" | jget endpoint.id)" 4

# SIGKILL (a crash): the same recovery.
stop_agent KILL
check "agent restarts after SIGKILL" start_agent
expect_eq "endpoints after a crash" "$(api '{"op":"status"}' | jget endpoints)" 3
expect_eq "entry after a crash" "$(map_entry 10.77.0.8)" "4 $HIDX 1"
expect_eq "map still the same after a crash" "$(map_id sl_endpoints)" "$ep_map"

# A corrupt state file stops the agent with a clear error, and touches no map entry.
stop_agent TERM
echo '{"version":1,' >"$STATE/endpoints.json"
rc=0
in_ns "$AGENT" --pod-cidr 10.77.0.0/24 --bpffs "$BPFFS" --state-dir "$STATE" \
	--cni-conf-dir "$CNI" --metrics-addr "" >"$T/corrupt.log" 2>&1 || rc=$?
expect_eq "corrupt state: exit 1" "$rc" 1
expect_match "corrupt state: error names the file" "$(cat "$T/corrupt.log")" \
	"endpoints.json: not valid JSON"
expect_eq "corrupt state: entries untouched" "$(map_entry 10.77.0.5)" "1 ${V1[1]} 1"

finish
