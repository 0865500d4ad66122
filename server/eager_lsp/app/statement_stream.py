"""The model's answer read statement by statement while it streams: what the repair filter
(repair.py) and the echo filter (echo.py) are built on.

Rules, and why:
- Top-level statements are cut where a new line starts at column 0 and the text so far
  parses (an `else:`/`except:` line, a closing bracket or an indented line continues it).
- A statement is held back only while it may still be one to drop (`_may_hold`: its text,
  comments and spacing aside, is still the start of one); as soon as it cannot, what it has
  streams through, and its next pieces pass as they arrive. The usual cost is a few
  characters of delay: a line at column 0 after a statement that parses waits only while its
  first word may still be `else`/`elif`/`except`/`finally` (it would continue that
  statement); otherwise it begins the next statement and is judged as it comes.
- Statements are compared as `ast.dump` (`dumps`): spacing and comments do not matter.
"""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from eager_lsp.core.text_lines import blank_or_comment

CONTINUATION_WORDS = frozenset({"else", "elif", "except", "finally"})
WORD = re.compile(r"[A-Za-z_]\w*")


# What `ast` cannot take: not Python, a null byte, or nesting too deep for it (a sum of a
# thousand terms is valid Python of 4 KB whose `ast.dump` recurses a thousand deep).
_UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
# Python's own line ends: not str.splitlines's, which also breaks at a form feed or U+2028
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def norm(text: str) -> str:
    """Text for a cheap "could this still become that statement?" test: comments (naively, up
    to the end of the line), all whitespace and the kind of quotes removed. Only used to
    decide what to hold back; the real comparison is `dumps`."""
    out = []
    for line in _LINE.findall(text):
        hash_at = line.find("#")
        out.append(line if hash_at < 0 else line[:hash_at])
    return re.sub(r"\s+", "", "".join(out)).replace("'", '"')


def dumps(text: str) -> list[str] | None:
    """`ast.dump` of each top-level statement of `text`; None when `ast` cannot take it."""
    try:
        return [ast.dump(stmt) for stmt in ast.parse(text).body]
    except _UNPARSABLE:
        return None


def statements(code: str) -> list[str]:
    """The source of each top-level statement of `code` (empty when `ast` cannot take it)."""
    try:
        tree = ast.parse(code)
    except _UNPARSABLE:
        return []
    lines = _LINE.findall(code)
    out = []
    for stmt in tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        end = stmt.end_lineno or stmt.lineno
        out.append("".join(lines[first - 1 : end]))
    return out


def begins_with_import(lines: Sequence[str]) -> bool:
    """Do `lines` (a statement, its last line perhaps unfinished) begin with an import, or may
    they still (the first word not yet complete, or nothing but blank lines and comments)?"""
    for line in lines:
        if blank_or_comment(line):
            continue
        word = WORD.match(line)
        if word is None:
            return False
        if word.end() == len(line):  # still being written: "im", "fro"
            return "import".startswith(word.group()) or "from".startswith(word.group())
        return word.group() in ("import", "from")
    return True


def _begins_statement(partial: str) -> bool | None:
    """Does `partial`, the start of a line at column 0 after a statement that parses, begin
    the next statement (True), continue that one (`else:`, False), or is it too early to say
    (None: a word that may still become `else`, `except`, …; a comment, which belongs to
    whatever follows it)?"""
    if partial.startswith("#") or not partial.strip():
        return None  # (a blank line, "\r" of "\r\n" so far, continues nothing and begins nothing)
    word = WORD.match(partial)
    if word is None:
        return True  # a quote, a bracket, a decorator, a number
    if word.end() == len(partial):  # the word is still being written
        return None if any(w.startswith(word.group()) for w in CONTINUATION_WORDS) else True
    return word.group() not in CONTINUATION_WORDS


def split_trailing(unit: list[str]) -> tuple[list[str], list[str]]:
    """A statement's lines and the blank and comment lines after it (they belong to what
    follows)."""
    cut = len(unit)
    while cut > 0 and blank_or_comment(unit[cut - 1]):
        cut -= 1
    return unit[:cut], unit[cut:]


