"""Statements side by side on threads (the `parallel` gate), in the one namespace.

The parent decides what may overlap (core/parallel.py) and sends each statement with the
ids of the earlier statements of its run it must wait for (`after`) and whether it is
`exclusive` (a barrier). Here a statement starts on its own thread once those have
finished; the main thread goes back to reading requests, so statements released later can
start while earlier ones still run (an `exec` request with `"parallel": true` returns at
once; its "batch_done" comes when its last statement is done).

Rules, and why:
- Compiling, registering the source in linecache and `__file__` happen on the main thread in
  request order, so `from __future__` flags and line numbers are as in a sequential run.
- Output is routed per thread: while statements run, `sys.stdout`/`sys.stderr`'s target is a
  `ThreadRouter` that sends each thread's writes to its own statement's writer. Threads that
  user code starts write to the idle stream (the fd-level sink). Fd-level output (C code,
  child processes) cannot be told apart: it goes to the statement that finishes next.
- Errors stop what would not have run: with stop_on_error, a failing statement skips the
  statements after it (by index) that have not started; statements already running finish.
  The run's id ("run") keeps a later batch of a stopped run from starting.
- Interrupt: SIGINT reaches only the main thread. The `Interrupts` hook then skips every
  statement not started and raises KeyboardInterrupt in each thread running user code
  (`PyThreadState_SetAsyncExc`). It lands at the next bytecode: a loop stops at once; a
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


class _Entry:
    __slots__ = ("after", "batch", "chunk", "compiled", "error", "exclusive", "id", "run")

    def __init__(self, run: Any, batch: Any, chunk: dict[str, Any]) -> None:
        self.run = run
        self.batch = batch
        self.chunk = chunk
        self.id = int(chunk["id"])
        self.after = {int(i) for i in chunk.get("after") or ()}
        self.exclusive = bool(chunk.get("exclusive"))
        self.compiled: Any = None
        self.error: dict[str, Any] | None = None


class ParallelRunner:
    def __init__(
        self,
        executor: ChunkRunner,
        emit: Emit,
        interrupts: Interrupts,
        sinks: tuple[FdSink | None, FdSink | None] = (None, None),
    ) -> None:
        self._executor = executor
        self._emit = emit
        self._interrupts = interrupts
        self._sinks = sinks
        self._lock = threading.Condition(threading.Lock())
        self._pending: list[_Entry] = []
        self._running: dict[tuple[Any, int], int] = {}  # (run, id) → thread ident
        self._in_user: set[int] = set()  # thread idents inside user code now
        self._done: dict[Any, set[int]] = {}  # run → ids finished (ran or skipped)
        self._stopped: dict[Any, int] = {}  # run → index of the failing statement
        self._batches: dict[Any, int] = {}  # batch → statements not finished yet
        self._shown: dict[Any, int] = {}  # run → id of the statement whose value `_` holds
        self._routers: tuple[Any, Any] | None = None
        interrupts.elsewhere = self.interrupt_all

    # -- main thread ---------------------------------------------------------------------
    def submit(self, request: dict[str, Any]) -> None:
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
            if run not in self._done:
                self._done = {r: ids for r, ids in self._done.items() if self._active(r)}
                self._shown = {r: i for r, i in self._shown.items() if r in self._done}
                self._done[run] = set()
            self._batches[batch] = len(entries)
            self._pending.extend(entries)
            self._start_ready()
            self._finish_batches()

    def wait_idle(self) -> None:
        """Block until every statement has finished (before a sequential request)."""
        with self._lock:
            while self._pending or self._running:
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
            for entry in self._pending:
                self._emit({"ev": "skipped", "id": entry.id, "batch": entry.batch})
                self._finished(entry)
            self._pending = []
            for ident in self._in_user:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt)
                )
            self._finish_batches()

    def _prepare(self, entry: _Entry) -> None:
        executor = self._executor
        chunk = entry.chunk
        path = str(chunk.get("path") or "<eager-lsp>")
        first_line = max(1, int(chunk.get("first_line", 1)))
        code = str(chunk.get("code", ""))
        executor._register_source(path, first_line, code)
        executor._enter_document(path)
        try:
            entry.compiled = executor._compile(
                path, first_line, code, bool(chunk.get("trailing_expr"))
            )
        except (SyntaxError, ValueError, OverflowError, RecursionError) as exc:
            entry.error = error_info(exc, path, compiling=True)

    # -- under the lock ------------------------------------------------------------------
    def _active(self, run: Any) -> bool:
        return any(e.run == run for e in self._pending) or any(r == run for r, _ in self._running)

    def _start_ready(self) -> None:
        still: list[_Entry] = []
        for entry in self._pending:
            failed_at = self._stopped.get(entry.run)
            if failed_at is not None and entry.id > failed_at:
                self._emit({"ev": "skipped", "id": entry.id, "batch": entry.batch})
                self._finished(entry)
            elif entry.after <= self._done.get(entry.run, set()):
                self._launch(entry)
            else:
                still.append(entry)
        if len(still) != len(self._pending):
            self._pending = still
            self._start_ready()  # a skip may have freed others

    def _launch(self, entry: _Entry) -> None:
        if not self._running:
            self._route_on()
        thread = threading.Thread(
            target=self._thread, args=(entry,), name=f"eager-lsp-statement-{entry.id}", daemon=True
        )
        self._running[(entry.run, entry.id)] = 0
        thread.start()
        self._running[(entry.run, entry.id)] = thread.ident or 0

    def _finished(self, entry: _Entry) -> None:
        self._done.setdefault(entry.run, set()).add(entry.id)
        self._batches[entry.batch] = self._batches.get(entry.batch, 1) - 1

    def _finish_batches(self) -> None:
        for batch, left in list(self._batches.items()):
            if left <= 0:
                del self._batches[batch]
                self._emit({"ev": "batch_done", "batch": batch, "t": time.monotonic()})
        if not self._pending and not self._running:
            self._route_off()
            self._stopped.clear()
            self._lock.notify_all()

    def _route_on(self) -> None:
        routers = self._executor._routers()
        for router in routers:
            if not isinstance(router.target, ThreadRouter):
                router.target = ThreadRouter(router.idle)
        for sink in self._sinks:
            if sink is not None:
                sink.drain(0)  # whatever arrived while idle is nobody's output
        self._routers = routers

    def _route_off(self) -> None:
        if self._routers is not None:
            for router in self._routers:
                router.target = router.idle
            self._routers = None

    # -- a statement's thread ------------------------------------------------------------
    def _thread(self, entry: _Entry) -> None:
        result: dict[str, Any] | None = None
        try:
            result = self._run(entry)
        except BaseException as exc:  # an interrupt that landed in our own code
            result = _failed(entry, error_info(exc, str(entry.chunk.get("path"))))
        finally:
            with self._lock:
                ident = threading.get_ident()
                self._in_user.discard(ident)
                self._running.pop((entry.run, entry.id), None)
                if result is None:
                    result = _failed(entry, None)
                interrupted = result.pop("_interrupted", False)
                self._emit(result)
                stop = entry.chunk.get("_stop_on_error", True)
                if not result["ok"] and (stop or interrupted):
                    prior = self._stopped.get(entry.run)
                    self._stopped[entry.run] = entry.id if prior is None else min(prior, entry.id)
                self._finished(entry)
                self._start_ready()
                self._finish_batches()

    def _run(self, entry: _Entry) -> dict[str, Any]:
        executor = self._executor
        chunk = entry.chunk
        path = str(chunk.get("path") or "<eager-lsp>")
        ident = threading.get_ident()
        out, err = CappedWriter(STREAM_CAP, 1), CappedWriter(STREAM_CAP, 2)
        routers = executor._routers()
        for router, writer in ((routers[0], out), (routers[1], err)):
            target = router.target
            if isinstance(target, ThreadRouter):
                target.writers[ident] = writer
        self._emit({"ev": "started", "id": entry.id, "batch": entry.batch, "t": time.monotonic()})
        error = entry.error
        interrupted = False
        has_value, value = False, None
        namespace = executor.namespace
        t_start = time.monotonic()
        try:
            if entry.compiled is not None:
                body, expr = entry.compiled
                with self._lock:
                    self._in_user.add(ident)
                try:
                    exec(body, namespace)
                    if expr is not None:
                        value = eval(expr, namespace)
                        has_value = True
                finally:
                    with self._lock:
                        self._in_user.discard(ident)
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            error = error_info(exc, path)
        t_end = time.monotonic()
        for router in routers:
            target = router.target
            if isinstance(target, ThreadRouter):
                target.writers.pop(ident, None)
        executor._collect_fd_output(out, err)
        values: list[dict[str, str]] = []
        expr_value = None
        image_dir = chunk.get("image_dir") or None
        images = capture_figures(image_dir) if entry.exclusive else []
        if error is None:
            if has_value and value is not None:
                with self._lock:  # the latest statement in document order wins, as in order
                    if entry.id >= self._shown.get(entry.run, -1):
                        self._shown[entry.run] = entry.id
                        namespace["_"] = value
                expr_value = describe("", value)
            values = executor._describe_names(chunk.get("names") or [])
            images += executor._png_reprs(chunk.get("names") or [], value, image_dir, images)
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
