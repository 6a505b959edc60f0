"""store.py - the object store: one global resourceVersion counter, a bounded event history,
watchers, and the create/update/patch/apply/delete semantics of kube-apiserver."""

import base64
import bisect
import collections
import copy
import json
import os
import random
import threading
import time
import uuid

from . import errors, patch, validate
from .resources import crd_types

ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
UNDELETABLE_NAMESPACES = ("default", "kube-system", "kube-public")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _rv_int(s, what="resourceVersion"):
    try:
        n = int(s)
        if n < 0:
            raise ValueError
        return n
    except (TypeError, ValueError):
        raise errors.bad_request("invalid %s: %r is not a valid resource version" % (what, s))


class Event:
    __slots__ = ("rv", "key", "type", "obj", "old")

    def __init__(self, rv, key, etype, obj, old):
        self.rv, self.key, self.type, self.obj, self.old = rv, key, etype, obj, old


class Watcher:
    """One watch stream. The store pushes (type, object) pairs under its lock; the HTTP
    thread takes them, woken through a pipe it can select() on with the client socket."""

    def __init__(self, store, rtype, ns, labels, fields, max_queue):
        self.store = store
        self.rtype = rtype
        self.ns = ns
        self.labels = labels
        self.fields = fields
        self.max_queue = max_queue
        self.queue = collections.deque()
        self.lock = threading.Lock()
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.rfd, False)
        os.set_blocking(self.wfd, False)
        self.signalled = False
        self.end = None  # None, "end", "abrupt", "gone", "overflow"

    def matches(self, obj):
        from .selectors import match_fields, match_labels
        meta = obj.get("metadata") or {}
        if self.ns is not None and meta.get("namespace") != self.ns:
            return False
        return match_labels(self.labels, meta.get("labels")) and match_fields(self.fields, obj)

    def _signal(self):
        if not self.signalled:
            self.signalled = True
            try:
                os.write(self.wfd, b"x")
            except OSError:
                pass

    def push(self, etype, obj):
        with self.lock:
            if self.end is not None:
                return
            if len(self.queue) >= self.max_queue:
                self.end = "overflow"
                self.queue.clear()
            else:
                self.queue.append((etype, obj))
            self._signal()

    def offer(self, ev):
        """Deliver a store event, translating selector transitions (under the store lock)."""
        if ev.type == ADDED:
            if self.matches(ev.obj):
                self.push(ADDED, ev.obj)
        elif ev.type == DELETED:
            if self.matches(ev.obj):
                self.push(DELETED, ev.obj)
        else:
            now, before = self.matches(ev.obj), self.matches(ev.old)
            if now:
                self.push(MODIFIED if before else ADDED, ev.obj)
            elif before:
                gone = copy.copy(ev.old)
                gone["metadata"] = dict(gone["metadata"], resourceVersion=str(ev.rv))
                self.push(DELETED, gone)

    def stop(self, how):
        with self.lock:
            if self.end is None:
                self.end = how
            self._signal()

    def take(self):
        """All queued events and the end reason (None while the watch goes on)."""
        with self.lock:
            self.signalled = False
            try:
                while os.read(self.rfd, 512):
                    pass
            except (BlockingIOError, OSError):
                pass
            items = list(self.queue)
            self.queue.clear()
            return items, self.end

    def close(self):
        self.store.unwatch(self)
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass


