"""validate.py - object validation (422 causes) and defaulting, as far as kube-apiserver's
behaviour is visible to kubectl and to the agent (metadata, Namespace, Pod, NetworkPolicy)."""

import ipaddress
import json
import re

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QNAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

# kinds whose names must be DNS-1123 labels (the rest: subdomains)
_LABEL_NAMED = {"Namespace", "Service"}
# kinds whose names may be any path segment (RBAC objects)
_PATH_NAMED = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def _q(v):
    return json.dumps(v)


class Errors:
    def __init__(self):
        self.causes = []

    def add(self, reason, field, message):
        self.causes.append({"reason": reason, "message": message, "field": field})

    def invalid(self, field, value, detail):
        self.add("FieldValueInvalid", field, "Invalid value: %s: %s" % (_q(value), detail))

    def required(self, field, detail=""):
        self.add("FieldValueRequired", field, "Required value" + (": " + detail if detail else ""))

    def unsupported(self, field, value, allowed):
        self.add("FieldValueNotSupported", field, "Unsupported value: %s: supported values: %s"
                 % (_q(value), ", ".join(_q(a) for a in allowed)))

    def forbidden(self, field, detail):
        self.add("FieldValueForbidden", field, "Forbidden: " + detail)


def check_name(errs, kind, name, field="metadata.name"):
    if kind in _PATH_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            errs.invalid(field, name, "may not contain '/' or '%' and may not be '.' or '..'")
        return
    if kind in _LABEL_NAMED:
        if len(name) > 63 or not _DNS1123_LABEL.match(name):
            errs.invalid(field, name, "a lowercase RFC 1123 label must consist of lower case "
                         "alphanumeric characters or '-', and must start and end with an "
                         "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
                         "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        return
    if len(name) > 253 or not _DNS1123_SUB.match(name):
        errs.invalid(field, name, "a lowercase RFC 1123 subdomain must consist of lower case "
                     "alphanumeric characters, '-' or '.', and must start and end with an "
                     "alphanumeric character (e.g. 'example.com', regex used for validation "
                     "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def _check_qualified_key(errs, field, k):
    prefix, _, name = k.rpartition("/")
    if (not isinstance(k, str) or not name or len(name) > 63 or not _QNAME.match(name)
            or (prefix and (len(prefix) > 253 or not _DNS1123_SUB.match(prefix)))
            or ("/" in k and not prefix)):
        errs.invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' "
                     "or '.', and must start and end with an alphanumeric character")
        return False
    return True


def check_labels(errs, field, labels, values=True):
    if labels is None:
        return
    if not isinstance(labels, dict):
        errs.invalid(field, labels, "must be a map of strings")
        return
    for k, v in labels.items():
        _check_qualified_key(errs, field, k)
        if not isinstance(v, str):
            errs.invalid(field + "." + k if values else field, v, "must be a string")
            continue
        if values and (len(v) > 63 or (v and not _QNAME.match(v))):
            errs.invalid(field, v, "a valid label must be an empty string or consist of "
                         "alphanumeric characters, '-', '_' or '.', and must start and end "
                         "with an alphanumeric character")


def check_meta(errs, kind, meta):
    if not isinstance(meta, dict):
        errs.required("metadata")
        return
    name = meta.get("name")
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    elif not isinstance(name, str):
        errs.invalid("metadata.name", name, "must be a string")
    else:
        check_name(errs, kind, name)
    check_labels(errs, "metadata.labels", meta.get("labels"))
    ann = meta.get("annotations")
    if ann is not None:
        if not isinstance(ann, dict):
            errs.invalid("metadata.annotations", ann, "must be a map of strings")
        else:
            for k, v in ann.items():
                _check_qualified_key(errs, "metadata.annotations", k)
                if not isinstance(v, str):
                    errs.invalid("metadata.annotations." + k, v, "must be a string")
            if sum(len(k) + len(v) for k, v in ann.items() if isinstance(v, str)) > 262144:
                errs.add("FieldValueTooLong", "metadata.annotations",
                         "Too long: must have at most 262144 bytes")


def check_label_selector(errs, field, sel):
    if sel is None:
        return
    if not isinstance(sel, dict):
        errs.invalid(field, sel, "must be a label selector object")
        return
    check_labels(errs, field + ".matchLabels", sel.get("matchLabels"))
    exprs = sel.get("matchExpressions")
    if exprs is None:
        return
    if not isinstance(exprs, list):
        errs.invalid(field + ".matchExpressions", exprs, "must be a list")
        return
    for i, e in enumerate(exprs):
        f = "%s.matchExpressions[%d]" % (field, i)
        if not isinstance(e, dict):
            errs.invalid(f, e, "must be an object")
            continue
        _check_qualified_key(errs, f + ".key", e.get("key") or "")
        op, vals = e.get("operator"), e.get("values") or []
        if op in ("In", "NotIn"):
            if not vals:
                errs.required(f + ".values", "must be specified when `operator` is 'In' or "
                              "'NotIn'")
        elif op in ("Exists", "DoesNotExist"):
            if vals:
                errs.forbidden(f + ".values", "may not be specified when `operator` is "
                               "'Exists' or 'DoesNotExist'")
        else:
            errs.invalid(f + ".operator", op, "not a valid selector operator")


def _check_cidr(errs, field, s):
    try:
        return ipaddress.ip_network(s, strict=False) if isinstance(s, str) and "/" in s \
            else _bad_cidr(errs, field, s)
    except ValueError:
        return _bad_cidr(errs, field, s)


def _bad_cidr(errs, field, s):
    errs.invalid(field, s, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
    return None


def _check_port(errs, f, p):
    if not isinstance(p, dict):
        errs.invalid(f, p, "must be an object")
        return
    proto = p.get("protocol")
    if proto is not None and proto not in ("TCP", "UDP", "SCTP"):
        errs.unsupported(f + ".protocol", proto, ["SCTP", "TCP", "UDP"])
    port, end = p.get("port"), p.get("endPort")
    if isinstance(port, bool) or (port is not None and not isinstance(port, (int, str))):
        errs.invalid(f + ".port", port, "must be an integer or a port name")
    elif isinstance(port, int):
        if not 1 <= port <= 65535:
            errs.invalid(f + ".port", port, "must be between 1 and 65535, inclusive")
    elif isinstance(port, str):
        if (len(port) > 15 or not _PORT_NAME.match(port) or "--" in port
                or not re.search("[a-z]", port)):
            errs.invalid(f + ".port", port, "must contain only alpha-numeric characters "
                         "(a-z, 0-9), and hyphens (-), at most 15 characters, and at least "
                         "one letter")
    if end is not None:
        if isinstance(port, str):
            errs.invalid(f + ".endPort", end, "may not be specified when `port` is non-numeric")
        elif port is None:
            errs.invalid(f + ".endPort", end, "may not be specified when `port` is not "
                         "specified")
        elif not isinstance(end, int) or isinstance(end, bool):
            errs.invalid(f + ".endPort", end, "must be an integer")
        elif isinstance(port, int):
            if end < port:
                errs.invalid(f + ".endPort", end, "must be greater than or equal to `port`")
            if not 1 <= end <= 65535:
                errs.invalid(f + ".endPort", end, "must be between 1 and 65535, inclusive")


def _check_peer(errs, f, peer):
    if not isinstance(peer, dict):
        errs.invalid(f, peer, "must be an object")
        return
    n = sum(1 for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None)
    if n == 0:
        errs.required(f, "must specify a peer")
    elif peer.get("ipBlock") is not None and n > 1:
        errs.forbidden(f, "may not specify more than 1 peer")
    check_label_selector(errs, f + ".podSelector", peer.get("podSelector"))
    check_label_selector(errs, f + ".namespaceSelector", peer.get("namespaceSelector"))
    ib = peer.get("ipBlock")
    if ib is None:
        return
    if not isinstance(ib, dict):
        errs.invalid(f + ".ipBlock", ib, "must be an object")
        return
    if not ib.get("cidr"):
        errs.required(f + ".ipBlock.cidr")
        return
    net = _check_cidr(errs, f + ".ipBlock.cidr", ib["cidr"])
    for j, e in enumerate(ib.get("except") or []):
        ef = "%s.ipBlock.except[%d]" % (f, j)
        ex = _check_cidr(errs, ef, e)
        if net is None or ex is None:
            continue
        if ex.version != net.version or not ex.subnet_of(net) or ex.prefixlen <= net.prefixlen:
            errs.invalid(ef, e, "must be a strict subset of `cidr`")


def check_netpol(errs, spec):
    if not isinstance(spec, dict):
        errs.required("spec")
        return
    check_label_selector(errs, "spec.podSelector", spec.get("podSelector"))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list):
            errs.invalid("spec." + direction, rules, "must be a list")
            continue
        for i, r in enumerate(rules):
            f = "spec.%s[%d]" % (direction, i)
            if not isinstance(r, dict):
                errs.invalid(f, r, "must be an object")
                continue
            for j, p in enumerate(r.get("ports") or []):
                _check_port(errs, "%s.ports[%d]" % (f, j), p)
            for j, p in enumerate(r.get(peers) or []):
                _check_peer(errs, "%s.%s[%d]" % (f, peers, j), p)
    types = spec.get("policyTypes")
    if types is not None:
        if not isinstance(types, list):
            errs.invalid("spec.policyTypes", types, "must be a list")
            return
        for i, t in enumerate(types):
            if t not in ("Ingress", "Egress"):
                errs.unsupported("spec.policyTypes[%d]" % i, t, ["Egress", "Ingress"])
        if len(types) > 2:
            errs.invalid("spec.policyTypes", types, "may not specify more than two policyTypes")


def default_netpol(obj):
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("podSelector", {})
    for direction in ("ingress", "egress"):
        for r in spec.get(direction) or []:
            if isinstance(r, dict):
                for p in r.get("ports") or []:
                    if isinstance(p, dict) and "protocol" not in p:
                        p["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        types = ["Ingress"]
        if spec.get("egress"):
            types.append("Egress")
        spec["policyTypes"] = types


def check_pod(errs, obj):
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        errs.required("spec")
        return
    cs = spec.get("containers")
    if not isinstance(cs, list) or not cs:
        errs.required("spec.containers")
    else:
        for i, c in enumerate(cs):
            if not isinstance(c, dict) or not c.get("name"):
                errs.required("spec.containers[%d].name" % i)
    check_pod_status(errs, obj.get("status"))


def check_pod_status(errs, status):
    if not isinstance(status, dict):
        return
    ip = status.get("podIP")
    ips = status.get("podIPs") or []
    for i, e in enumerate(ips):
        v = e.get("ip") if isinstance(e, dict) else None
        try:
            ipaddress.ip_address(v)
        except (ValueError, TypeError):
            errs.invalid("status.podIPs[%d].ip" % i, v, "must be a valid IP address")
    if ip:
        try:
            ipaddress.ip_address(ip)
        except (ValueError, TypeError):
            errs.invalid("status.podIP", ip, "must be a valid IP address")
        if ips and isinstance(ips[0], dict) and ips[0].get("ip") != ip:
            errs.invalid("status.podIPs[0].ip", ips[0].get("ip"), "must be equal to podIP")


_WORKLOADS = {("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "StatefulSet"),
              ("apps", "ReplicaSet"), ("batch", "Job"), ("", "ReplicationController")}


def default_pod(obj, restart=True):
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if restart:
        spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if not isinstance(c, dict):
                continue
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("imagePullPolicy", "Always" if str(c.get("image", "")).endswith(
                ":latest") or ":" not in str(c.get("image", "")) else "IfNotPresent")
            for p in c.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")


def check_object(rtype, obj):
    """Causes of a kind-specific validation failure (empty list when valid)."""
    errs = Errors()
    check_meta(errs, rtype.kind, obj.get("metadata"))
    if rtype.kind == "NetworkPolicy":
        check_netpol(errs, obj.get("spec"))
    elif rtype.kind == "Pod" and rtype.group == "":
        check_pod(errs, obj)
    return errs.causes


def apply_defaults(rtype, obj, defaults=True):
    if rtype.group == "" and rtype.kind == "Namespace":
        meta = obj["metadata"]
        if isinstance(meta.get("name"), str) and meta["name"]:
            labels = meta.get("labels")
            if not isinstance(labels, dict):
                labels = {}
            labels["kubernetes.io/metadata.name"] = meta["name"]
            meta["labels"] = labels
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        spec.setdefault("finalizers", ["kubernetes"])
        obj["spec"] = spec
        status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
        status.setdefault("phase", "Active")
        obj["status"] = status
    if rtype.group == "" and rtype.kind == "Secret" and not obj.get("type"):
        obj["type"] = "Opaque"
    if not defaults:
        return
    if rtype.kind == "NetworkPolicy" and rtype.group == "networking.k8s.io":
        default_netpol(obj)
    elif rtype.kind == "Pod" and rtype.group == "":
        default_pod(obj)
    elif (rtype.group, rtype.kind) in _WORKLOADS:
        tmpl = (obj.get("spec") or {}).get("template")
        if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
            default_pod(tmpl, restart=rtype.kind != "Job")
