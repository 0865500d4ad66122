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
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from eager_lsp.app.repair import (
    _WORD,
    CONTINUATION_WORDS,
    RepairStats,
    RepeatFilter,
    _dumps,
    _norm,
    _statements,
)
from eager_lsp.core.text_lines import blank_or_comment

if TYPE_CHECKING:
    from eager_lsp.providers.base import TextStream


def without_echo(source: TextStream, above: str, below: str) -> tuple[TextStream, RepairStats]:
    """`source` minus its opening echo of `above` and its closing echo of `below`, and the
    stats that count what was dropped (one list for both)."""
    stats = RepairStats()
    stream: TextStream = source
    if above.strip():
        opening = RepeatFilter(stream, ran=above, failing="", leading_only=True)
        opening.stats = stats
        stream = opening
    below_statements = _statements(below)
    if below_statements:
        stream = TrailingEcho(stream, below_statements, stats)
    return stream, stats


class TrailingEcho:
    """An async text stream: the answer minus a closing echo of `below` (its statements'
    sources, in order): see the module's rules."""

    def __init__(self, source: Any, below: list[str], stats: RepairStats | None = None) -> None:
        self.source = source
        self.stats = stats if stats is not None else RepairStats()
        self._below = [_dumps(s) or [] for s in below]
        self._below_norm = [_norm(s) for s in below]
        self._held: list[str] = []  # complete statements that are below[0], below[1], ...
        self._unit: list[str] = []  # complete lines of the current statement
        self._has_code = False
        self._passing = False  # the current statement is not the next one below
        self._partial = ""  # the current line, not yet complete
        self._sent = 0  # characters of it already passed on

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[str]:
        async for piece in self.source:
            out = self.feed(piece)
            if out:
                yield out
        out = self.finish()
        if out:
            yield out

    async def aclose(self) -> None:
        close = getattr(self.source, "aclose", None)
        if close is not None:
            await close()

    def __getattr__(self, name: str) -> Any:  # usage, timings, … of the underlying stream
        if name == "source":
            raise AttributeError(name)
        return getattr(self.source, name)

    # -- the text machine ---------------------------------------------------------------------
    def feed(self, piece: str) -> str:
        self._partial += piece
        out: list[str] = []
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            out.append(self._line(line + "\n"))
        out.append(self._peek())
        return "".join(out)

    def finish(self) -> str:
        """The answer ended: what is held, with the last statement if it is the next one
        below, was its closing echo."""
        out = ""
        if self._partial:
            line, self._partial = self._partial, ""
            out += self._line(line)
        if self._passing:  # its text went out already, and what was held before it
            return out
        body, trailing = self._split_trailing(self._unit)
        if body and _dumps("".join(body)) != self._below[len(self._held)]:
            return out + self._release() + "".join(self._unit)
        echo = [*self._held, "".join(body)] if body else self._held
        self.stats.dropped += echo
        self._held, self._unit = [], []
        return out + "".join(trailing)  # comments after it stay

    def _starts_statement(self, line: str) -> bool:
        if not self._has_code or line[:1] in ("", " ", "\t", "#", "\n", "\r", ")", "]", "}"):
            return False
        word = _WORD.match(line)
        if word is not None and word.group() in CONTINUATION_WORDS:
            return False
        return _dumps("".join(self._unit)) is not None

    def _line(self, line: str) -> str:
        out = self._close() if self._starts_statement(line) else ""
        sent, self._sent = self._sent, 0
        self._unit.append(line)
        if not blank_or_comment(line):
            self._has_code = True
        if self._passing:
            return out + line[sent:]
        if not self._could_be_next(""):
            self._passing = True
            return out + self._release() + "".join(self._unit)
        return out

    def _peek(self) -> str:
        """Pass on the unfinished line when it surely belongs to a statement being passed."""
        p = self._partial
        if not p:
            return ""
        if self._has_code and p[:1] not in (" ", "\t", ")", "]", "}"):
            word = _WORD.match(p)
            undecided = word is None or word.end() == len(p)
            may_start = undecided or (word is not None and word.group() not in CONTINUATION_WORDS)
            if may_start and _dumps("".join(self._unit)) is not None:
                return ""  # may start the next statement: wait for the whole line
        if self._passing:
            out = p[self._sent :]
            self._sent = len(p)
            return out
        if not self._could_be_next(p):
            self._passing = True
            self._sent = len(p)
            return self._release() + "".join(self._unit) + p
        return ""

    def _could_be_next(self, partial: str) -> bool:
        """Can the current statement still become the next statement below?"""
        k = len(self._held)
        if k >= len(self._below_norm):
            return False
        return self._below_norm[k].startswith(_norm("".join(self._unit) + partial))

    def _close(self) -> str:
        """A new statement begins: the current one, complete, is held or passed on."""
        unit, passing = self._unit, self._passing
        self._unit, self._passing, self._has_code = [], False, False
        if passing:
            return ""
        body, trailing = self._split_trailing(unit)
        text = "".join(body)
        self._unit = trailing  # comments and blank lines after it belong to what follows
        self._has_code = False
        if _dumps(text) == self._below[len(self._held)]:
            self._held.append(text)
            return ""
        return self._release() + text

    def _release(self) -> str:
        held, self._held = self._held, []
        return "".join(held)

    @staticmethod
    def _split_trailing(unit: list[str]) -> tuple[list[str], list[str]]:
        cut = len(unit)
        while cut > 0 and blank_or_comment(unit[cut - 1]):
            cut -= 1
        return unit[:cut], unit[cut:]
