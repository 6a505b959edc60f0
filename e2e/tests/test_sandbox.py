#!/usr/bin/env python3
# test_sandbox.py - the sandbox itself: usage errors, a failed (partial) up cleaned by down,
# several nodes with pods on each, node add/del, down twice; nothing left behind.
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from harness import Sandbox, Tally, leaks, preflight, wait_for


def usage_errors(t, sb):
    for args, want, what in (
            (["probe", "x/a"], 2, "probe without TO and PORT"),
            (["pod", "add", "X/a"], 2, "upper-case namespace"),
            (["pod", "add", "x/a", "--port", "http:99999/TCP"], 2, "port out of range"),
            (["pod", "add", "x/a", "--port", "http:80/ICMP"], 2, "port protocol ICMP"),
            (["pod", "add", "x/a", "--label", "=v"], 2, "label without key"),
            (["up", "--nodes", "0"], 2, "zero nodes"),
            (["pod", "add", "x/a"], 1, "pod add without a sandbox"),
            (["kubectl", "get", "pods"], 1, "kubectl before the API server exists")):
        p = sb.run(*args, check=False)
        t.check(p.returncode == want and p.stderr.strip(), f"{what}: exit {want} with a message",
                f"exit {p.returncode}: {p.stderr.strip()}")
    p = sb.run("down", check=False)
    t.check(p.returncode == 0, "down without a sandbox: nothing to do, exit 0", p.stderr)


def partial_up(t):
    """An agent that dies at start: up fails naming it; down removes what up had made."""
    sb = Sandbox("pu")
    fake = tempfile.mkdtemp(prefix="sluice-e2e-fakebuild-")
    try:
        os.makedirs(os.path.join(fake, "agent"))
        os.makedirs(os.path.join(fake, "cni"))
        agent = os.path.join(fake, "agent", "sluice-agent")
        with open(agent, "w") as f:
            f.write("#!/bin/sh\necho 'fake agent: refusing to start' >&2\nexit 1\n")
        os.chmod(agent, stat.S_IRWXU)
        shutil.copy("/bin/true", os.path.join(fake, "cni", "sluice"))
        sb.env["SLUICE_BUILD"] = fake
        p = sb.run("up", check=False)
        t.check(p.returncode == 1 and "refusing to start" in p.stderr,
                "up with a dying agent fails and shows the agent's log", p.stderr.strip())
        t.check(os.path.exists(f"/run/netns/{sb.layout.node_netns(1)}"),
                "the partial sandbox is left for inspection")
        t.check(sb.down(), "down after a partial up")
        left = leaks(sb)
        t.check(not left, "nothing left after a partial up + down", "; ".join(left))
    finally:
        shutil.rmtree(fake, ignore_errors=True)
        sb.down()


def nodes(t, sb):
    sb.run("up", "--nodes", "2")
    p = sb.run("up", check=False)
    t.check(p.returncode == 1 and "exists already" in p.stderr, "a second up is refused",
            p.stderr.strip())
    sb.run("pod", "add", "x/a", "--node", "1", "--port", "80/tcp")
    sb.run("pod", "add", "x/b", "--node", "2", "--port", "80/tcp", "--port", "80/sctp")
    t.check(sb.pod_ip("x/a").startswith("10.244.1.") and sb.pod_ip("x/b").startswith("10.244.2."),
            "pods take addresses from their node's range")
    p = sb.run("pod", "add", "x/a", check=False)
    t.check(p.returncode == 1 and "exists already" in p.stderr, "adding a pod twice is refused")
    p = sb.run("pod", "add", "x/z", "--node", "7", check=False)
    t.check(p.returncode == 2 and "no such node" in p.stderr, "--node of a missing node: exit 2")
    t.check(sb.probe("node-1", "node-2", 0, "icmp"), "node-1 -> node-2 over the underlay")
    t.check(sb.probe("x/a", "x/b", 80, "tcp"), "x/a (node-1) -> x/b (node-2) tcp")
    t.check(sb.probe("x/b", "x/a", 0, "icmp"), "x/b (node-2) -> x/a (node-1) icmp")
    p = sb.run("exec", "node-1", "--", "ip", "route", "get", "1.1.1.1", check=False)
    t.check(p.returncode != 0, "no route out of the sandbox", p.stdout.strip())
    root_links = subprocess.run(["ip", "-o", "link", "show"], text=True,
                                stdout=subprocess.PIPE).stdout
    root_routes = subprocess.run(["ip", "route", "show", "table", "all"], text=True,
                                 stdout=subprocess.PIPE).stdout
    ours = [p["hostIfname"] for p in sb.state()["pods"].values()] + ["br-underlay", "to-node-1"]
    t.check(not [n for n in ours if f" {n}:" in root_links or f" {n}@" in root_links],
            "no sandbox link in the machine's own namespace")
    t.check("10.244." not in root_routes and "10.200.0." not in root_routes,
            "no sandbox route in the machine's own namespace")
    out = sb.run("node", "add").stdout.strip()
    t.check(out == "node-3", "node add: node-3", out)
    sb.run("pod", "add", "y/c", "--node", "3", "--port", "80/tcp")
    t.check(sb.probe("y/c", "x/a", 80, "tcp"), "y/c (node-3) -> x/a (node-1) tcp")
    sb.run("node", "del", "2")
    st = sb.state()
    t.check("x/b" not in st["pods"] and "2" not in st["nodes"], "node del 2: node and pod gone")
    t.check(not os.path.exists(f"/run/netns/{sb.layout.node_netns(2)}") and
            not os.path.exists(sb.layout.node_bpffs(2)), "node del 2: namespace and pins gone")
    # the sandbox's fallback route goes with `node del`; an agent's own follows the Node
    # object's deletion, asynchronously: wait for that event, then look
    try:
        wait_for(lambda: "10.244.2.0/24" not in
                 sb.run("exec", "node-1", "--", "ip", "route").stdout, 10,
                 "node-1's route to node-2's pods to go")
    except RuntimeError:
        pass
    routes = sb.run("exec", "node-1", "--", "ip", "route").stdout
    t.check("10.244.2.0/24" not in routes, "node del 2: no route left to its pods", routes)
    t.check(sb.probe("y/c", "x/a", 80, "tcp"), "the other nodes still work")


