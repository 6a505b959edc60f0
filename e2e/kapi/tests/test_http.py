"""test_http.py - the wire protocol against a running server: discovery, CRUD, errors,
selectors, pagination, resourceVersions, watches, bookmarks, 410s and the fault hook."""

import json
import os
import socket
import threading
import unittest
from urllib.parse import quote

import helpers
from helpers import Server, ServerTest, namespace, netpol, pod

NP = "/apis/networking.k8s.io/v1/namespaces/demo/networkpolicies"
PODS = "/api/v1/namespaces/demo/pods"


class Basics(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv.ok("POST", "/api/v1/namespaces", namespace("demo"))

    def test_version_and_discovery(self):
        v = self.srv.ok("GET", "/version")
        self.assertEqual((v["major"], v["minor"]), ("1", "32"))
        self.assertEqual(self.srv.ok("GET", "/api")["versions"], ["v1"])
        groups = {g["name"] for g in self.srv.ok("GET", "/apis")["groups"]}
        self.assertTrue({"networking.k8s.io", "apps", "rbac.authorization.k8s.io"} <= groups)
        res = {r["name"]: r for r in self.srv.ok("GET", "/api/v1")["resources"]}
        self.assertFalse(res["namespaces"]["namespaced"])
        self.assertTrue(res["pods"]["namespaced"])
        self.assertIn("pods/status", res)
        self.assertIn("configmaps", res)
        np = self.srv.ok("GET", "/apis/networking.k8s.io/v1")["resources"]
        self.assertEqual(np[0]["kind"], "NetworkPolicy")
        code, agg, hdr = self.srv.request("GET", "/apis", headers={
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                      "application/json"})
        self.assertEqual(code, 200)
        self.assertIn("as=APIGroupDiscoveryList", hdr["Content-Type"])
        self.assertEqual(agg["kind"], "APIGroupDiscoveryList")
        root = self.srv.ok("GET", "/openapi/v3")["paths"]
        self.assertIn("apis/networking.k8s.io/v1", root)
        doc = self.srv.ok("GET", root["apis/networking.k8s.io/v1"]["serverRelativeURL"])
        ops = [p["patch"] for p in doc["paths"].values() if "patch" in p]
        self.assertEqual(ops[0]["x-kubernetes-group-version-kind"]["kind"], "NetworkPolicy")

    def test_default_namespaces_and_label(self):
        items = self.srv.ok("GET", "/api/v1/namespaces")["items"]
        names = {o["metadata"]["name"]: o for o in items}
        for n in ("default", "kube-system", "kube-public", "kube-node-lease", "demo"):
            self.assertEqual(names[n]["metadata"]["labels"]["kubernetes.io/metadata.name"], n)
            self.assertEqual(names[n]["status"]["phase"], "Active")
        self.assertNotIn("kind", items[0], "list items carry no kind, like kube-apiserver")
        # the label cannot be changed away
        out = self.srv.ok("PATCH", "/api/v1/namespaces/demo",
                          {"metadata": {"labels": {"kubernetes.io/metadata.name": "x"}}},
                          "application/merge-patch+json")
        self.assertEqual(out["metadata"]["labels"]["kubernetes.io/metadata.name"], "demo")

    def test_create_get_errors(self):
        o = self.srv.ok("POST", NP, netpol("e1", spec={"podSelector": {}, "ingress": [
            {"ports": [{"port": 80}]}]}))
        self.assertEqual(o["metadata"]["generation"], 1)
        self.assertTrue(o["metadata"]["uid"])
        self.assertTrue(o["metadata"]["creationTimestamp"].endswith("Z"))
        self.assertEqual(o["spec"]["policyTypes"], ["Ingress"])
        self.assertEqual(o["spec"]["ingress"][0]["ports"][0]["protocol"], "TCP")
        code, st, _ = self.srv.request("POST", NP, netpol("e1"))
        self.assertEqual((code, st["reason"]), (409, "AlreadyExists"))
        self.assertEqual(st["message"],
                         'networkpolicies.networking.k8s.io "e1" already exists')
        code, st, _ = self.srv.request("GET", NP + "/nope")
        self.assertEqual((code, st["kind"], st["reason"]), (404, "Status", "NotFound"))
        code, st, _ = self.srv.request("POST", "/apis/networking.k8s.io/v1/namespaces/"
                                       "nons/networkpolicies", netpol("x", ns="nons"))
        self.assertEqual((code, st["message"]), (404, 'namespaces "nons" not found'))
        code, st, _ = self.srv.request("POST", NP, b"{not json")
        self.assertEqual((code, st["reason"]), (400, "BadRequest"))
        code, st, _ = self.srv.request("PATCH", NP + "/e1", {"a": 1}, "text/plain")
        self.assertEqual(code, 415)
        code, st, _ = self.srv.request("GET", "/apis/nope.io/v1/things")
        self.assertEqual(code, 404)

    def test_netpol_validation(self):
        bad = netpol("bad", spec={
            "podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "ingress": [{"ports": [{"protocol": "ICMP", "port": 70000},
                                   {"port": "http", "endPort": 90}],
                         "from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8",
                                                   "except": ["11.0.0.0/16"]},
                                       "podSelector": {}}]}],
            "policyTypes": ["Sideways"]})
        code, st, _ = self.srv.request("POST", NP, bad)
        self.assertEqual((code, st["reason"]), (422, "Invalid"))
        fields = {c["field"] for c in st["details"]["causes"]}
        self.assertEqual(fields, {
            "spec.podSelector.matchExpressions[0].values",
            "spec.ingress[0].ports[0].protocol", "spec.ingress[0].ports[0].port",
            "spec.ingress[0].ports[1].endPort", "spec.ingress[0].from[0]",
            "spec.ingress[0].from[1]", "spec.ingress[0].from[1].ipBlock.except[0]",
            "spec.policyTypes[0]"})
        self.assertTrue(st["message"].startswith('NetworkPolicy.networking.k8s.io "bad" is '
                                                 'invalid: ['))
        code, st, _ = self.srv.request("POST", NP, netpol("Bad_Name"))
        self.assertEqual(st["details"]["causes"][0]["field"], "metadata.name")

    def test_update_conflict_and_generation(self):
        o = self.srv.ok("POST", NP, netpol("u1"))
        o2 = json.loads(json.dumps(o))
        o2["spec"]["podSelector"] = {"matchLabels": {"a": "b"}}
        n = self.srv.ok("PUT", NP + "/u1", o2)
        self.assertEqual(n["metadata"]["generation"], 2)
        self.assertGreater(int(n["metadata"]["resourceVersion"]),
                           int(o["metadata"]["resourceVersion"]))
        code, st, _ = self.srv.request("PUT", NP + "/u1", o2)
        self.assertEqual((code, st["reason"]), (409, "Conflict"))
        # unconditional update (no resourceVersion) is allowed
        del o2["metadata"]["resourceVersion"]
        o2["metadata"]["labels"] = {"k": "v"}
        n2 = self.srv.ok("PUT", NP + "/u1", o2)
        self.assertEqual(n2["metadata"]["generation"], 2, "metadata changes keep generation")
        # a write changing nothing keeps the resourceVersion
        n3 = self.srv.ok("PATCH", NP + "/u1", {"metadata": {"labels": {"k": "v"}}},
                         "application/merge-patch+json")
        self.assertEqual(n3["metadata"]["resourceVersion"], n2["metadata"]["resourceVersion"])
        code, st, _ = self.srv.request("PATCH", NP + "/u1", {"metadata": {
            "resourceVersion": "1", "labels": {"k": "w"}}}, "application/merge-patch+json")
        self.assertEqual(code, 409)

    def test_patch_types(self):
        self.srv.ok("POST", PODS, pod("pt", labels={"a": "1"}))
        o = self.srv.ok("PATCH", PODS + "/pt", {"spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "d"}],
            "containers": [{"name": "d", "image": "x"}]}},
            "application/strategic-merge-patch+json")
        self.assertEqual([c["name"] for c in o["spec"]["containers"]], ["c", "d"])
        o = self.srv.ok("PATCH", PODS + "/pt", [
            {"op": "replace", "path": "/metadata/labels/a", "value": "2"}],
            "application/json-patch+json")
        self.assertEqual(o["metadata"]["labels"], {"a": "2"})
        code, st, _ = self.srv.request("PATCH", PODS + "/pt", [
            {"op": "test", "path": "/metadata/labels/a", "value": "9"}],
            "application/json-patch+json")
        self.assertEqual(code, 422)

    def test_apply_patch_yaml_and_json(self):
        y = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ssa\n"
             "  namespace: demo\n  labels:\n    a: '1'\nspec:\n  podSelector: {}\n")
        code, o, _ = self.srv.request("PATCH", NP + "/ssa?fieldManager=t", y,
                                      "application/apply-patch+yaml")
        self.assertEqual(code, 201)
        self.assertEqual(o["metadata"]["managedFields"][0]["manager"], "t")
        self.assertEqual(o["metadata"]["managedFields"][0]["operation"], "Apply")
        j = netpol("ssa", labels={"b": "2"})
        code, o, _ = self.srv.request("PATCH", NP + "/ssa?fieldManager=t", j,
                                      "application/apply-patch+yaml")
        self.assertEqual(code, 200)
        self.assertEqual(o["metadata"]["labels"], {"b": "2"})
        code, st, _ = self.srv.request("PATCH", NP + "/ssa", j, "application/apply-patch+yaml")
        self.assertEqual(code, 422, "apply needs a fieldManager")

    def test_generate_name_and_dry_run(self):
        body = netpol("")
        body["metadata"] = {"generateName": "gen-"}
        o = self.srv.ok("POST", NP, body)
        self.assertRegex(o["metadata"]["name"], r"^gen-[a-z0-9]{5}$")
        rv = self.srv.ok("GET", NP)["metadata"]["resourceVersion"]
        d = self.srv.ok("POST", NP + "?dryRun=All", netpol("dry"))
        self.assertEqual(d["metadata"]["name"], "dry")
        self.assertEqual(self.srv.request("GET", NP + "/dry")[0], 404)
        self.assertEqual(self.srv.ok("GET", NP)["metadata"]["resourceVersion"], rv)

    def test_delete_answers(self):
        self.srv.ok("POST", NP, netpol("d1"))
        st = self.srv.ok("DELETE", NP + "/d1", {"propagationPolicy": "Foreground"})
        self.assertEqual((st["kind"], st["status"], st["details"]["name"]),
                         ("Status", "Success", "d1"))
        self.srv.ok("POST", PODS, pod("d2"))
        o = self.srv.ok("DELETE", PODS + "/d2", {"propagationPolicy": "Background"})
        self.assertEqual(o["kind"], "Pod")
        self.assertEqual(self.srv.request("DELETE", PODS + "/d2")[0], 404)
        code, st, _ = self.srv.request("DELETE", "/api/v1/namespaces/default")
        self.assertEqual((code, st["reason"]), (403, "Forbidden"))

    def test_selectors_and_pod_status(self):
        self.srv.ok("POST", "/api/v1/namespaces", namespace("sel"))
        base = "/api/v1/namespaces/sel/pods"
        self.srv.ok("POST", base, pod("p1", "sel", "node-1", {"app": "a"}))
        self.srv.ok("POST", base, pod("p2", "sel", "node-2", {"app": "b"}))
        o = self.srv.ok("PATCH", base + "/p1/status", {"status": {
            "phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]}},
            "application/strategic-merge-patch+json")
        self.assertEqual(o["status"]["podIP"], "10.0.0.5")
        o = self.srv.ok("PATCH", base + "/p1/status", {"metadata": {"labels": {"x": "y"}}},
                        "application/merge-patch+json")
        self.assertNotIn("x", o["metadata"]["labels"], "status writes ignore metadata")
        o = self.srv.ok("PATCH", base + "/p1", {"status": {"phase": "Failed"}},
                        "application/merge-patch+json")
        self.assertEqual(o["status"]["phase"], "Running", "main writes ignore status")
        code, st, _ = self.srv.request("PATCH", base + "/p1/status", {"status": {
            "podIP": "10.0.0.999"}}, "application/merge-patch+json")
        self.assertEqual(code, 422)
        # kubelet puts the pod's uid into its status patches as a precondition
        uid = o["metadata"]["uid"]
        o = self.srv.ok("PATCH", base + "/p1/status", {"metadata": {"uid": uid}, "status": {
            "$setElementOrder/podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}],
            "podIPs": [{"ip": "fd00::5"}]}}, "application/strategic-merge-patch+json")
        self.assertEqual(o["status"]["podIPs"], [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}])
        code, st, _ = self.srv.request("PATCH", base + "/p1/status", {
            "metadata": {"uid": "0000"}, "status": {"phase": "Failed"}},
            "application/strategic-merge-patch+json")
        self.assertEqual((code, st["reason"]), (409, "Conflict"))

        def names(q):
            return [i["metadata"]["name"] for i in self.srv.ok("GET", q)["items"]]
        self.assertEqual(names(base + "?labelSelector=" + quote("app in (a,c)")), ["p1"])
        self.assertEqual(names(base + "?fieldSelector=" + quote("spec.nodeName=node-2")),
                         ["p2"])
        self.assertEqual(names("/api/v1/pods?fieldSelector=" + quote(
            "status.phase=Running,metadata.namespace=sel")), ["p1"])
        self.assertEqual(names(base + "?fieldSelector=" + quote("metadata.name!=p1")), ["p2"])
        code, st, _ = self.srv.request("GET", base + "?fieldSelector=spec.bogus%3Dx")
        self.assertEqual((code, st["message"]), (400, "field label not supported: spec.bogus"))
        code, _, _ = self.srv.request("GET", base + "?labelSelector=a%20in%20b")
        self.assertEqual(code, 400)

    def test_table_answers(self):
        accept = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;"
                  "v=v1beta1;g=meta.k8s.io,application/json")
        code, t, hdr = self.srv.request("GET", "/api/v1/namespaces", headers={
            "Accept": accept})
        self.assertEqual(code, 200)
        self.assertEqual(hdr["Content-Type"], "application/json;as=Table;v=v1;g=meta.k8s.io")
        self.assertEqual([c["name"] for c in t["columnDefinitions"]], ["Name", "Status", "Age"])
        row = next(r for r in t["rows"] if r["cells"][0] == "demo")
        self.assertEqual(row["cells"][1], "Active")
        self.assertEqual(row["object"]["kind"], "PartialObjectMetadata")
        code, t, _ = self.srv.request("GET", "/api/v1/namespaces/demo?includeObject=None",
                                      headers={"Accept": accept})
        self.assertEqual((len(t["rows"]), "object" in t["rows"][0]), (1, False))
        code, o, hdr = self.srv.request("GET", "/api/v1/namespaces/demo",
                                        headers={"Accept": "application/json"})
        self.assertEqual(o["kind"], "Namespace")

    def test_nodes(self):
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-9"},
                "spec": {"podCIDR": "10.244.9.0/24", "podCIDRs": ["10.244.9.0/24"]},
                "status": {"addresses": [{"type": "InternalIP", "address": "10.200.0.9"}]}}
        o = self.srv.ok("POST", "/api/v1/nodes", node)
        self.assertEqual(o["status"]["addresses"][0]["address"], "10.200.0.9",
                         "a node keeps the status it is created with (kubelet registers so)")
        self.assertNotIn("namespace", o["metadata"])
        o = self.srv.ok("PATCH", "/api/v1/nodes/node-9/status", {"status": {"conditions": [
            {"type": "Ready", "status": "True"}]}}, "application/strategic-merge-patch+json")
        self.assertEqual(o["status"]["conditions"][0]["type"], "Ready")
        self.assertEqual(len(o["status"]["addresses"]), 1)
        self.srv.ok("PATCH", "/api/v1/nodes/node-9", {"spec": {"unschedulable": True}},
                    "application/merge-patch+json")
        names = [n["metadata"]["name"] for n in self.srv.ok(
            "GET", "/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue")["items"]]
        self.assertEqual(names, ["node-9"])
        self.assertEqual(self.srv.request("GET", "/api/v1/namespaces/demo/nodes/node-9")[0],
                         404, "nodes are cluster-scoped")
        self.assertEqual(self.srv.ok("DELETE", "/api/v1/nodes/node-9")["kind"], "Node")

    def test_namespace_delete_cascades(self):
        self.srv.ok("POST", "/api/v1/namespaces", namespace("gone"))
        self.srv.ok("POST", "/api/v1/namespaces/gone/pods", pod("p", "gone"))
        self.srv.ok("POST", "/apis/networking.k8s.io/v1/namespaces/gone/networkpolicies",
                    netpol("n", "gone"))
        o = self.srv.ok("DELETE", "/api/v1/namespaces/gone")
        self.assertEqual(o["status"]["phase"], "Terminating")
        self.assertEqual(self.srv.request("GET", "/api/v1/namespaces/gone/pods/p")[0], 404)
        self.assertEqual(self.srv.ok("GET", "/apis/networking.k8s.io/v1/namespaces/gone/"
                                     "networkpolicies")["items"], [])
        self.assertEqual(self.srv.request("GET", "/api/v1/namespaces/gone")[0], 404)

    def test_generic_kinds_and_crd(self):
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
              "data": {"k": "v"}}
        o = self.srv.ok("POST", "/api/v1/namespaces/demo/configmaps", cm)
        self.assertEqual(o["data"], {"k": "v"})
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.com"},
               "spec": {"group": "example.com", "scope": "Namespaced",
                        "names": {"plural": "widgets", "kind": "Widget"},
                        "versions": [{"name": "v1", "served": True, "storage": True}]}}
        self.srv.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        w = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
             "spec": {"size": 3}}
        self.srv.ok("POST", "/apis/example.com/v1/namespaces/demo/widgets", w)
        self.assertIn("example.com", {g["name"] for g in self.srv.ok("GET", "/apis")["groups"]})
        self.assertEqual(self.srv.ok("GET", "/apis/example.com/v1/namespaces/demo/widgets/w")
                         ["spec"], {"size": 3})


