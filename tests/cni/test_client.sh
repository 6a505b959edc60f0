#!/usr/bin/env bash
# test_client.sh - a real client no one here wrote drives the plugin: podman 4.3 (CNI backend,
# libcni 1.1.2) with its own config, storage and network-config dirs, running inside the test
# node netns against the conflist the agent wrote. podman probes VERSION, calls ADD on run and
# DEL on stop (it never calls CHECK); we check what it got and that nothing is left.
. "$(dirname "$0")/lib.sh"
PAUSE=$BUILD/tests/cni/sl-test-pause

for b in podman runc; do
	if ! command -v "$b" >/dev/null; then
		echo "skip: $b is not installed (make deps installs it)"
		trap - EXIT
		cleanup
		echo "0 passed, 0 failed"
		exit 77
	fi
done

setup_node
start_agent
mkdir -p "$T/rootfs" "$T/podman-net" "$T/pstore" "$T/prun" "$T/ptmp"
cp "$PAUSE" "$T/rootfs/pause"
# podman reads every conflist in its network_config_dir; ours logs to the test's logFile
python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); c["plugins"][0]["logFile"] = sys.argv[2]; print(json.dumps(c))' \
	"$CONFLIST" "$T/sluice.log" >"$T/podman-net/10-sluice.conflist"
# runc, not crun: crun refuses this machine's hybrid cgroup layout
cat >"$T/containers.conf" <<EOC
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/podman-events.log"
runtime = "runc"
tmp_dir = "$T/ptmp"
[network]
network_backend = "cni"
cni_plugin_dirs = ["$BUILD/cni", "/usr/lib/cni"]
network_config_dir = "$T/podman-net"
EOC
pm() {
	CONTAINERS_CONF=$T/containers.conf nsenter --net="/run/netns/$NODE" podman \
		--root "$T/pstore" --runroot "$T/prun" --storage-driver vfs "$@"
}
pm_cleanup() {
	pm rm -a -f -t 0 >/dev/null 2>&1
	cleanup
}
trap 'pm_cleanup; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]' EXIT

check "podman loads the agent's conflist (VERSION probe passes)" bash -c \
	"CONTAINERS_CONF=$T/containers.conf nsenter --net=/run/netns/$NODE podman --root $T/pstore --runroot $T/prun --storage-driver vfs network ls --format '{{.Name}} {{.Driver}}' | grep -qx 'sluice sluice'"

run_ctr() { # NAME: podman run on the sluice network; prints the container id
	pm run -d --name "$1" --network sluice --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		--rootfs "$T/rootfs" /pause 2>>"$T/podman.err"
}
ID1=$(run_ctr "$P-c1")
check "podman run (CNI ADD) succeeds" test -n "$ID1"
ID2=$(run_ctr "$P-c2")
check "a second container" test -n "$ID2"
pm inspect --format '{{json .NetworkSettings}}' "$P-c1" >"$T/c1.json"
pm inspect --format '{{json .NetworkSettings}}' "$P-c2" >"$T/c2.json"
IP1=$(jget "$T/c1.json" Networks.sluice.IPAddress)
IP2=$(jget "$T/c2.json" Networks.sluice.IPAddress)
NS1=$(jget "$T/c1.json" SandboxKey)
NS2=$(jget "$T/c2.json" SandboxKey)
check "podman parsed our result: /32 in the pod range, gateway 169.254.1.1, a MAC" test \
	"${IP1%.*}/$(jget "$T/c1.json" Networks.sluice.IPPrefixLen)/$(jget "$T/c1.json" Networks.sluice.Gateway)" = \
	"${CIDR%.*}/32/169.254.1.1" -a -n "$(jget "$T/c1.json" Networks.sluice.MacAddress)"
check "distinct addresses" test -n "$IP2" -a "$IP1" != "$IP2"
EP=$(agent_call "{\"op\":\"endpoint_get\",\"containerID\":\"$ID1\",\"ifname\":\"eth0\"}")
check "the agent has podman's container (K8S_POD_NAME from podman's CNI_ARGS)" python3 -c "
import json, sys
e = json.loads(sys.argv[1])['endpoint']
assert (e['ip'], e['pod'], e['netns']) == ('$IP1', '$P-c1', '$NS1'), e" "$EP"
check "eth0 in podman's netns has the address" bash -c "nsenter --net=$NS1 ip -o -4 addr show dev eth0 | grep -q 'inet $IP1/32'"
check "ping node -> container" in_node ping -c 2 -i 0.2 -W 2 -q "$IP1"
check "ping container -> container" nsenter --net="$NS1" ping -c 2 -i 0.2 -W 2 -q "$IP2"

pm stop -t 0 "$P-c1" >/dev/null 2>&1
check "podman stop (CNI DEL) removed c1's veth and reservation" bash -c \
	"[ -z '$(veth_of "$ID1" eth0)' ] && ! grep -rqs '$ID1' $IPAMDIR"
check "... and its endpoint" bash -c "python3 $CNITEST agent $T/state/agent.sock '{\"op\":\"endpoint_get\",\"containerID\":\"$ID1\",\"ifname\":\"eth0\"}' | grep -q '\"ok\":false'"
pm rm -f -t 0 "$P-c1" "$P-c2" >/dev/null 2>&1
check "podman rm: nothing left" nothing_left
check "our plugin, not another, did the work (its log has podman's ADDs)" grep -q "ADD $ID2/eth0" "$T/sluice.log"
