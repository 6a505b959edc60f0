#!/usr/bin/env python3
# test_policy_restart.py - policy survives its agent: with a policy in force (x/b takes TCP 80
# from x/a only), node 1's agent is killed (SIGKILL, a crash) and started again, twice, while
# (1) a probe loop checks verdicts: x/a -> x/b must always answer, x/c -> x/b never, and
# (2) an established UDP flow x/a -> x/b (one socket, a datagram every 2 ms) is echoed: not one
# datagram may be lost. The pinned maps stay in the kernel while the agent is away; the new
# agent adopts them and applies only the difference.
import socket
import sys
import threading
import time

from harness import Sandbox, Tally, down_and_check, preflight, wait_for
from sandbox_lib import netns

PORTS = ["--port", "serve-80-tcp:80/TCP", "--port", "serve-80-udp:80/UDP"]
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-from-a, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress:
    - from:
        - podSelector: {matchLabels: {pod: a}}
"""
FLOW_INTERVAL = 0.002


class Flow(threading.Thread):
    """One UDP socket in x/a sending numbered datagrams to x/b:80 until stopped; the listener
    echoes each one. Counts what came back."""

    def __init__(self, src_netns, dst_ip):
        super().__init__(daemon=True)
        with netns.entered(src_netns):
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.connect((dst_ip, 80))
        self.s.settimeout(0.001)
        self.sent, self.got, self.stopping = 0, set(), threading.Event()

    def drain(self):
        while True:
            try:
                data = self.s.recv(2048)
            except (socket.timeout, BlockingIOError):
                return
            words = data.split()
            if words and words[0].startswith(b"seq-"):
                self.got.add(int(words[0][4:]))

    def run(self):
        next_t = time.monotonic()
        while not self.stopping.is_set():
            self.s.send(b"seq-%d\n" % self.sent)
            self.sent += 1
            next_t += FLOW_INTERVAL
            while time.monotonic() < next_t:
                self.drain()
        deadline = time.monotonic() + 2
        while len(self.got) < self.sent and time.monotonic() < deadline:
            self.drain()
        self.s.close()


class ProbeLoop(threading.Thread):
    """Fresh probes over and over: every one must get the policy's verdict."""

    def __init__(self, sb):
        super().__init__(daemon=True)
        self.sb, self.stopping = sb, threading.Event()
        self.rounds, self.wrong = 0, []

    def run(self):
        while not self.stopping.is_set():
            if not self.sb.probe("x/a", "x/b", 80, "tcp", timeout=2):
                self.wrong.append(f"round {self.rounds}: x/a -> x/b got no answer")
            if self.sb.probe("x/c", "x/b", 80, "tcp", timeout=0.3):
                self.wrong.append(f"round {self.rounds}: x/c -> x/b answered")
            self.rounds += 1


def main():
    preflight()
    t = Tally("policy-restart")
    sb = Sandbox("prs")
    try:
        sb.run("up", timeout=300)
        for p in ("a", "b", "c"):
            sb.run("pod", "add", f"x/{p}", "--label", f"pod={p}", *PORTS)
        sb.run("kubectl", "apply", "-f", "-", input=POLICY)
        sb.run("wait-synced")
        t.check(sb.probe("x/a", "x/b", 80, "tcp"), "before: x/a -> x/b answers")
        t.check(not sb.probe("x/c", "x/b", 80, "tcp", timeout=0.5), "before: x/c -> x/b dropped")

        st = sb.state()
        flow = Flow(st["pods"]["x/a"]["netns"], st["pods"]["x/b"]["ip"])
        loop = ProbeLoop(sb)
        flow.start()
        loop.start()
        wait_for(lambda: len(flow.got) >= 100 and loop.rounds >= 2, 20,
                 "the flow and the probe loop to run")
        for i in (1, 2):
            sb.run("agent", "restart", "--kill", timeout=120)
            rounds = loop.rounds
            wait_for(lambda: loop.rounds >= rounds + 2, 30, "two probe rounds after the restart")
        sb.run("wait-synced")
        loop.stopping.set()
        flow.stopping.set()
        loop.join(30)
        flow.join(30)
        t.check(loop.rounds >= 6 and not loop.wrong,
                f"{loop.rounds} probe rounds across two crashes: every verdict right",
                "; ".join(loop.wrong[:5]))
        lost = flow.sent - len(flow.got)
        t.check(flow.sent > 500 and lost == 0,
                f"established UDP flow: {flow.sent} datagrams, none lost across the crashes",
                f"{lost} lost")
        sb.run("kubectl", "delete", "networkpolicy", "-n", "x", "b-from-a")
        sb.run("wait-synced")
        t.check(sb.probe("x/c", "x/b", 80, "tcp"),
                "the restarted agent follows changes: policy deleted, x/c -> x/b answers")
    except Exception:
        t.crash("policy-restart")
    finally:
        down_and_check(t, sb)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
