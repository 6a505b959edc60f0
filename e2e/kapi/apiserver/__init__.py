"""apiserver - a Kubernetes-API test server (Python standard library only)."""
