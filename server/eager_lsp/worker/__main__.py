"""`python -m eager_lsp.worker`: the background interpreter's entry point."""

from eager_lsp.worker.main import main

main()
