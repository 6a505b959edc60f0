"""selectors.py - label selectors and field selectors, as kube-apiserver parses them."""

import re


class SelectorError(ValueError):
    pass


_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?"
                     r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VAL_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _check_key(k):
    if not _KEY_RE.match(k) or len(k.split("/")[-1]) > 63:
        raise SelectorError("unable to parse requirement: invalid label key \"%s\"" % k)


def _check_value(v):
    if not _VAL_RE.match(v) or len(v) > 63:
        raise SelectorError("unable to parse requirement: invalid label value: \"%s\"" % v)


def _split_top(s):
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


_SET_RE = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\((.*)\)\s*$")
_OP_RE = re.compile(r"^\s*([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(\S*)\s*$")


def parse_labels(s):
    """Parse a labelSelector string into [(key, op, values)]; ops: in notin exists !exists
    gt lt. An empty string selects everything."""
    reqs = []
    if not s or not s.strip():
        return reqs
    for part in _split_top(s):
        if not part.strip():
            raise SelectorError("unable to parse requirement: found '', expected: identifier")
        m = _SET_RE.match(part)
        if m:
            key, op, vals = m.group(1), m.group(2), [v.strip() for v in m.group(3).split(",")]
            _check_key(key)
            for v in vals:
                _check_value(v)
            reqs.append((key, op, set(vals)))
            continue
        m = _OP_RE.match(part)
        if m:
            key, op, val = m.groups()
            _check_key(key)
            if op in ("<", ">"):
                if not re.match(r"^-?[0-9]+$", val):
                    raise SelectorError("unable to parse requirement: for 'Gt', 'Lt' "
                                        "operators, the value must be an integer")
                reqs.append((key, "gt" if op == ">" else "lt", int(val)))
                continue
            _check_value(val)
            reqs.append((key, "notin" if op == "!=" else "in", {val}))
            continue
        p = part.strip()
        if p.startswith("!"):
            _check_key(p[1:].strip())
            reqs.append((p[1:].strip(), "!exists", None))
        else:
            _check_key(p)
            reqs.append((p, "exists", None))
    return reqs


def match_labels(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        present = key in labels
        if op == "in":
            if not present or labels[key] not in vals:
                return False
        elif op == "notin":
            if present and labels[key] in vals:
                return False
        elif op == "exists":
            if not present:
                return False
        elif op == "!exists":
            if present:
                return False
        else:
            try:
                n = int(labels.get(key, ""))
            except ValueError:
                return False
            if (op == "gt" and not n > vals) or (op == "lt" and not n < vals):
                return False
    return True


def _unescape_split(s, sep):
    """Split s on unescaped sep; '\\' escapes ',', '=', '!' and '\\'."""
    parts, cur, i = [], [], 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def parse_fields(s, supported):
    """Parse a fieldSelector into [(field, equal, value)]; raise on unsupported fields."""
    reqs = []
    if not s or not s.strip():
        return reqs
    for part in _unescape_split(s, ","):
        m = re.match(r"^([^=!]+?)(==|=|!=)(.*)$", part)
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand '%s'" % (s, part))
        field, op, val = m.group(1).strip(), m.group(2), _unescape(m.group(3))
        if field not in supported:
            raise SelectorError('field label not supported: %s' % field)
        reqs.append((field, op != "!=", val))
    return reqs


_FIELD_PATHS = {"source": "source.component"}


def field_value(obj, field):
    cur = obj
    for p in _FIELD_PATHS.get(field, field).split("."):
        if not isinstance(cur, dict):
            cur = None
            break
        cur = cur.get(p)
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if cur is None:
        if field in ("spec.hostNetwork", "spec.unschedulable"):
            return "false"
        return ""
    return str(cur)


def match_fields(reqs, obj):
    for field, equal, val in reqs:
        if (field_value(obj, field) == val) != equal:
            return False
    return True

