#!/usr/bin/env python3
# test_ctl_e2e.py - sluicectl and /metrics against a fixed sandbox scenario (one node, the real
# agent in Kubernetes mode, policies through the real kubectl):
#   - golden outputs of every command (tests/ctl/golden/*.txt, volatile fields normalised;
#     SLUICE_GOLDEN_UPDATE=1 rewrites them), -o json and -o yaml parsed and equal, exit codes;
#   - monitor shows a denied probe's drop with the policy that selected the pod;
#   - maps pinned with BTF: bpftool map dump pretty-prints them;
#   - /metrics passes `promtool check metrics` and a real Prometheus server (started in the
#     node's namespace on loopback, own config and data dir) sees the drop counter move;
#   - with the agent down, the commands still read the pins and say names may be missing.
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(os.path.dirname(os.path.dirname(HERE)), "e2e")
sys.path.insert(0, os.path.join(E2E, "tests"))

from harness import Sandbox, Tally, leaks, preflight, wait_for  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")
UPDATE = os.environ.get("SLUICE_GOLDEN_UPDATE") == "1"
PORTS = ["--port", "serve-80-tcp:80/TCP", "--port", "serve-80-udp:80/UDP"]
NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: "x"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: "y", labels: {ns: "y"}}
"""
# x/b takes TCP 80 from pod=a of its namespace only; y/c may send UDP 80 to the pod range
# except x/b (an ipBlock with an except).
POLICIES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-a-to-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {pod: a}}}]
      ports: [{protocol: TCP, port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-egress-udp, namespace: "y"}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 10.244.1.0/24, except: [@XB@/32]}}]
      ports: [{protocol: UDP, port: 80}]
"""


def normalise(text, counts=False):
    """Volatile fields out: host interface names, MACs, ids, pids, digests, counts, times,
    ephemeral ports, temp paths."""
    subs = [
        (r"sl[0-9a-f]{12}", "<hostif>"),
        (r"([0-9a-f]{2}:){5}[0-9a-f]{2}", "<mac>"),
        (r"pid \d+", "pid <pid>"),
        (r"digest [0-9a-f]{16}", "digest <digest>"),
        (r"\bid \d+", "id <id>"),
        (r"/tmp/sluice-e2e-[^/\s]+", "<dir>"),
        (r"\bslt[a-z]{0,4}\d+", "<prefix>"),
        (r"containerID: \"[0-9a-f]+\"", "containerID: <cid>"),
        (r"hostIfindex: \d+", "hostIfindex: <ifindex>"),
        (r"identity: \d+", "identity: <n>"),
        (r"policySet: \d+", "policySet: <n>"),
        (r"/sys/fs/bpf/[a-z0-9]+/", "<bpffs>/"),
        (r"\b(policy set|set|rule|identity) \d+", r"\1 <n>"),
        (r"(\d+\.\d+\.\d+\.\d+):(\d{4,5})\b(?!/)", r"\1:<eport>"),
        (r"\b\d+s\b|\bexpired\b", "<t>"),
        (r"\b\d{2}:\d{2}:\d{2}\.\d{3}\b", "<time>"),
    ]
    for pat, rep in subs:
        text = re.sub(pat, rep, text)
    out = []
    for line in text.splitlines():
        # counters columns (packets, bytes) at the end of table rows, and map fill lines
        if counts:
            line = re.sub(r"(\s+)\d+(\s+)\d+$", r"\1<p>\2<b>", line)
            line = re.sub(r"(\s+)\d+(\s+)\d+(\s+(ingress|egress|no policy).*)$",
                          r"\1<p>\2<b>\3", line)
        line = re.sub(r"^(  map\s+sl_\w+\s+)\d+ / \d+\s+\d+\.\d%", r"\1<n> / <max> <fill>", line)
        line = re.sub(r"(?<=\S) {2,}", "  ", line)  # column widths follow the values
        out.append(line.rstrip())
    return "\n".join(out) + "\n"


