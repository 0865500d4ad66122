"""`eager-lsp`: the core engine without an editor, the language server, and the benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import math
import os
import select
import stat
import sys
import tokenize
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eager_lsp.cli.options import KERNEL_TOKEN_ENV, interpreter_config_from_args
from eager_lsp.cli.terminal import EXIT_OUTPUT_FAILED, EXIT_READER_GONE, GuardedStdout
from eager_lsp.core.detector import BoundaryDetector
from eager_lsp.core.executor import ExecutorLost
from eager_lsp.core.source_files import SourceError, read_python_source
from eager_lsp.core.text_lines import blank_or_comment
from eager_lsp.executors.worker.nodump import make_undumpable
from eager_lsp.limits import argv_problem
from eager_lsp.providers.config import DEFAULT_LOCAL_MODEL, LOCAL_MODELS


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
    guard = None
    if argv is None and args.command in (*_ONE_SHOT, "watch"):
        guard = sys.stdout = GuardedStdout(sys.stdout)  # `… | head` (cli/terminal.py)
    try:
        code = int(args.func(args) or 0)
    except asyncio.CancelledError:
        if guard is None or not guard.gone:
            raise
        code = EXIT_READER_GONE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except ExecutorLost as exc:
        # The interpreter could not be started or was lost (core/executor.py): one line for
        # the user, not a traceback.
        print(f"eager-lsp: the interpreter is not usable: {exc.reason}", file=sys.stderr)
        code = 1
    if guard is not None:
        guard.flush()  # (what is still buffered finds out now whether anyone reads it)
        if guard.failed is not None:  # one line, not a traceback (cli/terminal.py)
            print(f"eager-lsp: cannot write to stdout: {guard.failed}", file=sys.stderr)
            code = EXIT_OUTPUT_FAILED
        elif guard.gone:
            code = EXIT_READER_GONE
    if argv is None and args.command in _ONE_SHOT:
        _exit_now(code)
    return code


# Commands whose work is over when they return: every interpreter they started is dead and
# every result printed. Tearing down the Python runtime after that (module and object
# finalization) took 0.1–0.25 s on a busy 2-core machine, for nothing.
_ONE_SHOT = frozenset({"chunks", "run", "generate"})


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def build_parser() -> argparse.ArgumentParser:
    from eager_lsp import __version__

    fmt = _HelpWithDefaults
    parser = argparse.ArgumentParser(
        prog="eager-lsp",
        description="Run AI-written Python while it is still being written.",
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"eager-lsp {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser(
        "chunks", help="show where the boundary detector releases chunks", formatter_class=fmt
    )
    p.add_argument("file", type=Path, help="a Python file")
    p.add_argument("--piece-size", type=_positive_int, default=4, help="characters per piece")
    p.add_argument("--json", action="store_true", help="one JSON object per line (the default)")
    p.set_defaults(func=cmd_chunks)

    p = sub.add_parser(
        "run",
        help="stream a file through the pipeline as if a model wrote it",
        formatter_class=fmt,
        description="Stream FILE through the pipeline as if a model wrote it. As with python, "
        "everything after FILE is the script's own (its sys.argv[1:]), options and -- too: "
        "`run a.py --rate 0` gives the script `--rate 0`; put run's options before FILE.",
    )
    p.add_argument(
        "script",
        nargs=argparse.REMAINDER,
        action=_Script,
        metavar="FILE [ARG ...]",
        help="a Python file, or - to read the script from stdin; everything after FILE is "
        "the script's arguments (sys.argv, as `python FILE ARG ...` gives them)",
    )
    p.add_argument(
        "--rate", type=_number_at_least(0), default=50.0, help="tokens per second (0: no limit)"
    )
    p.add_argument("--piece-size", type=_positive_int, default=4, help="characters per piece")
    _add_execution_args(p)
    p.add_argument("--json", action="store_true", help="print the final summary object only")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "generate",
        help="generate code with a model and run it as it streams",
        formatter_class=fmt,
        description="Without --base-url, OPENAI_BASE_URL or OPENAI_API_KEY the bundled local "
        "model writes the code (the `local` extra); --model names a model of an endpoint.",
    )
    p.add_argument("prompt", help="what the code should do")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="also write the code to this file, a new or empty one (an existing file needs"
        " --overwrite); nothing is written when the model wrote no code",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="let -o replace a file that holds text (not after Ctrl-C or a model failure)",
    )
    p.add_argument(
        "--provider",
        choices=["auto", "local", "openai"],
        default="auto",
        help="auto: an endpoint when a base URL or key is known, else the bundled local model",
    )
    p.add_argument(
        "--model", help="model name on the endpoint (else OPENAI_MODEL, else the first it lists)"
    )
    p.add_argument(
        "--base-url",
        help="OpenAI-compatible endpoint ending in /v1 (else OPENAI_BASE_URL, else OpenAI's "
        "when OPENAI_API_KEY is set)",
    )
    p.add_argument(
        "--rate-limit",
        type=_number_at_least(0),
        help="cap the stream at this many tokens/s (default: no cap)",
    )
    p.add_argument(
        "--repair", type=_non_negative_int, default=0, help="repair attempts after an error"
    )
    p.add_argument(
        "--repair-style",
        choices=["facts", "legacy"],
        default="facts",
        help="facts: runtime facts in the prompt, repeats dropped; legacy: the first "
        "repair prompt, kept for comparison",
    )
    p.add_argument(
        "--local-model",
        choices=list(LOCAL_MODELS),
        help=f"which bundled model the local provider runs (default: {DEFAULT_LOCAL_MODEL})",
    )
    p.add_argument("--max-tokens", type=_positive_int, default=1024, help="most tokens to generate")
    p.add_argument(
        "--timeout",
        type=_number_at_least(0.1),
        help="seconds the model may stay silent (default: 60)",
    )
    _add_execution_args(p)
    p.add_argument("--json", action="store_true", help="print the final summary object only")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "watch",
        help="run a file, then on every save re-run only the statements the edit affects",
        formatter_class=fmt,
    )
    p.add_argument("file", type=Path, help="a Python file")
    p.add_argument(
        "--interval", type=_number_at_least(0.01), default=0.25, help="seconds between checks"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per statement run")
    p.add_argument("--max-rounds", type=_positive_int, help=argparse.SUPPRESS)  # tests
    _add_execution_args(p)
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser(
        "serve", help="start the language server (stdio by default)", formatter_class=fmt
    )
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--log-file", type=Path, help="write the server's log here (default: stderr)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "bench", help="measure hidden latency against serial execution", formatter_class=fmt
    )
    p.add_argument("--quick", action="store_true", help="a small subset for CI (< 2 minutes)")
    p.add_argument("--out", type=Path, default=Path("bench-out"), help="where results go")
    p.add_argument(
        "--workload",
        action="append",
        help="only this workload (repeatable; no model, rate sweep or memory pass)",
    )
    p.add_argument("--modes", help="comma-separated modes, e.g. serial,eager-safe")
    p.add_argument(
        "--rate",
        type=_number_at_least(0),
        help="the main token rate (tokens/s; default 50, 100 with --quick)",
    )
    p.add_argument(
        "--reps",
        type=_positive_int,
        help="repetitions at the main rate (default 3, 1 with --quick or --many-docs)",
    )
    p.add_argument(
        "--many-docs",
        action="store_true",
        help="only the many-documents benchmark: the real server, N documents generating at once",
    )
    p.add_argument(
        "--editor",
        action="store_true",
        help="only the editor latency benchmark: last token → value shown in real headless "
        "Neovim (--reps runs, default 3; needs Neovim 0.11+)",
    )
    p.add_argument(
        "--parallel",
        action="store_true",
        help="only the parallel gate against eager: 5 independent waits at the token rate,"
        " CPU-bound workloads (--reps rounds, default 3)",
    )
    p.add_argument(
        "--rerun-edits",
        action="store_true",
        help="only the edit-aware re-execution benchmark: a 2 s load step and 15 cheap "
        "statements; an edit re-runs what it affects, against a full rebuild",
    )
    p.add_argument("--docs", type=_positive_int, default=10, help="with --many-docs")
    p.add_argument(
        "--statements", type=_positive_int, default=30, help="with --editor: one-line statements"
    )
    p.add_argument("--doc-rate", type=float, default=200.0, help="with --many-docs: tok/s each")
    p.add_argument(
        "--doc-script",
        choices=("dense", "generation"),
        default="dense",
        help="with --many-docs: what each document generates: a statement every 5 tokens "
        "(dense, the goal's reading) or the replayed generation workloads",
    )
    p.add_argument(
        "--stream-edits",
        action="store_true",
        help="with --many-docs: the client writes the text itself (eager/streamEdit, as the "
        "editors' plugins do) instead of answering workspace/applyEdit",
    )
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
        "--first-token",
        action="store_true",
        help="time to first token of the bundled model: cold, then warm with a new task and "
        "with the same task (bench/first_token.py)",
    )
    p.add_argument(
        "--insert",
        action="store_true",
        help="generation into a file with the bundled model: how often its answer restates "
        "the file, and what the product keeps (bench/insert_echo.py)",
    )
    p.add_argument(
        "--models",
        default=None,
        help="comma-separated bundled models for --repair/--humaneval/--first-token/--insert "
        "(default: the default local model)",
    )
    p.add_argument("--repair-styles", default="legacy,facts", help="comma-separated, for --repair")
    p.add_argument("--threads", type=int, help="llama.cpp threads (default: cores - 1)")
    p.set_defaults(func=cmd_bench)
    return parser


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Every option with a real default says it in --help: "(default: 50.0)". Switches and
    options without a default (None) say nothing more, their help text tells. A positional
    that takes the rest of the line (`run`'s `FILE [ARG ...]`) shows its metavar, not
    argparse's "..."."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default = action.default
        if default is None or default is False or default == argparse.SUPPRESS or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if action.nargs == argparse.REMAINDER and isinstance(action.metavar, str):
            return action.metavar
        return super()._format_args(action, default_metavar)


class _Script(argparse.Action):
    """`run`'s `FILE [ARG ...]`, taken as python takes `python [options] FILE [ARG ...]`: the
    first word that is not one of run's options is the script, and every word after it is the
    script's, verbatim (options, `--`, `-h` too: `run a.py --rate 0` gives the script
    `--rate 0`, as `python a.py -X dev` gives it `-X dev`). A `--` before the script only
    ends run's options. Sets `file` (a Path), `script` (FILE as typed: the code's sys.argv[0],
    as python's) and `script_args`; an argv over limits.ARGV_CAP is a usage error."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        words = [str(v) for v in values or ()]
        if words[:1] == ["--"]:
            words = words[1:]
        if not words:
            parser.error("the following arguments are required: FILE")
        if (problem := argv_problem(words)) is not None:
            parser.error(problem)
        namespace.file = Path(words[0])
        namespace.script = words[0]
        namespace.script_args = words[1:]
        # run's own options written after the script: theirs, but likely meant for run
        # (`run a.py --rate 0`): cmd_run says so once, on stderr
        own = parser._option_string_actions  # (argparse keeps no public map of them)
        namespace.misplaced = [w for w in words[1:] if w.split("=", 1)[0] in own]


