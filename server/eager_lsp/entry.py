"""What `eager-lsp` (and `python -c SERVER_MAIN`, as the editors start the server) runs first.

The process is made non-dumpable (executors/worker/nodump.py) before anything else is
imported: executed code runs as the same user and can read `/proc/<pid>/environ` of a
dumpable process of that user, and the CLI's imports took long enough (a few hundred
milliseconds) for a loop in a document to read every new server's environment, API keys
included, 10 times in 10 (an attacking helper). What is left is Python's own start-up.
"""

from __future__ import annotations


def main() -> int:
    from eager_lsp.executors.worker.nodump import make_undumpable

    make_undumpable()
    from eager_lsp.cli import main as cli_main

    return cli_main()
