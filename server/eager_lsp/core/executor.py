"""The executor interface: what the core needs from whatever runs the code.

Rules:
- The core (`core/interpreter.py`, `core/run.py`) and every edge talk to an interpreter only
  through `Executor` and get one only through an `ExecutorSource`; no module outside a backend
  names a backend class, except the benchmarks (bench/), which measure the backends
  themselves. Backends: the worker (`eager_lsp.executors.worker.client.WorkerClient`, handed
  out by `WorkerPool`) and the Jupyter kernel (`eager_lsp.executors.kernel`). Pick one with
  `eager_lsp.executors.backend.executor_source`.
- One `execute` call is one batch of chunks run in order in one namespace; events come back per
  chunk, in order, through `on_event` (shapes below); the call returns once every chunk of the
  batch has a `result` or `skipped` event. If the interpreter is gone, `execute` raises
  `ExecutorLost` (a backend's own loss error subclasses it): the run reports the state as
  lost.
- `interrupt()` answers "interrupted" (it landed in a statement; the state is kept), "killed"
  (the interpreter was replaced, the state is lost), "idle" (nothing ran, or what ran ended by
  itself before the interrupt reached it), or "running" (it ignored the interrupt
  and was not killed: an attached Jupyter kernel is never ours to kill).
- Running statements side by side (gate `parallel`) is a capability, not a guess: `parallel`
  is the executor itself as a `ParallelExecutor` when it can, else None (the run then goes one
  statement at a time and says so). Nobody probes a backend with hasattr or a cast.
- `kill()` must not destroy an interpreter the executor did not start (an attached Jupyter
  kernel is the user's): it only lets go of it, and `may_kill` is False, so that what the
  edges say of a kill is true (the CLI's second Ctrl-C lets go of such a kernel, which keeps
  its state). `kill(reason)` is a kill the server asks for
  (a second Ctrl-C, a restart): a batch it cuts short fails with `ExecutorLost(reason)`, not
  with what the interpreter's death looked like ("killed by SIGKILL (out of memory?)" is a
  mystery to a user who pressed Ctrl-C twice). An interpreter that was already gone keeps
  the account of its own end.

The TypedDicts below are the one schema of what crosses to a backend and back: the worker
sends exactly these on its wire (executors/worker/protocol.py adds only its own framing and
control messages), the kernel backend builds them from Jupyter messages, and the run reads
them (core/run.py, core/results.py). The module-level assignments in
`eager_lsp.executors.backend` have mypy check that every backend satisfies the protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, Protocol, TypedDict

if TYPE_CHECKING:  # annotations only (3.11+ typing); never evaluated at run time
    from typing import NotRequired


class ChunkRequest(TypedDict):
    """One chunk to run (Interpreter.chunk_request builds it)."""

    id: int  # the chunk's index in its run; events carry it back
    code: str  # the statement's source
    path: str  # the document's real path: tracebacks and breakpoints use it
    first_line: int  # the document line the code starts on (errors map to editor lines)
    names: list[str]  # top-level names it binds: their values are reported
    trailing_expr: bool  # report the value of a trailing expression
    image_dir: str  # where PNGs it produces are written (the interpreter's private directory)
    # The code's `sys.argv`, set when the document is entered (its first statement, and after
    # a reset), as `python a.py x` sets it once: `eager-lsp run a.py x` → ["a.py", "x"].
    # Absent: [path] (a language server's document). At most limits.ARGV_CAP bytes of JSON
    # (the Interpreter refuses more). A Jupyter kernel keeps its own (the CLI refuses
    # arguments with one).
    argv: NotRequired[list[str]]


class PlannedChunkRequest(ChunkRequest):
    """A chunk for `ParallelExecutor.execute_parallel`, with its plan (core/parallel.py `Plan`)."""

    after: list[int]  # ids of earlier chunks of the run it waits for
    exclusive: bool  # a barrier: nothing else runs while it does
    speculative: bool  # may start before the chunks before it are known to succeed


class WireFrame(TypedDict):
    path: str
    line: int  # 1-based; document lines for the document's own frames
    function: str
    in_document: bool
    repeated: NotRequired[int]  # this frame followed N more times (collapsed)


class WireError(TypedDict):
    type: str
    message: str
    line: int | None  # document line of the innermost frame in the document
    traceback: str
    frames: list[WireFrame]  # innermost frame in the document first
    frames_omitted: NotRequired[int]


class WireValue(TypedDict):
    name: str
    type: str
    repr: str
    summary: str
    table: NotRequired[str]


class WireImage(TypedDict):
    path: str  # a PNG in the request's image_dir
    label: str
    size: int  # bytes


class StartedEvent(TypedDict):
    ev: Literal["started"]
    id: int
    batch: NotRequired[int]  # the request's batch (the worker's parallel exec)
    t: float  # time.monotonic() when it began


class OutputEvent(TypedDict):
    """What a statement that is still running wrote since its last `output` (both may be
    ""): sent at most every LIVE_OUTPUT_S once it has run that long. Its `result` holds all of
    its output, starting with these texts joined (unless the backend cut its middle)."""

    ev: Literal["output"]
    id: int
    stdout: str
    stderr: str


class ResultEvent(TypedDict):
    ev: Literal["result"]
    id: int
    batch: NotRequired[int]  # the request's batch (the worker's parallel exec)
    ok: bool
    values: list[WireValue]
    expr: WireValue | None
    stdout: str
    stderr: str
    error: WireError | None
    images: NotRequired[list[WireImage]]
    t_start: float
    t_end: float
    batch_done: NotRequired[int]  # the worker's wire: this result ends the request's batch


class SkippedEvent(TypedDict):
    ev: Literal["skipped"]
    id: int
    batch: NotRequired[int]  # the request's batch (the worker's parallel exec)


# What `on_event` receives, per chunk and in order: `started`, any `output`, then `result`
# or `skipped`. Narrow with `event["ev"] == "result"`.
ExecutorEvent = StartedEvent | OutputEvent | ResultEvent | SkippedEvent
ChunkOutcome = ResultEvent | SkippedEvent  # what `execute` returns, one per chunk, in order
EventCallback = Callable[[ExecutorEvent], None]
InterruptOutcome = Literal["interrupted", "killed", "idle", "running"]


class ExecutorLost(Exception):
    """The interpreter went away (or could not be reached); its namespace is lost."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExecutorUnavailable(ExecutorLost):
    """A source could not hand out an executor with these settings (no such kernelspec, an
    unreachable or refusing server, a bad connection file): a setup error the terminal reports
    as a usage error (exit 2). An interpreter that starts and dies is plain `ExecutorLost`."""


