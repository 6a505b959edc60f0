"""main.py - command line: options, TLS material, kubeconfig and ready files, state
persistence, signal handling."""

import argparse
import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading

from .resources import Registry
from .server import App
from .store import Store


def _parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError("--listen wants HOST:PORT, got %r" % s)
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def _atomic_write(path, data, mode=0o644):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".kapi-", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def self_signed(directory, sans):
    """Create ca.crt/ca.key and a server tls.crt/tls.key signed by it (openssl CLI)."""
    os.makedirs(directory, exist_ok=True)
    p = lambda n: os.path.join(directory, n)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ext = p("ext.cnf")
    alt = ",".join(("IP:" if _is_ip(s) else "DNS:") + s for s in sans)
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" % alt)
    cmds = [
        ["openssl", "req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.crt"),
         "-days", "3650", "-subj", "/CN=kapi-ca"],
        ["openssl", "req", *ec, "-keyout", p("tls.key"), "-out", p("tls.csr"),
         "-subj", "/CN=kapi"],
        ["openssl", "x509", "-req", "-in", p("tls.csr"), "-CA", p("ca.crt"), "-CAkey",
         p("ca.key"), "-CAcreateserial", "-out", p("tls.crt"), "-days", "3650",
         "-extfile", ext],
    ]
    for c in cmds:
        r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise SystemExit("kapi: tls: %s failed: %s" % (" ".join(c[:2]), r.stderr.strip()))
    return p("tls.crt"), p("tls.key"), p("ca.crt")


def _is_ip(s):
    import ipaddress
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def kubeconfig(url, ca_file=None, token=None, namespace="default"):
    lines = ["apiVersion: v1", "kind: Config", "clusters:", "- name: kapi", "  cluster:",
             "    server: %s" % url]
    if ca_file:
        with open(ca_file, "rb") as f:
            lines.append("    certificate-authority-data: %s"
                         % base64.b64encode(f.read()).decode())
    lines += ["contexts:", "- name: kapi", "  context:", "    cluster: kapi", "    user: kapi",
              "    namespace: %s" % namespace, "current-context: kapi", "users:",
              "- name: kapi", "  user:"]
    if token:
        lines.append("    token: %s" % json.dumps(token))
    else:
        lines[-1] = "  user: {}"
    return "\n".join(lines) + "\n"


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="kapi", description="Kubernetes-API test server")
    ap.add_argument("--listen", type=_parse_listen, default=("127.0.0.1", 0),
                    help="HOST:PORT to listen on (default 127.0.0.1:0: any free port)")
    ap.add_argument("--tls-cert", help="server certificate (PEM)")
    ap.add_argument("--tls-key", help="server private key (PEM)")
    ap.add_argument("--tls-ca", help="CA certificate written into --kubeconfig-out "
                    "(default: --tls-cert itself)")
    ap.add_argument("--tls-self-signed", metavar="DIR", help="create a CA and a server "
                    "certificate in DIR (ca.crt, tls.crt, tls.key) and serve TLS with them")
    ap.add_argument("--tls-san", action="append", default=[], help="extra subjectAltName "
                    "for --tls-self-signed (repeatable)")
    ap.add_argument("--token", action="append", default=[], help="accepted bearer token "
                    "(repeatable); with any token or token file, requests need one (401)")
    ap.add_argument("--token-file", action="append", default=[], help="file holding an "
                    "accepted bearer token, re-read when it changes (repeatable)")
    ap.add_argument("--state-file", help="load state from this JSON file if it exists and "
                    "save it there on every change (debounced) and at exit")
    ap.add_argument("--ready-file", help="write the server URL here once listening")
    ap.add_argument("--kubeconfig-out", help="write a kubeconfig for this server here")
    ap.add_argument("--history", type=int, default=10000, help="events kept for watches "
                    "resuming from a resourceVersion; older ones answer 410 (default 10000)")
    ap.add_argument("--bookmark-interval", type=float, default=60.0,
                    help="seconds between BOOKMARK events (default 60)")
    ap.add_argument("--continue-ttl", type=float, default=300.0,
                    help="seconds a list continue token stays valid (default 300)")
    ap.add_argument("--watch-queue", type=int, default=100000, help="events buffered per "
                    "watch before a slow watcher is dropped (default 100000)")
    ap.add_argument("--no-defaults", action="store_true", help="do not apply Pod and "
                    "NetworkPolicy defaults (protocol TCP, policyTypes, ...)")
    ap.add_argument("--no-tables", action="store_true", help="never answer meta.k8s.io "
                    "Tables (kubectl then prints only NAME and AGE)")
    ap.add_argument("--log", help="request log file ('-' for stderr)")
    a = ap.parse_args(argv)
    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if a.tls_self_signed and a.tls_cert:
        ap.error("--tls-self-signed and --tls-cert are exclusive")
    if a.history < 1 or a.bookmark_interval <= 0 or a.watch_queue < 1:
        ap.error("--history, --bookmark-interval and --watch-queue must be positive")
    return a


