"""A text replayed through an interpreter: `eager-lsp run FILE`, `eager.runDocument`, and the
code above a generation that must run first.

Rules: the text is cut into pieces and fed as a model would feed it (at a token rate, or as
fast as possible), so it goes through the same detector, gate and batching as generated code.
A replay cannot break mid-way, but if its source ever raised, what ran is still reported
(`RunOutcome.report`) and nothing is raised.
"""

from __future__ import annotations

from dataclasses import dataclass

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
