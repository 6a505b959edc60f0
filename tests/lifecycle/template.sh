#!/usr/bin/env bash
# template.sh - --conflist-template (the ConfigMap's conflist-template): the agent writes the
# admin's conflist, chained plugins and extra keys kept, its sluice plugin completed with the
# agent's stateDir and bpffs (always) and ipam (when absent), name/cniVersion when absent; a
# template without exactly one sluice plugin is a usage error (exit 2) before anything is made.
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1
printf '{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge"}]}' >"$T/bad.json"
out=$(in_ns "$AGENT" --pod-cidr 10.77.0.0/24 --bpffs "$BPFFS" --state-dir "$STATE" \
	--cni-conf-dir "$CNI" --conflist-template "$T/bad.json" 2>&1)
expect_eq "template without a sluice plugin: exit 2" "$?" 2
expect_match "... naming the flag and the problem" "$out" \
	'--conflist-template: .*no plugin of type "sluice"'
check "... nothing created" test ! -e "$STATE" -a ! -e "$CNI"
printf '{' >"$T/broken.json"
out=$(in_ns "$AGENT" --pod-cidr 10.77.0.0/24 --conflist-template "$T/broken.json" 2>&1)
expect_eq "template that is not JSON: exit 2 ($out)" "$?" 2

cat >"$T/tmpl.json" <<'J'
{
  "cniVersion": "1.0.0",
  "plugins": [
    {"type": "sluice", "mtu": 1400, "stateDir": "/somewhere/else"},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
J
check "agent ready with a template" start_agent --conflist-template "$T/tmpl.json"
got=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' \
	"$CNI/10-sluice.conflist")
want=$(python3 -c 'import json,sys; print(json.dumps({"cniVersion":"1.0.0",
 "cniVersions":["1.0.0","1.1.0"],"name":"sluice","plugins":[{"type":"sluice","mtu":1400,
 "stateDir":sys.argv[1],"bpffs":sys.argv[2],"ipam":{"type":"host-local",
 "ranges":[[{"subnet":"10.77.0.0/24"}]]}},{"type":"portmap",
 "capabilities":{"portMappings":True}}]}, sort_keys=True))' "$STATE" "$BPFFS")
expect_eq "conflist = the template, completed" "$got" "$want"
finish
