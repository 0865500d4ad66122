"""`eager-lsp generate`: a model writes a script, and it runs while it is being written.

The terminal shows each completed line of code as it arrives, the values, output and errors of
each chunk right under it, a live status line (tokens/s, chunks run) when on a terminal, and a
summary of the timeline at the end. When a chunk raises, generation stops at once; with
`--repair N` the model is asked up to N times to rewrite from the failing statement, and the
statements before it keep their interpreter state (they are not run again).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from eager_lsp import repair
from eager_lsp.console import ConsolePrinter, announce_debugger, format_summary
from eager_lsp.core.interpreter import Interpreter, StreamFailed
from eager_lsp.core.run import RunReport
from eager_lsp.core.types import ChunkResult, Event
from eager_lsp.executors import open_interpreter
from eager_lsp.providers import open_stream
from eager_lsp.providers.base import ProviderError
from eager_lsp.providers.config import LLMConfig, resolve
from eager_lsp.providers.prompts import generation_messages
from eager_lsp.providers.replay import CHARS_PER_TOKEN
from eager_lsp.providers.throttle import ThrottledStream
from eager_lsp.repair import RepairStats


@dataclass
class Attempt:
    """One model stream: what it wrote and what running it produced."""

    first_line: int
    stream: Any = None  # the model's code for this attempt
    text: str = ""
    report: RunReport | None = None
    error: str | None = None
    stats: RepairStats | None = None  # a repair's filter: repeats dropped, unchanged
    request: repair.RepairRequest | None = None  # what a repair asked
    replaced: list[str] = field(default_factory=list)  # the lines a repair rewrites
    unchanged_message: str = ""


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
        if event.kind == "result":
            self.chunks_done += 1
        if self.quiet:
            return
        self._clear_status()
        if event.kind == "end_of_stream" and self.partial:
            self._code_line(self.partial)  # the last, unterminated line
            self.partial = ""
        self.printer(event)
        self._status()

    def flush(self) -> None:
        if self.quiet:
            return
        self._clear_status()
        if self.partial:
            self._code_line(self.partial)
            self.partial = ""
        self.out.flush()

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


def llm_config_from_args(args: argparse.Namespace) -> LLMConfig:
    settings: dict[str, Any] = {
        "provider": args.provider,
        "model": args.model,
        "base_url": args.base_url,
        "max_tokens": args.max_tokens,
        "local_model": getattr(args, "local_model", None),
        "timeout_s": getattr(args, "timeout", None),
    }
    config = resolve(LLMConfig.from_dict(settings))
    if config.provider == "local" and args.model:
        raise ValueError(
            f"--model {args.model} names a model of an OpenAI-compatible endpoint, but no "
            "endpoint is set, so the bundled local model would write the code (and ignore "
            "--model). Give the endpoint with --base-url URL (or OPENAI_BASE_URL / "
            "OPENAI_API_KEY), or leave out --model to use the local model."
        )
    return config


async def generate_main(args: argparse.Namespace) -> int:
    from eager_lsp.cli import interpreter_config_from_args

    try:
        llm = llm_config_from_args(args)
    except ValueError as exc:
        print(f"eager-lsp: {exc}", file=sys.stderr)
        return 2
    out_path: Path | None = args.output
    doc_path = str(out_path.resolve()) if out_path else str(Path("generated.py").resolve())
    origin = time.monotonic()  # every time this command prints counts from here
    view = LiveView(
        out=sys.stdout,
        quiet=args.json,
        tty=sys.stdout.isatty(),
        printer=ConsolePrinter(origin=origin),
        started=origin,
    )
    session = open_interpreter(interpreter_config_from_args(args, doc_path), spares=0)  # one-shot
    warm = asyncio.ensure_future(session.start())  # the interpreter starts while the model does
    attempts: list[Attempt] = []
    lines: list[str] = []  # the program as kept so far
    ran: list[ChunkResult] = []  # results of the kept statements that ran, in order
    style = getattr(args, "repair_style", repair.DEFAULT_STYLE)
    exit_code = 0
    debug_port: int | None = None
    model_start = (
        asyncio.ensure_future(_report_model_start(view)) if llm.provider == "local" else None
    )
    try:
        await warm
        debug_port = announce_debugger(session)
        attempt = Attempt(
            first_line=1,
            stream=open_stream(
                llm, generation_messages(args.prompt, before="", after="", path=doc_path)
            ),
        )
        for attempt_no in range(1 + max(0, args.repair)):
            attempts.append(attempt)
            if attempt_no and not args.json:
                view.line_no = attempt.first_line
                print(f"── repair attempt {attempt_no}: rewriting from line {attempt.first_line}")
            report = await _one_stream(session, attempt, view, args.rate_limit)
            if report is not None and report.stopped_early:
                view.drop_partial()  # the unfinished line after the stop is not kept
            lines += _kept_lines(attempt)
            stats = attempt.stats
            if stats is not None and stats.dropped and not args.json:
                n = len(stats.dropped)
                print(f"── dropped {n} repeated statement{'s' * (n != 1)} that already ran")
            if stats is not None and stats.unchanged and attempt.request is not None:
                if not args.json:
                    print(f"── {attempt.unchanged_message}")
                exit_code = 1
                if attempt_no < args.repair:  # ask again, saying what was wrong with it
                    attempt.request.rejected.append(attempt.request.failing)
                    attempt = _repair_attempt(llm, attempt.request, style, lines, attempt.replaced)
                    continue
                lines += attempt.replaced  # the failing code stays in the file, not run again
                attempt.error = attempt.unchanged_message
                break
            if attempt.error is not None or report is None:
                exit_code = 1
                break
            failed = report.failed
            ran += [r for r in report.results if r.ok and not r.skipped]
            if failed is None and report.syntax_error is None:
                exit_code = 0
                break
            exit_code = 1
            if report.syntax_error is not None or failed is None or failed.error is None:
                break  # syntax errors are reported; repair targets runtime errors
            if attempt_no == args.repair:
                break
            # Keep the statements before the failing one; the model rewrites from it on.
            replaced = lines[failed.chunk.start_line - 1 :]
            lines = lines[: failed.chunk.start_line - 1]
            req = await repair.request_from_run(
                session,
                task=args.prompt,
                code_ran="".join(lines),
                failed=failed,
                results=ran,
                style=style,
            )
            attempt = _repair_attempt(llm, req, style, lines, replaced)
    finally:
        if model_start is not None:
            model_start.cancel()
        view.flush()
        await session.close()
    code = "".join(lines)
    if out_path is not None:
        out_path.write_text(code, encoding="utf-8")
    final = attempts[-1].report
    if args.json:
        summary: dict[str, Any] = final.to_json() if final else {}
        summary.update(
            {
                "provider": llm.provider,
                "model": llm.model,
                "attempts": len(attempts),
                "repairs": [
                    {"dropped": len(a.stats.dropped), "unchanged": a.stats.unchanged}
                    for a in attempts
                    if a.stats is not None
                ],
                "debug_port": debug_port,
                "code": code,
                "error": attempts[-1].error,
                "ok": exit_code == 0,
            }
        )
        print(json.dumps(summary, indent=2))
    else:
        for i, attempt in enumerate(attempts):
            if attempt.error:
                print(f"model error: {attempt.error}", file=sys.stderr)
            if attempt.report is not None:
                label = "" if len(attempts) == 1 else f"attempt {i + 1}: "
                text = format_summary(attempt.report, origin=origin)
                print(label + text.replace("\n", "\n" + " " * len(label)))
        if out_path is not None:
            print(f"wrote {out_path}")
    return exit_code


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


def _repair_attempt(
    llm: LLMConfig, req: repair.RepairRequest, style: str, lines: list[str], replaced: list[str]
) -> Attempt:
    stream, stats = repair.open_repair_stream(llm, req, style)
    return Attempt(
        first_line=len(lines) + 1,
        stream=stream,
        stats=stats,
        request=req,
        replaced=replaced,
        unchanged_message=stats.message(req) if stats is not None else "",
    )


async def _one_stream(
    session: Interpreter,
    attempt: Attempt,
    view: LiveView,
    rate_limit: float | None,
) -> RunReport | None:
    def on_piece(piece: str) -> None:
        attempt.text += piece
        view.piece(piece)

    try:
        stream: Any = attempt.stream
        if rate_limit:
            stream = ThrottledStream(stream, rate_limit)
        attempt.report = await session.run_stream(
            stream, first_line=attempt.first_line, listener=view.event, on_piece=on_piece
        )
    except StreamFailed as exc:
        attempt.report = exc.report
        attempt.error = str(exc.cause)
    except ProviderError as exc:
        attempt.error = str(exc)
    unchanged = attempt.stats is not None and attempt.stats.unchanged
    if (
        attempt.report is not None
        and not attempt.text.strip()
        and attempt.error is None
        and not unchanged
    ):
        attempt.error = "The model returned no code"
    return attempt.report


def _kept_lines(attempt: Attempt) -> list[str]:
    """The attempt's text, cut after the failing statement when the run stopped early."""
    text_lines = attempt.text.splitlines(keepends=True)
    if text_lines and not text_lines[-1].endswith("\n"):
        text_lines[-1] += "\n"
    report = attempt.report
    if report is None or not report.stopped_early:
        return text_lines
    failed = report.failed
    if failed is not None:
        end = failed.chunk.end_line - attempt.first_line + 1
        return text_lines[:end]
    if report.syntax_error is not None:
        return text_lines[: report.syntax_error.line - attempt.first_line + 1]
    return text_lines