def api_objects(t, sb):
    """What kubelet and the node controller would have written, seen through the real kubectl
    (it runs inside the underlay: the API server is reachable nowhere else)."""
    def get(*args):
        return json.loads(sb.run("kubectl", "get", "-o", "json", *args).stdout)
    nodes = {n["metadata"]["name"]: n for n in get("nodes")["items"]}
    t.check(sorted(nodes) == ["node-1", "node-3"], "Node objects follow node add/del",
            str(sorted(nodes)))
    n3 = nodes.get("node-3", {})
    t.check(n3.get("spec", {}).get("podCIDRs") == ["10.244.3.0/24"] and
            {"type": "InternalIP", "address": "10.200.0.3"} in n3.get("status", {})
            .get("addresses", []), "node-3: podCIDRs and InternalIP", json.dumps(n3)[:300])
    sb.run("pod", "add", "z/p", "--node", 3, "--label", "app=p", "--port", "web:80/TCP")
    pod = get("pod", "-n", "z", "p")
    c = pod["spec"]["containers"][0]
    t.check(pod["spec"].get("nodeName") == "node-3" and pod["metadata"]["labels"] ==
            {"app": "p"} and c["ports"][0]["name"] == "web" and c["ports"][0]["containerPort"]
            == 80, "pod add: the Pod object has node, labels and named ports",
            json.dumps(pod)[:300])
    t.check(pod["status"].get("phase") == "Running" and
            pod["status"].get("podIPs") == [{"ip": sb.pod_ip("z/p")}],
            "pod add: status Running with the CNI's address", json.dumps(pod["status"]))
    ns = get("namespace", "z")
    t.check(ns["metadata"]["labels"].get("kubernetes.io/metadata.name") == "z",
            "pod add: its namespace was created")
    sb.run("pod", "del", "z/p")
    p = sb.run("kubectl", "get", "pod", "-n", "z", "p", check=False)
    t.check(p.returncode != 0 and "NotFound" in p.stderr, "pod del: the Pod object is gone",
            p.stderr)
    digest = sb.run("wait-synced").stdout.strip()
    t.check(len(digest) == 16, "wait-synced: every agent has the server's digest", digest)


def parallel_pods(t, sb):
    """Pods added and deleted concurrently: the state stays whole, addresses distinct."""
    refs = [f"par/p{i}" for i in range(8)]
    procs = [sb.popen("pod", "add", r, "--node", "1", "--port", "80/tcp") for r in refs]
    outs = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    t.check(all(rc == 0 for _, _, rc in outs), "8 parallel pod adds succeed",
            "; ".join(err.strip() for _, err, rc in outs if rc))
    ips = [out.strip() for out, _, _ in outs]
    t.check(len(set(ips)) == len(ips), "8 parallel pod adds: distinct addresses", str(ips))
    m = json.loads(sb.run("matrix", "80", "tcp", "-o", "json").stdout)
    t.check(all(m[a][b] for a in refs for b in refs), "the 8 pods reach each other")
    procs = [sb.popen("pod", "del", r) for r in refs]
    rcs = [p.wait(timeout=120) for p in procs]
    t.check(rcs == [0] * len(refs), "8 parallel pod deletes succeed", str(rcs))
    st = sb.state()
    t.check(not any(r in st["pods"] for r in refs), "the state has none of them left")
    ipam = sb.layout.node_ipam_dir(1)
    held = sorted(f for _, _, fs in os.walk(ipam) for f in fs if f in ips)
    t.check(not held, "host-local released all 8 addresses", str(held))


def main():
    preflight()
    t = Tally("sandbox")
    sb = Sandbox("sb")
    try:
        usage_errors(t, sb)
    except Exception:
        t.crash("usage errors")
    try:
        partial_up(t)
    except Exception:
        t.crash("partial up")
    try:
        nodes(t, sb)
        api_objects(t, sb)
        parallel_pods(t, sb)
    except Exception:
        t.crash("nodes")
    finally:
        t.check(sb.down(), "down")
        t.check(sb.down(), "down again (idempotent)")
        left = leaks(sb)
        t.check(not left, "nothing left after down", "; ".join(left))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
