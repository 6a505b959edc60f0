# cluster.py - the sandbox as a whole: up (underlay, nodes, agents), node add/del, wait-synced,
# and down, which removes everything the sandbox made even after a partial up.
import os
import json
import re
import shutil
import signal
import sys
import time

from . import agent_api, apiserver, kube, netns, node, pod
from .config import APISERVER_IP, MAX_NODES, UNDERLAY_BRIDGE, UNDERLAY_NET, SandboxError, \
    binary, build_dir
from .proc import alive, record, run, stop
from .state import current_layout, load, locked, node_keys


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def require_root():
    if os.geteuid() != 0:
        raise SandboxError("the sandbox needs root (network namespaces, bpffs, tc)")


def up(nodes=1, timeout=60.0, standalone=False):
    """The API server first (with TLS, a token, and the kubeconfig), then per node: its
    namespace, its Node object, its agent (--kubeconfig, or standalone)."""
    require_root()
    if not 1 <= nodes <= MAX_NODES:
        raise SandboxError(f"--nodes {nodes}: want 1..{MAX_NODES}", 2)
    binary("agent/sluice-agent")
    binary("cni/sluice")
    apiserver.kapi_script()
    lay = current_layout(must_exist=False)
    if load(lay) is not None:
        raise SandboxError(f"a sandbox exists already in {lay.dir} (`e2e/sandbox down` first, "
                           f"or set SLUICE_SANDBOX_DIR)")
    if os.path.isdir(lay.dir) and os.listdir(lay.dir):
        raise SandboxError(f"{lay.dir}: not empty and not a sandbox; SLUICE_SANDBOX_DIR must "
                           f"name a new or empty directory")
    leftovers = netns.list_with_prefix(lay.prefix)
    if leftovers:
        raise SandboxError(f"network namespaces {', '.join(leftovers)} are left from an earlier "
                           f"sandbox with prefix {lay.prefix}: `e2e/sandbox down` removes them")
    with locked(lay, create=True) as st:
        st["build"] = build_dir()
        st["mode"] = "standalone" if standalone else "kubernetes"
    node.ensure_bpffs()
    node.create_underlay(lay)
    # The bridge carries the API server's address: every node reaches it, nothing else does.
    run(["ip", "addr", "replace", f"{APISERVER_IP}/{UNDERLAY_NET.prefixlen}", "dev",
         UNDERLAY_BRIDGE], netns=lay.underlay_netns)
    start_apiserver(lay)
    for k in range(1, nodes + 1):  # every Node object first: each agent starts with all of them
        _create_node_object(lay, k)
    for k in range(1, nodes + 1):
        _add_node(lay, k, timeout)
    with locked(lay) as st:
        if len(st["nodes"]) > 1 and sandbox_routes(st):
            node.route_pod_cidrs(lay, st)
    return lay


def sandbox_routes(st):
    """Whether the sandbox routes pod ranges between nodes itself: always, as a fallback
    under the agents' own routes (node.FALLBACK_METRIC); SLUICE_SANDBOX_ROUTES=0 leaves
    routing to the agents alone (Kubernetes mode, to test that they do it)."""
    return st.get("mode") == "standalone" or os.environ.get("SLUICE_SANDBOX_ROUTES") != "0"


def start_apiserver(lay):
    rec = apiserver.start(lay)
    with locked(lay) as st:
        st["apiserver"] = rec
    say(f"API server: {apiserver.url()} in {lay.underlay_netns} (pid {rec['pid']}); "
        f"kubeconfig {lay.kubeconfig}")
    return rec


def stop_apiserver(lay):
    with locked(lay) as st:
        rec = st.get("apiserver")
    apiserver.stop_server(rec)
    with locked(lay) as st:
        st["apiserver"] = None


def restart_apiserver(lay):
    stop_apiserver(lay)
    return start_apiserver(lay)


def _add_node(lay, k, timeout):
    with locked(lay) as st:
        st["nodes"][str(k)] = {"name": lay.node_name(k), "netns": lay.node_netns(k),
                               "ip": lay.node_ip(k), "podCIDR": lay.pod_cidr(k), "agent": None}
        kubernetes = st.get("mode") != "standalone"
    node.create_node(lay, k)
    _create_node_object(lay, k)
    rec = node.start_agent(lay, k, kubernetes)
    with locked(lay) as st:
        st["nodes"][str(k)]["agent"] = record(rec)
    status = node.wait_agent_ready(lay, k, rec, timeout)
    say(f"{lay.node_name(k)}: {lay.node_netns(k)}, {lay.node_ip(k)}, pods {lay.pod_cidr(k)}, "
        f"agent pid {rec['pid']} ready ({status.get('mode', '?')} mode)")


def _create_node_object(lay, k):
    """Node K's object, as the node controller and kubelet make it (replacing a stale one)."""
    c = kube.Client(lay)
    try:
        want = kube.node_object(lay.node_name(k), lay.pod_cidr(k), lay.node_ip(k))
        try:
            have = c.get(f"/api/v1/nodes/{lay.node_name(k)}")
            if have.get("spec", {}).get("podCIDR") == lay.pod_cidr(k):
                return
            c.delete(f"/api/v1/nodes/{lay.node_name(k)}")
        except kube.ApiError as e:
            if e.code != 404:
                raise
        c.create("/api/v1/nodes", want)
    finally:
        c.close()


