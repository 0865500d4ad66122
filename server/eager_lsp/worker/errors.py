"""Turn an exception from user code into the protocol's ERROR, in document terms.

Frames are reported with the worker's own frames stripped, innermost frame in the document
first (that is where the editor should point), then the frames outside the document
(libraries), innermost first.

Bounded the way CPython bounds a printed traceback (eager_lsp/limits.py): a frame repeated
more than three times in a row is kept three times, the third carrying `"repeated": N`
(CPython's "[Previous line repeated N more times]"); if the call chain is still longer than
FRAMES_HEAD + FRAMES_TAIL, only its outermost and innermost frames are kept and the ERROR says
how many were left out (`"frames_omitted"`). The formatted text keeps its head and its tail.
"""

from __future__ import annotations

import os
import traceback
from types import TracebackType
from typing import Any

from eager_lsp.limits import (
    FRAMES_HEAD,
    FRAMES_TAIL,
    MESSAGE_CAP,
    REPEATED_FRAMES_SHOWN,
    TRACEBACK_CAP,
    clip_middle,
)

from .memory import memory_error_message
from .reprs import clip

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
    if isinstance(exc, MemoryError) and not message:
        message = memory_error_message()
    tb = user_traceback(exc.__traceback__)
    calls, omitted = bounded_frames(tb, document)
    frames = list(reversed(calls))
    frames.sort(key=lambda f: not f["in_document"])  # stable: innermost first in each group
    line = frames[0]["line"] if frames and frames[0]["in_document"] else None
    info = {
        "type": type(exc).__name__,
        "message": clip(message, MESSAGE_CAP),
        "line": line,
        "traceback": clip_middle(_format(exc, tb), TRACEBACK_CAP),
        "frames": frames,
    }
    if omitted:
        info["frames_omitted"] = omitted
    return info


def bounded_frames(tb: TracebackType | None, document: str) -> tuple[list[dict[str, Any]], int]:
    """The frames of `tb` outermost first, repeats collapsed and the middle of a long chain left
    out; and how many frames were left out in the middle. Walks the traceback once without
    formatting anything (extract_tb on 100,000 frames reads source lines for each)."""
    calls: list[dict[str, Any]] = []
    previous: tuple[str, int, str] | None = None
    run = 0
    while tb is not None:
        code = tb.tb_frame.f_code
        key = (code.co_filename, tb.tb_lineno or 0, code.co_name)
        tb = tb.tb_next
        run = run + 1 if key == previous else 1
        previous = key
        if run > REPEATED_FRAMES_SHOWN:
            calls[-1]["repeated"] = run - REPEATED_FRAMES_SHOWN
            continue
        calls.append(
            {"path": key[0], "line": key[1], "function": key[2], "in_document": key[0] == document}
        )
    omitted = 0
    if len(calls) > FRAMES_HEAD + FRAMES_TAIL:
        omitted = sum(1 + f.get("repeated", 0) for f in calls[FRAMES_HEAD:-FRAMES_TAIL])
        calls = calls[:FRAMES_HEAD] + calls[-FRAMES_TAIL:]
    return calls, omitted


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
        "traceback": clip_middle(_format(exc, tb), TRACEBACK_CAP),
        "frames": frames,
    }


def _format(exc: BaseException, tb: TracebackType | None) -> str:
    try:
        return "".join(traceback.format_exception(type(exc), exc, tb))
    except Exception:
        return f"{type(exc).__name__}: <traceback formatting failed>\n"
