"""The terminal edge: the `eager-lsp` command and its subcommands.

- `commands.py`: the argument parser and the dispatch to a subcommand (`main`, the entry point);
- `options.py`: settings from the command line, shared by the subcommands;
- `console.py`: the terminal view of a run (`eager-lsp run`) and its summary;
- `interrupt.py`: Ctrl-C during `eager-lsp run` (the run stops, its summary still comes);
- `generate.py`: the terminal view of a generation (`eager-lsp generate`);
- `watch.py`: `eager-lsp watch FILE`, re-running what an edit changed.

Like `lsp/`, this edge drives the application layer (`app/`) and the core; neither imports it.
The subcommands never import `commands.py`, which imports them.
"""

from eager_lsp.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
