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

if TYPE_CHECKING:
    from eager_lsp.core.session import SessionConfig


def main(argv: Sequence[str] | None = None) -> int:
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
    p.add_argument("--timeout", type=float, help="seconds the model may stay silent (default 60)")
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
    p.add_argument(
        "--repair",
        action="store_true",
        help="measure the fix rate of one repair attempt on the failing scripts of "
        "bench/workloads/repair, with the legacy and the facts repair (bundled model)",
    )
    p.add_argument(
        "--humaneval",
        type=int,
        default=0,
        metavar="N",
        help="measure the pass rate on the first N HumanEval problems through the generate path",
    )
    p.add_argument(
        "--models",
        default=None,
        help="comma-separated bundled models for --repair/--humaneval (default: the default "
        "local model)",
    )
    p.add_argument("--repair-styles", default="legacy,facts", help="comma-separated, for --repair")
    p.add_argument("--threads", type=int, help="llama.cpp threads (default: cores - 1)")
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
    p.add_argument("--no-debug", action="store_true", help="do not start debugpy")
    p.add_argument("--python", help="interpreter for the executed code (default: this one)")


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


def cmd_serve(args: argparse.Namespace) -> int:
    from eager_lsp.lsp.server import serve

    return serve(tcp=args.tcp, log_file=args.log_file)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.repair or args.humaneval:
        from eager_lsp.bench.ai_loop import ai_loop_main
        from eager_lsp.providers.config import DEFAULT_LOCAL_MODEL

        models = (args.models or DEFAULT_LOCAL_MODEL).split(",")
        styles = args.repair_styles.split(",") if args.repair else []
        asyncio.run(
            ai_loop_main(
                models=[m.strip() for m in models],
                repair_styles=[s.strip() for s in styles],
                humaneval=args.humaneval,
                out=args.out,
                threads=args.threads,
                log=lambda line: print(line, flush=True),
            )
        )
        return 0
    from eager_lsp.bench.harness import bench_main

    return bench_main(quick=args.quick, out=args.out)


def session_config_from_args(args: argparse.Namespace, path: str) -> SessionConfig:
    """The SessionConfig the `run` and `generate` commands share."""
    from eager_lsp.core.gate import GatePolicy
    from eager_lsp.core.session import SessionConfig

    return SessionConfig(
        path=path,
        cwd=os.getcwd(),
        python=args.python,
        debug=not args.no_debug,
        gate=GatePolicy.from_settings(args.gate),
        stop_on_error=not args.keep_going,
    )
