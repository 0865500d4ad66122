"""`eager-lsp generate`: a model writes a script, and it runs while it is being written.

The terminal shows each completed line of code as it arrives, the values, output and errors of
each chunk right under it, a live status line (tokens/s, chunks run) when on a terminal, and a
summary of the timeline at the end. When a chunk raises, generation stops at once; with
`--repair N` the model is asked up to N times to rewrite from the failing statement, and the
statements before it keep their interpreter state (they are not run again).

Ctrl-C stops it as it stops `run` (cli/interrupt.py, app/generate.py `GenerationStop`): the
model's stream is closed, the running statement interrupted, no repair follows, and what a
finished generation gives is still given: the code so far (every complete line the model
wrote; an unfinished last line is not shown, not kept, never ran) in `-o` and in `--json`'s
`code`, and the summary, whose last line says the user stopped it ("… before the model wrote
any code" when the attempt it stopped had none). Exit status 130. Pressed while the bundled
local model still starts (15–60 s), it ends the command at once: the start is stopped and its
process killed (`_stop_model_start`), not waited for.

Unless Ctrl-C stopped it, the script then ends as `run` ends one, as python would (app/run.py
`at_exit`: its threads, its `atexit` functions, its open files written), and what that prints
is shown as `run` shows it: a file the generated code wrote and left open stayed empty.

The `-o` file is the user's (`OutputFile`); it was emptied by a model that answered HTTP 500
and replaced without a word. Rules:
- a file that holds text is replaced only with `--overwrite`; without it the command is
  refused before the model is asked (status 2). A new or empty file needs no flag;
- nothing is written when the model wrote no code (a failed request, an empty answer, a stop
  before any code): the file stays as it was, and the command says so;
- a replaced file is replaced only by a generation that ended by itself: after Ctrl-C or a
  model failure what is left is part of a program, and the user's file stays (the code so far
  is on the screen and in `--json`'s `code`). A new or empty file gets it, as before;
- the write is a temporary file in the same directory renamed over the file, with the file's
  permissions: a crash or a full disk leaves the old file or the new one, never half of one.
  A device or a pipe (`-o /dev/stdout`) cannot be renamed over and is written as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from eager_lsp.app import repair
from eager_lsp.app.attempt import Attempt
from eager_lsp.app.generate import GenerationStop, generate
from eager_lsp.app.run import at_exit
from eager_lsp.cli.console import (
    ConsolePrinter,
    announce_debugger,
    at_exit_json,
    format_summary,
)
from eager_lsp.cli.interrupt import EXIT_INTERRUPTED, CtrlC
from eager_lsp.cli.options import interpreter_config_from_args, llm_config_from_args
from eager_lsp.cli.terminal import watch_stdout
from eager_lsp.core.types import EndOfStream, Event, ResultReady
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers.replay import CHARS_PER_TOKEN
from eager_lsp.providers.throttle import ThrottledStream


@dataclass
class LiveView:
    """Code lines, results and a status line, interleaved readably on one terminal."""

    out: TextIO
    quiet: bool
    tty: bool
    printer: ConsolePrinter
    line_no: int = 1
    partial: str = ""
    chars: int = 0
    started: float = field(default_factory=time.monotonic)
    chunks_done: int = 0
    status_shown: bool = False

    def piece(self, text: str) -> None:
        self.chars += len(text)
        if self.quiet:
            return
        self.partial += text
        while "\n" in self.partial:
            line, self.partial = self.partial.split("\n", 1)
            self._clear_status()
            self._code_line(line)
        self._status()

    def event(self, event: Event) -> None:
        if isinstance(event, ResultReady) and not event.result.skipped:
            self.chunks_done += 1
        if self.quiet:
            return
        self._clear_status()
        if isinstance(event, EndOfStream):
            # the last, unterminated line: code when the stream ended whole; after a stop or
            # a break it never ran and is not kept (Attempt.keep_length), so not shown
            if event.whole and self.partial:
                self._code_line(self.partial)
            self.partial = ""
        self.printer(event)
        self._status()

    def killing(self, why: str) -> None:
        """A second Ctrl-C kills the interpreter, or lets go of an attached kernel
        (cli/interrupt.py): the printer says so."""
        if self.quiet:
            return
        self._clear_status()
        self.printer.killing(why)
        self._status()

    def flush(self) -> None:
        if self.quiet:
            return
        self._clear_status()
        if self.partial:
            self._code_line(self.partial)
            self.partial = ""
        self.out.flush()

    def cut(self, keep: int) -> None:
        """Lines already shown stay; the unfinished one is dropped when the attempt ends."""

    def attempt_started(self, attempt: Attempt, number: int) -> None:
        if number and not self.quiet:
            self.line_no = attempt.first_line
            self._clear_status()
            self.out.write(
                f"── repair attempt {number}: rewriting from line {attempt.first_line}\n"
            )

    def attempt_ended(self, attempt: Attempt, number: int) -> None:
        self.drop_partial()  # (not shown at the end of a stream that was not whole)
        if self.quiet:
            return
        self._clear_status()
        stats = attempt.stats
        if stats is not None and stats.dropped:
            n = len(stats.dropped)
            self.out.write(f"── dropped {n} repeated statement{'s' * (n != 1)} that already ran\n")
        if attempt.unchanged and attempt.request is not None:
            self.out.write(f"── {attempt.unchanged_message}\n")

    def _code_line(self, text: str) -> None:
        self.out.write(f"{self.line_no:4d} │ {text}\n")
        self.line_no += 1

    def drop_partial(self) -> None:
        self.partial = ""

    def _status(self) -> None:
        if not self.tty:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        tokens = self.chars / CHARS_PER_TOKEN
        self.out.write(
            f"\r\x1b[2m… {tokens:.0f} tokens · {tokens / elapsed:.1f} tok/s · "
            f"{self.chunks_done} chunks run\x1b[0m\x1b[K"
        )
        self.out.flush()
        self.status_shown = True

    def _clear_status(self) -> None:
        if self.status_shown:
            self.out.write("\r\x1b[K")
            self.status_shown = False


async def generate_main(args: argparse.Namespace) -> int:
    if not args.prompt.strip():  # (as eager.generate refuses one)
        print("eager-lsp: generate needs a non-empty prompt", file=sys.stderr)
        return 2
    try:
        llm = llm_config_from_args(args)
    except ValueError as exc:
        print(f"eager-lsp: {exc}", file=sys.stderr)
        return 2
    out_path: Path | None = args.output
    output = None
    if out_path is not None:
        if problem := _unwritable(out_path):
            print(f"eager-lsp: cannot write {out_path}: {problem}", file=sys.stderr)
            return 2
        output = OutputFile(out_path, overwrite=getattr(args, "overwrite", False))
        if output.replaces and not output.overwrite:
            print(
                f"eager-lsp: {out_path} already exists and is not empty: pass --overwrite to"
                " replace it with the generated code, or name another file with -o",
                file=sys.stderr,
            )
            return 2
    doc_path = str(out_path.resolve()) if out_path else str(Path("generated.py").resolve())
    origin = time.monotonic()  # every time this command prints counts from here
    watch_stdout()
    view = LiveView(
        out=sys.stdout,
        quiet=args.json,
        tty=sys.stdout.isatty(),
        # (its status line is the terminal's last line: the printer draws nothing there)
        printer=ConsolePrinter(origin=origin, redraw=False),
        started=origin,
    )
    interpreter = open_interpreter(
        interpreter_config_from_args(args, doc_path), spares=0
    )  # one-shot: no spare
    stop = GenerationStop(interpreter)
    warm = asyncio.ensure_future(interpreter.start())  # the interpreter starts while the model does
    debug_port: int | None = None
    model_start = (
        asyncio.ensure_future(_report_model_start(view)) if llm.provider == "local" else None
    )
    rate_limit = args.rate_limit
    async with CtrlC(interpreter, view.killing, stop) as ctrl_c:
        try:
            await warm
            debug_port = announce_debugger(interpreter)
            outcome = await generate(
                interpreter,
                llm,
                args.prompt,
                view,
                path=doc_path,
                repairs=args.repair,
                style=getattr(args, "repair_style", repair.DEFAULT_STYLE),
                wrap=(lambda stream: ThrottledStream(stream, rate_limit)) if rate_limit else None,
                stop=stop,
            )
            # the script ends as python ends it (its threads, atexit), unless Ctrl-C stopped it
            ending = None if ctrl_c.stopped else await at_exit(interpreter)
        except asyncio.CancelledError:
            # Ctrl-C cancels only a command whose generation has not begun; else the reader
            # of stdout left (cli/terminal.py)
            if not ctrl_c.stopped or stop.begun:
                raise
            print("eager-lsp: interrupted (Ctrl-C) before anything ran", file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            if model_start is not None:
                model_start.cancel()
            if llm.provider == "local":
                _stop_model_start()
            view.flush()
            await interpreter.close()
        interrupted = ctrl_c.stopped
        attempts = outcome.attempts
        code = outcome.code
        write_error = None
        written = False
        if output is not None:
            cut_short = interrupted or any(a.model_failure for a in attempts)
            written, write_error = output.save(code, cut_short)
        final = attempts[-1].report
        if args.json:
            summary: dict[str, Any] = final.to_json() if final else {}
            summary.update(
                {
                    "provider": llm.provider,
                    # (the local provider's model is the bundled one it runs)
                    "model": llm.model or (llm.local_model if llm.provider == "local" else None),
                    "attempts": len(attempts),
                    "repairs": [
                        {"dropped": len(a.stats.dropped), "unchanged": a.stats.unchanged}
                        for a in attempts
                        if a.stats is not None
                    ],
                    "debug_port": debug_port,
                    "code": code,
                    "error": outcome.error,
                    "ok": outcome.ok,
                    "interrupted": interrupted,
                }
            )
            if ending is not None:
                summary["at_exit"] = at_exit_json(ending)
            print(json.dumps(summary, indent=2))
        else:
            if ending is not None:
                view.printer.at_exit(ending)
            for i, attempt in enumerate(attempts):
                _print_attempt(attempt, "" if len(attempts) == 1 else f"attempt {i + 1}: ", origin)
            if written:
                print(f"wrote {out_path}")
    if write_error is not None:
        print(f"eager-lsp: {write_error}", file=sys.stderr)
    if interrupted:
        return EXIT_INTERRUPTED
    if write_error is not None:
        return 1
    return 0 if outcome.ok else 1


def _print_attempt(attempt: Attempt, label: str, origin: float) -> None:
    """How an attempt ended (stderr, when the model ended it) and its summary: a person's
    stop is its last line, said also when the run's report cannot say it (the attempt never
    began, or its model wrote nothing: no summary of a stream that never came)."""
    if attempt.error:
        print(f"ended: {attempt.model_failure or attempt.error}", file=sys.stderr)
    report = attempt.report
    wrote = bool(attempt.text.strip())
    # ("stream - → -": nothing to say of a stream that never came)
    broke = bool(attempt.error) and not attempt.text
    nothing = not wrote if attempt.stopped is not None else broke
    said = False
    if report is not None and not nothing:
        text = format_summary(report, origin=origin)
        print(label + text.replace("\n", "\n" + " " * len(label)))
        said = report.stop_reason == attempt.stopped
    if attempt.stopped is not None and not said:
        tail = "" if wrote else " before the model wrote any code"
        print(f"{label}stopped early: {attempt.stopped}{tail}")


def _holds_text(path: Path) -> bool:
    """A regular file with something in it (following a symlink)."""
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


@dataclass
class OutputFile:
    """`-o FILE`, written by the module's rules."""

    path: Path
    overwrite: bool = False
    replaces: bool = field(init=False)  # it held text when the command started

    def __post_init__(self) -> None:
        self.replaces = _holds_text(self.path)

    def save(self, code: str, cut_short: bool) -> tuple[bool, str | None]:
        """Write `code` if the rules let it: (written, why it could not be, for stderr and
        status 1). A file the rules keep is said on stderr here."""
        path = self.path
        if not code.strip():
            state = "left as it was" if path.exists() else "not written"
            print(f"eager-lsp: nothing was generated: {path} {state}", file=sys.stderr)
            return False, None
        if self.replaces and cut_short:
            print(
                f"eager-lsp: {path} left as it was: the generation was cut short, and what"
                " it wrote does not replace a file (the code so far is above)",
                file=sys.stderr,
            )
            return False, None
        if _holds_text(path) and not self.replaces and not self.overwrite:
            return False, f"{path} was written by something else meanwhile: left as it was"
        try:
            write_atomically(path, code)
        except OSError as exc:  # (checked before the model started; it changed since)
            return False, f"cannot write {path}: {exc.strerror or exc}"
        return True, None


