"""eager-lsp: execute AI-written Python while it is still streaming in.

Kept import-light on purpose: the worker's interpreter (possibly the user's own) imports
this package, so nothing here may pull in pygls, libcst or openai.
"""

__version__ = "0.1.0"
