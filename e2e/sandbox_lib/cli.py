# cli.py - the command line of e2e/sandbox (the contract in DESIGN.md): parsing, help texts,
# dispatch, exit codes (0 ok, 1 failed / probe not answered, 2 usage or bad input).
import argparse
import json
import os
import sys

from . import cluster, pod, probe
from .config import SandboxError, binary, parse_pod_ref
from .state import current_layout, locked, node_keys

OVERVIEW = """\
A Sluice cluster on this machine, made of network namespaces: nodes and pods are namespaces,
the nodes share an isolated underlay, each node runs a real sluice-agent, and pods get their
network from the real `sluice` CNI binary, called exactly as a container runtime calls it.
Nothing touches the machine's own interfaces, routes, sysctls or firewall.

Layout (prefix P, default "slsb"; node K = 1..N):
  API server   https://10.200.0.254:6443 (e2e/kapi, TLS + token) in P-underlay; the real
               kubectl through `e2e/sandbox kubectl`; Node objects node-K, Pod objects
  namespaces   P-underlay (bridge br-underlay with the API server's address, no route out),
               P-node-K (eth0 10.200.0.K/24 on the underlay; pods 10.244.K.0/24),
               P-p-NS-NAME (one per pod; hashed when long)
  pins         /sys/fs/bpf/P/node-K        (the agent's --bpffs)
  files        $SLUICE_SANDBOX_DIR (default /run/sluice-sandbox): state.json,
               node-K/{agent.log,state/agent.sock,cni-conf/10-sluice.conflist,ipam/},
               pods/NS_NAME/{cni-cache.json,listener.log}, kubeconfig, apiserver-*

Environment:
  SLUICE_SANDBOX_DIR     the sandbox's directory (tests give each run its own)
  SLUICE_SANDBOX_PREFIX  name prefix of its namespaces and pin directory (a-z0-9, no '-')
  SLUICE_BUILD           meson build directory with agent/ and cni/ (default: the one the
                         sandbox was brought up with, else <repo>/build)
  SLUICE_AGENT_LOG_LEVEL the agents' --log-level (default info)
  SLUICE_SANDBOX_ROUTES  0: no fallback routes between nodes (the agents route alone)
  SLUICE_AGENT_ARGS      extra agent flags, space-separated (up, node add, agent restart),
                         e.g. --cross-node-forwarding=stack

Exit status: 0 success, 1 failure (for probe: no answer), 2 usage error or bad input.
Targets: a pod is NS/NAME; a node is node-K (exec, probe); probe also takes an IPv4 as target.
"""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    if not 0 < v <= 3600:
        raise argparse.ArgumentTypeError(f"{text}: want seconds in (0, 3600]")
    return v


