"""One model stream, run while it arrives: the step every generation and every repair is made of.

Rules, and why:
- The text runs through the interpreter as it streams; the edge sees every piece and every event
  (`AttemptEdge`), in that order per event: first the event, then `cut` when it stops the text.
- When a statement fails (with stop-on-error) or the text has a syntax error, nothing after
  that statement is kept: `cut(keep)` tells the edge at once (a document writer stops writing
  there), and `keep_length` gives the same cut at the end. The failing statement itself stays,
  with its error on its line.
- A broken stream (`StreamFailed`) or a provider error is recorded as the attempt's `error`
  and `cause`, never raised: the complete lines that arrived before the break are kept (an
  unfinished last line is dropped, as after a stop: it never ran). Cancellation propagates
  (the caller stopped the attempt). `model_failure` phrases such an end for the user: it
  must never read as a normal end.
- A repair attempt filters the answer through `repair.RepeatFilter`; when the model gave the
  failing statement back unchanged, nothing ran and `unchanged_message` says so. A generation
  into a file drops the answer's echo of the code around it (app/echo.py).
- A person stops an attempt with `stop` (Ctrl-C of `eager-lsp generate`), not by cancelling
  it: a cancelled attempt raises CancelledError and what the model wrote went with it. A stop
  is the run's own (app/run.py `stop_text`): the model's stream is closed, the running
  statement interrupted, nothing after it runs, and `run` returns as after any stop. Every
  complete line the model wrote stays (as the editor keeps them, lsp/generation.py): the
  KeyboardInterrupt the stop causes is not an error to cut at. An error that had stopped the
  run before the person did keeps its cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eager_lsp.app import repair
from eager_lsp.app.repair import RepairRequest, RepairStats
from eager_lsp.app.run import stop_text
from eager_lsp.core.executor import InterruptOutcome
from eager_lsp.core.interpreter import Interpreter, StreamFailed
from eager_lsp.core.run import RunReport
from eager_lsp.core.types import (
    ChunkResult,
    Dispatch,
    Event,
    ExecEnd,
    Piece,
    ResultReady,
    SyntaxErrorFound,
    SyntaxIssue,
    failure_text,
)
from eager_lsp.providers.base import ProviderError, TextStream
from eager_lsp.providers.config import LLMConfig

NO_CODE = "The model returned no code"


# Events only the run's report needs: not handed to an edge (AttemptEdge.event)
TIMELINE: frozenset[type[Event]] = frozenset({Piece, Dispatch, ExecEnd})


class AttemptEdge(Protocol):
    """What an edge does while an attempt streams (print it, write it into a document)."""

    def piece(self, text: str) -> None:
        """Model text as it arrives (after the repair filter)."""

    def event(self, event: Event) -> None:
        """A pipeline event of the attempt's run, but for the timeline's own (`TIMELINE`:
        pieces, dispatches, ends of execution), which no edge reads while it streams and which
        are a run's most frequent events; they stay in its report."""

    def cut(self, keep: int) -> None:
        """Only the first `keep` characters of this attempt's text will be kept."""


def line_end(text: str, k: int) -> int:
    """Offset just past line `k` (0-based) of `text`, including its newline if it has one."""
    pos = 0
    for _ in range(k + 1):
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        pos = nl + 1
    return pos