class Robustness(ServerTest):
    def test_odd_bodies_never_500(self):
        """Malformed input of every shape gets a 4xx Status, never a 500 or a dropped
        connection."""
        self.srv.ok("POST", "/api/v1/namespaces", namespace("demo"))
        self.srv.ok("POST", PODS, pod("odd"))
        self.srv.ok("POST", NP, netpol("odd"))
        bodies = [b"", b"null", b"[]", b"1", b'"x"', b"{", b"\xff\xfe",
                  json.dumps({"metadata": []}), json.dumps({"metadata": {"name": ["x"]}}),
                  json.dumps({"metadata": {"name": "odd", "labels": {"a": 1}}}),
                  json.dumps({"metadata": {"name": "odd", "annotations": []}}),
                  json.dumps({"kind": 5, "apiVersion": [], "metadata": {"name": "odd"}}),
                  json.dumps({"metadata": {"name": "odd", "managedFields": "x"}}),
                  json.dumps({"metadata": {"name": "odd", "ownerReferences": "x"}}),
                  json.dumps({"spec": None, "status": 3, "metadata": {"name": "odd"}}),
                  json.dumps([{"op": "add"}]), json.dumps([{"op": "move", "path": "/a"}]),
                  json.dumps({"$patch": "bogus"}), json.dumps({"spec": {"$patch": "delete"}}),
                  json.dumps({"spec": {"containers": [{"$patch": "delete"}]}}),
                  json.dumps({"spec": {"containers": "x"}}),
                  json.dumps({"metadata": {"name": "odd", "resourceVersion": "abc"}}),
                  json.dumps({"propagationPolicy": "Sideways"}),
                  json.dumps({"preconditions": {"uid": "nope"}})]
        ctypes = ["application/json", "application/merge-patch+json",
                  "application/strategic-merge-patch+json", "application/json-patch+json",
                  "application/apply-patch+yaml", "application/yaml",
                  "application/vnd.kubernetes.protobuf"]
        paths = [PODS, PODS + "/odd", PODS + "/odd/status", NP, NP + "/odd",
                 "/api/v1/namespaces/demo", "/api/v1/nodes/odd"]
        for path in paths:
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                for body in bodies:
                    for ctype in ctypes if method == "PATCH" else ctypes[:1] + ctypes[5:]:
                        code, st, _ = self.srv.request(method, path + "?fieldManager=f",
                                                       body, ctype)
                        self.assertLess(code, 500, (method, path, ctype, body, st))
        for q in ("?limit=x", "?watch=maybe", "?timeoutSeconds=x&watch=1",
                  "?resourceVersion=abc", "?resourceVersion=-1", "?continue=%%%",
                  "?labelSelector=%3D%3D", "?fieldSelector=x", "?resourceVersionMatch=Bad&"
                  "resourceVersion=1", "?sendInitialEvents=true"):
            code, st, _ = self.srv.request("GET", PODS + q)
            self.assertTrue(400 <= code < 500, (q, code, st))
        self.assertEqual(self.srv.request("GET", "/version")[0], 200)


