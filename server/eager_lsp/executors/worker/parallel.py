"""Statements side by side on threads (the `parallel` gate), in the one namespace.

The parent decides what may overlap (core/parallel.py) and sends each statement with the
ids of the earlier statements of its run it must wait for (`after`) and whether it is
`exclusive` (a barrier). Here a statement starts on a thread once those have finished;
the main thread goes back to reading requests, so statements released later can start while
earlier ones still run (an `exec` request with `"parallel": true` returns at once, with an
"accepted" event; its "batch_done" comes when its last statement's result is committed).

Rules, and why:
- Threads are a pool, reused. Starting a thread per statement, and handing each statement
  from thread to thread, cost about a millisecond a statement (issue 16: 200 one-line
  statements took 0.4 s against 0.15 s in order). A statement that may start is queued
  (`_ready`); the thread that finishes a statement takes the next one itself. An idle
  thread is woken at once only when no thread is running a statement; otherwise a queued
  statement waits for a running one to come back for it, and only when it has not been
  taken for GROW_AFTER_S (a sleep, a socket, a long loop) does the grower wake an idle
  thread or start another. So short statements run one after another on one thread, even
  independent ones released together (waking a thread for each made them take turns for
  the GIL, a hand-off per statement), and waits still overlap.
- An exception raised in a thread to stop its statement (Abandoned, KeyboardInterrupt) may
  land after the statement ended; the thread lets it land and drops it (`_finished`) before
  it takes another statement.
- Compiling, registering the source in linecache and `__file__` happen on the main thread in
  request order, so `from __future__` flags and line numbers are as in a sequential run.
- Output is routed per thread: while statements run, `sys.stdout`/`sys.stderr`'s target is a
  `ThreadRouter` that sends each thread's writes to its own statement's writer. Threads that
  user code starts write to the idle stream (the fd-level sink). Fd-level output (C code,
  child processes) cannot be told apart: it goes to the statement that finishes next.
- The results are those of running in order. A statement the parent marks `speculative`
  only binds names (and prints): it starts once the statements named in its "after" have
  finished, whether or not the statements before it will succeed; the values its names had
  are kept. Every other statement (one that changes objects, does I/O, imports, ...) starts
  only once every earlier statement of its run is committed.
- Results are committed (sent) in document order: a statement's result is held until every
  earlier statement's is sent. Committing a failure (with stop_on_error; an interrupt
  always) or a skip stops the run there: every later statement is reported as skipped
  ("not run"), whatever it did. Speculative ones that ran are rolled back (their names get
  their old values back, latest first, once none of them still runs); running ones are
  abandoned (`Abandoned` raised in their thread); nothing else can have started. So the
  stop error is always the earliest failing line, and the namespace, output and effects
  are those of an in-order run. A speculative statement that fails before earlier ones have
  finished dooms what comes after it at once (nothing after it starts).
- Interrupt: SIGINT reaches only the main thread. The `Interrupts` hook then skips every
  statement not started and raises KeyboardInterrupt in each thread running user code
  (`PyThreadState_SetAsyncExc`; the earliest interrupted statement is the run's stop, later
  ones are rolled back as above). It lands at the next bytecode: a loop stops at once; a
  thread blocked in C (a long `time.sleep`, a socket read) only when that call returns, so
  the parent's grace period and kill (client.interrupt) still apply.
- Open pyplot figures are collected only after an `exclusive` statement (pyplot is global
  state; the parent makes anything using matplotlib a barrier).
"""

from __future__ import annotations

import ctypes  # imported before the workspace is on sys.path (isolation)
import io
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .capture import STREAM_CAP, CappedWriter, FdSink
from .errors import error_info
from .reprs import describe
from .rich import capture_figures
from .runner import result_message

if TYPE_CHECKING:
    from collections.abc import Callable

    from .runner import ChunkRunner, Interrupts

    Emit = Callable[[dict[str, Any]], None]
    EmitMany = Callable[[list[dict[str, Any]]], None]


class ThreadRouter(io.TextIOBase):
    """A StreamRouter target that sends each thread's writes to that thread's writer."""

    def __init__(self, idle: io.TextIOBase) -> None:
        super().__init__()
        self.idle = idle
        self.writers: dict[int, io.TextIOBase] = {}

    def write(self, s: str) -> int:
        return self.writers.get(threading.get_ident(), self.idle).write(s)

    def flush(self) -> None:
        pass


