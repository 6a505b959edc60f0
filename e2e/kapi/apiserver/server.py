"""server.py - the HTTP side: routing, authentication, request decoding, watch streaming
(chunked), the /_kapi fault hook, and restarts on the same port."""

import json
import os
import random
import select
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import errors, protobuf, selectors, tables, yamlmini
from .resources import dumps
from .store import ERROR

MAX_BODY = 3 * 1024 * 1024
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
VERSION = {"major": "1", "minor": "32", "emulationMajor": "1", "emulationMinor": "32",
           "minCompatibilityMajor": "1", "minCompatibilityMinor": "31",
           "gitVersion": "v1.32.0-kapi", "gitCommit": "0000000000000000000000000000000000000000",
           "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3",
           "compiler": "gc", "platform": "linux/amd64"}
PATCH_TYPES = {"application/merge-patch+json": "merge",
               "application/strategic-merge-patch+json": "strategic",
               "application/json-patch+json": "json",
               "application/apply-patch+yaml": "apply"}
PUBLIC = ("/version", "/healthz", "/livez", "/readyz")
TABLE = "application/json;as=Table;v=%s;g=meta.k8s.io"


class App:
    """Everything shared by the handlers and kept across restarts."""

    def __init__(self, registry, store, tokens=(), token_files=(), tls=None,
                 bookmark_interval=60.0, log=None, tables=True):
        self.registry = registry
        self.store = store
        self.tokens = set(tokens)
        self.token_files = list(token_files)
        self._file_tokens = {}
        self.tls = tls
        self.bookmark_interval = bookmark_interval
        self.tables = tables
        self.log = log
        self.log_lock = threading.Lock()
        self.gate = threading.Condition()
        self.paused = False
        self.pause_ua = None
        self.fail_next = 0
        self.fail_http = False
        self.error_next = 0  # the "error" fault: answer code to the next requests
        self.error_code = 500
        self.error_retry_after = None
        self.error_ua = None
        self.delay = 0.0
        self.server = None
        self.address = None
        self.restarting = threading.Lock()

    @property
    def auth_enabled(self):
        return bool(self.tokens or self.token_files)

    def valid_token(self, tok):
        if tok in self.tokens:
            return True
        for path in self.token_files:
            try:
                st = os.stat(path)
                cached = self._file_tokens.get(path)
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
                if cached is None or cached[0] != stamp:
                    with open(path) as f:
                        cached = (stamp, f.read().strip())
                    self._file_tokens[path] = cached
            except OSError:
                continue
            if cached[1] and tok == cached[1]:
                return True
        return False

    def wait_unpaused(self, ua):
        with self.gate:
            while self.paused and (self.pause_ua is None or self.pause_ua in ua):
                self.gate.wait()

    def take_error(self, ua):
        """The injected error for this request, or None."""
        with self.gate:
            if self.error_next <= 0 or (self.error_ua is not None and self.error_ua not in ua):
                return None
            self.error_next -= 1
            code, retry = self.error_code, self.error_retry_after
        reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
                  504: "Timeout", 403: "Forbidden", 401: "Unauthorized"}.get(code, "Unknown")
        headers = {"Retry-After": str(retry)} if retry is not None else {}
        details = {"retryAfterSeconds": retry} if retry is not None else {}
        return errors.ApiError(code, reason, "injected by the fault hook", details, headers)

    def take_failure(self):
        with self.gate:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False

    def log_line(self, line):
        if self.log is None:
            return
        with self.log_lock:
            self.log.write(line + "\n")
            self.log.flush()

    # --- listening, restart ---------------------------------------------------------------

    def listen(self, host, port):
        self.server = KapiHTTPServer((host, port), Handler, self)
        self.address = self.server.server_address[:2]
        t = threading.Thread(target=self.server.serve_forever, name="kapi-serve", daemon=True)
        t.start()
        return self.address

    def restart(self, down_seconds=0.0):
        """Close the listener and every connection, then listen again on the same port.
        Without down_seconds the new listener is up before any connection is cut, so a
        client that sees its connection drop can reconnect at once."""
        with self.restarting:
            old = self.server
            old.shutdown()
            old.server_close()
            with self.store.lock:
                watches = set(self.store.watchers)
            if down_seconds > 0:
                self._cut(old, watches)
                time.sleep(down_seconds)
            host, port = self.address
            for attempt in range(50):
                try:
                    self.listen(host, port)
                    break
                except OSError:
                    if attempt == 49:
                        raise
                    time.sleep(0.1)
            self._cut(old, watches)

    def _cut(self, old, watches):
        self.store.stop_watches("abrupt", watches)
        old.drop_connections()
        with self.gate:
            self.paused = False
            self.gate.notify_all()

    def shutdown(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.store.stop_watches("abrupt")
            self.server.drop_connections()


class KapiHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, app):
        self.app = app
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        self.conns = set()
        self.conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.app.tls is not None:
            try:
                request.settimeout(10)
                request = self.app.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                request.close()
                return
        with self.conns_lock:
            self.conns.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self.conns_lock:
                self.conns.discard(request)
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)

    def drop_connections(self):
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _q(params, name, default=None):
    v = params.get(name)
    return v[-1] if v else default


