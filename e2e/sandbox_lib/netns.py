# netns.py - network namespaces: create, list and delete the sandbox's, and enter one from a
# Python thread (so that probes open their sockets inside a pod without a new process).
import contextlib
import ctypes
import os

from .config import NETNS_DIR, netns_path
from .proc import kill_netns_processes, run

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def exists(name):
    return os.path.exists(netns_path(name))


def create(name):
    """Create a namespace with lo up; an existing one of that name is an error."""
    if exists(name):
        raise FileExistsError(f"network namespace {name} exists already")
    run(["ip", "netns", "add", name])
    run(["ip", "link", "set", "lo", "up"], netns=name)


def delete(name):
    """Stop every process inside, then delete the namespace (its links go with it). Idempotent."""
    if not exists(name):
        return
    kill_netns_processes(name)
    run(["ip", "netns", "delete", name], check=False)
    if os.path.exists(netns_path(name)):  # a stale file left by an interrupted `ip netns add`
        run(["umount", netns_path(name)], check=False)
        with contextlib.suppress(OSError):
            os.unlink(netns_path(name))


def list_with_prefix(prefix):
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(prefix + "-"))


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


@contextlib.contextmanager
def entered(name):
    """Run the body with this thread in the namespace; sockets opened inside stay there."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(netns_path(name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)
