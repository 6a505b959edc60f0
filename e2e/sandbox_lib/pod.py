# pod.py - sandbox pods, set up as kubelet + a container runtime would: a network namespace,
# CNI ADD through the real plugin, a listener answering on the pod's ports; and torn down again
# with CNI DEL (twice, as containerd does: with the namespace, then without it).
import os
import re
import select
import shutil
import sys
import uuid

from . import cni, kube, netns
from .config import SandboxError, netns_path, parse_pod_ref
from .proc import record, spawn, stop
from .state import locked

PORT_RE = re.compile(r"^(?:([a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?):)?(\d{1,5})/([A-Za-z]+)$")
LABEL_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}"
                          r"[A-Za-z0-9])?$")
LABEL_VAL_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
LISTENER_READY_TIMEOUT = 10.0


def parse_port(text):
    """'[NAME:]PORT/PROTO' (a container port) -> {"name", "port", "proto"}."""
    m = PORT_RE.match(text)
    if not m:
        raise SandboxError(f"--port {text!r}: want NAME:PORT/PROTO, e.g. serve-80-tcp:80/TCP "
                           f"(NAME: at most 15 lower-case letters, digits, '-')", 2)
    name, port, proto = m.group(1), int(m.group(3)), m.group(4).lower()
    if not 1 <= port <= 65535:
        raise SandboxError(f"--port {text!r}: port {port} is not in 1..65535", 2)
    if proto not in ("tcp", "udp", "sctp"):
        raise SandboxError(f"--port {text!r}: protocol {proto!r} is not TCP, UDP or SCTP", 2)
    return {"name": name or f"p{port}-{proto}", "port": port, "proto": proto}


def parse_label(text):
    k, eq, v = text.partition("=")
    if not eq or not LABEL_KEY_RE.match(k) or not LABEL_VAL_RE.match(v):
        raise SandboxError(f"--label {text!r}: want KEY=VALUE with a Kubernetes label key and "
                           f"value", 2)
    return k, v


def start_listener(lay, ref, pod):
    """The pod's listener, inside its namespace; returns once every port listens."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "listener.py")
    r, w = os.pipe()
    try:
        argv = [sys.executable, script, "--netns", netns_path(pod["netns"]), "--pod", ref,
                "--sandbox", lay.dir, "--ready-fd", str(w)]
        argv += [f"{p['port']}/{p['proto']}" for p in pod["ports"]]
        rec = spawn(argv, os.path.join(lay.pod_dir(*ref.split("/")), "listener.log"),
                    pass_fds=(w,))
        os.close(w)
        w = -1
        ready, _, _ = select.select([r], [], [], LISTENER_READY_TIMEOUT)
        if not ready or os.read(r, 16) != b"ready\n":
            stop(rec)
            raise SandboxError(f"pod {ref}: listener did not start; see "
                               f"{lay.pod_dir(*ref.split('/'))}/listener.log")
        return record(rec)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def validate(ref, labels=(), ports=()):
    """Check a pod's arguments; returns (ns, name, labels dict, ports list)."""
    ns, name = parse_pod_ref(ref)
    lab = dict(parse_label(x) for x in labels)
    plist = [parse_port(x) for x in ports]
    seen = set()
    for p in plist:
        for key in (p["name"], (p["port"], p["proto"])):
            if key in seen:
                raise SandboxError(f"pod {ref}: port {key} given twice", 2)
            seen.add(key)
    return ns, name, lab, plist


def add(lay, ref, node=None, labels=(), ports=()):
    ns, name, lab, plist = validate(ref, labels, ports)
    with locked(lay) as st:
        if not st["nodes"]:
            raise SandboxError("the sandbox has no node")
        k = node if node is not None else min(int(x) for x in st["nodes"])
        if str(k) not in st["nodes"]:
            raise SandboxError(f"--node {k}: no such node (nodes: "
                               f"{', '.join(sorted(st['nodes']))})", 2)
        if ref in st["pods"]:
            raise SandboxError(f"pod {ref} exists already (on node {st['pods'][ref]['node']})")
        cid = os.urandom(32).hex()
        pod = {"node": k, "netns": lay.pod_netns(ns, name), "containerID": cid,
               "uid": str(uuid.uuid4()), "labels": lab, "ports": plist, "ip": None,
               "hostIfname": None, "listener": None, "phase": "Pending"}
        if netns.exists(pod["netns"]):
            raise SandboxError(f"pod {ref}: network namespace {pod['netns']} exists already "
                               f"(left over? `e2e/sandbox down` removes it)")
        st["pods"][ref] = pod  # recorded first, so that `down` finds it whatever happens next
    try:
        # As kubelet sees it: the Pod object exists (scheduled to node K) before the runtime
        # calls CNI ADD, so the agent can find its labels; its status follows the ADD.
        _create_object(lay, ns, name, k, lab, plist, pod)
        os.makedirs(lay.pod_dir(ns, name), exist_ok=True)
        netns.create(pod["netns"])
        result = cni.add(lay.node_netns(k), lay.node_cni_conf_dir(k), cid,
                         netns_path(pod["netns"]), cni.cni_args(ns, name, cid, pod["uid"]),
                         os.path.join(lay.pod_dir(ns, name), "cni-cache.json"))
        pod["ip"] = cni.pod_ip(result)
        pod["hostIfname"] = cni.host_ifname(result)
        if plist:
            pod["listener"] = start_listener(lay, ref, pod)
        _set_running(lay, ns, name, pod)
    except BaseException:
        _undo(lay, ref, pod)
        raise
    pod["phase"] = "Running"
    with locked(lay) as st:
        st["pods"][ref] = pod
    return pod


