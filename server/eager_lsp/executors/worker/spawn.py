"""How the server gets a worker process: forked by its interpreter's zygote, or exec'd.

Linux (the default there): forked by a zygote (executors/worker/zygote.py), so that no worker is ever
dumpable, not even between execve and its own prctl: executed code cannot read a starting
worker's /proc/<pid>/environ or mem. One zygote per interpreter and environment, started on
first use and kept for the life of the server process; one reader thread per zygote routes
its messages to the event loops that asked (the CLI and the tests run several loops in turn).

The zygote starts with the same scrubbed environment its workers get, not an empty one: during
its own dumpable window (its first milliseconds, before it has loaded anything else) that is
all it holds, and executed code is handed that environment anyway (os.environ). An empty one
would break interpreters that need theirs at exec time: LD_LIBRARY_PATH (conda, Nix builds),
PATH and PYENV_* for pyenv shims and wrapper scripts, the locale that fixes the file-system
encoding for the life of the process.

`options.zygote=False`, and other platforms (no /proc, no dumpable flag; fork without exec is
unsafe on macOS), exec the worker directly as before (`DirectProcess`). If the zygote itself
cannot start, the worker start fails with the zygote's exit status and stderr: there is no
silent fallback to the exec path.

A zygote that dies takes its workers along (PR_SET_PDEATHSIG); they report "its zygote
exited" and the next start brings up a new zygote. The server never depends on one.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import itertools
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from .launch import worker_argv, worker_command, zygote_command
from .memory import EXIT_MEMORY
from .zygote import launch_frame

STDERR_TAIL = 16 * 1024
HELLO_TIMEOUT_S = 60.0
KILL_REPORT_S = 5.0  # how long a SIGKILL'd worker's exit report may take before we stop waiting


class StartError(Exception):
    """The worker process could not be started; the message says why."""


def describe_exit(returncode: int | None, memory_limit_mb: int = 0, *, worker: bool = True) -> str:
    """Why a process ended. A SIGKILL'd worker most often hit the kernel's OOM killer; a
    zygote holds little memory, so for it (`worker=False`) that is not guessed."""
    if returncode is None:
        return "stopped responding"
    if returncode == EXIT_MEMORY:
        return f"memory limit reached ({memory_limit_mb} MB)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (out of memory?)" if worker and -returncode == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exited with code {returncode}"


def use_zygote(wanted: bool) -> bool:
    return wanted and sys.platform.startswith("linux")


class WorkerProcess(Protocol):
    """What WorkerClient needs of its process, whichever way it was started."""

    pid: int
    stdin: asyncio.StreamWriter
    stderr: asyncio.StreamReader

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int | None: ...

    def send_signal(self, sig: int) -> None: ...

    def kill_group(self) -> None: ...

    def describe_exit(self, memory_limit_mb: int) -> str: ...


# -- exec'd directly ---------------------------------------------------------------------------


class DirectProcess:
    """An exec'd worker (asyncio subprocess), leader of its own session."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self.pid = proc.pid
        assert proc.stdin is not None and proc.stderr is not None
        self.stdin: asyncio.StreamWriter = proc.stdin
        self.stderr: asyncio.StreamReader = proc.stderr

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    async def wait(self) -> int | None:
        return await self._proc.wait()

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(sig)

    def kill_group(self) -> None:
        if self._proc.returncode is None:  # unreaped: the pid is still ours
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    def describe_exit(self, memory_limit_mb: int) -> str:
        return describe_exit(self._proc.returncode, memory_limit_mb)


async def _start_direct(
    python: str, env: Mapping[str, str], cwd: str | None, debug: bool, memory_limit_mb: int
) -> tuple[DirectProcess, int]:
    read_fd, write_fd = os.pipe()
    try:
        command = worker_command(python, write_fd, debug=debug, memory_limit_mb=memory_limit_mb)
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(write_fd,),
            cwd=cwd,
            env=dict(env),
            start_new_session=True,  # no terminal Ctrl-C; kill() takes its children too
        )
    except OSError as exc:  # no such interpreter, not executable, bad cwd
        os.close(read_fd)
        raise StartError(f"cannot start {python}: {exc}")
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return DirectProcess(proc), read_fd


# -- forked by a zygote --------------------------------------------------------------------------


class ZygoteGone(Exception):
    pass


