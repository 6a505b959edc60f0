# agent_api.py - a client of the agent's local API (common/agent_proto.h): one JSON request
# line per connection on <state-dir>/agent.sock, one JSON answer line back.
import json
import socket
import time


def call(sock_path, req, timeout=2.0):
    """Send req, return the decoded answer; OSError/ValueError when no (valid) answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return json.loads(buf)
    finally:
        s.close()


def status(sock_path, timeout=2.0):
    """The agent's status object, or None if it does not answer (yet)."""
    try:
        ans = call(sock_path, {"op": "status"}, timeout)
    except (OSError, ValueError):
        return None
    return ans if isinstance(ans, dict) and ans.get("ok") else None


def wait_ready(sock_path, deadline, is_alive=lambda: True):
    """Poll status until ready; returns the status, or the reason it did not get ready."""
    delay = 0.01
    while True:
        st = status(sock_path)
        if st and st.get("ready"):
            return st, None
        if not is_alive():
            return None, "the agent exited"
        if time.monotonic() >= deadline:
            return None, "not ready in time" if st else "its socket does not answer"
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
