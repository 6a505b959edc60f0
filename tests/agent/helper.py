#!/usr/bin/env python3
# helper.py - client side of the agent tests: the local API (one JSON line each way per
# connection), JSON field extraction, HTTP GETs, concurrent and slow clients.
import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request


def call(sock, req, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock)
    s.sendall((req if isinstance(req, str) else json.dumps(req)).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            break
        buf += c
    s.close()
    return json.loads(buf)


def get(obj, path):
    for p in path.split("."):
        if p == "":
            continue
        obj = obj[int(p)] if isinstance(obj, list) else obj[p]
    return obj


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "call":  # call SOCK JSON -> prints the answer
        print(json.dumps(call(args[0], args[1])))
    elif cmd == "get":  # get PATH < JSON -> prints the value (JSON for objects)
        v = get(json.load(sys.stdin), args[0])
        print(v if isinstance(v, str) else json.dumps(v))
    elif cmd == "http":  # http URL -> "STATUS BODY..."
        try:
            r = urllib.request.urlopen(args[0], timeout=5)
            print(r.status, r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code, e.read().decode())
    elif cmd == "concurrent":  # concurrent SOCK N TEMPLATE_JSON: N adds, gets, dels at once
        sock, n, tmpl = args[0], int(args[1]), json.loads(args[2])
        errors, ids = [], {}
        barrier = threading.Barrier(n)

        def one(i):
            try:
                req = dict(tmpl, op="endpoint_add", containerID=f"conc{i}",
                           ip=tmpl["ip"].rsplit(".", 1)[0] + f".{10 + i}")
                barrier.wait()
                r = call(sock, req)
                if not r.get("ok"):
                    errors.append(f"add {i}: {r}")
                    return
                ids[i] = r["endpoint"]["id"]
                r = call(sock, {"op": "endpoint_get", "containerID": f"conc{i}", "ifname": "eth0"})
                if not r.get("ok") or r["endpoint"]["id"] != ids[i]:
                    errors.append(f"get {i}: {r}")
                r = call(sock, {"op": "status"})
                if not r.get("ok"):
                    errors.append(f"status {i}: {r}")
            except Exception as e:  # noqa: BLE001 - report every failure
                errors.append(f"client {i}: {e!r}")

        ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if len(set(ids.values())) != len(ids):
            errors.append(f"ids not distinct: {ids}")
        for e in errors:
            print(e, file=sys.stderr)
        print(json.dumps(sorted(ids.values())))
        sys.exit(1 if errors else 0)
    elif cmd == "slow":  # slow SOCK: a silent client and a half-line client do not block others
        sock = args[0]
        silent = socket.socket(socket.AF_UNIX)
        silent.connect(sock)
        partial = socket.socket(socket.AF_UNIX)
        partial.connect(sock)
        partial.sendall(b'{"op":"sta')
        t0 = time.monotonic()
        r = call(sock, {"op": "status"}, timeout=3)
        took = time.monotonic() - t0
        ok = r.get("ok") and took < 1.0
        # The silent client is dropped at the agent's deadline, without an answer.
        silent.settimeout(15)
        t0 = time.monotonic()
        data = silent.recv(100)
        waited = time.monotonic() - t0
        print(json.dumps({"status_took": round(took, 3), "silent_got": data.decode(),
                          "silent_closed_after": round(waited, 1)}))
        sys.exit(0 if ok and data == b"" and waited < 10 else 1)
    elif cmd == "raw":  # raw SOCK BYTES: send exactly these bytes (plus \n), print the answer
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(args[0])
        s.sendall(args[1].encode() + b"\n")
        print(s.recv(65536).decode().strip())
    elif cmd == "big":  # big SOCK: a request over the size limit gets a code 7 answer
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(args[0])
        try:
            s.sendall(b'{"op":"status","x":"' + b"a" * (1 << 21))
        except OSError:
            pass
        print(s.recv(65536).decode().strip())
    else:
        sys.exit(f"helper.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