class Executor(Protocol):
    """One interpreter with one namespace (see the module docstring for the rules)."""

    @property
    def alive(self) -> bool: ...

    # Process id when it is a local process this machine can see, else None (remote kernels).
    @property
    def pid(self) -> int | None: ...

    @property
    def version(self) -> str: ...  # "3.12.1"; "" when unknown

    @property
    def debug_port(self) -> int | None: ...

    @property
    def debug_error(self) -> str | None: ...

    # Itself when it can run statements side by side (gate `parallel`), else None.
    @property
    def parallel(self) -> ParallelExecutor | None: ...

    # True: we started it, and `kill()` ends it. False: it is not ours (an attached Jupyter
    # kernel): `kill()` only lets go of it, and it goes on with its state.
    @property
    def may_kill(self) -> bool: ...

    async def execute(
        self,
        batch: Sequence[ChunkRequest],
        *,
        stop_on_error: bool,
        on_event: EventCallback | None = None,
    ) -> Sequence[ChunkOutcome]: ...  # the result/skipped events, in order

    async def interrupt(self) -> InterruptOutcome: ...

    # The chunks of the batch out now (a parallel run's batches) from id `from_id` on that
    # have not begun are skipped (`skipped` events, as after a failure): their text was
    # edited. At once, without waiting; what began runs on. A backend that cannot take back
    # what it was sent (a Jupyter kernel queues every request of a batch) does nothing.
    def withdraw(self, from_id: int) -> None: ...

    async def reset(self) -> None: ...  # a fresh namespace in the same interpreter

    async def debug_listen(self, timeout: float = 30.0) -> int: ...  # RuntimeError if it cannot

    # At once; never destroys what it did not start; `reason`: why the server kills it, what a
    # batch it cuts short says (None: what the backend saw).
    async def kill(self, reason: str | None = None) -> None: ...

    async def shutdown(self, timeout: float = 1.0) -> None: ...  # politely, then kill


class ParallelExecutor(Executor, Protocol):
    """An executor that runs a run's statements side by side, each once the statements its
    plan names have finished (the worker's threads, executors/worker/parallel.py)."""

    async def execute_parallel(
        self,
        batch: Sequence[PlannedChunkRequest],
        *,
        run: int,  # names the run: a failure stops its later statements, whichever batch
        stop_on_error: bool,
        on_event: EventCallback | None = None,
        # set once the executor has taken the batch in, so the caller can send the next one
        accepted: asyncio.Future[None] | None = None,
    ) -> Sequence[ChunkOutcome]: ...


class ExecutorSource(Protocol):
    """Hands out executors: the first one, and a replacement after a loss or a restart.
    `acquire` raises `ExecutorUnavailable` when the settings name nothing usable."""

    async def acquire(self) -> Executor: ...

    async def close(self) -> None: ...  # stops spares; executors handed out are the caller's
