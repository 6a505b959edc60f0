#!/usr/bin/env bash
# test_parallel.sh - 50 ADDs at once get 50 distinct addresses and complete veths, CHECK passes
# on each, then 50 DELs at once release everything.
. "$(dirname "$0")/lib.sh"
N=${N:-50}

setup_node
start_agent
make_conf "$T/c.json"
for i in $(seq 1 "$N"); do add_pod_ns "q$i" || exit 1; done

run_one() { # CMD I: one plugin call, result in $T/par/CMD-I.{json,rc}
	local out rc
	out=$(nsenter --net="/run/netns/$NODE" env -i PATH="$PATH" CNI_COMMAND="$1" \
		CNI_CONTAINERID="par$2" CNI_NETNS="$(pod_ns "q$2")" CNI_IFNAME=eth0 \
		CNI_PATH="$CNI_PATH_DIRS" CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=par;K8S_POD_NAME=q$2" \
		"$SLUICE" <"${3:-$T/c.json}" 2>>"$T/stderr.log")
	rc=$?
	printf '%s\n' "$out" >"$T/par/$1-$2.json"
	echo "$rc" >"$T/par/$1-$2.rc"
}
mkdir -p "$T/par"
pids=()
for i in $(seq 1 "$N"); do run_one ADD "$i" & pids+=($!); done
wait "${pids[@]}"

okc=0
for i in $(seq 1 "$N"); do [ "$(cat "$T/par/ADD-$i.rc")" = 0 ] && okc=$((okc + 1)); done
check "$N parallel ADDs succeed ($okc)" test "$okc" = "$N"
ips=$(for i in $(seq 1 "$N"); do jget "$T/par/ADD-$i.json" ips.0.address; done | sort)
check "$N distinct addresses" test "$(echo "$ips" | sort -u | grep -c /32)" = "$N"
check "$N veths in the node" test "$(sl_links)" = "$N"
check "$N endpoints in the agent" test "$(agent_endpoints)" = "$N"
check "$N reservations" test "$(ipam_files)" = "$N"
bad=0
for i in $(seq 1 "$N"); do
	ip=$(jget "$T/par/ADD-$i.json" ips.0.address | cut -d/ -f1)
	ip -n "$P-q$i" -o -4 addr show dev eth0 | grep -q "inet $ip/32" || bad=$((bad + 1))
done
check "every pod has its own address on eth0" test "$bad" = 0
bad=0
for i in 1 $((N / 2)) "$N"; do
	ip=$(jget "$T/par/ADD-$i.json" ips.0.address | cut -d/ -f1)
	in_node ping -c 1 -W 2 -q "$ip" >/dev/null || bad=$((bad + 1))
done
check "node reaches the first, middle and last pod" test "$bad" = 0
bad=0
for i in $(seq 1 "$N"); do
	python3 "$CNITEST" conf "$CONFLIST" --prev "$T/par/ADD-$i.json" >"$T/par/chk-$i.conf"
	run_one CHECK "$i" "$T/par/chk-$i.conf"
	[ "$(cat "$T/par/CHECK-$i.rc")" = 0 ] || bad=$((bad + 1))
done
check "CHECK passes on all $N" test "$bad" = 0

pids=()
for i in $(seq 1 "$N"); do run_one DEL "$i" & pids+=($!); done
wait "${pids[@]}"
okc=0
for i in $(seq 1 "$N"); do [ "$(cat "$T/par/DEL-$i.rc")" = 0 ] && okc=$((okc + 1)); done
check "$N parallel DELs succeed ($okc)" test "$okc" = "$N"
check "nothing left after $N DELs" nothing_left
