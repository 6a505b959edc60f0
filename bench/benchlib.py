# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""benchlib.py - what every benchmark script shares: namespaces it owns and removes, processes
it starts and stops, statistics, and the table printer. Standard library only.

Every network namespace is named with the run's unique prefix (slb-<pid>-...), created through
Run.netns() and deleted by Run.close(), which the scripts call from a finally block after
turning SIGTERM/SIGHUP into an exception. Nothing here touches the root namespace's links,
routes or firewall."""

import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time


class BenchError(Exception):
    """A benchmark could not run: the message says what and why."""


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def sh(*argv, check=True, capture=True, env=None, timeout=120):
    """Run a command to completion; return its stdout. BenchError with its stderr on failure."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE, text=True, env=env, timeout=timeout)
    except FileNotFoundError:
        raise BenchError(f"{argv[0]}: not found")
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(argv)}: no answer after {timeout} s")
    if check and p.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout if capture else ""


def _raise_on_signal(signum, _frame):
    raise SystemExit(f"bench: interrupted by signal {signum}")


def exit_on_signals():
    """SIGTERM and SIGHUP unwind the stack like ^C does, so finally blocks clean up."""
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _raise_on_signal)


class Server:
    """A long-running process (in its own process group) that announces readiness with a line
    on stdout; a thread drains stdout so the process never blocks on a full pipe."""

    def __init__(self, argv, ready_text, env=None, what="server"):
        self.what = what
        self.ready = threading.Event()
        self.lines = []
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True, env=env,
                                         start_new_session=True)
        except FileNotFoundError:
            raise BenchError(f"{what}: {argv[0]}: not found")
        self._ready_text = ready_text
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            if len(self.lines) < 200:
                self.lines.append(line.rstrip())
            if self._ready_text in line:
                self.ready.set()
        self.ready.set()  # EOF: the process is gone; wait_ready() reports it

    def wait_ready(self, timeout=30):
        if not self.ready.wait(timeout) or self.proc.poll() is not None:
            out = " | ".join(self.lines[-5:])
            self.stop()
            raise BenchError(f"{self.what}: not ready after {timeout} s: {out}")

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass


class Run:
    """One benchmark run: the unique prefix, and everything to undo at the end."""

    def __init__(self, name):
        self.prefix = f"slb-{os.getpid()}-{name}"
        self.namespaces = []
        self.servers = []
        self.cleanups = []  # callables, run in reverse order
        self.tmp = f"/tmp/{self.prefix}"
        os.makedirs(self.tmp, exist_ok=True)

    def netns(self, name):
        ns = f"{self.prefix}-{name}"
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def server(self, argv, ready_text, env=None, what="server"):
        s = Server(argv, ready_text, env=env, what=what)
        self.servers.append(s)
        s.wait_ready()
        return s

    def at_exit(self, fn):
        self.cleanups.append(fn)

    def close(self):
        for s in reversed(self.servers):
            s.stop()
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # keep cleaning up the rest
                log(f"cleanup: {e}")
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for(pred, timeout, what, proc=None):
    """Wait until pred() is true (e.g. a file the agent writes when ready). Polls, because the
    event is a file appearing in a directory we do not own; fails early if proc has exited."""
    deadline = time.monotonic() + timeout
    while not pred():
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{what}: process exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not after {timeout} s")
        time.sleep(0.05)


def percentile(xs, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def median(xs):
    return statistics.median(xs)


def spread(xs):
    """(max - min) / median, as a percentage: how much the rounds disagreed."""
    m = median(xs)
    return 100.0 * (max(xs) - min(xs)) / m if m else 0.0


def table(header, rows):
    """Plain-text table; the first column left-aligned, the rest right-aligned."""
    cols = [header] + rows
    w = [max(len(str(r[i])) for r in cols) for i in range(len(header))]
    out = []
    for n, r in enumerate(cols):
        cells = [str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i]) for i, c in enumerate(r)]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * x for x in w))
    return "\n".join(out)


def cpus_split():
    """The two CPUs to pin the client and the server to (the same one on a 1-CPU machine)."""
    allowed = sorted(os.sched_getaffinity(0))
    return (allowed[0], allowed[1]) if len(allowed) > 1 else (allowed[0], allowed[0])
