"""Every size cap on what executed code can make us store or send, in one place.

Executed code decides how much it prints, how deep it recurses and how big its values are;
none of that may decide how much the server sends an editor. One `RecursionError` after
`sys.setrecursionlimit(100000)` used to become 99,992 related-information entries (16.5 MB per
publishDiagnostics, re-sent on every keystroke). So every payload has a cap here, applied
where it is built, and the longer text stays available on request (`eager.resultDetail`).
docs/protocol.md ("Limits") lists these numbers; keep the two in step.

Stdlib only and import-free: the worker (possibly the user's own interpreter) imports it.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

# -- worker side ------------------------------------------------------------------------------
# Characters of stdout (and of stderr) kept per chunk: its first half and its last half, around
# an `omission_marker` that counts the rest (a progress bar's last state, the lines before an
# error: the end of an output is often what matters).
STREAM_CAP = 64 * 1024
IDLE_SINK_CAP = 1024 * 1024  # bytes a capture file may hold; the rest is counted and dropped
SINK_CHECK_S = 0.1  # how often the worker trims its capture files
LIVE_OUTPUT_S = 0.25  # a running statement's new output is sent this often (after this long)
# Characters of one stream in one "output" event once that stream has passed STREAM_CAP: its
# newest ones, after an `omission_marker` for the rest. (Before, an event carries all that is
# new.) With LIVE_OUTPUT_S this bounds what a statement printing forever sends per second.
LIVE_OUTPUT_CAP = 8 * 1024
MESSAGE_CAP = 2000  # characters of an exception message
NAME_CAP = 200  # characters of an exception's type name (`type("E" * 10**7, ...)` is legal)
HELD_REASON_CAP = 200  # characters of why the safe gate holds (eager/status heldReason)
# Characters of a formatted traceback: every frame (repeats collapsed as CPython does) while
# it fits, else its outermost and innermost frames around a line counting the rest.
TRACEBACK_CAP = 128 * 1024
TRACEBACK_FRAMES = 4000  # entries of each end of a call chain kept for that text, at most
REPEATED_FRAMES_SHOWN = 3  # as CPython: a frame repeated more often is collapsed
FRAMES_HEAD = 20  # outermost frames kept as an error's `frames` when its chain is longer...
FRAMES_TAIL = 20  # ...and innermost ones (its traceback text keeps more)

# -- LSP side: one message each ----------------------------------------------------------------
PAYLOAD_CAP = 64 * 1024  # bytes of JSON: one eager/chunkResult, one hover (use fit_text)
DETAIL_CAP = 1024 * 1024  # bytes of JSON: one eager.resultDetail answer
SHOWN_TRACEBACK_CAP = 16 * 1024  # characters of traceback in eager/chunkResult
RELATED_CAP = FRAMES_HEAD + FRAMES_TAIL + 2  # relatedInformation entries per diagnostic
DIAGNOSTICS_CAP = 500  # diagnostics per publishDiagnostics
DIAGNOSTICS_PAYLOAD_CAP = 256 * 1024  # bytes of JSON per publishDiagnostics
INLAY_HINTS_CAP = 2000  # inlay hints (and inline values) per request
TOOLTIP_CAP = 4000  # characters of one inlay hint's tooltip

# -- LSP side: what a client may ask -----------------------------------------------------------
PROMPT_CAP = 64 * 1024  # characters of an eager.generate prompt (it is sent to the model as is)
INBOUND_MESSAGE_CAP = 64 * 1024 * 1024  # bytes of one message body read from the editor
INBOUND_HEADER_CAP = 8 * 1024  # bytes of one header line read from the editor
# JSON values and members in one message body outside strings (each `,` `:` `{` `[`): a body
# of `[{},{},…]` or `["ab","ab",…]` is small in bytes but each value parses into dozens, so
# 64 MiB took 1.7 GB. At this cap a body's values take ~150 MB at most, plus its strings.
INBOUND_VALUE_CAP = 2_000_000

# -- what the command line may ask -------------------------------------------------------------
# Bytes of JSON (`json_size`): the code's `sys.argv` (`eager-lsp run a.py x y`), which every
# statement's request carries to the interpreter (core/executor.py `ChunkRequest.argv`). A shell
# passes up to ~2 MB of arguments; taken whole, each statement of a run would send them again.
ARGV_CAP = 64 * 1024

# -- memory -------------------------------------------------------------------------------------
MEMORY_SHARE = 0.5  # default execution.memoryLimitMB: this share of the machine's memory
MIN_MEMORY_LIMIT_MB = 128  # below this the interpreter (with debugpy's threads) cannot start

ELLIPSIS = "…"


def machine_memory_mb() -> int:
    """The memory this process may use at most: physical RAM (MemTotal), or the cgroup's
    limit when that is lower (containers); 0 when unknown."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        total = 0
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            raw = f.read().strip()
        if raw.isdigit() and (total == 0 or int(raw) < total):
            total = int(raw)
    except OSError:
        pass
    return int(total) >> 20


def default_memory_limit_mb() -> int:
    """MEMORY_SHARE of machine_memory_mb(); 0 (no limit) when the memory is unknown."""
    return int(machine_memory_mb() * MEMORY_SHARE)


def argv_problem(argv: list[str]) -> str | None:
    """Why `argv` cannot be the code's `sys.argv` (over ARGV_CAP), or None: said to the user
    as is, never cut silently (a script given half its arguments would do something else)."""
    size = json_size(argv)
    if size <= ARGV_CAP:
        return None
    return (
        f"the script's arguments are too long ({size} bytes as sent to the interpreter; at most"
        f" {ARGV_CAP}): pass large data in a file or on stdin"
    )


