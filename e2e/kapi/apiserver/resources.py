"""resources.py - the kinds the test API server knows: discovery documents, OpenAPI stubs
and the strategic-merge list metadata (merge keys) of each kind."""

import hashlib
import json
import threading

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUB_VERBS = ["get", "patch", "update"]

# Strategic-merge metadata of a Pod spec, relative to the spec: list path -> merge key, or
# None for a list of primitives merged as a set. Lists not listed are atomic (replaced).
_CONTAINER = {
    "ports": "containerPort",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
}
_POD_SPEC = {"volumes": "name", "imagePullSecrets": "name", "hostAliases": "ip",
             "resourceClaims": "name"}
for _c in ("containers", "initContainers", "ephemeralContainers"):
    _POD_SPEC[_c] = "name"
    for _k, _v in _CONTAINER.items():
        _POD_SPEC[_c + "." + _k] = _v

_META = {"metadata.ownerReferences": "uid", "metadata.finalizers": None}
_COND = {"status.conditions": "type"}


def _prefixed(prefix, rules):
    return {prefix + "." + k: v for k, v in rules.items()}


def _workload(template_path):
    rules = dict(_META)
    rules.update(_COND)
    rules.update(_prefixed(template_path, _POD_SPEC))
    return rules


class ResourceType:
    """One resource of one group-version (e.g. networking.k8s.io/v1 networkpolicies)."""

    def __init__(self, group, version, plural, kind, namespaced, short_names=(),
                 status=False, generation=True, return_deleted=False, fields=(),
                 merge_keys=None, singular=None, categories=(), builtin=True):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.status = status
        self.generation = generation
        self.return_deleted = return_deleted
        self.fields = {"metadata.name", "metadata.namespace"} | set(fields)
        self.merge_keys = dict(_META) if merge_keys is None else merge_keys
        self.singular = singular or kind.lower()
        self.categories = list(categories)
        self.builtin = builtin

    @property
    def gv(self):
        return self.group + "/" + self.version if self.group else self.version

    @property
    def key(self):
        """Storage key: group/plural (one storage per resource, whatever the version)."""
        return self.group + "/" + self.plural

    @property
    def qualified(self):
        """The name used in error messages: pods, networkpolicies.networking.k8s.io."""
        return self.plural + "." + self.group if self.group else self.plural

    def smp_key(self, path):
        """Strategic-merge metadata of the list at path (a dotted string): (True, key),
        (True, None) for a primitive set, (False, None) for an atomic list."""
        if path in self.merge_keys:
            return True, self.merge_keys[path]
        return False, None


