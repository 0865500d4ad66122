"""Turn an exception from user code into the protocol's ERROR, in document terms.

Frames are reported with the worker's own frames stripped, innermost frame in the document
first (that is where the editor should point), then the frames outside the document
(libraries), innermost first. The worker's frames go wherever they are, as `python` would
never show them: the leading ones (the `exec` call), and those on top of the user's frames (the
SIGINT handler raises the user's KeyboardInterrupt in runner.py; a signal may land in the
stream code a `print` called), in the raised exception and in those it chains (an exception
raised while handling an interrupt). The exception's own `__traceback__` is left as it is.

Bounded the way CPython bounds a printed traceback (eager_lsp/limits.py): a frame repeated
more than three times in a row is kept three times, the third carrying `"repeated": N`
(CPython's "[Previous line repeated N more times]"); if the call chain is still longer than
FRAMES_HEAD + FRAMES_TAIL, only its outermost and innermost frames are kept as `frames` and
the ERROR says how many were left out (`"frames_omitted"`). The formatted text is bounded in
characters, not in frames (a frame is a line or two of text; the editor's diagnostic points
at that text for the frames it leaves out): it has every frame, repeats collapsed the same
way, while it fits in TRACEBACK_CAP; past that its outermost and innermost frames around
one line that counts the rest. Only TRACEBACK_FRAMES entries of each end are kept for it
from the one walk (nothing collapses two functions that call each other 100,000 times).
"""

from __future__ import annotations

import os
import traceback
from collections import deque
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from eager_lsp.limits import (
    FRAMES_HEAD,
    FRAMES_TAIL,
    MESSAGE_CAP,
    NAME_CAP,
    REPEATED_FRAMES_SHOWN,
    TRACEBACK_CAP,
    TRACEBACK_FRAMES,
    clip,
    clip_middle,
)

from .memory import memory_error_message

_WORKER_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_worker_file(filename: str) -> bool:
    return os.path.dirname(os.path.abspath(filename)) == _WORKER_DIR


def user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """`tb` without the worker's frames. Entries after the last worker frame are reused; those
    before it are copied (TracebackType(), Python 3.7+): an error of the user's code (a
    100,000-frame RecursionError) copies nothing, an interrupt copies the user's frames under
    the handler (100,000 in ~0.06 s). The exception keeps its own traceback."""
    walk: list[TracebackType] = []
    worker: dict[str, bool] = {}  # by file name: abspath for each of 100,000 frames is slow
    last_worker = -1
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name not in worker:
            worker[name] = _is_worker_file(name)
        if worker[name]:
            last_worker = len(walk)
        walk.append(tb)
        tb = tb.tb_next
    if last_worker < 0:
        return walk[0] if walk else None
    kept: TracebackType | None = walk[last_worker + 1] if last_worker + 1 < len(walk) else None
    for entry in reversed(walk[:last_worker]):
        if not worker[entry.tb_frame.f_code.co_filename]:
            kept = TracebackType(kept, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return kept


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
    walked = bounded_entries(tb, TRACEBACK_FRAMES, TRACEBACK_FRAMES)
    entries, omitted = cut_entries(*walked, FRAMES_HEAD, FRAMES_TAIL)
    calls = wire_frames(entries, document)
    frames = list(reversed(calls))
    frames.sort(key=lambda f: not f["in_document"])  # stable: innermost first in each group
    line = frames[0]["line"] if frames and frames[0]["in_document"] else None
    info = {
        "type": clip(type(exc).__name__, NAME_CAP),
        "message": clip(message, MESSAGE_CAP),
        "line": line,
        "traceback": clip_middle(_format(exc, tb, walked), TRACEBACK_CAP),
        "frames": frames,
    }
    if omitted:
        info["frames_omitted"] = omitted
    return info


if TYPE_CHECKING:  # annotations only: `tuple[...]` fails at runtime on 3.8, which workers support
    Entry = tuple[FrameType, int, int]  # frame, line, how many more times it repeated


def bounded_entries(
    tb: TracebackType | None, head: int = FRAMES_HEAD, tail: int = FRAMES_TAIL
) -> tuple[list[Entry], int]:
    """The entries of `tb` outermost first, repeats collapsed; of a longer chain the `head`
    outermost and `tail` innermost entries, and how many frames were left out between them.
    One walk, nothing formatted or read from disk: extract_tb on 100,000 frames took seconds."""
    first: list[Entry] = []
    last: deque[Entry] = deque()
    omitted = 0
    previous: tuple[str, int, str] | None = None
    run = 0
    while tb is not None:
        frame, line = tb.tb_frame, tb.tb_lineno or 0
        code = frame.f_code
        key = (code.co_filename, line, code.co_name)
        tb = tb.tb_next
        run = run + 1 if key == previous else 1
        previous = key
        if run > REPEATED_FRAMES_SHOWN:
            kept = last or first
            frame_, line_, repeated = kept[-1]
            kept[-1] = (frame_, line_, repeated + 1)
            continue
        if len(first) < head:
            first.append((frame, line, 0))
            continue
        last.append((frame, line, 0))
        if len(last) > tail:
            gone = last.popleft()
            omitted += 1 + gone[2]
    return first + list(last), omitted


def cut_entries(
    entries: list[Entry], omitted: int, head: int, tail: int
) -> tuple[list[Entry], int]:
    """Bounded `entries` (and the frames already left out in their middle) cut further to their
    `head` outermost and `tail` innermost."""
    if len(entries) <= head + tail:
        return entries, omitted
    middle = entries[head : len(entries) - tail]
    return entries[:head] + entries[len(entries) - tail :], omitted + sum(1 + e[2] for e in middle)


def wire_frames(entries: list[Entry], document: str) -> list[dict[str, Any]]:
    """The protocol's frames for bounded entries, in the same order."""
    calls = []
    for frame, line, repeated in entries:
        path = frame.f_code.co_filename
        call: dict[str, Any] = {
            "path": path,
            "line": line,
            "function": frame.f_code.co_name,
            "in_document": path == document,
        }
        if repeated:
            call["repeated"] = repeated
        calls.append(call)
    return calls


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
        "type": clip(type(exc).__name__, NAME_CAP),
        "message": clip(exc.msg or str(exc), MESSAGE_CAP),
        "line": exc.lineno if path == document else None,
        "traceback": clip_middle(_format(exc, tb), TRACEBACK_CAP),
        "frames": frames,
    }


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
CHAIN_CAP = 5  # chained exceptions formatted before the one raised


