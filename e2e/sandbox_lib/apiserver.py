# apiserver.py - the sandbox's Kubernetes API server: e2e/kapi started inside the underlay
# namespace on APISERVER_IP:APISERVER_PORT with TLS and a bearer token, its state kept in a file
# so that a restart (stop, start) keeps every object and resourceVersion.
#
# Files (in the sandbox directory): apiserver-tls/{ca.crt,tls.crt,tls.key} (made once, at the
# first start, so that the CA in the kubeconfig stays valid across restarts), apiserver-token
# (0600), apiserver-state.json, apiserver.log (kapi's stderr), apiserver-requests.log, and the
# kubeconfig kapi writes (server https://APISERVER_IP:APISERVER_PORT, the CA and the token).
import contextlib
import os
import secrets
import sys
import time

from .config import APISERVER_IP, APISERVER_PORT, SandboxError, e2e_dir
from .proc import alive, record, spawn, stop

READY_TIMEOUT = 30.0


def paths(lay):
    d = lay.dir
    return {"tls": os.path.join(d, "apiserver-tls"),
            "token": os.path.join(d, "apiserver-token"),
            "state": os.path.join(d, "apiserver-state.json"),
            "log": os.path.join(d, "apiserver.log"),
            "requests": os.path.join(d, "apiserver-requests.log"),
            "ready": os.path.join(d, "apiserver.ready")}


def url():
    return f"https://{APISERVER_IP}:{APISERVER_PORT}"


def kapi_script():
    path = os.path.join(e2e_dir(), "kapi", "kapi.py")
    if not os.path.exists(path):
        raise SandboxError(f"{path}: the Kubernetes-API test server is missing")
    return path


def ensure_token(lay):
    p = paths(lay)["token"]
    if not os.path.exists(p):
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(24) + "\n")
    with open(p) as f:
        return f.read().strip()


def argv(lay, listen=None):
    """kapi's command line; the first start makes the TLS material, later ones reuse it."""
    p = paths(lay)
    ensure_token(lay)
    a = [sys.executable, kapi_script(), "--listen", listen or f"{APISERVER_IP}:{APISERVER_PORT}",
         "--token-file", p["token"], "--state-file", p["state"], "--log", p["requests"]]
    tls = p["tls"]
    if os.path.exists(os.path.join(tls, "tls.key")):
        a += ["--tls-cert", os.path.join(tls, "tls.crt"), "--tls-key",
              os.path.join(tls, "tls.key"), "--tls-ca", os.path.join(tls, "ca.crt")]
    else:
        a += ["--tls-self-signed", tls, "--tls-san", APISERVER_IP]
    return a


def start(lay, kubeconfig=None, listen=None):
    """Start kapi in the underlay namespace; returns its process record once it listens (it
    writes its ready file then). kubeconfig: where kapi writes one (default: the sandbox's)."""
    p = paths(lay)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(p["ready"])
    a = argv(lay, listen) + ["--kubeconfig-out", kubeconfig or lay.kubeconfig,
                             "--ready-file", p["ready"]]
    rec = spawn(a, p["log"], netns=lay.underlay_netns,
                env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    deadline = time.monotonic() + READY_TIMEOUT
    delay = 0.005
    while not os.path.exists(p["ready"]):
        if not alive(rec) or time.monotonic() >= deadline:
            stop(rec)
            raise SandboxError(f"the API server did not start within {READY_TIMEOUT:g}s; "
                               f"{p['log']} ends with:\n{tail(p['log'])}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return record(rec)


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip() or "(empty)"
    except FileNotFoundError:
        return "(no log)"


def running(st):
    return alive(st.get("apiserver"))


def stop_server(rec):
    stop(rec, timeout=10.0)