def _uncancellable() -> concurrent.futures.Future[Any]:
    """A future the reader thread resolves. Several starts may wait on one (the hello), and
    a waiter that is cancelled or times out would cancel it for all (asyncio.wrap_future
    passes cancellation on); a running future cannot be cancelled."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_running_or_notify_cancel()
    return future


class ZygoteChild:
    """A worker forked by a zygote. Its exit status comes from the zygote; signals go through
    the zygote, which sends them only while the worker is its unreaped child."""

    stdin: asyncio.StreamWriter
    stderr: asyncio.StreamReader

    def __init__(self, zygote: Zygote, loop: asyncio.AbstractEventLoop) -> None:
        self._zygote = zygote
        self._loop = loop
        self.pid = 0
        self.returncode: int | None = None
        self.lost: str | None = None  # why it ended without a status of its own
        self._exited = asyncio.Event()
        self.spawned: concurrent.futures.Future[int] = _uncancellable()

    def report_exit(self, returncode: int, lost: str | None = None) -> None:
        """From the zygote's reader thread."""

        def apply() -> None:
            if self.returncode is None:
                self.returncode, self.lost = returncode, lost
            self._exited.set()

        try:
            self._loop.call_soon_threadsafe(apply)
        except RuntimeError:  # that loop is closed: nobody waits any more
            apply()

    async def wait(self) -> int | None:
        await self._exited.wait()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None and self.pid > 0:
            self._zygote.signal(self.pid, sig, group=False)

    def kill_group(self) -> None:
        if self.returncode is None and self.pid > 0:  # pid 0 would mean our own group
            self._zygote.signal(self.pid, signal.SIGKILL, group=True)
            self._loop.call_later(KILL_REPORT_S, self._unreported)

    def _unreported(self) -> None:
        if self.returncode is None and self.pid > 0:  # the zygote is wedged: stop waiting
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
            self.returncode, self.lost = -signal.SIGKILL, "killed (its zygote did not report)"
            self._exited.set()

    def describe_exit(self, memory_limit_mb: int) -> str:
        if self.lost is not None:
            return self.lost
        return describe_exit(self.returncode, memory_limit_mb)


