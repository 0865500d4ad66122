"""Run chunks of one document in one persistent namespace, on the main thread.

Chunks are compiled with the document's real path and padded to their real line numbers, so
tracebacks, `linecache` and debugpy breakpoints all speak editor lines. SIGINT only raises
KeyboardInterrupt while user code runs; in the worker's own code it is remembered and
honoured before the next chunk, and while idle it is ignored.

Known limit (pydevd, not us): debugpy rejects a breakpoint whose file does not exist on disk
and moves it to the nearest code line of the file *on disk*, so breakpoints are reliable when
the buffer is saved; tracebacks and linecache use the live buffer regardless.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import gc
import linecache
import os
import signal
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .capture import STREAM_CAP, CappedWriter, FdSink, StreamRouter
from .errors import error_info
from .live import LiveOutput
from .reprs import describe
from .rich import MAX_IMAGES, capture_figures, repr_png

VALUES_BUDGET_S = 2.0  # all reprs of one chunk together; later names are skipped

_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag

if TYPE_CHECKING:  # the worker also runs on Python 3.8, where these do not subscript
    from collections.abc import Callable

    Emit = Callable[[dict[str, Any]], None]


def result_message(
    chunk_id: Any,
    error: dict[str, Any] | None,
    values: list[dict[str, str]],
    expr: Any,
    stdout: str,
    stderr: str,
    images: list[Any],
    t_start: float,
    t_end: float,
    interrupted: bool,
) -> dict[str, Any]:
    """One statement's `result` event (protocol.py), in order or on a parallel thread;
    `_interrupted` is the worker's own note and is popped before it is sent."""
    return {
        "ev": "result",
        "id": chunk_id,
        "ok": error is None,
        "values": values,
        "expr": expr,
        "stdout": stdout,
        "stderr": stderr,
        "error": error,
        "images": images,
        "t_start": t_start,
        "t_end": t_end,
        "_interrupted": interrupted,
    }


# The path of the server's own code (core/rerun.py's "<eager: forget names>"): it enters no
# document (`enter_document`); it reset the document's `sys.argv` and `__file__`.
INTERNAL_PATH = "<eager: "


class Interrupts:
    """Where a SIGINT lands depends on what the main thread is doing."""

    IDLE, WORKER, USER = "idle", "worker", "user"

    def __init__(self) -> None:
        self.mode = self.IDLE
        self.pending = False
        # Statements running on other threads (parallel.py): returns True when it
        # took the interrupt.
        self.elsewhere: Callable[[], bool] | None = None

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.elsewhere is not None and self.elsewhere():
            return
        if self.mode == self.USER:
            raise KeyboardInterrupt
        if self.mode == self.WORKER:
            self.pending = True

    @contextmanager
    def batch(self) -> Iterator[None]:
        self.mode, self.pending = self.WORKER, False
        try:
            yield
        finally:
            self.mode, self.pending = self.IDLE, False

    @contextmanager
    def user_code(self) -> Iterator[None]:
        if self.pending:
            raise KeyboardInterrupt
        self.mode = self.USER
        try:
            yield
        finally:
            self.mode = self.WORKER


