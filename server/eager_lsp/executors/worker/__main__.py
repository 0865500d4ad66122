"""`python -m eager_lsp.executors.worker`: the background interpreter, started by hand.

The server starts workers with `python -I -c BOOTSTRAP` (launch.py), which keeps the
workspace off sys.path until the worker's own imports are done (isolation.py). Started by
hand with `-m`, the current directory is first on sys.path: it is set aside while the worker
imports itself; `isolation.open_to_user` puts it back for user code. Note that `-m` itself
imports `runpy` from that directory: for an untrusted directory, use the server's command.
"""

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from eager_lsp.executors.worker.main import main

main()
