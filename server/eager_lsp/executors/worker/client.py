"""The parent's handle on one worker process (asyncio, stdlib only).

One exec request per batch; events come back on a private pipe and are routed as they are
read (`_EventReader`, in the event loop's read callback: no reader task, no queue, so an
event costs no task switch), so the client always knows whether a batch is in flight even
when the caller stopped listening (cancelled `execute`). The worker's stderr is drained into
a bounded buffer, only to explain crashes. The process itself comes from spawn.py: on Linux forked by
its interpreter's zygote (never dumpable, see zygote.py), elsewhere exec'd.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

# The parent's side only (this module never runs in the worker): core/executor.py is stdlib.
from eager_lsp.core.executor import ExecutorLost

from .launch import worker_env
from .protocol import decode, encode
from .spawn import StartError, WorkerProcess, describe_exit, start_process

if TYPE_CHECKING:
    from eager_lsp.core.executor import (
        ChunkOutcome,
        ChunkRequest,
        ExecutorEvent,
        InterruptOutcome,
        PlannedChunkRequest,
    )

log = logging.getLogger(__name__)

LINE_LIMIT = 64 * 1024 * 1024  # one result line: capped output plus values, JSON-escaped
STDERR_TAIL = 16 * 1024
READY_TIMEOUT_S = 60.0
INTERRUPT_RESEND_S = 0.25
EXIT_GRACE_S = 0.5  # after the worker exits, for what it wrote before to be read

EventCallback = Callable[["ExecutorEvent"], None]
CHUNK_EVENTS = ("started", "output", "result", "skipped")  # what `execute` hands to on_event


@dataclass
class WorkerOptions:
    python: str | None = None  # interpreter; default sys.executable; may be the user's venv
    cwd: str | None = None  # working directory: the workspace root
    debug: bool = True  # allow debug_listen(): debugpy on 127.0.0.1 once asked, never before
    env: Mapping[str, str] | None = None  # used as given; None: os.environ minus secrets
    interrupt_grace_s: float = 2.0  # how long an interrupt may take before the kill
    env_allow: tuple[str, ...] = ()  # with env None: names kept although they look secret
    env_deny_patterns: tuple[str, ...] = ()  # with env None: more patterns to drop
    memory_limit_mb: int = 0  # the worker's memory limit (executors/worker/memory.py); 0: none
    zygote: bool = True  # Linux: fork it from the interpreter's zygote (spawn.py); else exec


class WorkerCrashed(ExecutorLost):
    """The worker process went away; its namespace is lost (the executor interface's
    `ExecutorLost`, so no caller needs to know the worker's own error)."""


__all__ = ["WorkerClient", "WorkerCrashed", "WorkerOptions", "describe_exit"]


class WorkerClient:
    pid: int
    debug_port: int | None
    debug_error: str | None
    python: str
    version: str
    start_seconds: float  # spawn to `ready`

    def __init__(self, proc: WorkerProcess, options: WorkerOptions) -> None:
        self._proc = proc
        self._options = options
        self.pid = proc.pid
        self.python = options.python or sys.executable
        self.debug_port = None
        self.debug_error = None
        self.version = ""
        self.start_seconds = 0.0
        self._lock = asyncio.Lock()
        self._ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._route: _Route | None = None
        self._in_flight: int | None = None
        self._parallel_run: int | None = None  # the run of the parallel batches out now
        self._parallel: dict[int, _Route] = {}  # batch → route
        self._idle = asyncio.Event()
        self._idle.set()
        self._pongs: dict[int, asyncio.Future[None]] = {}
        self._debug_replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._stderr = bytearray()
        self._eof = False
        self._kill_reason: str | None = None
        self._interrupted = 0  # results that failed with KeyboardInterrupt
        self._stderr_task: asyncio.Task[None] | None = None
        self._exit_task: asyncio.Task[None] | None = None
        self._transport: asyncio.ReadTransport | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @classmethod
    async def start(cls, options: WorkerOptions) -> WorkerClient:
        """Spawn a worker and wait for its `ready` event; WorkerCrashed if it cannot start."""
        python = options.python or sys.executable
        began = time.monotonic()
        try:
            proc, read_fd = await start_process(
                python,
                env=worker_env(options.env, options.env_allow, options.env_deny_patterns),
                cwd=options.cwd,
                debug=options.debug,
                memory_limit_mb=options.memory_limit_mb,
                zygote=options.zygote,
            )
        except StartError as exc:
            raise WorkerCrashed(str(exc))
        client = cls(proc, options)
        client.python = python
        try:
            await client._connect(read_fd)
            ready = await asyncio.wait_for(asyncio.shield(client._ready), READY_TIMEOUT_S)
        except asyncio.TimeoutError:
            await client.kill()
            raise WorkerCrashed(f"no ready event within {READY_TIMEOUT_S:.0f} s")
        except WorkerCrashed:
            reason = await client._exit_reason()
            await client.kill()
            if options.memory_limit_mb and "memory limit" not in reason:
                reason += f" (with a memory limit of {options.memory_limit_mb} MB: too low?)"
            raise WorkerCrashed(f"worker failed to start: {reason}")
        except BaseException:
            await client.kill()
            raise
        client.pid = int(ready.get("pid", proc.pid))
        client.debug_port = ready.get("debug_port")
        client.debug_error = ready.get("debug_error")
        client.version = str(ready.get("version", ""))
        client.start_seconds = time.monotonic() - began
        return client

    async def _connect(self, read_fd: int) -> None:
        loop = asyncio.get_running_loop()
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        self._transport, _ = await loop.connect_read_pipe(lambda: _EventReader(self), pipe)
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        self._exit_task = asyncio.create_task(self._watch_exit())

    async def _watch_exit(self) -> None:
        """The worker exiting is its end, even while another process holds its event pipe
        open: executed code can start a child that inherits the pipe and outlives the worker
        (an attacking helper's `sleep 40` kept its run waiting 40 s, `sleep infinity` would
        forever, and `eager.interrupt` answered that nothing ran). What the worker wrote
        before it exited is read first, within EXIT_GRACE_S; then the stream ends."""
        await self._proc.wait()
        if self._eof:
            return
        await asyncio.sleep(EXIT_GRACE_S)
        if not self._eof:
            if self._transport is not None:
                self._transport.close()  # what the inheritor writes is nobody's event
            self._on_eof()

    @property
    def alive(self) -> bool:
        return self._proc.returncode is None and not self._eof

    async def shutdown(self, timeout: float = 1.0) -> None:
        """Ask politely (the worker exits between batches), then kill."""
        if self.alive:
            with contextlib.suppress(Exception):
                await self._send({"op": "shutdown"})
            with contextlib.suppress(Exception):
                assert self._proc.stdin is not None
                self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        await self.kill()

    async def kill(self, reason: str | None = None) -> None:
        """SIGKILL the worker's whole process group (it leads its own session). `reason`: why
        the server kills it, what a batch it cuts short fails with (not "killed by SIGKILL
        (out of memory?)", what the death looks like); a worker already gone, or killed
        for another reason first (the interrupt's grace period), keeps that account."""
        if self._proc.returncode is None:
            if reason is not None and self._kill_reason is None and not self._eof:
                self._kill_reason = reason
            self._proc.kill_group()
            await self._proc.wait()
        await self._close()

    async def _close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        if self._exit_task is not None and not self._exit_task.done():
            self._exit_task.cancel()
        task = self._stderr_task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 1.0)
            except asyncio.TimeoutError:
                task.cancel()
            except Exception:
                pass
        if self._transport is not None:
            self._transport.close()

    # -- requests -------------------------------------------------------------------------

    @property
    def parallel(self) -> WorkerClient:
        """The worker runs statements side by side (`execute_parallel`)."""
        return self

    @property
    def may_kill(self) -> bool:
        """We started the worker: `kill()` ends it."""
        return True

    async def execute(
        self,
        batch: Sequence[ChunkRequest],
        *,
        stop_on_error: bool,
        on_event: EventCallback | None = None,
    ) -> list[ChunkOutcome]:
        """Run `batch` (chunks as in protocol.py) as one request; returns its result/skipped
        events in order. Raises WorkerCrashed if the process dies meanwhile."""
        async with self._lock:
            await self._idle.wait()  # a cancelled earlier execute may still be running
            self._check_alive()
            batch_id = next(self._ids)
            route = _Route(on_event)
            self._route, self._in_flight = route, batch_id
            self._idle.clear()
            request = {"op": "exec", "batch": batch_id, "stop_on_error": stop_on_error}
            request["chunks"] = list(batch)
            try:
                await self._send(request)
            except WorkerCrashed:
                self._idle.set()
                raise
            except BaseException:
                route.finished.cancel()  # cancelled while sending: hand the caller nothing
                raise
            return await self._outcome(route)

    async def execute_parallel(
        self,
        batch: Sequence[PlannedChunkRequest],
        *,
        run: int,
        stop_on_error: bool,
        on_event: EventCallback | None = None,
        accepted: asyncio.Future[None] | None = None,
    ) -> list[ChunkOutcome]:
        """Like `execute`, but the worker runs the statements on threads, each once the
        statements named in its "after" have finished (parallel.py), and further
        batches may be sent while this one runs. `run` names the run: a failure stops the
        run's later statements, whichever batch they came in. `accepted` is set once the
        worker has taken the request (its "accepted" event, or its end)."""
        async with self._lock:
            await self._idle_of_sequential()
            self._check_alive()
            batch_id = next(self._ids)
            route = _Route(on_event, accepted)
            self._parallel[batch_id] = route
            self._idle.clear()
            request = {"op": "exec", "batch": batch_id, "stop_on_error": stop_on_error}
            request.update(parallel=True, run=run, chunks=list(batch))
            self._parallel_run = run
            try:
                await self._send(request)
            except WorkerCrashed:
                self._parallel.pop(batch_id, None)
                if not self._parallel and self._in_flight is None:
                    self._idle.set()
                raise
            except BaseException:
                route.finished.cancel()  # cancelled while sending: hand the caller nothing
                raise
        return await self._outcome(route)

    def withdraw(self, from_id: int) -> None:
        """Skip the chunks out now from `from_id` on that have not begun (protocol.py
        "withdraw": the worker takes it on its reader thread, also mid-chunk). Written
        without waiting for the pipe: a few bytes, behind the batch they are about."""
        request: dict[str, Any] = {"op": "withdraw", "from": from_id}
        if self._in_flight is not None:
            request["batch"] = self._in_flight
        if self._parallel and self._parallel_run is not None:
            request["run"] = self._parallel_run
        stdin = self._proc.stdin
        if len(request) == 2 or stdin is None or not self.alive:
            return
        try:
            stdin.write(encode(request))
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            pass  # gone: its loss is told where its batch is read

    async def _idle_of_sequential(self) -> None:
        """Wait for a sequential batch (a cancelled execute may still run) but not for
        parallel ones."""
        while self._in_flight is not None:
            await asyncio.sleep(0.005)
        if not self._parallel:
            await self._idle.wait()

    async def _outcome(self, route: _Route) -> list[ChunkOutcome]:
        """The batch's results once its `batch_done` came; WorkerCrashed if the worker went
        away first; the first exception `on_event` raised, after the whole batch was read."""
        if not await route.finished:
            raise WorkerCrashed(await self._exit_reason())
        if route.callback_error is not None:
            raise route.callback_error
        return route.results

    async def interrupt(self) -> InterruptOutcome:
        """ "interrupted": KeyboardInterrupt landed in a statement and the state is kept;
        "killed": it did not stop within the grace period, so the process was killed; "idle":
        nothing running, or what ran finished by itself before the interrupt reached it (the
        signal came after the batch's last statement: the worker then drops it), so the
        caller never says it interrupted code that in fact ran on."""
        if self._idle.is_set() or not self.alive:
            return "idle"
        grace = self._options.interrupt_grace_s
        deadline = time.monotonic() + grace
        landed = self._interrupted
        while time.monotonic() < deadline:
            self._proc.send_signal(signal.SIGINT)  # resent: the first may land while idle
            try:
                timeout = min(INTERRUPT_RESEND_S, max(0.0, deadline - time.monotonic()))
                await asyncio.wait_for(self._idle.wait(), timeout)
            except asyncio.TimeoutError:
                continue
            if not self.alive:
                return "killed"
            return "interrupted" if self._interrupted > landed else "idle"
        self._kill_reason = f"killed: did not stop within {grace:g} s of an interrupt"
        await self.kill()
        return "killed"

    async def reset(self) -> None:
        """A fresh namespace in the same process; returns once the worker has done it."""
        async with self._lock:
            await self._idle.wait()
            self._check_alive()
            await self._send({"op": "reset"})
            await self.ping()

    async def ping(self, timeout: float = 10.0) -> None:
        ping_id = next(self._ids)
        pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs[ping_id] = pong
        try:
            await self._send({"op": "ping", "id": ping_id})
            await asyncio.wait_for(pong, timeout)
        finally:
            _forget(self._pongs.pop(ping_id, None))

    async def debug_listen(self, timeout: float = 30.0) -> int:
        """Make the worker's debugpy listen on 127.0.0.1 (once; later calls return the same
        port) and return the port. Works while a batch runs: the worker answers on its
        request-reader thread. RuntimeError with the reason if debugpy cannot start."""
        if self.debug_port is not None:
            return self.debug_port
        if not self._options.debug:
            raise RuntimeError("debugging is disabled for this interpreter")
        self._check_alive()
        request_id = next(self._ids)
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._debug_replies[request_id] = reply
        try:
            await self._send({"op": "debug_listen", "id": request_id})
            event = await asyncio.wait_for(reply, timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"debugpy did not start within {timeout:g} s")
        finally:
            _forget(self._debug_replies.pop(request_id, None))
        port = event.get("port")
        if not isinstance(port, int):
            self.debug_error = str(event.get("error") or "debugpy did not start")
            raise RuntimeError(self.debug_error)
        self.debug_port, self.debug_error = port, None
        return port

    # -- plumbing -------------------------------------------------------------------------

    def _check_alive(self) -> None:
        if not self.alive:
            reason = self._kill_reason or self._describe_exit()
            raise WorkerCrashed(f"worker is not running ({reason})")

    async def _send(self, message: dict[str, Any]) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(encode(message))
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            raise WorkerCrashed(await self._exit_reason())

    def _on_eof(self) -> None:
        """The event pipe ended (the worker exited, or `_EventReader` ended the stream): whatever
        waits on the worker learns it is gone."""
        if self._eof:
            return
        self._eof = True
        if not self._ready.done():
            self._ready.set_exception(WorkerCrashed("exited before ready"))
            self._ready.exception()  # mark retrieved; start() re-reads it
        if self._route is not None:
            self._route.lost()
        for route in self._parallel.values():
            route.lost()
        self._parallel.clear()
        pending: list[asyncio.Future[Any]] = [*self._pongs.values()]
        pending += self._debug_replies.values()
        for waiter in pending:
            if not waiter.done():
                waiter.set_exception(WorkerCrashed("worker exited"))
        self._in_flight = None
        self._idle.set()

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("ev")
        if kind == "ready":
            if not self._ready.done():
                self._ready.set_result(event)
            return
        if kind == "pong":
            pong = self._pongs.get(event.get("id", -1))
            if pong is not None and not pong.done():
                pong.set_result(None)
            return
        if kind == "debug":
            reply = self._debug_replies.get(event.get("id", -1))
            if reply is not None and not reply.done():
                reply.set_result(event)
            return
        if kind == "result" and (event.get("error") or {}).get("type") == "KeyboardInterrupt":
            self._interrupted += 1  # read by `interrupt`: it landed in a statement
        parallel = self._parallel.get(event.get("batch", -1)) if self._parallel else None
        if parallel is not None:
            parallel.deliver(event)
            if kind == "batch_done":
                del self._parallel[event["batch"]]
                if not self._parallel and self._in_flight is None:
                    self._idle.set()
            return
        if self._route is not None:
            self._route.deliver(event)
        if kind == "result" and "batch_done" in event:  # the batch's last event (runner.py)
            kind, event = "batch_done", {"ev": "batch_done", "batch": event["batch_done"]}
            if self._route is not None:
                self._route.deliver(event)
        if kind == "batch_done" and event.get("batch") == self._in_flight:
            self._in_flight = None
            self._route = None
            self._idle.set()

    async def _drain_stderr(self) -> None:
        stream = self._proc.stderr
        assert stream is not None
        while True:
            data = await stream.read(4096)
            if not data:
                return
            self._stderr += data
            if len(self._stderr) > STDERR_TAIL:
                del self._stderr[: len(self._stderr) - STDERR_TAIL]

    def stderr_tail(self) -> str:
        return self._stderr.decode("utf-8", errors="replace")

    def _describe_exit(self) -> str:
        return self._proc.describe_exit(self._options.memory_limit_mb)

    async def _exit_reason(self) -> str:
        """Why the worker is gone: exit code or signal, then the tail of its stderr."""
        try:
            await asyncio.wait_for(self._proc.wait(), 2.0)
        except asyncio.TimeoutError:
            await self.kill()  # the pipe broke but the process lingers: finish it
        stderr_task = self._stderr_task
        if stderr_task is not None and not stderr_task.done():
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(stderr_task), 1.0)
        reason = self._kill_reason or self._describe_exit()
        tail = _without_our_frames(self.stderr_tail()).strip()
        return f"{reason}\n{tail}" if tail else reason


