#!/usr/bin/env python3
# test_datapath.py - one node, real agent and CNI: pod<->pod TCP, UDP, ICMP and SCTP through
# the BPF path (the redirect counter moves: the host stack is bypassed), pod->node, a spoofed
# source dropped and counted, the matrix's JSON, pod deletion; then nothing left after down.
import json
import os
import subprocess
import sys

from harness import (E2E, SL_DIR_EGRESS, SL_DROP_SPOOFED_IP, SL_FWD_REDIRECT, Sandbox, Tally, down_and_check,
                     preflight)

LISTENER = os.path.join(E2E, "sandbox_lib", "listener.py")
PORTS = ["--port", "serve-80-tcp:80/TCP", "--port", "serve-80-udp:80/UDP",
         "--port", "serve-80-sctp:80/SCTP"]


def icmp_in_echos(sb, ref):
    """Echo requests the pod's kernel received (its netns' /proc/net/snmp)."""
    out = sb.run("exec", ref, "--", "cat", "/proc/net/snmp").stdout.splitlines()
    heads = [line.split() for line in out if line.startswith("Icmp:")]
    return int(heads[1][heads[0].index("InEchos")])


def same_node_traffic(t, sb):
    for a, b in (("x/a", "x/b"), ("x/b", "x/a")):
        for proto, port in (("tcp", 80), ("udp", 80), ("icmp", 0), ("sctp", 80)):
            before = sb.packets(SL_FWD_REDIRECT)
            ok = sb.probe(a, b, port, proto)
            moved = sb.packets(SL_FWD_REDIRECT) - before
            t.check(ok, f"{a} -> {b} {proto}: answered")
            # request and answer both leave a pod for a pod on this node: both are redirected
            t.check(moved >= 2, f"{a} -> {b} {proto}: redirected by BPF (host stack bypassed)",
                    f"SL_FWD_REDIRECT moved by {moved}")
    t.check(not sb.probe("x/a", "x/b", 81, "tcp", timeout=1), "nothing listens on 81: no answer")
    t.check(not sb.probe("x/a", "x/b", 81, "sctp", timeout=0.5),
            "no SCTP listener on 81: no INIT-ACK")


def pod_to_node(t, sb):
    t.check(sb.probe("x/a", "node-1", 0, "icmp"), "x/a -> node-1 (10.200.0.1) icmp")
    # a server on the node: the sandbox's own listener, started in the node's namespace
    r, w = os.pipe()
    lst = subprocess.Popen([sys.executable, LISTENER, "--netns",
                            f"/run/netns/{sb.layout.node_netns(1)}", "--pod", "node-1",
                            "--ready-fd", str(w), "8080/tcp", "8080/udp"], pass_fds=(w,),
                           stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        t.check(os.read(r, 16) == b"ready\n", "a TCP/UDP listener on node-1")
        t.check(sb.probe("x/a", "node-1", 8080, "tcp"), "x/a -> node-1:8080 tcp")
        t.check(sb.probe("x/b", "node-1", 8080, "udp"), "x/b -> node-1:8080 udp")
        t.check(sb.probe("node-1", "x/a", 80, "tcp"), "node-1 -> x/a:80 tcp")
    finally:
        os.close(r)
        lst.terminate()
        lst.wait()


def spoofing(t, sb):
    b_ip = sb.pod_ip("x/b")
    spoofed = "10.244.1.250"
    sb.run("exec", "x/a", "--", "ip", "addr", "add", f"{spoofed}/32", "dev", "eth0")
    drops = sb.packets(SL_DROP_SPOOFED_IP, directions=(SL_DIR_EGRESS,))
    echos = icmp_in_echos(sb, "x/b")
    p = sb.run("exec", "x/a", "--", "ping", "-c", "5", "-i", "0.05", "-W", "1", "-I", spoofed,
               b_ip, check=False)
    t.check(p.returncode != 0, "ping from a forged source gets no answer")
    dropped = sb.packets(SL_DROP_SPOOFED_IP, directions=(SL_DIR_EGRESS,)) - drops
    t.check(dropped >= 5, "forged source dropped and counted (SL_DROP_SPOOFED_IP)",
            f"moved by {dropped}")
    t.check(icmp_in_echos(sb, "x/b") == echos, "nothing arrived in x/b",
            f"InEchos {echos} -> {icmp_in_echos(sb, 'x/b')}")
    sb.run("exec", "x/a", "--", "ip", "addr", "del", f"{spoofed}/32", "dev", "eth0")
    t.check(sb.probe("x/a", "x/b", 0, "icmp"), "x/a's own address still works")


def matrix(t, sb):
    sb.run("pod", "add", "y/c", *PORTS)
    m = json.loads(sb.run("matrix", "80", "tcp", "-o", "json").stdout)
    pods = ["x/a", "x/b", "y/c"]
    t.check(sorted(m) == pods and all(sorted(m[p]) == pods for p in pods),
            "matrix JSON names every ordered pair", json.dumps(m))
    t.check(all(m[a][b] is True for a in pods for b in pods), "matrix tcp/80: all answer",
            json.dumps(m))
    m = json.loads(sb.run("matrix", "80", "sctp", "-o", "json").stdout)
    t.check(all(m[a][b] is True for a in pods for b in pods), "matrix sctp/80: all answer",
            json.dumps(m))
    m = json.loads(sb.run("matrix", "81", "udp", "--timeout", "0.5", "-o", "json").stdout)
    t.check(all(m[a][b] is False for a in pods for b in pods), "matrix udp/81: none answer",
            json.dumps(m))


def cni_check(t, sb):
    t.check(sb.run("pod", "check", "x/a", check=False).returncode == 0,
            "CNI CHECK right after ADD passes (as CRI-O runs it)")
    sb.run("exec", "y/c", "--", "ip", "route", "del", "default")
    p = sb.run("pod", "check", "y/c", check=False)
    t.check(p.returncode == 1 and "route" in p.stderr, "CNI CHECK reports a missing route",
            p.stderr.strip())


def pod_delete(t, sb):
    ip = sb.pod_ip("y/c")
    ipam = sb.layout.node_ipam_dir(1)
    netns = sb.layout.pod_netns("y", "c")
    sb.run("pod", "del", "y/c")
    t.check(not os.path.exists(f"/run/netns/{netns}"), "pod del: namespace gone")
    held = [f for _, _, fs in os.walk(ipam) for f in fs if f == ip]
    t.check(not held, f"pod del: host-local released {ip}", str(held))
    p = sb.run("probe", "x/a", "y/c", "80", check=False)
    t.check(p.returncode == 2, "probe to a deleted pod: exit 2 naming it", p.stderr.strip())


def main():
    preflight()
    t = Tally("datapath")
    sb = Sandbox("dp")
    try:
        sb.run("up")
        with open(os.path.join(sb.layout.node_cni_conf_dir(1), "10-sluice.conflist")) as f:
            conflist = json.load(f)
        t.check(json.dumps(conflist).find(sb.dir) >= 0,
                "the agent's conflist keeps IPAM and state inside the sandbox")
        sb.run("pod", "add", "x/a", "--label", "pod=a", *PORTS)
        sb.run("pod", "add", "x/b", "--label", "pod=b", *PORTS)
        for step in (same_node_traffic, pod_to_node, spoofing, matrix, cni_check, pod_delete):
            try:
                step(t, sb)
            except Exception:
                t.crash(step.__name__)
    except Exception:
        t.crash("setup")
    finally:
        down_and_check(t, sb)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