class Pagination(ServerTest):
    def test_limit_continue_snapshot(self):
        self.srv.ok("POST", "/api/v1/namespaces", namespace("demo"))
        for i in range(7):
            self.srv.ok("POST", PODS, pod("p%d" % i))
        page = self.srv.ok("GET", PODS + "?limit=3")
        self.assertEqual([o["metadata"]["name"] for o in page["items"]], ["p0", "p1", "p2"])
        self.assertEqual(page["metadata"]["remainingItemCount"], 4)
        whole = self.srv.ok("GET", PODS + "?limit=3&resourceVersion=0")
        self.assertEqual((len(whole["items"]), "continue" in whole["metadata"]), (7, False),
                         "resourceVersion=0 is served from the 'cache': limit ignored")
        rv = page["metadata"]["resourceVersion"]
        # changes after the first page are not visible in later pages (one snapshot)
        self.srv.ok("POST", PODS, pod("p3a"))
        self.srv.ok("DELETE", PODS + "/p5")
        names = []
        tok = page["metadata"]["continue"]
        while tok:
            page = self.srv.ok("GET", PODS + "?limit=3&continue=" + quote(tok))
            self.assertEqual(page["metadata"]["resourceVersion"], rv)
            names += [o["metadata"]["name"] for o in page["items"]]
            tok = page["metadata"].get("continue")
        self.assertEqual(names, ["p3", "p4", "p5", "p6"])
        code, st, _ = self.srv.request("GET", PODS + "?limit=3&resourceVersion=5&continue="
                                       + quote(page["metadata"].get("continue") or "x"))
        self.assertEqual(code, 400)
        # after compaction the continue token is too old
        first = self.srv.ok("GET", PODS + "?limit=2")
        self.srv.ok("POST", PODS, pod("late"))
        self.srv.fault(action="compact")
        code, st, _ = self.srv.request("GET", PODS + "?limit=2&continue="
                                       + quote(first["metadata"]["continue"]))
        self.assertEqual((code, st["reason"]), (410, "Expired"))

    def test_resource_version_match(self):
        code, st, _ = self.srv.request("GET", "/api/v1/namespaces?resourceVersionMatch=Exact")
        self.assertEqual((code, st["reason"]), (422, "Invalid"))
        code, st, hdr = self.srv.request("GET", "/api/v1/namespaces?resourceVersion=999999&"
                                         "resourceVersionMatch=NotOlderThan")
        self.assertEqual(code, 504)
        self.assertEqual(st["details"]["causes"][0]["reason"], "ResourceVersionTooLarge")
        code, st, _ = self.srv.request("GET", "/api/v1/namespaces?resourceVersion=1&"
                                       "resourceVersionMatch=NotOlderThan")
        self.assertEqual(code, 200)


