"""tables.py - server-side printing: meta.k8s.io Table answers (the columns `kubectl get`
shows) for the kinds the e2e tests look at, kube-apiserver's default table otherwise."""

import calendar
import time

_STR = "string"


def _col(name, desc, ctype=_STR, priority=0, fmt=""):
    return {"name": name, "type": ctype, "format": fmt, "description": desc,
            "priority": priority}


NAME = _col("Name", "Name must be unique within a namespace.", fmt="name")
AGE = _col("Age", "CreationTimestamp is a timestamp representing the server time when this "
           "object was created.")


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd%dh" % (h // 24, h % 24) if h % 24 else "%dd" % (h // 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    y = h // (24 * 365)
    if y < 8:
        d = h // 24 - 365 * y
        return "%dy%dd" % (y, d) if d else "%dy" % y
    return "%dy" % y


def age(obj):
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    try:
        t = calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return "<unknown>"
    return human_duration(time.time() - t)


def format_selector(sel):
    """metav1.FormatLabelSelector."""
    if not isinstance(sel, dict):
        return "<none>"
    parts = ["%s=%s" % (k, v) for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op, key, vals = e.get("operator"), e.get("key"), e.get("values") or []
        if op == "In":
            parts.append("%s in (%s)" % (key, ",".join(vals)))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (key, ",".join(vals)))
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append("!" + key)
    return ",".join(parts) or "<none>"


def _pod(o):
    spec, st = o.get("spec") or {}, o.get("status") or {}
    cs = st.get("containerStatuses") or []
    ready = sum(1 for c in cs if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in cs)
    status = st.get("reason") or st.get("phase") or "Unknown"
    for c in cs:
        w = (c.get("state") or {}).get("waiting") or {}
        if w.get("reason"):
            status = w["reason"]
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        status = "Terminating"
    gates = spec.get("readinessGates") or []
    return [o["metadata"]["name"], "%d/%d" % (ready, len(spec.get("containers") or [])),
            status, restarts, age(o), st.get("podIP") or "<none>",
            spec.get("nodeName") or "<none>", st.get("nominatedNodeName") or "<none>",
            "%d/%d" % (0, len(gates)) if gates else "<none>"]


def _node(o):
    st, spec = o.get("status") or {}, o.get("spec") or {}
    cond = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
    status = "Unknown" if cond is None else "Ready" if cond.get("status") == "True" \
        else "NotReady"
    if spec.get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = (o.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels
                   if k.startswith("node-role.kubernetes.io/") and "/" in k)
    addr = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [o["metadata"]["name"], status, ",".join(roles) or "<none>", age(o),
            info.get("kubeletVersion") or "", addr.get("InternalIP", "<none>"),
            addr.get("ExternalIP", "<none>"), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _ds(o):
    st, spec = o.get("status") or {}, o.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    cs = pod.get("containers") or []
    sel = pod.get("nodeSelector") or {}
    return [o["metadata"]["name"], st.get("desiredNumberScheduled", 0),
            st.get("currentNumberScheduled", 0), st.get("numberReady", 0),
            st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0),
            ",".join("%s=%s" % kv for kv in sorted(sel.items())) or "<none>", age(o),
            ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs),
            format_selector(spec.get("selector"))]


def _deploy(o):
    st, spec = o.get("status") or {}, o.get("spec") or {}
    cs = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return [o["metadata"]["name"], "%d/%d" % (st.get("readyReplicas", 0),
                                              spec.get("replicas", 1)),
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0), age(o),
            ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs),
            format_selector(spec.get("selector"))]