def clip(text: str, cap: int) -> str:
    """`text` if it fits in `cap` characters, else its head and an ellipsis."""
    return text if len(text) <= cap else text[: cap - 1] + ELLIPSIS


def clip_middle(text: str, cap: int) -> str:
    """`text` if it fits in `cap` characters, else its head and tail around a marker that says
    how much was left out (the end of a traceback or of an output is often what matters).
    A marker the text had in what is cut (the worker's own cut of a long output) counts with
    it: what the user is told is left out is what was printed and is not shown (a 100,000-line
    output said "32847 characters omitted" of about a million)."""
    if len(text) <= cap:
        return text
    marker_room = 60
    keep = max(cap - marker_room, 2)
    head, tail = keep // 2, keep - keep // 2
    omitted = len(text) - head - tail
    for inner in _MARKER.finditer(text, head, len(text) - tail):
        omitted += int(inner.group(1)) - len(inner.group(0))
    return f"{text[:head]}{omission_marker(omitted)}{text[len(text) - tail :]}"


_MARKER = re.compile(r"\n\[\.\.\. (\d{1,18}) characters omitted \.\.\.\]\n")


def omission_marker(omitted: int) -> str:
    """The line that stands for `omitted` characters left out of a text (`clip_middle`, a
    chunk's captured output in the worker)."""
    return f"\n[... {omitted} characters omitted ...]\n"


class HeadAndEnd:
    """Text that arrives in pieces, kept as its first `cap // 2` and last `cap // 2`
    characters around an `omission_marker` counting the rest: what a statement printed for
    hours costs `cap` characters (the end is kept in pieces, joined once it doubles)."""

    def __init__(self, cap: int = STREAM_CAP) -> None:
        self._half = cap // 2
        self._head = ""
        self._end: list[str] = []
        self._end_size = 0
        self._omitted = 0

    def add(self, text: str) -> None:
        room = self._half - len(self._head)
        if room > 0:
            self._head += text[:room]
            text = text[room:]
        if not text:
            return
        self._end.append(text)
        self._end_size += len(text)
        if self._end_size > 2 * self._half:
            joined = "".join(self._end)
            keep = joined[len(joined) - self._half :]
            self._omitted += len(joined) - len(keep)
            self._end, self._end_size = [keep], len(keep)

    def text(self) -> str:
        end = "".join(self._end)
        extra = max(0, len(end) - self._half)
        omitted = self._omitted + extra
        return self._head + (omission_marker(omitted) if omitted else "") + end[extra:]


# The marker `clip_middle` leaves, for readers that must know a text was clipped (an inlay
# hint's line count; vscode-extension/src/decorations.ts has its own copy).
CLIPPED_MARKER = re.compile(r"\n\[\.\.\. \d+ characters omitted \.\.\.\]\n")


def fit_text(text: str, cap: int = PAYLOAD_CAP) -> str:
    """`text` clipped in the middle so that it takes at most `cap` bytes as a JSON string (the
    worst case: every non-ASCII character escaped). For a hover's Markdown, a tooltip, a
    message: anything shown as one string."""
    size = json_size(text)
    while size > cap and text:
        # shrink by the ratio that is over, at least by an eighth, then check again
        target = min(int(len(text) * cap / size), len(text) - max(1, len(text) // 8))
        text = clip_middle(text, target) if target > 120 else text[: max(target, 0)]
        size = json_size(text)
    return text


def json_size(obj: Any) -> int:
    """Bytes of `obj` as compact JSON with non-ASCII escaped: the worst case on the wire."""
    return len(json_text(obj))


def json_text(obj: Any) -> str:
    """`obj` as compact JSON with non-ASCII escaped (so its length is its size in bytes)."""
    return _JSON.encode(obj)


# `json.dumps` with any option builds a new encoder per call; this one is made once.
_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=str)


def fit_json(obj: Any, cap: int) -> Any:
    """A copy of `obj` (JSON data) whose encoding is at most `cap` bytes: the longest strings
    are clipped in the middle, then the longest lists lose their middle items, until it fits.
    Structure and keys stay, so a client reading the payload still finds every field."""
    out = _copy(obj)
    for _ in range(400):  # each round halves the largest string or list
        size = json_size(out)
        if size <= cap:
            return out
        holder, key, value = _largest(out)
        if holder is None:
            break
        if isinstance(value, str):
            target = len(value) // 2
            holder[key] = clip_middle(value, target) if target > 120 else value[:target]
        else:
            n = len(value)
            keep = n // 2
            head = value[: keep - keep // 2]
            tail = value[n - keep // 2 :] if keep // 2 else []
            holder[key] = [*head, *tail]
    return out  # only a dict with very many keys could still be over: none is built


def _copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_copy(v) for v in obj]
    return obj


def _largest(obj: Any) -> tuple[Any, Any, Any]:
    """(container, key, value) of the largest string or list below `obj`, by rough size."""
    best: tuple[Any, Any, Any] = (None, None, None)
    best_size = 0
    stack: list[Any] = [obj]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            if isinstance(v, str):
                size = len(v)
            elif isinstance(v, list):
                size = len(v) * 32 if len(v) > 1 else 0
                stack.append(v)
            elif isinstance(v, dict):
                stack.append(v)
                continue
            else:
                continue
            if size > best_size:
                best, best_size = (node, k, v), size
    return best