class Watches(ServerTest):
    server_args = ("--bookmark-interval", "0.3", "--history", "20")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv.ok("POST", "/api/v1/namespaces", namespace("demo"))

    def test_watch_from_rv_and_synthetic_added(self):
        a = self.srv.ok("POST", NP, netpol("wa"))
        w = self.srv.watch(NP + "?watch=1&resourceVersion=" + a["metadata"]["resourceVersion"])
        self.srv.wait_watches(1)
        self.srv.ok("PATCH", NP + "/wa", {"metadata": {"labels": {"x": "1"}}},
                    "application/merge-patch+json")
        self.srv.ok("DELETE", NP + "/wa")
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["labels"]), ("MODIFIED",
                                                                            {"x": "1"}))
        self.assertEqual(ev["object"]["kind"], "NetworkPolicy")
        ev2 = w.next()
        self.assertEqual(ev2["type"], "DELETED")
        self.assertGreater(int(ev2["object"]["metadata"]["resourceVersion"]),
                           int(ev["object"]["metadata"]["resourceVersion"]))
        w.close()
        self.srv.ok("POST", NP, netpol("wb"))
        w = self.srv.watch(NP + "?watch=true&resourceVersion=0")
        names = set()
        while "wb" not in names:
            ev = w.next()
            self.assertEqual(ev["type"], "ADDED")
            names.add(ev["object"]["metadata"]["name"])
        w.close()
        w = self.srv.watch(NP + "?watch=true&timeoutSeconds=1")
        ev = w.next()
        while ev is not None:  # timeoutSeconds ends the stream after the ADDEDs
            self.assertEqual(ev["type"], "ADDED")
            ev = w.next()
        w.close()

    def test_selector_transitions(self):
        self.srv.ok("POST", PODS, pod("sel", labels={"role": "x"}))
        rv = self.srv.ok("GET", PODS)["metadata"]["resourceVersion"]
        w = self.srv.watch(PODS + "?watch=1&labelSelector=role%3Dy&resourceVersion=" + rv)
        self.srv.wait_watches(1)
        for v in ("y", "z"):
            self.srv.ok("PATCH", PODS + "/sel", {"metadata": {"labels": {"role": v}}},
                        "application/merge-patch+json")
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["labels"]["role"]),
                         ("ADDED", "y"))
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["labels"]["role"]),
                         ("DELETED", "y"))
        w.close()

    def test_bookmarks(self):
        rv = self.srv.ok("GET", NP)["metadata"]["resourceVersion"]
        w = self.srv.watch(NP + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + rv)
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["kind"], "NetworkPolicy")
        self.assertGreaterEqual(int(ev["object"]["metadata"]["resourceVersion"]), int(rv))
        w.close()
        w = self.srv.watch(NP + "?watch=1&resourceVersion=" + rv + "&timeoutSeconds=1")
        self.assertIsNone(w.next(), "no bookmarks unless asked for")
        w.close()

    def test_send_initial_events(self):
        self.srv.ok("POST", NP, netpol("sie"))
        w = self.srv.watch(NP + "?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&"
                           "resourceVersionMatch=NotOlderThan")
        seen = []
        while True:
            ev = w.next()
            if ev["type"] == "BOOKMARK":
                break
            seen.append(ev["object"]["metadata"]["name"])
        self.assertIn("sie", seen)
        self.assertEqual(ev["object"]["metadata"]["annotations"],
                         {"k8s.io/initial-events-end": "true"})
        w.close()
        code, st, _ = self.srv.request("GET", NP + "?watch=1&sendInitialEvents=true")
        self.assertEqual(code, 422)
        code, st, _ = self.srv.request("GET", NP + "?watch=1&resourceVersionMatch=Exact&"
                                       "resourceVersion=1")
        self.assertEqual(code, 422)

    def test_too_old_resource_version(self):
        rv = self.srv.ok("GET", NP)["metadata"]["resourceVersion"]
        for i in range(25):  # more than --history 20
            self.srv.ok("POST", "/api/v1/namespaces/demo/configmaps", {
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "h%d" % i}})
        w = self.srv.watch(NP + "?watch=1&resourceVersion=" + rv)
        self.assertEqual(w.status, 200)
        ev = w.next()
        self.assertEqual(ev["type"], "ERROR")
        self.assertEqual((ev["object"]["code"], ev["object"]["reason"]), (410, "Expired"))
        self.assertTrue(ev["object"]["message"].startswith("too old resource version: "))
        self.assertIsNone(w.next())
        w.close()
        code, st, _ = self.srv.request("GET", NP + "?resourceVersion=%s&resourceVersionMatch="
                                       "Exact" % rv)
        self.assertEqual((code, st["code"]), (410, 410))


