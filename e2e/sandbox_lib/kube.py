# kube.py - the sandbox's own client of its Kubernetes API server (what kubelet and the node
# controller would write: Pods, their status, Nodes, Namespaces), and the sync digest that
# `wait-synced` compares with the agents'. The server lives in the underlay namespace: the
# connection is opened from inside it (this thread enters the namespace for the connect only).
import http.client
import json
import os
import ssl
import urllib.parse

from . import netns
from .apiserver import paths
from .config import APISERVER_IP, APISERVER_PORT, SandboxError

# The kinds an agent watches, as wait-synced's digest names them, and where they are listed.
SYNC_KINDS = {"pods": "/api/v1/pods", "namespaces": "/api/v1/namespaces",
              "networkpolicies": "/apis/networking.k8s.io/v1/networkpolicies",
              "nodes": "/api/v1/nodes"}

FNV64_OFFSET = 0xcbf29ce484222325
FNV64_PRIME = 0x100000001b3
MASK64 = (1 << 64) - 1


class ApiError(SandboxError):
    def __init__(self, method, path, code, body):
        msg = body.get("message") if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"API {method} {path}: {code} {msg}")
        self.code = code
        self.reason = body.get("reason") if isinstance(body, dict) else None


class Client:
    """One keep-alive HTTPS connection to the sandbox's API server, with its token and CA."""

    def __init__(self, lay, timeout=10.0):
        p = paths(lay)
        self.lay = lay
        self.timeout = timeout
        try:
            with open(p["token"]) as f:
                self.token = f.read().strip()
        except FileNotFoundError:
            raise SandboxError("this sandbox has no API server (brought up --standalone?)")
        self.ctx = ssl.create_default_context(cafile=os.path.join(p["tls"], "ca.crt"))
        self.conn = None

    def _connect(self):
        c = http.client.HTTPSConnection(APISERVER_IP, APISERVER_PORT, timeout=self.timeout,
                                        context=self.ctx)
        with netns.entered(self.lay.underlay_netns):
            c.connect()
        return c

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, ctype="application/json"):
        """Decoded JSON answer; ApiError on an HTTP error, SandboxError when unreachable."""
        headers = {"Authorization": "Bearer " + self.token, "Accept": "application/json",
                   "User-Agent": "sluice-sandbox"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = ctype
        for attempt in (1, 2):  # a kept-alive connection may have been closed by the server
            try:
                if self.conn is None:
                    self.conn = self._connect()
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (OSError, http.client.HTTPException) as e:
                self.close()
                if attempt == 2:
                    raise SandboxError(f"API server {APISERVER_IP}:{APISERVER_PORT} "
                                       f"({method} {path}): {e}")
        try:
            ans = json.loads(raw) if raw else {}
        except ValueError:
            ans = raw.decode(errors="replace")
        if r.status >= 400:
            raise ApiError(method, path, r.status, ans)
        return ans

    # objects
    def get(self, path):
        return self.request("GET", path)

    def create(self, path, obj):
        return self.request("POST", path, obj)

    def merge_patch(self, path, patch):
        return self.request("PATCH", path, patch, "application/merge-patch+json")

    def delete(self, path, missing_ok=True):
        try:
            return self.request("DELETE", path, {"kind": "DeleteOptions", "apiVersion": "v1",
                                                 "gracePeriodSeconds": 0})
        except ApiError as e:
            if e.code == 404 and missing_ok:
                return None
            raise

    def ensure_namespace(self, ns):
        """The namespace exists afterwards (created as `kubectl create namespace` would)."""
        try:
            self.get(f"/api/v1/namespaces/{ns}")
            return
        except ApiError as e:
            if e.code != 404:
                raise
        try:
            self.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": ns}})
        except ApiError as e:
            if e.code != 409:
                raise

    def sync_digest(self):
        """The digest of wait-synced's contract: sum mod 2^64 over every Pod, Namespace,
        NetworkPolicy and Node of FNV-1a-64("<kind>/<namespace>/<name>/<resourceVersion>")."""
        total = 0
        counts = {}
        for kind, path in SYNC_KINDS.items():
            items = list_all(self, path)
            counts[kind] = len(items)
            for o in items:
                m = o.get("metadata", {})
                total += fnv1a64(f"{kind}/{m.get('namespace', '')}/{m['name']}/"
                                 f"{m['resourceVersion']}".encode())
        return f"{total & MASK64:016x}", counts


def list_all(client, path):
    """Every item of a list, following continue tokens."""
    items, cont = [], None
    while True:
        q = {"limit": "500"}
        if cont:
            q["continue"] = cont
        ans = client.get(path + "?" + urllib.parse.urlencode(q))
        items += ans.get("items") or []
        cont = (ans.get("metadata") or {}).get("continue")
        if not cont:
            return items


def fnv1a64(data):
    h = FNV64_OFFSET
    for b in data:
        h = ((h ^ b) * FNV64_PRIME) & MASK64
    return h


def node_object(name, pod_cidr, ip):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                  "kubernetes.io/os": "linux"}},
            "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
            "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                     {"type": "Hostname", "address": name}],
                       "conditions": [{"type": "Ready", "status": "True",
                                       "reason": "KubeletReady"}]}}


def pod_object(ns, name, node_name, labels, ports):
    container = {"name": "main", "image": "sluice-sandbox/listener"}
    if ports:
        container["ports"] = [{"name": p["name"], "containerPort": p["port"],
                               "protocol": p["proto"].upper()} for p in ports]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
            "spec": {"nodeName": node_name, "containers": [container]}}


def pod_running_status(ip, host_ip):
    return {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                       "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
                       "conditions": [{"type": "Ready", "status": "True"}]}}