class Ctl:
    def __init__(self, t, sb):
        self.t, self.sb = t, sb

    def run(self, *args, check=None):
        p = self.sb.run("ctl", "--", *args, check=False)
        if check is not None:
            self.t.check(p.returncode == check, f"sluicectl {' '.join(map(str, args))}: exit "
                         f"{check}", f"exit {p.returncode}: {p.stderr.strip()[:300]}")
        return p

    def golden(self, name, *args, rc=0, counts=False):
        p = self.run(*args, check=rc)
        got = normalise(p.stdout, counts)
        path = os.path.join(GOLDEN, name + ".txt")
        if UPDATE:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                f.write(got)
        try:
            with open(path) as f:
                want = f.read()
        except FileNotFoundError:
            want = None
        ok = want == got
        detail = ""
        if not ok:
            detail = f"golden {path} differs; got:\n{got}\nwant:\n{want}"
        self.t.check(ok, f"golden: sluicectl {' '.join(map(str, args))}", detail)
        return p

    def machine(self, *args, rc=0):
        """-o json and -o yaml: both parse, and say the same."""
        import yaml
        pj = self.run("-o", "json", *args, check=rc)
        py = self.run("-o", "yaml", *args, check=rc)
        try:
            dj = json.loads(pj.stdout)
            dy = yaml.safe_load(py.stdout)
        except (ValueError, yaml.YAMLError) as e:
            self.t.check(False, f"sluicectl -o json|yaml {' '.join(map(str, args))} parse",
                         str(e))
            return None
        self.t.check(_loose(dj) == _loose(dy),
                     f"sluicectl {' '.join(map(str, args))}: -o yaml says what -o json says")
        return dj


def _loose(v):
    """Floats that YAML and JSON may render differently are compared rounded; volatile
    counters are dropped (they may move between the two calls)."""
    if isinstance(v, dict):
        return {k: _loose(x) for k, x in v.items()
                if k not in ("packets", "bytes", "entries", "fill", "expiresInSeconds", "time",
                             "loadTime", "digest", "expired")}
    if isinstance(v, list):
        return [_loose(x) for x in v]
    if isinstance(v, float):
        return round(v, 6)
    return v


def has_names(sb):
    """Whether the agent answers the names op (its mode has the with_model hook)."""
    p = sb.run("ctl", "--", "-o", "json", "policy", "get", "x/b", check=False)
    try:
        return "selectedBy" in json.loads(p.stdout)["ingress"]
    except (ValueError, KeyError, TypeError):
        return False


def scenario(sb):
    sb.run("up", timeout=300)
    sb.run("kubectl", "apply", "-f", "-", input=NAMESPACES)
    for ref, lab in (("x/a", "pod=a"), ("x/b", "pod=b"), ("y/c", "pod=c")):
        sb.run("pod", "add", ref, "--label", lab, *PORTS)
    sb.run("kubectl", "apply", "-f", "-",
           input=POLICIES.replace("@XB@", sb.pod_ip("x/b")))
    sb.run("wait-synced")


