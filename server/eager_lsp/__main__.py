"""`python -m eager_lsp` is the same as the `eager-lsp` command."""

from eager_lsp.cli import main

raise SystemExit(main())