def _number_at_least(low: float) -> Callable[[str], float]:
    """A number (seconds, tokens/s) of at least `low`: a negative rate or a zero polling
    interval (a busy loop) is refused with a clear message, not taken."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}")
        if not math.isfinite(value) or value < low:
            raise argparse.ArgumentTypeError(f"must be a number of at least {low:g}")
        return value

    return parse


def _positive_int(text: str) -> int:
    return _int_at_least(text, 1)


def _non_negative_int(text: str) -> int:
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}")
    return value


def _add_execution_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--gate",
        choices=["eager", "safe", "serial", "parallel"],
        default="safe",
        help="when a complete statement may run (docs/configuration.md)",
    )
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
    p.add_argument(
        "--memory-limit-mb",
        type=int,
        default=None,
        metavar="MB",
        help="memory limit of the executed code's interpreter; 0: none "
        "(default: half of this machine's memory)",
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
        return read_python_source(path)
    except SourceError as exc:
        raise SystemExit(f"eager-lsp: {exc}")


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


STDIN = "-"  # `run -`: the script comes on stdin
STDIN_PATH = "<stdin>"  # its `__file__`, and what its tracebacks name, as with `python -`


def cmd_run(args: argparse.Namespace) -> int:
    """`eager-lsp run FILE`, or `run -` for a script on stdin.

    Rules:
    - `-` reads stdin to its end first, then replays the text as a file is replayed (same
      rate, same pieces): a pipe gives no text a model's pace, so its arrival is not the
      stream. It is decoded as Python decodes a script (a PEP 263 declaration or a BOM is
      honoured; else UTF-8), and the code's `__file__` is "<stdin>", as with `python -`;
    - a script without code (empty, blank or only comments; a file or stdin) is said on
      stderr and exits 0, not 2: `python` runs an empty script and exits 0, since it is a
      program that does nothing, not a misused command. In a pipeline whose producer failed
      and wrote nothing, the producer's status says so (`set -o pipefail`). With `--json` the
      summary object is printed instead, as for any run;
    - the code's `sys.argv` is what python's would be: the script as typed, then every word
      after it (`run a.py x y` → ['a.py', 'x', 'y'], `run - x` → ['-', 'x']; `_Script`),
      carried to the worker with each statement (core/executor.py `ChunkRequest.argv`) and
      bounded (limits.ARGV_CAP). Options after the script are the script's, as python's are.
      A Jupyter kernel keeps its own `sys.argv`: arguments with one are refused (options.py);
    - run's own stdin is not the script's: the code runs in a background interpreter whose
      stdin is /dev/null (`input()` raises at once rather than hang). Data piped to `run
      FILE` (or a file given as its stdin) is said on stderr not to reach it (`_stdin_data`),
      before the run, or after it when a pipe had nothing yet: the script read nothing and
      said nothing. It is not passed on: the stream of statements, Ctrl-C and the debugger
      share the interpreter, and a script's read would wait on run's pipe for good.
    """
    from eager_lsp.cli.console import run_file

    if str(args.file) == STDIN:
        text, name, path = _read_stdin(), "the script on stdin", STDIN_PATH
    else:
        text, name, path = _read_source(args.file), str(args.file), None
    # a script without code says so (--json still prints its summary object)
    if not args.json and all(map(blank_or_comment, text.splitlines())):
        print(f"eager-lsp: {name} has no code: nothing to run", file=sys.stderr)
        return 0
    if misplaced := getattr(args, "misplaced", None):
        print(
            f"eager-lsp: note: after {args.script}, {' '.join(misplaced)} is the script's (its"
            " sys.argv, as with python), not run's: put run's options before the file",
            file=sys.stderr,
        )
    pending = None if str(args.file) == STDIN else _stdin_data()
    if pending:
        print(STDIN_NOTE, file=sys.stderr, flush=True)
    status = asyncio.run(run_file(text, args, path, argv=[args.script, *args.script_args]))
    if pending is None and _stdin_data():  # (a pipe that had nothing when the run began)
        print(STDIN_NOTE, file=sys.stderr, flush=True)
    return status


STDIN_NOTE = (
    "eager-lsp: note: the script's stdin is empty (sys.stdin reads nothing): eager-lsp does not"
    " pass its own stdin on; give the data in a file"
)


def _stdin_data() -> bool | None:
    """Whether run's own stdin holds data (a pipe or a file with something in it) that the
    script does not get (`cmd_run`); None: a pipe nothing was written to yet. A terminal or
    /dev/null holds none. A pipe's readiness is checked by reading a byte nobody would read."""
    try:
        fd = sys.stdin.fileno() if sys.stdin is not None else -1
        mode = os.fstat(fd).st_mode if fd >= 0 else 0
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    try:
        if stat.S_ISREG(mode):
            return os.fstat(fd).st_size > os.lseek(fd, 0, os.SEEK_CUR)
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            return False
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(os.read(fd, 1)) if ready else None
    except (OSError, ValueError):  # (no select on a pipe: Windows)
        return False