class Saver:
    """Writes the state file when the store changed, at most once a second, and at exit."""

    def __init__(self, store, path):
        self.store, self.path = store, path
        self.stopping = False
        self.thread = threading.Thread(target=self.run, name="kapi-saver", daemon=True)
        self.thread.start()

    def run(self):
        while True:
            with self.store.cond:
                self.store.cond.wait_for(lambda: self.store.dirty or self.stopping)
                if self.stopping:
                    return
            self.save()
            with self.store.cond:
                self.store.cond.wait_for(lambda: self.stopping, 1.0)

    def save(self):
        snap = self.store.snapshot()
        _atomic_write(self.path, json.dumps(snap, separators=(",", ":")), 0o600)

    def stop(self):
        with self.store.cond:
            self.stopping = True
            self.store.cond.notify_all()
        self.thread.join(5)
        self.save()


def _raise_fd_limit():
    """Each watch holds a socket and a pipe: allow as many as the hard limit permits."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20) if hard !=
                                                        resource.RLIM_INFINITY else 1 << 20,
                                                        hard))
    except (ImportError, ValueError, OSError):
        pass


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    _raise_fd_limit()
    host, port = a.listen
    registry = Registry()
    store = Store(registry, history=a.history, defaults=not a.no_defaults,
                  max_queue=a.watch_queue, continue_ttl=a.continue_ttl)
    if a.state_file and os.path.exists(a.state_file):
        try:
            with open(a.state_file) as f:
                store.load(json.load(f))
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit("kapi: state file %s: %s" % (a.state_file, e))
    cert, key, ca = a.tls_cert, a.tls_key, a.tls_ca
    if a.tls_self_signed:
        sans = ["127.0.0.1", "::1", "localhost"] + a.tls_san
        if host not in sans and host not in ("0.0.0.0", "::"):
            sans.append(host)
        cert, key, ca = self_signed(a.tls_self_signed, sans)
    tls = None
    if cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            tls.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as e:
            sys.exit("kapi: tls: cannot load %s / %s: %s" % (cert, key, e))
        tls.set_alpn_protocols(["http/1.1"])
        ca = ca or cert
    log = None
    if a.log == "-":
        log = sys.stderr
    elif a.log:
        log = open(a.log, "a")
    app = App(registry, store, a.token, a.token_file, tls, a.bookmark_interval, log,
              tables=not a.no_tables)
    try:
        host, port = app.listen(host, port)
    except OSError as e:
        sys.exit("kapi: listen on %s:%d: %s" % (host, port, e))
    shown = "127.0.0.1" if host == "0.0.0.0" else "::1" if host == "::" else host
    if ":" in shown:
        shown = "[%s]" % shown
    url = "%s://%s:%d" % ("https" if tls else "http", shown, port)
    if a.kubeconfig_out:
        tok = a.token[0] if a.token else None
        if tok is None and a.token_file:
            with open(a.token_file[0]) as f:
                tok = f.read().strip()
        _atomic_write(a.kubeconfig_out, kubeconfig(url, ca if tls else None, tok), 0o600)
    saver = Saver(store, a.state_file) if a.state_file else None
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    if a.ready_file:
        _atomic_write(a.ready_file, url + "\n")
    print(url, flush=True)
    done.wait()
    app.shutdown()
    if saver:
        saver.stop()
    return 0
