#!/usr/bin/env bash
# manifests.sh - manifests/ through the real kubectl against the test API server (e2e/kapi, on
# the loopback of the test's own netns): sluice.yaml passes a server-side dry run and a real
# apply, and the examples a server-side dry run; then the objects as kubectl converts them
# (create --dry-run=client -o json) are checked for what issue 8 asks: a read-only
# ClusterRole, a DaemonSet that is not privileged and has every required field.
. "$(dirname "$0")/lib.sh"
need_root
MAN=$HERE/../../manifests
setup_ns || exit 1
check "API server up" kapi_start || exit 1
kc() { in_ns kubectl --kubeconfig "$T/kubeconfig" "$@"; }

out=$(kc apply --dry-run=server -f "$MAN/sluice.yaml" 2>&1)
expect_eq "apply --dry-run=server sluice.yaml ($(tr '\n' ';' <<<"$out"))" "$?" 0
expect_eq "... nothing stored by the dry run" \
	"$(kc get clusterrole sluice -o name 2>/dev/null)" ""
out=$(kc apply -f "$MAN/sluice.yaml" 2>&1)
expect_eq "apply sluice.yaml ($(tr '\n' ';' <<<"$out"))" "$?" 0
for o in serviceaccount/sluice configmap/sluice-config daemonset.apps/sluice; do
	expect_eq "stored: kube-system $o" "$(kc -n kube-system get "$o" -o name 2>&1)" "$o"
done
for o in clusterrole.rbac.authorization.k8s.io/sluice \
	clusterrolebinding.rbac.authorization.k8s.io/sluice; do
	expect_eq "stored: $o" "$(kc get "$o" -o name 2>&1)" "$o"
