#!/usr/bin/env python3
# k8s_helper.py - client side of the Kubernetes-mode agent tests: requests to the test API
# server, the wait-synced digest computed over the API's lists, a TCP server and probes, a
# long-lived TCP flow, and waiting for the agent to have applied a change.
import json
import os
import socket
import sys
import time
import urllib.request

KINDS = [("pods", "/api/v1/pods"), ("namespaces", "/api/v1/namespaces"),
         ("networkpolicies", "/apis/networking.k8s.io/v1/networkpolicies"),
         ("nodes", "/api/v1/nodes")]


def req(url, method, path, body=None, ctype="application/json"):
    data = None if body is None else (body if isinstance(body, bytes) else body.encode())
    r = urllib.request.Request(url + path, data=data, method=method,
                               headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def fnv(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def digest(url):
    total = 0
    for kind, path in KINDS:
        # The fault hook's 410s may land on our own list rather than the agent's: list again.
        for _ in range(50):
            st, lst = req(url, "GET", path)
            if st == 200 and isinstance(lst, dict) and "items" in lst:
                break
            time.sleep(0.02)
        else:
            raise RuntimeError("list %s: HTTP %d" % (path, st))
        for it in lst["items"]:
            md = it["metadata"]
            total += fnv("%s/%s/%s/%s" % (kind, md.get("namespace", ""), md["name"],
                                          md["resourceVersion"]))
    return "%016x" % (total & 0xFFFFFFFFFFFFFFFF)


def status(sock):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock)
    s.sendall(b'{"op":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            break
        buf += c
    s.close()
    return json.loads(buf)


def wait_synced(url, sock, timeout):
    """Until the agent's applied digest equals the API's; prints ms waited."""
    t0 = time.monotonic()
    want = digest(url)
    while time.monotonic() - t0 < timeout:
        try:
            st = status(sock)
            if st.get("synced") and st.get("digest") == want:
                print("%.1f" % ((time.monotonic() - t0) * 1000))
                return 0
        except OSError:
            pass
        time.sleep(0.001)
        if time.monotonic() - t0 > 1:
            want = digest(url)
    print("timeout: agent %s, API %s" % (status(sock).get("digest"), want), file=sys.stderr)
    return 1


def timed(url, sock, method, path, body, ctype, timeout=10):
    """The write, then the time until the agent's applied digest changes to the API's."""
    before = status(sock).get("digest")
    st, _ = req(url, method, path, body, ctype)
    t0 = time.monotonic()
    if st >= 300:
        print("write failed: %d" % st, file=sys.stderr)
        return 1
    while time.monotonic() - t0 < timeout:
        d = status(sock).get("digest")
        if d != before:
            ms = (time.monotonic() - t0) * 1000
            if d == digest(url):
                print("%.1f" % ms)
                return 0
            before = d  # an intermediate state: wait for the next one
        time.sleep(0.0005)
    print("timeout", file=sys.stderr)
    return 1


def serve(port):
    """TCP server: echoes every line back, one thread per connection."""
    import threading
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(64)

    def one(c):
        try:
            while True:
                d = c.recv(4096)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def probe(ip, port, timeout):
    try:
        s = socket.create_connection((ip, port), timeout=timeout)
        s.settimeout(timeout)
        s.sendall(b"x\n")
        ok = s.recv(10) == b"x\n"
        s.close()
        return 0 if ok else 1
    except OSError:
        return 1


def flow(ip, port, out, stop):
    """A long-lived TCP connection: one line every 20 ms; writes 'sent echoed' to out until
    the file stop exists; exits 1 on any error."""
    s = socket.create_connection((ip, port), timeout=3)
    s.settimeout(10)
    n = 0
    while not os.path.exists(stop):
        s.sendall(b"%d\n" % n)
        want = b"%d\n" % n
        got = b""
        while len(got) < len(want):
            d = s.recv(len(want) - len(got))
            if not d:
                raise SystemExit("flow: connection closed")
            got += d
        if got != want:
            raise SystemExit("flow: bad echo")
        n += 1
        with open(out + ".tmp", "w") as f:
            f.write("%d\n" % n)
        os.replace(out + ".tmp", out)
        time.sleep(0.02)
    s.close()
    return 0


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "req":  # req URL METHOD PATH [BODY [CTYPE]] -> prints "STATUS JSON"
        st, body = req(a[0], a[1], a[2], a[3] if len(a) > 3 else None,
                       a[4] if len(a) > 4 else "application/json")
        print(st, json.dumps(body))
        return 0 if st < 300 else 1
    if cmd == "digest":
        print(digest(a[0]))
        return 0
    if cmd == "wait-synced":  # URL SOCK TIMEOUT
        return wait_synced(a[0], a[1], float(a[2]))
    if cmd == "timed":  # URL SOCK METHOD PATH BODY [CTYPE] -> ms until applied
        return timed(a[0], a[1], a[2], a[3], a[4],
                     a[5] if len(a) > 5 else "application/json")
    if cmd == "serve":
        serve(int(a[0]))
    if cmd == "probe":  # IP PORT [TIMEOUT]
        return probe(a[0], int(a[1]), float(a[2]) if len(a) > 2 else 0.5)
    if cmd == "flow":  # IP PORT OUT STOPFILE
        return flow(a[0], int(a[1]), a[2], a[3])
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main())
