"""test_units.py - in-process tests of the patch engines, selectors, validation, the YAML
subset parser and the store's resourceVersion semantics."""

import json
import unittest

import helpers  # noqa: F401  (puts the server package on sys.path)
from apiserver import errors, patch, selectors, yamlmini
from apiserver.resources import Registry
from apiserver.store import Store


class Patches(unittest.TestCase):
    def setUp(self):
        self.reg = Registry()
        self.pods = self.reg.lookup("", "v1", "pods")
        self.np = self.reg.lookup("networking.k8s.io", "v1", "networkpolicies")

    def test_merge_patch_rfc7386(self):
        t = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
        p = {"a": "z", "c": {"f": None}, "l": [3]}
        self.assertEqual(patch.merge_patch(t, p), {"a": "z", "c": {"d": "e"}, "l": [3]})
        self.assertEqual(t["c"], {"d": "e", "f": "g"}, "target must not be modified")

    def test_smp_containers_by_name_with_directives(self):
        pod = {"spec": {"containers": [{"name": "a", "image": "x:1", "ports": [
            {"containerPort": 80, "name": "http"}]}, {"name": "b", "image": "y:1"}]}}
        p = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                      "containers": [{"name": "a", "image": "x:2",
                                      "ports": [{"containerPort": 81}]}]}}
        out = patch.strategic_merge(pod, p, self.pods)
        self.assertEqual([c["name"] for c in out["spec"]["containers"]], ["b", "a"])
        a = out["spec"]["containers"][1]
        self.assertEqual(a["image"], "x:2")
        self.assertEqual([x["containerPort"] for x in a["ports"]], [80, 81])
        out = patch.strategic_merge(out, {"spec": {"containers": [
            {"name": "b", "$patch": "delete"}]}}, self.pods)
        self.assertEqual([c["name"] for c in out["spec"]["containers"]], ["a"])

    def test_smp_atomic_lists_and_maps(self):
        np = {"metadata": {"labels": {"a": "1", "b": "2"}},
              "spec": {"ingress": [{"ports": [{"port": 80}]}, {"ports": [{"port": 81}]}]}}
        p = {"metadata": {"labels": {"a": None, "c": "3"}},
             "spec": {"ingress": [{"ports": [{"port": 443}]}]}}
        out = patch.strategic_merge(np, p, self.np)
        self.assertEqual(out["metadata"]["labels"], {"b": "2", "c": "3"})
        self.assertEqual(out["spec"]["ingress"], [{"ports": [{"port": 443}]}])

    def test_smp_replace_retain_and_primitive_delete(self):
        obj = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"x": 1, "y": 2, "z": {"k": 1}}}
        out = patch.strategic_merge(obj, {
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"]},
            "spec": {"$retainKeys": ["x", "z"], "z": {"$patch": "replace", "n": 2}}},
            self.pods)
        self.assertEqual(out["metadata"]["finalizers"], ["b", "c"])
        self.assertEqual(out["spec"], {"x": 1, "z": {"n": 2}})

    def test_json_patch(self):
        doc = {"a": {"b": [1, 2]}, "c": "d"}
        out = patch.json_patch(doc, [
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "add", "path": "/a/b/0", "value": 0},
            {"op": "replace", "path": "/c", "value": "e"},
            {"op": "test", "path": "/c", "value": "e"},
            {"op": "copy", "from": "/c", "path": "/f"},
            {"op": "move", "from": "/f", "path": "/g"},
            {"op": "remove", "path": "/a/b/1"},
            {"op": "add", "path": "/h~1i", "value": True}])
        self.assertEqual(out, {"a": {"b": [0, 2, 3]}, "c": "e", "g": "e", "h/i": True})
        with self.assertRaises(patch.PatchError):
            patch.json_patch(doc, [{"op": "test", "path": "/c", "value": "x"}])
        with self.assertRaises(patch.PatchError):
            patch.json_patch(doc, [{"op": "remove", "path": "/nope"}])

    def test_field_sets_round_trip(self):
        obj = {"metadata": {"name": "p", "labels": {"a": "1"}},
               "spec": {"containers": [{"name": "c", "image": "i"}], "nodeName": "n"}}
        s = patch.field_set(obj, self.pods)
        self.assertIn(("f:metadata", "f:labels", "f:a"), s)
        self.assertIn(("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"), s)
        self.assertNotIn(("f:metadata", "f:name"), s)
        tree = patch.to_fields_v1(s)
        self.assertEqual(tree["f:spec"]["f:containers"]['k:{"name":"c"}']["."], {})
        self.assertEqual(patch.from_fields_v1(json.loads(json.dumps(tree))), s)


class Selectors(unittest.TestCase):
    def test_label_selector_grammar(self):
        labels = {"app": "web", "tier": "fe", "n": "5"}
        cases = [("app=web", True), ("app==web", True), ("app!=web", False),
                 ("app in (web,db)", True), ("app notin (web)", False), ("tier", True),
                 ("!tier", False), ("!missing", True), ("missing!=x", True),
                 ("app=web,tier=be", False), ("n>4", True), ("n<5", False), ("", True)]
        for sel, want in cases:
            self.assertEqual(selectors.match_labels(selectors.parse_labels(sel), labels), want,
                             sel)
        for bad in ("app=web,", "a b", "app in web", "=x"):
            with self.assertRaises(selectors.SelectorError, msg=bad):
                selectors.parse_labels(bad)

    def test_field_selector(self):
        obj = {"metadata": {"name": "p", "namespace": "x"}, "spec": {"nodeName": "n1"},
               "status": {"phase": "Running"}}
        sup = {"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase",
               "spec.hostNetwork"}
        f = selectors.parse_fields("spec.nodeName=n1,status.phase!=Pending", sup)
        self.assertTrue(selectors.match_fields(f, obj))
        f = selectors.parse_fields("spec.hostNetwork=false,metadata.name==q", sup)
        self.assertFalse(selectors.match_fields(f, obj))
        with self.assertRaises(selectors.SelectorError):
            selectors.parse_fields("spec.bogus=1", sup)