# The worker's own modules, and the `python -c` line that started it.
_OUR_FRAME = re.compile(
    r'^\s+File "(<string>", line 1 in <module>$|[^"]*[\\/]eager_lsp[\\/]executors[\\/]worker[\\/])'
)


def _without_our_frames(tail: str) -> str:
    """A fatal error's stack (faulthandler's) without the frames of the worker's own code, so
    that it shows where the user's code was (`File "segv.py", line 3`), not how the worker
    ran it."""
    if "Fatal Python error" not in tail:
        return tail
    return "\n".join(line for line in tail.splitlines() if not _OUR_FRAME.match(line))


def _forget(waiter: asyncio.Future[Any] | None) -> None:
    """A reply nobody waits for any more: its failure (the worker went away while the request
    was being sent) is read here, not reported later as never retrieved."""
    if waiter is not None and waiter.done() and not waiter.cancelled():
        waiter.exception()


class _Route:
    """One batch's events, handed to its `on_event` as they are read. `finished` is True at
    the batch's end, False when the worker went away first. A caller that stopped waiting
    (its `execute` was cancelled, which cancels `finished`) is handed nothing more."""

    def __init__(
        self, on_event: EventCallback | None, accepted: asyncio.Future[None] | None = None
    ) -> None:
        self.on_event = on_event
        self.accepted = accepted
        self.results: list[ChunkOutcome] = []
        self.callback_error: BaseException | None = None
        self.finished: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def deliver(self, event: dict[str, Any]) -> None:
        if self.finished.done():
            return
        kind = event.get("ev")
        if kind == "accepted":
            if self.accepted is not None and not self.accepted.done():
                self.accepted.set_result(None)
            return
        if kind == "batch_done":
            self.finished.set_result(True)
            return
        if kind in ("result", "skipped"):
            self.results.append(cast("ChunkOutcome", event))  # decoded from the executor schema
        if self.on_event is not None and self.callback_error is None and kind in CHUNK_EVENTS:
            try:
                self.on_event(cast("ExecutorEvent", event))
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # raised by `_outcome`, in the caller's task; the
                self.callback_error = exc  # batch must still be read

    def lost(self) -> None:
        if not self.finished.done():
            self.finished.set_result(False)


