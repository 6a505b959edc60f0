#!/usr/bin/env bash
# test_lifecycle.sh - ADD/CHECK/DEL through a real sluice-agent, everything verified: link,
# address, routes, neighbour, tc filters, sysctls, agent entry, traffic; CHECK drift; DEL
# twice, with an empty CNI_NETNS, after the netns is gone; 0.3.1/0.4.0/1.1.0 configs; VERSION.
. "$(dirname "$0")/lib.sh"

setup_node
start_agent

# --- VERSION: env ignored (libcni probes with dummy values), input version echoed
OUT=$(echo '{"cniVersion":"0.4.0"}' | env -i CNI_COMMAND=VERSION CNI_NETNS=dummy CNI_IFNAME=dummy \
	CNI_PATH=dummy "$SLUICE")
check "VERSION echoes cniVersion and lists 0.3.1..1.1.0" test \
	"$OUT" = '{"cniVersion":"0.4.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]}'

# --- ADD
add_pod_ns p1
make_conf "$T/c1.json"
cni ADD c1 eth0 "$(pod_ns p1)" "$T/c1.json"
cp "$T/out.json" "$T/r1.json"
check "ADD succeeds" test "$RC" = 0
check "ADD: no libbpf noise on stderr (one clsact create)" bash -c "! grep -q libbpf $T/stderr.log"
IP=$(jget "$T/r1.json" ips.0.address | cut -d/ -f1)
HOST=$(jget "$T/r1.json" interfaces.0.name)
HOSTMAC=$(jget "$T/r1.json" interfaces.0.mac)
PODMAC=$(jget "$T/r1.json" interfaces.1.mac)
check "result: cniVersion echoed" test "$(jget "$T/r1.json" cniVersion)" = 1.0.0
check "result: host veth first, derived name" test "$HOST" = "$(veth_of c1 eth0)" -a "${#HOST}" -le 15
check "result: host veth has no sandbox" bash -c "! python3 $CNITEST get $T/r1.json interfaces.0.sandbox"
check "result: eth0 with sandbox" test "$(jget "$T/r1.json" interfaces.1.name)/$(jget "$T/r1.json" interfaces.1.sandbox)" = "eth0/$(pod_ns p1)"
check "result: ip /32 in the pod range, interface 1" test \
	"$(jget "$T/r1.json" ips.0.address)/$(jget "$T/r1.json" ips.0.interface)" = "$IP/32/1"
check "result: ip is in $CIDR" test "${IP%.*}" = "${CIDR%.*}"
check "result: default route via 169.254.1.1" test \
	"$(jget "$T/r1.json" routes.0.dst) $(jget "$T/r1.json" routes.0.gw)" = "0.0.0.0/0 169.254.1.1"
check "result: 1.0.0 ips carry no version" bash -c "! python3 $CNITEST get $T/r1.json ips.0.version"

# --- what ADD built
check "host veth up" bash -c "nsenter --net=/run/netns/$NODE ip -o link show $HOST | grep -q 'state UP'"
check "host veth mac matches result" bash -c "nsenter --net=/run/netns/$NODE ip -o link show $HOST | grep -q $HOSTMAC"
check "host veth: disable_ipv6=1" test "$(in_node cat /proc/sys/net/ipv6/conf/"$HOST"/disable_ipv6)" = 1
check "pod eth0: disable_ipv6=1 (no solicitations counted as drops)" test \
	"$(ip netns exec "$P-p1" cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6)" = 1
check "host veth: accept_ra=0" test "$(in_node cat /proc/sys/net/ipv6/conf/"$HOST"/accept_ra)" = 0
check "pod eth0 up with the result's mac" bash -c "ip -n $P-p1 -o link show eth0 | grep -q 'state UP.*$PODMAC'"
check "pod eth0 has $IP/32" bash -c "ip -n $P-p1 -o -4 addr show dev eth0 | grep -q 'inet $IP/32'"
check "pod default route via 169.254.1.1 onlink" bash -c \
	"ip -n $P-p1 route show default | grep -q 'default via 169.254.1.1 dev eth0.*onlink'"
