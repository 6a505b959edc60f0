#!/usr/bin/env bash
# endpoints.sh - endpoint_add/get/list/del with real veths in the test netns: the map entry,
# the state file, idempotency, replacement, and bad requests (code 7 naming the field).
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1
start_agent || exit 1

add_veth 1
V1=("$HIF" "$HIDX" "$HMAC")
r=$(api "$(ep_req c1 10.77.0.5)")
expect_eq "add ok" "$(printf '%s' "$r" | jget ok)" true
expect_eq "add assigns id 1" "$(printf '%s' "$r" | jget endpoint.id)" 1
expect_eq "add echoes ip" "$(printf '%s' "$r" | jget endpoint.ip)" 10.77.0.5
expect_eq "add says ready" "$(printf '%s' "$r" | jget endpoint.state)" ready
expect_eq "map entry: id, ifindex, LOCAL" "$(map_entry 10.77.0.5)" "1 $HIDX 1"
expect_eq "state file holds it" \
	"$(jget endpoints.0.containerID <"$STATE/endpoints.json")" c1
expect_eq "state file mode 0600" "$(stat -c %a "$STATE/endpoints.json")" 600

r=$(api "$(ep_req c1 10.77.0.5)")
expect_eq "re-add is idempotent (same id)" "$(printf '%s' "$r" | jget endpoint.id)" 1
r=$(api '{"op":"endpoint_get","containerID":"c1","ifname":"eth0"}')
expect_eq "get" "$(printf '%s' "$r" | jget endpoint.hostIfname)" "$HIF"
expect_eq "get pod" "$(printf '%s' "$r" | jget endpoint.pod)" pod-c1
r=$(api '{"op":"endpoint_get","containerID":"c1","ifname":"eth1"}')
expect_eq "get other ifname: 404" "$(printf '%s' "$r" | jget code)" 404

add_veth 2
V2=("$HIF" "$HIDX" "$HMAC")
r=$(api "$(ep_req c2 10.77.0.6)")
expect_eq "second endpoint gets id 2" "$(printf '%s' "$r" | jget endpoint.id)" 2
r=$(api '{"op":"endpoint_list"}')
expect_eq "list has both" "$(printf '%s' "$r" | python3 -c 'import json,sys; print(sorted(e["containerID"] for e in json.load(sys.stdin)["endpoints"]))')" "['c1', 'c2']"
out=$("$CTL" --bpffs "$BPFFS" --state-dir "$STATE" endpoint list)
expect_match "sluicectl endpoint list" "$out" "2 +10\.77\.0\.6 +default/pod-c2 +$HIF"
expect_eq "status counts 2" "$(api '{"op":"status"}' | jget endpoints)" 2

# Replacing c2 with another ip keeps its id and moves the map entry.
r=$(api "$(ep_req c2 10.77.0.7)")
expect_eq "replace keeps the id" "$(printf '%s' "$r" | jget endpoint.id)" 2
expect_eq "replace: new ip in the map" "$(map_entry 10.77.0.7)" "2 $HIDX 1"
expect_eq "replace: old ip gone from the map" "$(map_entry 10.77.0.6)" ""

