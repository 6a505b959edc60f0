#!/usr/bin/env bash
# test_errors.sh - every bad input gets the CNI error JSON on stdout with the right code and a
# message naming the field, and nothing is left behind: missing/invalid env, bad JSON and
# config, unsupported versions and capabilities, IPAM failures, failures half-way through ADD,
# an agent that is down, refuses, is silent or talks garbage.
. "$(dirname "$0")/lib.sh"

setup_node
start_agent
add_pod_ns p1
NS=$(pod_ns p1)
make_conf "$T/good.json"

# raw CMD CONF [env...]: the plugin with exactly this environment (no defaults)
raw() {
	local conf=$1
	shift
	OUT=$(in_node env -i PATH="$PATH" "$@" "$SLUICE" <"$conf" 2>>"$T/stderr.log")
	RC=$?
	printf '%s\n' "$OUT" >"$T/out.json"
}
ENV_OK=(CNI_COMMAND=ADD CNI_CONTAINERID=e1 CNI_NETNS="$NS" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH_DIRS")

# --- environment
raw "$T/good.json" CNI_CONTAINERID=e1 CNI_NETNS="$NS" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH_DIRS"
check "no CNI_COMMAND -> 4" expect_error 4 CNI_COMMAND
raw "$T/good.json" CNI_COMMAND=FROB CNI_CONTAINERID=e1
check "unknown CNI_COMMAND -> 4" expect_error 4 'CNI_COMMAND "FROB"'
for v in CNI_CONTAINERID CNI_NETNS CNI_IFNAME CNI_PATH; do
	env=()
	for kv in "${ENV_OK[@]}"; do [[ $kv == "$v="* ]] || env+=("$kv"); done
	raw "$T/good.json" "${env[@]}"
	check "ADD without $v -> 4 naming it" expect_error 4 "$v"
	raw "$T/good.json" "${env[@]}" "$v="
	check "ADD with empty $v -> 4 naming it" expect_error 4 "$v"
done
raw "$T/good.json" CNI_COMMAND=DEL CNI_PATH="$CNI_PATH_DIRS" CNI_IFNAME=eth0
check "DEL without CNI_CONTAINERID -> 4" expect_error 4 CNI_CONTAINERID
for id in -lead 'a b' 'x/y' 'semi;colon' '.dot'; do
	cni ADD "$id" eth0 "$NS" "$T/good.json"
	check "container id '$id' -> 4" expect_error 4 CNI_CONTAINERID
done
for ifn in 0123456789abcdef . .. a/b a:b 'a b'; do
	cni ADD e1 "$ifn" "$NS" "$T/good.json"
	check "ifname '$ifn' -> 4" expect_error 4 CNI_IFNAME
done
cni ADD e1 eth0 /run/netns/$P-nonexistent "$T/good.json"
check "CNI_NETNS that does not exist -> 4" expect_error 4 "CNI_NETNS"
cni ADD e1 eth0 "$T/good.json" "$T/good.json"
check "CNI_NETNS that is not a netns -> 4" expect_error 4 "not a network namespace"
cni ADD e1 eth0 /proc/self/ns/mnt "$T/good.json"
check "CNI_NETNS that is a mount namespace -> 4" expect_error 4 "not a network namespace"

# --- JSON and config
bad() { # bad NAME CODE SUBSTRING CONF-TEXT
	printf '%s' "$4" >"$T/bad.json"
	cni ADD e1 eth0 "$NS" "$T/bad.json"
	check "$1 -> $2" expect_error "$2" "$3"
}
bad "empty stdin" 6 "empty" ""
bad "bad JSON" 6 "invalid JSON" '{"cniVersion": "1.0.0", "name": '
bad "JSON array" 6 "not a JSON object" '[1, 2]'
bad "cniVersion not a string" 6 "cniVersion" '{"cniVersion": 1, "name": "n"}'
bad "cniVersion missing" 1 "cniVersion" '{"name": "n", "ipam": {"type": "host-local"}}'
bad "cniVersion 0.2.0" 1 '"0.2.0"' '{"cniVersion": "0.2.0", "name": "n", "ipam": {"type": "host-local"}}'
bad "cniVersion 2.0.0" 1 '"2.0.0"' '{"cniVersion": "2.0.0", "name": "n", "ipam": {"type": "host-local"}}'
bad "name missing" 7 "name" '{"cniVersion": "1.0.0", "ipam": {"type": "host-local"}}'
bad "name with a slash" 7 "name" '{"cniVersion": "1.0.0", "name": "a/b", "ipam": {"type": "host-local"}}'
bad "ipam missing" 7 "ipam: missing" '{"cniVersion": "1.0.0", "name": "n"}'
bad "ipam not an object" 7 "ipam: must be an object" '{"cniVersion": "1.0.0", "name": "n", "ipam": "host-local"}'
bad "ipam.type missing" 7 "ipam.type" '{"cniVersion": "1.0.0", "name": "n", "ipam": {}}'
bad "ipam.type a path" 2 'ipam.type "/usr/lib/cni/host-local"' '{"cniVersion": "1.0.0", "name": "n", "ipam": {"type": "/usr/lib/cni/host-local"}}'
bad "ipam.type ../" 2 'ipam.type "../host-local"' '{"cniVersion": "1.0.0", "name": "n", "ipam": {"type": "../host-local"}}'
make_conf "$T/bad.json" --set 'ipam.type="no-such-ipam"'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "ipam.type not in CNI_PATH -> 7" expect_error 7 'ipam.type "no-such-ipam": no such plugin in CNI_PATH'
make_conf "$T/bad.json" --set mtu=10
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "mtu 10 -> 7" expect_error 7 mtu
make_conf "$T/bad.json" --set 'mtu="1500"'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "mtu as a string -> 7" expect_error 7 mtu
make_conf "$T/bad.json" --set 'stateDir="relative/dir"'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "relative stateDir -> 7" expect_error 7 'stateDir "relative/dir"'
make_conf "$T/bad.json" --set 'bpffs=5'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "bpffs not a string -> 7" expect_error 7 bpffs
make_conf "$T/bad.json" --set 'runtimeConfig={"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "runtimeConfig.portMappings -> 2 naming key and value" expect_error 2 'portMappings [{"hostPort":8080'
make_conf "$T/bad.json" --set 'runtimeConfig={"Bandwidth":{"IngressRate":1000}}'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "runtimeConfig keys matched case-insensitively (containerd's Bandwidth) -> 2" expect_error 2 'bandwidth {"IngressRate":1000}'
check "no leak after config errors" nothing_left

# --- IPAM failures
make_conf "$T/bad.json" --set 'ipam.ranges=[[{"subnet":"not-a-subnet"}]]'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "IPAM failure passed on with the plugin's message" bash -c "[ $RC != 0 ] && grep -q 'ipam host-local: ADD' $T/out.json"
check "no leak after an IPAM failure" nothing_left
make_conf "$T/small.json" --set 'ipam.ranges=[[{"subnet":"10.99.0.0/24","rangeStart":"10.99.0.50","rangeEnd":"10.99.0.50"}]]'
cni ADD s1 eth0 "$NS" "$T/small.json"
check "ADD takes the only address of a one-address range" test "$RC" = 0
add_pod_ns p2
cni ADD s2 eth0 "$(pod_ns p2)" "$T/small.json"
check "exhausted range: error from host-local" bash -c "[ $RC != 0 ] && grep -q 'no IP addresses available' $T/out.json"
check "... and the failed ADD created no veth" test -z "$(veth_of s2 eth0)"
cni DEL s1 eth0 "$NS" "$T/small.json"
check "DEL s1" test "$RC" = 0
check "no leak after exhaustion" nothing_left

# --- IPAM plugins that misbehave (shell stand-ins in their own CNI_PATH dir)
mkdir -p "$T/fakeipam"
for kind in garbage v6only; do
	cat >"$T/fakeipam/ipam-$kind" <<EOS
#!/bin/sh
cat >/dev/null
case "\$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;
ADD) [ $kind = garbage ] && echo 'this is not json' || echo '{"cniVersion":"1.0.0","ips":[{"address":"fd00::5/64"}]}' ;;
DEL) echo "\$CNI_CONTAINERID/\$CNI_IFNAME" >>"$T/fakeipam/$kind.del" ;;
esac
exit 0
EOS
	chmod +x "$T/fakeipam/ipam-$kind"
done
CNI_PATH_SAVED=$CNI_PATH_DIRS
CNI_PATH_DIRS=$T/fakeipam:$CNI_PATH_SAVED
make_conf "$T/bad.json" --set 'ipam={"type":"ipam-garbage"}'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "IPAM output that is not JSON -> 102" expect_error 102 "ipam ipam-garbage: ADD: output is not JSON"
check "... and the allocation it said yes to was released (IPAM DEL)" grep -qx e1/eth0 "$T/fakeipam/garbage.del"
make_conf "$T/bad.json" --set 'ipam={"type":"ipam-v6only"}'
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "IPAM result without IPv4 -> 102" expect_error 102 "ipam ipam-v6only: returned no IPv4 address"
check "... and released (IPAM DEL)" grep -qx e1/eth0 "$T/fakeipam/v6only.del"
CNI_PATH_DIRS=$CNI_PATH_SAVED
check "no leak after misbehaving IPAM" nothing_left

# --- failure half-way: programs not pinned (after IPAM and veth): everything undone
mkdir -p "$T/nopins"
make_conf "$T/bad.json" --set "bpffs=\"$T/nopins\""
cni ADD e1 eth0 "$NS" "$T/bad.json"
check "no pinned programs -> 11 naming the pin" expect_error 11 "$T/nopins/v1/sl_from_pod: not pinned"
check "... undone: no veth, no reservation, no eth0 in the pod" bash -c \
	"[ \$(ip -n $P-p1 -o link | grep -c eth0) = 0 ]"
check "... and nothing left" nothing_left

# --- an interface that already exists in the pod: refused before IPAM
ip -n "$P-p1" link add eth0 type veth peer name eth0peer
cni ADD e1 eth0 "$NS" "$T/good.json"
check "CNI_IFNAME already in the netns -> 106" expect_error 106 "CNI_IFNAME eth0: already exists"
check "... existing interface untouched, nothing allocated" bash -c \
	"ip -n $P-p1 link show eth0 >/dev/null && [ \$(find $IPAMDIR -type f ! -name lock ! -name 'last_*' | wc -l) = 0 ]"
ip -n "$P-p1" link del eth0

# --- stand-in agents (protocol errors only; the real agent serves every other case)
mkdir -p "$T/standin"
SOCK=$T/standin/agent.sock
for mode in refuse garbage silent; do
	python3 "$TESTS/standin_agent.py" "$SOCK" "$mode" &
	SPID=$!
	wait_for 10 test -S "$SOCK"
	make_conf "$T/si.json" --set "stateDir=\"$T/standin\""
	cni ADD e1 eth0 "$NS" "$T/si.json"
	case $mode in
	refuse) check "agent refuses -> its code (7) and reason" expect_error 7 "stand-in refuses" ;;
	garbage) check "agent answers garbage -> 104" expect_error 104 "agent" ;;
	silent) check "agent silent -> 11 after the bounded wait, naming the socket" expect_error 11 "agent $SOCK: endpoint_add: no answer" ;;
	esac
	check "... ADD undone, nothing left ($mode)" nothing_left
	kill "$SPID"
	wait "$SPID" 2>/dev/null
	rm -f "$SOCK" # so that the next stand-in's socket is what we wait for
