"""The server's own copy of a document, addressed by offsets (code points).

Why not pygls's workspace copy: tracking an insertion point and shifting results needs the
text *before* each change, one change at a time, and offsets make that arithmetic trivial.
Columns on the wire are in the negotiated position encoding (UTF-16 for VS Code, UTF-8 for
Neovim); conversion happens only here. Lines end at "\\n" or "\\r\\n" (`line()` has neither: a
client position past a line's text clamps to before its "\\r", and the end of a line is there).
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types as lsp

from eager_lsp.app.follow import common_prefix
from eager_lsp.core.text_lines import TextLines, terminal_line


def units(text: str, encoding: str) -> int:
    """Length of `text` in the client's position units."""
    if text.isascii():  # one unit per character in every encoding (and O(1) in CPython)
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _chars_for_units(line: str, n: int, encoding: str) -> int:
    """How many characters of `line` make up `n` client units (clamped to the line)."""
    if encoding == "utf-32" or line.isascii():
        return max(0, min(n, len(line)))
    count = 0
    for i, c in enumerate(line):
        if count >= n:
            return i
        count += units(c, encoding)
    return len(line)


def screen_line(line: str) -> str:
    """A line of output as a terminal leaves it (core/text_lines.py `terminal_line`)."""
    return terminal_line(line)


@dataclass(frozen=True)
class LineEdit:
    """What one text change did to whole lines (0-based, in the text before the change):
    lines `first..last` were modified (none when last < first); lines after `last` moved by
    `delta`; lines before `first` are untouched."""

    first: int
    last: int
    delta: int

    def map(self, line: int) -> int | None:
        """Where `line` is now, or None if its text was changed."""
        if line < self.first:
            return line
        if line > self.last:
            return line + self.delta
        return None


class Text(TextLines):
    def __init__(self, source: str, encoding: str = "utf-16") -> None:
        self.encoding = encoding
        super().__init__(source)

    # -- client positions --------------------------------------------------------------------
    def offset(self, pos: lsp.Position) -> int:
        """Offset of a client position (clamped into the text)."""
        return self.offset_at(pos.line, pos.character)

    def offset_at(self, line: int, character: int) -> int:
        """Offset of client position (`line`, `character`), both ≥ 0, clamped into the text:
        to before a "\\r\\n", except one character past the text of a line that ends so, which
        is after its "\\r" (Neovim counts it as text in a file it reads as unix: `^M`)."""
        if line >= len(self._starts):
            return len(self.source)
        text = self.line(line)
        n = _chars_for_units(text, character, self.encoding)
        if n == len(text) and self._cr_ends(line) and character == units(text, self.encoding) + 1:
            n += 1
        return self._starts[line] + n

    def _cr_ends(self, line: int) -> bool:
        """Line `line` ends with "\\r\\n" (its "\\r" is not in `line()`)."""
        return line + 1 < len(self._starts) and self._text_end(line) == self._starts[line + 1] - 2

    def position(self, offset: int) -> lsp.Position:
        offset = max(0, min(offset, len(self.source)))
        n = self.line_of(offset)
        start = self._starts[n]
        return lsp.Position(line=n, character=units(self.source[start:offset], self.encoding))

    def end_of_line(self, n: int) -> lsp.Position:
        return lsp.Position(line=n, character=units(self.line(n), self.encoding))

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(start=self.position(start), end=self.position(end))

    # -- changes ----------------------------------------------------------------------------
    def replace(self, start: int, end: int, text: str) -> LineEdit:
        """Apply one change given as offsets; returns what it did to lines."""
        edit = self.line_edit(start, end, text)
        self._splice(start, end, text)
        return edit

    def line_edit(self, start: int, end: int, text: str) -> LineEdit:
        """How replacing [start, end) with `text` affects whole lines. Inserting whole lines at
        a line start, or a newline-led text at a line end, modifies no existing line.

        What the change keeps of the old text at either end is not a change: Neovim sends `o`
        below line n as "replace line n's newline with two", which is an insertion of one
        line after line n, not an edit of lines n and n + 1. A deletion that starts with a line's
        newline and ends before another newline deletes the same text as the one a character
        later, which is whole lines: Neovim sends an undo as "delete the newline ending line n"
        (an empty line n + 1 below), which leaves line n as it was."""
        old = self.source[start:end]
        keep = common_prefix(old, text)
        start, text, old = start + keep, text[keep:], old[keep:]
        keep = common_prefix(old[::-1], text[::-1])
        if keep:
            end, text = end - keep, text[: len(text) - keep]
        at_lf = start == 0 or self.source[start - 1] != "\r"  # (not inside a "\r\n")
        if not text and old[:1] == "\n" and self.source[end : end + 1] == "\n" and at_lf:
            start, end = start + 1, end + 1
        elif not text and end == len(self.source) and old.startswith(("\n", "\r\n")) and at_lf:
            sl, el = self.line_of(start), self.line_of(end)
            # The last lines of a text without a final newline, deleted with the line end
            # before them (VS Code's Delete Line): the line above keeps its text.
            return LineEdit(sl + 1, el, sl - el)
        sl, el = self.line_of(start), self.line_of(end)
        if start == end and not text:
            return LineEdit(sl, sl - 1, 0)  # nothing changed
        sc, ec = start - self._starts[sl], end - self._starts[el]
        added = text.count("\n")
        delta = added - (el - sl)
        if sc == 0 and ec == 0 and (text == "" or text.endswith("\n")):
            return LineEdit(sl, el - 1, delta)  # whole lines replaced/inserted/deleted
        if start == end and text.startswith(("\n", "\r\n")):
            n = len(self.line(sl))
            if sc == n or (sc == n + 1 and text[0] == "\n" and self._cr_ends(sl)):
                return LineEdit(sl + 1, sl, delta)  # new lines after the end of line sl
        return LineEdit(sl, el, delta)
