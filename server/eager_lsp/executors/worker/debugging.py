"""debugpy in the worker: off until the parent asks for it, then listening on loopback.

Rules, and why:
- Nothing at start. A worker starts with debugpy neither imported nor listening: no port
  that any local program could attach to, no tracing, and no cost to executed code (on
  Python 3.11 an idle listening pydevd slowed CPU-bound code about 2x).
- The parent asks with {"op": "debug_listen", "id": N} and gets
  {"ev": "debug", "id": N, "port": int | null, "error": str | null}. Requests are read by a
  thread (`RequestReader`), and this op is answered on that thread, so it works while the
  main thread is deep in user code: that is exactly when a runaway loop needs breaking into.
- pydevd makes a late start trace the already-running main thread: `settrace` calls
  `enable_tracing(apply_to_all_threads=True)`, which on CPython sets the trace function
  on every thread through its attach library (`pydevd_tracing.set_trace_to_threads`), and
  `set_tracing_for_untraced_contexts` marks the frames already running. On 3.12+ it uses
  sys.monitoring, which is process-wide anyway. tests/worker/test_debugging.py pauses a
  `while True:` this way.
- No adapter process and so no secret on a command line: `in_process_debug_adapter=True`
  makes pydevd itself speak DAP on the port. The default adapter is a child process whose
  `--server-access-token` shows in `ps` to every user on the machine.
- Loopback only: the host is 127.0.0.1, never taken from the request. And only the user
  running the worker (or root) may attach: other accounts reach loopback too, and DAP has no
  secret to check, so each connection's owner is (debug_owner.py; Linux).
- Once listening, debugpy cannot stop listening (its API has no way to); the port lives
  until the interpreter restarts. Listening is idempotent: a second request returns the
  same port.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import IO, TYPE_CHECKING, Any

from . import debug_owner, isolation

if TYPE_CHECKING:  # the worker also runs on Python 3.8, where these do not subscript
    from collections.abc import Callable

    Emit = Callable[[dict[str, Any]], None]

DEBUGPY_MIN_PYTHON = (3, 10)  # debugpy 1.8.x: Requires-Python >=3.10
DEBUG_HOST = "127.0.0.1"
DISABLED = "debugging is disabled for this interpreter"


class Debugger:
    """Starts debugpy at most once, on request, from any thread."""

    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed
        self._lock = threading.Lock()
        self._result: tuple[int | None, str | None] | None = None

    def listen(self) -> tuple[int | None, str | None]:
        """(port, None) once debugpy listens on DEBUG_HOST; (None, reason) if it cannot."""
        if not self.allowed:
            return None, DISABLED
        with self._lock:
            if self._result is None or self._result[0] is None:
                self._result = _start_debugpy()
            return self._result


# Stdlib modules pydevd imports lazily once listening (seen with a workspace that shadows every
# stdlib name: each of these ran from the workspace before they were loaded here).
PYDEVD_LAZY_IMPORTS = [
    "base64",
    "calendar",
    "code",
    "codeop",
    "csv",
    "datetime",
    "decimal",
    "email",
    "email.utils",
    "fcntl",
    "getpass",
    "glob",
    "gzip",
    "html",
    "http",
    "http.client",
    "ipaddress",
    "mimetypes",
    "ntpath",
    "pathlib",
    "pickle",
    "pkgutil",
    "pydoc",
    "pyexpat",
    "quopri",
    "socketserver",
    "ssl",
    "stringprep",
    "subprocess",
    "urllib",
    "urllib.parse",
    "xml",
    "xml.dom.minidom",
    "xmlrpc",
    "xmlrpc.client",
    "zipfile",
]


def _start_debugpy() -> tuple[int | None, str | None]:
    if sys.version_info < DEBUGPY_MIN_PYTHON:
        major, minor = DEBUGPY_MIN_PYTHON
        return None, f"debugpy needs Python {major}.{minor} or newer"
    try:
        debugpy = isolation.own_import("debugpy")  # never a workspace `debugpy/`

        # pydevd imports many stdlib modules as it starts and later, on its own threads, while
        # the workspace is first on sys.path: load them now, against the start-up path only.
        with isolation.own_path():
            for name in PYDEVD_LAZY_IMPORTS:
                try:
                    __import__(name)
                except ImportError:
                    pass
            if debug_owner.checks_owner():
                isolation.own_import("debugpy.server.api")  # (imports pydevd)
                if not debug_owner.install(sys.modules.get("pydevd")):
                    version = getattr(debugpy, "__version__", "?")
                    return None, (
                        f"debugpy {version} gives no way to check who attaches, so it does not "
                        "listen (1.8.22 works)"
                    )
            endpoint = debugpy.listen((DEBUG_HOST, 0), in_process_debug_adapter=True)
        if not endpoint:  # older debugpy: this mode did not say which port it took (#1656)
            version = getattr(debugpy, "__version__", "?")
            return None, f"debugpy {version} does not report its port: update it (1.8.22 works)"
        return int(endpoint[1]), None
    except BaseException as exc:  # ImportError, RuntimeError, an old debugpy's TypeError
        return None, f"{type(exc).__name__}: {exc}"


class RequestReader:
    """Reads the parent's request lines on a thread. `debug_listen` is answered at once, on
    this thread; every other request is queued for the main thread (`requests()`)."""

    def __init__(
        self,
        stream: IO[bytes],
        emit: Emit,
        debugger: Debugger,
        decode: Any,
        withdraw: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._stream = stream
        self._emit = emit
        self._debugger = debugger
        self._decode = decode
        self._withdraw = withdraw
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="eager-lsp-requests", daemon=True)
        # pydevd leaves threads so marked alone: neither traced nor listed to the client.
        self.thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            for line in self._stream:
                if self._answer_here(line):
                    continue
                self._queue.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self._queue.put(None)

    def _answer_here(self, line: bytes) -> bool:
        """`debug_listen` and `withdraw` are taken here, while a chunk may run: the one to
        break into it, the other to skip what waits behind it."""
        head = line[:32]  # cheap: exec lines can be large, and "op" comes first
        if b'"debug_listen"' not in head and b'"withdraw"' not in head:
            return False
        try:
            request = self._decode(line)
        except ValueError:
            return False  # the main thread reports it
        if request.get("op") == "withdraw":
            if self._withdraw is not None:
                self._withdraw(request)
            return True
        if request.get("op") != "debug_listen":
            return False
        port, error = self._debugger.listen()
        self._emit({"ev": "debug", "id": request.get("id"), "port": port, "error": error})
        return True

    def requests(self) -> Any:
        """The other request lines, in order, until the parent closes the pipe."""
        while True:
            line = self._queue.get()
            if line is None:
                return
            yield line
