"""Turn an executor's events (core/executor.py: the worker's wire messages, the kernel's
translation) into core records, defensively: a field missing or of the wrong type from an
older or foreign worker becomes a default, never an exception. Executed code can reach the
worker's event pipe and write events of its own, so what could hurt the server is bounded
here too: names and messages to their caps, an error's line to a real line (a line of -7
made every later publish of the document fail), times to finite ones within the request's
own span."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from eager_lsp.core.types import Chunk, ChunkResult, ErrorInfo, Frame, Image, Value
from eager_lsp.limits import FRAMES_HEAD, FRAMES_TAIL, MESSAGE_CAP, NAME_CAP, clip


def _int(x: Any) -> int:
    try:
        return int(x)
    except (TypeError, ValueError, OverflowError):
        return 0


_MAX_LINE = 2**31 - 1  # the largest line an LSP position can name


def _line(x: Any) -> int | None:
    """A 1-based line, or None."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    line = _int(x)
    return line if 1 <= line <= _MAX_LINE else None


def _time(x: Any, low: float, high: float) -> float:
    """A time within [low, high]; `high` when it is missing or not a finite number."""
    try:
        t = float(x)
    except (TypeError, ValueError, OverflowError):
        return high
    return min(max(t, low), high) if math.isfinite(t) else high


def value_from_wire(v: Mapping[str, Any] | None) -> Value | None:
    if not v:
        return None
    return Value(
        name=str(v.get("name", "")),
        type_name=str(v.get("type", "")),
        repr=str(v.get("repr", "")),
        summary=str(v.get("summary", "")),
        table=str(v.get("table") or ""),
    )


def images_from_wire(items: Any) -> tuple[Image, ...]:
    if not isinstance(items, list):
        return ()
    out = []
    for i in items:
        if isinstance(i, dict) and isinstance(i.get("path"), str):
            out.append(
                Image(path=i["path"], label=str(i.get("label", "")), size=int(i.get("size", 0)))
            )
    return tuple(out)


def error_from_wire(e: Mapping[str, Any] | None, lost_reason: str | None = None) -> ErrorInfo:
    """An ErrorInfo from a wire ERROR, or (e is None) one saying the interpreter was lost."""
    if e is None:
        return ErrorInfo(
            type="InterpreterLost",
            message=f"{lost_reason}; the interpreter was restarted and its state is lost",
            line=None,
            state_lost=True,
        )
    wire = list(e.get("frames", []))
    omitted = max(0, _int(e.get("frames_omitted", 0)))
    cap = FRAMES_HEAD + FRAMES_TAIL
    if len(wire) > cap:  # an older or foreign worker: bound it here too
        omitted += len(wire) - cap
        wire = wire[:cap]
    frames = tuple(_frame(f) for f in wire if isinstance(f, Mapping))
    return ErrorInfo(
        type=clip(str(e.get("type", "Error")), NAME_CAP),
        message=clip(str(e.get("message", "")), MESSAGE_CAP),
        line=_line(e.get("line")),
        frames=frames,
        traceback=str(e.get("traceback", "")),
        frames_omitted=omitted,
    )


def _frame(f: Mapping[str, Any]) -> Frame:
    line = _line(f.get("line"))
    return Frame(
        path=str(f.get("path", "")),
        line=line or 0,  # (0: no line)
        function=str(f.get("function", "")),
        in_document=bool(f.get("in_document", False)) and line is not None,  # (placed by line)
        repeated=max(0, _int(f.get("repeated", 0))),
    )


def result_from_wire(
    chunk: Chunk, msg: Mapping[str, Any], dispatched_at: float, received_at: float
) -> ChunkResult:
    ok = bool(msg.get("ok"))
    values = tuple(v for v in (value_from_wire(x) for x in msg.get("values", [])) if v)
    return ChunkResult(
        chunk=chunk,
        ok=ok,
        values=values,
        expr=value_from_wire(msg.get("expr")),
        stdout=str(msg.get("stdout", "")),
        stderr=str(msg.get("stderr", "")),
        error=None if ok else error_from_wire(msg.get("error") or {"type": "Error"}),
        images=images_from_wire(msg.get("images")),
        dispatched_at=dispatched_at,
        exec_start=_time(msg.get("t_start", dispatched_at), dispatched_at, received_at),
        exec_end=_time(msg.get("t_end", received_at), dispatched_at, received_at),
        result_at=received_at,
    )


def skipped_result(chunk: Chunk, dispatched_at: float = 0.0) -> ChunkResult:
    return ChunkResult(chunk=chunk, ok=False, skipped=True, dispatched_at=dispatched_at)


def lost_result(
    chunk: Chunk,
    error: ErrorInfo,
    dispatched_at: float,
    started_at: float,
    now: float,
    output: tuple[str, str] = ("", ""),
) -> ChunkResult:
    """A statement whose interpreter went away while it ran; `output` is what it had printed
    as far as its live output said (the interpreter's copy went with it)."""
    return ChunkResult(
        chunk=chunk,
        ok=False,
        stdout=output[0],
        stderr=output[1],
        error=error,
        dispatched_at=dispatched_at,
        exec_start=started_at,
        exec_end=now,
        result_at=now,
    )
