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
- The edge (`GenerateView`) only shows things; it decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from eager_lsp import repair
from eager_lsp.app.attempt import NO_CODE, Attempt, AttemptEdge
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.types import ChunkResult
from eager_lsp.providers.prompts import generation_messages


class GenerateView(AttemptEdge, Protocol):
    """An `AttemptEdge` that is also told where each attempt begins and how it ended."""

    def attempt_started(self, attempt: Attempt, number: int) -> None:
        """Attempt `number` (0: the generation, then the repairs) is about to stream."""

    def attempt_ended(self, attempt: Attempt, number: int) -> None:
        """Its run is over (its report, error and repair stats are filled in)."""


@dataclass
class GenerateOutcome:
    attempts: list[Attempt] = field(default_factory=list)
    code: str = ""  # the program as kept
    ok: bool = False

    @property
    def error(self) -> str | None:
        return self.attempts[-1].error if self.attempts else None


async def generate(
    interpreter: Interpreter,
    llm: Any,
    prompt: str,
    view: GenerateView,
    *,
    path: str,
    repairs: int = 0,
    style: str = repair.DEFAULT_STYLE,
    wrap: Any = None,
) -> GenerateOutcome:
    """Write `prompt`'s program with the model into `interpreter`, repairing up to `repairs` times.

    `wrap(stream)` may wrap each attempt's stream (a token-rate limit)."""
    stop_on_error = interpreter.config.stop_on_error
    outcome = GenerateOutcome()
    lines: list[str] = []  # the program as kept so far
    ran: list[ChunkResult] = []  # results of the kept statements that ran, in order
    attempt = Attempt.generation(
        llm,
        generation_messages(prompt, before="", after="", path=path),
        first_line=1,
        stop_on_error=stop_on_error,
    )
    for number in range(1 + max(0, repairs)):
        outcome.attempts.append(attempt)
        if wrap is not None:
            attempt.stream = wrap(attempt.stream)
        view.attempt_started(attempt, number)
        report = await attempt.run(interpreter, view)
        if attempt.empty:
            attempt.error = NO_CODE
        lines += attempt.kept_text().splitlines(keepends=True)
        view.attempt_ended(attempt, number)
        if attempt.unchanged and attempt.request is not None:
            outcome.ok = False
            if number < repairs:  # ask again, saying what was wrong with it
                attempt.request.rejected.append(attempt.request.failing)
                attempt = Attempt.repair(
                    llm,
                    attempt.request,
                    first_line=len(lines) + 1,
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
        replaced = "".join(lines[failed.chunk.start_line - 1 :])
        lines = lines[: failed.chunk.start_line - 1]
        req = await repair.request_from_run(
            interpreter,
            task=prompt,
            code_ran="".join(lines),
            failed=failed,
            results=ran,
            style=style,
        )
        attempt = Attempt.repair(
            llm,
            req,
            first_line=len(lines) + 1,
            replaced=replaced,
            style=style,
            stop_on_error=stop_on_error,
        )
    outcome.code = "".join(lines)
    return outcome
