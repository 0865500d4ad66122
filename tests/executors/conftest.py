"""Fixtures for the executor tests."""

import sys
from pathlib import Path

# `tests.support` lives at the repository root, which pytest does not put on sys.path.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.jupyter import jupyter_server  # noqa: E402  (re-exported fixture)

__all__ = ["jupyter_server"]