class ChunkRunner:
    """Runs the batches of one worker in its one namespace (the `exec` and `reset` requests)."""

    def __init__(
        self,
        emit: Emit,
        interrupts: Interrupts,
        sinks: tuple[FdSink | None, FdSink | None] = (None, None),
    ) -> None:
        self._emit = emit
        self._interrupts = interrupts
        self._out_sink, self._err_sink = sinks
        self._live = LiveOutput(emit, sinks)
        # (batch, first id): that batch's chunks from that id on that have not started are
        # skipped (`withdraw`, set on the request-reader thread: their text was edited)
        self._withdrawn: tuple[Any, int] | None = None
        self._documents: dict[str, list[str]] = {}
        self._future_flags = 0
        self.module = self._fresh_module()

    @property
    def namespace(self) -> dict[str, Any]:
        return self.module.__dict__

    def _fresh_module(self) -> types.ModuleType:
        """A real `__main__` module, so pickle and friends find user-defined classes."""
        module = types.ModuleType("__main__")
        module.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = module
        return module

    def reset(self) -> None:
        self.module = self._fresh_module()
        self._future_flags = 0
        for path in self._documents:
            linecache.cache.pop(path, None)
        self._documents.clear()
        # The old namespace and the functions defined in it reference each other: without a
        # collection each reset kept the previous run's objects (~24 MiB a run in the bench).
        gc.collect()

    def withdraw(self, batch: Any, first: int) -> None:
        """Chunks of `batch` from id `first` on do not run, unless they started already
        (called from the request-reader thread, also before the batch begins)."""
        self._withdrawn = (batch, first)

    def _is_withdrawn(self, batch: Any, chunk_id: Any) -> bool:
        withdrawn = self._withdrawn
        return withdrawn is not None and withdrawn[0] == batch and chunk_id >= withdrawn[1]

    def run_batch(self, request: dict[str, Any]) -> None:
        stop_on_error = bool(request.get("stop_on_error", True))
        skipping = False
        chunks = request.get("chunks", [])
        batch = request.get("batch")
        with self._interrupts.batch():
            for n, chunk in enumerate(chunks):
                if skipping or self._is_withdrawn(batch, chunk["id"]):
                    skipping = True
                    self._emit({"ev": "skipped", "id": chunk["id"]})
                    continue
                result = self.run_chunk(chunk)
                interrupted = result.pop("_interrupted", False)
                if n == len(chunks) - 1:  # the batch ends with it: one event, not two
                    result["batch_done"] = request.get("batch")
                    self._emit(result)
                    return
                self._emit(result)
                if not result["ok"] and (stop_on_error or interrupted):
                    skipping = True
        self._emit({"ev": "batch_done", "batch": request.get("batch"), "t": time.monotonic()})

    def run_chunk(self, chunk: dict[str, Any]) -> dict[str, Any]:
        chunk_id = chunk["id"]
        path = str(chunk.get("path") or "<eager-lsp>")
        first_line = max(1, int(chunk.get("first_line", 1)))
        code = str(chunk.get("code", ""))
        self.register_source(path, first_line, code)
        self.enter_document(path, chunk.get("argv"))
        out, err = CappedWriter(STREAM_CAP, 1), CappedWriter(STREAM_CAP, 2)
        for sink, writer in ((self._out_sink, out), (self._err_sink, err)):
            if sink is not None:
                sink.attach(writer)  # whatever arrived while idle is nobody's output

        self._emit({"ev": "started", "id": chunk_id, "t": time.monotonic()})
        routers = self.stream_routers()
        routers[0].target, routers[1].target = out, err
        error: dict[str, Any] | None = None
        interrupted = False
        has_value, value = False, None
        t_start = time.monotonic()
        try:
            compiled = self.compile_chunk(path, first_line, code, bool(chunk.get("trailing_expr")))
        except (SyntaxError, ValueError, OverflowError, RecursionError) as exc:
            compiled = None
            error = error_info(exc, path, compiling=True)
        try:
            if compiled is not None:
                self._live.begin(chunk_id, out, err)
                body, expr = compiled
                with self._interrupts.user_code():
                    exec(body, self.namespace)
                    if expr is not None:
                        value = eval(expr, self.namespace)
                        has_value = True
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            error = error_info(exc, path)
        finally:
            self._live.end()
        t_end = time.monotonic()
        for router in routers:
            router.target = router.idle
        self.collect_fd_output(out, err)

        values: list[dict[str, str]] = []
        expr_value = None
        image_dir = chunk.get("image_dir") or None
        images = capture_figures(image_dir)  # also closes them, failed chunk or not
        if error is None:
            if has_value and value is not None:
                self.namespace["_"] = value
                expr_value = describe("", value)
            values = self.describe_names(chunk.get("names") or [])
            images += self.png_reprs(chunk.get("names") or [], value, image_dir, images)
        return result_message(
            chunk_id,
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

    @staticmethod
    def stream_routers() -> tuple[StreamRouter, StreamRouter]:
        """The permanent stream routers, reinstalled if user code replaced sys.stdout/err."""
        routers = []
        for name, fd in (("stdout", 1), ("stderr", 2)):
            current = getattr(sys, name)
            if not isinstance(current, StreamRouter):
                original = getattr(sys, f"__{name}__")
                if isinstance(original, StreamRouter):
                    current = original
                else:  # not started by main(), e.g. in-process use: idle output stays put
                    current = StreamRouter(current, fd)
                setattr(sys, name, current)
            routers.append(current)
        return routers[0], routers[1]

    def compile_chunk(
        self, path: str, first_line: int, code: str, trailing_expr: bool
    ) -> tuple[types.CodeType, types.CodeType | None]:
        """Padding with newlines keeps line numbers right for SyntaxErrors too."""
        source = "\n" * (first_line - 1) + code
        flags = self._future_flags
        tree = compile(source, path, "exec", ast.PyCF_ONLY_AST | flags, dont_inherit=True)
        expr = None
        if trailing_expr and tree.body and isinstance(tree.body[-1], ast.Expr):
            last = tree.body.pop()
            expr = compile(ast.Expression(last.value), path, "eval", flags, dont_inherit=True)
        body = compile(tree, path, "exec", flags, dont_inherit=True)
        # `from __future__ import annotations` in one chunk holds for the next, as in a REPL.
        self._future_flags |= body.co_flags & _FUTURE_FLAGS
        return body, expr

    def register_source(self, path: str, first_line: int, code: str) -> None:
        """Keep the document's text in linecache: the buffer may be unsaved. mtime None makes
        `linecache.checkcache` leave the entry alone."""
        lines = code.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        doc = self._documents.setdefault(path, [])
        end = first_line - 1 + len(lines)
        if len(doc) < end:
            doc.extend(["\n"] * (end - len(doc)))
        doc[first_line - 1 : end] = lines
        linecache.cache[path] = (sum(map(len, doc)), None, doc, path)

    def enter_document(self, path: str, argv: Any = None) -> None:
        """Behave like `python path` (`python a.py x` with the request's `argv`, else [path]):
        `__file__`, `sys.argv` and the script's directory. Set once, on entering the document,
        as python sets them once: code that edits `sys.argv` keeps its edit."""
        if path.startswith(INTERNAL_PATH):  # the server's own code: no document's
            return
        ns = self.namespace
        if ns.get("__file__") != path:
            ns["__file__"] = path
            sys.argv = [str(a) for a in argv] if isinstance(argv, list) and argv else [path]
            directory = os.path.dirname(path)
            if os.path.isabs(path) and os.path.isdir(directory) and directory not in sys.path:
                sys.path.insert(0, directory)

    def collect_fd_output(self, out: CappedWriter, err: CappedWriter) -> None:
        """The rest of the fd-level output, after a chunk (in order, or on a thread)."""
        for sink, writer in ((self._out_sink, out), (self._err_sink, err)):
            if sink is not None:
                sink.finish(writer)

    def png_reprs(
        self, names: list[str], value: Any, image_dir: str | None, have: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Images of the trailing expression and bound values that define `_repr_png_`."""
        out: list[dict[str, Any]] = []
        candidates = [("value", value)] if value is not None else []
        candidates += [(n, self.namespace[n]) for n in names if n in self.namespace]
        for label, obj in candidates:
            if len(have) + len(out) >= MAX_IMAGES:
                break
            image = repr_png(obj, label, image_dir)
            if image is not None:
                out.append(image)
        return out

    def describe_names(self, names: list[str]) -> list[dict[str, str]]:
        values = []
        started = time.monotonic()
        for name in names:
            if name not in self.namespace:
                continue
            obj = self.namespace[name]
            if time.monotonic() - started > VALUES_BUDGET_S:
                skipped = "<repr skipped: time budget used up>"
                values.append(
                    {"name": name, "type": type(obj).__name__, "repr": skipped, "summary": skipped}
                )
                continue
            values.append(describe(name, obj))
        return values