def commands(t, sb, names):
    c = Ctl(t, sb)
    # traffic first, so that counters, ct and rule stats have something
    t.check(sb.probe("x/a", "x/b", 80, "tcp"), "x/a -> x/b tcp/80 answers (allowed by rule)")
    t.check(not sb.probe("x/a", "x/b", 80, "udp", timeout=0.5), "x/a -> x/b udp/80 dropped")
    t.check(sb.probe("y/c", "x/a", 80, "udp"), "y/c -> x/a udp/80 answers (ipBlock)")
    t.check(not sb.probe("y/c", "x/b", 80, "udp", timeout=0.5), "y/c -> x/b udp/80 dropped "
            "(except)")
    suffix = ""
    c.golden("status" + suffix, "status")
    c.golden("endpoint-list" + suffix, "endpoint", "list")
    c.golden("endpoint-get" + suffix, "endpoint", "get", "x/b")
    c.golden("policy-all" + suffix, "policy", "get", "--all", counts=True)
    c.golden("explain-allow" + suffix, "explain", "x/a", "x/b", "80/tcp")
    c.golden("explain-deny" + suffix, "explain", "x/a", "x/b", "80/udp", rc=3)
    c.golden("explain-cidr" + suffix, "explain", "y/c", "x/a", "80/udp")
    c.golden("explain-except" + suffix, "explain", "y/c", "x/b", "80/udp", rc=3)
    c.golden("matrix-tcp" + suffix, "matrix", "--port", "80/tcp")
    c.golden("matrix-udp" + suffix, "matrix", "-n", "x", "--port", "80/udp")
    c.golden("ct-tcp80" + suffix, "ct", "list", "--proto", "tcp", "--port", "80",
             counts=True)

    st = c.machine("status")
    t.check(st and st.get("mode") == "kubernetes" and st.get("synced") is True,
            "status -o json: kubernetes mode, synced")
    maps = {m["name"]: m for m in (st or {}).get("datapath", {}).get("maps", [])}
    t.check(maps.get("sl_endpoints", {}).get("entries") == 3 and
            all(m.get("btf") for n, m in maps.items() if n != "sl_events"),
            "status: sl_endpoints holds 3 entries; every map with keys has BTF")
    eps = c.machine("endpoint", "list")
    t.check(sorted(f"{e.get('namespace')}/{e.get('pod')}" for e in eps or []) ==
            ["x/a", "x/b", "y/c"], "endpoint list -o json: the three pods")
    pol = c.machine("policy", "get", "x/b")
    rows = (pol or {}).get("ingress", {}).get("entries", [])
    t.check(len(rows) == 1 and rows[0]["protocol"] == "tcp" and rows[0]["ports"] == "80" and
            rows[0]["packets"] >= 1, "policy get x/b: one ingress entry, tcp/80, counted",
            json.dumps(rows))
    if names:
        t.check(rows and rows[0].get("policy", {}).get("policy") == "allow-a-to-b" and
                rows[0]["policy"].get("index") == 0 and
                rows[0]["peer"].get("labels") == {"pod": "a"},
                "policy get x/b: the rule is x/allow-a-to-b ingress[0], peer pod=a",
                json.dumps(rows))
    else:
        print("skip policy names: the agent does not answer the names op", flush=True)
    ex = c.machine("explain", "x/a", "x/b", "80/udp", rc=3)
    t.check(ex and ex["verdict"] == "deny" and
            [d["verdict"] for d in ex["directions"]] == ["allow", "deny"],
            "explain -o json: egress of x/a allows, ingress of x/b denies")
    if names:
        t.check(ex and ex["modelCheck"]["checked"] and ex["modelCheck"]["agrees"] and
                ex["directions"][1].get("selectedBy") == ["x/allow-a-to-b"],
                "explain: the compiler model agrees; x/b selected by x/allow-a-to-b",
                json.dumps(ex))
    m = c.machine("matrix", "--port", "80/tcp")
    t.check(m == {"x/a": {"x/b": True, "y/c": True}, "x/b": {"x/a": True, "y/c": True},
                  "y/c": {"x/a": False, "x/b": False}} if m else False,
            "matrix -o json 80/tcp: y/c may send nothing over TCP, x/b takes x/a only", str(m))
    ct = c.machine("ct", "list", "--pod", "x/b")
    t.check(ct and all("x/b" in (e.get("srcPod"), e.get("dstPod")) for e in ct) and
            any(e["protocol"] == "tcp" and e["dport"] == 80 for e in ct),
            "ct list --pod x/b: only x/b's flows, the allowed TCP flow among them")
    cnt = c.machine("counters")
    drops = {(e["reason"], e["direction"]): e["packets"] for e in cnt or []}
    t.check(drops.get(("drop_policy", "ingress"), 0) >= 1 and
            drops.get(("drop_policy", "egress"), 0) >= 1,
            "counters: policy drops counted in both directions")
    # usage errors
    c.run("explain", "x/a", check=2)
    c.run("explain", "x/a", "x/b", "80/gre", check=2)
    c.run("matrix", "--port", "0/tcp", check=2)
    c.run("ct", "list", "--state", "frobbing", check=2)
    c.run("policy", "get", check=2)
    c.run("monitor", "--verdict", "maybe", check=2)
    c.run("explain", "nope/nope", "x/b", "80", check=1)
    p = c.run("policy", "get", "--help", check=0)
    t.check("Usage: sluicectl policy get" in p.stdout, "policy get --help prints its usage")


