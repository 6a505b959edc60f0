#!/usr/bin/env python3
# standin_agent.py - a stand-in for sluice-agent's socket, for protocol-error tests only:
#   standin_agent.py SOCK refuse   answers every request {"ok":false,"code":7,"error":...}
#   standin_agent.py SOCK silent   accepts and never answers (the plugin must time out)
#   standin_agent.py SOCK garbage  answers with a line that is not JSON
# It creates SOCK, then serves until killed.
import os
import socket
import sys
import threading

path, mode = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(64)
held = []


def serve(c):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = c.recv(65536)
        if not chunk:
            return
        buf += chunk
    if mode == "refuse":
        c.sendall(b'{"ok":false,"code":7,"error":"stand-in refuses: pod range exhausted"}\n')
        c.close()
    elif mode == "garbage":
        c.sendall(b"this is not json\n")
        c.close()
    else:
        held.append(c)


while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
