"""test_kubectl.py - the real kubectl (1.32, through its dispatcher) against the server:
create, apply (client-side, --server-side, --dry-run=server), replace, delete, get -o yaml,
get -w, label, patch, wait (also with the WatchList client), chunked lists, the CNI manifest."""

import json
import os
import subprocess
import unittest

import helpers
from helpers import ServerTest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

NS = """apiVersion: v1
kind: Namespace
metadata:
  name: demo
"""

NP = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: demo
  labels:
    app: web
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          team: a
      podSelector:
        matchLabels:
          role: fe
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.1.0.0/16]
    ports:
    - protocol: TCP
      port: 80
      endPort: 90
  egress:
  - to:
    - podSelector: {}
    ports:
    - protocol: UDP
      port: 53
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: p1
  namespace: demo
  labels:
    app: web
spec:
  nodeName: node-1
  containers:
  - name: c
    image: busybox:1.36
"""


class Kubectl(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = {}
        for name, text in (("ns.yaml", NS), ("np.yaml", NP), ("pod.yaml", POD),
                           ("np2.yaml", NP.replace("app: web\n", "app: web2\n").replace(
                               "port: 80\n", "port: 443\n").replace("endPort: 90", "endPort: 450")),
                           ("np3.yaml", NP.replace("allow-web", "deny-all"))):
            path = os.path.join(cls.srv.tmp, name)
            with open(path, "w") as f:
                f.write(text)
            cls.files[name] = path
        cls.srv.kubectl("create", "-f", cls.files["ns.yaml"])

    def k(self, *args, **kw):
        return self.srv.kubectl(*args, **kw)

    def get(self, *args):
        return json.loads(self.k("get", "-o", "json", *args).stdout)

    def test_default_namespaces_and_labels(self):
        out = self.k("get", "ns", "--show-labels").stdout
        for n in ("default", "kube-system", "kube-public", "kube-node-lease", "demo"):
            self.assertIn("kubernetes.io/metadata.name=%s" % n, out)

    def test_create_duplicate_and_invalid(self):
        r = self.k("create", "-f", self.files["ns.yaml"], check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Error from server (AlreadyExists): error when creating', r.stderr)
        self.assertIn('namespaces "demo" already exists', r.stderr)
        bad = NP.replace("protocol: UDP", "protocol: ICMP").replace("allow-web", "bad")
        r = self.k("create", "-f", "-", stdin=bad, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('The NetworkPolicy "bad" is invalid', r.stderr)
        self.assertIn('spec.egress[0].ports[0].protocol: Unsupported value: "ICMP"', r.stderr)

    def test_client_side_apply_cycle(self):
        f, f2 = self.files["np.yaml"], self.files["np2.yaml"]
        self.assertIn("networkpolicy.networking.k8s.io/allow-web created",
                      self.k("apply", "-f", f).stdout)
        self.assertIn("unchanged", self.k("apply", "-f", f).stdout)
        rv = self.get("netpol", "-n", "demo", "allow-web")["metadata"]["resourceVersion"]
        out = self.k("apply", "--dry-run=server", "-f", f2).stdout
        self.assertIn("configured (server dry run)", out)
        got = self.get("netpol", "-n", "demo", "allow-web")
        self.assertEqual(got["metadata"]["resourceVersion"], rv, "dry run changed nothing")
        self.assertIn("configured", self.k("apply", "-f", f2).stdout)
        got = self.get("netpol", "-n", "demo", "allow-web")
        self.assertEqual(got["metadata"]["labels"], {"app": "web2"})
        self.assertEqual(got["spec"]["ingress"][0]["ports"][0],
                         {"protocol": "TCP", "port": 443, "endPort": 450})
        self.assertEqual(got["metadata"]["generation"], 2)
        # then take it over with server-side apply: no conflicts (last-applied upgrade)
        out = self.k("apply", "--server-side", "-f", f).stdout
        self.assertIn("serverside-applied", out)
        got = self.get("netpol", "-n", "demo", "allow-web")
        self.assertEqual(got["metadata"]["labels"], {"app": "web"})
        self.k("delete", "-f", f)
        r = self.k("get", "netpol", "-n", "demo", "allow-web", check=False)
        self.assertIn("NotFound", r.stderr)

    def test_server_side_apply(self):
        f = self.files["np3.yaml"]
        self.assertIn("serverside-applied", self.k("apply", "--server-side", "-f", f).stdout)
        self.assertIn("serverside-applied", self.k("apply", "--server-side", "-f", f).stdout)
        got = self.get("netpol", "-n", "demo", "deny-all", "--show-managed-fields")
        mf = got["metadata"]["managedFields"]
        self.assertEqual([(m["manager"], m["operation"]) for m in mf], [("kubectl", "Apply")])
        self.k("label", "netpol", "-n", "demo", "deny-all", "app=other", "--overwrite")
        r = self.k("apply", "--server-side", "-f", f, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('conflict with "kubectl-label"', r.stderr)
        self.k("apply", "--server-side", "--force-conflicts", "-f", f)
        self.assertEqual(self.get("netpol", "-n", "demo", "deny-all")["metadata"]["labels"],
                         {"app": "web"})
        self.assertIn("serverside-applied (server dry run)",
                      self.k("apply", "--server-side", "--dry-run=server", "-f", f).stdout)
        self.k("delete", "netpol", "-n", "demo", "deny-all")

    def test_replace_get_yaml_label_patch(self):
        self.k("create", "-f", self.files["pod.yaml"])
        out = self.k("get", "pod", "-n", "demo", "p1", "-o", "yaml").stdout
        self.assertIn("name: p1", out)
        self.assertIn("phase: Pending", out)
        self.assertIn("pod/p1 labeled", self.k("label", "pod", "-n", "demo", "p1",
                                                "tier=fe").stdout)
        r = self.k("label", "pod", "-n", "demo", "p1", "tier=be", check=False)
        self.assertNotEqual(r.returncode, 0, "changing a label needs --overwrite")
        self.k("label", "pod", "-n", "demo", "p1", "tier=be", "--overwrite")
        self.k("label", "pod", "-n", "demo", "p1", "tier-")
        self.assertEqual(self.get("pod", "-n", "demo", "p1")["metadata"]["labels"],
                         {"app": "web"})
        self.k("patch", "pod", "-n", "demo", "p1", "--type=json",
               "-p", '[{"op":"add","path":"/metadata/labels/x","value":"1"}]')
        self.k("patch", "pod", "-n", "demo", "p1", "--type=merge",
               "-p", '{"metadata":{"annotations":{"a":"b"}}}')
        self.k("patch", "pod", "-n", "demo", "p1", "--subresource=status", "--type=merge",
               "-p", '{"status":{"phase":"Running","podIP":"10.0.0.7",'
                     '"podIPs":[{"ip":"10.0.0.7"}]}}')
        out = self.k("get", "pods", "-n", "demo", "-o", "wide").stdout.splitlines()
        self.assertEqual(out[0].split()[:6], ["NAME", "READY", "STATUS", "RESTARTS", "AGE",
                                              "IP"], "server-side table columns")
        self.assertEqual(out[1].split()[:3] + out[1].split()[5:7],
                         ["p1", "0/1", "Running", "10.0.0.7", "node-1"])
        out = self.k("get", "pods", "-A", "--field-selector",
                     "spec.nodeName=node-1,status.phase=Running", "-o", "name").stdout
        self.assertEqual(out.split(), ["pod/p1"])
        yaml = self.k("get", "pod", "-n", "demo", "p1", "-o", "yaml").stdout
        yaml = yaml.replace("image: busybox:1.36", "image: busybox:1.37")
        self.assertIn("pod/p1 replaced", self.k("replace", "-f", "-", stdin=yaml).stdout)
        got = self.get("pod", "-n", "demo", "p1")
        self.assertEqual(got["spec"]["containers"][0]["image"], "busybox:1.37")
        self.assertEqual(got["status"]["podIP"], "10.0.0.7")
        # replacing with a stale resourceVersion is a conflict
        r = self.k("replace", "-f", "-", stdin=yaml, check=False)
        self.assertIn("Conflict", r.stderr)
        self.assertIn('pod "p1" deleted', self.k("delete", "pod", "-n", "demo", "p1").stdout)

    def test_get_watch(self):
        self.k("create", "-f", "-", stdin=self._np("watched"))
        proc = subprocess.Popen(
            [helpers.KUBECTL, "--kubeconfig", self.srv.kubeconfig, "get", "netpol", "-n",
             "demo", "-w", "-o", "custom-columns=NAME:.metadata.name,L:.metadata.labels.v"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.srv.kubectl_env())
        try:
            helpers.read_line_until(proc, "watched", 30)
            self.srv.wait_watches(1, 30)
            self.k("label", "netpol", "-n", "demo", "watched", "v=changed")
            helpers.read_line_until(proc, "changed", 30)
            self.k("create", "-f", "-", stdin=self._np("newcomer"))
            helpers.read_line_until(proc, "newcomer", 30)
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        # the default (server-side table) output of a watch
        proc = subprocess.Popen(
            [helpers.KUBECTL, "--kubeconfig", self.srv.kubeconfig, "get", "netpol", "-n",
             "demo", "-w"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.srv.kubectl_env())
        try:
            lines = helpers.read_line_until(proc, "watched", 30)
            self.assertEqual(lines[0].split(), ["NAME", "POD-SELECTOR", "AGE"])
            self.srv.wait_watches(1, 30)
            self.k("create", "-f", "-", stdin=self._np("third"))
            line = helpers.read_line_until(proc, "third", 30)[-1]
            self.assertEqual(line.split()[:2], ["third", "<none>"])
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        self.k("delete", "netpol", "-n", "demo", "watched", "newcomer", "third")

    def _np(self, name):
        return json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                           "metadata": {"name": name, "namespace": "demo"},
                           "spec": {"podSelector": {}}})

    def test_wait_with_watch_list_client(self):
        """kubectl wait with KUBE_FEATURE_WatchListClient=true streams with
        sendInitialEvents; it must see the status change made by another client."""
        self.k("create", "-f", "-", stdin=POD.replace("p1", "w1"))
        env = dict(self.srv.kubectl_env(), KUBE_FEATURE_WatchListClient="true")
        proc = subprocess.Popen(
            [helpers.KUBECTL, "--kubeconfig", self.srv.kubeconfig, "wait", "-n", "demo",
             "pod/w1", "--for=jsonpath={.status.phase}=Running", "--timeout=30s"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            self.srv.wait_watches(1, 30)
            self.srv.ok("PATCH", "/api/v1/namespaces/demo/pods/w1/status",
                        {"status": {"phase": "Running"}}, "application/merge-patch+json")
            out, err = proc.communicate(timeout=40)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("pod/w1 condition met", out.decode())
        with open(os.path.join(self.srv.tmp, "requests.log")) as f:
            self.assertIn("sendInitialEvents=true", f.read())
        self.k("delete", "pod", "-n", "demo", "w1")

    def test_chunked_list(self):
        for i in range(5):
            self.k("create", "configmap", "cm%d" % i, "-n", "demo")
        out = self.k("get", "cm", "-n", "demo", "--chunk-size=2", "-o", "name").stdout
        self.assertEqual(out.split(), ["configmap/cm%d" % i for i in range(5)])
        with open(os.path.join(self.srv.tmp, "requests.log")) as f:
            self.assertIn("continue=", f.read())
        self.k("delete", "cm", "-n", "demo", "--all")
        self.assertEqual(self.k("get", "cm", "-n", "demo", "-o", "name").stdout, "")

    def test_cni_manifest(self):
        manifest = os.path.join(ROOT, "manifests", "sluice.yaml")
        if not os.path.exists(manifest):
            self.skipTest("manifests/sluice.yaml not present")
        out = self.k("apply", "-f", manifest).stdout
        self.assertIn("daemonset.apps/sluice created", out)
        out = self.k("apply", "-f", manifest).stdout
        self.assertNotIn("created", out)
        self.assertIn("daemonset.apps/sluice", self.k("get", "ds", "-A", "-o", "name").stdout)
        self.k("delete", "-f", manifest)

    def test_typed_client_protobuf_creates(self):
        """kubectl's typed clients send protobuf bodies; the common kinds decode."""
        self.k("create", "ns", "pb")
        self.assertEqual(self.get("ns", "pb")["metadata"]["labels"],
                         {"kubernetes.io/metadata.name": "pb"})
        self.k("create", "configmap", "c", "-n", "pb", "--from-literal=k=v")
        self.assertEqual(self.get("cm", "-n", "pb", "c")["data"], {"k": "v"})
        self.k("create", "secret", "generic", "s", "-n", "pb", "--from-literal=k=v")
        got = self.get("secret", "-n", "pb", "s")
        self.assertEqual((got["data"], got["type"]), ({"k": "dg=="}, "Opaque"))
        self.k("create", "serviceaccount", "sa", "-n", "pb")
        self.k("create", "deployment", "d", "-n", "pb", "--image=nginx", "--replicas=2",
               "--port=80")
        got = self.get("deploy", "-n", "pb", "d")
        self.assertEqual(got["spec"]["replicas"], 2)
        self.assertEqual(got["spec"]["template"]["spec"]["containers"][0]["ports"],
                         [{"containerPort": 80, "protocol": "TCP"}])
        self.k("run", "r", "-n", "pb", "--image=busybox:1.36", "--port=8080", "-l", "a=b",
               "--env=X=Y")
        got = self.get("pod", "-n", "pb", "r")
        self.assertEqual(got["metadata"]["labels"], {"a": "b"})
        self.assertEqual(got["spec"]["containers"][0]["env"], [{"name": "X", "value": "Y"}])
        self.k("create", "clusterrole", "cr", "--verb=get", "--resource=pods")
        self.k("create", "clusterrolebinding", "crb", "--clusterrole=cr",
               "--serviceaccount=pb:sa")
        got = self.get("clusterrolebinding", "crb")
        self.assertEqual(got["subjects"], [{"kind": "ServiceAccount", "name": "sa",
                                            "namespace": "pb"}])
        self.k("delete", "ns", "pb")
        self.k("delete", "clusterrolebinding", "crb")
        self.k("delete", "clusterrole", "cr")

    def test_namespace_delete(self):
        self.k("create", "ns", "tmp")
        self.k("create", "configmap", "x", "-n", "tmp")
        self.assertIn('namespace "tmp" deleted', self.k("delete", "ns", "tmp").stdout)
        r = self.k("get", "cm", "-n", "tmp", "x", check=False)
        self.assertIn("NotFound", r.stderr)


if __name__ == "__main__":
    unittest.main()
