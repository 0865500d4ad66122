"""The terminal edge: prints chunk results as they arrive and a timeline summary at the end.

One time origin for everything a command prints: `origin` (when the command started, before the
interpreter and the model start), for the `[  1.68s]` result lines and for the summary's
timestamps alike. Durations (execution, the serial estimate, the saving) are durations.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from eager_lsp.app.run import run_text
from eager_lsp.cli.options import interpreter_config_from_args
from eager_lsp.cli.terminal import watch_stdout
from eager_lsp.core.executor import ExecutorUnavailable
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.run import RunReport
from eager_lsp.core.types import (
    Chunk,
    ChunkOutput,
    ChunkResult,
    Done,
    Event,
    Release,
    ResultReady,
    StopRequested,
    SyntaxErrorFound,
    WorkerLost,
)
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.executors.worker.capture import cut_output
from eager_lsp.providers.replay import CHARS_PER_TOKEN

MAX_OUTPUT_LINES = 8  # per chunk and stream; the rest is counted, not shown
LIVE_LINES = 500  # per stream of a running statement, printed as they come (then counted)
_KEPT_END = 24  # characters of a long line's end kept when it is cut


class ConsolePrinter:
    """Turns pipeline events into short lines on a terminal (or nothing, with --json).

    Lines read in document order: a syntax error is found as soon as its text arrives, often
    before the statements above it have their results (at `--rate 0`, all of them), so its
    line (and the stop it causes) waits until every statement released before it has
    printed its result, or until the run is done."""

    def __init__(
        self,
        out: TextIO | None = None,  # None: sys.stdout as it is then
        *,
        quiet: bool = False,
        width: int = 100,
        origin: float | None = None,
    ) -> None:
        self.out: TextIO = out if out is not None else sys.stdout
        self.quiet = quiet
        self.width = width
        self.t0: float | None = origin  # None: the first event's time
        self._running: dict[int, Chunk] = {}  # released, no result yet (by identity)
        self._live: dict[int, LiveLines] = {}  # output printed while it ran (by identity)
        # lines waiting for the results of the statements released before them
        self._held: list[tuple[set[int], float, str, str]] = []

    def __call__(self, event: Event) -> None:
        if self.t0 is None:
            self.t0 = event.t
        if self.quiet:
            return
        if isinstance(event, Release):
            self._running[id(event.chunk)] = event.chunk
        elif isinstance(event, ChunkOutput):
            self._live_output(event)
        elif isinstance(event, ResultReady):
            self._running.pop(id(event.result.chunk), None)
            self.result(event.result, event.t, self._live.pop(id(event.result.chunk), None))
            self._print_held()
        elif isinstance(event, SyntaxErrorFound):
            issue = event.issue
            self._hold(set(self._running), event.t, f"line {issue.line}", issue.text)
        elif isinstance(event, StopRequested):
            self._hold(set(), event.t, "stop", event.reason)  # behind a held line, if any
        elif isinstance(event, WorkerLost):
            self._line(event.t, "lost", f"interpreter lost: {event.reason}")
            details = event.reason.partition("\n")[2].strip()  # (its stderr's tail: once, here)
            for line in output_block("err", details, self.width, indent=17):
                self.out.write(line + "\n")
        elif isinstance(event, Done):
            self.flush()

    def _hold(self, waits: set[int], t: float, where: str, text: str) -> None:
        self._held.append((waits, t, where, text))
        self._print_held()

    def _print_held(self) -> None:
        while self._held and not (self._held[0][0] & self._running.keys()):
            _, t, where, text = self._held.pop(0)
            self._line(t, where, text)

    def flush(self) -> None:
        """Print every held line now (the run is over: no more results will come)."""
        for _, t, where, text in self._held:
            self._line(t, where, text)
        self._held.clear()
        self._running.clear()

    def result(self, r: ChunkResult, t: float, live: LiveLines | None = None) -> None:
        if r.skipped:
            self._line(t, where(r.chunk), "skipped")
            return
        self._line(t, where(r.chunk), result_text(r, self.width))
        for stream, text in (("out", r.stdout), ("err", r.stderr)):  # (before an error too)
            shown = live.printed_of(stream, text) if live is not None else 0
            for line in output_block(stream, text, self.width, indent=17, shown=shown):
                self.out.write(line + "\n")
        self.out.flush()

    def _live_output(self, event: ChunkOutput) -> None:
        """A running statement's whole new lines as they come, under a line saying it runs
        (its first LIVE_LINES lines a stream; its result counts the rest)."""
        first, lines = self._live.setdefault(id(event.chunk), LiveLines()).take(event)
        if first:
            self._line(event.t, where(event.chunk), "running…")
        for stream, line in lines:
            self.out.write(f"{' ' * 17}{stream}| {line[: self.width]}\n")
        self.out.flush()

    def _line(self, t: float, where: str, text: str) -> None:
        """One line: a multi-line text (a lost interpreter's reason) gives its first line."""
        text = text.partition("\n")[0]
        rel = t - (self.t0 or t)
        if len(text) > self.width:  # its end says where ("… at line 4"): keep it
            text = text[: self.width - _KEPT_END - 1] + "…" + text[-_KEPT_END:]
        self.out.write(f"[{rel:7.2f}s] {where:<7} {text}\n")
        self.out.flush()

    def summary(self, report: RunReport) -> None:
        if self.quiet:
            return
        self.flush()
        self.out.write(format_summary(report, origin=self.t0) + "\n")
        self.out.flush()


_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # as str.splitlines


class LiveLines:
    """The output a running statement has sent, per stream, and how many of its lines the
    printer has shown (at most LIVE_LINES each: a loop printing progress for minutes shows
    it, not its first 8 lines and then nothing). Each piece costs its own length: only the
    unfinished last line is split again."""

    def __init__(self) -> None:
        self.announced = False
        self._parts: dict[str, list[str]] = {"out": [], "err": []}
        self._tail = {"out": "", "err": ""}  # the unfinished last line
        self.shown = {"out": 0, "err": 0}  # lines printed
        self._lines = {"out": 0, "err": 0}  # whole lines received

    def take(self, event: ChunkOutput) -> tuple[bool, list[tuple[str, str]]]:
        """Whether this is the statement's first output (the printers then say it runs, also
        before a whole line: print(..., end="") progress), and the lines to print now."""
        first, self.announced = not self.announced, True
        return first, self.add("out", event.stdout) + self.add("err", event.stderr)

    def add(self, stream: str, text: str) -> list[tuple[str, str]]:
        """The whole lines `text` completes that are still to be shown, split as
        `output_block` splits (a progress bar's "\r" ends a line there too)."""
        if not text:
            return []
        self._parts[stream].append(text)
        lines = (self._tail[stream] + text).splitlines(keepends=True)
        tail = ""
        if lines[-1][-1] not in _LINE_BREAKS or lines[-1].endswith("\r"):
            tail = lines.pop()  # not finished yet (a "\r" may be the start of "\r\n")
        self._tail[stream] = tail
        before = self._lines[stream]
        new = lines[: max(0, LIVE_LINES - before)]  # all before were shown
        self._lines[stream] += len(lines)
        self.shown[stream] += len(new)
        shown = [(stream, line.splitlines()[0]) for line in new]
        if before <= LIVE_LINES < self._lines[stream]:  # said once, not counted as shown
            shown.append(
                (
                    stream,
                    f"… more lines as it runs: the last {MAX_OUTPUT_LINES} come with its result",
                )
            )
        return shown

    def printed_of(self, stream: str, final: str) -> int:
        """How many of the result's `final` output lines were printed already: none when
        `final` does not start with what was shown (a kernel cut it)."""
        return self.shown[stream] if final.startswith("".join(self._parts[stream])) else 0


def where(c: Chunk) -> str:
    """A chunk's lines as the result lines name them: `L3`, `L3-7`."""
    return f"L{c.start_line}" if c.start_line == c.end_line else f"L{c.start_line}-{c.end_line}"


def result_text(r: ChunkResult, width: int) -> str:
    """A result (not skipped) in at most `width` characters: the message or the values are
    cut with "…", never where it failed and how long it took (a long JSONDecodeError lost
    its "at line 2" and its time to the cut)."""
    took = f" ({(r.exec_end - r.exec_start) * 1000:.1f} ms)"
    if r.error is not None:
        body = r.error.text
        tail = (f" at line {r.error.line}" if r.error.line else "") + took
    else:
        parts = [f"{v.name} = {v.summary}" for v in r.values]
        if r.expr is not None:
            parts.append(f"→ {r.expr.summary}")
        body, tail = "  ".join(parts) or "ok", took
    room = max(width - len(tail), 10)
    return (body if len(body) <= room else body[: room - 1] + "…") + tail


def output_block(stream: str, output: str, width: int, indent: int, shown: int = 0) -> list[str]:
    """A chunk's output as at most MAX_OUTPUT_LINES lines and a count of the rest, a lower
    bound when the output was cut (a loop printing 50,000 lines said "12768 more lines": the
    lines that were kept, not those printed). When its first `shown` lines were printed
    already, while it ran, the block is what came after them: all of it, or a count and its
    last MAX_OUTPUT_LINES lines (a long loop's end is what one waits for)."""
    text, cut = cut_output(output)
    lines = text.splitlines() if text else []
    pad = " " * indent
    rest = lines[shown:] if shown else lines[:MAX_OUTPUT_LINES]
    more = len(lines) - shown - MAX_OUTPUT_LINES if shown else len(lines) - MAX_OUTPUT_LINES
    block = []
    if shown and more > 0:
        rest = rest[-MAX_OUTPUT_LINES:]
        block.append(f"{pad}{stream}| … {more} more lines")
    block += [f"{pad}{stream}| {line[:width]}" for line in rest]
    if cut:
        count = f"at least {more} more lines" if more > 0 and not shown else "more"
        block.append(f"{pad}{stream}| … {count} (the output was cut)")
    elif more > 0 and not shown:
        block.append(f"{pad}{stream}| … {more} more lines")
    return block


def format_summary(report: RunReport, origin: float | None = None) -> str:
    """The summary lines. Timestamps (`stream a → b`, `all results c`) count from `origin`
    (default: the run's start), like the printer's result lines."""
    j = report.to_json()
    shift = 0.0 if origin is None else report.started_at - origin

    def at(x: float | None) -> str:
        return _s(None if x is None else x + shift)

    ran = sum(1 for c in j["chunks"] if not c["skipped"])
    lines = [
        f"stream {at(j['first_token_s'])} → {at(j['last_token_s'])} · all results {at(j['done_s'])}"
        f" · {ran}/{len(j['chunks'])} chunks ran · execution {_s(j['exec_total_s'])}",
    ]
    if j["serial_estimate_s"] is not None:
        hidden = (j["done_s"] or 0) - (j["last_token_s"] or 0)
        saved = j["saved_s"] or 0.0
        shown = round(saved, 2)  # (as `_s` prints it)
        if shown > 0:
            verdict = f"saved {_s(saved)}"
        elif shown == 0:
            verdict = "no time saved"
        else:
            verdict = f"no time saved: {_s(-saved)} slower"
        # Both from the same origin as the line above ("eager took" is "all results").
        lines.append(
            f"generate-then-run would take {at(j['serial_estimate_s'])}; eager took {at(j['done_s'])}"
            f" ({verdict}; {_s(hidden)} after the last token)"
        )
    if report.gate_fallback:
        lines.append(f"gate: ran serially from {report.gate_fallback}")
    if report.parallel_note:
        lines.append(f"gate {report.parallel_note}")
    if report.stopped_early:
        lines.append(f"stopped early: {(report.stop_reason or '').partition(chr(10))[0]}")
    return "\n".join(lines)


def announce_debugger(interpreter: Interpreter) -> int | None:
    """With --debug, say where debugpy listens, so a person can attach while the code runs
    (or why it does not); returns the port. Without --debug nothing listens."""
    if interpreter.debug_port is not None:
        print(
            f"debugpy: attach to 127.0.0.1:{interpreter.debug_port} to debug the running code",
            file=sys.stderr,
            flush=True,
        )
    elif interpreter.config.debug_listen:
        print(f"debugpy: not started: {interpreter.debug_error}", file=sys.stderr, flush=True)
    return interpreter.debug_port


def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f} s"


