#!/usr/bin/env bash
# test_client.sh - real clients no one here wrote drive the plugin, inside the test node netns,
# against the conflist the agent wrote:
#  - podman 4.3 (CNI backend, libcni 1.1.2) with its own config, storage and network-config
#    dirs: it probes VERSION, calls ADD on run and DEL on stop (it never calls CHECK);
#  - libcni itself (Debian's golang-github-appc-cni-dev, built offline in GOPATH mode behind a
#    thin command line, libcni-driver/main.go) for ADD, CHECK (with its cached prevResult),
#    DEL and DEL again.
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

# --- libcni: ADD, CHECK, DEL through the library runtimes embed
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/containernetworking/cni/libcni ]; then
	echo "skip libcni part: golang-go and golang-github-appc-cni-dev are not installed (make deps)"
	exit
fi
mkdir -p "$T/gopath/src/libcni-driver" "$T/cnicache"
cp "$TESTS/libcni-driver/main.go" "$T/gopath/src/libcni-driver/"
check "libcni-driver builds offline against Debian's libcni" env GO111MODULE=off \
	GOPATH="$T/gopath:/usr/share/gocode" GOCACHE="$T/gocache" GOFLAGS= \
	go build -o "$T/libcni-driver" libcni-driver
lc() { # CMD ID NETNS: libcni-driver in the node; OUT/RC
	OUT=$(nsenter --net="/run/netns/$NODE" env CNI_PATH="$CNI_PATH_DIRS" CNI_CACHE_DIR="$T/cnicache" \
		CNI_ARGS_EXTRA="K8S_POD_NAMESPACE=lc;K8S_POD_NAME=$2" \
		"$T/libcni-driver" "$1" "$T/podman-net/10-sluice.conflist" "$2" "$3" eth0 2>"$T/lc.err")
	RC=$?
	ERR=$(cat "$T/lc.err")
}
add_pod_ns l1
lc validate x "$(pod_ns l1)"
check "libcni validates the conflist (VERSION of sluice and host-local)" test "$RC" = 0
lc add l1 "$(pod_ns l1)"
check "libcni ADD" test "$RC" = 0
printf '%s\n' "$OUT" >"$T/l1.json"
LIP=$(jget "$T/l1.json" ips.0.address | cut -d/ -f1)
check "libcni parsed the result: eth0 at interface 1 with our address" test \
	"$(jget "$T/l1.json" interfaces.1.name)/$(jget "$T/l1.json" ips.0.interface)/${LIP%.*}" = "eth0/1/${CIDR%.*}"
lc check l1 "$(pod_ns l1)"
check "libcni CHECK right after ADD (cached prevResult)" test "$RC" = 0
ip -n "$P-l1" addr del "$LIP/32" dev eth0
lc check l1 "$(pod_ns l1)"
check "libcni CHECK reports our drift message" bash -c "[ $RC != 0 ] && grep -q 'address $LIP/32 missing' <<<'$ERR'"
lc del l1 "$(pod_ns l1)"
check "libcni DEL" test "$RC" = 0
lc del l1 ""
check "libcni DEL again, empty netns, no cached result" test "$RC" = 0
check "nothing left after libcni" nothing_left
