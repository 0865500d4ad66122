"""The terminal edge: prints chunk results as they arrive and a timeline summary at the end.

One time origin for everything a command prints: `origin` (when the command started, before the
interpreter and the model start), for the `[  1.68s]` result lines and for the summary's
timestamps alike. Durations (execution, the serial estimate, the saving) are durations.

A statement's output is shown as a terminal would leave it (`screen_lines`): a line redrawn
with "\r" (a progress bar: `print(f"\r{i}", end="")`) is one line, in its latest state. Each
state printed as a line of its own flooded the terminal (five lines for five states, one of
them empty). While the statement runs, such a line is drawn in place as it changes when stdout
is a terminal (`ConsolePrinter.redraw`); elsewhere (a pipe, a file, a log) it is printed once,
when it ends, in its final state, or with the statement's result if it never ends.

Where stdout is not a terminal (a file, a pipe, a log: kept to be read later) each statement's
output is printed whole (`output_block`), as far as the worker kept it: it keeps a stream's
first and last 32 Ki characters and counts the rest, and a line says where and how many
characters were left out. Cut to 8 lines there ("… 12 more lines"), the rest was lost with no
way to see it. On a terminal a person reads it as it comes: a short view of 8 lines and a
count of the others ("at least" where characters were left out: their lines are not known);
after lines shown while it ran, the last 8, as the line that stops them says.

A script that calls `sys.exit()` (`exit()`, `raise SystemExit`) ends as under python
(`script_exit`): nothing after it runs, its result line says `exited with status N`, not an
error, and `run` exits with that status (0 for none, the code, or 1 with a message, which is
printed on stderr as python prints it). The worker reports it as an error like any other (the
language server shows it so); the status is read back from its message, so a string that
reads as a number or None (`sys.exit("3")`) gives that status where python gives 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import re
import shutil
import sys
import time
from typing import Any, TextIO

from eager_lsp.app.run import at_exit, run_text
from eager_lsp.cli.interrupt import CUT_SHORT, EXIT_INTERRUPTED, CtrlC
from eager_lsp.cli.options import interpreter_config_from_args
from eager_lsp.cli.terminal import watch_stdout
from eager_lsp.core.executor import ExecutorUnavailable
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.run import RunReport, ended_by_user
from eager_lsp.core.text_lines import blank_or_comment, terminal_line
from eager_lsp.core.types import (
    Chunk,
    ChunkOutput,
    ChunkResult,
    Done,
    ErrorInfo,
    Event,
    GateHeld,
    Release,
    ResultReady,
    StopRequested,
    SyntaxErrorFound,
    WorkerLost,
    failure_text,
)
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.executors.worker.capture import cut_output
from eager_lsp.limits import CLIPPED_MARKER, STREAM_CAP, omission_marker
from eager_lsp.providers.replay import CHARS_PER_TOKEN

MAX_OUTPUT_LINES = 8  # per chunk and stream; the rest is counted, not shown
LIVE_LINES = 500  # per stream of a running statement, printed as they come (then counted)
_LIVE_KEPT = 2 * STREAM_CAP  # characters of a stream's live text lines are shown from
_KEPT_END = 24  # characters of a long line's end kept when it is cut
_ERASE = "\r\x1b[K"  # back to the line's start, and clear it
_PATH_SHOWN = 60  # characters of the path an error was raised in, at most (its end kept)


class ConsolePrinter:
    """Turns pipeline events into short lines on a terminal (or nothing, with --json).

    Lines read in document order: a syntax error is found as soon as its text arrives, often
    before the statements above it have their results (at `--rate 0`, all of them), so its
    line (and the stop it causes) waits until every statement released before it has
    printed its result, or until the run is done. So does a statement's "skipped": a stop by
    the user skips the statements queued behind the running one before that one's result
    (its KeyboardInterrupt) comes, and "L3 skipped" was printed before "L2 KeyboardInterrupt".

    With `redraw` (default: when `out` is a terminal) the unfinished line of the statement
    that printed last is drawn below the printed lines and redrawn as it changes; every
    other write erases it first and draws it again after. Off, only whole lines are printed
    (`eager-lsp generate` keeps the terminal's last line for its status line).

    With `whole` (default: when `out` is not a terminal) each statement's output is printed
    whole, as far as it was kept (`output_block`); else in a short view."""

    def __init__(
        self,
        out: TextIO | None = None,  # None: sys.stdout as it is then
        *,
        quiet: bool = False,
        width: int = 100,
        origin: float | None = None,
        redraw: bool | None = None,
        whole: bool | None = None,
    ) -> None:
        self.out: TextIO = out if out is not None else sys.stdout
        self.quiet = quiet
        self.width = width
        self.t0: float | None = origin  # None: the first event's time
        self.redraw = is_terminal(self.out) if redraw is None else redraw
        self.whole = not is_terminal(self.out) if whole is None else whole
        self._running: dict[int, Chunk] = {}  # released, no result yet (by identity)
        self._live: dict[int, LiveLines] = {}  # output printed while it ran (by identity)
        # lines waiting for the results of the statements released before them
        self._held: list[tuple[set[int], float, str, str]] = []
        self._skipped: list[tuple[set[int], float, ChunkResult]] = []  # (the same, skipped)
        self._drawing: int | None = None  # the statement whose unfinished line is drawn
        self._drawn: tuple[str, str] | None = None  # drawn below the printed lines now
        self._killed: str | None = None  # why it was killed (or let go of) on purpose
        self._exit_stop: tuple[str, str] | None = None  # the stop a script's exit caused, said

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
            r = event.result
            self._running.pop(id(r.chunk), None)
            before = {k for k, c in self._running.items() if c.index < r.chunk.index}
            if r.skipped and before:
                self._skipped.append((before, event.t, r))
            else:
                self.result(r, event.t, self._live.pop(id(r.chunk), None))
            self._print_held()
        elif isinstance(event, SyntaxErrorFound):
            issue = event.issue
            self._hold(set(self._running), event.t, f"line {issue.line}", issue.text)
        elif isinstance(event, StopRequested):
            reason = event.reason
            if self._exit_stop is not None and reason == self._exit_stop[0]:
                reason = self._exit_stop[1]
            self._hold(set(), event.t, "stop", reason)  # behind a held line, if any
        elif isinstance(event, GateHeld):  # said when it begins, not only in the summary
            why = f"line {event.line} {event.reason}: it and what follows run at the end"
            self._hold(set(self._running), event.t, "gate", why)
        elif isinstance(event, WorkerLost):
            if self._killed is None:  # (killed on purpose: `killing` said so)
                self._line(event.t, "lost", f"interpreter lost: {event.reason}")
                details = event.reason.partition("\n")[2].strip()  # (its stderr's tail, once)
                block = output_block("err", details, self.width, indent=17, whole=self.whole)
                self._write_block(block)
        elif isinstance(event, Done):
            self.flush()
        self._draw()

    def _hold(self, waits: set[int], t: float, where: str, text: str) -> None:
        self._held.append((waits, t, where, text))
        self._print_held()

    def _print_held(self) -> None:
        while self._held and not (self._held[0][0] & self._running.keys()):
            _, t, where, text = self._held.pop(0)
            self._line(t, where, text)
        while self._skipped and not (self._skipped[0][0] & self._running.keys()):
            _, t, r = self._skipped.pop(0)
            self.result(r, t)

    def flush(self) -> None:
        """Print every held line now (the run is over: no more results will come)."""
        for _, t, where, text in self._held:
            self._line(t, where, text)
        for _, t, r in self._skipped:
            self.result(r, t)
        self._held.clear()
        self._skipped.clear()
        self._running.clear()

    def result(self, r: ChunkResult, t: float, live: LiveLines | None = None) -> None:
        if id(r.chunk) == self._drawing:
            self._drawing = None  # its unfinished line comes with the result, in its last state
        if r.skipped:
            self._line(t, where(r.chunk), "skipped")
            return
        error = r.error
        if (
            self._killed is not None
            and error is not None
            and error.type == "InterpreterLost"
            and error.message.startswith(self._killed)
        ):
            # The kill the user asked for (its reason came with it: core/interpreter.py
            # `executor_lost`), said in fewer words: this line has room for one. An attached
            # kernel was only let go of: its state is not lost (cli/interrupt.py CUT_SHORT).
            said = CUT_SHORT.get(self._killed, f"{self._killed}; its state is lost")
            lost = dataclasses.replace(error, message=said)
            r = dataclasses.replace(r, error=lost)
        if (ended := script_exit(r)) is not None:
            self._exit_stop = (stop_reason_of(r), exit_text(ended, r))
        self._line(t, where(r.chunk), result_text(r, self.width))
        for stream, text in (("out", r.stdout), ("err", r.stderr)):  # (before an error too)
            after_live = live is not None and live.printed(stream)
            rest = live.rest(stream, text) if live is not None else text
            block = output_block(
                stream, rest, self.width, indent=17, after_live=after_live, whole=self.whole
            )
            self._write_block(block)
        self.out.flush()

    def _live_output(self, event: ChunkOutput) -> None:
        """A running statement's whole new lines as they come, under a line saying it runs
        (its first LIVE_LINES lines a stream; its result counts the rest); its unfinished
        line is drawn by `_draw` (with `redraw`)."""
        live = self._live.setdefault(id(event.chunk), LiveLines(whole=self.whole))
        first, lines = live.take(event)
        if first:
            self._line(event.t, where(event.chunk), "running…")
        for stream, line in lines:
            self._write(f"{' ' * 17}{stream}| {line if self.whole else line[: self.width]}\n")
        self._drawing = id(event.chunk)
        self.out.flush()

    def killing(self, why: str) -> None:
        """The interpreter is being killed on purpose (a second Ctrl-C: cli/interrupt.py):
        said now, and its loss is then told as `why`."""
        self._killed = why
        if not self.quiet:
            self._line(time.monotonic(), "stop", why)
            self._draw()

    def _line(self, t: float, where: str, text: str) -> None:
        """One line: a multi-line text (a lost interpreter's reason) gives its first line."""
        text = text.partition("\n")[0]
        rel = t - (self.t0 or t)
        if len(text) > self.width:  # its end says where ("… at line 4"): keep it
            text = text[: self.width - _KEPT_END - 1] + "…" + text[-_KEPT_END:]
        self._write(f"[{rel:7.2f}s] {where:<7} {text}\n")
        self.out.flush()

    def _write_block(self, lines: list[str]) -> None:
        for line in lines:
            self._write(line + "\n")

    def _write(self, text: str) -> None:
        """Whole lines: a line drawn below them is erased first (`_draw` draws it again)."""
        if self._drawn is not None:
            self.out.write(_ERASE)
            self._drawn = None
        self.out.write(text)

    def _draw(self) -> None:
        """Draw the unfinished line of the statement that printed last, if it changed: within
        the terminal's width, as a wrapped line could not be drawn over."""
        live = self._live.get(self._drawing) if self._drawing is not None else None
        want = live.unfinished() if live is not None and self.redraw else None
        if want == self._drawn:
            return
        if want is None:
            self.out.write(_ERASE)
        else:
            stream, state = want
            room = max(10, min(self.width, shutil.get_terminal_size().columns - 23))
            self.out.write(f"\r{' ' * 17}{stream}| {state[:room]}\x1b[K")
        self._drawn = want
        self.out.flush()

    def at_exit(self, ended: dict[str, Any]) -> None:
        """What ending the script printed (app/run.py `at_exit`: its threads, its `atexit`
        functions), or its error, under an `exit` line; nothing when it printed nothing."""
        out, err = str(ended.get("stdout") or ""), str(ended.get("stderr") or "")
        error = ended.get("error")
        if self.quiet or not (out or err or error):
            return
        self.flush()
        self._line(
            time.monotonic(), "exit", f"{error['type']}: {error['message']}" if error else "at exit"
        )
        for stream, text in (("out", out), ("err", err)):
            self._write_block(output_block(stream, text, self.width, indent=17, whole=self.whole))
        self.out.flush()

    def summary(self, report: RunReport) -> None:
        if self.quiet:
            return
        self.flush()
        self._write(format_summary(report, origin=self.t0) + "\n")
        self.out.flush()


def is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError, OSError):
        return False


# A line's end, as str.splitlines ends one, except a lone "\r": that draws the line again.
_LINE_END = re.compile("\r\n|[\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def latest(line: str) -> str:
    """A line as a terminal last drew it (core/text_lines.py `terminal_line`)."""
    return terminal_line(line)


def screen_lines(text: str) -> list[str]:
    """`text` as lines on a terminal: one per line, in its latest state (`latest`)."""
    lines = _LINE_END.split(text)
    if lines[-1] == "":
        lines.pop()  # (the text ended with a line's end, or was empty)
    return [latest(line) for line in lines]


class LiveLines:
    """The output a running statement has sent, per stream, and how much of it the printer
    has shown: its first whole lines (at most LIVE_LINES each: a loop printing progress for
    minutes shows it, not its first 8 lines and then nothing), up to where the worker first
    left output out (`limits.omission_marker`, once a stream passes STREAM_CAP: what follows
    is the newest text, not the next). Lines are split as `output_block` splits them
    (`screen_lines`). Each piece costs its own length: only the unfinished last line is split
    again, and it is kept in its latest state (a bar redrawn for minutes stays one state long).

    `rest` gives what of the result's output was not shown yet, by position: the live text
    before the worker's first marker is the output itself, so the end of the last line shown
    is a position in the output, and the result (its head, a marker counting what it left
    out, its end) is cut there. Counting lines instead printed the result's first 8 lines
    again after 500 shown live, whenever the live pieces did not add up to the result."""

    def __init__(self, *, whole: bool = False) -> None:
        self.announced = False
        self.whole = whole  # the result prints all of the rest (else its last lines)
        # The live text while lines are shown (up to the first marker, at most _LIVE_KEPT),
        # to match the result against.
        self._start: dict[str, list[str]] = {"out": [], "err": []}
        self._printed = {"out": 0, "err": 0}  # the position after the last line shown
        self._size = {"out": 0, "err": 0}  # characters received (markers as sent)
        self._open = {"out": True, "err": True}  # lines are still shown as they come
        self._tail = {"out": "", "err": ""}  # the unfinished last line
        self.shown = {"out": 0, "err": 0}  # lines printed
        self._lines = {"out": 0, "err": 0}  # whole lines received
        self._last = "out"  # the stream that wrote last

    def take(self, event: ChunkOutput) -> tuple[bool, list[tuple[str, str]]]:
        """Whether this is the statement's first output (the printers then say it runs, also
        before a whole line: print(..., end="") progress), and the lines to print now."""
        first, self.announced = not self.announced, True
        return first, self.add("out", event.stdout) + self.add("err", event.stderr)

    def add(self, stream: str, text: str) -> list[tuple[str, str]]:
        """The whole lines `text` completes that are still to be shown, each in its latest
        state (a progress bar's "\r" draws its line again; it ends none)."""
        if not text:
            return []
        self._last = stream
        tail = self._tail[stream]
        at = self._size[stream] - len(tail)  # the position of `joined[i]` is at + i (past `tail`)
        joined = tail + text
        gap = CLIPPED_MARKER.search(text) if self._open[stream] else None
        shown_until = at + len(tail) + gap.start() if gap else None  # (the marker's own "\n")
        if self._open[stream] and (room := _LIVE_KEPT - self._size[stream]) > 0:
            self._start[stream].append(text[:room])
        shown: list[tuple[str, str]] = []
        begin = 0
        for end in _LINE_END.finditer(joined):
            line, begin = joined[begin : end.start()], end.end()
            self._lines[stream] += 1
            if not self._open[stream]:
                continue
            fits = self.shown[stream] < LIVE_LINES and at + begin <= _LIVE_KEPT
            if fits and (shown_until is None or at + begin <= shown_until):
                shown.append((stream, latest(line)))
                self.shown[stream] += 1
                self._printed[stream] = at + begin
            else:
                shown.append(self._close(stream))
        if gap is not None and self._open[stream]:
            shown.append(self._close(stream))  # (what follows its marker is not the next text)
        self._size[stream] += len(text)
        rest = joined[begin:]  # not finished yet ("" if it was; a last "\r" may start "\r\n")
        if "\r" in rest[:-1]:
            rest = latest(rest) + ("\r" if rest.endswith("\r") else "")
        self._tail[stream] = rest
        return shown

    def _close(self, stream: str) -> tuple[str, str]:
        """Stop showing `stream`'s lines as they come; the line that says so."""
        self._open[stream] = False
        self._start[stream] = ["".join(self._start[stream])[: self._printed[stream]]]
        then = "the rest comes" if self.whole else f"the last {MAX_OUTPUT_LINES} come"
        return stream, f"… more lines as it runs: {then} with its result"

    def unfinished(self) -> tuple[str, str] | None:
        """The stream that wrote last and the latest state of its unfinished line, while
        that stream is still shown live; None: no such line (or an empty one)."""
        stream = self._last
        state = latest(self._tail[stream])
        if not state or self._lines[stream] >= LIVE_LINES:
            return None
        return stream, state

    def printed(self, stream: str) -> bool:
        """Whether any whole line of `stream` was shown as it came."""
        return self._printed[stream] > 0

    def rest(self, stream: str, final: str) -> str:
        """The result's `final` output after what was shown (all of it when it does not start
        with what was shown: a kernel cut it otherwise). `final` is the output, or its head,
        an `omission_marker` counting the characters left out, and its end: the rest is then
        cut from the head, from the characters left out (a marker for those not shown) or
        from the end, wherever the lines shown ended."""
        printed = self._printed[stream]
        if printed == 0:
            return final
        start = "".join(self._start[stream])[:printed]
        gap = CLIPPED_MARKER.search(final)
        if gap is None:
            return final[printed:] if final.startswith(start) else final
        head_end = gap.start()
        if not final.startswith(start[:head_end]):
            return final
        if printed <= head_end:  # (at the marker, its "\n" ends no line shown)
            return final[printed + (printed == head_end) :]
        end_at = head_end + int(re.findall(r"\d+", gap.group())[0])
        end = final[gap.end() :]
        if printed < end_at:
            return omission_marker(end_at - printed)[1:] + end
        return end[printed - end_at :]


def where(c: Chunk) -> str:
    """A chunk's lines as the result lines name them: `L3`, `L3-7`."""
    return f"L{c.start_line}" if c.start_line == c.end_line else f"L{c.start_line}-{c.end_line}"


def result_text(r: ChunkResult, width: int) -> str:
    """A result (not skipped) in at most `width` characters: the message or the values are
    cut with "…", never where it failed and how long it took (a long JSONDecodeError lost
    its "at line 2" and its time to the cut)."""
    took = f" ({(r.exec_end - r.exec_start) * 1000:.1f} ms)"
    if (ended := script_exit(r)) is not None:
        body, tail = exit_text(ended, r).partition(" at line ")[0], took
    elif r.error is not None:
        body = r.error.text
        tail = (f" at line {r.error.line}" if r.error.line else "") + raised_in(r.error) + took
    else:
        parts = [f"{v.name} = {v.summary}" for v in r.values]
        if r.expr is not None:
            parts.append(f"→ {r.expr.summary}")
        body, tail = "  ".join(parts) or "ok", took
    room = max(width - len(tail), 10)
    return (body if len(body) <= room else body[: room - 1] + "…") + tail


def raised_in(error: ErrorInfo) -> str:
    """ " (raised in sub/mod2.py:3)" when it was raised outside the script (ErrorInfo.raised_in):
    the path relative to the current directory when under it, its end (…) past 60 characters."""
    frame = error.raised_in
    if frame is None:
        return ""
    path = frame.path
    with contextlib.suppress(ValueError):
        if os.path.isabs(path) and not os.path.relpath(path).startswith(".."):
            path = os.path.relpath(path)
    if len(path) > _PATH_SHOWN:
        path = "…" + path[-(_PATH_SHOWN - 1) :]
    return f" (raised in {path}:{frame.line})"


def script_exit(r: ChunkResult | None) -> tuple[int, str] | None:
    """The status python exits with after the SystemExit `r` raised, and what it prints on
    stderr ("" for nothing); None: `r` raised none. (The status is read from the message:
    the module's rules.)"""
    if r is None or r.skipped or r.error is None or r.error.type != "SystemExit":
        return None
    message = r.error.message
    if message in ("", "None"):  # (str(SystemExit()) and str(SystemExit(None)): exit())
        return 0, ""
    if re.fullmatch(r"-?\d{1,9}", message):
        return int(message), ""
    return 1, message


def exit_text(ended: tuple[int, str], r: ChunkResult) -> str:
    """ "exited with status 3 at line 2": a script's exit, said as no error."""
    line = r.error.line if r.error is not None else None
    return f"exited with status {ended[0]}" + (f" at line {line}" if line else "")


def stop_reason_of(r: ChunkResult) -> str:
    """The run's stop reason for a failing `r` (core/run.py says it so)."""
    return f"{failure_text(r)} at line {r.error.line if r.error else None}"


def run_exit(report: RunReport) -> tuple[int, str] | None:
    """The script's exit that stopped `report`'s run (`script_exit`), if one did."""
    for r in report.results:
        if (ended := script_exit(r)) is not None and report.stop_reason == stop_reason_of(r):
            return ended
    return None


# Where the worker (or a kernel) left characters out of a stream, and how many; at the
# start of a text too (`LiveLines.rest` cut there) and before its end (a trailing blank line).
_OMITTED = re.compile(r"(?:\A|\n)\[\.\.\. (\d+) characters omitted \.\.\.\](?:\n|\Z)")
_DROPPED = -1  # the text's end was not kept (an older worker's head-only cut)


def output_items(output: str) -> list[str | int]:
    """`output` as the lines a terminal would show (`screen_lines`: a progress bar is one
    line, its last state), with the number of characters left out where the worker left
    them out (`_DROPPED` where it kept only the head)."""
    text, cut = cut_output(output)
    items: list[str | int] = []
    at = 0
    for gap in _OMITTED.finditer(text):
        items += screen_lines(text[at : gap.start()])
        items.append(int(gap.group(1)))
        at = gap.end()
    items += screen_lines(text[at:])
    if cut and at == 0:
        items.append(_DROPPED)
    return items


def output_block(
    stream: str,
    output: str,
    width: int,
    indent: int,
    *,
    after_live: bool = False,
    whole: bool = False,
) -> list[str]:
    """A chunk's output (`output_items`), to print under its result.

    `whole` (stdout is not a terminal: a file, a pipe, a log): every line, whole, and where
    the worker left characters out, how many (it keeps a stream's first and last 32 Ki
    characters). Else a short view for a person at a terminal: at most MAX_OUTPUT_LINES lines
    cut to `width`, and a count of the others, "at least" when characters were left out among
    them (a line count is not known there). The lines shown are the first ones, or with
    `after_live` (its first lines were printed while it ran: `output` is what came after
    them, `LiveLines.rest`) the last ones, after the count: a long loop's end is what one
    waits for."""
    items = output_items(output)
    pad = f"{' ' * indent}{stream}| "
    lines_at = [i for i, item in enumerate(items) if isinstance(item, str)]
    kept, before, after = items, [], []
    if not whole and len(lines_at) > MAX_OUTPUT_LINES:
        if after_live:
            cut = lines_at[-MAX_OUTPUT_LINES]
            before, kept = [_count(items[:cut])], items[cut:]
        else:
            cut = lines_at[MAX_OUTPUT_LINES - 1] + 1
            kept, after = items[:cut], [_count(items[cut:])]
    said = [_said(item, width, whole) for item in kept]
    return [pad + line for line in before + said + after]


def _said(item: str | int, width: int, whole: bool) -> str:
    if isinstance(item, str):
        return item if whole else item[:width]
    if item == _DROPPED:
        return "… more (the output was cut)"
    kept = STREAM_CAP // 2 // 1024
    return (
        f"… {item} characters left out here (eager-lsp keeps a stream's first and last {kept} Ki)"
    )


def _count(items: list[str | int]) -> str:
    """ "… N more lines" for the lines `items` holds; "at least" when characters were left
    out among them (the lines around a cut may be one line)."""
    lines = sum(isinstance(item, str) for item in items)
    gaps = [item for item in items if isinstance(item, int)]
    if not gaps:
        return f"… {lines} more lines"
    lines -= sum(1 for gap in gaps if gap != _DROPPED)
    return f"… at least {max(lines, 0)} more lines (the output was cut)"


def at_exit_json(ended: dict[str, Any]) -> dict[str, Any]:
    """The script's ending (app/run.py `at_exit`) as `--json` gives it (`at_exit`)."""
    error = ended.get("error")
    return {
        "stdout": ended.get("stdout", ""),
        "stderr": ended.get("stderr", ""),
        "error": f"{error['type']}: {error['message']}" if error else None,
    }


def format_summary(report: RunReport, origin: float | None = None) -> str:
    """The summary lines. Timestamps (`stream a → b`, `all results c`) count from `origin`
    (default: the run's start), like the printer's result lines.

    "N/M chunks ran" counts the statements that ran to their end: one the user interrupted
    (its KeyboardInterrupt, or its interpreter killed on request: core/run.py
    `ended_by_user`) is counted as interrupted, not as run. A run the user interrupted or
    stopped (`RunReport.interrupt_asked`) is not compared with generate-then-run: where the
    user pressed Ctrl-C decided how long it took, so any "saved" would be made up."""
    j = report.to_json()
    shift = 0.0 if origin is None else report.started_at - origin

    def at(x: float | None) -> str:
        return _s(None if x is None else x + shift)

    ran_results = [r for r in report.results if not r.skipped]
    stopped = sum(1 for r in ran_results if ended_by_user(r))
    interrupted = f" · {stopped} interrupted" if stopped else ""
    lines = [
        f"stream {at(j['first_token_s'])} → {at(j['last_token_s'])} · all results {at(j['done_s'])}"
        f" · {len(ran_results) - stopped}/{len(j['chunks'])} chunks ran{interrupted}"
        f" · execution {_s(j['exec_total_s'])}",
    ]
    if report.interrupt_asked:
        lines.append("generate-then-run: not compared (the user interrupted the run)")
    elif j["serial_estimate_s"] is not None:
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
    ended = next((r for r in report.results if script_exit(r) is not None), None)
    if ended is not None and report.stop_reason == stop_reason_of(ended):
        exited = script_exit(ended)
        assert exited is not None
        lines.append(f"the script {exit_text(exited, ended)}: nothing after it ran")
    elif report.stopped_early:
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


async def run_file(
    text: str, args: argparse.Namespace, path: str | None = None, argv: list[str] | None = None
) -> int:
    """`eager-lsp run`: replay `text` at a token rate through a fresh interpreter. `path` is
    the document as the code sees it (`__file__`, tracebacks; default: `args.file`'s), e.g.
    "<stdin>"; `argv` its `sys.argv` (default: [path]). Ctrl-C stops the run and its summary
    still comes (cli/interrupt.py)."""
    origin = time.monotonic()  # every time this command prints counts from here
    watch_stdout()
    config = interpreter_config_from_args(args, path or str(args.file.resolve()))
    printer = ConsolePrinter(quiet=args.json, origin=origin)
    # one run: no spare interpreter to start and stop
    try:
        interpreter = open_interpreter(config, spares=0, argv=argv)
    except ValueError as exc:  # (the parser checked the size already)
        print(f"eager-lsp: {exc}", file=sys.stderr)
        return 2
    async with CtrlC(interpreter, printer.killing) as ctrl_c:
        try:
            try:
                await interpreter.start()
            except ExecutorUnavailable as exc:  # no such kernel, unreachable server, …
                print(f"eager-lsp: {exc.reason}", file=sys.stderr)
                return 2
            debug_port = announce_debugger(interpreter)
            outcome = await run_text(
                interpreter, text, listener=printer, rate=args.rate, piece_size=args.piece_size
            )
            # the script ends as python ends it (its threads, atexit), unless Ctrl-C stopped it
            ending = None if ctrl_c.stopped else await at_exit(interpreter)
        except asyncio.CancelledError:
            # Ctrl-C cancels only a command whose run has not begun; else the reader of
            # stdout left (cli/terminal.py)
            if not ctrl_c.stopped or interpreter.run is not None:
                raise
            print("eager-lsp: interrupted (Ctrl-C) before anything ran", file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            await interpreter.close()
        report = outcome.report
        summary = report.to_json()
        summary["debug_port"] = debug_port
        summary["chars_total"] = outcome.chars_total
        summary["chars_streamed"] = outcome.chars_streamed
        if ending is not None:
            summary["at_exit"] = at_exit_json(ending)
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            if ending is not None:
                printer.at_exit(ending)
            printer.summary(report)
            unsent = outcome.chars_total - outcome.chars_streamed
            if ctrl_c.stopped:
                if (lines := _never_released(text, report)) is not None:
                    print(f"{lines} had not been streamed yet: they did not run")
            elif unsent > 0:
                tokens = max(1, round(unsent / CHARS_PER_TOKEN))
                print(
                    f"stopping early left {unsent} characters (~{tokens} token"
                    f"{'s' if tokens != 1 else ''}) unstreamed: a model would not have had to "
                    "write them"
                )
    if ctrl_c.stopped:
        return EXIT_INTERRUPTED
    if (ended := run_exit(report)) is not None:  # sys.exit(): python's status (module rules)
        status, said = ended
        if said:
            print(said, file=sys.stderr)
        return status
    return 0 if outcome.ok else 1


def _never_released(text: str, report: RunReport) -> str | None:
    """The lines below the last statement the run released ("lines 7-20", "line 9"), if any
    of them has code: a run stopped by its user never saw them (the summary counts only
    released statements). None: every statement was released."""
    lines = text.splitlines()
    last = max((c.end_line for c in report.chunks), default=0)
    if all(map(blank_or_comment, lines[last:])):
        return None
    first = last + 1
    return f"line {first}" if first == len(lines) else f"lines {first}-{len(lines)}"
