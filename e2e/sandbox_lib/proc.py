# proc.py - commands and processes: run a command (optionally inside a network namespace),
# start a background process with a log, recognise it later (pid + start time), stop it.
import os
import signal
import subprocess
import time

from .config import SandboxError, netns_path


def in_netns(netns):
    """argv prefix running a command in a network namespace. nsenter switches the network
    namespace only (not the mount namespace, as `ip netns exec` does), so bpffs pins under
    /sys/fs/bpf and the sandbox's files look the same inside as outside."""
    return ["nsenter", f"--net={netns_path(netns)}", "--"]


def run(argv, check=True, input=None, env=None, timeout=60, netns=None, capture=True):
    """Run argv; on failure (check) raise a SandboxError quoting the command and its stderr."""
    if netns:
        argv = in_netns(netns) + list(argv)
    try:
        p = subprocess.run(argv, input=input, env=env, timeout=timeout, text=True,
                           stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE if capture else None)
    except FileNotFoundError:
        raise SandboxError(f"{argv[0]}: command not found (run `make deps`)")
    except subprocess.TimeoutExpired:
        raise SandboxError(f"`{' '.join(argv)}`: no answer within {timeout}s")
    if check and p.returncode != 0:
        err = (p.stderr or "").strip() or (p.stdout or "").strip()
        raise SandboxError(f"`{' '.join(argv)}` failed (exit {p.returncode}): {err}")
    return p


def start_time(pid):
    """The process's start time in clock ticks since boot, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # the command name may contain spaces and ')': fields resume after the last ')'
    return int(stat[stat.rindex(")") + 2:].split()[19])


def spawn(argv, log_path, netns=None, env=None, pass_fds=()):
    """Start argv in the background (own session, stdin closed, output appended to log_path);
    returns its record {"pid", "start", "argv"} for alive()/stop()."""
    if netns:
        argv = in_netns(netns) + list(argv)
    with open(log_path, "ab") as log:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                             start_new_session=True, close_fds=True, pass_fds=pass_fds)
    return {"pid": p.pid, "start": start_time(p.pid), "argv": argv, "_popen": p}


def record(p):
    """The JSON-safe part of a spawn() record."""
    return {k: v for k, v in p.items() if not k.startswith("_")} if p else None


def alive(rec):
    """True if the recorded process still runs (and is the same process, not a reused pid)."""
    if not rec:
        return False
    st = start_time(rec["pid"])
    if st is None or st != rec.get("start"):
        return False
    try:
        with open(f"/proc/{rec['pid']}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def reap(rec):
    """Collect the exit status if we are the parent (spawned in this process)."""
    p = rec.get("_popen") if rec else None
    if p is not None:
        try:
            p.wait(timeout=0)
        except subprocess.TimeoutExpired:
            pass


def stop(rec, timeout=5.0, sig=signal.SIGTERM):
    """SIGTERM the recorded process (never another one that reused its pid), SIGKILL after
    timeout; returns once it is gone."""
    if not alive(rec):
        return
    try:
        os.kill(rec["pid"], sig)
    except ProcessLookupError:
        return
    if wait_gone(rec, timeout):
        return
    try:
        os.kill(rec["pid"], signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_gone(rec, 5.0)


def wait_gone(rec, timeout):
    deadline = time.monotonic() + timeout
    delay = 0.005
    while time.monotonic() < deadline:
        reap(rec)
        if not alive(rec):
            return True
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    return not alive(rec)


def pids_in_netns(netns):
    """Every process whose network namespace is the named one."""
    try:
        ino = os.stat(netns_path(netns)).st_ino
    except FileNotFoundError:
        return []
    want = f"net:[{ino}]"
    me = os.getpid()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            if os.readlink(f"/proc/{d}/ns/net") == want:
                pids.append(int(d))
        except OSError:
            continue
    return pids


def kill_netns_processes(netns, timeout=5.0):
    """Stop every process living in a sandbox namespace (they can only be ours)."""
    recs = [{"pid": p, "start": start_time(p)} for p in pids_in_netns(netns)]
    for r in recs:
        if r["start"] is not None:
            try:
                os.kill(r["pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass
    for r in recs:
        if not wait_gone(r, timeout):
            try:
                os.kill(r["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_gone(r, 2.0)
