"""protobuf.py - decodes the Kubernetes protobuf bodies that kubectl's typed clients send
(`kubectl create namespace|configmap|secret|serviceaccount|deployment|role|...`, `kubectl
run`): the "k8s\\0" envelope and a schema for those kinds. A field outside the schema is an
error (never silently dropped)."""

import base64
import struct
import time


class ProtoError(ValueError):
    pass


# A schema maps a field number to (json name, type); types: s string, b bytes (base64 in
# JSON), i int, bool, f64, a message schema name, ("rep", t) repeated, ("map", t) map with
# string keys, ("ptr", t) scalar kept even when zero. "skip" decodes nothing (status).
S = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "b"), 3: ("contentEncoding", "s"),
                4: ("contentType", "s")},
    "TypeMeta": {1: ("apiVersion", "s"), 2: ("kind", "s")},
    "Time": {1: ("seconds", "i"), 2: ("nanos", "i")},
    "ObjectMeta": {1: ("name", "s"), 2: ("generateName", "s"), 3: ("namespace", "s"),
                   4: ("selfLink", "s"), 5: ("uid", "s"), 6: ("resourceVersion", "s"),
                   7: ("generation", "i"), 8: ("creationTimestamp", "Time"),
                   9: ("deletionTimestamp", "Time"),
                   10: ("deletionGracePeriodSeconds", ("ptr", "i")),
                   11: ("labels", ("map", "s")), 12: ("annotations", ("map", "s")),
                   13: ("ownerReferences", ("rep", "OwnerReference")),
                   14: ("finalizers", ("rep", "s"))},
    "OwnerReference": {1: ("kind", "s"), 3: ("name", "s"), 4: ("uid", "s"),
                       5: ("apiVersion", "s"), 6: ("controller", ("ptr", "bool")),
                       7: ("blockOwnerDeletion", ("ptr", "bool"))},
    "LabelSelector": {1: ("matchLabels", ("map", "s")),
                      2: ("matchExpressions", ("rep", "LabelSelectorRequirement"))},
    "LabelSelectorRequirement": {1: ("key", "s"), 2: ("operator", "s"),
                                 3: ("values", ("rep", "s"))},
    "DeleteOptions": {1: ("gracePeriodSeconds", ("ptr", "i")),
                      2: ("preconditions", "Preconditions"),
                      3: ("orphanDependents", ("ptr", "bool")),
                      4: ("propagationPolicy", "s"), 5: ("dryRun", ("rep", "s"))},
    "Preconditions": {1: ("uid", "s"), 2: ("resourceVersion", "s")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"),
                  3: ("status", "skip")},
    "NamespaceSpec": {1: ("finalizers", ("rep", "s"))},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", ("map", "s")),
                  3: ("binaryData", ("map", "b")), 4: ("immutable", ("ptr", "bool"))},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", ("map", "b")), 3: ("type", "s"),
               4: ("stringData", ("map", "s")), 5: ("immutable", ("ptr", "bool"))},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"),
                       2: ("secrets", ("rep", "ObjectReference")),
                       3: ("imagePullSecrets", ("rep", "LocalObjectReference")),
                       4: ("automountServiceAccountToken", ("ptr", "bool"))},
    "ObjectReference": {1: ("kind", "s"), 2: ("namespace", "s"), 3: ("name", "s"),
                        4: ("uid", "s"), 5: ("apiVersion", "s"), 6: ("resourceVersion", "s"),
                        7: ("fieldPath", "s")},
    "LocalObjectReference": {1: ("name", "s")},
    "Pod": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec"), 3: ("status", "skip")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {2: ("containers", ("rep", "Container")), 3: ("restartPolicy", "s"),
                4: ("terminationGracePeriodSeconds", ("ptr", "i")),
                5: ("activeDeadlineSeconds", ("ptr", "i")), 6: ("dnsPolicy", "s"),
                9: ("serviceAccount", "s"), 12: ("hostPID", "bool"), 13: ("hostIPC", "bool"),
                16: ("hostname", "s"), 17: ("subdomain", "s"),
                21: ("automountServiceAccountToken", ("ptr", "bool")),
                25: ("priority", ("ptr", "i")), 27: ("shareProcessNamespace", ("ptr", "bool")),
                29: ("runtimeClassName", ("ptr", "s")), 30: ("enableServiceLinks", ("ptr", "bool")),
                35: ("setHostnameAsFQDN", ("ptr", "bool")), 37: ("hostUsers", ("ptr", "bool")),
                7: ("nodeSelector", ("map", "s")), 8: ("serviceAccountName", "s"),
                10: ("nodeName", "s"), 11: ("hostNetwork", "bool"),
                14: ("securityContext", "Empty"),
                15: ("imagePullSecrets", ("rep", "LocalObjectReference")),
                19: ("schedulerName", "s"), 20: ("initContainers", ("rep", "Container")),
                24: ("priorityClassName", "s")},
    "Container": {1: ("name", "s"), 2: ("image", "s"), 3: ("command", ("rep", "s")),
                  4: ("args", ("rep", "s")), 5: ("workingDir", "s"),
                  6: ("ports", ("rep", "ContainerPort")), 7: ("env", ("rep", "EnvVar")),
                  8: ("resources", "ResourceRequirements"),
                  13: ("terminationMessagePath", "s"), 14: ("imagePullPolicy", "s"),
                  16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool"),
                  20: ("terminationMessagePolicy", "s")},
    "ContainerPort": {1: ("name", "s"), 2: ("hostPort", "i"), 3: ("containerPort", "i"),
                      4: ("protocol", "s"), 5: ("hostIP", "s")},
    "EnvVar": {1: ("name", "s"), 2: ("value", "s")},
    "ResourceRequirements": {1: ("limits", ("map", "Quantity")),
                             2: ("requests", ("map", "Quantity"))},
    "Quantity": {1: ("string", "s")},
    "Empty": {},
    "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec"),
                   3: ("status", "skip")},
    "DeploymentSpec": {1: ("replicas", ("ptr", "i")), 2: ("selector", "LabelSelector"),
                       3: ("template", "PodTemplateSpec"), 4: ("strategy", "Strategy"),
                       5: ("minReadySeconds", "i"), 6: ("revisionHistoryLimit", ("ptr", "i")),
                       7: ("paused", "bool"), 9: ("progressDeadlineSeconds", ("ptr", "i"))},
    "Strategy": {1: ("type", "s")},
    "ClusterRole": {1: ("metadata", "ObjectMeta"), 2: ("rules", ("rep", "PolicyRule"))},
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", ("rep", "PolicyRule"))},
    "PolicyRule": {1: ("verbs", ("rep", "s")), 2: ("apiGroups", ("rep", "s")),
                   3: ("resources", ("rep", "s")), 4: ("resourceNames", ("rep", "s")),
                   5: ("nonResourceURLs", ("rep", "s"))},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", ("rep", "Subject")),
                           3: ("roleRef", "RoleRef")},
    "RoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", ("rep", "Subject")),
                    3: ("roleRef", "RoleRef")},
    "Subject": {1: ("kind", "s"), 2: ("apiGroup", "s"), 3: ("name", "s"), 4: ("namespace", "s")},
    "RoleRef": {1: ("apiGroup", "s"), 2: ("kind", "s"), 3: ("name", "s")},
}