def _bool(params, name):
    v = _q(params, name)
    if v is None:
        return None
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0", ""):
        return False
    raise errors.bad_request("invalid boolean for %s: %r" % (name, v))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kapi"
    sys_version = ""
    timeout = 120

    def log_message(self, fmt, *args):
        pass

    # --- plumbing -------------------------------------------------------------------------

    def _drain(self):
        """Read a request body nobody read (an early error), so keep-alive stays in sync."""
        if self._body_read:
            return
        try:
            self._read_body()
        except errors.ApiError:
            self.close_connection = True

    def _send(self, code, body, ctype="application/json", headers=None):
        if not isinstance(body, (bytes, bytearray)):
            body = dumps(body).encode()
        self._drain()
        self._log(code)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # headers and body in one write
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []
        self._code = code

    def _error(self, e):
        self._send(e.code, e.status(), headers=e.headers)

    def _read_body(self):
        self._body_read = True
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            parts, total = [], 0
            while True:
                line = self.rfile.readline(100)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise errors.ApiError(413, "RequestEntityTooLarge",
                                          "the request body is too large", {})
                parts.append(self.rfile.read(size))
                self.rfile.readline(10)
            return b"".join(parts)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise errors.ApiError(413, "RequestEntityTooLarge", "the request body is too large",
                                  {})
        return self.rfile.read(n) if n > 0 else b""

    def _decode(self, raw, ctype):
        if not raw.strip():
            raise errors.bad_request("the request body is empty")
        if ctype.startswith("application/vnd.kubernetes.protobuf"):
            try:
                return protobuf.decode(raw)
            except (protobuf.ProtoError, ValueError, KeyError) as e:
                raise errors.ApiError(415, "UnsupportedMediaType", "protobuf body: %s" % e, {})
        try:
            return json.loads(raw)
        except ValueError as e:
            jerr = e
        if "yaml" in ctype:
            try:
                return yamlmini.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise errors.bad_request("error decoding YAML: %s" % e)
        raise errors.bad_request("error decoding JSON body: %s" % jerr)

    def _dispatch(self):
        self._code = 0
        self._body_read = False
        self._logged = False
        self._t0 = time.monotonic()
        try:
            self._route()
        except errors.ApiError as e:
            if self._code == 0:
                self._error(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception:  # a bug: answer 500 like kube-apiserver's panic handler, go on
            sys.stderr.write("kapi: %s %s: internal error:\n%s" % (
                self.command, self.path, traceback.format_exc()))
            if self._code == 0:
                self._error(errors.ApiError(500, "InternalError", "an error on the server has "
                                            "prevented the request from succeeding", {}))
            self.close_connection = True
        finally:
            if not self._logged:
                self._log(self._code)

    def _log(self, code):
        """One log line per request, written before the answer leaves (a client that has
        its answer finds the line); watches are logged when their stream starts."""
        self._logged = True
        now = time.time()
        self.server.app.log_line("%s.%03dZ %s %s %s %dms %s" % (
            time.strftime("%H:%M:%S", time.gmtime(now)), int(now * 1000) % 1000,
            self.command, self.path, code, (time.monotonic() - self._t0) * 1000,
            self.headers.get("User-Agent", "") if self.headers else ""))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    # --- routing --------------------------------------------------------------------------

    def _route(self):
        app = self.server.app
        url = urlsplit(self.path)
        path = url.path
        params = parse_qs(url.query, keep_blank_values=True)
        if path.startswith("/_kapi/"):
            return self._admin(path, params)
        if not path.startswith(PUBLIC) and app.auth_enabled:
            auth = self.headers.get("Authorization") or ""
            if not (auth.startswith("Bearer ") and app.valid_token(auth[7:].strip())):
                raise errors.ApiError(401, "Unauthorized", "Unauthorized")
        ua = self.headers.get("User-Agent") or ""
        app.wait_unpaused(ua)
        if app.delay > 0:
            time.sleep(app.delay)
        injected = app.take_error(ua)
        if injected is not None:
            raise injected
        segs = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        if self.command not in ("GET", "HEAD") and (not segs or segs[0] not in ("api", "apis")):
            raise errors.method_not_allowed(self.command)
        if path == "/version":
            return self._send(200, VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send(200, b"ok", "text/plain; charset=utf-8")
        if segs[:1] == ["openapi"]:
            return self._openapi(segs, params)
        if segs[:1] == ["api"]:
            if len(segs) == 1:
                if self._wants_aggregated():
                    return self._send(200, app.registry.aggregated(True), AGGREGATED)
                host = "%s:%s" % (self.server.app.address[0], self.server.app.address[1])
                return self._send(200, app.registry.api_versions(host))
            return self._resource("", segs[1], segs[2:], params)
        if segs[:1] == ["apis"]:
            if len(segs) == 1:
                if self._wants_aggregated():
                    return self._send(200, app.registry.aggregated(False), AGGREGATED)
                return self._send(200, app.registry.api_group_list())
            if len(segs) == 2:
                doc = app.registry.api_group(segs[1])
                if doc is None:
                    raise errors.not_found_path()
                return self._send(200, doc)
            return self._resource(segs[1], segs[2], segs[3:], params)
        if path == "/":
            return self._send(200, {"paths": ["/api", "/api/v1", "/apis", "/healthz",
                                              "/openapi/v2", "/openapi/v3", "/version"]})
        raise errors.not_found_path()

    def _wants_aggregated(self):
        accept = self.headers.get("Accept") or ""
        first = accept.split(",")[0].replace(" ", "")
        return "as=APIGroupDiscoveryList" in first and "v=v2;" in first + ";"

    def _openapi(self, segs, params):
        reg = self.server.app.registry
        if segs[1:2] == ["v2"]:
            accept = self.headers.get("Accept") or ""
            if "json" not in accept and accept not in ("", "*/*"):
                raise errors.not_found_path()
            return self._send(200, reg.openapi_v2())
        if segs[1:2] != ["v3"]:
            raise errors.not_found_path()
        if len(segs) == 2:
            return self._send(200, reg.openapi_v3_root())
        rest = segs[2:]
        doc = None
        if rest[0] == "api" and len(rest) == 2:
            doc = reg.openapi_v3_gv("", rest[1])
        elif rest[0] == "apis" and len(rest) == 3:
            doc = reg.openapi_v3_gv(rest[1], rest[2])
        if doc is None:
            raise errors.not_found_path()
        return self._send(200, doc)

    def _resource(self, group, version, rest, params):
        reg = self.server.app.registry
        if not rest:
            doc = reg.resource_list(group, version)
            if doc is None:
                raise errors.not_found_path()
            return self._send(200, doc)
        watch = False
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        ns = name = sub = None
        if rest and rest[0] == "namespaces" and len(rest) == 3 and rest[2] in ("status",
                                                                               "finalize"):
            plural, name, sub = rest
        elif rest and rest[0] == "namespaces" and len(rest) >= 3:
            ns, plural = rest[1], rest[2]
            name = rest[3] if len(rest) > 3 else None
            sub = rest[4] if len(rest) > 4 else None
            if len(rest) > 5:
                raise errors.not_found_path()
        else:
            plural = rest[0]
            name = rest[1] if len(rest) > 1 else None
            sub = rest[2] if len(rest) > 2 else None
            if len(rest) > 3:
                raise errors.not_found_path()
        rtype = reg.lookup(group, version, plural)
        if rtype is None or not plural:
            raise errors.not_found_path()
        if ns is not None and not rtype.namespaced:
            raise errors.not_found_path()
        if rtype.namespaced and ns is None and name is not None:
            raise errors.not_found_path()
        if sub == "finalize" and rtype.kind == "Namespace" and self.command == "PUT":
            sub = None
        if sub is not None and not (sub == "status" and rtype.status):
            raise errors.not_found_path()
        if name == "":
            raise errors.not_found_path()
        if _q(params, "watch") is not None and _bool(params, "watch"):
            watch = True
        self._op(rtype, ns, name, sub, watch, params)

    # --- operations -----------------------------------------------------------------------

    def _manager(self, params):
        m = _q(params, "fieldManager")
        if m:
            return m
        return (self.headers.get("User-Agent") or "unknown").split("/")[0] or "unknown"

    def _dry_run(self, params):
        v = params.get("dryRun") or []
        for x in v:
            if x != "All":
                raise errors.bad_request('Unsupported value: "%s": supported values: "All"' % x)
        return bool(v)

    def _op(self, rtype, ns, name, sub, watch, params):
        app = self.server.app
        store = app.store
        cmd = self.command
        if cmd in ("GET", "HEAD"):
            tv = self._table_version()
            if name is not None:
                obj = store.get(rtype, ns, name)
                if tv:
                    return self._send(200, tables.table(
                        rtype, [obj], tv, _q(params, "includeObject", "Metadata"),
                        {"resourceVersion": obj["metadata"].get("resourceVersion", "")}),
                        TABLE % tv)
                return self._send(200, obj)
            return self._list_or_watch(rtype, ns, watch, params)
        dry = self._dry_run(params)
        if cmd == "POST":
            if name is not None:
                raise errors.method_not_allowed(cmd)
            body = self._decode(self._read_body(), self.headers.get("Content-Type") or "")
            obj = store.create(rtype, ns, body, self._manager(params), dry)
            return self._send(201, obj)
        if cmd == "PUT":
            if name is None:
                raise errors.method_not_allowed(cmd)
            body = self._decode(self._read_body(), self.headers.get("Content-Type") or "")
            obj = store.update(rtype, ns, name, body, self._manager(params), sub, dry)
            return self._send(200, obj)
        if cmd == "PATCH":
            if name is None:
                raise errors.method_not_allowed(cmd)
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            ptype = PATCH_TYPES.get(ctype)
            if ptype is None or (ptype == "strategic" and not rtype.builtin):
                raise errors.unsupported_media(ctype)
            body = self._decode(self._read_body(), ctype)
            force = bool(_bool(params, "force"))
            if force and ptype != "apply":
                raise errors.bad_request("force is only allowed for apply patches")
            manager = _q(params, "fieldManager") if ptype == "apply" else self._manager(params)
            existed = ptype == "apply" and self._exists(rtype, ns, name)
            obj = store.patch(rtype, ns, name, ptype, body, manager, sub, dry, force)
            return self._send(201 if ptype == "apply" and not existed else 200, obj)
        if cmd == "DELETE":
            raw = self._read_body()
            opts = {}
            if raw.strip():
                opts = self._decode(raw, self.headers.get("Content-Type") or "")
                if not isinstance(opts, dict) or not isinstance(
                        opts.get("preconditions") or {}, dict):
                    raise errors.bad_request("DeleteOptions must be an object, and its "
                                             "preconditions too")
            pp = opts.get("propagationPolicy") or _q(params, "propagationPolicy")
            if pp not in (None, "Orphan", "Background", "Foreground"):
                raise errors.bad_request('Unsupported value: "%s": supported values: '
                                         '"Foreground", "Background", "Orphan"' % pp)
            if "dryRun" in opts and opts["dryRun"]:
                dry = True
            if name is not None:
                obj = store.delete(rtype, ns, name, opts, dry)
                if rtype.return_deleted:
                    return self._send(200, obj)
                m = obj["metadata"]
                d = {"name": m["name"], "kind": rtype.plural, "uid": m.get("uid")}
                if rtype.group:
                    d["group"] = rtype.group
                return self._send(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                        "status": "Success", "details": d})
            labels, fields = self._selectors(rtype, params)
            items = store.delete_collection(rtype, ns, labels, fields, opts, dry)
            return self._send(200, {"kind": rtype.kind + "List", "apiVersion": rtype.gv,
                                    "metadata": {"resourceVersion": str(store.rv)},
                                    "items": items})
        raise errors.method_not_allowed(cmd)

    def _table_version(self):
        if not self.server.app.tables:
            return None
        return tables.wants_table(self.headers.get("Accept"))

    def _exists(self, rtype, ns, name):
        try:
            self.server.app.store.get(rtype, ns, name)
            return True
        except errors.ApiError:
            return False

    def _selectors(self, rtype, params):
        try:
            return (selectors.parse_labels(_q(params, "labelSelector", "")),
                    selectors.parse_fields(_q(params, "fieldSelector", ""), rtype.fields))
        except selectors.SelectorError as e:
            raise errors.bad_request(str(e))

    def _list_or_watch(self, rtype, ns, watch, params):
        app = self.server.app
        labels, fields = self._selectors(rtype, params)
        rv = _q(params, "resourceVersion")
        rv_match = _q(params, "resourceVersionMatch")
        sie = _bool(params, "sendInitialEvents")
        bookmarks = bool(_bool(params, "allowWatchBookmarks"))
        if not watch:
            if sie is not None:
                raise errors.list_options_invalid("sendInitialEvents", "sendInitialEvents is "
                                                  "forbidden for list")
            if app.take_failure():
                raise errors.gone("too old resource version: %s (%d)" % (rv or "0",
                                                                         app.store.rv))
            try:
                limit = int(_q(params, "limit", "0") or 0)
            except ValueError:
                raise errors.bad_request("invalid limit")
            items, list_rv, token, remaining = app.store.list(
                rtype, ns, labels, fields, max(0, limit), _q(params, "continue"), rv, rv_match)
            meta = {"resourceVersion": list_rv}
            if token:
                meta["continue"] = token
                if remaining is not None:
                    meta["remainingItemCount"] = remaining
            tv = self._table_version()
            if tv:
                return self._send(200, tables.table(rtype, items, tv,
                                                    _q(params, "includeObject", "Metadata"),
                                                    meta), TABLE % tv)
            return self._send_list(rtype, meta, items)
        if sie is not None:
            if rv_match != "NotOlderThan":
                raise errors.list_options_invalid(
                    "sendInitialEvents", "sendInitialEvents is forbidden for watch unless "
                    "resourceVersionMatch is set to NotOlderThan")
            if not bookmarks:
                raise errors.list_options_invalid(
                    "allowWatchBookmarks", "allowWatchBookmarks must be set to true when "
                    "sendInitialEvents is set")
        elif rv_match:
            raise errors.list_options_invalid(
                "resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless "
                "sendInitialEvents is provided")
        timeout = _q(params, "timeoutSeconds")
        try:
            timeout = float(timeout) if timeout else random.uniform(1800, 3600)
        except ValueError:
            raise errors.bad_request("invalid timeoutSeconds")
        if app.take_failure():
            e = errors.gone("too old resource version: %s (%d)" % (rv or "0", app.store.rv))
            if app.fail_http:
                raise e
            return self._stream(None, rtype, timeout, bookmarks, error=e)
        try:
            w = app.store.watch(rtype, ns, labels, fields, rv, bool(sie))
        except errors.ApiError as e:
            if e.code != 410:
                raise
            return self._stream(None, rtype, timeout, bookmarks, error=e)
        self._stream(w, rtype, timeout, bookmarks, include=_q(params, "includeObject",
                                                              "Metadata"))

    def _send_list(self, rtype, meta, items):
        head = ('{"kind":%s,"apiVersion":%s,"metadata":%s,"items":['
                % (dumps(rtype.kind + "List"), dumps(rtype.gv), dumps(meta)))
        store = self.server.app.store
        parts = [store.list_item_json(rtype, o, rtype.builtin) for o in items]
        self._send(200, (head + ",".join(parts) + "]}").encode())

    # --- watch streaming ------------------------------------------------------------------

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _event(self, etype, obj):
        if self._tv and etype in ("ADDED", "MODIFIED", "DELETED"):
            obj = tables.table(self._rtype, [obj], self._tv, self._include,
                               {"resourceVersion": obj["metadata"].get("resourceVersion")})
        return ('{"type":"%s","object":%s}\n' % (etype, dumps(obj))).encode()

    def _stream(self, w, rtype, timeout, bookmarks, error=None, include="Metadata"):
        self._drain()
        self._tv, self._rtype, self._include = self._table_version(), rtype, include
        app = self.server.app
        self._log(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self._code = 200
        if error is not None:
            self._chunk(self._event(ERROR, error.status()))
            self.wfile.write(b"0\r\n\r\n")
            return
        sock = self.connection
        deadline = time.monotonic() + timeout
        interval = app.bookmark_interval
        next_bm = time.monotonic() + interval if bookmarks else float("inf")
        ua = self.headers.get("User-Agent") or ""
        poller = select.poll()
        poller.register(w.rfd, select.POLLIN)
        poller.register(sock.fileno(), select.POLLIN)
        try:
            while True:
                app.wait_unpaused(ua)
                items, end = w.take()
                if items:
                    self._chunk(b"".join(self._event(t, o) for t, o in items))
                if end == "abrupt":
                    self.close_connection = True
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if end == "gone":
                    err = errors.gone("too old resource version: forced by the fault hook")
                    self._chunk(self._event(ERROR, err.status()))
                if end is not None:
                    break
                now = time.monotonic()
                if now >= deadline:
                    break
                if now >= next_bm:
                    with app.store.lock:
                        items, end = w.take()
                        bm = app.store.bookmark(rtype)
                    data = b"".join(self._event(t, o) for t, o in items)
                    self._chunk(data + self._event("BOOKMARK", bm))
                    next_bm = now + interval
                    if end is not None:
                        continue
                wait = max(0.0, min(deadline, next_bm) - now)
                ready = dict(poller.poll(min(wait, 86400.0) * 1000))
                if ready.get(sock.fileno()) and self._client_gone(sock):
                    self.close_connection = True
                    return
            self.wfile.write(b"0\r\n\r\n")
        finally:
            w.close()

    @staticmethod
    def _client_gone(sock):
        prev = sock.gettimeout()
        try:
            sock.settimeout(0)
            return not sock.recv(65536)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except OSError:
            return True
        finally:
            try:
                sock.settimeout(prev)
            except OSError:
                pass

    # --- the fault hook -------------------------------------------------------------------

    def _admin(self, path, params):
        app = self.server.app
        store = app.store
        if path == "/_kapi/state" and self.command == "GET":
            with store.lock:
                st = {"resourceVersion": store.rv, "compacted": store.compacted,
                      "watches": len(store.watchers), "paused": app.paused,
                      "failNext": app.fail_next, "errorNext": app.error_next,
                      "delay": app.delay, "history": len(store.history)}
            return self._send(200, st)
        if path == "/_kapi/wait" and self.command == "GET":
            try:
                n = int(_q(params, "watches", "0"))
                rv = int(_q(params, "resourceVersion", "0"))
                timeout = float(_q(params, "timeout", "10"))
            except ValueError:
                raise errors.bad_request("watches, resourceVersion and timeout are numbers")
            with store.cond:
                ok = store.cond.wait_for(lambda: len(store.watchers) >= n and store.rv >= rv,
                                         timeout)
                st = {"ok": ok, "watches": len(store.watchers), "resourceVersion": store.rv}
            return self._send(200 if ok else 408, st)
        if path == "/_kapi/state-dump" and self.command == "GET":
            return self._send(200, store.snapshot())
        if path != "/_kapi/fault" or self.command != "POST":
            raise errors.not_found_path()
        body = self._decode(self._read_body(), "application/json")
        if not isinstance(body, dict):
            raise errors.bad_request("fault: the body must be a JSON object")
        action = body.get("action")
        if action == "drop-watches":
            store.stop_watches("abrupt" if body.get("abrupt") else "end")
        elif action == "gone":
            with app.gate:
                app.fail_next = int(body.get("count", 1))
                app.fail_http = bool(body.get("http", False))
            if body.get("watches", True):
                store.stop_watches("gone")
        elif action == "error":
            try:
                code = int(body.get("code", 500))
                count = int(body.get("count", 1))
                retry = body.get("retry_after")
                retry = None if retry is None else int(retry)
            except (TypeError, ValueError):
                raise errors.bad_request("fault: code, count and retry_after are integers")
            if not 400 <= code <= 599:
                raise errors.bad_request("fault: code must be an HTTP error status (400-599)")
            with app.gate:
                app.error_code, app.error_next, app.error_retry_after = code, count, retry
                app.error_ua = body.get("user_agent") or None
        elif action == "delay":
            try:
                delay = float(body.get("seconds", 0))
            except (TypeError, ValueError):
                raise errors.bad_request("fault: seconds must be a number")
            if delay < 0:
                raise errors.bad_request("fault: seconds must not be negative")
            app.delay = delay
        elif action == "compact":
            store.compact()
        elif action == "pause":
            with app.gate:
                app.paused = True
                app.pause_ua = body.get("user_agent") or None
        elif action == "resume":
            with app.gate:
                app.paused = False
                app.gate.notify_all()
        elif action == "restart":
            try:
                down = float(body.get("down_seconds", 0))
            except (TypeError, ValueError):
                raise errors.bad_request("fault: down_seconds must be a number")
            self.close_connection = True
            self._send(200, {"ok": True, "action": action}, headers={"Connection": "close"})
            threading.Thread(target=app.restart, args=(down,), daemon=True).start()
            return
        else:
            raise errors.bad_request("fault: unknown action %r (drop-watches, gone, compact, "
                                     "error, delay, pause, resume, restart)" % action)
        self._send(200, {"ok": True, "action": action})