def node_add(timeout=60.0):
    require_root()
    lay = current_layout()
    with locked(lay) as st:
        used = node_keys(st)
    k = next(i for i in range(1, MAX_NODES + 2) if i not in used)
    if k > MAX_NODES:
        raise SandboxError(f"the sandbox has {MAX_NODES} nodes already")
    _add_node(lay, k, timeout)
    with locked(lay) as st:
        if sandbox_routes(st):
            node.route_pod_cidrs(lay, st)
    return k


def node_del(k):
    require_root()
    lay = current_layout()
    with locked(lay) as st:
        if str(k) not in st["nodes"]:
            raise SandboxError(f"node {k}: no such node", 2)
        if len(st["nodes"]) == 1:
            raise SandboxError(f"node {k} is the last node: `e2e/sandbox down` removes it all")
        pods = sorted(r for r, p in st["pods"].items() if p["node"] == k)
        rec = st["nodes"][str(k)]["agent"]
    errors = []
    for ref in pods:
        try:
            pod.delete(lay, ref)
        except SandboxError as e:
            errors.append(str(e))
    node.destroy_node(lay, k, rec)
    c = kube.Client(lay)
    try:
        c.delete(f"/api/v1/nodes/{lay.node_name(k)}")
    except SandboxError as e:
        errors.append(f"deleting the Node object: {e}")
    finally:
        c.close()
    with locked(lay) as st:
        del st["nodes"][str(k)]
        node.unroute_pod_cidr(lay, st, k)
    if errors:
        raise SandboxError("; ".join(errors))


RETRY_CODES = (410, 429, 500, 503, 504)


def wait_synced(timeout=30.0):
    """Every agent answers ready and, in Kubernetes mode, reports "synced" with the digest of
    the API server's current Pods, Namespaces, NetworkPolicies and Nodes (the contract in
    kube.sync_digest): what the server holds now is in every datapath. The server is listed
    again each round, so that changes made meanwhile are waited for too."""
    lay = current_layout()
    with locked(lay) as st:
        nodes = {k: st["nodes"][str(k)] for k in node_keys(st)}
        kubernetes = st.get("mode") != "standalone"
    deadline = time.monotonic() + timeout
    for k, n in nodes.items():
        rec = n.get("agent")
        if not alive(rec):
            raise SandboxError(f"{n['name']}: sluice-agent is not running (log: "
                               f"{lay.node_agent_log(k)})")
        st, why = agent_api.wait_ready(lay.node_sock(k), deadline, lambda: alive(rec))
        if st is None:
            raise SandboxError(f"{n['name']}: sluice-agent {why} within {timeout:g}s")
    if not kubernetes:
        return None
    c = kube.Client(lay)
    delay = 0.005
    try:
        while True:
            try:
                want, _ = c.sync_digest()
            except SandboxError as e:  # a restarting server, a forced 410: list again
                if time.monotonic() >= deadline:
                    raise SandboxError(f"not synced within {timeout:g}s: cannot list the API "
                                       f"server's objects: {e}")
                if isinstance(e, kube.ApiError) and e.code not in RETRY_CODES:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
                continue
            behind = []
            for k, n in nodes.items():
                st = agent_api.status(lay.node_sock(k))
                if st is None:
                    if not alive(n.get("agent")):
                        raise SandboxError(f"{n['name']}: sluice-agent exited (log: "
                                           f"{lay.node_agent_log(k)})")
                    behind.append(f"{n['name']}: no answer on its socket")
                elif not st.get("synced") or st.get("digest") != want:
                    behind.append(f"{n['name']}: synced={st.get('synced')} "
                                  f"digest={st.get('digest')}")
            if not behind:
                return want
            if time.monotonic() >= deadline:
                raise SandboxError(f"not synced within {timeout:g}s: the API server's digest "
                                   f"is {want}; " + "; ".join(behind))
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    finally:
        c.close()


def restart_agent(k, timeout=60.0, kill=False):
    """Stop node K's agent (SIGTERM, or SIGKILL: a crash) and start it again; returns when it
    is ready again."""
    lay = current_layout()
    with locked(lay) as st:
        if str(k) not in st["nodes"]:
            raise SandboxError(f"node {k}: no such node", 2)
        old = st["nodes"][str(k)]["agent"]
    stop(old, timeout=10.0, sig=signal.SIGKILL if kill else signal.SIGTERM)
    rec = node.start_agent(lay, k, st.get("mode") != "standalone")
    with locked(lay) as st:
        st["nodes"][str(k)]["agent"] = record(rec)
    node.wait_agent_ready(lay, k, rec, timeout)
    return rec


KUBECTL = "/usr/bin/kubectl"


