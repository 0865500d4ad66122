"""Small immutable records that flow through the pipeline.

Every edge (CLI, LSP, benchmarks) sees only these, so they stay plain: no LSP types, no
libcst nodes. The timeline of a run is typed here too, one `Event` class per kind: this is
the one schema of what a run reports. Times are `time.monotonic()` seconds (system-wide on Linux and macOS, so a
worker's timestamps are comparable with the parent's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from eager_lsp.core.analysis import ChunkFacts


class GateMode(str, Enum):
    """When a released chunk may run (see docs/architecture.md, "Gate")."""

    EAGER = "eager"  # run every complete chunk at once
    SAFE = "safe"  # Eager's gate: defer def/class, fall back to serial on denylisted effects
    SERIAL = "serial"  # run everything at the end of the stream (the baseline)
    PARALLEL = "parallel"  # as eager, and independent statements overlap (core/parallel.py)


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
    kind: str = "SyntaxError"  # or IndentationError, TabError: as Python names it

    @property
    def text(self) -> str:
        """ "SyntaxError: message" (or "IndentationError: …"), as every edge shows it."""
        return f"{self.kind}: {self.message}"


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


_TB_FILE = re.compile(r'^  File "(.+)", line (\d+)', re.MULTILINE)  # a traceback's frame


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

    @property
    def raised_in(self) -> Frame | None:
        """The frame it was raised in when that is outside the code run (a module it called),
        else None. `frames` cannot say (the document's come first); the traceback's last
        `File "…", line N` is the innermost frame, taken only if it is one of `frames` (an
        exception's message could read like such a line)."""
        found = _TB_FILE.findall(self.traceback)
        if not found:
            return None
        path, line = found[-1][0], int(found[-1][1])
        frame = next((f for f in self.frames if (f.path, f.line) == (path, line)), None)
        return None if frame is None or frame.in_document else frame


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
    """One timeline entry of a run (core/run.py) or an interpreter (core/interpreter.py).

    One class per kind below, each with its own typed fields; `kind` names it (the strings of
    EVENT_KINDS), `t` is its monotonic time, and `data` gives the fields by name, for readers
    that print or record any event. Listeners narrow with `isinstance`."""

    t: float
    kind: ClassVar[str] = "event"

    @property
    def data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "t"}


@dataclass(frozen=True)
class Piece(Event):
    """Text arrived from the source."""

    kind: ClassVar[str] = "piece"
    offset: int  # characters fed before it
    size: int


@dataclass(frozen=True)
class Release(Event):
    """The detector released a complete chunk."""

    kind: ClassVar[str] = "release"
    chunk: Chunk


@dataclass(frozen=True)
class SyntaxErrorFound(Event):
    """A syntax error more text cannot fix: nothing after it runs."""

    kind: ClassVar[str] = "syntax_error"
    issue: SyntaxIssue


@dataclass(frozen=True)
class Dispatch(Event):
    """A batch went to the executor."""

    kind: ClassVar[str] = "dispatch"
    chunks: list[int]  # chunk indexes, in order
    # gate `parallel`: the batch went to the runner that starts statements side by side
    # (False: run in order, as every other gate does)
    side_by_side: bool = False


@dataclass(frozen=True)
class ExecStart(Event):
    kind: ClassVar[str] = "exec_start"
    chunk: int  # its index


@dataclass(frozen=True)
class ChunkOutput(Event):
    """What a statement that is still running wrote since its last `ChunkOutput` (the
    executor's `output` event, core/executor.py). Its result holds all of its output, which
    starts with these texts joined, while a stream stays within the executor's cap
    (limits.STREAM_CAP). Past it the worker's events go on (each at most
    limits.LIVE_OUTPUT_CAP of the newest characters, after a `limits.omission_marker`) and the
    result keeps the stream's head and end around such a marker: joined, the events of a
    statement that prints for hours grow with time, so nothing may keep them all. A run does
    not keep these in its `events`: the result has the text."""

    kind: ClassVar[str] = "output"
    chunk: Chunk
    stdout: str
    stderr: str


@dataclass(frozen=True)
class ExecEnd(Event):
    kind: ClassVar[str] = "exec_end"
    chunk: int


@dataclass(frozen=True)
class ResultReady(Event):
    """A chunk's result (a skipped chunk's too)."""

    kind: ClassVar[str] = "result"
    result: ChunkResult
    sid: int = 0  # the ledger's id of the statement it is shown as (core/ledger.py)


@dataclass(frozen=True)
class StopRequested(Event):
    """The source should stop (early error interruption, a cancel)."""

    kind: ClassVar[str] = "stop_requested"
    reason: str


@dataclass(frozen=True)
class EndOfStream(Event):
    kind: ClassVar[str] = "end_of_stream"
    offset: int
    # The text ended where its source ended it: its last line, with or without a line break,
    # was taken as finished (False: a broken or stopped stream left it unexecuted).
    whole: bool = True


@dataclass(frozen=True)
class WorkerLost(Event):
    """The interpreter's process died or was killed; its namespace is gone."""

    kind: ClassVar[str] = "worker_lost"
    reason: str
    state_lost: bool = True


@dataclass(frozen=True)
class WorkerStarted(Event):
    """The interpreter has a (new) executor."""

    kind: ClassVar[str] = "worker_started"
    pid: int | None
    debug_port: int | None


@dataclass(frozen=True)
class ParallelUnavailable(Event):
    """The parallel gate runs sequentially on this backend."""

    kind: ClassVar[str] = "parallel_unavailable"
    reason: str


@dataclass(frozen=True)
class GateHeld(Event):
    """The safe gate met a statement that may act outside the interpreter: it and everything
    after it wait for the end of the stream (`line`: its first, in run lines). Sent just before
    that statement's Release."""

    kind: ClassVar[str] = "gate_held"
    line: int
    reason: str  # "calls os.remove", "imports subprocess", …


@dataclass(frozen=True)
class Done(Event):
    """All results of the run are in."""

    kind: ClassVar[str] = "done"


EVENT_TYPES: tuple[type[Event], ...] = (
    Piece,
    Release,
    Dispatch,
    ExecStart,
    ChunkOutput,
    ExecEnd,
    ResultReady,
    SyntaxErrorFound,
    StopRequested,
    EndOfStream,
    WorkerLost,
    WorkerStarted,
    ParallelUnavailable,
    GateHeld,
    Done,
)
EVENT_KINDS = tuple(e.kind for e in EVENT_TYPES)