async def run_file(text: str, args: argparse.Namespace) -> int:
    """`eager-lsp run`: replay `text` at a token rate through a fresh interpreter."""
    origin = time.monotonic()  # every time this command prints counts from here
    watch_stdout()
    config = interpreter_config_from_args(args, str(args.file.resolve()))
    printer = ConsolePrinter(quiet=args.json, origin=origin)
    interpreter = open_interpreter(
        config, spares=0
    )  # one run: no spare interpreter to start and stop
    try:
        try:
            await interpreter.start()
        except (
            ExecutorUnavailable
        ) as exc:  # no such kernel, unreachable server, bad connection file
            print(f"eager-lsp: {exc.reason}", file=sys.stderr)
            return 2
        debug_port = announce_debugger(interpreter)
        outcome = await run_text(
            interpreter, text, listener=printer, rate=args.rate, piece_size=args.piece_size
        )
    finally:
        await interpreter.close()
    report = outcome.report
    summary = report.to_json()
    summary["debug_port"] = debug_port
    summary["chars_total"] = outcome.chars_total
    summary["chars_streamed"] = outcome.chars_streamed
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        printer.summary(report)
        if outcome.chars_streamed < outcome.chars_total:
            unsent = outcome.chars_total - outcome.chars_streamed
            tokens = max(1, round(unsent / CHARS_PER_TOKEN))
            print(
                f"stopping early left {unsent} characters (~{tokens} token"
                f"{'s' if tokens != 1 else ''}) unstreamed: a model would not have had to "
                "write them"
            )
    return 0 if outcome.ok else 1
