"""The language server's entry point: the server object with every feature wired to it.

`build_server()` makes the `EagerServer` (lsp/language_server.py: state and services) and
registers the LSP methods and commands, each forwarding to the feature that does the work
(lsp/handlers.py); the features get the server typed as their narrow context
(lsp/context.py). `serve()` runs it on stdio or TCP. Nothing but JSON-RPC goes to stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
from pathlib import Path
from typing import Any

from eager_lsp.lsp import exit_deadline
from eager_lsp.lsp.handlers import register
from eager_lsp.lsp.language_server import SHUTDOWN_BUDGET_S, EagerServer

log = logging.getLogger(__name__)

__all__ = ["EagerServer", "build_server", "serve"]


def _configure_logging(log_file: Path | None) -> None:
    handler: logging.Handler
    if log_file is not None:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    given = os.environ.get("EAGER_LSP_LOG_LEVEL", "INFO")
    level = given.strip().upper()
    known = level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    root.setLevel(getattr(logging, level) if known else logging.INFO)
    if not known:  # said, not fatal: the editor starts the server and shows its log
        log.warning(
            "EAGER_LSP_LOG_LEVEL=%r is not a log level (DEBUG, INFO, WARNING, ERROR, CRITICAL): "
            "INFO is used",
            given[:40],
        )
    logging.getLogger("pygls").setLevel(logging.WARNING)
    for noisy in ("httpx", "httpcore", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def tcp_address(tcp: str) -> tuple[str, int] | None:
    """`HOST:PORT` (a bracketed IPv6 host too) as (host, port); None when it is not one."""
    host, _, port = tcp.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def build_server() -> EagerServer:
    server = EagerServer()
    register(server)
    return server


def _stacks_on_sigusr1() -> None:
    """`kill -USR1 <server pid>` writes every thread's stack to stderr (the editor's log for
    this server), so a server that seems stuck can say where without a debugger; the tests
    ask for it before they kill a server that did not exit. POSIX only."""
    import faulthandler
    import signal

    if hasattr(signal, "SIGUSR1"):
        with contextlib.suppress(ValueError, OSError, RuntimeError):  # not the main thread
            faulthandler.register(signal.SIGUSR1, all_threads=True)


def serve(tcp: str | None, log_file: Path | None) -> int:
    """Run the language server on stdio (default) or `HOST:PORT`; returns the exit code."""
    try:
        _configure_logging(log_file)
    except OSError as exc:
        print(
            f"eager-lsp: cannot write the log file {log_file}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    _stacks_on_sigusr1()
    if tcp:
        address = tcp_address(tcp)
        if address is None:
            print(
                f"eager-lsp: --tcp wants HOST:PORT (a port 0-65535), not {tcp!r}", file=sys.stderr
            )
            return 2
        server = build_server()
        try:
            server.start_tcp(*address)
        except OSError as exc:  # (bind: the port is taken, the address is not this machine's)
            print(f"eager-lsp: cannot listen on {tcp}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        return 0
    server = build_server()
    from eager_lsp.lsp.stdout import CoalescingStdout

    stdout = CoalescingStdout(sys.stdout.buffer)  # one write per loop turn, not per message
    sys.stdout = sys.stderr  # a stray print() must not corrupt the JSON-RPC stream
    return _serve_stdio(server, _raw_stdin(), stdout)


def _raw_stdin() -> Any:
    """stdin without Python's buffered reader (lsp/stdin.py says why)."""
    try:
        return io.FileIO(sys.stdin.fileno(), "rb", closefd=False)
    except (AttributeError, OSError, ValueError):  # no file descriptor: a replaced stdin
        return sys.stdin.buffer


def _serve_stdio(server: Any, stdin: Any, stdout: Any) -> int:
    """pygls's `start_io`, with stdin read by lsp/stdin.py; returns the exit code: 1 after an
    `exit` that came without a `shutdown` (as LSP asks, and as pygls's exit says), else 0."""
    import threading

    from pygls.io_ import StdoutWriter, run_async

    from eager_lsp.lsp.stdin import MessageReader

    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout))

    async def run() -> None:
        try:
            await run_async(
                stop_event=server._stop_event,
                reader=MessageReader(stdin),
                protocol=server.protocol,
                logger=log,
                error_handler=server.report_server_error,
            )
        finally:  # whatever happens next, the process ends (exit_deadline.py)
            exit_deadline.arm()
        # stdin ended (the editor closed it right after `shutdown`, or went away): answer a
        # shutdown already read before the loop ends and cancels it, and let an `exit` read
        # before it end the process as it does (EagerProtocol.exit_handled says why).
        await server.shutdown_answered()
        await server.protocol.exit_handled(SHUTDOWN_BUDGET_S + 1.2)  # beyond exit's own wait

    code = 0
    try:
        asyncio.run(run())
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
    except KeyboardInterrupt:
        pass
    except SystemExit as stop:  # pygls's exit: 0 after a shutdown, 1 without one
        code = stop.code if isinstance(stop.code, int) else 0
    finally:
        server.shutdown()
        write_pending = getattr(stdout, "write_pending", None)  # (lsp/stdout.py)
        if write_pending is not None:
            with contextlib.suppress(OSError, ValueError):  # the editor is gone
                write_pending()  # what the loop's end left unwritten
    return code