def write_atomically(path: Path, text: str) -> None:
    """`text` into `path` through a temporary file in its directory renamed over it (the
    module's rules): a symlink's target is replaced, with the permissions it had (a new file
    gets the umask's, as open() would give it)."""
    target = path.resolve()
    if target.exists() and not target.is_file():  # a device, a pipe: cannot be renamed over
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
        return
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temp, flags, 0o666)  # (the umask applies)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _unwritable(path: Path) -> str | None:
    """Why `path` cannot take the generated code, found before the model runs (None: fine)."""
    if path.is_dir():
        return "it is a directory"
    parent = path.resolve().parent
    if not parent.is_dir():
        return f"no directory {parent}"
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None


def _stop_model_start() -> None:
    """The command is over (Ctrl-C while the local model starts, or a model that failed): a
    start still under way is stopped and its process killed. Nobody waits for it any more,
    and asyncio.run would wait for its thread at exit (the rest of a 15–60 s start). A model
    that started is left to end with this process (its stdin closes)."""
    from eager_lsp.providers.local_model import stop_local_start

    stop_local_start()


async def _report_model_start(view: LiveView, err: TextIO | None = None) -> None:
    """ "starting the local model… (N s)" on stderr from the first second until the model
    answers (its first start joins and checks the weights, then loads them: 15–25 s on 2
    cores): every second on a terminal, every 5 s otherwise."""
    from eager_lsp.providers.local_model import local_server_ready

    err = err or sys.stderr
    tty = err.isatty()
    started = time.monotonic()
    shown = False
    try:
        for tick in itertools.count():
            if local_server_ready() or view.chars:
                break
            n = int(time.monotonic() - started)
            if tty:
                err.write(f"\r\x1b[2m… starting the local model… ({n} s)\x1b[0m\x1b[K")
                shown = True
            elif tick % 5 == 0:
                err.write(f"starting the local model… ({n} s)\n")
            err.flush()
            await asyncio.sleep(1.0)
    finally:
        if shown:
            err.write("\r\x1b[K")
            err.flush()
