"""`eager-lsp`: the core engine without an editor, the language server, and the benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from eager_lsp.core.detector import BoundaryDetector
from eager_lsp.worker.nodump import make_undumpable

if TYPE_CHECKING:
    from eager_lsp.core.session import KernelTarget, SessionConfig


def main(argv: Sequence[str] | None = None) -> int:
    # The server and the CLI hold API keys (environment, settings): executed code, running as
    # the same user, must not read them from /proc/<pid>/environ or /proc/<pid>/mem.
    make_undumpable()
    parser = build_parser()
    args = parser.parse_args(argv)
    # asyncio warns at exit about worker processes that were already reaped ("Unknown child
    # process pid …"): true, harmless, and confusing on a terminal.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eager-lsp",
        description="Run AI-written Python while it is still being written.",
    )
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("chunks", help="show where the boundary detector releases chunks")
    p.add_argument("file", type=Path)
    p.add_argument("--piece-size", type=_positive_int, default=4)
    p.add_argument("--json", action="store_true", help="one JSON object per line (the default)")
    p.set_defaults(func=cmd_chunks)

    p = sub.add_parser("run", help="stream a file through the pipeline as if a model wrote it")
    p.add_argument("file", type=Path)
    p.add_argument("--rate", type=float, default=50.0, help="tokens per second (0: no limit)")
    p.add_argument("--piece-size", type=_positive_int, default=4)
    _add_execution_args(p)
    p.add_argument("--json", action="store_true", help="print the final summary object only")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("generate", help="generate code with a model and run it as it streams")
    p.add_argument("prompt")
    p.add_argument("-o", "--output", type=Path, help="also write the code to this file")
    p.add_argument("--provider", choices=["auto", "local", "openai"], default=None)
    p.add_argument("--model")
    p.add_argument("--base-url")
    p.add_argument("--rate-limit", type=float, help="cap the stream at this many tokens/s")
    p.add_argument("--repair", type=int, default=0, help="repair attempts after an error")
    p.add_argument(
        "--repair-style",
        choices=["facts", "legacy"],
        default="facts",
        help="facts: runtime facts in the prompt, repeats dropped (default); legacy: the first "
        "repair prompt, kept for comparison",
    )
    p.add_argument(
        "--local-model",
        choices=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"],
        help="which bundled model the local provider runs",
    )
    p.add_argument("--max-tokens", type=int)
    _add_execution_args(p)
    p.add_argument("--json", action="store_true", help="print the final summary object only")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("serve", help="start the language server (stdio by default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--log-file", type=Path)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("bench", help="measure hidden latency against serial execution")
    p.add_argument("--quick", action="store_true", help="a small subset for CI (< 2 minutes)")
    p.add_argument("--out", type=Path, default=Path("bench-out"))
    p.set_defaults(func=cmd_bench)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_execution_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gate", choices=["eager", "safe", "serial"], default="safe")
    p.add_argument("--keep-going", action="store_true", help="do not stop at the first error")
    debug = p.add_mutually_exclusive_group()
    debug.add_argument(
        "--debug",
        action="store_true",
        help="start debugpy (127.0.0.1, in the interpreter) before the code runs and print"
        " where to attach; without it nothing listens",
    )
    debug.add_argument("--no-debug", action="store_true", help="the default; kept for old scripts")
    p.add_argument("--python", help="interpreter for the executed code (default: this one)")
    p.add_argument(
        "--env-allow",
        metavar="NAME",
        action="append",
        default=[],
        help="pass this environment variable to executed code although it looks like a secret",
    )
    p.add_argument(
        "--env-deny",
        metavar="PATTERN",
        action="append",
        default=[],
        help="also keep variables matching this shell pattern (case-insensitive) from it",
    )
    kernel = p.add_argument_group(
        "Jupyter kernel (instead of the worker; needs the `kernel` extra)"
    )
    kernel.add_argument(
        "--kernel", metavar="NAME", help="start this kernelspec (with --kernel-url: on the server)"
    )
    kernel.add_argument(
        "--kernel-connection",
        metavar="FILE",
        help="attach to a running kernel by its connection file (its state is used and kept;"
        " it is never shut down)",
    )
    kernel.add_argument(
        "--kernel-url",
        metavar="URL",
        help="a Jupyter Server or Enterprise Gateway, e.g. http://127.0.0.1:8888",
    )
    kernel.add_argument(
        "--kernel-token",
        metavar="TOKEN",
        help=f"the server's token (better: set {KERNEL_TOKEN_ENV}, which keeps it off the"
        " command line)",
    )


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"eager-lsp: cannot read {path}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        raise SystemExit(f"eager-lsp: {path} is not UTF-8 text: {exc}")


def cmd_chunks(args: argparse.Namespace) -> int:
    text = _read_source(args.file)
    detector = BoundaryDetector()
    size = args.piece_size
    released = []
    for i in range(0, len(text), size):
        released += detector.feed(text[i : i + size])
        if detector.error is not None:
            break
    else:
        released += detector.end()
    for chunk in released:
        record = {
            "start_line": chunk.start_line,
            "end_line": chunk.end_line,
            "released_at_offset": chunk.released_offset,
        }
        print(json.dumps(record), flush=True)
    if detector.error is not None:
        issue = detector.error
        print(
            f"{args.file}:{issue.line}:{issue.column + 1}: SyntaxError: {issue.message}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from eager_lsp.console import run_file

    text = _read_source(args.file)
    return asyncio.run(run_file(text, args))


def cmd_generate(args: argparse.Namespace) -> int:
    from eager_lsp.generate import generate_main

    return asyncio.run(generate_main(args))


TCP_WARNING = (
    "eager-lsp: warning: serving on TCP {address}: any program on this machine that can"
    " connect to it can drive the server, and through it run code as you. Prefer stdio."
)


def cmd_serve(args: argparse.Namespace) -> int:
    from eager_lsp.lsp.server import serve

    if args.tcp:
        warning = TCP_WARNING.format(address=args.tcp)
        host = args.tcp.rpartition(":")[0].strip("[]")
        if host not in ("", "127.0.0.1", "localhost", "::1"):
            warning += f" {host} is not a loopback address: other machines can reach it too."
        print(warning, file=sys.stderr, flush=True)
    return serve(tcp=args.tcp, log_file=args.log_file)


def cmd_bench(args: argparse.Namespace) -> int:
    from eager_lsp.bench.harness import bench_main

    return bench_main(quick=args.quick, out=args.out)


KERNEL_TOKEN_ENV = "EAGER_KERNEL_TOKEN"


def kernel_target_from_args(args: argparse.Namespace) -> KernelTarget | None:
    """The Jupyter kernel the options ask for, or None (the worker). SystemExit on a bad mix."""
    from eager_lsp.core.session import KernelTarget

    name = getattr(args, "kernel", None)
    connection = getattr(args, "kernel_connection", None)
    url = getattr(args, "kernel_url", None)
    token = getattr(args, "kernel_token", None) or os.environ.get(KERNEL_TOKEN_ENV) or None
    if not (name or connection or url):
        return None
    if connection and (name or url):
        raise SystemExit(
            "eager-lsp: --kernel-connection goes alone (not with --kernel/--kernel-url)"
        )
    if getattr(args, "python", None):
        raise SystemExit("eager-lsp: --python is for the worker; a kernel brings its own Python")
    if getattr(args, "debug", False):
        raise SystemExit("eager-lsp: --debug is not available with a Jupyter kernel")
    if url and not url.startswith(("http://", "https://")):
        raise SystemExit(f"eager-lsp: --kernel-url must start with http:// or https://: {url}")
    return KernelTarget(
        name=name, connection_file=connection, url=url, token=token if url else None
    )


def session_config_from_args(args: argparse.Namespace, path: str) -> SessionConfig:
    """The SessionConfig the `run` and `generate` commands share."""
    from eager_lsp.core.gate import GatePolicy
    from eager_lsp.core.session import SessionConfig

    kernel = kernel_target_from_args(args)
    return SessionConfig(
        backend="kernel" if kernel is not None else "worker",
        kernel=kernel,
        path=path,
        cwd=os.getcwd(),
        python=args.python,
        debug=args.debug,
        debug_listen=args.debug,
        gate=GatePolicy.from_settings(args.gate),
        stop_on_error=not args.keep_going,
        env_allow=tuple(getattr(args, "env_allow", None) or ()),
        env_deny_patterns=tuple(getattr(args, "env_deny", None) or ()),
    )
