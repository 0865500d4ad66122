"""eager-lsp: execute AI-written Python while it is still streaming in.

Kept import-light on purpose: the worker's interpreter (possibly the user's own) imports
this package, so nothing here may pull in pygls, libcst or openai.
"""

__version__ = "0.1.0"

# `python -m eager_lsp` imports `runpy` (and Python 3.10 the module too) with the current
# directory first on sys.path, so editors, which start the server in the workspace, would run
# a workspace `runpy.py` or `eager_lsp/` before any of our code. `python -c SERVER_MAIN serve`
# is the cwd-safe spelling on every Python (`-P` needs 3.11, `-I` also drops the user site):
# `-c` imports nothing from the directory, and the code drops it before the first import.
# The editors (nvim/lua/eager/init.lua, vscode-extension/src/python.ts) spell the same string.
DROP_CWD = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
SERVER_MAIN = (
    DROP_CWD + "from eager_lsp.entry import main; sys.argv[0] = 'eager-lsp'; sys.exit(main())"
)
