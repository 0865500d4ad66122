"""A generation's echo of the file around it, dropped before it is written or run.

Asked to write code at a point in a file, small models restate the file they were shown:
first the code above the point (its imports, its data), sometimes the code below it at the
end. Written, the file has that code twice; run, it does that work again (a `random` draw, a
slow load, a print). Rules, and why:

- The opening echo of the code above goes (`RepeatFilter` with `leading_only`, repair.py):
  the answer's first statements that repeat statements above, in any order. New imports
  may come first without ending it. From the first other statement on, everything streams
  through, repeats included: code that did new things may mean to run a line again.
- The closing echo of the code below goes (`TrailingEcho`): the answer's last statements when
  they are the first statements below, in order. Such a statement is held back while the
  answer may still end with it (it is not written or run yet); the next statement that is
  not the next one below releases what was held, and the end of the answer drops it.
- Statements are compared as `ast.dump`: spacing and comments do not matter. A statement
  that is being written is held only while its text can still become the one it would
  repeat, so new code streams as it arrives.
- The price: an answer that means to begin by running a line of the file again (to restart
  a timer, `start = time.time()`), or to end by running the line below twice, loses that
  line. Models restate the file far more often (`eager-lsp bench --insert`: 7 of 8 answers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eager_lsp.app.repair import RepairStats, RepeatFilter
from eager_lsp.app.statement_stream import StatementStream, dumps, norm, split_trailing, statements

if TYPE_CHECKING:
    from eager_lsp.providers.base import TextStream


def without_echo(source: TextStream, above: str, below: str) -> tuple[TextStream, RepairStats]:
    """`source` minus its opening echo of `above` and its closing echo of `below`, and the
    stats that count what was dropped (one list for both)."""
    stats = RepairStats()
    stream: TextStream = source
    if above.strip():
        stream = RepeatFilter(stream, ran=above, failing="", leading_only=True, stats=stats)
    below_statements = statements(below)
    if below_statements:
        stream = TrailingEcho(stream, below_statements, stats)
    return stream, stats


class TrailingEcho(StatementStream):
    """An async text stream: the answer minus a closing echo of `below` (its statements'
    sources, in order): see the module's rules."""

    def __init__(self, source: Any, below: list[str], stats: RepairStats | None = None) -> None:
        super().__init__(source)
        self.stats = stats if stats is not None else RepairStats()
        self._below = [dumps(s) or [] for s in below]
        self._below_norm = [norm(s) for s in below]
        self._held: list[str] = []  # complete statements that are below[0], below[1], ...

    def _may_hold(self, partial: str) -> bool:
        """Can the current statement still become the next statement below, or the first
        (beginning the echo again: what was held before it was not the end)?"""
        text = norm("".join(self._unit) + partial)
        nexts = {len(self._held), 0}
        return any(self._below_norm[i].startswith(text) for i in nexts if i < len(self._below))

    def _passes(self) -> str:
        return self._release()  # what was held is followed by other code: not the end

    def _complete(self, text: str, trailing: list[str]) -> str:
        self._unit = trailing  # comments and blank lines after it belong to what follows
        out, echo = self._as_echo(text)
        if echo is None:
            return out + text
        self._held = echo
        return out

    def _end(self) -> str:
        """What is held, with the last statement if it continues it, was the answer's closing
        echo."""
        if self._passing:  # its text went out already, and what was held before it
            return ""
        body, trailing = split_trailing(self._unit)
        self._unit = []
        out, echo = self._as_echo("".join(body)) if body else ("", self._held)
        if echo is None:
            return out + "".join(body) + "".join(trailing)
        self.stats.dropped += echo
        self._held = []
        return out + "".join(trailing)  # comments after it stay

    def _as_echo(self, text: str) -> tuple[str, list[str] | None]:
        """`text`, a complete statement, after what is held: what goes out now, and the echo
        held with it (None: it is no part of one, and what was held goes out before it)."""
        found, k = dumps(text), len(self._held)
        if k < len(self._below) and found == self._below[k]:
            return "", [*self._held, text]
        if self._below and found == self._below[0]:  # the echo begins again with it
            return self._release(), [text]
        return self._release(), None

    def _release(self) -> str:
        held, self._held = self._held, []
        return "".join(held)
