# listener.py - the server side of a sandbox pod: one process per pod, inside the pod's network
# namespace, answering on every --port: TCP (accept, read a line, answer it, close), UDP (echo),
# SCTP (raw IPv4 socket: INIT in, INIT-ACK out carrying the INIT's initiate tag as its
# verification tag). Every answer carries the pod's NS/NAME so a probe knows who answered.
#
# Started by `e2e/sandbox pod add`; run as
#   python3 -m sandbox_lib.listener --netns PATH --pod NS/NAME [--ready-fd FD] PORT/PROTO...
import argparse
import os
import selectors
import signal
import socket
import sys
import time

if __package__ in (None, ""):  # run as a file: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "sandbox_lib"

from sandbox_lib import netns, sctp  # noqa: E402

TCP_IDLE = 2.0  # seconds a connection may stay silent before we drop it


def log(msg):
    print(f"{time.strftime('%H:%M:%S')} listener: {msg}", file=sys.stderr, flush=True)


class Listener:
    def __init__(self, pod):
        self.pod = pod.encode()
        self.sel = selectors.DefaultSelector()
        self.sctp_ports = set()
        self.conns = {}  # socket -> (buffer, deadline)

    def open(self, port, proto):
        if proto == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
            s.listen(128)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, self.on_accept)
        elif proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, self.on_udp)
        else:
            if not self.sctp_ports:
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, sctp.IPPROTO_SCTP)
                s.setblocking(False)
                self.sel.register(s, selectors.EVENT_READ, self.on_sctp)
            self.sctp_ports.add(port)

    def answer(self, data):
        return data.strip() + b" " + self.pod + b"\n"

    def on_accept(self, s):
        try:
            c, _ = s.accept()
        except OSError:
            return
        c.setblocking(False)
        self.conns[c] = [b"", time.monotonic() + TCP_IDLE]
        self.sel.register(c, selectors.EVENT_READ, self.on_conn)

    def close_conn(self, c):
        self.sel.unregister(c)
        self.conns.pop(c, None)
        c.close()

    def on_conn(self, c):
        try:
            chunk = c.recv(4096)
        except OSError:
            chunk = b""
        st = self.conns[c]
        st[0] += chunk
        if chunk and b"\n" not in st[0] and len(st[0]) < 4096:
            return
        if st[0]:
            try:
                c.send(self.answer(st[0].split(b"\n")[0]))
            except OSError:
                pass
        self.close_conn(c)

    def on_udp(self, s):
        try:
            data, peer = s.recvfrom(65535)
            s.sendto(self.answer(data), peer)
        except OSError as e:
            log(f"udp: {e}")

    def on_sctp(self, s):
        try:
            pkt = s.recv(65535)
        except OSError:
            return
        p = sctp.parse(pkt)
        if not p or p["chunk"] != sctp.CHUNK_INIT or p["dport"] not in self.sctp_ports:
            return
        try:
            s.sendto(sctp.init_ack(p["dport"], p["sport"], p["tag"]), (p["src"], 0))
        except OSError as e:
            log(f"sctp: answer to {p['src']}: {e}")

    def expire(self):
        now = time.monotonic()
        for c, st in list(self.conns.items()):
            if st[1] < now:
                self.close_conn(c)

    def serve(self):
        while True:
            for key, _ in self.sel.select(timeout=1.0 if self.conns else None):
                key.data(key.fileobj)
            self.expire()


def parse_port(text):
    port, _, proto = text.partition("/")
    if not port.isdigit() or not 1 <= int(port) <= 65535 or proto not in ("tcp", "udp", "sctp"):
        raise argparse.ArgumentTypeError(f"{text!r}: want PORT/tcp|udp|sctp")
    return int(port), proto


def main():
    ap = argparse.ArgumentParser(prog="listener", description="answers probes inside a pod")
    ap.add_argument("--netns", required=True, help="path of the pod's network namespace")
    ap.add_argument("--pod", required=True, help="NS/NAME, put in every answer")
    ap.add_argument("--sandbox", help="the sandbox directory (only to recognise the process)")
    ap.add_argument("--ready-fd", type=int, help="write 'ready' here once listening")
    ap.add_argument("ports", nargs="*", type=parse_port)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    fd = os.open(a.netns, os.O_RDONLY)
    netns._setns(fd)
    os.close(fd)
    lst = Listener(a.pod)
    for port, proto in a.ports:
        try:
            lst.open(port, proto)
        except OSError as e:
            log(f"{port}/{proto}: {e}")
            sys.exit(1)
    if a.ready_fd is not None:
        os.write(a.ready_fd, b"ready\n")
        os.close(a.ready_fd)
    log(f"{a.pod}: listening on {' '.join(f'{p}/{q}' for p, q in a.ports) or 'nothing'}")
    lst.serve()


if __name__ == "__main__":
    main()