done

# --- the real agent down
stop_agent
cni ADD e1 eth0 "$NS" "$T/good.json"
check "agent down -> 11 naming the socket" expect_error 11 "agent $T/state/agent.sock: not running"
check "... nothing allocated, no veth" bash -c "[ \$(ip -n $P-p1 -o link | wc -l) = 1 ] && [ \$(find $IPAMDIR -type f ! -name lock ! -name 'last_*' 2>/dev/null | wc -l) = 0 ]"
start_agent
cni ADD e2 eth0 "$NS" "$T/good.json"
check "ADD with the agent back" test "$RC" = 0
stop_agent
cni DEL e2 eth0 "$NS" "$T/good.json"
check "DEL with the agent down still succeeds" test "$RC" = 0
check "... veth and reservation released" bash -c "[ -z '$(veth_of e2 eth0)' ] && [ \$(find $IPAMDIR -type f ! -name lock ! -name 'last_*' | wc -l) = 0 ]"
start_agent
check "the restarted agent reconciled the vanished endpoint" wait_for 10 bash -c "[ \"\$(python3 $CNITEST agent $T/state/agent.sock '{\"op\":\"endpoint_list\"}' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"endpoints\"]))')\" = 0 ]"
check "nothing left at the end" nothing_left
check "stdout carried JSON only (every error parsed above); logs went to logFile" test -s "$T/sluice.log"