class Yaml(unittest.TestCase):
    def test_manifest_subset(self):
        text = """# comment
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: "allow-web"   # trailing comment
  labels: {app: web, 'x': "y z"}
  annotations:
    note: |
      line one
      line two
    folded: >-
      a
      b
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.1.0.0/16]
    ports:
    - port: 80
      protocol: TCP
    -   port: http
  policyTypes:
  - Ingress
  empty:
  flag: true
  nothing: null
  ratio: 1.5
  quoted: 'it''s'
"""
        out = yamlmini.loads(text)
        self.assertEqual(out["metadata"]["name"], "allow-web")
        self.assertEqual(out["metadata"]["labels"], {"app": "web", "x": "y z"})
        self.assertEqual(out["metadata"]["annotations"]["note"], "line one\nline two\n")
        self.assertEqual(out["metadata"]["annotations"]["folded"], "a b")
        ing = out["spec"]["ingress"][0]
        self.assertEqual(ing["from"][0]["ipBlock"]["except"], ["10.1.0.0/16"])
        self.assertEqual(ing["ports"], [{"port": 80, "protocol": "TCP"}, {"port": "http"}])
        self.assertEqual(out["spec"]["policyTypes"], ["Ingress"])
        self.assertIsNone(out["spec"]["empty"])
        self.assertIs(out["spec"]["flag"], True)
        self.assertEqual(out["spec"]["ratio"], 1.5)
        self.assertEqual(out["spec"]["quoted"], "it's")

    def test_json_is_yaml_and_errors(self):
        self.assertEqual(yamlmini.loads('{"a": [1, {"b": null}]}'), {"a": [1, {"b": None}]})
        for bad in ("a: b\n  c: d\n", "a: &x 1\n", "a: [1, 2\n", "a: 1\n---\nb: 2\n"):
            with self.assertRaises(ValueError, msg=bad):
                yamlmini.loads(bad)


class StoreSemantics(unittest.TestCase):
    def setUp(self):
        self.reg = Registry()
        self.store = Store(self.reg, history=50)
        self.np = self.reg.lookup("networking.k8s.io", "v1", "networkpolicies")
        self.ns = self.reg.lookup("", "v1", "namespaces")
        self.store.create(self.ns, None, helpers.namespace("demo"), "t")

    def test_default_namespaces_and_label(self):
        items, _, _, _ = self.store.list(self.ns, None, [], [])
        names = [o["metadata"]["name"] for o in items]
        self.assertEqual(names, ["default", "demo", "kube-node-lease", "kube-public",
                                 "kube-system"])
        for o in items:
            self.assertEqual(o["metadata"]["labels"]["kubernetes.io/metadata.name"],
                             o["metadata"]["name"])

    def test_rv_monotonic_noop_and_conflict(self):
        a = self.store.create(self.np, "demo", helpers.netpol("a"), "t")
        rv = int(a["metadata"]["resourceVersion"])
        same = self.store.update(self.np, "demo", "a", a, "t")
        self.assertEqual(same["metadata"]["resourceVersion"], str(rv), "no-op keeps the RV")
        b = json.loads(json.dumps(a))
        b["metadata"]["labels"] = {"x": "y"}
        b2 = self.store.update(self.np, "demo", "a", b, "t")
        self.assertEqual(int(b2["metadata"]["resourceVersion"]), rv + 1)
        with self.assertRaises(errors.ApiError) as cm:
            self.store.update(self.np, "demo", "a", b, "t")
        self.assertEqual(cm.exception.code, 409)

    def test_exact_list_at_old_rv_and_gone(self):
        self.store.create(self.np, "demo", helpers.netpol("a"), "t")
        rv = self.store.rv
        self.store.create(self.np, "demo", helpers.netpol("b"), "t")
        self.store.delete(self.np, "demo", "a")
        items, list_rv, _, _ = self.store.list(self.np, "demo", [], [], rv=str(rv),
                                               rv_match="Exact")
        self.assertEqual([o["metadata"]["name"] for o in items], ["a"])
        self.assertEqual(list_rv, str(rv))
        self.store.compact()
        with self.assertRaises(errors.ApiError) as cm:
            self.store.list(self.np, "demo", [], [], rv=str(rv), rv_match="Exact")
        self.assertEqual(cm.exception.code, 410)

    def test_ssa_removes_fields_dropped_from_config(self):
        cfg = helpers.netpol("s", labels={"a": "1", "b": "2"})
        self.store.patch(self.np, "demo", "s", "apply", cfg, "mgr")
        cfg["metadata"]["labels"] = {"a": "1"}
        out = self.store.patch(self.np, "demo", "s", "apply", cfg, "mgr")
        self.assertEqual(out["metadata"]["labels"], {"a": "1"})
        other = helpers.netpol("s", labels={"a": "2"})
        with self.assertRaises(errors.ApiError) as cm:
            self.store.patch(self.np, "demo", "s", "apply", other, "other")
        self.assertEqual(cm.exception.code, 409)
        out = self.store.patch(self.np, "demo", "s", "apply", other, "other", force=True)
        self.assertEqual(out["metadata"]["labels"], {"a": "2"})


if __name__ == "__main__":
    unittest.main()
