#!/usr/bin/env python3
# test_apiserver_faults.py - the agents against an unreliable API server (two nodes):
#  1. the server restarted (stop, start: same state, same address): a change made afterwards
#     is enforced;
#  2. forced 410 Gone (e2e/kapi's fault hook: every watch ends with an ERROR 410 and the next
#     request answers 410) and a compacted history: the agents relist and converge;
#  3. a change made while the server was away: the server is stopped, a private copy of it
#     (same state file, on 127.0.0.1 inside the underlay, which no agent can reach) takes a
#     policy through kubectl and stops, the real one comes back: the change is enforced.
# Convergence is `wait-synced` (the agents' digest equals the server's), then probes.
import os
import subprocess
import sys

from harness import Sandbox, Tally, down_and_check, preflight
from sandbox_lib import apiserver, cluster, proc

PORTS = ["--port", "serve-80-tcp:80/TCP"]


def policy(name, ns="x"):
    return f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {ns}}}
spec:
  podSelector: {{matchLabels: {{pod: b}}}}
  policyTypes: [Ingress]
"""


def reach(sb, a="x/a", b="x/b", ok=True):
    return sb.probe(a, b, 80, "tcp", timeout=2 if ok else 0.5) == ok


def change_while_down(t, sb):
    sb.run("apiserver", "stop")
    lay = sb.layout
    private_kc = os.path.join(lay.dir, "apiserver-private.kubeconfig")
    rec = apiserver.start(lay, kubeconfig=private_kc, listen="127.0.0.1:6444")
    try:
        argv = cluster.kubectl_argv(lay, ["apply", "-f", "-"])
        argv[argv.index("--kubeconfig") + 1] = private_kc
        p = subprocess.run(argv, input=policy("made-while-down"), text=True,
                           capture_output=True, timeout=60, env=cluster.kubectl_env(lay))
        t.check(p.returncode == 0, "while the server is away: a policy applied elsewhere",
                p.stderr.strip())
    finally:
        proc.stop(rec, timeout=10)
        os.unlink(private_kc)
    t.check(reach(sb), "while the server is away: nothing changed yet, x/a -> x/b answers")
    sb.run("apiserver", "start")
    sb.run("wait-synced", "--timeout", 60, timeout=90)
    t.check(reach(sb, ok=False), "server back: the change made while it was away is enforced")
    sb.run("kubectl", "delete", "networkpolicy", "-n", "x", "made-while-down")
    sb.run("wait-synced", "--timeout", 60, timeout=90)
    t.check(reach(sb), "and deleting it is followed too")


def main():
    preflight()
    t = Tally("apiserver-faults")
    sb = Sandbox("kf")
    try:
        sb.run("up", "--nodes", 2, timeout=300)
        sb.run("pod", "add", "x/a", "--node", 1, "--label", "pod=a", *PORTS)
        sb.run("pod", "add", "x/b", "--node", 2, "--label", "pod=b", *PORTS)
        sb.run("wait-synced")
        t.check(reach(sb), "start: x/a -> x/b answers")

        sb.run("apiserver", "restart")
        sb.run("kubectl", "apply", "-f", "-", input=policy("after-restart"))
        sb.run("wait-synced", "--timeout", 60, timeout=90)
        t.check(reach(sb, ok=False), "server restarted: a later policy is enforced")

        sb.run("apiserver", "fault", "gone", '{"count": 4}')
        sb.run("kubectl", "delete", "networkpolicy", "-n", "x", "after-restart", check=False)
        sb.run("kubectl", "delete", "networkpolicy", "-n", "x", "after-restart",
               "--ignore-not-found")
        sb.run("wait-synced", "--timeout", 60, timeout=90)
        t.check(reach(sb), "forced 410: the agents relisted and saw the deletion")

        sb.run("apiserver", "fault", "compact")
        sb.run("apiserver", "fault", "drop-watches")
        sb.run("kubectl", "apply", "-f", "-", input=policy("after-compact"))
        sb.run("wait-synced", "--timeout", 60, timeout=90)
        t.check(reach(sb, ok=False), "history compacted, watches dropped: the agents converge")
        sb.run("kubectl", "delete", "networkpolicy", "-n", "x", "after-compact")
        sb.run("wait-synced", "--timeout", 60, timeout=90)

        change_while_down(t, sb)
    except Exception:
        t.crash("apiserver-faults")
    finally:
        down_and_check(t, sb)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
