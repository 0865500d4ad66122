"""One document's interpreter, as every edge (CLI, LSP, benchmarks) uses it: many streams.

An `Interpreter` is the Python interpreter of one document as the user sees it: one
persistent namespace that outlives the process behind it. It gets its processes from an
`ExecutorSource` (core/executor.py; `eager_lsp.executors.backend.open_interpreter` picks one from the
config), replaces a lost one, and runs streams of text through it one at a time.
`run_stream` consumes any async stream of text pieces (a model, a replayed file, a document
being typed into) and closes that stream early when the run asks to stop (early error
interruption), so every provider looks the same to the core. The core never imports a
backend: the source is handed in.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterable, Callable, Sequence

from eager_lsp.core.config import InterpreterConfig, KernelTarget
from eager_lsp.core.executor import (
    ChunkOutcome,
    ChunkRequest,
    Executor,
    ExecutorSource,
    InterruptOutcome,
)
from eager_lsp.core.ledger import Ledger
from eager_lsp.core.run import Listener, Run, RunReport
from eager_lsp.core.types import Chunk, Event, WorkerStarted
from eager_lsp.limits import argv_problem

__all__ = [
    "IMAGES_KEPT",
    "Interpreter",
    "InterpreterConfig",
    "KernelTarget",
    "Listener",
    "StreamFailed",
]

IMAGES_KEPT = 200  # PNG files per interpreter (see Interpreter.prune_images)
_IMAGE_DIRS: set[str] = set()  # removed at exit too, for interpreters that were never closed


@atexit.register
def _remove_image_dirs() -> None:
    for path in list(_IMAGE_DIRS):
        shutil.rmtree(path, ignore_errors=True)


class Interpreter:
    def __init__(
        self,
        config: InterpreterConfig,
        pool: ExecutorSource,
        *,
        listener: Listener | None = None,
        own_pool: bool = False,
        argv: Sequence[str] | None = None,
    ) -> None:
        """`pool` hands out executors (the first one, and replacements); with `own_pool` it
        is closed with this interpreter (eager_lsp.executors.backend.open_interpreter does that).
        `argv`: the code's `sys.argv` (`eager-lsp run a.py x`: ["a.py", "x"]); None: [path],
        as a language server's document has. ValueError when it is over limits.ARGV_CAP."""
        self.config = config
        self.argv: list[str] | None = None if argv is None else [str(a) for a in argv]
        if self.argv is not None and (problem := argv_problem(self.argv)) is not None:
            raise ValueError(problem)
        self._own_pool = own_pool
        self._pool: ExecutorSource = pool
        self._listener = listener
        self._executor: Executor | None = None
        self._starting: asyncio.Task[Executor] | None = None
        self.run: Run | None = None
        self.ledger = Ledger()  # what ran in this namespace (core/ledger.py)
        self.lost_reasons: list[str] = []
        self._image_dir: str | None = None
        # The directory is checked once per run (new_run), not once per statement: a stat()
        # per statement was ~1 % of the server's CPU with ten documents generating.
        self._image_dir_checked = False

    # -- rich output ---------------------------------------------------------------------------
    @property
    def image_dir(self) -> str:
        """This interpreter's private directory for the PNGs its chunks produce (made on first
        use, mode 0700, removed by close(); older files are pruned, see `prune_images`)."""
        if self._image_dir is None or not (
            self._image_dir_checked or os.path.isdir(self._image_dir)
        ):
            self._image_dir = tempfile.mkdtemp(prefix="eager-images-")
            _IMAGE_DIRS.add(self._image_dir)
        self._image_dir_checked = True
        return self._image_dir

    def prune_images(self, keep: int = IMAGES_KEPT) -> None:
        """Keep the newest `keep` images: a long-lived interpreter must not fill the disk."""
        if self._image_dir is None:
            return
        try:
            entries = sorted(os.scandir(self._image_dir), key=lambda e: e.stat().st_mtime)
        except OSError:
            return
        for entry in entries[: max(0, len(entries) - keep)]:
            try:
                os.unlink(entry.path)
            except OSError:
                pass

    # -- the interpreter -------------------------------------------------------------------
    async def start(self) -> None:
        """Start (or take a warm) interpreter now, before it is needed."""
        await self.executor()

    async def executor(self) -> Executor:
        """The current executor (started or taken from the source on first use)."""
        if self._executor is not None and self._executor.alive:
            return self._executor
        if self._executor is not None:  # it died between runs: a new one has a new namespace
            self.ledger.clear()
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._pool.acquire())
        executor = await asyncio.shield(self._starting)
        self._executor = executor
        if self.config.debug_listen and self.config.debug:
            try:
                await executor.debug_listen()
            except RuntimeError:
                pass  # executor.debug_error says why; the code still runs
        self._notify(
            WorkerStarted(time.monotonic(), pid=executor.pid, debug_port=executor.debug_port)
        )
        return executor

    @property
    def python_version(self) -> tuple[int, int] | None:
        """The worker's Python (major, minor) once known; None: the server's own, or unknown.

        The detector validates chunks with the server's grammar; for another version it lets
        the worker's compile judge what the server's rejects (core/detector.py)."""
        executor = self._executor
        if self.config.python is None or executor is None:
            return None
        parts = executor.version.split(".")
        try:
            return int(parts[0]), int(parts[1])
        except (IndexError, ValueError):
            return None

    @property
    def debug_port(self) -> int | None:
        """Where debugpy listens; None until someone asked (debug_listen)."""
        return self._executor.debug_port if self._executor is not None else None

    @property
    def debug_error(self) -> str | None:
        return self._executor.debug_error if self._executor is not None else None

    async def debug_listen(self) -> int:
        """Start the interpreter's debugpy (at most once per interpreter) and return its port
        on 127.0.0.1; works while a chunk runs. RuntimeError with the reason if it cannot."""
        executor = await self.executor()
        return await executor.debug_listen()

    @property
    def pid(self) -> int | None:
        return self._executor.pid if self._executor is not None else None

    @property
    def may_kill(self) -> bool:
        """`executor_lost` ends the current interpreter (else, an attached Jupyter kernel, it
        only lets go of it: the kernel goes on with its state). True when there is none."""
        return self._executor is None or self._executor.may_kill

    async def executor_lost(self, reason: str, executor: Executor | None = None) -> None:
        """The interpreter died, or is killed now (a second Ctrl-C, a restart): drop it; the
        next use takes the warm spare. The kill carries `reason`: a statement it cuts short
        says it (not "killed by SIGKILL (out of memory?)", what a killed worker looks like);
        an interpreter that was already gone keeps its own account.

        `executor`: the one that was lost, as a run saw it die. Each loss is recorded once
        (`lost_reasons`): when that executor is no longer the current one, whoever killed it
        (an interrupt past its grace period, a second Ctrl-C, a restart) recorded it already,
        and the replacement started since is not touched."""
        if executor is not None and executor is not self._executor:
            return
        self.lost_reasons.append(reason)
        self.ledger.clear()
        executor, self._executor = self._executor, None
        if executor is not None:
            try:
                await executor.kill(reason)
            except Exception:
                pass

    async def interrupt(self) -> InterruptOutcome:
        """KeyboardInterrupt into the running chunk; kill and replace it after the grace period.
        Returns "interrupted", "killed" (state lost), "idle", or "running" (an executor that
        may not kill, an attached kernel, ignored it)."""
        if self._executor is None:
            return "idle"
        if self.run is not None and not self.run.done:
            self.run.interrupt_asked = True  # (RunReport.interrupted)
        executor = self._executor
        outcome = await executor.interrupt()
        if outcome == "killed":  # (a run that saw it die may have recorded it first)
            await self.executor_lost("interrupted by force after the grace period", executor)
        return outcome

    async def restart(self) -> None:
        """A fresh interpreter (state is lost by design)."""
        if self.run is not None and not self.run.done:
            await self.run.cancel()
        if self._executor is not None:  # (else it is gone already: its loss was recorded)
            await self.executor_lost("restarted on request", self._executor)
        self.ledger.clear()
        await self.executor()

    async def close(self) -> None:
        if self.run is not None and not self.run.done:
            self.run.request_stop("interpreter closed")
        executor, self._executor = self._executor, None
        if executor is not None:
            await executor.shutdown()
        if self._own_pool:
            await self._pool.close()
        if self._image_dir is not None:
            shutil.rmtree(self._image_dir, ignore_errors=True)
            _IMAGE_DIRS.discard(self._image_dir)
            self._image_dir = None

    # -- streams -----------------------------------------------------------------------------
    async def run_own(self, code: str, label: str, chunk_id: int) -> ChunkOutcome:
        """Run the server's own `code` in the namespace, not the document's: its path is
        "<eager: label>" (the worker enters no document for it) and nothing is recorded in
        the ledger. Its result (or skipped) event; ExecutorLost if the interpreter is gone."""
        executor = await self.executor()
        request: ChunkRequest = {
            "id": chunk_id,
            "code": code,
            "path": f"<eager: {label}>",
            "first_line": 1,
            "names": [],
            "trailing_expr": False,
            "image_dir": self.image_dir,
        }
        [outcome] = await executor.execute([request], stop_on_error=False)
        return outcome

    async def reset(self) -> None:
        """A fresh namespace in the same interpreter (raises if the executor cannot)."""
        executor = await self.executor()
        await executor.reset()
        self.ledger.clear()

    def chunk_request(self, chunk: Chunk) -> ChunkRequest:
        """The wire form of one chunk (core/executor.py, executors/worker/protocol.py)."""
        request: ChunkRequest = {
            "id": chunk.index,
            "code": chunk.code,
            "path": self.config.path,
            "first_line": chunk.start_line,
            "names": list(chunk.binds),
            "trailing_expr": chunk.trailing_expr,
            "image_dir": self.image_dir,
        }
        if self.argv is not None:
            request["argv"] = self.argv
        return request

    def new_run(self, *, first_line: int = 1, listener: Listener | None = None) -> Run:
        """Begin a stream whose first character lands on document line `first_line`."""
        self.prune_images()
        self._image_dir_checked = False  # made again if something removed it meanwhile
        self.run = Run(self, first_line=first_line, listener=self._chain(listener))
        return self.run

    async def run_stream(
        self,
        source: AsyncIterable[str],
        *,
        first_line: int = 1,
        listener: Listener | None = None,
        on_piece: Callable[[str], None] | None = None,
    ) -> RunReport:
        """Consume `source` through a new run and return its report once all results are in.

        When the run asks to stop (an error ran, or a syntax error), the source is closed at
        once. If the source raises (a broken model stream), the complete chunks before the
        break still finish, the unfinished tail is not run, and the error propagates after.
        """
        run = self.new_run(first_line=first_line, listener=listener)
        failure: BaseException | None = None

        async def consume() -> None:
            async for piece in source:
                if on_piece is not None:
                    on_piece(piece)
                run.feed(piece)
                if run.stopped:
                    return

        consumer = asyncio.ensure_future(consume())
        stopper = asyncio.ensure_future(run.stop_requested.wait())
        try:
            await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not consumer.done():
                consumer.cancel()
            try:
                await consumer
            except asyncio.CancelledError:
                if not run.stopped:
                    raise
            except Exception as exc:  # the source broke
                failure = exc
        except asyncio.CancelledError:
            await run.cancel()
            raise
        finally:
            stopper.cancel()
            if not consumer.done():
                # This call was cancelled while the source streamed: the consumer would feed
                # the run after its end (RuntimeError in a task nobody awaits).
                consumer.cancel()
                consumer.add_done_callback(_retrieved)
            await _aclose(source)
            run.end(flush_tail=failure is None and not run.stopped)
        try:
            report = await run.wait()
        except asyncio.CancelledError:
            # Stopped while the last statements still run (e.g. a `while True:` the stream
            # ended with): interrupt them too, a stop stops everything this stream started.
            await run.cancel()
            raise
        if failure is not None:
            raise StreamFailed(failure, report) from failure
        return report

    def _chain(self, listener: Listener | None) -> Listener | None:
        if listener is None:
            return self._listener
        if self._listener is None:
            return listener
        outer = self._listener

        def both(event: Event) -> None:
            outer(event)
            listener(event)

        return both

    def _notify(self, event: Event) -> None:
        if self._listener is not None:
            self._listener(event)


def _retrieved(task: asyncio.Future[None]) -> None:
    """Its outcome is nobody's to report (the call that owned it was cancelled)."""
    if not task.cancelled():
        task.exception()


class StreamFailed(Exception):
    """The source broke mid-stream; `report` holds what ran before the break."""

    def __init__(self, cause: BaseException, report: RunReport) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.report = report


async def _aclose(source: object) -> None:
    close = getattr(source, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:
            pass