class StatementStream:
    """An async text stream around `source`: the module's machine. Subclasses say what may be
    held (`_may_hold`) and what a held statement becomes once complete (`_complete`)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self._unit: list[str] = []  # complete lines of the current statement
        self._has_code = False
        self._passing = False  # the current statement cannot be one to drop: stream it through
        self._partial = ""  # the current line, not yet complete
        self._sent = 0  # characters of it already passed on

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[str]:
        async for piece in self.source:
            out = self.feed(piece)
            if out:
                yield out
            if self._ended():
                return
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

    # -- what subclasses decide -------------------------------------------------------------
    def _ended(self) -> bool:
        """Nothing more is to be read (the answer is refused)."""
        return False

    def _may_hold(self, partial: str) -> bool:
        """May the current statement (its lines, then `partial`) still be one to drop?"""
        raise NotImplementedError

    def _complete(self, text: str, trailing: list[str]) -> str:
        """A held statement is complete (`text`, with the blank and comment lines after it):
        what goes out. It may set `self._unit = trailing` to hold those with what follows."""
        raise NotImplementedError

    def _passes(self) -> str:
        """The current statement starts to stream through: what goes out before it."""
        return ""

    def _passed(self, unit: list[str]) -> None:
        """A statement that streamed through is complete."""

    def _end(self) -> str:
        """The answer ended (its last line already read): what the current statement becomes,
        and the comments and blank lines after it, which nothing follows now."""
        out = self._close()
        carried, self._unit = self._unit, []
        return out + "".join(carried)

    # -- the machine ---------------------------------------------------------------------------
    def feed(self, piece: str) -> str:
        self._partial += piece
        out: list[str] = []
        while "\n" in self._partial and not self._ended():
            line, self._partial = self._partial.split("\n", 1)
            out.append(self._line(line + "\n"))
        if not self._ended():
            out.append(self._peek())
        return "".join(out)

    def finish(self) -> str:
        out = ""
        if self._partial:
            line, self._partial = self._partial, ""
            out += self._line(line)
        return out + self._end()

    def _starts_statement(self, line: str) -> bool:
        """Does `line` (at column 0) begin a new statement after the current one?"""
        if not self._has_code or line[:1] in ("", " ", "\t", "#", "\n", "\r", ")", "]", "}"):
            return False
        word = WORD.match(line)
        if word is not None and word.group() in CONTINUATION_WORDS:
            return False
        return dumps("".join(self._unit)) is not None

    def _line(self, line: str) -> str:
        out = self._close() if self._starts_statement(line) else ""
        if self._ended():
            return out
        sent, self._sent = self._sent, 0
        self._unit.append(line)
        if not blank_or_comment(line):
            self._has_code = True
        if self._passing:
            return out + line[sent:]
        if not self._may_hold(""):
            self._passing = True
            return out + self._passes() + "".join(self._unit)
        return out

    def _peek(self) -> str:
        """Pass on the unfinished line when it surely belongs to a statement being passed, or
        surely begins the next one, which is then judged from this start (a stream that stalls
        mid-line shows that line: the writer's partial line, lsp/edits.py)."""
        p = self._partial
        if not p:
            return ""
        if (
            self._has_code
            and p[:1] not in (" ", "\t", ")", "]", "}")
            and dumps("".join(self._unit)) is not None
        ):
            begins = _begins_statement(p)
            if begins is None:
                return ""  # "el" may become `else:` or `elapsed = 1`: wait for more
            if begins:
                out = self._close()  # the statement before it is complete
                return out if self._ended() else out + self._peek()
        if self._passing:
            out = p[self._sent :]
            self._sent = len(p)
            return out
        if not self._may_hold(p):
            self._passing = True
            self._sent = len(p)
            return self._passes() + "".join(self._unit) + p
        return ""

    def _close(self) -> str:
        """The current statement is complete: passed, or decided by `_complete`."""
        unit, passing, has_code = self._unit, self._passing, self._has_code
        self._unit, self._passing, self._has_code = [], False, False
        if passing:
            self._passed(unit)
            return ""
        if not has_code:
            return "".join(unit)
        body, trailing = split_trailing(unit)
        return self._complete("".join(body), trailing)
