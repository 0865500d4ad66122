"""Generate, then repair from the failing statement: the loop behind `eager-lsp generate --repair`.

Rules, and why:
- Each attempt streams into the same interpreter, so the statements before a failing one keep
  their interpreter state and are never run again; the model rewrites from the failing
  statement on (`repair.request_from_run` asks, with the runtime facts).
- What is kept after an attempt is `Attempt.kept_text` (cut after the failing statement),
  the rule the language server's writer follows too.
- An answer that gives the failing statement back unchanged runs nothing; the next attempt (if
  any is left) is told its answer was rejected; with none left the failing code stays as it was.
- Syntax errors end the loop (repair targets runtime errors), as do broken streams.
- The edge only places and shows things; it decides nothing. The terminal is a
  `GenerateView` (printed); the language server is an `AttemptRunner` that writes each
  attempt into the document (lsp/generation.py). Both go through `repair_loop`, so the
  attempt limit, what stops the loop and what text is kept are the same in both.
- A repair's text replaces the code from the failing statement on: the next attempt's
  `first_line` is the failing statement's line in the run that failed; an edge whose lines
  move (a document being typed in) maps it through its own record of where that run was.
  A repair that kept no line (stopped before its model wrote one) replaces nothing: the code
  it was to replace stays in `outcome.code`.
- A person stops the terminal's loop from outside it with `GenerationStop` (Ctrl-C of
  `eager-lsp generate`), never by cancelling it, which lost the outcome and the code: the
  attempt running is stopped as a replay is (`Attempt.stop`: the model's stream closed, the
  running statement interrupted, every complete line kept), and no attempt starts after it,
  so the interrupt the stop caused is never sent to the model as an error to repair. A stop
  between attempts (the repair's prompt being built) ends the loop before the next streams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from eager_lsp.app import repair
from eager_lsp.app.attempt import Attempt, AttemptEdge
from eager_lsp.core.executor import InterruptOutcome
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.types import ChunkResult
from eager_lsp.providers.base import TextStream
from eager_lsp.providers.config import LLMConfig
from eager_lsp.providers.prompts import generation_messages

#: Wraps each attempt's stream (e.g. a token-rate limit).
StreamWrap = Callable[[TextStream], TextStream]


class GenerateView(AttemptEdge, Protocol):
    """An `AttemptEdge` that is also told where each attempt begins and how it ended."""

    def attempt_started(self, attempt: Attempt, number: int) -> None:
        """Attempt `number` (0: the generation, then the repairs) is about to stream."""

    def attempt_ended(self, attempt: Attempt, number: int) -> None:
        """Its run is over (its report, error and repair stats are filled in)."""


class AttemptRunner(Protocol):
    """How an edge runs one attempt of the loop: place its text, stream it, settle it.

    The terminal streams it into the interpreter and prints it (`ViewRunner`); the language
    server opens a region in the document (for a repair: over the text from the failing
    statement on, which the loop says by `attempt.first_line`, a line of the previous
    attempt's run), writes the text there, keeps only `attempt.keep_length()` of it and
    publishes the results (lsp/generation.py)."""

    async def run_attempt(self, attempt: Attempt, number: int) -> bool:
        """Run `attempt` (`attempt.run(interpreter, edge)`); it may set `attempt.first_line`
        to where its text really begins. False: the edge stopped (the user stopped it, the
        text could not be placed); the loop ends there."""
        ...


@dataclass
class RepairContext:
    """What every repair prompt of one loop is told besides the generated code."""

    task: str  # the user's request
    before: str = ""  # text above the generated code (an edge may update it as it learns)
    earlier: list[ChunkResult] = field(default_factory=list)  # results of that text
    after: str = ""  # text below the loop's code that stays (a fix of one statement of it)


@dataclass
class GenerateOutcome:
    attempts: list[Attempt] = field(default_factory=list)
    code: str = ""  # the program as kept
    ok: bool = False
    stopped: bool = False  # the edge stopped the loop (AttemptRunner.run_attempt said False)

    @property
    def error(self) -> str | None:
        return self.attempts[-1].error if self.attempts else None

    @property
    def failed(self) -> ChunkResult | None:
        """The last attempt's failing statement (what is left broken), if any."""
        return self.attempts[-1].failed if self.attempts else None

    @property
    def repaired(self) -> bool:
        """A repair attempt ran (its text replaced the failing code)."""
        return any(a.request is not None and not a.unchanged for a in self.attempts)


class GenerationStop:
    """How a person stops `generate`'s loop from outside it (the module's rules): `stop`,
    from any task of the loop's event loop, at any time."""

    def __init__(self, interpreter: Interpreter) -> None:
        self.interpreter = interpreter
        self.reason: str | None = None  # the person's stop, once asked for
        self.begun = False  # an attempt began to stream: a stop has something to report
        self.over = False  # the loop returned: nothing is left to stop
        self.attempt: Attempt | None = None  # the attempt streaming now (`ViewRunner`)

    async def stop(self, reason: str) -> InterruptOutcome | None:
        """Stop the loop: the attempt streaming now stops (`Attempt.stop`), no other starts.
        None: no attempt was streaming (between two, or the loop is over); else how the
        interrupt of the running statement went (`Interpreter.interrupt`)."""
        if self.over:
            return None
        if self.reason is None:
            self.reason = reason
        if self.attempt is None:
            return None
        return await self.attempt.stop(self.interpreter, reason)


class ViewRunner:
    """The terminal's runner: stream into the interpreter, tell the view (`GenerateView`);
    `stop` ends the loop (`GenerationStop`)."""

    def __init__(
        self,
        interpreter: Interpreter,
        view: GenerateView,
        wrap: StreamWrap | None = None,
        stop: GenerationStop | None = None,
    ) -> None:
        self.interpreter = interpreter
        self.view = view
        self.wrap = wrap  # wraps each attempt's stream (a token-rate limit)
        self.stop = stop if stop is not None else GenerationStop(interpreter)

    async def run_attempt(self, attempt: Attempt, number: int) -> bool:
        stop = self.stop
        if stop.reason is not None:  # stopped between attempts: this one never streams
            attempt.stopped = stop.reason
            await attempt.stream.aclose()  # (unread: no request was sent; closed all the same)
            return False
        if self.wrap is not None:
            attempt.stream = self.wrap(attempt.stream)
        self.view.attempt_started(attempt, number)
        # (its run begins before `attempt.run` first waits: a stop from now on reaches it)
        stop.begun, stop.attempt = True, attempt
        try:
            await attempt.run(self.interpreter, self.view)
        finally:
            stop.attempt = None
        if attempt.empty:
            attempt.error = attempt.no_code_message
        self.view.attempt_ended(attempt, number)
        return stop.reason is None


async def generate(
    interpreter: Interpreter,
    llm: LLMConfig,
    prompt: str,
    view: GenerateView,
    *,
    path: str,
    repairs: int = 0,
    style: str = repair.DEFAULT_STYLE,
    wrap: StreamWrap | None = None,
    stop: GenerationStop | None = None,
) -> GenerateOutcome:
    """Write `prompt`'s program with the model into `interpreter`, repairing up to `repairs` times.

    `wrap(stream)` may wrap each attempt's stream (a token-rate limit); `stop` lets a person
    stop the loop (`GenerationStop`; the outcome is then `stopped`)."""
    first = Attempt.generation(
        llm,
        generation_messages(prompt, before="", after="", path=path),
        first_line=1,
        stop_on_error=interpreter.config.stop_on_error,
    )
    runner = ViewRunner(interpreter, view, wrap, stop)
    try:
        return await repair_loop(
            interpreter,
            llm,
            first,
            runner,
            context=RepairContext(task=prompt),
            repairs=repairs,
            style=style,
        )
    finally:
        runner.stop.over = True


async def repair_loop(
    interpreter: repair.LiveNamespace,
    llm: LLMConfig,
    first: Attempt,
    runner: AttemptRunner,
    *,
    context: RepairContext,
    repairs: int = 0,
    style: str = repair.DEFAULT_STYLE,
) -> GenerateOutcome:
    """Run `first` (a generation, or a repair the user asked for), then repair from the failing
    statement up to `repairs` times: the loop of the terminal and of the language server.
    `interpreter` is only read for a repair's runtime facts; the runner runs the attempts.

    `outcome.code` is the kept text, from `first`'s first line on."""
    stop_on_error = first.stop_on_error
    outcome = GenerateOutcome()
    lines: list[str] = []  # the code as kept so far
    ran: list[ChunkResult] = []  # results of the kept statements that ran, in order
    attempt = first
    for number in range(1 + max(0, repairs)):
        outcome.attempts.append(attempt)
        prior = len(lines)  # kept lines before this attempt's text
        go_on = await runner.run_attempt(attempt, number)
        report = attempt.report
        if attempt.empty and attempt.error is None:
            attempt.error = attempt.no_code_message
        kept = attempt.kept_text().splitlines(keepends=True)
        lines += kept
        if not go_on:
            if not kept:  # a repair that kept nothing replaces nothing
                lines += attempt.replaced.splitlines(keepends=True)
            outcome.ok, outcome.stopped = False, True
            break
        if attempt.unchanged and attempt.request is not None:
            outcome.ok = False
            if number < repairs:  # ask again, saying what was wrong with it
                attempt.request.rejected.append(attempt.request.failing)
                attempt = Attempt.repair(
                    llm,
                    attempt.request,
                    first_line=attempt.first_line + len(kept),
                    replaced=attempt.replaced,
                    style=style,
                    stop_on_error=stop_on_error,
                )
                continue
            lines += attempt.replaced.splitlines(keepends=True)  # stays, not run again
            attempt.error = attempt.unchanged_message
            break
        if attempt.error is not None or report is None:
            outcome.ok = False
            break
        failed = report.failed
        ran += [r for r in report.results if r.ok and not r.skipped]
        if failed is None and report.syntax_error is None:
            outcome.ok = True
            break
        outcome.ok = False
        if report.syntax_error is not None or failed is None or failed.error is None:
            break  # syntax errors are reported; repair targets runtime errors
        if number == repairs:
            break
        # Keep the statements before the failing one; the model rewrites from it on.
        cut = prior + (failed.chunk.start_line - attempt.first_line)
        replaced = "".join(lines[cut:])
        lines = lines[:cut]
        req = await repair.request_from_run(
            interpreter,
            task=context.task,
            code_ran="".join(lines),
            failed=failed,
            results=ran,
            before=context.before,
            style=style,
        )
        req.earlier = [*context.earlier, *req.earlier]
        req.after = context.after
        attempt = Attempt.repair(
            llm,
            req,
            first_line=failed.chunk.start_line,
            replaced=replaced,
            style=style,
            stop_on_error=stop_on_error,
        )
    outcome.code = "".join(lines)
    return outcome