class Zygote:
    """The server's end of one zygote process (see executors/worker/zygote.py for the protocol)."""

    def __init__(self, python: str, env: Mapping[str, str]) -> None:
        self.python = python
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # PR_SET_PDEATHSIG fires when the *thread* that forked the zygote ends: only tie
            # it to a thread that lasts as long as the process (a server's event loop).
            main = threading.current_thread() is threading.main_thread()
            self.popen = subprocess.Popen(
                zygote_command(python, theirs.fileno(), os.getpid() if main else None),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                cwd="/",  # never a workspace; each worker goes to its own directory
                env=dict(env),
                start_new_session=True,  # no terminal Ctrl-C
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.pid = self.popen.pid
        self._sock = ours
        self._send_lock = threading.RLock()  # a finalizer may send from inside a send
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, ZygoteChild] = {}
        self._children: dict[int, ZygoteChild] = {}
        self._stderr = bytearray()
        self.gone: str | None = None  # why it is no longer usable
        self._retired = False
        self.hello: concurrent.futures.Future[dict[str, Any]] = _uncancellable()
        self._thread = threading.Thread(
            target=self._read, name=f"eager-lsp-zygote-{self.pid}", daemon=True
        )
        self._thread.start()

    # -- asked by the event loops ------------------------------------------------------------

    async def spawn(self, frame: bytes) -> tuple[ZygoteChild, int]:
        """Fork a worker that reads `frame` (its launch settings) first; returns it and the
        read end of its result pipe."""
        loop = asyncio.get_running_loop()
        child = ZygoteChild(self, loop)
        (req_r, req_w), (err_r, err_w), (res_r, res_w) = os.pipe(), os.pipe(), os.pipe()
        theirs = [req_r, err_w, res_w]
        ours = [req_w, err_r]
        try:
            child.stdin = await _writer(loop, ours.pop(0))
            child.stderr = await _reader(loop, ours.pop(0))
            child.stdin.write(frame)  # waits in the pipe (and the transport) until it reads
            with self._lock:
                if self.gone is not None:
                    raise ZygoteGone(self.gone)
                request_id = next(self._ids)
                self._pending[request_id] = child
            try:
                self._send({"op": "spawn", "id": request_id}, theirs)
            finally:
                for fd in theirs:  # the zygote has its own copies now
                    os.close(fd)
                theirs = []
            child.pid = await asyncio.wait_for(asyncio.wrap_future(child.spawned), HELLO_TIMEOUT_S)
            # A handle dropped while its worker runs (its event loop closed) kills it, as
            # asyncio does for the subprocesses it started; harmless once it has ended.
            weakref.finalize(child, self.signal, child.pid, signal.SIGKILL, group=True)
            await child.stdin.drain()
        except BaseException:
            child.kill_group()
            for fd in [*theirs, *ours, res_r]:
                with contextlib.suppress(OSError):
                    os.close(fd)
            if hasattr(child, "stdin"):
                child.stdin.close()
            raise
        return child, res_r

    def signal(self, pid: int, sig: int, *, group: bool) -> None:
        with contextlib.suppress(ZygoteGone):
            self._send({"op": "signal", "pid": pid, "sig": int(sig), "group": group})

    def close(self) -> None:
        """Stop it: its workers die with it. SIGCONT first wakes a zygote that executed code
        stopped (SIGSTOP, same uid), so that it sees the EOF and cleans up."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.popen.send_signal(signal.SIGCONT)

    def retire(self) -> None:
        """No new workers come from it (it left the registry); it stops once its last worker
        has ended (a start that raced with this fails over to a new zygote)."""
        with self._lock:
            self._retired = True
            idle = not self._children and not self._pending
        if idle:
            self.close()

    def _send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        with self._send_lock:
            try:
                if fds:
                    socket.send_fds(self._sock, [data], fds)
                else:
                    self._sock.send(data)
            except OSError as exc:
                raise ZygoteGone(self.gone or f"the zygote's socket failed: {exc}")

    # -- its reader thread -------------------------------------------------------------------------

    def _read(self) -> None:
        stderr = self.popen.stderr
        assert stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(self._sock, selectors.EVENT_READ)
        selector.register(stderr, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._sock:
                        try:
                            data = self._sock.recv(65536)
                        except OSError:
                            data = b""
                        if not data:
                            return
                        with contextlib.suppress(ValueError, TypeError, AttributeError):
                            self._dispatch(json.loads(data))
                    elif not self._take_stderr(stderr.fileno()):
                        selector.unregister(stderr)
        finally:
            selector.close()
            self._died()

    def _take_stderr(self, fd: int) -> bool:
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        self._stderr += data
        del self._stderr[:-STDERR_TAIL]
        return bool(data)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("ev")
        if kind == "hello":
            if not self.hello.done():
                self.hello.set_result(message)
            return
        if kind in ("spawned", "spawn_failed"):
            with self._lock:
                child = self._pending.pop(int(message.get("id") or 0), None)
                if child is not None and kind == "spawned":
                    self._children[int(message["pid"])] = child
            if kind == "spawn_failed" and self._retired:
                with self._lock:
                    idle = not self._children and not self._pending
                if idle:
                    self.close()
            if child is None or child.spawned.done():
                return
            if kind == "spawned":
                child.spawned.set_result(int(message["pid"]))
            else:
                child.spawned.set_exception(StartError(f"fork failed: {message.get('error')}"))
            return
        if kind == "exit":
            with self._lock:
                child = self._children.pop(int(message["pid"]), None)
                idle = self._retired and not self._children and not self._pending
            if child is not None:
                child.report_exit(int(message["returncode"]))
            if idle:
                self.close()

    def _died(self) -> None:
        """EOF from the zygote: collect why, fail what waits, mark its workers lost."""
        with contextlib.suppress(OSError):
            self._sock.close()
        try:
            returncode: int | None = self.popen.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            returncode = self.popen.wait()
        stderr = self.popen.stderr
        if stderr is not None:
            with contextlib.suppress(OSError):
                os.set_blocking(stderr.fileno(), False)
                while self._take_stderr(stderr.fileno()):
                    pass
            stderr.close()
        reason = describe_exit(returncode, worker=False)
        tail = self._stderr.decode("utf-8", errors="replace").strip()
        with self._lock:
            self.gone = f"{reason}\n{tail}" if tail else reason
            pending, self._pending = list(self._pending.values()), {}
            children, self._children = list(self._children.values()), {}
        if not self.hello.done():
            self.hello.set_exception(ZygoteGone(self.gone))
        for child in pending:
            if not child.spawned.done():
                child.spawned.set_exception(ZygoteGone(self.gone))
        lost = f"killed: its zygote (pid {self.pid}) {reason}"
        for child in children:
            child.report_exit(-signal.SIGKILL, lost)


# Most recently used last. A server has one environment, so one zygote per interpreter; a
# process whose environment changes (the tests: PYTEST_CURRENT_TEST) would otherwise collect
# zygotes, so beyond MAX_ZYGOTES the least recently used one is retired.
_zygotes: OrderedDict[tuple[Any, ...], Zygote] = OrderedDict()
_zygotes_lock = threading.Lock()
MAX_ZYGOTES = 4
EXIT_WAIT_S = 2.0  # at exit, how long zygotes get to clean up before they are killed
_exit_hook = False


def zygote_for(python: str, env: Mapping[str, str]) -> Zygote:
    """The live zygote for this interpreter and environment, started if there is none."""
    key = (python, tuple(sorted(env.items())))
    retired: list[Zygote] = []
    with _zygotes_lock:
        zygote = _zygotes.get(key)
        if zygote is None or zygote.gone is not None:
            zygote = _zygotes[key] = Zygote(python, env)
            global _exit_hook
            if not _exit_hook:
                _exit_hook = True
                atexit.register(_close_at_exit)
        _zygotes.move_to_end(key)
        while len(_zygotes) > MAX_ZYGOTES:
            retired.append(_zygotes.popitem(last=False)[1])
    for old in retired:
        old.retire()
    return zygote


def close_zygotes(
    python: str | None = None, env: Mapping[str, str] | None = None, *, wait_s: float = 0.0
) -> None:
    """Stop every zygote, or the one for `python` and `env` (and so the workers they forked);
    with `wait_s`, kill those not gone by then."""
    with _zygotes_lock:
        if python is None or env is None:
            zygotes = list(_zygotes.values())
            _zygotes.clear()
        else:
            one = _zygotes.pop((python, tuple(sorted(env.items()))), None)
            zygotes = [] if one is None else [one]
    for zygote in zygotes:
        zygote.close()
    deadline = time.monotonic() + wait_s
    for zygote in zygotes if wait_s > 0 else ():
        try:
            zygote.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:  # stopped again, or hung: its workers die with it
            with contextlib.suppress(OSError):
                zygote.popen.kill()


def _close_at_exit() -> None:
    """The zygotes go with the process that started them, even one that executed code keeps
    stopped (it would see no EOF)."""
    close_zygotes(wait_s=EXIT_WAIT_S)


async def _ready_zygote(python: str, env: Mapping[str, str]) -> Zygote:
    try:
        zygote = zygote_for(python, env)
    except OSError as exc:  # no such interpreter, not executable
        raise StartError(f"cannot start {python}: {exc}")
    try:
        hello = await asyncio.wait_for(asyncio.wrap_future(zygote.hello), HELLO_TIMEOUT_S)
    except asyncio.TimeoutError:
        zygote.close()
        raise StartError(
            f"worker failed to start: the zygote of {python} was not ready within "
            f"{HELLO_TIMEOUT_S:.0f} s"
        )
    except ZygoteGone as exc:
        raise StartError(f"worker failed to start: {python} (the zygote) {exc}")
    if hello.get("dumpable"):  # it could not make itself non-dumpable: say so, do not go on
        zygote.close()
        raise StartError(
            f"worker failed to start: the zygote of {python} could not make itself non-dumpable"
        )
    return zygote


async def start_process(
    python: str,
    *,
    env: Mapping[str, str],
    cwd: str | None,
    debug: bool,
    memory_limit_mb: int,
    zygote: bool,
) -> tuple[WorkerProcess, int]:
    """Start a worker process; returns it and the read end of its result pipe. StartError
    says why it could not start."""
    if not use_zygote(zygote):
        return await _start_direct(python, env, cwd, debug, memory_limit_mb)
    argv = worker_argv(3, debug=debug, memory_limit_mb=memory_limit_mb)
    frame = launch_frame(argv, dict(env), cwd or os.getcwd())
    for attempt in (1, 2):  # a zygote that died meanwhile is replaced once
        parent = await _ready_zygote(python, env)
        try:
            return await parent.spawn(frame)
        except ZygoteGone as exc:
            if attempt == 2:
                raise StartError(f"worker failed to start: its zygote exited: {exc}")
        except asyncio.TimeoutError:
            raise StartError(
                f"worker failed to start: its zygote did not fork within {HELLO_TIMEOUT_S:.0f} s"
            )
    raise AssertionError("unreachable")


async def _writer(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.StreamWriter:
    pipe = os.fdopen(fd, "wb", buffering=0)
    protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
    transport, _ = await loop.connect_write_pipe(lambda: protocol, pipe)
    return asyncio.StreamWriter(transport, protocol, None, loop)


async def _reader(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    pipe = os.fdopen(fd, "rb", buffering=0)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader
