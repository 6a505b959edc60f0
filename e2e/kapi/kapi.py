#!/usr/bin/env python3
"""kapi.py - entry point of the Kubernetes-API test server (see README.md)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from apiserver.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
