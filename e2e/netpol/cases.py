# cases.py - the conformance cases as data: loading and checking a case file (YAML), filling
# the templates of its policies with the pods' addresses, and expanding its expectations into
# one truth table per probe (port/protocol). The format is described in e2e/netpol/README.md.
import ipaddress
import os
import re

import yaml

from reach import PROBES, CaseError, from_grid, from_rules

CASE_KEYS = {"name", "upstream", "description", "steps"}
STEP_KEYS = {"note", "apply", "apply_fails", "delete", "label", "expect"}
EXPECT_KEYS = {"probes", "default", "rules", "grid"}
TEMPLATE_RE = re.compile(r"\{\{\s*(ip|cidr)\s+([a-z0-9-]+/[a-z0-9-]+)(?:\s+(\d+))?\s*\}\}")
LABEL_RE = re.compile(r"^(pod|ns)\s+(\S+)\s+((?:[A-Za-z0-9./_-]+(?:=[A-Za-z0-9._-]*|-)\s*)+)$")


class Case:
    def __init__(self, path, data):
        self.path = path
        self.file = os.path.basename(path)
        self.name = data.get("name") or os.path.splitext(self.file)[0]
        self.upstream = data.get("upstream")
        self.description = data.get("description", "")
        self.steps = data["steps"]


def load(path):
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise CaseError(f"{path}: {e}")
    where = os.path.basename(path)
    if not isinstance(data, dict):
        raise CaseError(f"{where}: want a mapping with name, upstream, steps")
    bad = set(data) - CASE_KEYS
    if bad:
        raise CaseError(f"{where}: unknown key(s) {sorted(bad)}; want {sorted(CASE_KEYS)}")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise CaseError(f"{where}: steps: want a non-empty list")
    for i, s in enumerate(steps):
        w = f"{where}: steps[{i}]"
        if not isinstance(s, dict):
            raise CaseError(f"{w}: want a mapping")
        bad = set(s) - STEP_KEYS
        if bad:
            raise CaseError(f"{w}: unknown key(s) {sorted(bad)}; want {sorted(STEP_KEYS)}")
        if "apply" in s and "apply_fails" in s:
            raise CaseError(f"{w}: apply and apply_fails exclude each other")
        for k in ("apply",):
            if k in s and not isinstance(s[k], str):
                raise CaseError(f"{w}: {k}: want the YAML text of the objects (a string)")
        if "apply_fails" in s and not (isinstance(s["apply_fails"], dict)
                                       and set(s["apply_fails"]) == {"yaml", "error"}):
            raise CaseError(f"{w}: apply_fails: want {{yaml: TEXT, error: SUBSTRING}}")
        for k in ("delete", "label"):
            if k in s and not (isinstance(s[k], list) and all(isinstance(x, str) for x in s[k])):
                raise CaseError(f"{w}: {k}: want a list of strings")
        for d in s.get("delete", []):
            if d.count("/") != 1:
                raise CaseError(f"{w}: delete {d!r}: want NS/NAME of a NetworkPolicy")
        for lab in s.get("label", []):
            if not LABEL_RE.match(lab):
                raise CaseError(f"{w}: label {lab!r}: want 'pod NS/NAME k=v|k-...' or "
                                f"'ns NAME k=v|k-...'")
        if not isinstance(s.get("expect"), list) or not s["expect"]:
            raise CaseError(f"{w}: expect: want a list of {{probes, default, rules}} or "
                            f"{{probes, grid}}")
        expect_probes(s["expect"], w)
    return Case(path, data)


def expect_probes(expect, where):
    """[(probes, block)] covering each of PROBES exactly once ('all'; 'rest' = the others)."""
    out, seen = [], set()
    for j, e in enumerate(expect):
        w = f"{where}.expect[{j}]"
        if not isinstance(e, dict):
            raise CaseError(f"{w}: want a mapping")
        bad = set(e) - EXPECT_KEYS
        if bad:
            raise CaseError(f"{w}: unknown key(s) {sorted(bad)}; want {sorted(EXPECT_KEYS)}")
        if ("grid" in e) == ("default" in e or "rules" in e):
            raise CaseError(f"{w}: want either grid, or default (+ rules)")
        if "grid" not in e and e.get("default") not in ("allow", "deny"):
            raise CaseError(f"{w}: default: want allow or deny")
        p = e.get("probes", "all")
        if p == "all":
            probes = list(PROBES)
        elif p == "rest":
            probes = [x for x in PROBES if x not in seen]
        elif isinstance(p, list) and all(x in PROBES for x in p):
            probes = p
        else:
            raise CaseError(f"{w}: probes: want all, rest or a list of {PROBES}")
        dup = seen.intersection(probes)
        if dup:
            raise CaseError(f"{w}: probes {sorted(dup)} expected twice")
        seen.update(probes)
        out.append((probes, e))
    if seen != set(PROBES):
        raise CaseError(f"{where}: expect says nothing about {sorted(set(PROBES) - seen)} "
                        f"(every step expects all of {PROBES}; 'probes: rest' covers the others)")
    return out


def expected_tables(step, pods, where):
    """{probe: {from: {to: bool}}} for one step."""
    out = {}
    for probes, e in expect_probes(step["expect"], where):
        if "grid" in e:
            m = from_grid(pods, e["grid"], where)
        else:
            m = from_rules(pods, e["default"] == "allow", e.get("rules") or [], where)
        for p in probes:
            out[p] = m
    return out


def fill(text, ips, where):
    """{{ip NS/NAME}} -> the pod's IPv4; {{cidr NS/NAME BITS}} -> the network of that length
    holding the pod's address (e.g. its node's pod range for 24)."""
    def sub(m):
        kind, ref, bits = m.group(1), m.group(2), m.group(3)
        if ref not in ips:
            raise CaseError(f"{where}: template {m.group(0)}: no pod {ref}")
        if kind == "ip":
            if bits:
                raise CaseError(f"{where}: template {m.group(0)}: ip takes no length")
            return ips[ref]
        if bits is None or not 0 <= int(bits) <= 32:
            raise CaseError(f"{where}: template {m.group(0)}: want cidr NS/NAME BITS (0..32)")
        return str(ipaddress.ip_network(f"{ips[ref]}/{bits}", strict=False))
    out = TEMPLATE_RE.sub(sub, text)
    if "{{" in out:
        raise CaseError(f"{where}: unknown template in {out[out.index('{{'):][:40]!r}")
    return out