done
out=$(kc apply -f "$MAN/sluice.yaml" 2>&1)
expect_match "second apply: unchanged" "$out" 'daemonset.apps/sluice unchanged'
kc create namespace demo >/dev/null 2>&1
for f in "$MAN"/examples/*.yaml; do
	out=$(kc -n demo apply --dry-run=server -f "$f" 2>&1)
	expect_eq "example $(basename "$f") passes a server-side dry run ($(tr "\n" ";" <<<"$out"))" "$?" 0
done

out=$(kc apply --dry-run=server -f "$MAN/uninstall.yaml" 2>&1)
expect_eq "uninstall.yaml passes a server-side dry run ($out)" "$?" 0
u=$(kc create --dry-run=client -o json -f "$MAN/uninstall.yaml" | python3 -c '
import json, sys
ds = json.load(sys.stdin)
pod = ds["spec"]["template"]["spec"]
c = pod["initContainers"][0]
print(pod.get("hostNetwork"), c["command"][-1], "privileged" in json.dumps(ds).replace(
    "\"privileged\": false", ""), c["securityContext"]["capabilities"]["drop"])')
expect_eq "uninstall DaemonSet: hostNetwork, runs cleanup, not privileged, drops ALL" "$u" \
	"True cleanup False ['ALL']"

kc create --dry-run=client -o json -f "$MAN/sluice.yaml" >"$T/objs.json" 2>"$T/objs.err"
expect_eq "kubectl converts sluice.yaml to JSON" "$?" 0
python3 - "$T/objs.json" >"$T/checks.out" 2>&1 <<'PY'
import json, sys

raw = open(sys.argv[1]).read()
dec, objs, i = json.JSONDecoder(), [], 0
while i < len(raw):                      # one JSON document per object, or a List
    if raw[i].isspace():
        i += 1
        continue
    o, i = dec.raw_decode(raw, i)
    objs.extend(o["items"] if o.get("kind") == "List" else [o])
by = {o["kind"]: o for o in objs}
passed = failed = 0

def expect(what, cond):
    global passed, failed
    if cond:
        passed += 1
        print("ok   - " + what)
    else:
        failed += 1
        print("FAIL - " + what)

expect("kinds: ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet",
       sorted(by) == sorted(["ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                             "ConfigMap", "DaemonSet"]))
rules = by["ClusterRole"]["rules"]
verbs = {v for r in rules for v in r["verbs"]}
expect("ClusterRole: no write verb (only get/list/watch): %s" % sorted(verbs),
       verbs <= {"get", "list", "watch"})
res = {(g, r) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}
expect("ClusterRole: exactly pods, namespaces, nodes, networkpolicies: %s" % sorted(res),
       res == {("", "pods"), ("", "namespaces"), ("", "nodes"),
               ("networking.k8s.io", "networkpolicies")})
crb = by["ClusterRoleBinding"]
expect("ClusterRoleBinding: ClusterRole sluice to kube-system/sluice",
       crb["roleRef"]["name"] == "sluice" and crb["subjects"] == [
           {"kind": "ServiceAccount", "name": "sluice", "namespace": "kube-system"}])

ds = by["DaemonSet"]
pod = ds["spec"]["template"]["spec"]
expect("no 'privileged: true' anywhere in the DaemonSet", '"privileged": true' not in
       json.dumps(ds).replace('"privileged":true', '"privileged": true'))
expect("hostNetwork", pod.get("hostNetwork") is True)
expect("priorityClassName system-node-critical",
       pod.get("priorityClassName") == "system-node-critical")
expect("tolerates every taint (operator Exists, no key)",
       any(t.get("operator") == "Exists" and not t.get("key") and not t.get("effect")
           for t in pod.get("tolerations", [])))
expect("updateStrategy RollingUpdate", ds["spec"]["updateStrategy"]["type"] == "RollingUpdate")
expect("serviceAccountName sluice", pod.get("serviceAccountName") == "sluice")
expect("seccomp RuntimeDefault",
       pod.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault")
inits = pod.get("initContainers", [])
expect("an init container installs the CNI binary",
       any("install-cni" in c.get("command", []) for c in inits))
agent = [c for c in pod["containers"] if c["name"] == "agent"]
expect("an agent container", len(agent) == 1)
a = agent[0]
allowed = {"NET_ADMIN", "NET_RAW", "BPF", "PERFMON", "SYS_ADMIN"}
for c in inits + pod["containers"]:
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    expect("%s: not privileged, no privilege escalation" % c["name"],
           sc.get("privileged") is not True and sc.get("allowPrivilegeEscalation") is False)
    expect("%s: drops ALL capabilities, adds only %s: %s" % (c["name"], sorted(allowed),
                                                                caps.get("add", [])),
           caps.get("drop") == ["ALL"] and set(caps.get("add", [])) <= allowed)
    expect("%s: read-only root filesystem" % c["name"], sc.get("readOnlyRootFilesystem") is True)
    expect("%s: resource requests" % c["name"], c.get("resources", {}).get("requests"))
    for m in c.get("volumeMounts", []):
        expect("%s: %s: no Bidirectional propagation (needs privileged)" % (c["name"],
                                                                            m["mountPath"]),
               m.get("mountPropagation") != "Bidirectional")
expect("agent adds NET_ADMIN, BPF, PERFMON",
       {"NET_ADMIN", "BPF", "PERFMON"} <= set(a["securityContext"]["capabilities"]["add"]))
expect("liveness probe on /healthz", a["livenessProbe"]["httpGet"]["path"] == "/healthz")
expect("readiness probe on /readyz", a["readinessProbe"]["httpGet"]["path"] == "/readyz")
expect("metrics port 9962",
       any(p["containerPort"] == 9962 for p in a.get("ports", [])))
vols = {v["name"]: v for v in pod["volumes"]}
def host_mount(c, path):
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        if v.get("hostPath", {}).get("path") == path:
            return m
for path in ["/sys/fs/bpf", "/run/sluice", "/etc/cni/net.d", "/var/run/netns"]:
    expect("agent mounts host %s" % path, host_mount(a, path))
expect("init container mounts host /opt/cni/bin",
       any(host_mount(c, "/opt/cni/bin") for c in inits))
expect("agent reads the ConfigMap sluice-config",
       any(v.get("configMap", {}).get("name") == "sluice-config" for v in vols.values()))
cm = by["ConfigMap"]["data"]
expect("ConfigMap paths match the hostPath volumes",
       cm.get("bpffs", "").startswith("/sys/fs/bpf") and cm.get("state-dir") == "/run/sluice"
       and cm.get("cni-conf-dir") == "/etc/cni/net.d")
expect("ConfigMap metrics-addr port = the probes' port",
       cm.get("metrics-addr", "").rsplit(":", 1)[-1] == "9962")
print("PY %d %d" % (passed, failed))
PY
grep -v '^PY ' "$T/checks.out"
read -r _ p f < <(grep '^PY ' "$T/checks.out" || echo "PY 0 1")
PASS=$((PASS + p))
FAIL=$((FAIL + f))
finish