check "pod permanent neighbour 169.254.1.1 -> host mac" bash -c \
	"ip -n $P-p1 neigh show 169.254.1.1 | grep -q 'lladdr $HOSTMAC PERMANENT'"
check "node route $IP/32 dev $HOST" bash -c \
	"nsenter --net=/run/netns/$NODE ip route show $IP | grep -q 'dev $HOST .*scope link'"
check "tc ingress: sl_from_pod handle 0x5c1 pref 1" bash -c \
	"nsenter --net=/run/netns/$NODE tc filter show dev $HOST ingress | grep -q 'pref 1 bpf.*handle 0x5c1 sl_from_pod'"
check "tc egress: sl_to_pod handle 0x5c1 pref 1" bash -c \
	"nsenter --net=/run/netns/$NODE tc filter show dev $HOST egress | grep -q 'pref 1 bpf.*handle 0x5c1 sl_to_pod'"
EP=$(agent_call '{"op":"endpoint_get","containerID":"c1","ifname":"eth0"}')
check "agent has the endpoint with ip, veth, macs, pod" python3 -c "
import json, sys
e = json.loads(sys.argv[1])['endpoint']
assert (e['ip'], e['hostIfname'], e['podMac'], e['hostMac'], e['pod'], e['namespace'], e['podUID']) == \
    ('$IP', '$HOST', '$PODMAC', '$HOSTMAC', 'c1', 'default', 'uid-c1'), e" "$EP"
check "host-local reserved $IP for c1/eth0" grep -q c1 "$IPAMDIR/$IP"
check "the endpoint is in the pinned sl_endpoints map" test "$(map_entries)" = 1
check "ping node -> pod" in_node ping -c 2 -i 0.2 -W 2 -q "$IP"
check "ping pod -> node" ip netns exec "$P-p1" ping -c 2 -i 0.2 -W 2 -q "$NODE_IP"

# --- CHECK
make_conf "$T/chk.json" --prev "$T/r1.json"
cni CHECK c1 eth0 "$(pod_ns p1)" "$T/chk.json"
check "CHECK right after ADD succeeds" test "$RC" = 0 -a -z "$OUT"
ip -n "$P-p1" neigh del 169.254.1.1 dev eth0
cni CHECK c1 eth0 "$(pod_ns p1)" "$T/chk.json"
check "CHECK: missing neighbour is drift" expect_error 105 "neighbour 169.254.1.1"
ip -n "$P-p1" neigh add 169.254.1.1 lladdr "$HOSTMAC" dev eth0 nud permanent
in_node tc filter del dev "$HOST" ingress pref 1 handle 0x5c1 bpf
cni CHECK c1 eth0 "$(pod_ns p1)" "$T/chk.json"
check "CHECK: detached program is drift" expect_error 105 "no tc ingress filter"
in_node ip route del "$IP/32" dev "$HOST"
cni CHECK c1 eth0 "$(pod_ns p1)" "$T/chk.json"
check "CHECK: missing host route is drift" expect_error 105 "route $IP/32 missing"
make_conf "$T/chk0.json"
cni CHECK c1 eth0 "$(pod_ns p1)" "$T/chk0.json"
check "CHECK without prevResult is an error naming it" expect_error 7 "prevResult"
make_conf "$T/chk31.json" --version 0.3.1 --prev "$T/r1.json"
cni CHECK c1 eth0 "$(pod_ns p1)" "$T/chk31.json"
check "CHECK with cniVersion 0.3.1 is error 1" expect_error 1 "CHECK"

# --- ADD again for the same attachment
cni ADD c1 eth0 "$(pod_ns p1)" "$T/c1.json"
check "second ADD of the same attachment fails, first one intact" bash -c \
	"[ $RC != 0 ] && grep -q '\"code\":.*106' $T/out.json && nsenter --net=/run/netns/$NODE ip link show $HOST >/dev/null"

