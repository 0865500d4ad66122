"""The zygote: one small process per interpreter that forks the workers (Linux).

Why: a process is dumpable from execve until its `prctl(PR_SET_DUMPABLE, 0)` (nodump.py), and
in that window code of the same user (another document's statements) can read its
/proc/<pid>/environ and /proc/<pid>/mem. A worker exec'd for every start (spares, restarts,
new documents) would open that window again and again. The kernel copies the flag on fork
and resets it only on execve, so workers forked from a process that is already non-dumpable
are never readable, not even for a moment. Only the zygote itself goes through the window,
once per interpreter (and environment), before it holds anything but the scrubbed
environment that executed code is handed anyway (spawn.py explains why that environment and
not an empty one).

Protocol, over a SOCK_SEQPACKET socket the server passes as argv[1] (one JSON message per
packet, so no framing):
- zygote -> server `{"ev": "hello", "pid", "dumpable"}` once it is non-dumpable and has
  imported everything a worker needs (so a fork starts a worker without importing anything);
- server -> zygote `{"op": "spawn", "id"}` with three fds attached (SCM_RIGHTS): the read end
  of the worker's request pipe, the write end of its stderr pipe, and of its result pipe. The
  zygote forks; the child makes them its fds 0, 2 and 3 (fd 1 is /dev/null: nothing can reach
  the LSP's stdout) and closes every other fd, so that executed code can never talk to the
  zygote or see another worker's pipes. It then reads its launch settings (argv, environment,
  working directory; `read_launch`) from its own request pipe, where the server wrote them:
  the zygote never sees a worker's settings. Answer `{"ev": "spawned", "id", "pid"}` or
  `{"ev": "spawn_failed", "id", "error"}`;
- server -> zygote `{"op": "signal", "pid", "sig", "group"}`: signal a worker (or its process
  group), only while it is an unreaped child, so a reused pid is never hit;
- zygote -> server `{"ev": "exit", "pid", "returncode"}` when a worker ends (returncode as
  asyncio reports it: negative for a signal). Before reaping it, the zygote SIGKILLs what is
  left of the worker's process group (its pid still names the group while it is a zombie).

Each worker leads its own session (`start_new_session` semantics: no terminal Ctrl-C; the
server can kill its whole group) and dies with the zygote (PR_SET_PDEATHSIG). When the server
goes away (EOF on the socket), the zygote kills every worker's group and exits; a zygote started
from the server's main thread is also sent SIGCONT when the server dies (PR_SET_PDEATHSIG,
argv[2] the server's pid), so one that executed code keeps stopped wakes up to see that EOF even
when the server was SIGKILLed and ran no exit hook.

The zygote stays single-threaded (fork copies only the calling thread) and stdlib-only; it
runs on any Python the workers support (3.8+: no socket.recv_fds, no waitstatus_to_exitcode).
"""

from __future__ import annotations

import array
import fcntl
import gc
import json
import os
import selectors
import signal
import socket
import sys
import tempfile
import time
from typing import Any, NoReturn

from .nodump import make_undumpable_or_exit

RESULT_FD = 3  # the worker's result pipe, as `--result-fd 3`
MAX_LAUNCH = 64 * 1024 * 1024  # launch settings: argv, environment, cwd
PR_SET_PDEATHSIG = 1
EXIT_BAD_LAUNCH = 73  # the child could not take its launch settings (bad cwd, short frame)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 255