class Store:
    def __init__(self, registry, history=10000, defaults=True, max_queue=100000,
                 continue_ttl=300):
        self.registry = registry
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 0
        self.compacted = 0
        self.objects = {}  # rtype.key -> {(namespace, name): object}
        self.sorted_keys = {}  # rtype.key -> sorted keys of objects[rtype.key] (a cache)
        self.item_json = {}  # (rtype.key, namespace, name) -> (resourceVersion, list JSON)
        self.history = collections.deque()
        self.history_max = max(1, history)
        self.watchers = set()
        self.defaults = defaults
        self.max_queue = max_queue
        self.continue_ttl = continue_ttl
        self.dirty = False
        for ns in DEFAULT_NAMESPACES:
            self.create(registry.lookup("", "v1", "namespaces"), None,
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                        "kube-apiserver")

    # --- events and history ---------------------------------------------------------------

    def _commit(self, rtype, etype, obj, old):
        ev = Event(self.rv, rtype.key, etype, obj, old)
        self.history.append(ev)
        while len(self.history) > self.history_max:
            self.compacted = self.history.popleft().rv
        for w in list(self.watchers):
            if w.rtype.key == rtype.key:
                w.offer(ev)
        self.dirty = True
        self.cond.notify_all()

    def compact(self):
        """Forget all history: every older resourceVersion becomes too old (410)."""
        with self.lock:
            self.history.clear()
            self.compacted = self.rv

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _bucket(self, rtype):
        return self.objects.setdefault(rtype.key, {})

    def _state_at(self, rtype, n):
        cur = self.objects.get(rtype.key, {})
        if n >= self.rv:
            return cur
        if n < self.compacted:
            raise errors.gone("too old resource version: %d (%d)" % (n, self.compacted + 1))
        state = dict(cur)
        for ev in reversed(self.history):
            if ev.rv <= n:
                break
            if ev.key != rtype.key:
                continue
            meta = ev.obj["metadata"]
            k = (meta.get("namespace", ""), meta["name"])
            if ev.type == ADDED:
                state.pop(k, None)
            else:
                state[k] = ev.old
        return state

    def _wait_rv(self, n):
        deadline = time.monotonic() + 3
        while self.rv < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.too_large_rv(n, self.rv)
            self.cond.wait(left)

    # --- reads ----------------------------------------------------------------------------

    def get(self, rtype, ns, name):
        with self.lock:
            obj = self.objects.get(rtype.key, {}).get((ns or "", name))
            if obj is None:
                raise errors.not_found(rtype, name)
            return obj

    def list(self, rtype, ns, labels, fields, limit=0, cont=None, rv=None, rv_match=None):
        """Returns (items, list resourceVersion, continue token or "", remaining count)."""
        with self.lock:
            start = None
            if cont:
                if rv not in (None, "", "0"):
                    raise errors.bad_request("specifying resource version is not allowed "
                                             "when using continue")
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont.encode()).decode())
                    snap, start, issued = int(tok["rv"]), tuple(tok["start"]), tok["t"]
                except (ValueError, KeyError, TypeError):
                    raise errors.bad_request("continue key is not valid: %s" % cont)
                if snap < self.compacted or time.time() - issued > self.continue_ttl:
                    raise errors.gone("The provided continue parameter is too old to display "
                                      "a consistent list result. You can start a new list "
                                      "without the continue parameter.")
                state = self._state_at(rtype, snap)
            else:
                snap, state = self._list_state(rtype, rv, rv_match, limit)
                if rv == "0":
                    # kube-apiserver 1.32 serves resourceVersion=0 from its watch cache,
                    # which ignores limit: the whole list, no continue token
                    limit = 0
            if state is self.objects.get(rtype.key):
                keys = self.sorted_keys.get(rtype.key)
                if keys is None:
                    keys = self.sorted_keys[rtype.key] = sorted(state)
            else:
                keys = sorted(state)
            if ns is not None:
                lo = bisect.bisect_left(keys, (ns,))
                hi = bisect.bisect_left(keys, (ns + "\0",))
                keys = keys[lo:hi]
            if labels or fields:
                keys = [k for k in keys if self._match(state[k], labels, fields)]
            if start is not None:
                keys = keys[bisect.bisect_right(keys, start):]
            token, remaining = "", None
            if limit and len(keys) > limit:
                remaining = len(keys) - limit
                keys = keys[:limit]
                token = base64.urlsafe_b64encode(json.dumps(
                    {"rv": snap, "start": list(keys[-1]), "t": time.time()}).encode()).decode()
            items = [state[k] for k in keys]
            if labels or fields:
                remaining = None
            return items, str(snap), token, remaining

    def list_item_json(self, rtype, obj, strip):
        """The JSON text of a list item (without kind/apiVersion when strip), cached by
        resourceVersion (which identifies an object's content)."""
        meta = obj["metadata"]
        key = (rtype.key, meta.get("namespace", ""), meta["name"])
        rv = meta.get("resourceVersion")
        hit = self.item_json.get(key)
        if hit is not None and hit[0] == rv and hit[1] == strip:
            return hit[2]
        o = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} if strip else obj
        text = json.dumps(o, separators=(",", ":"))
        if obj is self.objects.get(rtype.key, {}).get(key[1:]):
            self.item_json[key] = (rv, strip, text)
        return text

    def _list_state(self, rtype, rv, rv_match, limit):
        if rv_match not in (None, "", "Exact", "NotOlderThan"):
            raise errors.list_options_invalid("resourceVersionMatch", 'Unsupported value: "%s"'
                                              % rv_match, False)
        if rv_match and rv in (None, ""):
            raise errors.list_options_invalid("resourceVersionMatch", "resourceVersionMatch "
                                              "is forbidden unless resourceVersion is provided")
        if rv in (None, ""):
            return self.rv, self.objects.get(rtype.key, {})
        n = _rv_int(rv)
        if rv_match == "Exact" and n == 0:
            raise errors.list_options_invalid("resourceVersionMatch", 'resourceVersionMatch '
                                              '"exact" is forbidden for resourceVersion "0"')
        exact = rv_match == "Exact" or (not rv_match and limit and n != 0)
        if n > self.rv:
            self._wait_rv(n)
        if exact:
            return n, self._state_at(rtype, n)
        return self.rv, self.objects.get(rtype.key, {})

    @staticmethod
    def _match(obj, labels, fields):
        from .selectors import match_fields, match_labels
        return (match_labels(labels, (obj.get("metadata") or {}).get("labels"))
                and match_fields(fields, obj))

    # --- watch ----------------------------------------------------------------------------

    def watch(self, rtype, ns, labels, fields, rv=None, initial_events=None):
        """Register a watcher; its queue already holds the events the start point implies.
        initial_events: True (sendInitialEvents), or None/False (classic semantics)."""
        with self.lock:
            w = Watcher(self, rtype, ns, labels, fields, self.max_queue)
            n = None if rv in (None, "") else _rv_int(rv)
            if initial_events or n in (None, 0):
                if n and n > self.rv:
                    self._wait_rv(n)
                cur = self.objects.get(rtype.key, {})
                for k in sorted(cur):
                    if w.matches(cur[k]):
                        w.queue.append((ADDED, cur[k]))
                if initial_events:
                    w.queue.append((BOOKMARK, self.bookmark(rtype, initial_end=True)))
            else:
                if n > self.rv:
                    self._wait_rv(n)
                if n < self.compacted:
                    raise errors.gone("too old resource version: %d (%d)"
                                      % (n, self.compacted + 1))
                for ev in self.history:
                    if ev.rv > n and ev.key == rtype.key:
                        w.offer(ev)
            self.watchers.add(w)
            if w.queue:
                w._signal()
            return w

    def bookmark(self, rtype, initial_end=False):
        meta = {"resourceVersion": str(self.rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": rtype.kind, "apiVersion": rtype.gv, "metadata": meta}

    def unwatch(self, w):
        with self.lock:
            self.watchers.discard(w)

    def stop_watches(self, how, only=None):
        with self.lock:
            for w in list(self.watchers):
                if only is None or w in only:
                    w.stop(how)

    # --- writes ---------------------------------------------------------------------------

    def _check_body(self, rtype, ns, obj, name=None):
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        kind, api = obj.get("kind"), obj.get("apiVersion")
        if kind not in (None, "") and kind != rtype.kind:
            raise errors.bad_request("the kind in the data (%s) does not match the expected "
                                     "kind (%s)" % (kind, rtype.kind))
        if api not in (None, "") and api != rtype.gv:
            raise errors.bad_request("the API version in the data (%s) does not match the "
                                     "expected API version (%s)" % (api, rtype.gv))
        meta = obj.get("metadata")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        obj = dict(obj, kind=rtype.kind, apiVersion=rtype.gv, metadata=dict(meta))
        meta = obj["metadata"]
        if rtype.namespaced:
            if meta.get("namespace") not in (None, "", ns):
                raise errors.bad_request("the namespace of the provided object does not match "
                                         "the namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if name is not None and meta.get("name") not in (None, "", name):
            raise errors.bad_request("the name of the object (%s) does not match the name on "
                                     "the URL (%s)" % (meta.get("name"), name))
        if name is not None:
            meta["name"] = name
        return obj

    def _need_namespace(self, rtype, ns):
        if rtype.namespaced and ("", ns) not in self.objects.get("/namespaces", {}):
            nsr = self.registry.lookup("", "v1", "namespaces")
            raise errors.not_found(nsr, ns)

    def _validate(self, rtype, obj):
        causes = validate.check_object(rtype, obj)
        if causes:
            raise errors.invalid(rtype, obj["metadata"].get("name"), causes)

    def create(self, rtype, ns, body, manager, dry_run=False, apply_config=None):
        with self.lock:
            obj = copy.deepcopy(self._check_body(rtype, ns, body))
            meta = obj["metadata"]
            if not meta.get("name") and meta.get("generateName"):
                for _ in range(8):
                    name = meta["generateName"] + "".join(random.choice(_GEN_CHARS)
                                                          for _ in range(5))
                    if (ns or "", name) not in self._bucket(rtype):
                        break
                meta["name"] = name
            for k in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                      "selfLink", "generation"):
                meta.pop(k, None)
            if meta.get("managedFields") == []:
                meta.pop("managedFields")
            self._prepare_create(rtype, obj)
            self._validate(rtype, obj)
            name = meta["name"]
            if rtype.namespaced:
                self._need_namespace(rtype, ns)
            if (ns or "", name) in self._bucket(rtype):
                raise errors.already_exists(rtype, name)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if rtype.generation:
                meta["generation"] = 1
            if apply_config is not None:
                sets = {(manager, "Apply", ""): patch.field_set(apply_config, rtype,
                                                                rtype.status)}
                meta["managedFields"] = self._render_fields(rtype, sets, {})
            elif "managedFields" not in meta:
                sets = {(manager, "Update", ""): patch.field_set(obj, rtype, rtype.status)}
                meta["managedFields"] = self._render_fields(rtype, sets, {})
            if dry_run:
                return obj
            meta["resourceVersion"] = self._next_rv()
            self._bucket(rtype)[(ns or "", name)] = obj
            self.sorted_keys.pop(rtype.key, None)
            self._commit(rtype, ADDED, obj, None)
            self._after_write(rtype, None, obj)
            return obj

    def _prepare_create(self, rtype, obj):
        if rtype.status and not (rtype.group == "" and rtype.kind == "Node"):
            obj.pop("status", None)
            if rtype.group == "" and rtype.kind == "Pod":
                obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        if rtype.kind == "CustomResourceDefinition":
            names = (obj.get("spec") or {}).get("names") or {}
            obj["status"] = {"acceptedNames": names, "storedVersions": [
                v.get("name") for v in (obj.get("spec") or {}).get("versions") or []
                if isinstance(v, dict) and v.get("storage")],
                "conditions": [{"type": "Established", "status": "True",
                                "reason": "InitialNamesAccepted",
                                "lastTransitionTime": now_rfc3339(),
                                "message": "the initial names have been accepted"}]}
        validate.apply_defaults(rtype, obj, self.defaults)

    def _after_write(self, rtype, old, new):
        if rtype.kind != "CustomResourceDefinition" or rtype.group != "apiextensions.k8s.io":
            return
        if old is not None:
            spec = old.get("spec") or {}
            self.registry.remove_crd(spec.get("group"), (spec.get("names") or {}).get("plural"))
        if new is not None:
            for t in crd_types(new):
                self.registry.add(t)

    def _merge_update(self, rtype, old, new, subresource):
        """Carry the server-owned parts of old into new (a full object from a client)."""
        meta, ometa = new["metadata"], old["metadata"]
        if meta.get("uid") not in (None, "", ometa.get("uid")):
            raise errors.conflict(rtype, ometa["name"], "Precondition failed: UID in "
                                  "precondition: %s, UID in object meta: %s"
                                  % (meta["uid"], ometa.get("uid")))
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "generation",
                  "resourceVersion"):
            if k in ometa:
                meta[k] = ometa[k]
            else:
                meta.pop(k, None)
        if subresource == "status":
            out = dict(old)
            if "status" in new:
                out["status"] = new["status"]
            else:
                out.pop("status", None)
            out["metadata"] = dict(ometa)
            return out
        if rtype.status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        if "deletionTimestamp" not in ometa:
            meta.pop("deletionGracePeriodSeconds", None)
        validate.apply_defaults(rtype, new, self.defaults)
        if rtype.generation and new.get("spec") != old.get("spec"):
            meta["generation"] = ometa.get("generation", 0) + 1
        return new

    def _write(self, rtype, old, new, manager, subresource, dry_run, apply_sets=None):
        """Validate and store an updated object; a no-op keeps the old resourceVersion."""
        self._validate(rtype, new)
        if subresource == "status" and rtype.kind == "Pod" and rtype.group == "":
            errs = validate.Errors()
            validate.check_pod_status(errs, new.get("status"))
            if errs.causes:
                raise errors.invalid(rtype, new["metadata"]["name"], errs.causes)
        meta, ometa = new["metadata"], old["metadata"]
        explicit = meta.get("managedFields")
        if explicit is not None and explicit != ometa.get("managedFields") and explicit != []:
            if not isinstance(explicit, list) or not all(isinstance(e, dict) for e in explicit):
                raise errors.invalid(rtype, meta["name"], [{
                    "reason": "FieldValueInvalid", "field": "metadata.managedFields",
                    "message": "Invalid value: must be a list of entries"}])
        else:
            sets = self._parse_fields(ometa.get("managedFields"))
            if explicit == []:
                sets = {}
            if apply_sets is not None:
                owned = apply_sets
            else:
                owned = {(manager, "Update", subresource or ""):
                         patch.changed_fields(old, new, rtype,
                                              rtype.status and subresource != "status")}
            for k, s in owned.items():
                for other in sets:
                    if other != k:
                        sets[other] = sets[other] - s
                if k[1] == "Update":
                    sets[k] = sets.get(k, set()) | s
                else:
                    sets[k] = s
            meta["managedFields"] = self._render_fields(rtype, sets,
                                                        self._times(ometa), set(owned))
        if self._same(old, new):
            return old
        if dry_run:
            return new
        meta["resourceVersion"] = self._next_rv()
        self._bucket(rtype)[(ometa.get("namespace", ""), ometa["name"])] = new
        self._commit(rtype, MODIFIED, new, old)
        self._after_write(rtype, old, new)
        return new

    @staticmethod
    def _same(old, new):
        def strip(o):
            m = dict(o["metadata"])
            m.pop("resourceVersion", None)
            mf = m.pop("managedFields", None) or []
            return dict(o, metadata=m), [{k: v for k, v in e.items() if k != "time"}
                                         for e in mf if isinstance(e, dict)]
        return strip(old) == strip(new)

    @staticmethod
    def _parse_fields(entries):
        sets = {}
        for e in entries or []:
            if not isinstance(e, dict) or "manager" not in e:
                continue
            k = (e["manager"], e.get("operation", "Update"), e.get("subresource", ""))
            sets[k] = sets.get(k, set()) | patch.from_fields_v1(e.get("fieldsV1") or {})
        return sets

    @staticmethod
    def _times(meta):
        out = {}
        for e in meta.get("managedFields") or []:
            if isinstance(e, dict) and "manager" in e:
                out[(e["manager"], e.get("operation", "Update"), e.get("subresource", ""))] = \
                    e.get("time")
        return out

    def _render_fields(self, rtype, sets, times, touched=None):
        out = []
        for (mgr, op, sub), s in sets.items():
            if not s:
                continue
            t = times.get((mgr, op, sub))
            if t is None or touched is None or (mgr, op, sub) in touched:
                t = now_rfc3339()
            e = {"manager": mgr, "operation": op, "apiVersion": rtype.gv, "time": t,
                 "fieldsType": "FieldsV1", "fieldsV1": patch.to_fields_v1(s)}
            if sub:
                e["subresource"] = sub
            out.append(e)
        return out

    def update(self, rtype, ns, name, body, manager, subresource=None, dry_run=False):
        with self.lock:
            new = copy.deepcopy(self._check_body(rtype, ns, body, name))
            old = self._bucket(rtype).get((ns or "", name))
            if old is None:
                raise errors.not_found(rtype, name)
            want = new["metadata"].get("resourceVersion")
            if want not in (None, "") and want != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name)
            if want not in (None, ""):
                _rv_int(want, "metadata.resourceVersion")
            new = self._merge_update(rtype, old, new, subresource)
            return self._write(rtype, old, new, manager, subresource, dry_run)

    def patch(self, rtype, ns, name, ptype, body, manager, subresource=None, dry_run=False,
              force=False):
        with self.lock:
            old = self._bucket(rtype).get((ns or "", name))
            if ptype == "apply":
                return self._apply(rtype, ns, name, old, body, manager, subresource, dry_run,
                                   force)
            if old is None:
                raise errors.not_found(rtype, name)
            try:
                if ptype == "merge":
                    if not isinstance(body, dict):
                        raise patch.PatchError("merge patch: the body must be a JSON object",
                                               400)
                    new = patch.merge_patch(old, body)
                elif ptype == "strategic":
                    new = patch.strategic_merge(old, body, rtype)
                else:
                    new = patch.json_patch(old, body)
            except patch.PatchError as e:
                if e.code == 400:
                    raise errors.bad_request(str(e))
                raise errors.ApiError(422, "Invalid", str(e), {"name": name,
                                                               "kind": rtype.kind})
            if not isinstance(new, dict):
                raise errors.bad_request("the patch did not produce an object")
            want = (new.get("metadata") or {}).get("resourceVersion")
            if want not in (None, "") and want != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name)
            new = copy.deepcopy(self._check_body(rtype, ns, new, name))
            new = self._merge_update(rtype, old, new, subresource)
            return self._write(rtype, old, new, manager, subresource, dry_run)

    def _apply(self, rtype, ns, name, old, config, manager, subresource, dry_run, force):
        if not manager:
            raise errors.ApiError(422, "Invalid", "PATCH /apply requires a fieldManager: "
                                  "fieldManager: Required value: is required for apply "
                                  "requests", {"kind": rtype.kind, "name": name})
        config = self._check_body(rtype, ns, config, name)
        if not config.get("kind") or not config.get("apiVersion"):
            raise errors.bad_request("apply patches must set kind and apiVersion")
        if old is None:
            if subresource:
                raise errors.not_found(rtype, name)
            return self.create(rtype, ns, config, manager, dry_run, apply_config=config)
        skip_status = rtype.status and subresource != "status"
        new_set = patch.field_set(config, rtype, skip_status)
        sets = self._parse_fields(old["metadata"].get("managedFields"))
        key = (manager, "Apply", subresource or "")
        if not force:
            conflicts = []
            for other, s in sets.items():
                if other[0] == manager:
                    continue
                for p in sorted(new_set & s):
                    if p[-1].startswith("k:"):
                        continue
                    if patch._get(old, p) != patch._get(config, p):
                        conflicts.append((other[0], p))
            if conflicts and manager == "kubectl":
                # kube-apiserver's lastAppliedManager: upgrading from client-side apply
                # to kubectl --server-side takes over the fields of last-applied.
                allowed = self._last_applied_fields(rtype, old)
                if all(p in allowed for _, p in conflicts):
                    conflicts = []
            if conflicts:
                fields = [(m, "." + ".".join(t[2:] if t.startswith("f:") else "[" + t[2:] + "]"
                                             for t in p)) for m, p in conflicts]
                msg = "Apply failed with %d conflict%s: %s" % (
                    len(fields), "" if len(fields) == 1 else "s",
                    "\n".join('conflict with "%s": %s' % f for f in fields))
                raise errors.ApiError(409, "Conflict", msg, {
                    "name": name, "kind": rtype.kind, "group": rtype.group,
                    "causes": [{"reason": "FieldManagerConflict",
                                "message": 'conflict with "%s"' % m, "field": f}
                               for m, f in fields]})
        cfg = {k: v for k, v in config.items() if not (k == "status" and skip_status)}
        cfg["metadata"] = {k: v for k, v in config["metadata"].items()
                           if k not in ("resourceVersion", "managedFields", "uid",
                                        "creationTimestamp", "generation")}
        merged = patch.apply_merge(old, cfg, rtype)
        others = set()
        for other, s in sets.items():
            if other != key:
                others |= s - new_set
        for p in sorted(sets.get(key, set()) - new_set - others, key=len, reverse=True):
            patch.remove_path(merged, p)
        want = config["metadata"].get("resourceVersion")
        if want not in (None, "") and want != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rtype, name)
        ann = (merged.get("metadata") or {}).get("annotations") or {}
        if manager == "kubectl" and LAST_APPLIED in ann:
            # kube-apiserver's lastAppliedUpdater keeps the client-side annotation in sync.
            la = copy.deepcopy(config)
            la_ann = la["metadata"].get("annotations") or {}
            la_ann.pop(LAST_APPLIED, None)
            if not la_ann:
                la["metadata"].pop("annotations", None)
            merged["metadata"] = dict(merged["metadata"], annotations=dict(
                ann, **{LAST_APPLIED: json.dumps(la, separators=(",", ":"), sort_keys=True)}))
        new = self._check_body(rtype, ns, copy.deepcopy(merged), name)
        new["metadata"]["managedFields"] = old["metadata"].get("managedFields")
        new = self._merge_update(rtype, old, new, subresource)
        return self._write(rtype, old, new, manager, subresource, dry_run,
                           apply_sets={key: new_set})

    @staticmethod
    def _last_applied_fields(rtype, obj):
        ann = (obj.get("metadata") or {}).get("annotations") or {}
        try:
            last = json.loads(ann.get(LAST_APPLIED) or "")
        except ValueError:
            return set()
        return patch.field_set(last, rtype, rtype.status) if isinstance(last, dict) else set()

    def delete(self, rtype, ns, name, options=None, dry_run=False):
        with self.lock:
            options = options or {}
            old = self._bucket(rtype).get((ns or "", name))
            if old is None:
                raise errors.not_found(rtype, name)
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
                raise errors.conflict(rtype, name, "Precondition failed: UID in precondition: "
                                      "%s, UID in object meta: %s"
                                      % (pre["uid"], old["metadata"].get("uid")))
            if pre.get("resourceVersion") and \
                    pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name, "Precondition failed: ResourceVersion in "
                                      "precondition: %s, ResourceVersion in object meta: %s"
                                      % (pre["resourceVersion"],
                                         old["metadata"]["resourceVersion"]))
            if rtype.group == "" and rtype.kind == "Namespace":
                if name in UNDELETABLE_NAMESPACES:
                    raise errors.forbidden(rtype, name, "this namespace may not be deleted")
                if dry_run:
                    return old
                return self._delete_namespace(rtype, old)
            if dry_run:
                return old
            return self._remove(rtype, old)

    def _remove(self, rtype, old):
        meta = old["metadata"]
        del self._bucket(rtype)[(meta.get("namespace", ""), meta["name"])]
        self.sorted_keys.pop(rtype.key, None)
        self.item_json.pop((rtype.key, meta.get("namespace", ""), meta["name"]), None)
        last = dict(old, metadata=dict(meta, resourceVersion=self._next_rv()))
        self._commit(rtype, DELETED, last, old)
        self._after_write(rtype, old, None)
        if rtype.kind == "CustomResourceDefinition" and rtype.group == "apiextensions.k8s.io":
            spec = old.get("spec") or {}
            self.objects.pop((spec.get("group") or "") + "/"
                             + ((spec.get("names") or {}).get("plural") or ""), None)
        return last

    def _delete_namespace(self, rtype, old):
        name = old["metadata"]["name"]
        term = copy.deepcopy(old)
        term["metadata"]["deletionTimestamp"] = now_rfc3339()
        term["metadata"]["deletionGracePeriodSeconds"] = 0
        term.setdefault("status", {})["phase"] = "Terminating"
        term["metadata"]["resourceVersion"] = self._next_rv()
        self._bucket(rtype)[("", name)] = term
        self._commit(rtype, MODIFIED, term, old)
        for t in list(self.registry.types):
            if not t.namespaced:
                continue
            bucket = self.objects.get(t.key, {})
            for k in sorted(k for k in bucket if k[0] == name):
                if k in bucket:
                    self._remove(t, bucket[k])
        self._remove(rtype, term)
        return term

    def delete_collection(self, rtype, ns, labels, fields, options=None, dry_run=False):
        with self.lock:
            items, _, _, _ = self.list(rtype, ns, labels, fields)
            out = []
            for o in items:
                m = o["metadata"]
                out.append(self.delete(rtype, m.get("namespace"), m["name"], options, dry_run))
            return out

    # --- persistence ----------------------------------------------------------------------

    def snapshot(self):
        with self.lock:
            objs = [o for b in self.objects.values() for o in b.values()]
            self.dirty = False
            return {"resourceVersion": self.rv, "objects": objs}

    def load(self, data):
        """Replace the state with a snapshot (CRDs first, so their kinds are served)."""
        with self.lock:
            objs = data.get("objects") or []
            crds = [o for o in objs if o.get("kind") == "CustomResourceDefinition"]
            for c in crds:
                for t in crd_types(c):
                    self.registry.add(t)
            self.objects = {}
            self.sorted_keys = {}
            self.item_json = {}
            for o in objs:
                group, _, version = (o.get("apiVersion") or "").rpartition("/")
                rtype = self.registry.by_kind(group, o.get("kind"))
                if rtype is None:
                    raise ValueError("state file: unknown kind %s %s"
                                     % (o.get("apiVersion"), o.get("kind")))
                m = o.get("metadata") or {}
                self._bucket(rtype)[(m.get("namespace", ""), m["name"])] = o
            self.rv = int(data.get("resourceVersion", 0))
            self.compacted = self.rv
            self.history.clear()
            self.dirty = False
