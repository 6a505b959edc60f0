# node.py - sandbox nodes: the underlay, a node's namespace and its link to the underlay, its
# sluice-agent (started, waited for, restarted, stopped), and removing a node again.
import fcntl
import os
import shutil
import time

from . import agent_api, netns
from .config import (BPFFS_MOUNT, CONFLIST_NAME, METRICS_ADDR, NODE_IFNAME, UNDERLAY_BRIDGE,
                     UNDERLAY_NET, SandboxError, binary)
from .proc import alive, run, spawn, stop


def _on_bpffs(path):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == path and fields[fields.index("-") + 1] == "bpf":
                return True
    return False


def ensure_bpffs():
    """bpffs on /sys/fs/bpf (what systemd mounts at boot; a fresh container has none). Same
    protocol as the agent (agent/loader.c): check and mount under a lock on /sys/fs, so that
    two starters never stack two mounts (the second would hide the first one's pins)."""
    fd = os.open(os.path.dirname(BPFFS_MOUNT), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not _on_bpffs(BPFFS_MOUNT):
            run(["mount", "-t", "bpf", "-o", "nosuid,nodev,noexec,mode=0700", "bpf",
                 BPFFS_MOUNT])
    finally:
        os.close(fd)


def create_underlay(lay):
    """The underlay: a bridge alone in its namespace; nothing routes out of it."""
    u = lay.underlay_netns
    if not netns.exists(u):
        netns.create(u)
    run(["ip", "link", "add", UNDERLAY_BRIDGE, "type", "bridge"], netns=u, check=False)
    run(["ip", "link", "set", UNDERLAY_BRIDGE, "up"], netns=u)


def create_node(lay, k):
    """Node K's namespace, its eth0 on the underlay (10.200.0.K/24), its directories."""
    n, u = lay.node_netns(k), lay.underlay_netns
    netns.create(n)
    port = lay.underlay_port(k)
    run(["ip", "link", "add", port, "type", "veth", "peer", "name", NODE_IFNAME, "netns", n],
        netns=u)
    run(["ip", "link", "set", port, "master", UNDERLAY_BRIDGE, "up"], netns=u)
    run(["ip", "addr", "add", f"{lay.node_ip(k)}/{UNDERLAY_NET.prefixlen}", "dev", NODE_IFNAME],
        netns=n)
    run(["ip", "link", "set", NODE_IFNAME, "up"], netns=n)
    # A node routes for its pods (inside its own namespace: the machine's sysctls stay as is).
    run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], netns=n)
    for d in (lay.node_state_dir(k), lay.node_cni_conf_dir(k), lay.node_ipam_dir(k)):
        os.makedirs(d, mode=0o700, exist_ok=True)
    os.makedirs(lay.bpffs_root, exist_ok=True)


# The sandbox's own routes between nodes carry this metric: agents that route from Node objects
# (issue 6) add theirs with the default metric 0, which wins, and the two never collide.
FALLBACK_METRIC = "1000"


def route_pod_cidrs(lay, st):
    """Each node routes the other nodes' pod ranges through their underlay address, as a
    fallback (metric FALLBACK_METRIC) under the routes agents make from Node objects."""
    keys = sorted(int(k) for k in st["nodes"])
    for k in keys:
        for j in keys:
            if j != k:
                run(["ip", "route", "replace", lay.pod_cidr(j), "via", lay.node_ip(j), "dev",
                     NODE_IFNAME, "proto", "static", "metric", FALLBACK_METRIC],
                    netns=lay.node_netns(k))


def unroute_pod_cidr(lay, st, k):
    for j in (int(x) for x in st["nodes"]):
        if j != k:
            run(["ip", "route", "del", lay.pod_cidr(k), "via", lay.node_ip(k), "metric",
                 FALLBACK_METRIC], netns=lay.node_netns(j), check=False)


def agent_argv(lay, k, kubernetes=True):
    kube = ["--kubeconfig", lay.kubeconfig] if kubernetes else []
    return [binary("agent/sluice-agent")] + kube + ["--node", lay.node_name(k),
            "--pod-cidr", lay.pod_cidr(k), "--bpffs", lay.node_bpffs(k),
            "--state-dir", lay.node_state_dir(k), "--cni-conf-dir", lay.node_cni_conf_dir(k),
            "--ipam-data-dir", lay.node_ipam_dir(k), "--metrics-addr", METRICS_ADDR,
            "--log-level", os.environ.get("SLUICE_AGENT_LOG_LEVEL", "info")] + \
        os.environ.get("SLUICE_AGENT_ARGS", "").split()  # extra flags (tests, benchmarks)


def start_agent(lay, k, kubernetes=True):
    """Start node K's agent in the node's namespace (with the sandbox's kubeconfig unless
    standalone); returns its process record."""
    return spawn(agent_argv(lay, k, kubernetes), lay.node_agent_log(k), netns=lay.node_netns(k))


def wait_agent_ready(lay, k, rec, timeout):
    """Block until the agent answers ready on its socket and has written its conflist."""
    deadline = time.monotonic() + timeout
    conflist = os.path.join(lay.node_cni_conf_dir(k), CONFLIST_NAME)
    st, why = agent_api.wait_ready(lay.node_sock(k), deadline, lambda: alive(rec))
    while st and not os.path.exists(conflist):
        if time.monotonic() >= deadline:
            why = f"ready, but {conflist} was not written"
            st = None
            break
        time.sleep(0.01)
    if st is None:
        log = lay.node_agent_log(k)
        raise SandboxError(f"{lay.node_name(k)}: sluice-agent {why} within {timeout:g}s; its log "
                           f"({log}) ends with:\n{log_tail(log)}")
    return st


def log_tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip() or "(empty)"
    except FileNotFoundError:
        return "(no log)"


def destroy_node(lay, k, rec):
    """Stop the agent, delete the namespace (pods' host veths go with it), pins and files."""
    stop(rec, timeout=10.0)
    netns.delete(lay.node_netns(k))
    if netns.exists(lay.underlay_netns):
        run(["ip", "link", "del", lay.underlay_port(k)], netns=lay.underlay_netns, check=False)
    shutil.rmtree(lay.node_bpffs(k), ignore_errors=True)
    shutil.rmtree(lay.node_dir(k), ignore_errors=True)
