"""A text replayed through an interpreter: `eager-lsp run FILE`, `eager.runDocument`, and the
code above a generation that must run first.

Rules: the text is cut into pieces and fed as a model would feed it (at a token rate, or as
fast as possible), so it goes through the same detector, gate and batching as generated code.
A replay cannot break mid-way, but if its source ever raised, what ran is still reported
(`RunOutcome.report`) and nothing is raised.

A person stops a replay with `stop_text` (Ctrl-C of `eager-lsp run`), not by cancelling it:
a cancelled `run_text` raises CancelledError, and what ran and what did not went with it.
A stop is the run's own kind of stop (as an error's): the running statement is interrupted,
nothing after it runs, and `run_text` returns the outcome with the stop's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from eager_lsp.core.executor import InterruptOutcome
from eager_lsp.core.interpreter import Interpreter, StreamFailed
from eager_lsp.core.run import Listener, RunReport
from eager_lsp.core.types import failure_text
from eager_lsp.providers.replay import ReplayStream

RUN_PIECE = 512  # characters per piece when a text is replayed "as fast as possible"


@dataclass
class RunOutcome:
    report: RunReport
    chars_total: int  # the text's length
    chars_streamed: int  # how much of it was fed before the run stopped

    @property
    def ok(self) -> bool:
        """No statement failed and the text had no syntax error."""
        return self.report.failed is None and self.report.syntax_error is None

    @property
    def error(self) -> str | None:
        """The first failing statement's error text, else the syntax error's; None: all ran."""
        return failure_text(self.report.failed) or failure_text(self.report.syntax_error)


async def run_text(
    interpreter: Interpreter,
    text: str,
    *,
    listener: Listener | None = None,
    rate: float | None = None,
    piece_size: int = RUN_PIECE,
    first_line: int = 1,
) -> RunOutcome:
    """Replay `text` through `interpreter` (at `rate` tokens/s; None: no limit)."""
    stream = ReplayStream(text, rate=rate, piece_size=piece_size)
    try:
        report = await interpreter.run_stream(stream, first_line=first_line, listener=listener)
    except StreamFailed as exc:
        report = exc.report
    return RunOutcome(report=report, chars_total=len(text), chars_streamed=stream.sent)


async def stop_text(interpreter: Interpreter, reason: str) -> InterruptOutcome | None:
    """Stop what `run_text` is replaying through `interpreter`, as its user: nothing not yet
    run runs, and the running statement gets a KeyboardInterrupt (killed after the
    interpreter's grace period). The report says `reason`. None: no run to stop (none has
    begun, or it is over); else how the interrupt went (`Interpreter.interrupt`)."""
    run = interpreter.run
    if run is None or run.done:
        return None
    run.request_stop(reason)
    return await interpreter.interrupt()