def _read_stdin() -> str:
    """The script on stdin, decoded as `read_python_source` decodes a file (stdin cannot be
    read twice, as `tokenize.open` reads a file: first for its declaration, then whole)."""
    if sys.stdin is None:  # (started with stdin closed)
        raise SystemExit("eager-lsp: cannot read the script from stdin: it is closed")
    if sys.stdin.isatty():
        print(
            "eager-lsp: reading the script from the terminal; end it with Ctrl-D", file=sys.stderr
        )
    try:
        data = sys.stdin.buffer.read()
    except OSError as exc:
        raise SystemExit(f"eager-lsp: cannot read stdin: {exc.strerror or exc}")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        # (universal newlines, as tokenize.open: "\r\n" is a newline)
        return io.TextIOWrapper(io.BytesIO(data), encoding).read()
    except SyntaxError as exc:
        if "invalid or missing encoding" in str(exc.msg):  # its first lines are not UTF-8
            raise SystemExit(
                "eager-lsp: stdin is not valid UTF-8 text and declares no other encoding (PEP 263)"
            )
        raise SystemExit(f"eager-lsp: stdin: {exc.msg}")  # e.g. an unknown encoding
    except UnicodeDecodeError as exc:
        raise SystemExit(
            f"eager-lsp: stdin is not valid {exc.encoding.upper()} text (its declared or"
            f" default encoding): {exc.reason} at byte {exc.start}"
        )