def node_number(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: want a node number K >= 1 (node-K)")
    return int(text)


def port_number(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: want a port 0..65535 (0 for icmp)")
    return int(text)


def build_parser():
    ap = Parser(prog="e2e/sandbox", description=OVERVIEW,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    def cmd(name, help, desc=None):
        return sub.add_parser(name, help=help, description=desc or help,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = cmd("up", "create the sandbox and wait until every agent is ready",
            "Starts the Kubernetes-API test server (e2e/kapi) in the underlay namespace on\n"
            "https://10.200.0.254:6443 with TLS and a bearer token, writes the kubeconfig, then\n"
            "creates N nodes: per node its namespace, its Node object (spec.podCIDR\n"
            "10.244.K.0/24, InternalIP 10.200.0.K) and a sluice-agent started with --kubeconfig.\n"
            "Returns once "
            "every agent answers ready and has written its conflist. Prints the kubeconfig path\n"
            "on stdout (for `e2e/sandbox kubectl`, or kubectl inside the underlay namespace).\n"
            "--standalone: the agents run without --kubeconfig (routing and anti-spoofing, no\n"
            "policy); the API server still runs and holds the objects.\n"
            "Each node also gets a route to every other node's pod range (metric 1000: a\n"
            "fallback under the routes agents make from Node objects; SLUICE_SANDBOX_ROUTES=0\n"
            "leaves routing to the agents).")
    p.add_argument("--nodes", type=int, default=1, metavar="N", help="number of nodes (1)")
    p.add_argument("--timeout", type=positive_float, default=60.0, metavar="S",
                   help="seconds to wait for each agent (60)")
    p.add_argument("--standalone", action="store_true",
                   help="agents in standalone mode (no policy source)")

    cmd("down", "remove everything the sandbox made (idempotent)",
        "Deletes every pod (CNI DEL while the agents run), stops the agents and listeners,\n"
        "deletes every namespace with the sandbox's prefix (their links go with them), the pin\n"
        "directory and the sandbox directory. Also cleans up after a partial `up`.")

    p = cmd("pod", "add, delete, check or list pods")
    psub = p.add_subparsers(dest="pod_cmd", metavar="add|del|check|list", parser_class=Parser)
    psub.required = True
    p = psub.add_parser("add", help="create a pod through the real CNI binary",
                        description="Creates the pod's namespace, runs CNI ADD of the node's "
                        "conflist exactly as a runtime does (request config = plugin + "
                        "cniVersion + name; CNI_ARGS with K8S_POD_*), and starts a listener per "
                        "--port: TCP answers a line, UDP echoes, SCTP answers an INIT with an "
                        "INIT-ACK. Prints the pod's IP.")
    p.add_argument("pod", metavar="NS/NAME")
    p.add_argument("--node", type=node_number, metavar="K", help="node K (default: the first)")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--port", action="append", default=[], metavar="NAME:PORT/PROTO",
                   help="a named container port to serve, e.g. serve-80-tcp:80/TCP")
    p = psub.add_parser("del", help="delete a pod (CNI DEL as containerd does it)",
                        description="CNI DEL with the namespace and the cached result, the "
                        "listener stopped, the namespace deleted, then a second DEL without "
                        "namespace or prevResult, as containerd's remove does.")
    p.add_argument("pod", metavar="NS/NAME")
    p = psub.add_parser("check", help="CNI CHECK of a pod (exit 0: all in place)",
                        description="Runs CNI CHECK with the cached ADD result, as CRI-O does "
                        "after every ADD: exit 0 when the plugin finds everything in place, 1 "
                        "with its error otherwise.")
    p.add_argument("pod", metavar="NS/NAME")
    p = psub.add_parser("list", help="list pods: name, node, IP, ports")
    p.add_argument("-o", dest="output", choices=["text", "json"], default="text")

    p = cmd("probe", "does FROM reach TO? exit 0 if TO answered, 1 if not",
            "Sends a request from inside FROM (a pod, or node-K) to TO (a pod, node-K or an IPv4)\n"
            "and waits for the answer: tcp (connect, line, answer), udp (datagram echo), sctp\n"
            "(raw INIT, INIT-ACK with our tag), icmp (echo request/reply; give PORT 0).\n"
            "A pod target must answer with its own name. Exit 0 answered, 1 no answer,\n"
            "2 bad input.")
    p.add_argument("frm", metavar="FROM")
    p.add_argument("to", metavar="TO")
    p.add_argument("port", type=port_number, metavar="PORT")
    p.add_argument("proto", nargs="?", default="tcp", choices=probe.PROTOS, metavar="PROTO",
                   help="tcp (default), udp, sctp or icmp")
    p.add_argument("--timeout", type=positive_float, default=1.0, metavar="S",
                   help="seconds (1)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing, exit status only")

    p = cmd("matrix", "probe every ordered pair of pods in parallel",
            "Probes every ordered pair of running pods (each pod to itself too), all at once,\n"
            "and prints a truth table, or with -o json {\"ns/from\": {\"ns/to\": true}}.")
    p.add_argument("port", type=port_number, metavar="PORT")
    p.add_argument("proto", choices=probe.PROTOS, metavar="PROTO", help="tcp, udp, sctp, icmp")
    p.add_argument("--timeout", type=positive_float, default=1.0, metavar="S")
    p.add_argument("-o", dest="output", choices=["text", "json"], default="text")

    p = cmd("exec", "run a command inside a pod (NS/NAME) or a node (node-K)",
            "Runs CMD in the target's network namespace (nsenter --net: files and bpffs look as\n"
            "they do outside). Example: e2e/sandbox exec default/a -- ping -c1 10.244.1.3")
    p.add_argument("target", metavar="NS/NAME|node-K")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD...")

    p = cmd("ctl", "run sluicectl against a node's agent",
            "Runs <build>/agent/sluicectl --bpffs <node's pins> --state-dir <node's state> ARGS\n"
            "inside the node. Example: e2e/sandbox ctl counters")
    p.add_argument("--node", type=node_number, metavar="K", help="node K (default: the first)")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS...")

    p = cmd("wait-synced", "return once every agent has applied the current state",
            "Lists Pods, Namespaces, NetworkPolicies and Nodes from the API server, computes\n"
            "their digest (sum mod 2^64 of FNV-1a-64 of \"<kind>/<namespace>/<name>/<rv>\") and\n"
            "waits until every agent's status says synced with that digest, i.e. the server's\n"
            "current state is in every datapath. Standalone agents: once each answers ready.\n"
            "Prints the digest.")
    p.add_argument("--timeout", type=positive_float, default=30.0, metavar="S")

    p = cmd("agent", "restart a node's agent (for tests: SIGTERM, start, wait ready)")
    asub = p.add_subparsers(dest="agent_cmd", metavar="restart", parser_class=Parser)
    asub.required = True
    p = asub.add_parser("restart", help="SIGTERM the agent, start it again, wait until ready")
    p.add_argument("--node", type=node_number, metavar="K", help="node K (default: the first)")
    p.add_argument("--kill", action="store_true", help="SIGKILL instead of SIGTERM (a crash)")
    p.add_argument("--timeout", type=positive_float, default=60.0, metavar="S")

    p = cmd("node", "add or remove nodes",
            "node add: the next free node number, its namespace, agent and routes.\n"
            "node del K: its pods deleted, agent stopped, namespace and pins removed.\n"
            "node list: nodes with their namespace, address, pod range and agent.")
    nsub = p.add_subparsers(dest="node_cmd", metavar="add|del|list", parser_class=Parser)
    nsub.required = True
    p = nsub.add_parser("add", help="add a node")
    p.add_argument("--timeout", type=positive_float, default=60.0, metavar="S")
    p = nsub.add_parser("del", help="remove node K and its pods")
    p.add_argument("k", type=node_number, metavar="K")
    p = nsub.add_parser("list", help="list nodes")
    p.add_argument("-o", dest="output", choices=["text", "json"], default="text")

    p = cmd("kubectl", "the real kubectl against the sandbox's API server",
            "Runs /usr/bin/kubectl (or the first kubectl on PATH) with the sandbox's kubeconfig\n"
            "inside the underlay namespace (the API server is reachable only there), its cache\n"
            "in the sandbox directory. Example: e2e/sandbox kubectl apply -f netpol.yaml")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS...")

    p = cmd("apiserver", "stop, start or restart the API server, or inject a fault",
            "For tests. stop: SIGTERM (its state is saved); start: again on the same address,\n"
            "with the same state, CA and token; restart: both. fault ACTION [JSON]: POST\n"
            "/_kapi/fault (actions of e2e/kapi: drop-watches, gone, compact, pause, resume,\n"
            "restart), e.g. `e2e/sandbox apiserver fault gone '{\"count\": 1}'`.")
    p.add_argument("action", choices=["stop", "start", "restart", "fault", "status"])
    p.add_argument("fault", nargs="?", metavar="ACTION")
    p.add_argument("body", nargs="?", metavar="JSON", default="{}")
    return ap


def first_node(st, k):
    keys = node_keys(st)
    if not keys:
        raise SandboxError("the sandbox has no node")
    if k is None:
        return keys[0]
    if k not in keys:
        raise SandboxError(f"--node {k}: no such node (nodes: {', '.join(map(str, keys))})", 2)
    return k


def resolve_netns(lay, st, target):
    if "/" in target:
        return pod.find(st, target)["netns"]
    if target.startswith("node-") and target[5:].isdigit():
        return lay.node_netns(first_node(st, int(target[5:])))
    raise SandboxError(f"{target!r}: want NS/NAME (a pod) or node-K", 2)


def strip_dashes(argv):
    return argv[1:] if argv and argv[0] == "--" else argv


def run(a):
    if a.cmd == "up":
        lay = cluster.up(a.nodes, a.timeout, a.standalone)
        cluster.say(f"sandbox up in {lay.dir}; kubeconfig:")
        print(lay.kubeconfig)
        return 0
    if a.cmd == "down":
        removed = cluster.down()
        cluster.say("removed: " + (", ".join(removed) if removed else "nothing (no sandbox)"))
        return 0
    if a.cmd == "pod":
        if a.pod_cmd == "add":
            pod.validate(a.pod, a.label, a.port)  # bad input is named before anything else
        lay = current_layout()
        if a.pod_cmd == "add":
            cluster.require_root()
            p = pod.add(lay, a.pod, a.node, a.label, a.port)
            print(p["ip"])
        elif a.pod_cmd == "del":
            cluster.require_root()
            pod.delete(lay, a.pod)
        elif a.pod_cmd == "check":
            cluster.require_root()
            pod.check(lay, a.pod)
        else:
            with locked(lay) as st:
                pods = st["pods"]
            if a.output == "json":
                print(json.dumps(pods, indent=1, sort_keys=True))
            for ref, p in sorted(pods.items()) if a.output == "text" else ():
                ports = ",".join(f"{x['name']}:{x['port']}/{x['proto']}" for x in p["ports"])
                print(f"{ref:<30} node-{p['node']:<3} {p['ip'] or '-':<15} {p['phase']:<11} "
                      f"{ports}")
        return 0
    if a.cmd == "probe":
        cluster.require_root()
        lay = current_layout()
        with locked(lay) as st:
            pass
        ok = probe.probe(lay, st, a.frm, a.to, a.port, a.proto, a.timeout)
        if not a.quiet:
            print(f"{a.frm} -> {a.to} {a.port}/{a.proto}: {'answered' if ok else 'no answer'}")
        return 0 if ok else 1
    if a.cmd == "matrix":
        cluster.require_root()
        lay = current_layout()
        with locked(lay) as st:
            pass
        m = probe.matrix(lay, st, a.port, a.proto, a.timeout)
        if a.output == "json":
            print(json.dumps(m, sort_keys=True))
        else:
            sys.stdout.write(probe.format_matrix(m))
        return 0
    if a.cmd == "exec":
        lay = current_layout()
        argv = strip_dashes(a.command)
        if not argv:
            raise SandboxError("exec: no command (e2e/sandbox exec NS/NAME -- CMD...)", 2)
        with locked(lay) as st:
            ns = resolve_netns(lay, st, a.target)
        return execvp(["nsenter", f"--net=/run/netns/{ns}", "--"] + argv)
    if a.cmd == "ctl":
        lay = current_layout()
        with locked(lay) as st:
            k = first_node(st, a.node)
        ctl = binary("agent/sluicectl")
        return execvp(["nsenter", f"--net=/run/netns/{lay.node_netns(k)}", "--", ctl,
                       "--bpffs", lay.node_bpffs(k), "--state-dir", lay.node_state_dir(k)]
                      + strip_dashes(a.args))
    if a.cmd == "wait-synced":
        d = cluster.wait_synced(a.timeout)
        if d:
            print(d)
        return 0
    if a.cmd == "agent":
        lay = current_layout()
        with locked(lay) as st:
            k = first_node(st, a.node)
        rec = cluster.restart_agent(k, a.timeout, kill=a.kill)
        cluster.say(f"node-{k}: agent restarted, pid {rec['pid']}, ready")
        return 0
    if a.cmd == "node":
        if a.node_cmd == "add":
            k = cluster.node_add(a.timeout)
            print(f"node-{k}")
        elif a.node_cmd == "del":
            cluster.node_del(a.k)
        else:
            lay = current_layout()
            with locked(lay) as st:
                nodes = st["nodes"]
            if a.output == "json":
                print(json.dumps(nodes, indent=1, sort_keys=True))
            else:
                for k in sorted(nodes, key=int):
                    n = nodes[k]
                    pid = (n.get("agent") or {}).get("pid", "-")
                    print(f"{n['name']:<8} {n['netns']:<20} {n['ip']:<12} {n['podCIDR']:<15} "
                          f"agent pid {pid}")
        return 0
    if a.cmd == "kubectl":
        lay = current_layout()
        return execvp(cluster.kubectl_argv(lay, strip_dashes(a.args)), cluster.kubectl_env(lay))
    if a.cmd == "apiserver":
        cluster.require_root()
        return cluster.apiserver_cmd(current_layout(), a.action, a.fault, a.body)
    raise SandboxError(f"unknown command {a.cmd}", 2)


def execvp(argv, env=None):
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if env is not None:
            os.execvpe(argv[0], argv, env)
        os.execvp(argv[0], argv)
    except OSError as e:
        raise SandboxError(f"{argv[0]}: {e.strerror}")


def main(argv=None):
    ap = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kubectl"] and argv[1:2] not in (["-h"], ["--help"]):
        # kubectl's own options (--request-timeout=…, -o …) go to kubectl as they are
        a = argparse.Namespace(cmd="kubectl", args=argv[1:])
    elif argv[:1] == ["ctl"] and argv[1:2] not in (["-h"], ["--help"]):
        # sluicectl's own options (-o json, …) go to sluicectl as they are; only a leading
        # --node K is the sandbox's
        rest, node = argv[1:], None
        if rest[:1] == ["--node"] and len(rest) > 1:
            node, rest = rest[1], rest[2:]
        elif rest[:1] and rest[0].startswith("--node="):
            node, rest = rest[0].split("=", 1)[1], rest[1:]
        try:
            node = None if node is None else node_number(node)
        except (argparse.ArgumentTypeError, ValueError) as e:
            ap.error(f"ctl --node: {e}")
        a = argparse.Namespace(cmd="ctl", node=node, args=rest)
    else:
        a = ap.parse_args(argv)
    try:
        if a.cmd in ("pod",) and getattr(a, "pod", None):
            parse_pod_ref(a.pod)
        return run(a)
    except SandboxError as e:
        print(f"e2e/sandbox {a.cmd}: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"e2e/sandbox {a.cmd}: interrupted", file=sys.stderr)
        return 130