class Concurrency(ServerTest):
    def test_parallel_writers_and_watchers(self):
        """Every write reaches every watcher exactly once, in strictly increasing RV order."""
        self.srv.ok("POST", "/api/v1/namespaces", namespace("demo"))
        rv = self.srv.ok("GET", PODS)["metadata"]["resourceVersion"]
        watches = [self.srv.watch(PODS + "?watch=1&resourceVersion=" + rv) for _ in range(3)]
        self.srv.wait_watches(3)
        errors_ = []

        def writer(k):
            try:
                self.srv.ok("POST", PODS, pod("c%d" % k))
                for i in range(30):
                    self.srv.ok("PATCH", PODS + "/c%d" % k, {"metadata": {"labels": {
                        "i": str(i)}}}, "application/merge-patch+json")
                self.srv.ok("DELETE", PODS + "/c%d" % k)
            except Exception as e:  # reported below
                errors_.append(e)
        threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors_, [])
        for w in watches:
            last, seen = int(rv), 0
            while seen < 4 * 32:
                ev = w.next()
                n = int(ev["object"]["metadata"]["resourceVersion"])
                self.assertGreater(n, last)
                last, seen = n, seen + 1
            w.close()


class Faults(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv.ok("POST", "/api/v1/namespaces", namespace("demo"))

    def test_drop_watches(self):
        w = self.srv.watch(NP + "?watch=1")
        self.srv.wait_watches(1)
        self.srv.fault(action="drop-watches")
        self.assertIsNone(w.next())
        w.close()
        w = self.srv.watch(NP + "?watch=1")
        self.srv.wait_watches(1)
        self.srv.fault(action="drop-watches", abrupt=True)
        with self.assertRaises(helpers.StreamCut):
            w.next()
        w.close()

    def test_gone(self):
        w = self.srv.watch(NP + "?watch=1")
        self.srv.wait_watches(1)
        self.srv.fault(action="gone", count=2)
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        w.close()
        code, st, _ = self.srv.request("GET", NP)
        self.assertEqual((code, st["reason"]), (410, "Expired"))
        w = self.srv.watch(NP + "?watch=1&resourceVersion=1")
        self.assertEqual(w.next()["type"], "ERROR")
        w.close()
        self.assertEqual(self.srv.request("GET", NP)[0], 200)
        self.srv.fault(action="gone", http=True, watches=False)
        self.assertEqual(self.srv.request("GET", NP + "?watch=1")[0], 410)

    def test_error_and_delay(self):
        self.srv.fault(action="error", code=429, count=2, retry_after=3)
        for _ in range(2):
            code, st, hdr = self.srv.request("GET", NP)
            self.assertEqual((code, st["reason"], hdr["Retry-After"]),
                             (429, "TooManyRequests", "3"))
        self.assertEqual(self.srv.request("GET", NP)[0], 200)
        self.srv.fault(action="error", code=500, user_agent="sluice-agent")
        self.assertEqual(self.srv.request("GET", NP)[0], 200)
        code, st, _ = self.srv.request("GET", NP, headers={"User-Agent": "sluice-agent/1"})
        self.assertEqual((code, st["reason"]), (500, "InternalError"))
        code, st, _ = self.srv.request("POST", "/_kapi/fault", {"action": "error", "code": 99})
        self.assertEqual(code, 400)
        self.srv.fault(action="delay", seconds=0.3)
        with self.assertRaises(socket.timeout):
            self.srv.request("GET", NP, timeout=0.1)
        self.srv.fault(action="delay", seconds=0)
        self.assertEqual(self.srv.request("GET", NP, timeout=5)[0], 200)

    def test_pause_resume(self):
        self.srv.fault(action="pause")
        results = []

        def slow():
            results.append(self.srv.request("GET", "/api/v1/namespaces/demo", timeout=30)[0])
        t = threading.Thread(target=slow)
        t.start()
        with self.assertRaises(socket.timeout):
            self.srv.request("GET", "/version", timeout=0.5)
        self.assertEqual(results, [])
        self.srv.fault(action="resume")
        t.join(10)
        self.assertEqual(results, [200])
        # pausing only one user agent
        self.srv.fault(action="pause", user_agent="sluice-agent")
        self.assertEqual(self.srv.request("GET", "/version")[0], 200)
        with self.assertRaises(socket.timeout):
            self.srv.request("GET", "/version", timeout=0.5,
                             headers={"User-Agent": "sluice-agent/1"})
        self.srv.fault(action="resume")

    def test_restart_keeps_state_and_port(self):
        self.srv.ok("POST", NP, netpol("keep"))
        rv = self.srv.ok("GET", NP)["metadata"]["resourceVersion"]
        w = self.srv.watch(NP + "?watch=1&resourceVersion=" + rv)
        self.srv.wait_watches(1)
        self.srv.fault(action="restart")
        with self.assertRaises(helpers.StreamCut):
            w.next()
        w.close()
        # the new listener answers on the same port; the old watch was cut
        self.srv.wait_watches(0)
        self.assertEqual(self.srv.ok("GET", NP + "/keep")["metadata"]["name"], "keep")
        w = self.srv.watch(NP + "?watch=1&resourceVersion=" + rv)
        self.srv.wait_watches(1)
        self.srv.ok("DELETE", NP + "/keep")
        self.assertEqual(w.next()["type"], "DELETED")
        w.close()


class StateFile(unittest.TestCase):
    def test_state_survives_process_restart(self):
        srv = Server()
        state = os.path.join(srv.tmp, "state.json")
        srv.args = ["--state-file", state]
        try:
            srv.start()
            srv.ok("POST", "/api/v1/namespaces", namespace("demo"))
            o = srv.ok("POST", NP, netpol("persist"))
            srv.stop()
            srv.start()
            got = srv.ok("GET", NP + "/persist")
            self.assertEqual(got["metadata"]["uid"], o["metadata"]["uid"])
            n = srv.ok("POST", NP, netpol("after"))
            self.assertGreater(int(n["metadata"]["resourceVersion"]),
                               int(o["metadata"]["resourceVersion"]))
        finally:
            srv.cleanup()

    def test_bad_state_file(self):
        srv = Server()
        state = os.path.join(srv.tmp, "state.json")
        with open(state, "w") as f:
            f.write("{broken")
        srv.args = ["--state-file", state]
        try:
            with self.assertRaises(RuntimeError) as cm:
                srv.start()
            self.assertIn("state file", str(cm.exception))
        finally:
            srv.cleanup()


class TlsToken(ServerTest):
    tls = True
    token = "s3cret-token"

    def test_token_required(self):
        code, st, _ = self.srv.request("GET", "/api/v1/namespaces", token="")
        self.assertEqual((code, st["reason"]), (401, "Unauthorized"))
        code, st, _ = self.srv.request("GET", "/api/v1/namespaces", token="wrong")
        self.assertEqual(code, 401)
        self.assertEqual(self.srv.request("GET", "/api/v1/namespaces")[0], 200)
        self.assertEqual(self.srv.request("GET", "/healthz", token="")[0], 200)

    def test_kubectl_with_generated_kubeconfig(self):
        with open(self.srv.kubeconfig) as f:
            kc = f.read()
        self.assertIn("certificate-authority-data:", kc)
        self.assertIn("https://127.0.0.1:", kc)
        r = self.srv.kubectl("get", "ns", "-o", "name")
        self.assertIn("namespace/kube-system", r.stdout)
        with open(os.path.join(self.srv.tmp, "requests.log")) as f:
            log = f.read()
        self.assertRegex(log, r"GET /api/v1/namespaces\?limit=500\S* 200 ")


class TokenFile(unittest.TestCase):
    def test_rotated_token_file(self):
        srv = Server()
        path = os.path.join(srv.tmp, "token")
        with open(path, "w") as f:
            f.write("first\n")
        srv.args = ["--token-file", path]
        try:
            srv.start()
            self.assertEqual(srv.request("GET", "/api", token="first")[0], 200)
            with open(path + ".new", "w") as f:
                f.write("second-token\n")
            os.replace(path + ".new", path)
            self.assertEqual(srv.request("GET", "/api", token="first")[0], 401)
            self.assertEqual(srv.request("GET", "/api", token="second-token")[0], 200)
            with open(srv.kubeconfig) as f:
                self.assertIn('token: "first"', f.read())
            # a refused POST leaves its keep-alive connection usable
            c = srv.conn()
            try:
                c.request("POST", "/api/v1/namespaces", body=json.dumps(namespace("ka")),
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                self.assertEqual(r.status, 401)
                r.read()
                c.request("GET", "/api", headers={"Authorization": "Bearer second-token"})
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                r.read()
            finally:
                c.close()
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