def cmd_watch(args: argparse.Namespace) -> int:
    from eager_lsp.cli.watch import watch_file

    _read_source(args.file)  # a clear error for a missing or unreadable file
    config = interpreter_config_from_args(args, str(args.file.resolve()))
    return asyncio.run(watch_file(args, config))


def cmd_generate(args: argparse.Namespace) -> int:
    from eager_lsp.cli.generate import generate_main

    return asyncio.run(generate_main(args))


TCP_WARNING = (
    "eager-lsp: warning: serving on TCP {address}: any program on this machine that can"
    " connect to it can drive the server, and through it run code as you. Prefer stdio."
)


def cmd_serve(args: argparse.Namespace) -> int:
    from eager_lsp.lsp.server import serve, tcp_address

    address = tcp_address(args.tcp) if args.tcp else None  # (serve refuses a malformed one)
    if address is not None:
        warning = TCP_WARNING.format(address=args.tcp)
        host = address[0]
        if host not in ("127.0.0.1", "localhost", "::1"):
            warning += f" {host} is not a loopback address: other machines can reach it too."
        print(warning, file=sys.stderr, flush=True)
    return serve(tcp=args.tcp, log_file=args.log_file)


def _unknown_workloads(given: list[str]) -> str | None:
    """Why some of these are no workload's name (listing the names), or None. A file name
    (what the workloads directory shows) is told which workload it is."""
    from eager_lsp.bench.catalog import names

    known = names()
    unknown = [w for w in given if w not in known]
    if not unknown:
        return None
    by_file = {Path(f).stem: n for n, f in known.items()} | {f: n for n, f in known.items()}
    hints = [f"{known[by_file[w]]} is workload {by_file[w]}" for w in unknown if w in by_file]
    hint = f"; {', '.join(hints)}" if hints else ""
    return f"unknown workload {', '.join(unknown)} (choose from {', '.join(known)}{hint})"


