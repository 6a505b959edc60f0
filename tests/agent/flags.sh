#!/usr/bin/env bash
# flags.sh - sluice-agent and sluicectl command lines: --help, bad flags (exit 2, the flag
# named), Kubernetes mode without a readable kubeconfig or token, unknown subcommands. No root needed.
set -uo pipefail
AGENT=${SLUICE_AGENT:?}
CTL=${SLUICECTL:?}
PASS=0
FAIL=0
T=$(mktemp -d /tmp/slt-ag-flags-XXXXXX)
trap 'rm -rf "$T"' EXIT
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

# run WANT_RC PATTERN DESCRIPTION CMD...: exit status and a stderr/stdout pattern.
run() {
	local want=$1 pat=$2 d=$3 rc=0 out
	shift 3
	out=$(env -u KUBERNETES_SERVICE_HOST "$@" 2>&1) || rc=$?
	if [ "$rc" -ne "$want" ]; then
		bad "$d: exit $rc, want $want ($out)"
	elif ! grep -Eq -- "$pat" <<<"$out"; then # not a pipe: pipefail + SIGPIPE
		bad "$d: output does not match /$pat/: $out"
	else
		ok "$d"
	fi
}

A=("$AGENT" --state-dir "$T/state" --bpffs "$T/bpffs" --cni-conf-dir "$T/net.d")
run 0 "--ipam-data-dir" "agent --help" "$AGENT" --help
for f in --node --kubeconfig --pod-cidr --bpffs --state-dir --cni-conf-dir --metrics-addr \
	--log-level --ipam-data-dir --cross-node-forwarding; do
	run 0 "$f" "--help mentions $f" "$AGENT" --help
done
run 2 "^sluice-agent: --pod-cidr: required in standalone" "standalone needs --pod-cidr" "${A[@]}"
run 2 "--pod-cidr: .*host bits" "pod cidr with host bits" "${A[@]}" --pod-cidr 10.0.0.1/24
run 2 "--pod-cidr: .*not an IPv4" "pod cidr not IPv4" "${A[@]}" --pod-cidr fd00::/64
run 2 "--pod-cidr: .*1\.\.30" "pod cidr /31" "${A[@]}" --pod-cidr 10.0.0.0/31
run 2 "--pod-cidr: missing value" "pod cidr without value" "${A[@]}" --pod-cidr
run 2 "--bpffs: .*absolute" "relative --bpffs" "${A[@]}" --pod-cidr 10.0.0.0/24 --bpffs x
run 2 "--state-dir: .*absolute" "empty --state-dir" "${A[@]}" --pod-cidr 10.0.0.0/24 --state-dir ""
run 2 "--cni-conf-dir: .*absolute" "relative --cni-conf-dir" "${A[@]}" --pod-cidr 10.0.0.0/24 \
	--cni-conf-dir net.d
run 2 "--metrics-addr: " "bad --metrics-addr" "${A[@]}" --pod-cidr 10.0.0.0/24 --metrics-addr 99
run 2 "--log-level: 'loud'" "bad --log-level" "${A[@]}" --pod-cidr 10.0.0.0/24 --log-level loud
run 2 "--node: " "bad --node" "${A[@]}" --pod-cidr 10.0.0.0/24 --node "Bad Name"
run 2 "--cross-node-forwarding: 'tunnel' is not one of fib, stack" "bad --cross-node-forwarding" \
	"${A[@]}" --pod-cidr 10.0.0.0/24 --cross-node-forwarding tunnel
run 2 "--frobnicate: unknown flag" "unknown flag" "${A[@]}" --pod-cidr 10.0.0.0/24 --frobnicate
run 2 "'stray': unexpected argument" "stray argument" "${A[@]}" --pod-cidr 10.0.0.0/24 -- stray
run 2 "'frob': unknown subcommand" "unknown subcommand" "$AGENT" frob --pod-cidr 10.0.0.0/24
run 2 "--kubeconfig: /nonexistent: No such file" "unreadable kubeconfig" "${A[@]}" \
	--kubeconfig /nonexistent
rc=0
out=$(KUBERNETES_SERVICE_HOST=10.96.0.1 "${A[@]}" 2>&1) || rc=$?
if [ $rc -eq 2 ] && grep -q "KUBERNETES_SERVICE_HOST (in-cluster token): .*token" <<<"$out"; then
	ok "in-cluster env selects kubernetes mode (and names the missing token)"
else
	bad "in-cluster env: exit $rc: $out"
fi
[ ! -e "$T/state" ] && ok "bad usage creates nothing" || bad "bad usage created $T/state"

run 0 "endpoint list" "sluicectl --help" "$CTL" --help
run 2 "'frob': unknown command" "sluicectl unknown command" "$CTL" frob
run 2 "endpoint: missing command" "sluicectl endpoint without command" "$CTL" endpoint
run 2 "-o: 'xml' is not text, json or yaml" "sluicectl bad -o" "$CTL" -o xml status
run 2 "--state-dir: .*absolute" "sluicectl relative --state-dir" "$CTL" --state-dir x status
run 1 "agent: +not reachable at $T/none/agent.sock" "sluicectl status without agent" \
	"$CTL" --state-dir "$T/none" --bpffs "$T/none" status
run 1 '"agent":[[:space:]]*"unreachable"' "sluicectl status -o json without agent" \
	"$CTL" --state-dir "$T/none" --bpffs "$T/none" -o json status
run 1 "sl_counters: No such file" "sluicectl counters without pins" \
	"$CTL" --bpffs "$T/none" counters

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
