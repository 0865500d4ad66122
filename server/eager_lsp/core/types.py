"""Small immutable records that flow through the pipeline.

Every edge (CLI, LSP, benchmarks) sees only these, so they stay plain: no LSP types, no
libcst nodes. Times are `time.monotonic()` seconds (system-wide on Linux and macOS, so a
worker's timestamps are comparable with the parent's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eager_lsp.core.analysis import ChunkFacts


class GateMode(str, Enum):
    """When a released chunk may run (see docs/architecture.md, "Gate")."""

    EAGER = "eager"  # run every complete chunk at once
    SAFE = "safe"  # Eager's gate: defer def/class, fall back to serial on denylisted effects
    SERIAL = "serial"  # run everything at the end of the stream (the baseline)


@dataclass(frozen=True)
class Chunk:
    """One complete top-level statement (or a decorated def/class), final once released."""

    index: int  # 0-based order of release within one stream
    start_line: int  # 1-based, inclusive, in document lines (the detector's first_line applied)
    end_line: int  # 1-based, inclusive; trailing blank and comment lines are not part of it
    code: str  # the source of lines start_line..end_line, newline-terminated
    released_offset: int  # characters fed to the detector when it was released
    released_at: float  # monotonic time of release
    kind: str  # "simple" | "compound" | "def" | "class" | "import"
    binds: tuple[str, ...] = ()  # top-level names it assigns, defines or imports
    reads: tuple[str, ...] = ()  # free names it reads (loads not bound earlier in the chunk)
    modules: tuple[str, ...] = ()  # top-level module names it imports ("os" for `import os.path`)
    calls: tuple[str, ...] = ()  # dotted names it calls, e.g. ("print", "os.remove", "eval")
    trailing_expr: bool = False  # a bare expression statement whose value should be shown
    # False when this Python could not compile it and another version (the worker's) decides.
    checked: bool = True
    # Everything the analysis found (aliases, call arguments) for the gate; None: unknown.
    facts: ChunkFacts | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SyntaxIssue:
    """A syntax error that more text can no longer fix; nothing after it runs."""

    line: int  # 1-based document line
    column: int  # 0-based
    message: str

    @property
    def text(self) -> str:
        """ "SyntaxError: message", as every edge shows it."""
        return f"SyntaxError: {self.message}"


@dataclass(frozen=True)
class Value:
    """A bounded, safe rendering of one value produced by a chunk."""

    name: str  # the bound name, or "" for the trailing expression's value
    type_name: str  # e.g. "int", "DataFrame"
    repr: str  # bounded repr (length and depth capped)
    summary: str  # short inline label: "42", "DataFrame 1000×3", "list[3]"
    table: str = ""  # a data frame's head as a Markdown table (bounded), else ""


@dataclass(frozen=True)
class Image:
    """A PNG a chunk produced (a matplotlib figure, a `_repr_png_`), in its interpreter's temp dir."""

    path: str
    label: str  # "figure 1", or the name whose `_repr_png_` it is ("value": the expression)
    size: int  # bytes


@dataclass(frozen=True)
class Frame:
    path: str
    line: int  # 1-based line in that file (document lines for the document's own frames)
    function: str
    in_document: bool  # the frame belongs to the code being executed
    repeated: int = 0  # this same frame followed N more times (collapsed, as CPython does)


@dataclass(frozen=True)
class ErrorInfo:
    type: str  # "ZeroDivisionError"
    message: str  # "division by zero"
    line: int | None  # document line of the innermost frame in the document
    frames: tuple[Frame, ...] = ()  # innermost frame in the document first
    traceback: str = ""  # formatted, with the worker's own frames removed
    state_lost: bool = False  # the interpreter was killed/crashed; its namespace is gone
    frames_omitted: int = 0  # frames left out in the middle of a very long chain

    @property
    def text(self) -> str:
        """ "Type: message" (just "Type" without a message): the one way every edge (terminal,
        diagnostics, summaries, benchmarks, repair prompts) names an error."""
        return f"{self.type}: {self.message}" if self.message else self.type


@dataclass(frozen=True)
class ChunkResult:
    """What running one chunk produced."""

    chunk: Chunk
    ok: bool
    values: tuple[Value, ...] = ()
    expr: Value | None = None  # the trailing expression's value, when there is one
    stdout: str = ""
    stderr: str = ""
    error: ErrorInfo | None = None
    images: tuple[Image, ...] = ()
    skipped: bool = False  # not run because an earlier chunk failed or the run was stopped
    dispatched_at: float = 0.0  # parent: sent to the worker
    exec_start: float = 0.0  # worker: began executing
    exec_end: float = 0.0  # worker: finished executing
    result_at: float = 0.0  # parent: result received


def failure_text(item: ChunkResult | SyntaxIssue | None) -> str | None:
    """The error text of a failed result or a syntax issue; None when there is none."""
    if isinstance(item, SyntaxIssue):
        return item.text
    if item is None or item.error is None:
        return None
    return item.error.text


@dataclass(frozen=True)
class Event:
    """One timeline entry. `kind` is one of EVENT_KINDS; `data` holds kind-specific fields."""

    kind: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)


EVENT_KINDS = (
    "piece",  # text arrived: {"offset", "size"}
    "release",  # the detector released a chunk: {"chunk"}
    "dispatch",  # a batch went to the worker: {"chunks": [index, ...]}
    "exec_start",  # {"chunk"}
    "exec_end",  # {"chunk"}
    "result",  # {"result": ChunkResult}
    "syntax_error",  # {"issue": SyntaxIssue}
    "stop_requested",  # the source should stop (early error interruption): {"chunk", "reason"}
    "end_of_stream",  # {"offset"}
    "worker_lost",  # the interpreter died or was killed: {"reason", "state_lost": True}
    "worker_started",  # {"pid", "debug_port"}
    "done",  # all results are in
)