def _builtin():
    pod_fields = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                  "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                  "status.podIP", "status.nominatedNodeName")
    pod_rules = dict(_META)
    pod_rules.update(_prefixed("spec", _POD_SPEC))
    pod_rules.update({"status.conditions": "type", "status.podIPs": "ip",
                      "status.hostIPs": "ip"})
    node_rules = dict(_META)
    node_rules.update({"status.conditions": "type", "status.addresses": "type",
                       "spec.podCIDRs": None})
    svc_rules = dict(_META)
    svc_rules.update({"spec.ports": "port"})
    R = ResourceType
    return [
        R("", "v1", "namespaces", "Namespace", False, ["ns"], status=True, generation=False,
          return_deleted=True, fields=["status.phase"],
          merge_keys=dict(_META, **_COND)),
        R("", "v1", "pods", "Pod", True, ["po"], status=True, generation=False,
          return_deleted=True, fields=pod_fields, merge_keys=pod_rules, categories=["all"]),
        R("", "v1", "nodes", "Node", False, ["no"], status=True, generation=False,
          return_deleted=True, fields=["spec.unschedulable"], merge_keys=node_rules),
        R("", "v1", "services", "Service", True, ["svc"], status=True, generation=False,
          return_deleted=True, merge_keys=svc_rules, categories=["all"]),
        R("", "v1", "endpoints", "Endpoints", True, ["ep"], generation=False),
        R("", "v1", "configmaps", "ConfigMap", True, ["cm"], generation=False),
        R("", "v1", "secrets", "Secret", True, [], generation=False, fields=["type"]),
        R("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"], generation=False,
          merge_keys=dict(_META, secrets="name")),
        R("", "v1", "events", "Event", True, ["ev"], generation=False, fields=[
            "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
            "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
            "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]),
        R("", "v1", "limitranges", "LimitRange", True, ["limits"], generation=False),
        R("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"], status=True,
          generation=False),
        R("", "v1", "persistentvolumes", "PersistentVolume", False, ["pv"], status=True,
          generation=False),
        R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"],
          status=True, generation=False),
        R("", "v1", "podtemplates", "PodTemplate", True, [], generation=False,
          merge_keys=_workload("template.spec")),
        R("", "v1", "replicationcontrollers", "ReplicationController", True, ["rc"],
          status=True, merge_keys=_workload("spec.template.spec"), categories=["all"]),
        R("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], status=True,
          merge_keys=_workload("spec.template.spec"), categories=["all"]),
        R("apps", "v1", "deployments", "Deployment", True, ["deploy"], status=True,
          merge_keys=_workload("spec.template.spec"), categories=["all"]),
        R("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], status=True,
          merge_keys=_workload("spec.template.spec"), categories=["all"]),
        R("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], status=True,
          merge_keys=_workload("spec.template.spec"), categories=["all"]),
        R("apps", "v1", "controllerrevisions", "ControllerRevision", True, []),
        R("batch", "v1", "jobs", "Job", True, [], status=True,
          merge_keys=_workload("spec.template.spec"), categories=["all"]),
        R("batch", "v1", "cronjobs", "CronJob", True, ["cj"], status=True,
          merge_keys=_workload("spec.jobTemplate.spec.template.spec"), categories=["all"]),
        R("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ["netpol"]),
        R("networking.k8s.io", "v1", "ingresses", "Ingress", True, ["ing"], status=True),
        R("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False, []),
        R("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, [],
          generation=False),
        R("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
          False, [], generation=False),
        R("rbac.authorization.k8s.io", "v1", "roles", "Role", True, [], generation=False),
        R("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, [],
          generation=False),
        R("coordination.k8s.io", "v1", "leases", "Lease", True, [], generation=False),
        R("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, [],
          generation=False),
        R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"],
          status=True),
        R("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ["pc"],
          generation=False),
        R("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ["sc"],
          generation=False),
        R("apiextensions.k8s.io", "v1", "customresourcedefinitions",
          "CustomResourceDefinition", False, ["crd", "crds"], status=True,
          return_deleted=True),
    ]


