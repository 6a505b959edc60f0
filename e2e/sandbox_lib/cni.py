# cni.py - the container runtime's side of CNI, done the way libcni (containerd, CRI-O) does it:
# read the node's conflist, build each plugin's request config, exec the plugin from CNI_PATH
# inside the node's namespace with the CNI_* environment, chain prevResult, cache the result
# for DEL and CHECK.
import glob
import json
import os

from .config import SandboxError, binary, build_dir
from .proc import in_netns, run

IFNAME = "eth0"


def cni_path():
    return f"{os.path.join(build_dir(), 'cni')}:/usr/lib/cni:/opt/cni/bin"


def load_conflist(conf_dir):
    """The first .conflist of the directory in lexical order, as runtimes pick it."""
    files = sorted(glob.glob(os.path.join(conf_dir, "*.conflist")))
    if not files:
        raise SandboxError(f"{conf_dir}: no .conflist (is the node's agent ready?)")
    path = files[0]
    try:
        with open(path) as f:
            conf = json.load(f)
    except ValueError as e:
        raise SandboxError(f"{path}: not valid JSON: {e}")
    for key in ("cniVersion", "name", "plugins"):
        if key not in conf:
            raise SandboxError(f"{path}: no {key!r}")
    if not isinstance(conf["plugins"], list) or not conf["plugins"]:
        raise SandboxError(f"{path}: 'plugins' must be a non-empty list")
    for i, p in enumerate(conf["plugins"]):
        t = p.get("type") if isinstance(p, dict) else None
        if not isinstance(t, str) or not t or "/" in t:
            raise SandboxError(f"{path}: plugins[{i}].type {t!r} is not a plugin name")
    return conf


def cni_args(ns, name, container_id, uid):
    return (f"IgnoreUnknown=1;K8S_POD_NAMESPACE={ns};K8S_POD_NAME={name};"
            f"K8S_POD_INFRA_CONTAINER_ID={container_id};K8S_POD_UID={uid}")


def _find_plugin(ptype):
    for d in cni_path().split(":"):
        path = os.path.join(d, ptype)
        if os.access(path, os.X_OK):
            return path
    raise SandboxError(f"CNI plugin {ptype!r}: not found in CNI_PATH {cni_path()}")


def _request(conflist, plugin, prev_result):
    """The request config: the plugin object plus the list's cniVersion and name (and
    prevResult when chained), as libcni's buildOneConfig makes it."""
    req = dict(plugin)
    req["cniVersion"] = conflist["cniVersion"]
    req["name"] = conflist["name"]
    if prev_result is not None:
        req["prevResult"] = prev_result
    return req


def exec_plugin(node_netns, command, plugin, req, container_id, netns_path, args):
    """Run one plugin; returns its decoded stdout (None when empty); SandboxError on failure,
    carrying the plugin's CNI error code and message."""
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "CNI_COMMAND": command, "CNI_CONTAINERID": container_id,
           "CNI_NETNS": netns_path, "CNI_IFNAME": IFNAME, "CNI_ARGS": args,
           "CNI_PATH": cni_path()}
    path = _find_plugin(plugin["type"])
    p = run(in_netns(node_netns) + [path], check=False, input=json.dumps(req), env=env)
    out = (p.stdout or "").strip()
    if p.returncode != 0:
        try:
            e = json.loads(out)
            msg = f"CNI error {e.get('code')}: {e.get('msg')}"
            if e.get("details"):
                msg += f" ({e['details']})"
        except ValueError:
            msg = f"exit {p.returncode}: {out or (p.stderr or '').strip()}"
        raise SandboxError(f"{plugin['type']} {command} for {container_id[:12]}: {msg}")
    if not out:
        return None
    try:
        return json.loads(out)
    except ValueError:
        raise SandboxError(f"{plugin['type']} {command}: stdout is not JSON: {out[:200]!r}")


def add(node_netns, conf_dir, container_id, netns_path, args, cache_path):
    """ADD through the chain; on failure DEL what was done (as containerd does) and raise.
    Writes the runtime's cache (config + result) to cache_path; returns the result."""
    binary("cni/sluice")  # a clear error if the build lacks the plugin
    conflist = load_conflist(conf_dir)
    cache = {"kind": "cniCacheV1", "containerId": container_id, "ifName": IFNAME,
             "netns": netns_path, "cniArgs": args, "config": conflist, "result": None}
    result = None
    try:
        for plugin in conflist["plugins"]:
            result = exec_plugin(node_netns, "ADD", plugin, _request(conflist, plugin, result),
                                 container_id, netns_path, args)
    except SandboxError:
        delete(node_netns, cache, netns_path, use_result=False)
        raise
    cache["result"] = result
    tmp = cache_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cache, f, indent=1)
    os.replace(tmp, cache_path)
    return result


def load_cache(cache_path):
    try:
        with open(cache_path) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def delete(node_netns, cache, netns_path, use_result=True):
    """DEL through the chain in reverse with the cached result as prevResult; errors collected
    and raised after every plugin has been called (best effort, like a runtime's teardown)."""
    conflist = cache["config"]
    prev = cache.get("result") if use_result else None
    errors = []
    for plugin in reversed(conflist["plugins"]):
        try:
            exec_plugin(node_netns, "DEL", plugin, _request(conflist, plugin, prev),
                        cache["containerId"], netns_path, cache["cniArgs"])
        except SandboxError as e:
            errors.append(str(e))
    if errors:
        raise SandboxError("; ".join(errors))


def check(node_netns, cache):
    """CHECK through the chain with the cached result, as CRI-O does after every ADD."""
    conflist = cache["config"]
    for plugin in conflist["plugins"]:
        exec_plugin(node_netns, "CHECK", plugin, _request(conflist, plugin, cache["result"]),
                    cache["containerId"], cache["netns"], cache["cniArgs"])


def pod_ip(result):
    """The IPv4 address of eth0 in an ADD result (without its prefix length)."""
    ifaces = result.get("interfaces") or []
    for ip in result.get("ips") or []:
        addr = ip.get("address", "")
        i = ip.get("interface")
        if ":" in addr:
            continue
        if i is None or (0 <= i < len(ifaces) and ifaces[i].get("name") == IFNAME):
            return addr.split("/")[0]
    raise SandboxError(f"CNI result has no IPv4 address on {IFNAME}: {json.dumps(result)}")


def host_ifname(result):
    """The node-side interface of the attachment (the result's interface without a sandbox)."""
    for i in result.get("interfaces") or []:
        if not i.get("sandbox") and i.get("name"):
            return i["name"]
    return None