_PRINTERS = {
    ("", "Pod"): ([NAME, _col("Ready", "The aggregate readiness state of this pod for "
                                "accepting traffic."),
                   _col("Status", "The aggregate status of the containers in this pod."),
                   _col("Restarts", "The number of times the containers in this pod have "
                        "been restarted.", "string"), AGE,
                   _col("IP", "IP address allocated to the pod.", priority=1),
                   _col("Node", "Name of the node this pod is running on.", priority=1),
                   _col("Nominated Node", "Name of the node the pod is nominated to.",
                        priority=1),
                   _col("Readiness Gates", "The readiness gates of this pod.", priority=1)],
                  _pod),
    ("", "Namespace"): ([NAME, _col("Status", "The status of the namespace"), AGE],
                        lambda o: [o["metadata"]["name"],
                                   (o.get("status") or {}).get("phase", ""), age(o)]),
    ("", "Node"): ([NAME, _col("Status", "The status of the node"),
                    _col("Roles", "The roles of the node"), AGE,
                    _col("Version", "Kubelet Version reported by the node."),
                    _col("Internal-IP", "List of internal IPs for the node.", priority=1),
                    _col("External-IP", "List of external IPs for the node.", priority=1),
                    _col("OS-Image", "OS Image reported by the node.", priority=1),
                    _col("Kernel-Version", "Kernel Version reported by the node.", priority=1),
                    _col("Container-Runtime", "Container Runtime Version reported by the "
                         "node.", priority=1)], _node),
    ("networking.k8s.io", "NetworkPolicy"): (
        [NAME, _col("Pod-Selector", "Selects the pods to which this NetworkPolicy object "
                    "applies."), AGE],
        lambda o: [o["metadata"]["name"],
                   format_selector((o.get("spec") or {}).get("podSelector")), age(o)]),
    ("", "ConfigMap"): ([NAME, _col("Data", "Data contains the configuration data.",
                                    "integer"), AGE],
                        lambda o: [o["metadata"]["name"], len(o.get("data") or {})
                                   + len(o.get("binaryData") or {}), age(o)]),
    ("", "Secret"): ([NAME, _col("Type", "The type of the secret"),
                      _col("Data", "The number of data items", "integer"), AGE],
                     lambda o: [o["metadata"]["name"], o.get("type", ""),
                                len(o.get("data") or {}), age(o)]),
    ("", "ServiceAccount"): ([NAME, _col("Secrets", "Secrets is a list of the secrets",
                                         "integer"), AGE],
                             lambda o: [o["metadata"]["name"], len(o.get("secrets") or []),
                                        age(o)]),
    ("apps", "DaemonSet"): ([NAME] + [_col(n, n, "integer") for n in
                                      ("Desired", "Current", "Ready", "Up-to-date",
                                       "Available")]
                            + [_col("Node Selector", "Node selector"), AGE,
                               _col("Containers", "Containers", priority=1),
                               _col("Images", "Images", priority=1),
                               _col("Selector", "Selector", priority=1)], _ds),
    ("apps", "Deployment"): ([NAME, _col("Ready", "Ready"),
                              _col("Up-to-date", "Up to date", "integer"),
                              _col("Available", "Available", "integer"), AGE,
                              _col("Containers", "Containers", priority=1),
                              _col("Images", "Images", priority=1),
                              _col("Selector", "Selector", priority=1)], _deploy),
}

_DEFAULT = ([NAME, _col("Created At", "CreationTimestamp is a timestamp representing the "
                        "server time when this object was created.", "date", fmt="")],
            lambda o: [o["metadata"]["name"],
                       (o.get("metadata") or {}).get("creationTimestamp")])


def wants_table(accept):
    """The meta.k8s.io version of the Table the Accept header asks for first, or None."""
    for part in (accept or "").split(","):
        p = {}
        for kv in part.strip().split(";")[1:]:
            k, _, v = kv.strip().partition("=")
            p[k] = v
        if part.strip().startswith("application/json") and p.get("as") == "Table" \
                and p.get("g") == "meta.k8s.io" and p.get("v") in ("v1", "v1beta1"):
            return p["v"]
        if part.strip().split(";")[0] in ("application/json", "*/*"):
            return None
    return None


def table(rtype, objs, version, include="Metadata", meta=None, headers=True):
    cols, row = _PRINTERS.get((rtype.group, rtype.kind), _DEFAULT)
    rows = []
    for o in objs:
        r = {"cells": row(o)}
        if include == "Object":
            r["object"] = o
        elif include != "None":
            r["object"] = {"kind": "PartialObjectMetadata",
                           "apiVersion": "meta.k8s.io/" + version,
                           "metadata": o.get("metadata") or {}}
        rows.append(r)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/" + version, "metadata": meta or {},
            "columnDefinitions": cols if headers else [], "rows": rows}