# Bad requests: code 7, the field named first.
bad_req() { # DESCRIPTION FIELD REQUEST
	local r
	r=$(api "$3")
	if [ "$(printf '%s' "$r" | jget code)" = 7 ] &&
		grep -q "^$2: " <<<"$(printf '%s' "$r" | jget error)"; then
		ok "$1"
	else
		bad "$1: $r"
	fi
}
HIF=${V1[0]} HIDX=${V1[1]} HMAC=${V1[2]}
good=$(ep_req c3 10.77.0.9)
edit() { printf '%s' "$good" | python3 -c 'import json,sys; o=json.load(sys.stdin); exec(sys.argv[1]); print(json.dumps(o))' "$1"; }
bad_req "ip outside the pod cidr" ip "$(edit 'o["ip"]="10.78.0.9"')"
bad_req "ip not an address" ip "$(edit 'o["ip"]="10.77.0"')"
add_veth 9
bad_req "ip held by a live endpoint" ip "$(ep_req c9 10.77.0.5)"
HIF=${V1[0]} HIDX=${V1[1]} HMAC=${V1[2]}
bad_req "veth held by a live endpoint" hostIfindex "$(edit 'pass')"
bad_req "no such ifindex" hostIfindex "$(edit 'o["hostIfindex"]=99999')"
bad_req "ifindex of another name" hostIfname "$(edit 'o["hostIfname"]="lo"')"
bad_req "wrong host mac" hostMac "$(edit 'o["hostMac"]="02:11:22:33:44:55"')"
bad_req "multicast pod mac" podMac "$(edit 'o["podMac"]="01:00:5e:00:00:01"')"
bad_req "missing containerID" containerID "$(edit 'del o["containerID"]')"
bad_req "invalid containerID" containerID "$(edit 'o["containerID"]="../x"')"
bad_req "invalid ifname" ifname "$(edit 'o["ifname"]="a/b"')"
bad_req "relative netns" netns "$(edit 'o["netns"]="x"')"
bad_req "ifindex as string" hostIfindex "$(edit 'o["hostIfindex"]="3"')"
bad_req "pod name with newline" pod "$(edit 'o["pod"]="a\nb"')"
bad_req "not JSON" request "{nope"
bad_req "JSON but not an object" request "[1,2]"
bad_req "missing op" op '{"containerID":"c1"}'
bad_req "unknown op" op '{"op":"frob"}'
bad_req "del without ifname" ifname '{"op":"endpoint_del","containerID":"c1"}'
bad_req "get with bad containerID" containerID '{"op":"endpoint_get","containerID":"","ifname":"eth0"}'
expect_match "oversized request: code 7" "$(python3 "$HERE/helper.py" big "$SOCK")" \
	'"code":7,"error":"request: larger than'
expect_eq "bad requests changed nothing" "$(api '{"op":"status"}' | jget endpoints)" 2
expect_eq "no entry for the refused ip" "$(map_entry 10.77.0.9)" ""

# del: map entry and state gone; idempotent.
r=$(api '{"op":"endpoint_del","containerID":"c1","ifname":"eth0"}')
expect_eq "del ok" "$(printf '%s' "$r" | jget ok)" true
expect_eq "del removes the map entry" "$(map_entry 10.77.0.5)" ""
expect_eq "del removes it from the state file" \
	"$(python3 -c 'import json,sys; print([e["containerID"] for e in json.load(open(sys.argv[1]))["endpoints"]])' "$STATE/endpoints.json")" "['c2']"
r=$(api '{"op":"endpoint_del","containerID":"c1","ifname":"eth0"}')
expect_eq "del again is ok" "$(printf '%s' "$r" | jget ok)" true
r=$(api '{"op":"endpoint_get","containerID":"c1","ifname":"eth0"}')
expect_eq "get after del: 404" "$(printf '%s' "$r" | jget code)" 404
expect_eq "other endpoint untouched" "$(map_entry 10.77.0.7)" "2 ${V2[1]} 1"

# ids are never reused: a new endpoint after a del gets 3.
r=$(api "$(ep_req c4 10.77.0.5)")
expect_eq "ids are not reused" "$(printf '%s' "$r" | jget endpoint.id)" 3

# A veth gone while the agent runs: its ip can be taken over (the stale endpoint is dropped).
ip -n "$NS" link del "sla${SID}h2"
HIF=${V1[0]} HIDX=${V1[1]} HMAC=${V1[2]}
api '{"op":"endpoint_del","containerID":"c4","ifname":"eth0"}' >/dev/null
r=$(api "$(ep_req c5 10.77.0.7)")
expect_eq "ip of an endpoint whose veth vanished is reusable" "$(printf '%s' "$r" | jget ok)" true
expect_eq "the stale endpoint is gone" \
	"$(api '{"op":"endpoint_get","containerID":"c2","ifname":"eth0"}' | jget code)" 404

finish