def _results_dir_problem(out: Path) -> str | None:
    """Make the results directory; why it cannot be, as a phrase, or None."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        why = "it is a file" if out.exists() else e.strerror or type(e).__name__
        return f"cannot use {out} for the results: {why}"
    return None


def cmd_bench(args: argparse.Namespace) -> int:
    # Arguments that cannot be used are one line and exit 2 before anything runs (a bench
    # takes minutes): unknown workload names, an output directory that cannot be made.
    if args.workload:
        problem = _unknown_workloads(args.workload)
        if problem:
            print(f"eager-lsp: {problem}", file=sys.stderr)
            return 2
    if not args.parallel:  # (the only kind that writes no file)
        problem = _results_dir_problem(args.out)
        if problem:
            print(f"eager-lsp: {problem}", file=sys.stderr)
            return 2
    if args.many_docs:
        from eager_lsp.bench import many_docs

        return many_docs.main(
            args.out,
            docs=args.docs,
            rate=args.doc_rate,
            repeat=args.reps or 1,
            stream_edits=args.stream_edits,
            doc_script=args.doc_script,
        )
    if args.editor:
        from eager_lsp.bench import editor_latency

        return editor_latency.main(args.out, reps=args.reps or 3, statements=args.statements)
    if args.parallel:
        from eager_lsp.bench import parallel_cost

        report = parallel_cost.measure(args.reps or 3, args.rate or parallel_cost.RATE)
        print("\n".join(parallel_cost.format_table(report)))
        return 0
    if args.rerun_edits:
        from eager_lsp.bench import rerun_edits

        return rerun_edits.main(args.out, reps=args.reps or 3)
    if args.first_token:
        from eager_lsp.bench import first_token
        from eager_lsp.providers.config import DEFAULT_LOCAL_MODEL

        models = [m.strip() for m in (args.models or DEFAULT_LOCAL_MODEL).split(",")]
        return asyncio.run(first_token.main(models, args.threads, args.out))
    if args.insert:
        from eager_lsp.bench import insert_echo
        from eager_lsp.providers.config import DEFAULT_LOCAL_MODEL

        models = [m.strip() for m in (args.models or DEFAULT_LOCAL_MODEL).split(",")]
        return asyncio.run(insert_echo.main(models, args.threads, args.out))
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

    modes = [m.strip() for m in args.modes.split(",") if m.strip()] if args.modes else None
    if modes is not None:
        from eager_lsp.bench.modes import ALL_MODES

        known = [m.name for m in ALL_MODES]
        unknown = [m for m in modes if m not in known]
        if unknown or not modes:
            said = ", ".join(unknown) or repr(args.modes)
            print(
                f"eager-lsp: unknown mode {said} (choose from {', '.join(known)})", file=sys.stderr
            )
            return 2
    return bench_main(
        quick=args.quick,
        out=args.out,
        workloads=args.workload,
        modes=modes,
        rate=args.rate,
        reps=args.reps,
    )