# --- DEL, DEL again, DEL with empty netns
cni DEL c1 eth0 "$(pod_ns p1)" "$T/chk.json"
check "DEL succeeds" test "$RC" = 0 -a -z "$OUT"
check "DEL removed the veth, the reservation, the endpoint, the route" nothing_left
check "DEL removed eth0 from the pod" bash -c "! ip -n $P-p1 link show eth0 2>/dev/null"
cni DEL c1 eth0 "$(pod_ns p1)" "$T/c1.json"
check "DEL twice succeeds" test "$RC" = 0
cni DEL c1 eth0 "" "$T/c1.json"
check "DEL with empty CNI_NETNS, no prevResult succeeds" test "$RC" = 0

# --- DEL after the netns is gone (containerd's second DEL)
add_pod_ns p2
make_conf "$T/c2.json"
cni ADD c2 eth0 "$(pod_ns p2)" "$T/c2.json"
check "ADD c2" test "$RC" = 0
ip netns del "$P-p2"
cni DEL c2 eth0 "$(pod_ns p2)" "$T/c2.json"
check "DEL after the netns vanished succeeds" test "$RC" = 0
check "... and released everything" nothing_left
cni DEL c2 eth0 "" "$T/c2.json"
check "... and a second DEL with empty CNI_NETNS too" test "$RC" = 0

# --- CNI_NETNS as /proc/PID/ns/net (ctr run --cni), DEL after that process is gone
add_pod_ns p4
ip netns exec "$P-p4" sleep 600 &
HOLDER=$!
make_conf "$T/c4.json"
cni ADD c4 eth0 "/proc/$HOLDER/ns/net" "$T/c4.json"
check "ADD with CNI_NETNS=/proc/PID/ns/net" bash -c "[ $RC = 0 ] && ip -n $P-p4 -o -4 addr show dev eth0 | grep -q '/32'"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
cni DEL c4 eth0 "/proc/$HOLDER/ns/net" "$T/c4.json"
check "DEL with a /proc netns path whose process is gone" test "$RC" = 0
check "... released everything" nothing_left

# --- older and newer configs
for v in 0.3.1 0.4.0 1.1.0; do
	add_pod_ns "v$v"
	make_conf "$T/cv.json" --version "$v"
	cni ADD "cv${v//./}" eth0 "$(pod_ns "v$v")" "$T/cv.json"
	cp "$T/out.json" "$T/rv.json"
	check "ADD with cniVersion $v echoes it" test "$RC" = 0 -a "$(jget "$T/rv.json" cniVersion)" = "$v"
	case $v in
	0.*) check "$v result: ips carry version 4" test "$(jget "$T/rv.json" ips.0.version)" = 4 ;;
	1.1.0) check "1.1.0 result: ips carry no version" bash -c "! python3 $CNITEST get $T/rv.json ips.0.version" ;;
	esac
	if [ "$v" != 0.3.1 ]; then
		make_conf "$T/cvc.json" --version "$v" --prev "$T/rv.json"
		cni CHECK "cv${v//./}" eth0 "$(pod_ns "v$v")" "$T/cvc.json"
		check "CHECK with cniVersion $v" test "$RC" = 0
	fi
	cni DEL "cv${v//./}" eth0 "$(pod_ns "v$v")" "$T/cv.json"
	check "DEL with cniVersion $v" test "$RC" = 0
done

# --- mtu and a second interface in one pod
add_pod_ns p3
make_conf "$T/c3.json" --set mtu=1400
cni ADD c3 net1 "$(pod_ns p3)" "$T/c3.json"
check "ADD with mtu 1400 on net1" test "$RC" = 0
check "both ends have mtu 1400" bash -c "ip -n $P-p3 link show net1 | grep -q 'mtu 1400' && \
	nsenter --net=/run/netns/$NODE ip link show $(veth_of c3 net1) | grep -q 'mtu 1400'"
cni DEL c3 net1 "$(pod_ns p3)" "$T/c3.json"
check "DEL c3" test "$RC" = 0
check "nothing left at the end" nothing_left
check "plugin wrote nothing but JSON on stdout, logs in logFile" test -s "$T/sluice.log"
