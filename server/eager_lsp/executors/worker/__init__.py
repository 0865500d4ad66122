"""The child interpreter: stdlib and debugpy only; never imports the rest of eager_lsp."""
