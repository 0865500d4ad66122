"""Entry point of the child interpreter (`python -m eager_lsp.executors.worker --result-fd N`).

Startup order matters: take private copies of the request pipe (fd 0) and the parent's
stderr pipe (fd 2) first, then point fds 0/1/2 at /dev/null and capture sinks, so that
nothing user code, C extensions, debugpy or grandchildren write can reach the parent's
stdout, and nothing can read the request pipe. Stdlib and debugpy only.

Before anything else the process becomes non-dumpable (nodump.py: other workers' user code
cannot read this one's memory or environment), and before user code can run, everything the
worker needs is imported and only then is the workspace put on sys.path (isolation.py).
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import faulthandler
import io
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import IO, Any, NoReturn

from . import isolation
from .capture import FdSink, StreamRouter, guard_sinks
from .debugging import Debugger, RequestReader
from .memory import EXIT_MEMORY, apply_memory_limit
from .nodump import make_undumpable_or_exit
from .parallel import ParallelRunner
from .protocol import PROTOCOL_VERSION, decode, encode
from .runner import ChunkRunner, Interrupts

INPUT_MESSAGE = "input() is not available: code runs in the eager-lsp background interpreter"


def _no_input(prompt: object = "") -> NoReturn:
    raise RuntimeError(INPUT_MESSAGE)


class EventWriter:
    """Whole JSON lines to the private result pipe, from any thread (the request reader
    answers debug requests while the main thread runs a chunk)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        self._write(encode(message))

    def many(self, messages: list[dict[str, Any]]) -> None:
        """Several events in one write (the parallel runner's events of one settle)."""
        self._write(b"".join(map(encode, messages)))

    def _write(self, line: bytes) -> None:
        data = memoryview(line)
        with self._lock:
            while data:
                written = os.write(self._fd, data)
                data = data[written:]


def _isolate_fds() -> tuple[IO[bytes], IO[str], tuple[FdSink, FdSink]]:
    """Returns the private request reader, the private diagnostics stream and the sinks."""
    requests = os.fdopen(os.dup(0), "rb")  # os.dup: the copy is not inheritable
    diagnostics = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    sinks = (FdSink(1), FdSink(2))
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
    # Idle writes (debugpy, user threads) land in the sinks and are dropped at the next chunk.
    sys.stdout = sys.__stdout__ = StreamRouter(_fd_text(1), 1)  # type: ignore[misc,assignment]
    sys.stderr = sys.__stderr__ = StreamRouter(_fd_text(2), 2)  # type: ignore[misc,assignment]
    return requests, diagnostics, sinks


def _fd_text(fd: int) -> io.TextIOBase:
    return open(fd, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)


def _leave(code: int) -> NoReturn:
    """Exit and take our process group along: debugpy's adapter and anything user code
    started live in it and would otherwise outlive us (the parent's kill path SIGKILLs the
    same group). Only when we lead the group, so a worker started by hand never signals its
    caller's group."""
    with contextlib.suppress(Exception):
        if os.getpgid(0) == os.getpid():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.killpg(os.getpid(), signal.SIGTERM)
    os._exit(code)


def _exit_with_parent() -> None:
    """A runaway chunk must not outlive the server: stdin EOF is only seen between chunks,
    so a daemon thread also watches for the parent going away (we get re-parented)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                _leave(0)

    thread = threading.Thread(target=watch, name="eager-lsp-parent-watch", daemon=True)
    thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]  # hidden from debugpy
    thread.start()


def main(argv: list[str] | None = None) -> None:
    make_undumpable_or_exit("the interpreter")  # first: no other process's user code reads us
    isolation.preload()
    parser = argparse.ArgumentParser(prog="python -m eager_lsp.executors.worker")
    parser.add_argument("--result-fd", type=int, required=True)
    parser.add_argument("--no-debug", action="store_true", help="refuse debug_listen requests")
    parser.add_argument("--memory-limit-mb", type=int, default=0)
    args = parser.parse_args(argv)

    interrupts = Interrupts()
    interrupts.install()  # before anything slow: an early SIGINT must not kill us
    os.set_inheritable(args.result_fd, False)
    emit = EventWriter(args.result_fd)
    requests, diagnostics, sinks = _isolate_fds()
    guard_sinks(sinks)  # output written while no chunk runs must not fill the disk
    memory_problem = apply_memory_limit(args.memory_limit_mb)
    if memory_problem:
        print(f"eager-lsp worker: {memory_problem}", file=diagnostics)
    # A segfault's traceback becomes the crash reason: the crashing thread's only (the others
    # are this worker's own: their stacks told the user nothing about their code).
    faulthandler.enable(file=diagnostics, all_threads=False)
    _exit_with_parent()
    builtins.input = _no_input
    sys.argv = [""]

    runner = ChunkRunner(emit, interrupts, sinks)
    parallel = ParallelRunner(runner, emit, interrupts, sinks, emit_many=emit.many)

    def withdraw(request: dict[str, Any]) -> None:
        first = int(request.get("from", 0))
        if "batch" in request:
            runner.withdraw(request["batch"], first)
        if "run" in request:
            parallel.withdraw(request["run"], first)

    reader = RequestReader(
        requests, emit, Debugger(allowed=not args.no_debug), decode, withdraw=withdraw
    )
    isolation.open_to_user()  # last: from here on, imports may resolve to workspace files
    emit(
        {
            "ev": "ready",
            "pid": os.getpid(),
            "python": sys.executable,
            "version": platform.python_version(),
            "debug_port": None,  # debugpy starts only on a debug_listen request
            "debug_error": None,
            "protocol": PROTOCOL_VERSION,
            "t": time.monotonic(),
        }
    )
    reader.start()
    try:
        _serve(reader.requests(), emit, runner, diagnostics, parallel)
    except BrokenPipeError:
        pass  # the parent went away
    except MemoryError:  # in our own code: say so by the exit code (memory.py)
        _leave(EXIT_MEMORY)
    except BaseException:
        import traceback

        traceback.print_exc(file=diagnostics)
        diagnostics.flush()
        _leave(70)
    _leave(0)  # do not wait for user threads or run user atexit hooks


def _serve(
    requests: Iterable[bytes],
    emit: EventWriter,
    runner: ChunkRunner,
    diag: IO[str],
    parallel: ParallelRunner | None = None,
) -> None:
    for line in requests:
        if not line.strip():
            continue
        try:
            request = decode(line)
        except ValueError as exc:
            print(f"eager-lsp worker: bad request: {exc}", file=diag)
            continue
        op = request.get("op")
        if op == "exec" and request.get("parallel") and parallel is not None:
            parallel.submit(request)  # answers "accepted" at once: the statements run on threads
            continue
        if parallel is not None and op in ("exec", "reset", "shutdown"):
            parallel.wait_idle()
        if op == "exec":
            runner.run_batch(request)
        elif op == "ping":
            emit({"ev": "pong", "id": request.get("id")})
        elif op == "reset":
            runner.reset()
        elif op == "shutdown":
            return
        else:
            print(f"eager-lsp worker: unknown op {op!r}", file=diag)