#: An entry's states. FINISHED: ran, its result held until every earlier statement of its
#: run is committed; SKIPPED: will be reported as not run (never ran, or rolled back).
PENDING, RUNNING, FINISHED, SKIPPED = "pending", "running", "finished", "skipped"
_MISSING = object()
#: A ready statement waits this long for a busy thread of the pool before another thread is
#: started for it: a statement that finishes sooner is followed on the same thread (no
#: thread start, no hand-off); one that blocks (a sleep, a socket) is overlapped.
GROW_AFTER_S = 0.002
#: The grower keeps checking every GROW_AFTER_S for this long after the last statement was
#: queued, so a stream of short requests wakes it once per GROW_AFTER_S, not once a request.
GROWER_LINGER_S = 0.02
#: Threads kept waiting for statements once they are done; more exit.
MAX_IDLE_THREADS = 8


class Abandoned(BaseException):
    """Raised in a speculative statement's thread once an earlier statement failed: its
    work would never have happened in order (it is rolled back and reported as not run)."""


class _Entry:
    __slots__ = (
        "after", "batch", "binds", "cancelled", "chunk", "compiled", "error", "exclusive",
        "id", "ready_at", "result", "run", "saved", "speculative", "state", "value",
    )  # fmt: skip

    def __init__(self, run: Any, batch: Any, chunk: dict[str, Any]) -> None:
        self.run = run
        self.batch = batch
        self.chunk = chunk
        self.id = int(chunk["id"])
        self.after = {int(i) for i in chunk.get("after") or ()}
        self.exclusive = bool(chunk.get("exclusive"))
        # May start before the statements before it are known to have succeeded: it only
        # binds names (rolled back if an earlier one fails). Otherwise it waits for every
        # earlier statement of its run to be committed (finished, and with stop_on_error
        # successfully).
        self.speculative = bool(chunk.get("speculative")) and not self.exclusive
        self.binds = [str(n) for n in chunk.get("names") or ()]
        self.compiled: Any = None
        self.error: dict[str, Any] | None = None
        self.state = PENDING
        self.result: dict[str, Any] | None = None
        self.saved: dict[str, Any] | None = None  # the bound names' values before it ran
        self.value: Any = _MISSING  # the shown value (what `_` gets)
        # raised in its thread before it runs (Abandoned, KeyboardInterrupt), or None
        self.cancelled: type[BaseException] | None = None
        self.ready_at = 0.0  # when it was handed to the pool


class _RunState:
    """One run's statements not committed yet (document order) and how it stopped."""

    __slots__ = ("done", "doomed", "queue", "shown", "stopped", "underscore", "withdrawn")

    def __init__(self, underscore: Any) -> None:
        self.queue: list[_Entry] = []
        self.done: set[int] = set()  # ids finished running (or skipped): for "after"
        self.doomed: int | None = None  # a statement failed: nothing after it may start
        self.stopped: int | None = None  # committed stop: everything after it is skipped
        self.withdrawn: int | None = None  # statements from this id on never begin (`withdraw`)
        self.shown: dict[int, Any] = {}  # id → shown value, of statements not rolled back
        self.underscore = underscore  # `_` before the run


