# harness.py - what every e2e test shares: a private sandbox (own directory and name prefix,
# always torn down), running e2e/sandbox, reading the datapath's counters from the pins, and
# the pass/fail tally that ends with the line "N passed, N failed".
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

E2E = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX = os.path.join(E2E, "sandbox")
# The sandbox runs with this test's interpreter: no PATH lookup (a pyenv shim costs 0.15 s a
# call, and the suites call the sandbox thousands of times).
SANDBOX_ARGV = [sys.executable, SANDBOX]
sys.path.insert(0, E2E)

from sandbox_lib import config  # noqa: E402

# enum sl_reason / sl_dir of bpf/include/sl_abi.h (append-only there, so stable here)
SL_FWD_STACK, SL_FWD_REDIRECT, SL_FWD_ARP, SL_FWD_TO_POD = 0, 1, 2, 3
SL_DROP_SPOOFED_IP, SL_DROP_SPOOFED_ARP, SL_DROP_IPV6 = 18, 19, 20
SL_DIR_EGRESS, SL_DIR_INGRESS = 0, 1
SL_ABI_VERSION = 1


def counter_idx(reason, direction):
    return reason * 2 + direction


class Tally:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def crash(self, where):
        self.failed += 1
        print(f"FAIL {where}: unexpected error:\n{traceback.format_exc()}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed or not self.passed else 0


class Sandbox:
    """A sandbox of the test's own: SLUICE_SANDBOX_DIR in a fresh temp dir, a unique prefix."""

    def __init__(self, tag):
        self.dir = tempfile.mkdtemp(prefix=f"sluice-e2e-{tag}-", dir="/tmp")
        os.rmdir(self.dir)  # `up` creates it; `down` removes it
        self.prefix = f"slt{tag[:4]}{os.getpid() % 100000}"
        self.env = dict(os.environ, SLUICE_SANDBOX_DIR=self.dir,
                        SLUICE_SANDBOX_PREFIX=self.prefix)
        self.layout = config.Layout(self.dir, self.prefix)

    def run(self, *args, check=True, timeout=120, input=None):
        p = subprocess.run(SANDBOX_ARGV + [str(a) for a in args], env=self.env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           input=input)
        if check and p.returncode != 0:
            raise RuntimeError(f"e2e/sandbox {' '.join(map(str, args))}: exit {p.returncode}: "
                               f"{p.stderr.strip()}")
        return p

    def popen(self, *args):
        return subprocess.Popen(SANDBOX_ARGV + [str(a) for a in args], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def probe(self, frm, to, port, proto="tcp", timeout=2):
        return self.run("probe", frm, to, port, proto, "--timeout", timeout, check=False) \
            .returncode == 0

    def state(self):
        with open(self.layout.state_file) as f:
            return json.load(f)

    def pod_ip(self, ref):
        return self.state()["pods"][ref]["ip"]

    def counters(self, k=1):
        """sl_counters of node k summed over CPUs: {index: (packets, bytes)}."""
        path = os.path.join(self.layout.node_bpffs(k), f"v{SL_ABI_VERSION}", "sl_counters")
        p = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", path], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError(f"bpftool map dump {path}: {p.stderr.strip()}")
        out = {}
        for e in json.loads(p.stdout):
            if "formatted" in e:
                f = e["formatted"]
                idx = int(f["key"])
                vals = [(int(v["value"]["packets"]), int(v["value"]["bytes"]))
                        for v in f["values"]]
            else:
                idx = int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")
                vals = []
                for v in e["values"]:
                    raw = bytes(int(b, 16) for b in v["value"])
                    vals.append((int.from_bytes(raw[:8], "little"),
                                 int.from_bytes(raw[8:16], "little")))
            out[idx] = (sum(v[0] for v in vals), sum(v[1] for v in vals))
        return out

    def packets(self, reason, k=1, directions=(SL_DIR_EGRESS, SL_DIR_INGRESS)):
        c = self.counters(k)
        return sum(c.get(counter_idx(reason, d), (0, 0))[0] for d in directions)

    def down(self):
        p = self.run("down", check=False)
        if p.returncode != 0:
            print(f"down failed: {p.stderr.strip()}", flush=True)
        return p.returncode == 0


def preflight():
    """Exit 77 (meson: skipped) when not root; the sandbox cannot work without it."""
    if os.geteuid() != 0:
        print("skipped: e2e tests need root")
        print("0 passed, 0 failed")
        sys.exit(77)


def wait_for(cond, timeout, what):
    """Poll cond() (an observable event, not a guess) until true; raise after timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def leaks(sb):
    """What a sandbox left behind after down: namespaces, pins, files, processes."""
    found = []
    found += [f"netns {n}" for n in os.listdir("/run/netns")
              if n.startswith(sb.prefix + "-")] if os.path.isdir("/run/netns") else []
    if os.path.exists(sb.layout.bpffs_root):
        found.append(f"pin dir {sb.layout.bpffs_root}")
    if os.path.exists(sb.dir):
        found.append(f"directory {sb.dir} (state, host-local files)")
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(sb.dir.encode()) for a in argv[1:]) and \
                not any(a.endswith(b"sandbox") for a in argv[:2]):
            found.append(f"process {d}: {b' '.join(argv).decode(errors='replace')[:120]}")
    return found


def down_and_check(t, sb, what="nothing left after down"):
    """Every test's last step: down, then nothing of the sandbox may be left."""
    t.check(sb.down(), "down")
    left = leaks(sb)
    t.check(not left, what, "; ".join(left))
