#!/usr/bin/env python3
# cnitest.py - JSON helpers for the cni suite's shell tests: build a plugin request config from
# the conflist the agent wrote (as libcni does), read fields of results, talk to the agent.
#   cnitest.py conf CONFLIST [--version V] [--prev RESULT] [--set KEY=JSON]... [--valid ID/IF]...
#   cnitest.py get FILE KEY.PATH          (prints the value; lists/objects as JSON)
#   cnitest.py agent SOCK '{"op":...}'     (prints the agent's answer)
import json
import socket
import sys


def conf(args):
    conflist = json.load(open(args[0]))
    plugin = dict(conflist["plugins"][0])
    req = {"cniVersion": conflist["cniVersion"], "name": conflist["name"]}
    req.update(plugin)
    i = 1
    valid = None
    while i < len(args):
        opt, val = args[i], args[i + 1]
        i += 2
        if opt == "--version":
            req["cniVersion"] = val
        elif opt == "--prev":
            req["prevResult"] = json.load(open(val))
        elif opt == "--set":
            key, _, js = val.partition("=")
            obj = req
            parts = [key] if key.startswith("cni.dev/") else key.split(".")
            for p in parts[:-1]:
                obj = obj.setdefault(p, {})
            if js == "DELETE":
                obj.pop(parts[-1], None)
            else:
                obj[parts[-1]] = json.loads(js)
        elif opt == "--valid":
            valid = valid or []
            if val:
                cid, _, ifn = val.partition("/")
                valid.append({"containerID": cid, "ifname": ifn})
        else:
            sys.exit(f"unknown option {opt}")
    if valid is not None:
        req["cni.dev/valid-attachments"] = valid
        req["cni.dev/attachments"] = valid
    print(json.dumps(req))


def get(args):
    try:
        v = json.load(open(args[0]))
    except (OSError, ValueError):
        sys.exit(1)
    for p in args[1].split("."):
        try:
            v = v[int(p)] if isinstance(v, list) else v[p]
        except (KeyError, IndexError, ValueError, TypeError):
            sys.exit(1)
    print(json.dumps(v) if isinstance(v, (dict, list)) else v)


def agent(args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(args[0])
    s.sendall(args[1].encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    print(buf.decode().strip())


if __name__ == "__main__":
    {"conf": conf, "get": get, "agent": agent}[sys.argv[1]](sys.argv[2:])
