"""Executor backends side by side: the worker (`executors/worker/`, today's interpreter subprocess) and
the Jupyter kernel (`kernel.py`); `backend.py` is the one place that picks one.

This package's `__init__` imports nothing: the worker runs `eager_lsp.executors.worker` inside
the user's own interpreter (any Python 3.7+, stdlib and debugpy only), and importing the
package must not drag the core or asyncio code into it.
"""
