# config.py - where everything of one sandbox lives: directories, names, addresses, binaries.
#
# One sandbox = one directory (SLUICE_SANDBOX_DIR, default /run/sluice-sandbox) plus one name
# prefix (SLUICE_SANDBOX_PREFIX, default "slsb") that every network namespace and the bpffs
# directory carry, so that two sandboxes (parallel test runs) never touch each other's objects.
# The prefix is fixed at `up` and stored in the state; later commands read it from there.
import hashlib
import ipaddress
import os
import re

DEFAULT_DIR = "/run/sluice-sandbox"
DEFAULT_PREFIX = "slsb"
BPFFS_MOUNT = "/sys/fs/bpf"
NETNS_DIR = "/run/netns"

# Addresses. The underlay is a bridge in its own namespace: node K is UNDERLAY_NET.K, and
# nothing routes out of it. Node K's pods get POD_NET_FMT.format(K) (a /24 each).
UNDERLAY_NET = ipaddress.ip_network("10.200.0.0/24")
POD_CIDR_FMT = "10.244.{}.0/24"
MAX_NODES = 16
# Issue 5: the Kubernetes-API test server (e2e/kapi) runs in the underlay namespace on the
# bridge's address, so every node reaches it and nothing outside does; `kubectl` runs there too.
APISERVER_IP = str(UNDERLAY_NET.network_address + 254)
APISERVER_PORT = 6443
METRICS_ADDR = "127.0.0.1:9962"  # inside each node's namespace: reachable only from the node
NODE_IFNAME = "eth0"  # the node's underlay interface, as on a real machine
UNDERLAY_BRIDGE = "br-underlay"

CONFLIST_NAME = "10-sluice.conflist"
AGENT_SOCK = "agent.sock"

# No '-' in a prefix: names are PREFIX-…, so one sandbox's prefix never begins another's names.
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,15}$")
# Kubernetes names: a namespace is a DNS-1123 label, a pod name a DNS-1123 subdomain.
NS_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
POD_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
NETNS_NAME_MAX = 48


class SandboxError(Exception):
    """An error the user can act on: the message names what was wrong. exit_code 2 = usage."""

    def __init__(self, msg, exit_code=1):
        super().__init__(msg)
        self.exit_code = exit_code


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def e2e_dir():
    return os.path.join(repo_root(), "e2e")


_recorded_build = None


def use_recorded_build(path):
    """The build an existing sandbox was brought up with: its later commands keep using it."""
    global _recorded_build
    _recorded_build = path


def build_dir():
    """$SLUICE_BUILD, else the build the sandbox was brought up with, else <repo>/build."""
    return os.path.abspath(os.environ.get("SLUICE_BUILD") or _recorded_build or
                           os.path.join(repo_root(), "build"))


def binary(rel):
    """A built binary, e.g. binary('agent/sluice-agent'); errors name the missing file."""
    path = os.path.join(build_dir(), rel)
    if not os.access(path, os.X_OK):
        raise SandboxError(f"{path}: not built (run `make build`, or point SLUICE_BUILD at your "
                           f"meson build directory)")
    return path


def sandbox_dir():
    d = os.environ.get("SLUICE_SANDBOX_DIR") or DEFAULT_DIR
    if not os.path.isabs(d):
        raise SandboxError(f"SLUICE_SANDBOX_DIR={d}: must be an absolute path", 2)
    return os.path.normpath(d)


def env_prefix():
    p = os.environ.get("SLUICE_SANDBOX_PREFIX") or DEFAULT_PREFIX
    if not PREFIX_RE.match(p):
        raise SandboxError(f"SLUICE_SANDBOX_PREFIX={p}: want 1-16 characters of a-z and 0-9, "
                           f"starting with a letter", 2)
    return p


class Layout:
    """Every name and path of one sandbox, derived from its directory and prefix."""

    def __init__(self, directory, prefix):
        self.dir = directory
        self.prefix = prefix

    # files of the sandbox as a whole
    @property
    def state_file(self):
        return os.path.join(self.dir, "state.json")

    @property
    def lock_file(self):
        return os.path.join(self.dir, "lock")

    @property
    def kubeconfig(self):
        return os.path.join(self.dir, "kubeconfig")

    @property
    def bpffs_root(self):
        return os.path.join(BPFFS_MOUNT, self.prefix)

    @property
    def underlay_netns(self):
        return f"{self.prefix}-underlay"

    # nodes
    def node_name(self, k):
        return f"node-{k}"

    def node_netns(self, k):
        return f"{self.prefix}-node-{k}"

    def node_dir(self, k):
        return os.path.join(self.dir, f"node-{k}")

    def node_bpffs(self, k):
        return os.path.join(self.bpffs_root, f"node-{k}")

    def node_state_dir(self, k):
        return os.path.join(self.node_dir(k), "state")

    def node_cni_conf_dir(self, k):
        return os.path.join(self.node_dir(k), "cni-conf")

    def node_ipam_dir(self, k):
        return os.path.join(self.node_dir(k), "ipam")

    def node_agent_log(self, k):
        return os.path.join(self.node_dir(k), "agent.log")

    def node_sock(self, k):
        return os.path.join(self.node_state_dir(k), AGENT_SOCK)

    def node_ip(self, k):
        return str(UNDERLAY_NET.network_address + k)

    def underlay_port(self, k):
        return f"to-node-{k}"  # the bridge port in the underlay namespace

    def pod_cidr(self, k):
        return POD_CIDR_FMT.format(k)

    # pods
    def pod_netns(self, ns, name):
        base = f"{self.prefix}-p-{ns}-{name}"
        if len(base) <= NETNS_NAME_MAX:
            return base
        digest = hashlib.sha256(f"{ns}/{name}".encode()).hexdigest()[:10]
        return f"{base[:NETNS_NAME_MAX - 11]}-{digest}"

    def pod_dir(self, ns, name):
        return os.path.join(self.dir, "pods", f"{ns}_{name}")


def netns_path(name):
    return os.path.join(NETNS_DIR, name)


def parse_pod_ref(ref):
    """'NS/NAME' -> (ns, name); a SandboxError (usage) naming the problem otherwise."""
    if ref.count("/") != 1:
        raise SandboxError(f"{ref!r}: want NAMESPACE/NAME, e.g. default/a", 2)
    ns, name = ref.split("/")
    if not NS_RE.match(ns):
        raise SandboxError(f"{ref!r}: namespace {ns!r} is not a DNS-1123 label "
                           f"(lower-case letters, digits, '-', at most 63)", 2)
    if not POD_RE.match(name):
        raise SandboxError(f"{ref!r}: pod name {name!r} is not a DNS-1123 subdomain", 2)
    return ns, name