def _format(
    exc: BaseException, tb: TracebackType | None, walked: tuple[list[Entry], int] | None = None
) -> str:
    """CPython's text, unless a traceback in the chain is long: then the bounded entries are
    formatted one by one (no column carets), in the same words CPython uses. `walked`: the
    entries of `tb` (`bounded_entries` with TRACEBACK_FRAMES) when the caller has them already
    (walking 100,000 frames takes a while)."""
    try:
        if not _any_long(exc, tb):
            formatted = traceback.TracebackException(type(exc), exc, tb)
            _drop_worker_frames(formatted, set())
            return "".join(formatted.format())
        return _format_bounded(exc, tb, set(), walked)
    except Exception:
        return f"{type(exc).__name__}: <traceback formatting failed>\n"


def _drop_worker_frames(formatted: traceback.TracebackException, seen: set[int]) -> None:
    """The worker's frames out of the chained exceptions' stacks too (`tb`, the raised one's,
    has none): a KeyboardInterrupt handled by user code that raised another still carries the
    SIGINT handler's frame. Exception groups' members (3.11+) likewise."""
    if id(formatted) in seen:
        return
    seen.add(id(formatted))
    stack = formatted.stack
    if any(_is_worker_file(f.filename) for f in stack):
        kept = [f for f in stack if not _is_worker_file(f.filename)]
        formatted.stack = traceback.StackSummary.from_list(kept)
    chained = [formatted.__cause__, formatted.__context__]
    chained += getattr(formatted, "exceptions", None) or []
    for other in chained:
        if other is not None:
            _drop_worker_frames(other, seen)


def _any_long(exc: BaseException, tb: TracebackType | None) -> bool:
    limit = FRAMES_HEAD + FRAMES_TAIL
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) <= CHAIN_CAP:
        seen.add(id(current))
        walk, depth = (tb if current is exc else current.__traceback__), 0
        while walk is not None:
            depth += 1
            if depth > limit:
                return True
            walk = walk.tb_next
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return False


# Characters of frames formatted per exception: the one raised, and each one it chains. With
# CHAIN_CAP chained ones the text stays under TRACEBACK_CAP (clip_middle still bounds it: an
# exception's message may be long).
RAISED_FRAMES_TEXT = TRACEBACK_CAP // 2
CHAINED_FRAMES_TEXT = TRACEBACK_CAP // (2 * (CHAIN_CAP + 1))


def _format_bounded(
    exc: BaseException,
    tb: TracebackType | None,
    seen: set[int],
    walked: tuple[list[Entry], int] | None = None,
) -> str:
    seen.add(id(exc))
    raised = len(seen) == 1
    parts: list[str] = []
    cause, context = exc.__cause__, exc.__context__
    if len(seen) <= CHAIN_CAP:
        if cause is not None and id(cause) not in seen:
            parts += [_format_bounded(cause, user_traceback(cause.__traceback__), seen), _CAUSE]
        elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
            context_tb = user_traceback(context.__traceback__)
            parts += [_format_bounded(context, context_tb, seen), _CONTEXT]
    if walked is None:
        walked = bounded_entries(tb, TRACEBACK_FRAMES, TRACEBACK_FRAMES)
    entries, omitted = walked
    if entries:
        parts.append("Traceback (most recent call last):\n")
    budget = RAISED_FRAMES_TEXT if raised else CHAINED_FRAMES_TEXT
    parts += _frames_text(entries, omitted, TRACEBACK_FRAMES, budget)
    parts.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(parts)


def _frames_text(entries: list[Entry], omitted: int, cut_at: int, budget: int) -> list[str]:
    """`entries` (outermost first; `omitted` frames left out before index `cut_at`) as
    CPython's lines, in about `budget` characters: from the outermost down while half of it
    lasts, from the innermost up with the rest, and one line for the frames in between."""
    head: list[str] = []
    tail: list[str] = []
    used = 0
    i, j = 0, len(entries)  # entries[i:j] are not formatted
    stop = cut_at if omitted else j
    while i < min(j, stop) and used < budget // 2:
        text = _entry_text(entries[i])
        head.append(text)
        used += len(text)
        i += 1
    while j > i and used < budget:
        text = _entry_text(entries[j - 1])
        tail.append(text)
        used += len(text)
        j -= 1
    left_out = omitted + sum(1 + e[2] for e in entries[i:j])
    if left_out:
        head.append(f"  [... {left_out} more frames not shown ...]\n")
    return head + tail[::-1]


def _entry_text(entry: Entry) -> str:
    frame, line, repeated = entry
    text = "".join(traceback.StackSummary.extract([(frame, line)]).format())
    if repeated:
        text += f"  [Previous line repeated {repeated} more times]\n"
    return text