class ParallelRunner:
    def __init__(
        self,
        executor: ChunkRunner,
        emit: Emit,
        interrupts: Interrupts,
        sinks: tuple[FdSink | None, FdSink | None] = (None, None),
        emit_many: EmitMany | None = None,
    ) -> None:
        self._executor = executor
        self._emit_many = emit_many or _one_by_one(emit)
        self._interrupts = interrupts
        self._sinks = sinks
        mutex = threading.Lock()
        self._lock = threading.Condition(mutex)  # wait_idle waits on it
        self._work = threading.Condition(mutex)  # idle pool threads wait on it
        self._watch = threading.Condition(mutex)  # the grower waits on it
        self._ready: deque[_Entry] = deque()  # started (RUNNING), not taken by a thread yet
        self._threads = 0  # pool threads alive
        self._idle = 0  # of those, waiting for a statement
        self._busy = 0  # of those, running a statement (they come back for the next one)
        self._taken_at = 0.0  # when a thread last took a ready statement
        self._queued_at = 0.0  # when the last statement was queued
        self._grower: threading.Thread | None = None
        self._grower_timed = False  # it is waiting to check a ready statement: no need to wake it
        # Statements not started: all of them (run, id) → entry, and the speculative ones in
        # document order (only those can start before they head their run's queue), so a
        # settle costs what changed, not the number of statements waiting.
        self._pending: dict[tuple[Any, int], _Entry] = {}
        self._speculative: list[_Entry] = []
        self._running: dict[tuple[Any, int], _Entry] = {}  # (run, id) → entry
        self._idents: dict[int, _Entry] = {}  # thread ident inside user code → its entry
        self._raised: set[int] = set()  # idents an exception was raised in (`_finished`)
        self._runs: dict[Any, _RunState] = {}
        self._batches: dict[Any, int] = {}  # batch → statements not committed yet
        self._routers: tuple[Any, Any] | None = None
        # Events are queued under the lock (`_post`) and written after it, all of one locked
        # section in one write (`_take_outbox`, `_send`): a write releases the GIL, and one
        # per event, with the main thread and a statement's thread both busy, was a GIL
        # hand-off per event. `_writing` is taken before the lock is released, so writes go
        # out in the order their locked sections ran (a result before its batch's end).
        self._outbox: list[dict[str, Any]] = []
        self._writing = threading.Lock()
        # run → first id withdrawn before the run's statements came (`withdraw`)
        self._withdrawn: dict[Any, int] = {}
        interrupts.elsewhere = self.interrupt_all

    # -- main thread ---------------------------------------------------------------------
    def submit(self, request: dict[str, Any]) -> None:
        """Take a parallel `exec` request; answers "accepted" (with whatever its settle
        committed, in one write) and returns at once."""
        run = request.get("run")
        batch = request.get("batch")
        stop_on_error = bool(request.get("stop_on_error", True))
        entries = []
        for chunk in request.get("chunks", []):
            entry = _Entry(run, batch, chunk)
            entry.chunk["_stop_on_error"] = stop_on_error
            self._prepare(entry)
            entries.append(entry)
        with self._lock:
            state = self._runs.get(run)
            namespace = self._executor.namespace
            if state is None:
                self._runs = {r: s for r, s in self._runs.items() if s.queue}
                state = self._runs[run] = _RunState(namespace.get("_", _MISSING))
            elif not state.queue:
                # Everything of the run so far is committed (and it may have run statements
                # in order since): a rollback restores `_` to what it is now at the latest.
                state.underscore, state.shown = namespace.get("_", _MISSING), {}
            withdrawn = self._withdrawn.pop(run, None)
            if withdrawn is not None:  # (the withdraw was read before this request)
                state.withdrawn = withdrawn
            for entry in entries:  # document order (no bisect key=: the worker runs on 3.8)
                at = len(state.queue)
                while at > 0 and state.queue[at - 1].id > entry.id:
                    at -= 1
                state.queue.insert(at, entry)
            self._batches[batch] = self._batches.get(batch, 0) + len(entries)
            for entry in entries:
                if (state.doomed is not None and entry.id > state.doomed) or (
                    state.withdrawn is not None and entry.id >= state.withdrawn
                ):
                    entry.state = SKIPPED  # after a failure (a later batch of a stopped run)
                    state.done.add(entry.id)
                    continue
                self._pending[(run, entry.id)] = entry
                if entry.speculative:
                    self._speculative.append(entry)
            self._speculative.sort(key=lambda e: e.id)
            self._settle(run)
            self._post({"ev": "accepted", "batch": batch})
            out = self._take_outbox()
        self._send(out)

    def withdraw(self, run: Any, first: int) -> None:
        """The run's statements from id `first` on that have not begun never do (from the
        request-reader thread): they are skipped, and the first of them stops the run when it
        is committed, as a failure would. A statement that has begun goes on (a review: it
        was abandoned halfway, its file half written)."""
        with self._lock:
            state = self._runs.get(run)
            if state is None or not state.queue:
                self._withdrawn[run] = first
                return
            self._withdraw_in(state, first)
            self._settle(run)
            out = self._take_outbox()
        self._send(out)

    def _withdraw_in(self, state: _RunState, first: int) -> None:
        state.withdrawn = first if state.withdrawn is None else min(state.withdrawn, first)
        self._skip_unbegun(state, first)  # (what has begun goes on)

    def _skip_unbegun(self, state: _RunState, first: int) -> list[_Entry]:
        """The run's statements from id `first` on that have not begun never do; returns
        those that have begun (on a thread)."""
        begun = []
        for entry in state.queue:
            if entry.id < first:
                continue
            if entry.state == PENDING:
                entry.state = SKIPPED
                state.done.add(entry.id)
                self._pending.pop((entry.run, entry.id), None)
            elif entry.state == RUNNING and entry in self._ready:  # not taken: never ran
                self._ready.remove(entry)
                self._unready(entry)
            elif entry.state == RUNNING:
                begun.append(entry)
        self._speculative = [e for e in self._speculative if e.state == PENDING]
        return begun

    def wait_idle(self) -> None:
        """Block until every statement has finished (before a sequential request)."""
        with self._lock:
            while self._pending or self._running or any(s.queue for s in self._runs.values()):
                self._lock.wait(0.5)

    def interrupt_all(self) -> bool:
        """The SIGINT hook: True when statements are running or waiting here. The handler
        runs on the main thread between any two bytecodes, maybe while `submit` holds the
        lock, so the work is done on a short-lived thread that waits for the lock."""
        if not self._pending and not self._running:
            return False
        thread = threading.Thread(target=self._interrupt, name="eager-lsp-interrupt", daemon=True)
        thread.start()
        return True

    def _interrupt(self) -> None:
        with self._lock:
            runs = {r for r, _ in self._pending} | {r for r, _ in self._running}
            for entry in self._pending.values():
                entry.state = SKIPPED
                self._runs[entry.run].done.add(entry.id)
            self._pending, self._speculative = {}, []
            for entry in self._ready:  # handed to the pool, not started: never ran
                self._unready(entry)
            self._ready.clear()
            for ident in list(self._idents):
                self._raise(ident, KeyboardInterrupt)
            for entry in self._running.values():  # taken by a thread, not in user code yet
                if entry not in self._idents.values() and entry.cancelled is None:
                    entry.cancelled = KeyboardInterrupt
            for run in runs:
                self._settle(run)
            out = self._take_outbox()
        self._send(out)

    def _prepare(self, entry: _Entry) -> None:
        executor = self._executor
        chunk = entry.chunk
        path = str(chunk.get("path") or "<eager-lsp>")
        first_line = max(1, int(chunk.get("first_line", 1)))
        code = str(chunk.get("code", ""))
        executor.register_source(path, first_line, code)
        executor.enter_document(path, chunk.get("argv"))
        try:
            entry.compiled = executor.compile_chunk(
                path, first_line, code, bool(chunk.get("trailing_expr"))
            )
        except (SyntaxError, ValueError, OverflowError, RecursionError) as exc:
            entry.error = error_info(exc, path, compiling=True)

    # -- under the lock ------------------------------------------------------------------
    def _settle(self, run: Any, keep: int = 0) -> None:
        """Everything that follows from a change: roll back, commit, start, finish
        (`keep`: the calling pool thread takes a ready statement itself)."""
        state = self._runs[run]
        self._rollback(state)
        self._commit(state)
        self._start_ready()
        for other in list(self._runs.values()):  # starting may skip statements of a stopped run
            self._commit(other)
        self._finish_batches()
        self._dispatch(keep)

    def _post(self, message: dict[str, Any]) -> None:
        self._outbox.append(message)

    def _take_outbox(self) -> list[dict[str, Any]] | None:
        """Under the lock, at the end of a locked section: its events, to `_send` once the
        lock is released; `_writing` is held from here to there (the order of writes)."""
        if not self._outbox:
            return None
        out, self._outbox = self._outbox, []
        self._writing.acquire()
        return out

    def _send(self, out: list[dict[str, Any]] | None) -> None:
        if out is not None:
            try:
                self._emit_many(out)
            finally:
                self._writing.release()

    def _take(self, entry: _Entry) -> _Entry:
        """A pool thread takes a ready statement (under the lock); its "started" goes out
        with the section's other events, before the statement runs."""
        self._taken_at = time.monotonic()
        self._post({"ev": "started", "id": entry.id, "batch": entry.batch, "t": self._taken_at})
        return entry

    def _doom(self, state: _RunState, at: int) -> None:
        """A statement failed (or was skipped): nothing after it may run. Statements after
        it not started are skipped; running speculative ones are abandoned."""
        if state.doomed is not None and state.doomed <= at:
            return
        state.doomed = at
        for entry in self._skip_unbegun(state, at + 1):
            if not entry.cancelled:
                entry.cancelled = Abandoned
                for ident, running in self._idents.items():
                    if running is entry:
                        self._raise(ident, Abandoned)

    def _rollback(self, state: _RunState) -> None:
        """Once a run is stopped and nothing after the stop still runs, undo the statements
        after it that ran (speculative ones: they only bound names), latest first."""
        if state.stopped is None:
            return
        later = [e for e in state.queue if e.id > state.stopped]
        if any(e.state == RUNNING for e in later):
            return
        namespace = self._executor.namespace
        for entry in reversed(later):
            if entry.state != FINISHED:
                continue
            for name, old in (entry.saved or {}).items():
                if old is _MISSING:
                    namespace.pop(name, None)
                else:
                    namespace[name] = old
            state.shown.pop(entry.id, None)
            entry.state = SKIPPED
        shown = [i for i in state.shown if i < state.stopped]
        if shown:
            namespace["_"] = state.shown[max(shown)]
        elif state.underscore is _MISSING:
            namespace.pop("_", None)
        else:
            namespace["_"] = state.underscore

    def _commit(self, state: _RunState) -> None:
        """Report finished statements in document order: a statement's result goes out once
        every statement before it is reported. The first failure (or skip) stops the run
        there; statements after it are skipped or rolled back, whatever they did."""
        while state.queue and state.queue[0].state in (FINISHED, SKIPPED):
            entry = state.queue[0]
            if entry.state == FINISHED and state.stopped is not None and entry.id > state.stopped:
                # It ran ahead of the stop: it leaves the queue once `_rollback` has undone it
                # (deferred while a later statement still runs), or its names stay bound.
                break
            state.queue.pop(0)
            if (
                entry.state == SKIPPED
                or entry.result is None
                or (state.stopped is not None and entry.id > state.stopped)
            ):
                self._post({"ev": "skipped", "id": entry.id, "batch": entry.batch})
                stop = True
            else:
                result = entry.result
                interrupted = result.pop("_interrupted", False)
                self._post(result)
                stop = not result["ok"] and (entry.chunk.get("_stop_on_error", True) or interrupted)
            self._batches[entry.batch] = self._batches.get(entry.batch, 1) - 1
            if stop and state.stopped is None:
                state.stopped = entry.id
                self._doom(state, entry.id)
                self._rollback(state)

    def _unready(self, entry: _Entry) -> None:
        """A statement handed to the pool but not taken by a thread: it never runs."""
        entry.state = SKIPPED
        self._runs[entry.run].done.add(entry.id)
        self._running.pop((entry.run, entry.id), None)

    def _start_ready(self) -> None:
        """Start what may start, in document order: a speculative statement once the
        statements in its "after" are done, any other once it heads its run's queue
        (everything before it committed)."""
        if not self._pending:
            return
        ready: list[_Entry] = []
        if self._speculative:
            still: list[_Entry] = []
            for entry in self._speculative:
                if entry.state != PENDING:
                    continue
                if entry.after <= self._runs[entry.run].done:
                    ready.append(entry)
                else:
                    still.append(entry)
            self._speculative = still
        for state in self._runs.values():
            head = state.queue[0] if state.queue else None
            if head is not None and head.state == PENDING and not head.speculative:
                ready.append(head)
        if len(ready) > 1:
            ready.sort(key=lambda e: e.id)
        for entry in ready:
            del self._pending[(entry.run, entry.id)]
            self._launch(entry)

    def _launch(self, entry: _Entry) -> None:
        if not self._running:
            self._route_on()
        entry.state = RUNNING
        if entry.speculative:
            namespace = self._executor.namespace
            entry.saved = {name: namespace.get(name, _MISSING) for name in entry.binds}
        self._running[(entry.run, entry.id)] = entry
        entry.ready_at = self._queued_at = time.monotonic()
        self._ready.append(entry)

    def _raise(self, ident: int, exc: type[BaseException]) -> None:
        self._raised.add(ident)
        _raise_in(ident, exc)

    # -- the pool ------------------------------------------------------------------------
    def _dispatch(self, keep: int = 0) -> None:
        """Hand ready statements to threads (`keep`: the calling pool thread takes one
        itself). When no thread runs a statement or is on its way to take one, an idle
        thread (or a new one) takes the first at once; the rest wait for a thread to come
        back for them, and the grower wakes or starts another when none is taken within
        GROW_AFTER_S."""
        waiting = len(self._ready) - keep
        if waiting <= 0:
            return
        if not keep and not self._busy and self._threads == self._idle:
            if self._idle:
                self._work.notify()
            else:
                self._start_thread()
            waiting -= 1
        if waiting > 0:
            if self._grower is None:
                self._grower = threading.Thread(
                    target=self._grow, name="eager-lsp-pool-grower", daemon=True
                )
                self._grower.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
                self._grower.start()
            if not self._grower_timed:
                self._watch.notify()

    def _start_thread(self) -> None:
        self._threads += 1
        thread = threading.Thread(target=self._pool_thread, name="eager-lsp-statement", daemon=True)
        thread.start()

    def _grow(self) -> None:
        """Wake an idle thread, or start one, when the oldest ready statement has not been
        taken for GROW_AFTER_S (the running threads are busy with statements that take
        longer)."""
        with self._lock:
            while True:
                if not self._ready:
                    if time.monotonic() - self._queued_at < GROWER_LINGER_S:
                        self._grower_timed = True  # more may come: no need to wake it
                        self._watch.wait(GROW_AFTER_S)
                    else:
                        self._grower_timed = False
                        self._watch.wait()
                    continue
                since = max(self._ready[0].ready_at, self._taken_at)
                late = time.monotonic() - since
                if late < GROW_AFTER_S:
                    self._grower_timed = True
                    self._watch.wait(GROW_AFTER_S - late)
                    continue
                self._taken_at = time.monotonic()  # the new thread's turn to take it
                if self._idle:
                    self._work.notify()
                else:
                    self._start_thread()

    def _pool_thread(self) -> None:
        ident = threading.get_ident()
        entry: _Entry | None = None
        while True:
            if entry is None:
                with self._lock:
                    while entry is None:
                        if self._ready:
                            entry = self._take(self._ready.popleft())
                            self._busy += 1
                        elif self._idle >= MAX_IDLE_THREADS:
                            self._threads -= 1
                            return
                        else:
                            self._idle += 1
                            self._work.wait()
                            self._idle -= 1
                    out = self._take_outbox()
                self._send(out)
            result = self._execute(entry)
            entry = self._finished(entry, result, ident)

    def _finish_batches(self) -> None:
        for batch, left in list(self._batches.items()):
            if left <= 0:
                del self._batches[batch]
                self._post({"ev": "batch_done", "batch": batch, "t": time.monotonic()})
        if not self._pending and not self._running:
            self._route_off()
            self._lock.notify_all()

    def _route_on(self) -> None:
        routers = self._executor.stream_routers()
        for router in routers:
            if not isinstance(router.target, ThreadRouter):
                router.target = ThreadRouter(router.idle)
        for sink in self._sinks:
            if sink is not None:
                sink.discard()  # whatever arrived while idle is nobody's output
        self._routers = routers

    def _route_off(self) -> None:
        if self._routers is not None:
            for router in self._routers:
                router.target = router.idle
            self._routers = None

    # -- a statement's thread ------------------------------------------------------------
    def _execute(self, entry: _Entry) -> dict[str, Any]:
        """Run one statement on this thread; never raises."""
        try:
            return self._run(entry)
        except BaseException as exc:  # an interrupt that landed in our own code
            return _failed(entry, error_info(exc, str(entry.chunk.get("path"))))

    def _finished(self, entry: _Entry, result: dict[str, Any], ident: int) -> _Entry | None:
        """Hold the result, settle, and take the next ready statement, if any, for this
        thread. An Abandoned or KeyboardInterrupt raised in this thread while its statement
        ran may land late, here: then this is done again; once this thread is out of
        `_idents` (exceptions are raised only in those, under the lock) one still on its way
        is made to land and dropped. (`PyThreadState_SetAsyncExc(id, NULL)` would clear it,
        but on CPython 3.11 it leaves every thread checking for one at every bytecode.)"""
        while True:
            try:
                with self._lock:
                    self._idents.pop(ident, None)
                    if ident in self._raised:
                        self._raised.discard(ident)
                        _land()
                    self._running.pop((entry.run, entry.id), None)
                    state = self._runs[entry.run]
                    entry.result = result
                    entry.state = FINISHED
                    state.done.add(entry.id)
                    if not result["ok"] and (
                        entry.chunk.get("_stop_on_error", True) or result.get("_interrupted")
                    ):
                        self._doom(state, entry.id)
                    self._settle(entry.run, keep=1)
                    taken = self._take(self._ready.popleft()) if self._ready else None
                    if taken is None:
                        self._busy -= 1
                    out = self._take_outbox()
            except (Abandoned, KeyboardInterrupt):
                continue
            # Out of `_idents` (and what was raised here has landed): nothing more lands here.
            self._send(out)
            return taken

    def _run(self, entry: _Entry) -> dict[str, Any]:
        executor = self._executor
        chunk = entry.chunk
        path = str(chunk.get("path") or "<eager-lsp>")
        ident = threading.get_ident()
        out, err = CappedWriter(STREAM_CAP, 1), CappedWriter(STREAM_CAP, 2)
        routers = executor.stream_routers()
        for router, writer in ((routers[0], out), (routers[1], err)):
            target = router.target
            if isinstance(target, ThreadRouter):
                target.writers[ident] = writer
        error = entry.error
        interrupted = False
        has_value, value = False, None
        namespace = executor.namespace
        t_start = time.monotonic()
        try:
            if entry.compiled is not None:
                body, expr = entry.compiled
                with self._lock:
                    if entry.cancelled is not None:
                        raise entry.cancelled
                    self._idents[ident] = entry
                try:
                    exec(body, namespace)
                    if expr is not None:
                        value = eval(expr, namespace)
                        has_value = True
                finally:
                    with self._lock:
                        self._idents.pop(ident, None)
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            error = error_info(exc, path)
        t_end = time.monotonic()
        for router in routers:
            target = router.target
            if isinstance(target, ThreadRouter):
                target.writers.pop(ident, None)
        executor.collect_fd_output(out, err)
        values: list[dict[str, str]] = []
        expr_value = None
        image_dir = chunk.get("image_dir") or None
        images = capture_figures(image_dir) if entry.exclusive else []
        if error is None:
            if has_value and value is not None:
                with self._lock:  # the latest statement in document order wins, as in order
                    shown = self._runs[entry.run].shown
                    shown[entry.id] = value
                    namespace["_"] = shown[max(shown)]
                expr_value = describe("", value)
            values = executor.describe_names(chunk.get("names") or [])
            images += executor.png_reprs(chunk.get("names") or [], value, image_dir, images)
        message = result_message(
            entry.id,
            error,
            values,
            expr_value,
            out.getvalue(),
            err.getvalue(),
            images,
            t_start,
            t_end,
            interrupted,
        )
        message["batch"] = entry.batch
        return message


def _one_by_one(emit: Emit) -> EmitMany:
    def emit_many(messages: list[dict[str, Any]]) -> None:
        for message in messages:
            emit(message)

    return emit_many


def _raise_in(ident: int, exc: type[BaseException]) -> None:
    """Raise `exc` in thread `ident` at its next bytecode."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc))


def _land() -> None:
    """Let an exception raised in this thread by `_raise_in` land (it does at the next
    backward jump or call) and drop it."""
    try:
        for _ in range(100):
            _nothing()
    except (Abandoned, KeyboardInterrupt):
        pass


def _nothing() -> None:
    pass


def _failed(entry: _Entry, error: dict[str, Any] | None) -> dict[str, Any]:
    now = time.monotonic()
    error = error or {
        "type": "InternalError",
        "message": "",
        "line": None,
        "traceback": "",
        "frames": [],
    }
    message = result_message(
        entry.id, error, [], None, "", "", [], now, now, error.get("type") == "KeyboardInterrupt"
    )
    message["batch"] = entry.batch
    return message
