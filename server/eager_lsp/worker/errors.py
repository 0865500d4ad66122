"""Turn an exception from user code into the protocol's ERROR, in document terms.

Frames are reported with the worker's own frames stripped, innermost frame in the document
first (that is where the editor should point), then the frames outside the document
(libraries), innermost first.
"""

from __future__ import annotations

import os
import traceback
from types import TracebackType
from typing import Any

from .reprs import clip

MESSAGE_CAP = 2000
TRACEBACK_CAP = 20000
_WORKER_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_worker_file(filename: str) -> bool:
    return os.path.dirname(os.path.abspath(filename)) == _WORKER_DIR


def user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """Skip the leading frames that belong to the worker (the exec call)."""
    while tb is not None and _is_worker_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def error_info(exc: BaseException, document: str, *, compiling: bool = False) -> dict[str, Any]:
    """The ERROR message for `exc`, raised while compiling or running code from `document`."""
    try:
        message = str(exc)
    except Exception:
        message = "<str() failed>"
    if compiling and isinstance(exc, SyntaxError):
        return _syntax_error(exc, document)
    tb = user_traceback(exc.__traceback__)
    summary = traceback.extract_tb(tb)
    frames = [
        {
            "path": fs.filename,
            "line": fs.lineno or 0,
            "function": fs.name,
            "in_document": fs.filename == document,
        }
        for fs in reversed(summary)
    ]
    frames.sort(key=lambda f: not f["in_document"])  # stable: innermost first in each group
    line = frames[0]["line"] if frames and frames[0]["in_document"] else None
    return {
        "type": type(exc).__name__,
        "message": clip(message, MESSAGE_CAP),
        "line": line,
        "traceback": clip(_format(exc, tb), TRACEBACK_CAP),
        "frames": frames,
    }


def _syntax_error(exc: SyntaxError, document: str) -> dict[str, Any]:
    """A chunk that does not compile: no frames run, the error sits on its own line."""
    path = exc.filename or document
    tb = user_traceback(exc.__traceback__)
    frames = []
    if exc.lineno:
        frames.append(
            {
                "path": path,
                "line": exc.lineno,
                "function": "<module>",
                "in_document": path == document,
            }
        )
    return {
        "type": type(exc).__name__,
        "message": clip(exc.msg or str(exc), MESSAGE_CAP),
        "line": exc.lineno if path == document else None,
        "traceback": clip(_format(exc, tb), TRACEBACK_CAP),
        "frames": frames,
    }


def _format(exc: BaseException, tb: TracebackType | None) -> str:
    try:
        return "".join(traceback.format_exception(type(exc), exc, tb))
    except Exception:
        return f"{type(exc).__name__}: <traceback formatting failed>\n"