def kubectl_argv(lay, args):
    """The real kubectl, inside the underlay namespace, with the sandbox's kubeconfig."""
    if not os.path.exists(lay.kubeconfig):
        raise SandboxError(f"{lay.kubeconfig}: no kubeconfig (the API server never started?)")
    exe = KUBECTL if os.access(KUBECTL, os.X_OK) else shutil.which("kubectl")
    if not exe:
        raise SandboxError("kubectl: not installed (/usr/bin/kubectl)")
    return (["nsenter", f"--net=/run/netns/{lay.underlay_netns}", "--", exe,
             "--kubeconfig", lay.kubeconfig, "--cache-dir", os.path.join(lay.dir, "kubectl-cache")]
            + list(args))


def kubectl_env(lay):
    env = dict(os.environ, KUBECONFIG=lay.kubeconfig)
    env.pop("KUBE_FEATURE_WatchListClient", None)
    return env


def apiserver_cmd(lay, action, fault=None, body="{}"):
    if action in ("stop", "restart"):
        stop_apiserver(lay)
    if action in ("start", "restart"):
        with locked(lay) as st:
            if apiserver.running(st):
                raise SandboxError("the API server runs already")
        start_apiserver(lay)
    if action == "status":
        with locked(lay) as st:
            up = apiserver.running(st)
        pid = (st.get("apiserver") or {}).get("pid")
        print(f"{apiserver.url()}: " + (f"running, pid {pid}" if up else "stopped"))
        return 0 if up else 1
    if action == "fault":
        if not fault:
            raise SandboxError("apiserver fault: name the ACTION (drop-watches, gone, compact, "
                               "pause, resume, restart)", 2)
        try:
            extra = json.loads(body)
        except ValueError as e:
            raise SandboxError(f"apiserver fault: JSON {body!r}: {e}", 2)
        if not isinstance(extra, dict):
            raise SandboxError(f"apiserver fault: JSON {body!r} is not an object", 2)
        c = kube.Client(lay)
        try:
            print(json.dumps(c.request("POST", "/_kapi/fault", dict(extra, action=fault))))
        finally:
            c.close()
    return 0


# What a sandbox directory may hold; anything else is not ours and stays (with a warning).
OWN_ENTRIES = re.compile(r"^(state\.json(\.tmp)?|lock|kubeconfig|apiserver.*|kubectl-cache|"
                         r"node-\d+|pods|\.kapi-.*)$")


def _remove_sandbox_dir(lay):
    """Remove what the sandbox put in its directory, then the directory if that left it empty
    (SLUICE_SANDBOX_DIR=/tmp by mistake must not cost anyone their files)."""
    foreign = []
    for e in os.listdir(lay.dir):
        path = os.path.join(lay.dir, e)
        if not OWN_ENTRIES.match(e):
            foreign.append(e)
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    if foreign:
        say(f"down: left {lay.dir} in place: it also holds {', '.join(sorted(foreign)[:5])}, "
            f"which the sandbox did not make")
        return False
    os.rmdir(lay.dir)
    return True


def down():
    """Remove everything: pods (CNI DEL while the agents still run), agents, namespaces, pins,
    files. Works from the state file when there is one, and from the name prefix regardless;
    idempotent."""
    require_root()
    lay = current_layout(must_exist=False)
    try:
        st = load(lay)
    except SandboxError:
        st = None
    removed = []
    if st:
        for ref, p in sorted(st.get("pods", {}).items()):
            agent = st.get("nodes", {}).get(str(p.get("node")), {}).get("agent")
            if alive(agent):
                try:
                    pod.delete(lay, ref, ignore_missing=True)
                except SandboxError as e:
                    say(f"down: {e} (continuing)")
            removed.append(f"pod {ref}")
        for k, n in sorted(st.get("nodes", {}).items()):
            stop(n.get("agent"), timeout=10.0)
        for p in st.get("pods", {}).values():
            stop(p.get("listener"))
        stop(st.get("apiserver"))
    # namespaces by name: pods first, then nodes (their agents), then the underlay
    names = netns.list_with_prefix(lay.prefix)
    order = sorted(names, key=lambda n: (not n.startswith(f"{lay.prefix}-p-"),
                                         n == lay.underlay_netns, n))
    for n in order:
        netns.delete(n)
        removed.append(f"netns {n}")
    if os.path.isdir(lay.bpffs_root):
        shutil.rmtree(lay.bpffs_root, ignore_errors=True)
        removed.append(f"pins {lay.bpffs_root}")
    if os.path.isdir(lay.dir):
        removed.append(f"directory {lay.dir}" if _remove_sandbox_dir(lay)
                       else f"the sandbox's files in {lay.dir}")
    left = netns.list_with_prefix(lay.prefix)
    if left or os.path.exists(lay.bpffs_root) or os.path.exists(lay.state_file):
        raise SandboxError(f"down: could not remove {', '.join(left)} "
                           f"{lay.bpffs_root if os.path.exists(lay.bpffs_root) else ''} "
                           f"{lay.dir if os.path.exists(lay.dir) else ''}".strip())
    return removed