class Registry:
    """All served resources; custom resources are added when their CRD is created."""

    def __init__(self):
        self.lock = threading.Lock()
        self.types = []
        for t in _builtin():
            self.add(t)

    def add(self, rtype):
        with self.lock:
            self.types = [t for t in self.types
                          if not (t.group == rtype.group and t.version == rtype.version
                                  and t.plural == rtype.plural)]
            self.types.append(rtype)

    def remove_crd(self, group, plural):
        with self.lock:
            self.types = [t for t in self.types
                          if t.builtin or not (t.group == group and t.plural == plural)]

    def lookup(self, group, version, plural):
        for t in self.types:
            if t.group == group and t.version == version and t.plural == plural:
                return t
        return None

    def by_kind(self, group, kind):
        for t in self.types:
            if t.group == group and t.kind == kind:
                return t
        return None

    def group_versions(self):
        """Ordered {group: [version, ...]} with the core group first."""
        out = {}
        for t in self.types:
            vs = out.setdefault(t.group, [])
            if t.version not in vs:
                vs.append(t.version)
        return out

    # --- discovery ------------------------------------------------------------------------

    def api_versions(self, server_address):
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": server_address}]}

    def _group_doc(self, group, versions):
        vs = [{"groupVersion": group + "/" + v, "version": v} for v in versions]
        return {"name": group, "versions": vs, "preferredVersion": vs[0]}

    def api_group_list(self):
        groups = [self._group_doc(g, vs) for g, vs in self.group_versions().items() if g]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_group(self, group):
        vs = self.group_versions().get(group)
        if not vs or not group:
            return None
        doc = self._group_doc(group, vs)
        doc.update({"kind": "APIGroup", "apiVersion": "v1"})
        return doc

    def resource_list(self, group, version):
        ts = [t for t in self.types if t.group == group and t.version == version]
        if not ts:
            return None
        res = []
        for t in ts:
            r = {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                 "kind": t.kind, "verbs": VERBS}
            if t.short_names:
                r["shortNames"] = t.short_names
            if t.categories:
                r["categories"] = t.categories
            res.append(r)
            if t.status:
                res.append({"name": t.plural + "/status", "singularName": "",
                            "namespaced": t.namespaced, "kind": t.kind, "verbs": SUB_VERBS})
        gv = group + "/" + version if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": res}

    def aggregated(self, core):
        """apidiscovery.k8s.io/v2 APIGroupDiscoveryList of /api (core) or /apis."""
        items = []
        for group, versions in self.group_versions().items():
            if bool(group) == core:
                continue
            vlist = []
            for v in versions:
                res = []
                for t in self.types:
                    if t.group != group or t.version != v:
                        continue
                    gvk = {"group": group, "version": v, "kind": t.kind}
                    r = {"resource": t.plural, "responseKind": gvk,
                         "scope": "Namespaced" if t.namespaced else "Cluster",
                         "singularResource": t.singular, "verbs": VERBS}
                    if t.short_names:
                        r["shortNames"] = t.short_names
                    if t.categories:
                        r["categories"] = t.categories
                    if t.status:
                        r["subresources"] = [{"subresource": "status", "responseKind": gvk,
                                              "verbs": SUB_VERBS}]
                    res.append(r)
                vlist.append({"version": v, "resources": res, "freshness": "Current"})
            items.append({"metadata": {"name": group, "creationTimestamp": None},
                          "versions": vlist})
        return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {}, "items": items}

    # --- OpenAPI --------------------------------------------------------------------------

    def openapi_v3_root(self):
        paths = {}
        for group, versions in self.group_versions().items():
            for v in versions:
                p = "api/" + v if not group else "apis/" + group + "/" + v
                paths[p] = {"serverRelativeURL": "/openapi/v3/" + p + "?hash=" + self.hash()}
        return {"paths": paths}

    def hash(self):
        """Changes when the set of served kinds changes (clients cache by it)."""
        kinds = ",".join(sorted(t.gv + "/" + t.kind for t in self.types))
        return hashlib.sha256(kinds.encode()).hexdigest()[:16].upper()

    def _patch_paths(self, ts):
        paths = {}
        for t in ts:
            base = "/api/" + t.version if not t.group else "/apis/" + t.gv
            ns = "/namespaces/{namespace}" if t.namespaced else ""
            path = base + ns + "/" + t.plural + "/{name}"
            gvk = {"group": t.group, "version": t.version, "kind": t.kind}
            param = [{"name": "fieldValidation", "in": "query",
                      "schema": {"type": "string", "uniqueItems": True}}]
            op = {"x-kubernetes-group-version-kind": gvk, "parameters": param,
                  "responses": {"200": {"description": "OK"}}}
            paths[path] = {"patch": op, "put": dict(op)}
            paths[base + ns + "/" + t.plural] = {"post": dict(op)}
        return paths

    def openapi_v3_gv(self, group, version):
        ts = [t for t in self.types if t.group == group and t.version == version]
        if not ts:
            return None
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
                "paths": self._patch_paths(ts), "components": {"schemas": {}}}

    def openapi_v2(self):
        paths = self._patch_paths(self.types)
        return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
                "paths": paths, "definitions": {}}


def crd_types(crd):
    """ResourceTypes served for a CustomResourceDefinition object (empty if malformed)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not (isinstance(group, str) and isinstance(plural, str) and isinstance(kind, str)):
        return []
    out = []
    for v in spec.get("versions") or []:
        if not isinstance(v, dict) or not v.get("served", True) or not v.get("name"):
            continue
        subs = v.get("subresources") or {}
        out.append(ResourceType(group, v["name"], plural, kind,
                                spec.get("scope", "Namespaced") == "Namespaced",
                                names.get("shortNames") or [], status="status" in subs,
                                singular=names.get("singular") or kind.lower(),
                                categories=names.get("categories") or [], builtin=False))
    return out


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))
