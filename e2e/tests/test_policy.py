#!/usr/bin/env python3
# test_policy.py - NetworkPolicy through the real kubectl, end to end on two nodes: a deny-all
# flips probes to "no answer", an allow rule flips them back; a pod relabel and a namespace
# relabel move pods in and out of a rule; deleting the policies opens everything again. Every
# step waits with `wait-synced` (no sleeps), then probes.
import sys

from harness import Sandbox, Tally, down_and_check, preflight

PORTS = ["--port", "serve-80-tcp:80/TCP", "--port", "serve-80-udp:80/UDP"]
DENY_ALL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: web}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
ALLOW_FRONT = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-front, namespace: web}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from:
        - podSelector: {matchLabels: {role: front}}
        - namespaceSelector: {matchLabels: {team: ops}}
      ports: [{port: serve-80-tcp}]
"""


def expect(t, sb, what, want, timeout=0.5):
    """want: {(from, to, proto): bool}; one check per probe."""
    for (a, b, proto), ok in want.items():
        got = sb.probe(a, b, 80, proto, timeout=timeout if not ok else 2)
        t.check(got == ok, f"{what}: {a} -> {b} {proto} {'answers' if ok else 'is dropped'}",
                f"{'answered' if got else 'no answer'}")


def main():
    preflight()
    t = Tally("policy")
    sb = Sandbox("pol")
    try:
        sb.run("up", "--nodes", 2, timeout=300)
        sb.run("pod", "add", "web/api", "--node", 1, "--label", "app=api", *PORTS)
        sb.run("pod", "add", "web/front", "--node", 2, "--label", "role=none", *PORTS)
        sb.run("pod", "add", "ops/probe", "--node", 1, *PORTS)
        sb.run("wait-synced")
        pairs = [("web/front", "web/api", "tcp"), ("ops/probe", "web/api", "tcp"),
                 ("ops/probe", "web/api", "udp")]
        expect(t, sb, "no policy", {p: True for p in pairs})

        sb.run("kubectl", "apply", "-f", "-", input=DENY_ALL)
        sb.run("wait-synced")
        expect(t, sb, "deny-all", {p: False for p in pairs})
        t.check(sb.probe("web/api", "ops/probe", 80, "tcp"),
                "deny-all (ingress only): web/api still reaches ops/probe")

        sb.run("kubectl", "apply", "-f", "-", input=ALLOW_FRONT)
        sb.run("wait-synced")
        expect(t, sb, "allow rule, nobody matches yet", {p: False for p in pairs})

        sb.run("kubectl", "label", "pod", "-n", "web", "front", "role=front", "--overwrite")
        sb.run("wait-synced")
        expect(t, sb, "pod relabelled into the rule", {pairs[0]: True, pairs[1]: False})

        sb.run("kubectl", "label", "namespace", "ops", "team=ops")
        sb.run("wait-synced")
        expect(t, sb, "namespace relabelled into the rule",
               {pairs[0]: True, pairs[1]: True, pairs[2]: False})

        sb.run("kubectl", "label", "pod", "-n", "web", "front", "role-")
        sb.run("kubectl", "label", "namespace", "ops", "team-")
        sb.run("wait-synced")
        expect(t, sb, "both relabelled out again", {p: False for p in pairs})

        sb.run("kubectl", "delete", "networkpolicy", "-n", "web", "deny-all", "allow-front")
        sb.run("wait-synced")
        expect(t, sb, "policies deleted", {p: True for p in pairs})
    except Exception:
        t.crash("policy")
    finally:
        down_and_check(t, sb)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
