#!/usr/bin/env python3
# test_agent_restart.py - the agent restarted (SIGTERM, start again) in the middle of a ping
# flood between two pods: not one packet lost, because the pinned programs and maps stay in
# the kernel while the agent is away; afterwards the agent still knows the pods.
import re
import sys

from harness import SL_FWD_REDIRECT, Sandbox, Tally, down_and_check, preflight, wait_for

COUNT = 3000  # at 2 ms intervals: ~6 s, several restarts' worth


def ping_summary(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def main():
    preflight()
    t = Tally("agent-restart")
    sb = Sandbox("rs")
    try:
        sb.run("up")
        sb.run("pod", "add", "x/a")
        sb.run("pod", "add", "x/b", "--port", "80/tcp")
        b_ip = sb.pod_ip("x/b")
        start = sb.packets(SL_FWD_REDIRECT)
        ping = sb.popen("exec", "x/a", "--", "ping", "-q", "-i", "0.002", "-c", COUNT, "-W", "2",
                        b_ip)
        wait_for(lambda: sb.packets(SL_FWD_REDIRECT) - start >= 100, 10,
                 "the flood to flow through the datapath")
        sb.run("agent", "restart")
        t.check(ping.poll() is None, "the agent restarted while the flood was running",
                "ping had finished already: raise COUNT")
        sb.run("agent", "restart")
        still = ping.poll() is None
        out, err = ping.communicate(timeout=120)
        sent, got = ping_summary(out)
        t.check(sent == COUNT and got == COUNT,
                f"no packet lost across {'two restarts' if still else 'the restarts'}",
                f"{sent} sent, {got} received: {out.strip()} {err.strip()}")
        t.check(sb.packets(SL_FWD_REDIRECT) - start >= 2 * COUNT,
                "the whole flood went through bpf_redirect_peer")
        t.check(sb.probe("x/a", "x/b", 80, "tcp"), "after the restart: x/a -> x/b tcp")
        sb.run("pod", "add", "x/c", "--port", "80/tcp")
        t.check(sb.probe("x/c", "x/b", 80, "tcp"), "after the restart: a new pod works")
        sb.run("pod", "del", "x/a")
        t.check(sb.probe("x/c", "x/b", 80, "tcp"), "after the restart: deleting a pod from "
                "before the restart works")
    except Exception:
        t.crash("restart")
    finally:
        down_and_check(t, sb)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
