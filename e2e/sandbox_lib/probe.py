# probe.py - the client side of connectivity checks: from inside one pod (or node), does a
# request reach a target and its answer come back? TCP, UDP, SCTP (raw INIT / INIT-ACK) and
# ICMP echo. Sockets are opened in the source's namespace by this thread (setns), so a matrix
# runs as many probes in parallel as it likes without starting processes.
import ipaddress
import os
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

from . import netns, sctp
from .config import SandboxError
from .pod import find

PROTOS = ("tcp", "udp", "sctp", "icmp")
ICMP_ECHO_REPLY, ICMP_ECHO = 0, 8


class Endpoint:
    """A probe's source or target: a pod (NS/NAME), a node (node-K) or, as target, an IPv4."""

    def __init__(self, lay, st, text, role):
        self.text, self.pod, self.ip, self.netns = text, None, None, None
        if "/" in text:
            pod = find(st, text)
            self.pod, self.ip, self.netns = text, pod["ip"], pod["netns"]
        elif text.startswith("node-") and text[5:].isdigit():
            k = int(text[5:])
            if str(k) not in st["nodes"]:
                raise SandboxError(f"{text}: no such node", 2)
            self.ip, self.netns = lay.node_ip(k), lay.node_netns(k)
        elif role == "to":
            try:
                self.ip = str(ipaddress.IPv4Address(text))
            except ValueError:
                raise SandboxError(f"{text!r}: want NS/NAME (a pod), node-K or an IPv4 address", 2)
        else:
            raise SandboxError(f"{text!r}: want NS/NAME (a pod) or node-K", 2)


def _socket(src, family, kind, proto=0):
    with netns.entered(src.netns):
        return socket.socket(family, kind, proto)


def _nonce():
    return os.urandom(8).hex().encode()


def _answered_by(dst, reply, nonce):
    """An answer counts if it echoes our nonce and, for a pod target, names that pod."""
    words = reply.split()
    if not words or words[0] != nonce:
        return False
    return dst.pod is None or (len(words) > 1 and words[1].decode(errors="replace") == dst.pod)


def probe_tcp(src, dst, port, timeout):
    s = _socket(src, socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        nonce = _nonce()
        s.connect((dst.ip, port))
        s.sendall(nonce + b"\n")
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return _answered_by(dst, buf, nonce)
    except OSError:
        return False
    finally:
        s.close()


def _exchange(s, send, match, deadline, retry=0.2):
    """Send, wait for a matching datagram; resend every `retry` s until the deadline."""
    next_send = 0.0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return False
        if now >= next_send:
            try:
                send()
            except OSError:
                pass
            next_send = now + retry
        s.settimeout(max(0.001, min(deadline, next_send) - now))
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            return False
        if match(data, peer):
            return True


def probe_udp(src, dst, port, timeout):
    s = _socket(src, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        nonce = _nonce()
        s.connect((dst.ip, port))
        return _exchange(s, lambda: s.send(nonce + b"\n"),
                         lambda d, _: _answered_by(dst, d, nonce), time.monotonic() + timeout)
    except OSError:
        return False
    finally:
        s.close()


def probe_sctp(src, dst, port, timeout):
    s = _socket(src, socket.AF_INET, socket.SOCK_RAW, sctp.IPPROTO_SCTP)
    try:
        tag = int.from_bytes(os.urandom(4), "big") or 1
        sport = 32768 + int.from_bytes(os.urandom(2), "big") % 28000
        pkt = sctp.init(sport, port, tag)

        def match(data, _):
            p = sctp.parse(data)
            return (p is not None and p["src"] == dst.ip and p["chunk"] == sctp.CHUNK_INIT_ACK
                    and p["sport"] == port and p["dport"] == sport and p["vtag"] == tag)
        return _exchange(s, lambda: s.sendto(pkt, (dst.ip, 0)), match,
                         time.monotonic() + timeout)
    finally:
        s.close()


def _icmp_checksum(b):
    if len(b) % 2:
        b += b"\0"
    c = sum(struct.unpack(f"!{len(b) // 2}H", b))
    c = (c >> 16) + (c & 0xFFFF)
    c += c >> 16
    return ~c & 0xFFFF


def probe_icmp(src, dst, port, timeout):
    s = _socket(src, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        ident = int.from_bytes(os.urandom(2), "big")
        payload = _nonce()
        seq = [0]

        def send():
            seq[0] += 1
            hdr = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq[0])
            csum = _icmp_checksum(hdr + payload)
            s.sendto(struct.pack("!BBHHH", ICMP_ECHO, 0, csum, ident, seq[0]) + payload,
                     (dst.ip, 0))

        def match(data, peer):
            ihl = (data[0] & 0xF) * 4
            icmp = data[ihl:]
            return (peer[0] == dst.ip and len(icmp) >= 8 and icmp[0] == ICMP_ECHO_REPLY
                    and struct.unpack("!H", icmp[4:6])[0] == ident and icmp[8:] == payload)
        return _exchange(s, send, match, time.monotonic() + timeout)
    finally:
        s.close()


PROBES = {"tcp": probe_tcp, "udp": probe_udp, "sctp": probe_sctp, "icmp": probe_icmp}


def check_args(port, proto, timeout):
    if proto not in PROTOS:
        raise SandboxError(f"protocol {proto!r}: want one of {', '.join(PROTOS)}", 2)
    if proto == "icmp":
        if port != 0:
            raise SandboxError(f"port {port}: ICMP has no port, give 0", 2)
    elif not 1 <= port <= 65535:
        raise SandboxError(f"port {port}: not in 1..65535", 2)
    if not 0 < timeout <= 600:
        raise SandboxError(f"--timeout {timeout}: want seconds in (0, 600]", 2)


def probe(lay, st, frm, to, port, proto="tcp", timeout=1.0):
    """True if `to` answered a `proto` request from `frm` within timeout seconds."""
    check_args(port, proto, timeout)
    src = Endpoint(lay, st, frm, "from")
    dst = Endpoint(lay, st, to, "to")
    return PROBES[proto](src, dst, port, timeout)


def matrix(lay, st, port, proto, timeout=1.0):
    """Every ordered pair of running pods (a pod to itself included), probed in parallel:
    {"ns/from": {"ns/to": bool}}."""
    check_args(port, proto, timeout)
    pods = sorted(r for r, p in st["pods"].items() if p.get("phase") == "Running")
    eps = {r: Endpoint(lay, st, r, "to") for r in pods}
    pairs = [(a, b) for a in pods for b in pods]
    out = {a: {} for a in pods}
    if not pairs:
        return out
    with ThreadPoolExecutor(max_workers=min(128, len(pairs))) as ex:
        futs = {ex.submit(PROBES[proto], eps[a], eps[b], port, timeout): (a, b)
                for a, b in pairs}
        for f, (a, b) in futs.items():
            out[a][b] = bool(f.result())
    return out


def format_matrix(m):
    """A truth table: rows are sources, columns targets; '.' answered, 'X' no answer."""
    pods = list(m)
    if not pods:
        return "(no pods)\n"
    w = max(len(p) for p in pods)
    cols = [str(i + 1) for i in range(len(pods))]
    lines = [" " * (w + 6) + " ".join(f"{c:>2}" for c in cols)]
    for i, a in enumerate(pods):
        cells = " ".join(f"{'.' if m[a][b] else 'X':>2}" for b in pods)
        lines.append(f"{i + 1:>3}  {a:<{w}} {cells}")
    lines.append("'.' = answered, 'X' = no answer; columns are numbered like the rows")
    return "\n".join(lines) + "\n"