@dataclass
class Attempt:
    """One model stream: what it wrote and what running it produced."""

    first_line: int  # the document line the attempt's first character lands on
    stream: TextStream  # the model's text
    stop_on_error: bool = True
    text: str = ""
    pieces: int = 0
    report: RunReport | None = None
    error: str | None = None  # the stream broke, or the model wrote nothing
    cause: BaseException | None = None  # what broke it
    failed: ChunkResult | None = None  # the first statement that failed
    syntax: SyntaxIssue | None = None
    stats: RepairStats | None = None  # its filter's (a repair's; a generation's echo)
    request: RepairRequest | None = None  # what a repair asked
    replaced: str = ""  # the text a repair rewrites (kept when the answer is unchanged)
    stopped: str | None = None  # a person stopped it (`stop`): why
    error_stopped_first: bool = False  # its run had stopped at an error before that

    @classmethod
    def generation(
        cls,
        llm: LLMConfig,
        messages: list[dict[str, Any]],
        *,
        first_line: int,
        above: str = "",
        below: str = "",
        **kw: Any,
    ) -> Attempt:
        """With `above` and `below` (a generation into a file: the code around the insertion
        point), the answer's echo of that code is dropped before it is written or run
        (app/echo.py)."""
        from eager_lsp.app.echo import without_echo
        from eager_lsp.providers import open_stream

        stream = open_stream(llm, messages)
        if not (above.strip() or below.strip()):
            return cls(first_line=first_line, stream=stream, **kw)
        filtered, stats = without_echo(stream, above, below)
        return cls(first_line=first_line, stream=filtered, stats=stats, **kw)

    @classmethod
    def repair(
        cls,
        llm: LLMConfig,
        req: RepairRequest,
        *,
        first_line: int,
        replaced: str,
        style: str = repair.DEFAULT_STYLE,
        **kw: Any,
    ) -> Attempt:
        stream, stats = repair.open_repair_stream(llm, req, style)
        return cls(
            first_line=first_line,
            stream=stream,
            stats=stats,
            request=req,
            replaced=replaced,
            **kw,
        )

    # -- what happened ---------------------------------------------------------------------
    @property
    def unchanged(self) -> bool:
        """The repair answer began with the failing statement as it was: nothing ran."""
        return self.stats is not None and self.stats.unchanged

    def _echoed(self) -> int:
        """How many statements of the file's own code a generation into it left out (0 for a
        repair, whose dropped repeats are another thing: `RepairStats.message`)."""
        if self.request is None and self.stats is not None:
            return len(self.stats.dropped)
        return 0

    @property
    def no_code_message(self) -> str:
        """Why an attempt that wrote nothing did: no code came, or (a generation into a file)
        only the file's own code again, which was dropped (`generation`)."""
        n = self._echoed()
        if n:
            return (
                f"The model only wrote code that is already in the file ({n} statement"
                f"{'' if n == 1 else 's'}); nothing new was written"
            )
        return NO_CODE

    @property
    def unchanged_message(self) -> str:
        if self.stats is None or self.request is None:
            return ""
        return self.stats.message(self.request)

    @property
    def empty(self) -> bool:
        """The model answered without any code (and nothing else went wrong)."""
        return (
            self.report is not None
            and not self.text.strip()
            and self.error is None
            and not self.unchanged
            and self.stopped is None
        )

    @property
    def failure(self) -> str | None:
        """The run's error text: the failing statement's error, else the syntax error."""
        return failure_text(self.failed) or failure_text(self.syntax)

    @property
    def model_failure(self) -> str | None:
        """Why the model ended this attempt, phrased for the end message ("the model stream
        broke after 3 lines: …", "the model answered HTTP 500: …"); None: it did not."""
        cause = self.cause
        if cause is None:
            return None
        if isinstance(cause, ProviderError):
            if cause.kind in ("empty", "length"):
                return cause.message
            if cause.status is not None:
                short = cause.detail if cause.status >= 500 and cause.detail else cause.message
                return f"the model answered HTTP {cause.status}: {short}"
        reason = str(cause) or type(cause).__name__
        lines, echoed = self.text.count("\n"), self._echoed()
        if echoed and not lines:  # it did write: the file's own code, which was left out
            return (
                f"the model stream broke after restating {echoed} of the file's statements"
                f" (left out), before any new code: {reason}"
            )
        if not self.pieces:
            return f"the model failed before writing any code: {reason}"
        return f"the model stream broke after {lines} line{'' if lines == 1 else 's'}: {reason}"

    def keep_length(self) -> int | None:
        """How much of `text` stays: up to the end of the failing statement (with
        stop-on-error) or of the line with a syntax error; after a broken stream or a
        person's stop, complete lines only (an unfinished last line goes: it never ran), and
        a stop's interrupt cuts nothing (`stop`); None: all of it."""
        keep: int | None = None
        if self.stopped is None or self.error_stopped_first:
            if self.failed is not None and self.stop_on_error:
                keep = line_end(self.text, self.failed.chunk.end_line - self.first_line)
            elif self.syntax is not None:
                keep = line_end(self.text, self.syntax.line - self.first_line)
        broken = self.cause is not None or self.stopped is not None
        if broken and self.text and not self.text.endswith("\n"):
            whole = self.text.rfind("\n") + 1
            keep = whole if keep is None else min(keep, whole)
        return keep

    def kept_text(self) -> str:
        """The text that stays, ending with a newline when it is not empty."""
        keep = self.keep_length()
        kept = self.text if keep is None else self.text[:keep]
        return kept if not kept or kept.endswith("\n") else kept + "\n"

    # -- running ---------------------------------------------------------------------------
    async def stop(self, interpreter: Interpreter, reason: str) -> InterruptOutcome | None:
        """A person stops this attempt while it runs through `interpreter` (`stop_text`):
        `run` then returns with the stop's `reason` in its report, and every complete line
        stays (the module's rules). None: its run is not running (not begun, or over)."""
        if self.stopped is None:
            run = interpreter.run
            self.stopped = reason
            self.error_stopped_first = run is not None and run.stopped
        return await stop_text(interpreter, reason)

    async def run(self, interpreter: Interpreter, edge: AttemptEdge) -> RunReport | None:
        """Stream the model's text through `interpreter`; returns the report (None when the
        provider failed before a run could report)."""

        def on_piece(piece: str) -> None:
            self.text += piece
            self.pieces += 1
            edge.piece(piece)

        def on_event(event: Event) -> None:
            if type(event) in TIMELINE:
                return
            cut: int | None = None
            if isinstance(event, ResultReady):
                r: ChunkResult = event.result
                if not r.ok and not r.skipped:
                    if self.failed is None:
                        self.failed = r
                    if self.stop_on_error and (self.stopped is None or self.error_stopped_first):
                        cut = line_end(self.text, r.chunk.end_line - self.first_line)
            elif isinstance(event, SyntaxErrorFound):
                self.syntax = event.issue
                cut = line_end(self.text, self.syntax.line - self.first_line)
            edge.event(event)
            if cut is not None:
                edge.cut(cut)

        try:
            self.report = await interpreter.run_stream(
                self.stream, first_line=self.first_line, listener=on_event, on_piece=on_piece
            )
        except StreamFailed as exc:
            self.report, self.error, self.cause = exc.report, str(exc.cause), exc.cause
        except ProviderError as exc:
            self.error, self.cause = str(exc), exc
        return self.report