def monitor(t, sb, names):
    """A denied probe's drop event, named."""
    p = sb.popen("ctl", "--", "-o", "json", "monitor", "--type", "drop", "--reason", "drop_policy",
                 "--pod", "x/b", "--count", "1", "--timeout", "30")
    try:
        line = p.stderr.readline()  # "reading <pin>": the ring buffer is open
        t.check("reading" in line, "monitor started", line.strip())
        t.check(not sb.probe("x/a", "x/b", 80, "udp", timeout=0.5),
                "x/a -> x/b udp/80 dropped (for the monitor)")
        out, err = p.communicate(timeout=40)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    try:
        ev = json.loads(out.splitlines()[0])
    except (ValueError, IndexError):
        t.check(False, "monitor printed one JSON event", f"stdout {out!r} stderr {err!r}")
        return
    t.check(ev["srcPod"] == "x/a" and ev["dstPod"] == "x/b" and ev["direction"] == "ingress"
            and ev["protocol"] == "udp" and ev["dport"] == 80 and ev["verdict"] == "drop",
            "monitor: the drop of x/a -> x/b udp/80 at x/b's ingress", json.dumps(ev))
    if names:
        t.check(ev.get("selectedBy") == ["x/allow-a-to-b"] and "x/allow-a-to-b" in ev["why"],
                "monitor: the drop names the policy that selected x/b", json.dumps(ev))
    else:
        print("skip monitor policy name: the agent does not answer the names op", flush=True)
    p = sb.run("ctl", "--", "monitor", "--timeout", "0.3", check=False)
    t.check(p.returncode == 0, "monitor --timeout ends with exit 0", p.stderr.strip())


def btf(t, sb):
    pin = os.path.join(sb.layout.node_bpffs(1), "v1")
    for m in ("sl_endpoints", "sl_peer", "sl_ct", "sl_ports"):
        p = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", os.path.join(pin, m)],
                           text=True, capture_output=True)
        try:
            ents = json.loads(p.stdout)
            ok = p.returncode == 0 and bool(ents) and all(
                isinstance(e.get("formatted", {}).get("key"), dict) for e in ents)
        except ValueError:
            ok = False
        t.check(ok, f"bpftool map dump {m}: pretty-printed through BTF (named fields)",
                p.stdout[:200] + p.stderr[:200])


def in_node(sb, *argv, **kw):
    return subprocess.run(["nsenter", f"--net=/run/netns/{sb.layout.node_netns(1)}", "--",
                           *argv], text=True, capture_output=True, **kw)


def http_get(sb, url):
    p = in_node(sb, sys.executable, "-c",
                "import sys,urllib.request;"
                "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())",
                url, timeout=20)
    if p.returncode != 0:
        raise RuntimeError(f"GET {url}: {p.stderr.strip()}")
    return p.stdout


def metrics(t, sb):
    text = http_get(sb, "http://127.0.0.1:9962/metrics")
    p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                       capture_output=True)
    t.check(p.returncode == 0, "promtool check metrics: clean", p.stdout + p.stderr)
    for name in ("sluice_drops_total", "sluice_forwards_total", "sluice_policy_verdicts_total",
                 "sluice_policy_apply_duration_seconds", "sluice_map_fill_ratio",
                 "sluice_endpoints", "sluice_k8s_watch_reconnects_total",
                 "sluice_k8s_relists_total", "sluice_conntrack_entries",
                 "sluice_conntrack_gc_runs_total", "sluice_events_lost_total"):
        t.check(f"# TYPE {name} " in text, f"/metrics has {name}")
    t.check(re.search(r'^sluice_endpoints 3$', text, re.M) is not None, "/metrics: 3 endpoints")

    def gc_runs():
        m = re.search(r"^sluice_conntrack_gc_runs_total (\d+)$",
                      http_get(sb, "http://127.0.0.1:9962/metrics"), re.M)
        return int(m.group(1)) if m else 0
    try:
        wait_for(lambda: gc_runs() >= 1, 30, "a conntrack gc run")
        t.check(True, "/metrics: the agent's conntrack gc runs and is counted")
    except RuntimeError as e:
        t.check(False, "/metrics: the agent's conntrack gc runs and is counted", str(e))
    prometheus(t, sb)