class _EventReader(asyncio.Protocol):
    """The worker's event pipe: one JSON event a line, each routed as soon as its line is
    complete. A line over LINE_LIMIT, like the end of the pipe, ends the stream."""

    def __init__(self, client: WorkerClient) -> None:
        self._client = client
        self._buffer = bytearray()
        self._searched = 0  # bytes of the buffer known to hold no line end
        self._transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.ReadTransport", transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        if self._client._eof:
            return
        buffer += data
        start = 0
        try:
            while True:
                end = buffer.find(b"\n", max(start, self._searched))
                if end < 0:
                    break
                if end - start > LINE_LIMIT:
                    self._end(f"an event line over {LINE_LIMIT} bytes")
                    return
                line = bytes(buffer[start : end + 1])
                start = end + 1  # taken before it is routed: a line is never routed twice
                try:
                    event = decode(line)
                except (ValueError, RecursionError):  # not one of our events: skipped
                    continue
                try:
                    self._client._dispatch(event)
                except Exception:  # an event it cannot route: the end of the stream, as before
                    log.warning("unreadable event from the worker; treating its pipe as closed")
                    self._end("an event the server could not read")
                    return
                if self._client._eof:
                    return
        finally:
            if start and buffer:
                del buffer[:start]
            self._searched = len(buffer)
        if len(buffer) > LINE_LIMIT:
            self._end(f"an event line over {LINE_LIMIT} bytes")

    def _end(self, why: str) -> None:
        """A line over LINE_LIMIT, or one that cannot be routed: the end of the stream
        (nothing more is read or routed; the worker counts as gone, and is killed, `why` being
        the reason it reports)."""
        self._buffer.clear()
        self._searched = 0
        if self._client._kill_reason is None:
            self._client._kill_reason = f"killed: it sent {why}"
        self._client._on_eof()
        if self._transport is not None:
            self._transport.close()

    def eof_received(self) -> bool | None:
        self._client._on_eof()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._client._on_eof()
