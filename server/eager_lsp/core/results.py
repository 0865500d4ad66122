"""Turn the worker's wire messages (executors/worker/protocol.py) into core records."""

from __future__ import annotations

from typing import Any

from eager_lsp.core.types import Chunk, ChunkResult, ErrorInfo, Frame, Image, Value
from eager_lsp.limits import FRAMES_HEAD, FRAMES_TAIL


def _int(x: Any) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        return 0


def value_from_wire(v: dict[str, Any] | None) -> Value | None:
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


def error_from_wire(e: dict[str, Any] | None, lost_reason: str | None = None) -> ErrorInfo:
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
    frames = tuple(
        Frame(
            path=str(f.get("path", "")),
            line=_int(f.get("line", 0)),
            function=str(f.get("function", "")),
            in_document=bool(f.get("in_document", False)),
            repeated=max(0, _int(f.get("repeated", 0))),
        )
        for f in wire
    )
    line = e.get("line")
    return ErrorInfo(
        type=str(e.get("type", "Error")),
        message=str(e.get("message", "")),
        line=int(line) if line is not None else None,
        frames=frames,
        traceback=str(e.get("traceback", "")),
        frames_omitted=omitted,
    )


def result_from_wire(
    chunk: Chunk, msg: dict[str, Any], dispatched_at: float, received_at: float
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
        exec_start=float(msg.get("t_start", dispatched_at)),
        exec_end=float(msg.get("t_end", received_at)),
        result_at=received_at,
    )


def skipped_result(chunk: Chunk, dispatched_at: float = 0.0) -> ChunkResult:
    return ChunkResult(chunk=chunk, ok=False, skipped=True, dispatched_at=dispatched_at)


def lost_result(
    chunk: Chunk, error: ErrorInfo, dispatched_at: float, started_at: float, now: float
) -> ChunkResult:
    return ChunkResult(
        chunk=chunk,
        ok=False,
        error=error,
        dispatched_at=dispatched_at,
        exec_start=started_at,
        exec_end=now,
        result_at=now,
    )