def prometheus(t, sb):
    """A real Prometheus server in the node's namespace scrapes the agent; its query API shows
    sluice_drops_total{reason="policy"} move after a denied probe."""
    d = tempfile.mkdtemp(prefix="slt-ctl-prom-")
    port = 19090
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n  - job_name: sluice\n"
                "    static_configs: [{targets: ['127.0.0.1:9962']}]\n")
    log = open(os.path.join(d, "log"), "w")
    proc = subprocess.Popen(["nsenter", f"--net=/run/netns/{sb.layout.node_netns(1)}", "--",
                             "prometheus", f"--config.file={cfg}",
                             f"--storage.tsdb.path={d}/data",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    q = 'sum(sluice_drops_total{reason="policy",direction="ingress"})'

    def query():
        try:
            r = json.loads(http_get(sb, f"http://127.0.0.1:{port}/api/v1/query?query=" +
                                    urllib.parse.quote(q)))
            res = r["data"]["result"]
            return float(res[0]["value"][1]) if res else None
        except (RuntimeError, ValueError, KeyError, IndexError):
            return None
    try:
        wait_for(lambda: query() is not None, 60, "Prometheus to scrape the agent")
        before = query()
        t.check(True, f"Prometheus scraped the agent: {q} = {before}")
        for _ in range(3):
            sb.probe("x/a", "x/b", 80, "udp", timeout=0.3)
        wait_for(lambda: (query() or 0) > before, 30, "the drop counter to move in Prometheus")
        t.check(True, f"Prometheus saw the drop counter move: {before} -> {query()}")
        up = json.loads(http_get(sb, f"http://127.0.0.1:{port}/api/v1/query?query=up"))
        t.check(up["data"]["result"][0]["value"][1] == "1", "Prometheus: the target is up")
    except RuntimeError as e:
        with open(os.path.join(d, "log")) as f:
            tail = f.read()[-1500:]
        t.check(False, "Prometheus scrape", f"{e}\n{tail}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def agent_down(t, sb):
    pid = sb.state()["nodes"]["1"]["agent"]["pid"]
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
             open(f"/proc/{pid}/stat").read().split()[2] == "Z", 30, "the agent to exit")
    c = Ctl(t, sb)
    p = c.run("status", check=1)
    t.check("not reachable" in p.stdout and "sl_endpoints" in p.stdout,
            "agent down: status says so and still shows the datapath")
    p = c.run("endpoint", "list", check=0)
    t.check("x/b" in p.stdout and "names" in p.stderr,
            "agent down: endpoint list from the pins and the state file, with a note",
            p.stdout + p.stderr)
    p = c.run("policy", "get", "x/b", check=0)
    t.check("tcp" in p.stdout and "note" in p.stderr, "agent down: policy get reads the pins",
            p.stdout + p.stderr)
    p = c.run("explain", "x/a", "x/b", "80/udp", check=3)
    t.check("not checked" in p.stdout, "agent down: explain still answers, model not checked",
            p.stdout)


def main():
    preflight()
    t = Tally("ctl-e2e")
    sb = Sandbox("ctl")
    try:
        scenario(sb)
        names = has_names(sb)
        t.check(names, "the agent names identities, rules and policy sets (names op)")
        commands(t, sb, names)
        monitor(t, sb, names)
        btf(t, sb)
        metrics(t, sb)
        agent_down(t, sb)
    except Exception:
        t.crash("ctl-e2e")
    finally:
        t.check(sb.down(), "sandbox down")
        left = leaks(sb)
        t.check(not left, "nothing left behind", ", ".join(left))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
