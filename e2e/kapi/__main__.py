"""__main__.py - `python3 e2e/kapi ARGS` runs the server (same as e2e/kapi/kapi.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from apiserver.main import main  # noqa: E402

sys.exit(main())