def _recv(sock: socket.socket) -> tuple[bytes, list[int]]:
    """One packet and the fds that came with it (socket.recv_fds is 3.9+)."""
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(8 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return data, list(fds)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass  # the server is gone: the loop sees EOF next


def _read_exact(fd: int, size: int) -> bytes:
    parts, left = [], size
    while left:
        data = os.read(fd, min(left, 1 << 20))
        if not data:
            raise EOFError("the launch settings ended early")
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def read_launch(fd: int = 0) -> dict[str, Any]:
    """The launch frame the server writes first on the worker's request pipe: an 8-byte
    big-endian length, then JSON. Read exactly, so no byte of the first request is taken."""
    size = int.from_bytes(_read_exact(fd, 8), "big")
    if size > MAX_LAUNCH:
        raise ValueError(f"launch settings of {size} bytes")
    launch = json.loads(_read_exact(fd, size).decode("utf-8"))
    if not isinstance(launch, dict):
        raise ValueError("launch settings are not an object")
    return launch


def launch_frame(argv: list[str], env: dict[str, str], cwd: str) -> bytes:
    """What the server writes (see read_launch)."""
    body = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode("utf-8")
    return len(body).to_bytes(8, "big") + body


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _close_other_fds(keep: set[int]) -> None:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        names = [str(fd) for fd in range(3, 1024)]
    for name in names:
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own fd, already closed


def _become_worker(zygote_pid: int, fds: list[int], closers: list[Any]) -> NoReturn:
    """In the forked child: take the fds, the launch settings, then run the worker. Never
    returns into the zygote's loop."""
    code = 70
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        if sys.platform.startswith("linux"):
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != zygote_pid:  # the zygote died before the prctl
            os._exit(code)
        for close in closers:  # the zygote's socket, selector and wakeup pipe
            try:
                close()
            except OSError:
                pass
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds]  # out of the way of 0..3
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(high[0], 0)  # no zip(strict=): this runs on Python 3.8 too
        os.dup2(devnull, 1)
        os.dup2(high[1], 2)
        os.dup2(high[2], RESULT_FD)
        _close_other_fds({0, 1, 2, RESULT_FD})
        code = EXIT_BAD_LAUNCH
        launch = read_launch(0)
        os.environ.clear()
        os.environ.update(launch["env"])
        if hasattr(time, "tzset"):
            time.tzset()  # TZ as the worker's environment says
        tempfile.tempdir = None  # picked from TMPDIR (of the worker's env) on first use
        if launch.get("cwd"):
            os.chdir(launch["cwd"])
        code = 70
        from .main import main as worker_main

        sys.argv = [""]
        worker_main([str(a) for a in launch["argv"]])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:
        try:
            os.write(2, f"eager-lsp worker: cannot start: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
    os._exit(code)


class Zygote:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pid = os.getpid()
        self.children: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(sock, selectors.EVENT_READ)
        self.selector.register(self.wake_r, selectors.EVENT_READ)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(self.wake_w)

    def serve(self) -> NoReturn:
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.sock:
                    self._request()
                else:
                    try:
                        while os.read(self.wake_r, 512):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
            self._reap()

    def _request(self) -> None:
        try:
            data, fds = _recv(self.sock)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        if not data:
            self._leave()
        try:
            message = json.loads(data.decode("utf-8"))
            op = message.get("op")
            if op == "spawn":
                self._spawn(message, fds)
            elif op == "signal":
                self._signal(message)
        except (ValueError, AttributeError, TypeError):
            pass  # a malformed request: nothing to answer
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _spawn(self, message: dict[str, Any], fds: list[int]) -> None:
        request_id = message.get("id")
        if len(fds) != 3:
            _send(self.sock, {"ev": "spawn_failed", "id": request_id, "error": "expected 3 fds"})
            return
        closers = [self.selector.close, self.sock.close, lambda: os.close(self.wake_r)]
        closers.append(lambda: os.close(self.wake_w))
        try:
            pid = os.fork()
        except OSError as exc:
            _send(self.sock, {"ev": "spawn_failed", "id": request_id, "error": str(exc)})
            return
        if pid == 0:
            _become_worker(self.pid, fds, closers)
        self.children.add(pid)
        _send(self.sock, {"ev": "spawned", "id": request_id, "pid": pid})

    def _signal(self, message: dict[str, Any]) -> None:
        pid, sig = int(message["pid"]), int(message["sig"])
        if pid not in self.children:
            return  # already reaped: the number may belong to someone else now
        try:
            if message.get("group"):
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except OSError:
            pass

    def _reap(self) -> None:
        while self.children:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or not info.si_pid:
                return
            pid = info.si_pid
            try:  # what the worker started is left in its group: the zombie still names it
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            _, status = os.waitpid(pid, 0)
            self.children.discard(pid)
            _send(self.sock, {"ev": "exit", "pid": pid, "returncode": _exit_code(status)})

    def _leave(self) -> NoReturn:
        """The server is gone: no worker outlives it."""
        for pid in self.children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)


def main(argv: list[str] | None = None) -> None:
    make_undumpable_or_exit("the zygote")  # first; then nothing new can trace us
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 and sys.platform.startswith("linux"):
        # Woken when the server dies, even if executed code keeps us stopped (SIGSTOP, same
        # uid): a stopped zygote never sees the EOF, and a SIGKILLed server runs no exit hook.
        # SIGCONT, not SIGKILL: awake, the zygote sees the EOF and kills each worker's process
        # group (what user code started), which a SIGKILLed zygote could not.
        _prctl(PR_SET_PDEATHSIG, signal.SIGCONT)
        if os.getppid() != int(args[1]):  # it died before the prctl
            os._exit(0)
    sock = socket.socket(fileno=int(args[0]))
    os.set_inheritable(sock.fileno(), False)
    from . import isolation
    from . import main as _worker_main  # noqa: F401  # imported once here, not per worker

    isolation.preload()
    zygote = Zygote(sock)
    from .nodump import is_dumpable

    gc.collect()
    gc.freeze()  # what is loaded now stays shared (copy-on-write) with every worker
    _send(sock, {"ev": "hello", "pid": zygote.pid, "dumpable": is_dumpable()})
    zygote.serve()
