# state.py - the sandbox's record of what it made (state.json), read and written under a lock.
#
# Everything `up`, `pod add` and `node add` create is recorded BEFORE it is created, so that
# `down` can remove it even after a crash half-way. Shape (JSON):
#   {"version": 1, "prefix": "slsb", "build": "/…/build",
#    "mode": "kubernetes" | "standalone", "apiserver": {"pid", "start", "argv"} | null,
#    "nodes": {"1": {"name": "node-1", "netns": "slsb-node-1", "ip": "10.200.0.1",
#                    "podCIDR": "10.244.1.0/24", "agent": {"pid": N, "start": T} | null}},
#    "pods": {"ns/name": {"node": 1, "netns": "...", "containerID": "...", "uid": "...",
#                         "ip": "10.244.1.2", "hostIfname": "sl…", "labels": {...},
#                         "ports": [{"name", "port", "proto"}],
#                         "listener": {"pid", "start"} | null, "phase": "..."}}}
import contextlib
import fcntl
import json
import os

from .config import Layout, SandboxError, env_prefix, sandbox_dir, use_recorded_build

VERSION = 1


def empty_state(prefix, build):
    return {"version": VERSION, "prefix": prefix, "build": build, "apiserver": None,
            "nodes": {}, "pods": {}}


def current_layout(must_exist=True):
    """The Layout of the sandbox in SLUICE_SANDBOX_DIR, with the prefix it was created with."""
    d = sandbox_dir()
    path = os.path.join(d, "state.json")
    try:
        with open(path) as f:
            st = json.load(f)
        use_recorded_build(st.get("build"))
        return Layout(d, st["prefix"])
    except FileNotFoundError:
        if must_exist:
            raise SandboxError(f"no sandbox in {d} (run `e2e/sandbox up` first, or set "
                               f"SLUICE_SANDBOX_DIR)")
        return Layout(d, env_prefix())
    except (ValueError, KeyError) as e:
        raise SandboxError(f"{path}: unreadable sandbox state ({e}); `e2e/sandbox down` "
                           f"removes the sandbox")


@contextlib.contextmanager
def locked(layout, create=False):
    """Hold the sandbox lock; yield the state dict, written back (atomically) on success."""
    if create:
        os.makedirs(layout.dir, mode=0o755, exist_ok=True)
    try:
        fd = os.open(layout.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        raise SandboxError(f"no sandbox in {layout.dir}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        st = load(layout)
        if st is None:
            if not create:
                raise SandboxError(f"no sandbox in {layout.dir} (run `e2e/sandbox up` first)")
            st = empty_state(layout.prefix, None)
        before = json.dumps(st, sort_keys=True)
        yield st
        if json.dumps(st, sort_keys=True) != before:
            save(layout, st)
    finally:
        os.close(fd)


def load(layout):
    try:
        with open(layout.state_file) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise SandboxError(f"{layout.state_file}: not valid JSON ({e}); `e2e/sandbox down` "
                           f"removes the sandbox")


def save(layout, st):
    tmp = layout.state_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, layout.state_file)


def node_keys(st):
    return sorted(int(k) for k in st["nodes"])
