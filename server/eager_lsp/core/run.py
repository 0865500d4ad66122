"""One stream of text through detector → gate → worker, with dynamic batching.

While the interpreter is busy, admitted chunks queue; when it frees up, everything queued goes
in one round trip (Eager's dynamic batching). Results still come back per chunk, as events.
The first failing chunk stops later chunks (early error interruption) unless the interpreter's
config says to keep going, and `stop_requested` tells the stream's consumer to stop the source.

A run that ended at an interrupt someone asked for (`Interpreter.interrupt` while it ran: the
user's interrupt, a stop, a restart) says so (`RunReport.interrupted`): the edges report it as
such, not as the code's error. Only asking tells them apart: a KeyboardInterrupt the code raised
by itself, or an interpreter that crashed on its own, is the code's error. When the interrupt
did not land and the interpreter was killed (or a second Ctrl-C killed it), the statement it
cut short fails with a `LostOnRequest` (`RunReport.restarted`): still `InterpreterLost` by
name, but the user ended it, so no edge offers to repair it or calls the run an error.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from eager_lsp.core.config import InterpreterConfig
from eager_lsp.core.detector import BoundaryDetector
from eager_lsp.core.executor import (
    ChunkRequest,
    Executor,
    ExecutorEvent,
    ExecutorLost,
    PlannedChunkRequest,
)
from eager_lsp.core.gate import Gate
from eager_lsp.core.ledger import INTERRUPTED, Ledger, status_of
from eager_lsp.core.parallel import Plan, Planner
from eager_lsp.core.results import error_from_wire, lost_result, result_from_wire, skipped_result
from eager_lsp.core.types import (
    Chunk,
    ChunkOutput,
    ChunkResult,
    Dispatch,
    Done,
    EndOfStream,
    ErrorInfo,
    Event,
    ExecEnd,
    ExecStart,
    GateHeld,
    GateMode,
    ParallelUnavailable,
    Piece,
    Release,
    ResultReady,
    StopRequested,
    SyntaxErrorFound,
    SyntaxIssue,
    WorkerLost,
    failure_text,
)
from eager_lsp.limits import HeadAndEnd

log = logging.getLogger(__name__)

Listener = Callable[[Event], None]
_RUN_IDS = itertools.count(1)
#: Why a `parallel` run went one statement at a time (the backend has no execute_parallel).
PARALLEL_UNAVAILABLE = "parallel: this backend runs statements one at a time (sequentially)"


class RunHost(Protocol):
    """What a run needs from the interpreter it runs in (core/interpreter.py's Interpreter)."""

    @property
    def config(self) -> InterpreterConfig: ...

    @property
    def python_version(self) -> tuple[int, int] | None: ...

    def chunk_request(self, chunk: Chunk) -> ChunkRequest: ...

    async def executor(self) -> Executor: ...

    async def executor_lost(self, reason: str, executor: Executor | None = None) -> None: ...

    async def interrupt(self) -> str: ...

    @property
    def ledger(self) -> Ledger: ...  # what ran in its namespace: every result goes there


@dataclass(frozen=True)
class LostOnRequest(ErrorInfo):
    """The error of a statement whose interpreter was killed while an interrupt someone asked
    for was pending (`Interpreter.interrupt` while its run ran: an interrupt the code ignored
    past the grace period, a stop or a restart that had to kill, a second Ctrl-C). Named
    `InterpreterLost` as any loss is (the ledger, `--json` and the clients read the type), but
    the user ended it: no "Fix with AI", no error status, no warning that the interpreter
    stopped (the user's own command says so)."""


def ended_by_user(result: ChunkResult | None) -> bool:
    """`result` did not fail: it was stopped. Its KeyboardInterrupt (an interrupted statement
    is not wrong, and a model asked to repair it can only guess), or its interpreter killed
    on request (`LostOnRequest`)."""
    error = result.error if result is not None else None
    return error is not None and (
        error.type == "KeyboardInterrupt" or isinstance(error, LostOnRequest)
    )


@dataclass
class RunReport:
    """Everything a run produced, with its timeline; times are monotonic seconds."""

    started_at: float
    first_piece_at: float | None
    last_piece_at: float | None
    end_at: float | None
    done_at: float
    chunks: list[Chunk]
    results: list[ChunkResult]
    syntax_error: SyntaxIssue | None
    stopped_early: bool
    stop_reason: str | None
    gate_fallback: str | None
    events: list[Event] = field(default_factory=list)
    parallel_note: str | None = None  # gate parallel ran one statement at a time: why
    interrupt_asked: bool = False  # an interrupt was sent while it ran (Interpreter.interrupt)

    @property
    def failed(self) -> ChunkResult | None:
        return next((r for r in self.results if not r.ok and not r.skipped), None)

    @property
    def interrupted(self) -> bool:
        """It ended at the interrupt someone asked for: its first failure is a
        KeyboardInterrupt, or the interpreter killed when it ignored one (the ledger's
        `interrupted`), and an interrupt was asked for while it ran."""
        failed = self.failed
        return self.interrupt_asked and failed is not None and status_of(failed) == INTERRUPTED

    @property
    def restarted(self) -> bool:
        """It ended at the interrupt someone asked for, and the interpreter was killed for it
        (`LostOnRequest`): its namespace is gone and a fresh interpreter replaces it."""
        failed = self.failed
        return self.interrupted and failed is not None and isinstance(failed.error, LostOnRequest)

    @property
    def exec_total(self) -> float:
        return sum(r.exec_end - r.exec_start for r in self.results if not r.skipped)

    @property
    def serial_estimate(self) -> float | None:
        """Seconds from the start had we generated everything first and run it afterwards
        in a warm interpreter: the last token's time plus every chunk's execution time."""
        if self.last_piece_at is None:
            return None
        return self.last_piece_at - self.started_at + self.exec_total

    @property
    def saved(self) -> float | None:
        serial = self.serial_estimate
        return None if serial is None else serial - (self.done_at - self.started_at)

    def rel(self, t: float | None) -> float | None:
        return None if t is None else round(t - self.started_at, 6)

    def to_json(self) -> dict[str, Any]:
        """The summary object printed by `eager-lsp run --json` and `generate --json`."""
        by_index = {r.chunk.index: r for r in self.results}
        chunks = []
        for c in self.chunks:
            r = by_index.get(c.index)
            chunks.append(
                {
                    "start_line": c.start_line,
                    "end_line": c.end_line,
                    "released_s": self.rel(c.released_at),
                    "exec_start_s": self.rel(r.exec_start) if r and not r.skipped else None,
                    "exec_end_s": self.rel(r.exec_end) if r and not r.skipped else None,
                    "ok": bool(r and r.ok),
                    "skipped": bool(r is None or r.skipped),
                    **result_fields(r),
                }
            )
        syntax = self.syntax_error
        return {
            "first_token_s": self.rel(self.first_piece_at),
            "last_token_s": self.rel(self.last_piece_at),
            "done_s": self.rel(self.done_at),
            "exec_total_s": round(self.exec_total, 6),
            "serial_estimate_s": _round(self.serial_estimate),
            "saved_s": _round(self.saved),
            "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "gate_fallback": self.gate_fallback,
            "parallel_note": self.parallel_note,
            "syntax_error": None
            if syntax is None
            else {"line": syntax.line, "column": syntax.column, "message": syntax.message},
            "chunks": chunks,
        }


def result_fields(r: ChunkResult | None) -> dict[str, Any]:
    """What a statement's result says, for the JSON of `run`/`generate --json` and of `watch
    --json` alike (run's had only the error text)."""
    err = r.error if r is not None else None
    return {
        "error": _error_text(r),
        "error_line": None if err is None else err.line,
        "traceback": None if err is None else err.traceback,
        "values": {} if r is None else {v.name: v.summary for v in r.values},
        "expr": None if r is None or r.expr is None else r.expr.summary,
        "stdout": "" if r is None else r.stdout,
        "stderr": "" if r is None else r.stderr,
    }


def _with_plan(
    request: ChunkRequest, plan: Plan, sent: dict[int, object], runner: object
) -> PlannedChunkRequest:
    """The wire form for the parallel runner: what to wait for, and whether it is a barrier.
    `sent`: the statements this run sent to a parallel runner, and to which. Only those sent
    to this `runner` are waited for: the others ran in order, and had finished before
    anything after them was sent, or went to an interpreter that was lost since (this one
    never saw them: waiting for them would never end; they are reported lost)."""
    return {
        **request,
        "after": [i for i in plan.after if sent.get(i) is runner],
        "exclusive": plan.exclusive,
        "speculative": plan.speculative,
    }


def _calls_nothing(chunk: Chunk) -> bool:
    """A simple statement without a call (`x = a * 2`, `d[k] = v`): it cannot wait."""
    facts = chunk.facts
    return chunk.checked and facts is not None and facts.kind == "simple" and not facts.call_sites


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _error_text(r: ChunkResult | None) -> str | None:
    return failure_text(r)


class Run:
    """Feed it pieces; it releases, gates and executes chunks in the background."""

    def __init__(
        self,
        interpreter: RunHost,
        *,
        first_line: int = 1,
        listener: Listener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interpreter = interpreter
        self._clock = clock
        self._listener = listener
        # What the listener raised (`_emit`): the run stopped; run_stream raises it.
        self.listener_failure: BaseException | None = None
        # The parallel gate: batches go out without waiting for earlier ones; the worker
        # starts each statement once the statements it depends on are done (core/parallel.py).
        parallel = interpreter.config.gate.mode is GateMode.PARALLEL
        self._detector = BoundaryDetector(
            first_line=first_line,
            clock=clock,
            version=interpreter.python_version,
            keep_trees=parallel,  # the planner reads the tree the detector parsed
        )
        self._gate = Gate(interpreter.config.gate)
        self._queue: list[Chunk] = []
        self._wake = asyncio.Event()
        self._ended = False
        self._in_flight = 0
        self._skip_rest = False
        # Chunks from this index on never run (`withdraw`): their text was edited.
        self._withdrawn_from: int | None = None
        self._executor_now: Executor | None = None  # the executor a batch is out to
        self._planner = Planner() if parallel else None
        self._plans: dict[int, Plan] = {}
        self._unplanned: deque[Chunk] = deque()  # released, not planned yet (release order)
        # statements sent to a parallel runner → that runner (the executor's)
        self._sent_parallel: dict[int, object] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._token = next(_RUN_IDS)
        self._lost: set[int] = set()  # executors whose loss this run reported (by id)
        self.parallel_note: str | None = None
        self.stop_requested = asyncio.Event()
        self.stop_reason: str | None = None
        # Set by Interpreter.interrupt before the signal goes: its result may come first.
        self.interrupt_asked = False
        self.started_at = clock()
        self.first_piece_at: float | None = None
        self.last_piece_at: float | None = None
        self.end_at: float | None = None
        self.chunks: list[Chunk] = []
        self._log = interpreter.ledger.open_run()  # the ledger writes it; `results` reads it
        self.events: list[Event] = []
        self.syntax_error: SyntaxIssue | None = None
        self._pump = asyncio.get_running_loop().create_task(self._pump_loop())

    @property
    def results(self) -> dict[int, ChunkResult]:
        """This run's results by chunk index: a view of what it recorded in the ledger."""
        return self._log.results

    # -- input side ----------------------------------------------------------------------
    @property
    def offset(self) -> int:
        return self._detector.offset

    @property
    def done(self) -> bool:
        """All results are in (or the run was abandoned)."""
        return self._pump.done()

    @property
    def stopped(self) -> bool:
        return self.stop_requested.is_set()

    def feed(self, piece: str) -> list[Chunk]:
        """Take one piece of text; returns the chunks it released."""
        if self._ended:
            raise RuntimeError("feed() after end()")
        now = self._clock()
        if self.first_piece_at is None:
            self.first_piece_at = now
        self.last_piece_at = now
        self._emit(Piece(now, offset=self._detector.offset, size=len(piece)))
        if self.stopped:
            return []
        released = self._detector.feed(piece)
        self._accept(released)
        return released

    def end(self, *, flush_tail: bool = True) -> list[Chunk]:
        """End of stream. `flush_tail=False` (a broken or stopped stream) leaves the
        unfinished last statement unexecuted instead of treating it as complete."""
        if self._ended:
            return []
        self.end_at = self._clock()
        released: list[Chunk] = []
        if flush_tail and not self._skip_rest:
            released = self._detector.end()
            self._accept(released)
        self._enqueue(self._gate.flush())
        whole = flush_tail and not self._skip_rest
        self._emit(EndOfStream(self.end_at, offset=self._detector.offset, whole=whole))
        self._ended = True
        self._wake.set()
        return released

    def request_stop(self, reason: str, *, skip_rest: bool = True) -> None:
        """Ask the source to stop (idempotent). With `skip_rest`, nothing not yet run runs;
        without it (a syntax error), what was complete before the stop still runs."""
        if skip_rest and not self._skip_rest:
            self._skip_rest = True
            queued, self._queue = self._queue, []
            for chunk in queued:
                self._record(skipped_result(chunk))
        if self.stopped:
            return
        self.stop_reason = reason
        self.stop_requested.set()
        self._emit(StopRequested(self._clock(), reason=reason))

    def withdraw(self, index: int, reason: str) -> bool:
        """Chunk `index` and every chunk after it never run, unless they have begun: their
        text was edited, or deleted, before they ran (the user no longer asks for that
        code). What is queued here is skipped at once; the executor skips what it holds of
        them (`Executor.withdraw`: a Jupyter kernel cannot, it runs what it was sent); the
        statements before go on, a running one is not interrupted; and the run stops there
        as at a syntax error (`reason`): nothing released later runs. False: nothing more
        was withdrawn (the run is over, or it was withdrawn from there or earlier)."""
        if self.done or (self._withdrawn_from is not None and self._withdrawn_from <= index):
            return False
        self._withdrawn_from = index
        gone = [c for c in self._queue if c.index >= index]
        self._queue = [c for c in self._queue if c.index < index]
        for chunk in gone:
            self._record(skipped_result(chunk))
        if self._executor_now is not None:
            self._executor_now.withdraw(index)
        self.request_stop(reason, skip_rest=False)
        return True

    def _withdrawn(self, chunk: Chunk) -> bool:
        return self._withdrawn_from is not None and chunk.index >= self._withdrawn_from

    async def cancel(self) -> None:
        """The user stopped it: no more chunks run, a running one is interrupted."""
        self.request_stop("cancelled")
        if self._in_flight:
            await self._interpreter.interrupt()
        self.end(flush_tail=False)

    async def wait(self) -> RunReport:
        """The report once the run has ended; what its listener raised (`_emit`), if it
        did, is raised instead."""
        await asyncio.shield(self._pump)
        if self.listener_failure is not None:
            raise self.listener_failure
        return self.report()

    def report(self) -> RunReport:
        done = [e.t for e in self.events if isinstance(e, Done)]
        return RunReport(
            started_at=self.started_at,
            first_piece_at=self.first_piece_at,
            last_piece_at=self.last_piece_at,
            end_at=self.end_at,
            done_at=done[-1] if done else self._clock(),
            chunks=list(self.chunks),
            results=[self.results[c.index] for c in self.chunks if c.index in self.results],
            syntax_error=self.syntax_error,
            stopped_early=self.stopped,
            stop_reason=self.stop_reason,
            gate_fallback=self._gate.fallback_reason,
            parallel_note=self.parallel_note,
            events=list(self.events),
            interrupt_asked=self.interrupt_asked,
        )

    # -- internals -------------------------------------------------------------------------
    def _accept(self, released: list[Chunk]) -> None:
        for chunk in released:
            self.chunks.append(chunk)
            held = self._gate.fallen_back
            ready = self._gate.admit(chunk)
            if self._gate.fallen_back and not held:  # (before its Release: a status sent
                # for the Release already says it)
                why = self._gate.held_because or "may act outside the interpreter"
                self._emit(GateHeld(self._clock(), line=chunk.start_line, reason=why))
            self._emit(Release(chunk.released_at, chunk=chunk))
            self._enqueue(ready)
        issue = self._detector.error
        if issue is not None and self.syntax_error is None:
            self.syntax_error = issue
            self._emit(SyntaxErrorFound(self._clock(), issue=issue))
            if self._interpreter.config.stop_on_error:
                self.request_stop(f"{issue.kind} at line {issue.line}", skip_rest=False)

    def _enqueue(self, ready: list[Chunk]) -> None:
        if not ready:
            return
        if self._skip_rest or self._withdrawn_from is not None:
            for chunk in ready:
                if self._skip_rest or self._withdrawn(chunk):
                    self._record(skipped_result(chunk))
            ready = [c for c in ready if not self._skip_rest and not self._withdrawn(c)]
            if not ready:
                return
        self._queue.extend(ready)
        if self._planner is not None:
            self._unplanned.extend(ready)
            for chunk in ready:
                if _calls_nothing(chunk):
                    # Planned late if ever (`_in_order`): its tree is not kept meanwhile
                    # (hundreds of kept trees slowed the collector); parsing one again costs
                    # a few microseconds.
                    self._detector.take_tree(chunk.index)
        self._wake.set()

    async def _pump_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                if self._planner is not None and await self._parallel_ready():
                    computing = self._in_order(batch)
                    if computing:
                        # Nothing runs on a thread, and these statements only compute:
                        # they go in order, as with the gate `eager` (on threads they
                        # would overlap nothing and pay a hand-off each). The rest waits
                        # for them, in the queue, so a failure skips it.
                        self._queue = batch[len(computing) :] + self._queue
                        await self._execute(computing)
                        continue
                    # The next batch goes once the worker has taken this one: statements
                    # released meanwhile go together (one request, not one each), and no
                    # statement waits longer than that round trip.
                    accepted = asyncio.get_running_loop().create_future()
                    self._tasks.append(
                        asyncio.ensure_future(self._execute(batch, accepted=accepted))
                    )
                    await accepted
                else:
                    await self._execute(batch)
            if self._ended and not self._queue:
                break
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._emit(Done(self._clock()))

    def _plan_through(self, chunk: Chunk) -> Plan:
        """Plan the statements released up to `chunk`, in release order (the planner learns
        each one's effects: functions, aliases, what it writes)."""
        assert self._planner is not None
        while chunk.index not in self._plans:
            todo = self._unplanned.popleft()
            tree = self._detector.take_tree(todo.index)
            self._plans[todo.index] = self._planner.plan(todo, tree)
        return self._plans[chunk.index]

    def _in_order(self, batch: list[Chunk]) -> list[Chunk]:
        """The gate `parallel`: the head of `batch` that runs in order, as with `eager`;
        the rest is planned for the parallel runner.

        Statements that do not wait (no `Plan.waits`) go in order while nothing of this run
        is on a thread: holding the GIL, they would overlap nothing on a thread and pay a
        hand-off each (issue 16: never more than 5 % slower than `eager` on CPU-bound
        scripts). A statement with no call at all (`x = a * 2`) is not even planned now: its
        planning waits until a later statement needs the planner (so a run of them costs
        what it costs with `eager`). Running in order is always correct; what decides is
        only whether overlap is possible, so a call-free statement that reads a generator
        (which might sleep) costs overlap at worst."""
        head = 0
        if not self._in_flight:  # no batch of this run is in the parallel runner
            for chunk in batch:
                if not _calls_nothing(chunk) and self._plan_through(chunk).waits:
                    break
                head += 1
        if head < len(batch):
            self._plan_through(batch[-1])
        return batch[:head]

    async def _parallel_ready(self) -> bool:
        """The executor can run statements side by side; if not, say so once."""
        try:
            worker = await self._interpreter.executor()
        except Exception:
            return False  # _execute reports the loss
        if worker.parallel is not None:
            return True
        if self.parallel_note is None:
            self.parallel_note = PARALLEL_UNAVAILABLE
            self._emit(ParallelUnavailable(self._clock(), reason=PARALLEL_UNAVAILABLE))
        return False

    async def _execute(
        self, batch: list[Chunk], *, accepted: asyncio.Future[None] | None = None
    ) -> None:
        """Run one batch; `accepted` (parallel: the worker runs it on threads) is set once
        the worker has taken it, or once this ends."""
        parallel = accepted is not None
        interpreter = self._interpreter
        pending = {c.index: c for c in batch}
        dispatched = self._clock()
        self._emit(Dispatch(dispatched, chunks=[c.index for c in batch], side_by_side=parallel))
        started: dict[int, float] = {}
        # what each running statement printed, from its output events (its head and end: past
        # the worker's cap they go on for as long as it prints): a lost interpreter's
        # statement keeps it in its result
        printed: dict[int, tuple[HeadAndEnd, HeadAndEnd]] = {}

        def on_event(msg: ExecutorEvent) -> None:
            chunk = pending.get(int(msg.get("id", -1)))
            if chunk is None:
                return
            if msg["ev"] == "started":
                started[chunk.index] = float(msg.get("t", self._clock()))
                self._emit(ExecStart(started[chunk.index], chunk=chunk.index))
            elif msg["ev"] == "output":
                stdout, stderr = str(msg.get("stdout", "")), str(msg.get("stderr", ""))
                out, err = printed.setdefault(chunk.index, (HeadAndEnd(), HeadAndEnd()))
                out.add(stdout)
                err.add(stderr)
                self._emit(ChunkOutput(self._clock(), chunk, stdout, stderr), keep=False)
            elif msg["ev"] == "result":
                printed.pop(chunk.index, None)
                result = result_from_wire(chunk, msg, dispatched, self._clock())
                self._emit(ExecEnd(result.exec_end, chunk=chunk.index))
                pending.pop(chunk.index, None)
                self._record(result)
                if not result.ok and interpreter.config.stop_on_error:
                    line = result.error.line if result.error else None
                    self.request_stop(f"{_error_text(result)} at line {line}")
            elif msg["ev"] == "skipped":
                pending.pop(chunk.index, None)
                self._record(skipped_result(chunk, dispatched))

        requests = [interpreter.chunk_request(c) for c in batch]
        self._in_flight += 1
        worker: Executor | None = None
        try:
            worker = await interpreter.executor()
            if self._withdrawn_from is not None:  # meanwhile (from here to the send, no wait)
                for chunk in [c for c in batch if self._withdrawn(c)]:
                    pending.pop(chunk.index, None)
                    self._record(skipped_result(chunk, dispatched))
                on = [i for i, c in enumerate(batch) if not self._withdrawn(c)]
                batch, requests = [batch[i] for i in on], [requests[i] for i in on]
                if not batch:
                    return
            self._executor_now = worker
            side_by_side = worker.parallel if parallel else None
            if side_by_side is not None:
                self._sent_parallel.update((c.index, side_by_side) for c in batch)
                wire = [
                    _with_plan(r, self._plans[c.index], self._sent_parallel, side_by_side)
                    for r, c in zip(requests, batch, strict=True)
                ]
                await side_by_side.execute_parallel(
                    wire,
                    run=self._token,
                    stop_on_error=interpreter.config.stop_on_error,
                    on_event=on_event,
                    accepted=accepted,
                )
            else:
                await worker.execute(
                    requests, stop_on_error=interpreter.config.stop_on_error, on_event=on_event
                )
        except Exception as exc:  # the interpreter died, was killed, or never started
            reason = exc.reason if isinstance(exc, ExecutorLost) else f"{type(exc).__name__}: {exc}"
            # Parallel batches in flight all see the same loss: only the first reports it (a
            # second executor_lost could drop the replacement), and only statements that had
            # started were lost; the others never ran.
            already = worker is not None and id(worker) in self._lost
            if worker is not None:
                self._lost.add(id(worker))
            if not already:
                # (the loss is the interpreter's to record once: a kill it did, an interrupt's
                # or a second Ctrl-C's, recorded it already, and a replacement stays)
                await interpreter.executor_lost(reason, worker)
                self._emit(WorkerLost(self._clock(), reason=reason, state_lost=True))
            first = not already
            for chunk in batch:
                if chunk.index not in pending:
                    continue
                if (parallel and chunk.index in started) or (first and not parallel):
                    t0 = started.get(chunk.index, dispatched)
                    error = self._lost_error(reason)
                    kept = printed.get(chunk.index)
                    output = (kept[0].text(), kept[1].text()) if kept else ("", "")
                    self._record(lost_result(chunk, error, dispatched, t0, self._clock(), output))
                    first = False
                elif parallel and first and not any(i in started for i in pending):
                    t0 = dispatched  # nothing of it started: say why on its first statement
                    error = self._lost_error(reason)
                    self._record(lost_result(chunk, error, dispatched, t0, self._clock()))
                    first = False
                else:
                    self._record(skipped_result(chunk, dispatched))
            if interpreter.config.stop_on_error:
                self.request_stop(f"interpreter lost: {reason}")
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._executor_now = None
            if accepted is not None and not accepted.done():
                accepted.set_result(None)

    def _lost_error(self, reason: str) -> ErrorInfo:
        """The error of a statement the interpreter's loss cut short: a `LostOnRequest` when
        an interrupt was asked for while this run ran (the user ended it)."""
        error = error_from_wire(None, reason)
        if not self.interrupt_asked:
            return error
        return LostOnRequest(**{f.name: getattr(error, f.name) for f in fields(error)})

    def _record(self, result: ChunkResult) -> None:
        rec = self._interpreter.ledger.record(result, self._log)
        if rec is None:
            return  # this run already has a result for that chunk
        self._emit(ResultReady(result.result_at or self._clock(), result=result, sid=rec.sid))

    def _emit(self, event: Event, *, keep: bool = True) -> None:
        """Record `event` (unless not `keep`: ChunkOutput says why) and tell the listener.
        What the listener raises never reaches the pipeline: raised into an executor's read it
        was taken for the interpreter dying (which restarted it, its state gone), and raised
        from a dispatch, a feed or a parallel batch it left the run hanging or half-finished.
        The first exception detaches the listener and stops the run as any stop does; `wait`
        raises it."""
        if keep:
            self.events.append(event)
        listener = self._listener
        if listener is None:
            return
        try:
            listener(event)
        except Exception as exc:
            self._listener = None
            self.listener_failure = exc
            log.error("a run's listener raised; the run stops", exc_info=exc)
            self.request_stop(f"internal error: {type(exc).__name__}: {exc}")