def _undo(lay, ref, pod):
    stop(pod.get("listener"))
    cache = cni.load_cache(os.path.join(lay.pod_dir(*ref.split("/")), "cni-cache.json"))
    if cache is not None:  # ADD succeeded, a later step failed
        try:
            cni.delete(lay.node_netns(pod["node"]), cache, netns_path(pod["netns"]))
        except SandboxError as e:
            print(f"pod {ref}: undoing ADD: {e}", file=sys.stderr)
    netns.delete(pod["netns"])
    shutil.rmtree(lay.pod_dir(*ref.split("/")), ignore_errors=True)
    if pod.get("object"):
        try:
            _delete_object(lay, *ref.split("/"))
        except SandboxError as e:
            print(f"pod {ref}: undoing the Pod object: {e}", file=sys.stderr)
    with locked(lay) as st:
        st["pods"].pop(ref, None)


def _create_object(lay, ns, name, k, labels, ports, pod):
    c = kube.Client(lay)
    try:
        c.ensure_namespace(ns)
        try:
            obj = c.create(f"/api/v1/namespaces/{ns}/pods",
                           kube.pod_object(ns, name, lay.node_name(k), labels, ports))
        except kube.ApiError as e:
            if e.code == 409:
                raise SandboxError(f"pod {ns}/{name}: the API server has a Pod of that name "
                                   f"already (`e2e/sandbox kubectl delete pod -n {ns} {name}`)")
            raise
        pod["object"] = True
        pod["uid"] = obj["metadata"]["uid"]
    finally:
        c.close()


def _set_running(lay, ns, name, pod):
    c = kube.Client(lay)
    try:
        c.merge_patch(f"/api/v1/namespaces/{ns}/pods/{name}/status",
                      kube.pod_running_status(pod["ip"], lay.node_ip(pod["node"])))
    finally:
        c.close()


def _delete_object(lay, ns, name):
    c = kube.Client(lay)
    try:
        c.delete(f"/api/v1/namespaces/{ns}/pods/{name}")
    finally:
        c.close()


def delete(lay, ref, ignore_missing=False):
    """CNI DEL as containerd does it (stop: with netns and prevResult; remove: again without
    netns), the listener stopped, the namespace deleted. Errors are raised after cleanup."""
    ns, name = parse_pod_ref(ref)
    with locked(lay) as st:
        pod = st["pods"].get(ref)
        if pod is None:
            if ignore_missing:
                return
            raise SandboxError(f"pod {ref}: no such pod")
        pod["phase"] = "Terminating"
    errors = []
    stop(pod.get("listener"))
    node_ns = lay.node_netns(pod["node"])
    cache = cni.load_cache(os.path.join(lay.pod_dir(ns, name), "cni-cache.json"))
    if cache is not None and netns.exists(node_ns):
        try:
            cni.delete(node_ns, cache, netns_path(pod["netns"]))
        except SandboxError as e:
            errors.append(f"DEL with the namespace: {e}")
    netns.delete(pod["netns"])
    if cache is not None and netns.exists(node_ns):
        try:
            cni.delete(node_ns, cache, "", use_result=False)
        except SandboxError as e:
            errors.append(f"second DEL without the namespace: {e}")
    shutil.rmtree(lay.pod_dir(ns, name), ignore_errors=True)
    try:
        _delete_object(lay, ns, name)
    except SandboxError as e:
        errors.append(f"deleting the Pod object: {e}")
    with locked(lay) as st:
        st["pods"].pop(ref, None)
    if errors:
        raise SandboxError(f"pod {ref}: " + "; ".join(errors))


def check(lay, ref):
    """CNI CHECK with the cached ADD result, as CRI-O does after every ADD."""
    ns, name = parse_pod_ref(ref)
    with locked(lay) as st:
        pod = find(st, ref)
    cache = cni.load_cache(os.path.join(lay.pod_dir(ns, name), "cni-cache.json"))
    if cache is None:
        raise SandboxError(f"pod {ref}: no cached CNI result")
    cni.check(lay.node_netns(pod["node"]), cache)


def find(st, ref):
    parse_pod_ref(ref)
    pod = st["pods"].get(ref)
    if pod is None:
        known = ", ".join(sorted(st["pods"])) or "none"
        raise SandboxError(f"pod {ref}: no such pod (pods: {known})", 2)
    if pod.get("phase") != "Running":
        raise SandboxError(f"pod {ref}: not running (phase {pod.get('phase')})")
    return pod
