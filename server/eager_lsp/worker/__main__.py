"""`python -m eager_lsp.worker`: the background interpreter's entry point.

It starts in the workspace root, which `python -m` puts first on sys.path: the worker's own
imports must not pick up a user's `json.py` or `signal.py`, so that entry is set aside while
they run and put back afterwards, where user code expects it (as in a Jupyter kernel).
"""

import os
import sys

_workspace = sys.path.pop(0) if sys.path and sys.path[0] in ("", os.getcwd()) else None

from eager_lsp.worker.main import main  # noqa: E402

if _workspace is not None:
    sys.path.insert(0, _workspace)

main()
