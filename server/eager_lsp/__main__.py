"""`python -m eager_lsp` is the same as the `eager-lsp` command.

`python -m` puts the current directory first on sys.path, and editors start the server in the
user's workspace: a `typing.py` or `json.py` there must not replace the standard library under
the server, so that entry goes before anything else is imported. That is too late for what
`-m` imports before this file runs (`runpy`): in an untrusted directory use the `eager-lsp`
console script or `python -c "$SERVER_MAIN" serve` (eager_lsp.SERVER_MAIN), as the editors do.
"""

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from eager_lsp.entry import main

raise SystemExit(main())