# kinds (by "group/Kind") whose protobuf body can be decoded
KINDS = {"/Namespace": "Namespace", "/ConfigMap": "ConfigMap", "/Secret": "Secret",
         "/ServiceAccount": "ServiceAccount", "/Pod": "Pod", "apps/Deployment": "Deployment",
         "rbac.authorization.k8s.io/ClusterRole": "ClusterRole",
         "rbac.authorization.k8s.io/Role": "Role",
         "rbac.authorization.k8s.io/ClusterRoleBinding": "ClusterRoleBinding",
         "rbac.authorization.k8s.io/RoleBinding": "RoleBinding",
         "meta.k8s.io/DeleteOptions": "DeleteOptions", "/DeleteOptions": "DeleteOptions"}


def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ProtoError("varint too long")


def _fields(buf):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtoError("truncated field %d" % num)
            val, i = buf[i:i + n], i + n
        elif wt == 1:
            val, i = buf[i:i + 8], i + 8
        elif wt == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ProtoError("unsupported wire type %d" % wt)
        yield num, wt, val


def _scalar(t, wt, val, where):
    if t == "s":
        if wt != 2:
            raise ProtoError("%s: expected a string" % where)
        return val.decode("utf-8")
    if t == "b":
        return base64.b64encode(bytes(val)).decode()
    if t == "i":
        if wt != 0:
            raise ProtoError("%s: expected a varint" % where)
        return val - (1 << 64) if val >= 1 << 63 else val
    if t == "bool":
        return bool(val)
    if t == "f64":
        return struct.unpack("<d", val)[0]
    if t == "Time":
        m = decode_message(val, "Time")
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(m.get("seconds", 0))) \
            if m.get("seconds") else None
    if t == "Quantity":
        return decode_message(val, "Quantity").get("string", "0")
    return decode_message(val, t)


def _zero(v):
    return v in ("", 0, False, None) and not isinstance(v, float) or v == []


def decode_message(buf, name):
    schema = S[name]
    out = {}
    for num, wt, val in _fields(bytes(buf)):
        if num not in schema:
            raise ProtoError("field %d of %s is not supported by this test server; send JSON "
                             "instead (e.g. kubectl create -f FILE)" % (num, name))
        key, t = schema[num]
        where = name + "." + key
        if t == "skip":
            continue
        if isinstance(t, tuple) and t[0] == "rep":
            out.setdefault(key, []).append(_scalar(t[1], wt, val, where))
        elif isinstance(t, tuple) and t[0] == "map":
            k = v = None
            for n2, wt2, val2 in _fields(bytes(val)):
                if n2 == 1:
                    k = _scalar("s", wt2, val2, where)
                elif n2 == 2:
                    v = _scalar(t[1], wt2, val2, where)
            out.setdefault(key, {})[k or ""] = v if v is not None else ""
        elif isinstance(t, tuple) and t[0] == "ptr":
            out[key] = _scalar(t[1], wt, val, where)
        else:
            v = _scalar(t, wt, val, where)
            if not _zero(v):
                out[key] = v
            elif isinstance(v, dict):
                out[key] = v
    return out


def decode(body):
    """A protobuf-encoded object (with the k8s envelope) -> its JSON form."""
    if body[:4] != b"k8s\x00":
        raise ProtoError("protobuf body without the k8s envelope")
    env = decode_message(body[4:], "Unknown")
    tm = env.get("typeMeta") or {}
    api, kind = tm.get("apiVersion", ""), tm.get("kind", "")
    group = api.rpartition("/")[0]
    name = KINDS.get(group + "/" + kind)
    if name is None:
        raise ProtoError("protobuf bodies of kind %s %s are not supported by this test server; "
                         "send JSON instead (e.g. kubectl create -f FILE)" % (api, kind))
    raw = base64.b64decode(env.get("raw", ""))
    obj = decode_message(raw, name)
    obj = dict({"apiVersion": api, "kind": kind}, **obj)
    meta = obj.get("metadata")
    if isinstance(meta, dict) and meta.get("creationTimestamp") is None:
        meta.pop("creationTimestamp", None)
    return obj
