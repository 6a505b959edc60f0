"""patch.py - the four patch types (JSON merge, strategic merge, JSON patch, server-side
apply) and the field sets behind metadata.managedFields."""

import copy
import json


class PatchError(ValueError):
    """A patch that cannot be applied; code is the HTTP status to answer."""

    def __init__(self, message, code=422):
        super().__init__(message)
        self.code = code


# --- RFC 7386 JSON merge patch ------------------------------------------------------------

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# --- strategic merge patch ----------------------------------------------------------------

def _join(path, key):
    return key if not path else path + "." + key


def strategic_merge(target, patch, rtype, path=""):
    """Apply a strategic merge patch; rtype.smp_key(path) gives the list merge keys."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch: expected an object at %s" % (path or "top"),
                         400)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    if directive is not None:
        raise PatchError("strategic merge patch: unknown $patch directive %r" % directive)
    out = dict(target) if isinstance(target, dict) else {}
    orders = {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/"):
            orders[k[len("$setElementOrder/"):]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k[len("$deleteFromPrimitiveList/"):]
            if isinstance(out.get(field), list) and isinstance(v, list):
                out[field] = [x for x in out[field] if x not in v]
            continue
        if k.startswith("$"):
            continue
        sub = _join(path, k)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            merged = strategic_merge(out.get(k), v, rtype, sub)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
        elif isinstance(v, list):
            out[k] = _merge_list(out.get(k), v, rtype, sub)
        else:
            out[k] = v
    for field, order in orders.items():
        if isinstance(out.get(field), list) and isinstance(order, list):
            out[field] = _reorder(out[field], order, rtype, _join(path, field))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(orig, patch, rtype, path):
    mergeable, key = rtype.smp_key(path)
    replace = any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch)
    if not mergeable or not isinstance(orig, list) or replace:
        return [_strip(e) for e in patch if not (isinstance(e, dict) and "$patch" in e)]
    out = list(orig)
    if key is None:
        for e in patch:
            if e not in out:
                out.append(e)
        return out
    for e in patch:
        if not isinstance(e, dict) or key not in e:
            raise PatchError("strategic merge patch: list %s: element without merge key %r"
                             % (path, key))
        idx = next((i for i, o in enumerate(out)
                    if isinstance(o, dict) and o.get(key) == e[key]), None)
        if e.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            out.append(_strip(e))
        else:
            out[idx] = strategic_merge(out[idx], e, rtype, path)
    return out


def _reorder(items, order, rtype, path):
    _, key = rtype.smp_key(path)

    def ident(e):
        if key is not None and isinstance(e, dict):
            return json.dumps(e.get(key), sort_keys=True)
        if key is None and not isinstance(e, dict):
            return json.dumps(e, sort_keys=True)
        return None

    rank = {}
    for i, o in enumerate(order):
        rank.setdefault(ident(o), i)
    listed = sorted((e for e in items if ident(e) in rank), key=lambda e: rank[ident(e)])
    return listed + [e for e in items if ident(e) not in rank]


def _strip(v):
    """Remove directives from a value added by a patch."""
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


# --- RFC 6902 JSON patch ------------------------------------------------------------------

def _pointer(p):
    if p == "":
        return []
    if not p.startswith("/"):
        raise PatchError("json patch: invalid path %r" % p)
    return [t.replace("~1", "/").replace("~0", "~") for t in p[1:].split("/")]


def _walk(doc, tokens, path):
    cur = doc
    for t in tokens:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            raise PatchError("json patch: path %s does not exist" % path)
    return cur


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("json patch: the body must be a JSON array of operations", 400)
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("json patch: malformed operation %s" % json.dumps(op), 400)
        kind, path = op["op"], op["path"]
        tokens = _pointer(path)
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError("json patch: %s %s: missing value" % (kind, path), 400)
        if kind == "test":
            if _walk(doc, tokens, path) != op["value"]:
                raise PatchError("json patch: test failed at %s" % path)
            continue
        if kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            val = copy.deepcopy(_walk(doc, src, op.get("from")))
            if kind == "move":
                doc = _remove(doc, src, op.get("from"))
            doc = _add(doc, tokens, val, path, False)
        elif kind == "remove":
            doc = _remove(doc, tokens, path)
        elif kind == "add":
            doc = _add(doc, tokens, copy.deepcopy(op["value"]), path, False)
        elif kind == "replace":
            _walk(doc, tokens, path)
            doc = _add(doc, tokens, copy.deepcopy(op["value"]), path, True)
        else:
            raise PatchError("json patch: unknown operation %r" % kind, 400)
    return doc


def _add(doc, tokens, val, path, replace):
    if not tokens:
        return val
    parent = _walk(doc, tokens[:-1], path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = val
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(val)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = val
            else:
                parent.insert(int(last), val)
        else:
            raise PatchError("json patch: index out of range at %s" % path)
    else:
        raise PatchError("json patch: path %s does not exist" % path)
    return doc


def _remove(doc, tokens, path):
    if not tokens:
        raise PatchError("json patch: cannot remove the whole document")
    parent = _walk(doc, tokens[:-1], path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise PatchError("json patch: path %s does not exist" % path)
    return doc


# --- field sets (managedFields) and server-side apply -------------------------------------

# Server-owned or identifying fields that no manager owns.
_UNOWNED_META = {"name", "namespace", "uid", "resourceVersion", "generation",
                 "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
                 "deletionGracePeriodSeconds"}


def _elem_key(key, e):
    return "k:" + json.dumps({key: e.get(key)}, separators=(",", ":"), sort_keys=True)


def field_set(obj, rtype, skip_status=False):
    """The set of field paths (tuples of fieldsV1 keys) present in obj."""
    out = set()

    def walk(v, prefix, path):
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(x, prefix + ("f:" + k,), _join(path, k))
            return
        if isinstance(v, list) and v:
            mergeable, key = rtype.smp_key(path)
            if mergeable and key is None:
                for e in v:
                    out.add(prefix + ("v:" + json.dumps(e, separators=(",", ":")),))
                return
            if mergeable and all(isinstance(e, dict) and key in e for e in v):
                for e in v:
                    p = prefix + (_elem_key(key, e),)
                    out.add(p)
                    walk(e, p, path)
                return
        out.add(prefix)

    for k, v in (obj or {}).items():
        if k in ("apiVersion", "kind") or (k == "status" and skip_status):
            continue
        if k == "metadata" and isinstance(v, dict):
            for mk, mv in v.items():
                if mk not in _UNOWNED_META:
                    walk(mv, ("f:metadata", "f:" + mk), "metadata." + mk)
            continue
        walk(v, ("f:" + k,), k)
    return out


def changed_fields(old, new, rtype, skip_status=False):
    """Paths of new whose value differs from old (what an update takes ownership of)."""
    old_set = field_set(old, rtype, skip_status)
    out = set()
    for p in field_set(new, rtype, skip_status):
        if p not in old_set or _get(old, p) != _get(new, p):
            out.add(p)
    return out


def _get(obj, path):
    cur = obj
    for t in path:
        if t.startswith("f:"):
            if not isinstance(cur, dict):
                return None
            cur = cur.get(t[2:])
        elif t.startswith("k:"):
            want = json.loads(t[2:])
            if not isinstance(cur, list):
                return None
            cur = next((e for e in cur if isinstance(e, dict)
                        and all(e.get(k) == v for k, v in want.items())), None)
        elif t.startswith("v:"):
            want = json.loads(t[2:])
            return want if isinstance(cur, list) and want in cur else None
    return cur


def to_fields_v1(paths):
    root = {}
    for p in sorted(paths):
        node = root
        for t in p:
            node = node.setdefault(t, {})
    # a path that is also a prefix of others is marked with "."
    for p in paths:
        node = root
        for t in p:
            node = node[t]
        if node and "." not in node:
            node["."] = {}
    return root


def from_fields_v1(tree):
    out = set()

    def walk(node, prefix):
        if not node:
            out.add(prefix)
            return
        for k, v in node.items():
            if k == ".":
                out.add(prefix)
            else:
                walk(v if isinstance(v, dict) else {}, prefix + (k,))

    if isinstance(tree, dict):
        for k, v in tree.items():
            walk(v if isinstance(v, dict) else {}, (k,))
    return out


def remove_path(obj, path):
    """Delete the field at path from obj (in place); missing paths are ignored."""
    cur = obj
    for i, t in enumerate(path):
        last = i == len(path) - 1
        if t.startswith("f:"):
            if not isinstance(cur, dict) or t[2:] not in cur:
                return
            if last:
                del cur[t[2:]]
                return
            cur = cur[t[2:]]
        elif t.startswith("k:"):
            want = json.loads(t[2:])
            if not isinstance(cur, list):
                return
            idx = next((j for j, e in enumerate(cur) if isinstance(e, dict)
                        and all(e.get(k) == v for k, v in want.items())), None)
            if idx is None:
                return
            if last:
                del cur[idx]
                return
            cur = cur[idx]
        elif t.startswith("v:"):
            want = json.loads(t[2:])
            if isinstance(cur, list) and want in cur:
                cur.remove(want)
            return


def apply_merge(live, config, rtype, path=""):
    """Merge an applied configuration into a live object (structured merge: maps merge,
    lists with a merge key merge by key, primitive sets union, other lists replace)."""
    if not isinstance(config, dict):
        return copy.deepcopy(config)
    out = dict(live) if isinstance(live, dict) else {}
    for k, v in config.items():
        sub = _join(path, k)
        if isinstance(v, dict):
            out[k] = apply_merge(out.get(k), v, rtype, sub)
        elif isinstance(v, list):
            mergeable, key = rtype.smp_key(sub)
            cur = out.get(k)
            if mergeable and isinstance(cur, list):
                if key is None:
                    out[k] = list(cur) + [e for e in v if e not in cur]
                elif all(isinstance(e, dict) and key in e for e in v):
                    merged = list(cur)
                    for e in v:
                        idx = next((i for i, o in enumerate(merged)
                                    if isinstance(o, dict) and o.get(key) == e[key]), None)
                        if idx is None:
                            merged.append(copy.deepcopy(e))
                        else:
                            merged[idx] = apply_merge(merged[idx], e, rtype, sub)
                    out[k] = merged
                else:
                    out[k] = copy.deepcopy(v)
            else:
                out[k] = copy.deepcopy(v)
        else:
            out[k] = v
    return out
