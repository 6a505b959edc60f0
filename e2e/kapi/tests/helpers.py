"""helpers.py - shared test fixtures: a kapi server process, a small HTTP/watch client and
a kubectl wrapper with its own HOME and kubeconfig."""

import http.client
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KAPI = os.path.join(os.path.dirname(HERE), "kapi.py")
sys.path.insert(0, os.path.dirname(HERE))
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


class Server:
    """A kapi process on 127.0.0.1:<free port>; stopped (SIGTERM) by stop()."""

    def __init__(self, *args, tmp=None, tls=False, token=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="kapi-test-")
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        self.args = list(args)
        self.tls = tls
        self.token = token
        self.proc = None
        self.listen = "127.0.0.1:0"

    def start(self):
        cmd = [sys.executable, KAPI, "--listen", self.listen, "--kubeconfig-out",
               self.kubeconfig, "--ready-file", os.path.join(self.tmp, "ready"),
               "--log", os.path.join(self.tmp, "requests.log")] + self.args
        if self.tls:
            cmd += ["--tls-self-signed", os.path.join(self.tmp, "tls")]
        if self.token:
            cmd += ["--token", self.token]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            err = self.proc.stderr.read()
            self.proc.wait()
            raise RuntimeError("kapi did not start: %r %s" % (line, err))
        self.url = line
        hostport = line.split("://", 1)[1]
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.listen = "%s:%d" % (self.host, self.port)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- HTTP -----------------------------------------------------------------------------

    def conn(self, timeout=10, token=True):
        if self.tls:
            ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "tls", "ca.crt"))
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, ctype="application/json", token=None,
                timeout=10, headers=None):
        """(status, decoded JSON or text, response headers)."""
        c = self.conn(timeout)
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = ctype
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        tok = token if token is not None else self.token
        if tok:
            h["Authorization"] = "Bearer " + tok
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            raw = r.read()
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw.decode(errors="replace")
            return r.status, data, r.headers
        finally:
            c.close()

    def ok(self, method, path, body=None, ctype="application/json", want=(200, 201)):
        code, data, _ = self.request(method, path, body, ctype)
        if code not in want:
            raise AssertionError("%s %s -> %d %s" % (method, path, code, data))
        return data

    def watch(self, path, timeout=10):
        return Watch(self, path, timeout)

    def fault(self, **body):
        return self.ok("POST", "/_kapi/fault", body)

    def wait_watches(self, n, timeout=10):
        code, data, _ = self.request("GET", "/_kapi/wait?watches=%d&timeout=%s" % (n, timeout),
                                     timeout=timeout + 5)
        if code != 200:
            raise AssertionError("no %d watches after %ss: %s" % (n, timeout, data))

    # --- kubectl --------------------------------------------------------------------------

    def kubectl_env(self):
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, HOME=home, KUBECONFIG=self.kubeconfig)
        env.pop("KUBE_FEATURE_WatchListClient", None)
        return env

    def kubectl(self, *args, check=True, stdin=None, timeout=60):
        cmd = [KUBECTL, "--kubeconfig", self.kubeconfig, "--request-timeout=10s"] + list(args)
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                           env=self.kubectl_env(), timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s failed (%d): %s%s" % (" ".join(args),
                                                                 r.returncode, r.stdout,
                                                                 r.stderr))
        return r


class StreamCut(ConnectionError):
    """The watch stream ended without its terminating chunk."""


class Watch:
    """A watch stream read from a raw socket, checking the wire format: HTTP/1.1 200,
    chunked, one or more newline-terminated JSON events per chunk, a terminating chunk."""

    def __init__(self, server, path, timeout):
        sock = socket.create_connection((server.host, server.port), timeout)
        if server.tls:
            ctx = ssl.create_default_context(cafile=os.path.join(server.tmp, "tls", "ca.crt"))
            sock = ctx.wrap_socket(sock, server_hostname=server.host)
        self.sock = sock
        self.f = sock.makefile("rb")
        h = "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n" % (path,
                                                                               server.host)
        if server.token:
            h += "Authorization: Bearer %s\r\n" % server.token
        sock.sendall((h + "\r\n").encode())
        status = self.f.readline().decode()
        self.status = int(status.split()[1])
        self.headers = {}
        while True:
            line = self.f.readline().decode().strip()
            if not line:
                break
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.pending = []
        self.done = False
        if self.status == 200:
            assert self.headers.get("transfer-encoding") == "chunked", self.headers
            assert self.headers.get("content-type") == "application/json", self.headers

    def next(self):
        """The next event as a dict, or None after the terminating chunk."""
        while not self.pending:
            if self.done:
                return None
            size_line = self.f.readline()
            if not size_line:
                raise StreamCut("watch stream cut without a terminating chunk")
            size = int(size_line.strip(), 16)
            if size == 0:
                self.f.readline()
                self.done = True
                return None
            data = self.f.read(size)
            if len(data) != size or self.f.readline() != b"\r\n":
                raise StreamCut("watch stream cut inside a chunk")
            assert data.endswith(b"\n"), data
            self.pending = [json.loads(x) for x in data.split(b"\n")[:-1]]
        return self.pending.pop(0)

    def next_of(self, *types):
        while True:
            ev = self.next()
            if ev is None or ev["type"] in types:
                return ev

    def close(self):
        try:
            self.f.close()
        finally:
            self.sock.close()


def read_line_until(proc, needle, timeout):
    """Read proc.stdout (a binary pipe) until a line contains needle; returns the lines."""
    buf = getattr(proc, "_kapi_buf", b"")
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while True:
        lines = buf.split(b"\n")
        for i, line in enumerate(lines[:-1]):
            if needle.encode() in line:
                proc._kapi_buf = b"\n".join(lines[i + 1:])
                return [x.decode() for x in lines[:i + 1]]
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for %r; got %r" % (needle, buf))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            data = os.read(fd, 65536)
            if not data:
                raise AssertionError("stream ended before %r; got %r" % (needle, buf))
            buf += data


class ServerTest(unittest.TestCase):
    """One server per test class."""

    server_args = ()
    tls = False
    token = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(*cls.server_args, tls=cls.tls, token=cls.token).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()


def netpol(name, ns="demo", labels=None, spec=None):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": spec if spec is not None else {"podSelector": {}}}


def pod(name, ns="demo", node="node-1", labels=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1.36"}]}}


def namespace(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {}}}
