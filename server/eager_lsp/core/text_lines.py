"""A text with a line index: lines end at "\\n" (a "\\r\\n" is one line break: `line()` is the
text without it, as LSP counts a line's characters), addressed by offsets in code points.

One implementation for every layer: follow mode's rules (app/follow.py) read plain strings
through it, and the language server's document (lsp/text.Text) extends it with client
positions and changes. Offsets past the end clamp to the end; lines past the end are "".
"""

from __future__ import annotations

from bisect import bisect_right


class TextLines:
    """`source` and the offset where each of its lines starts."""

    def __init__(self, source: str) -> None:
        self._set(source)

    def _set(self, source: str) -> None:
        self.source = source
        starts = [0]
        pos = source.find("\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = source.find("\n", pos + 1)
        self._starts = starts

    def _splice(self, start: int, end: int, text: str) -> None:
        """Replace [start, end) with `text`; only the line starts from `start` on are
        recomputed (a generation appends to a long document many times a second)."""
        src = self.source
        self.source = src[:start] + text + src[end:]
        starts = self._starts
        first = bisect_right(starts, start)  # line starts inside the replaced text go ...
        last = bisect_right(starts, end)  # ... and those after it move by the change in size
        delta = len(text) - (end - start)
        new = []
        pos = text.find("\n")
        while pos >= 0:
            new.append(start + pos + 1)
            pos = text.find("\n", pos + 1)
        if delta:
            new.extend([s + delta for s in starts[last:]])
        else:
            new.extend(starts[last:])
        starts[first:] = new

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line(self, n: int) -> str:
        """Line `n` without its line break, "\\n" or "\\r\\n" ("" past the end)."""
        if n < 0 or n >= len(self._starts):
            return ""
        return self.source[self._starts[n] : self._text_end(n)]

    def _text_end(self, n: int) -> int:
        """Where line `n`'s text ends: before its "\\n", or its "\\r\\n" (0 <= n < count)."""
        if n + 1 >= len(self._starts):
            return len(self.source)
        end = self._starts[n + 1] - 1
        if end > self._starts[n] and self.source[end - 1] == "\r":
            end -= 1
        return end

    def line_start(self, n: int) -> int:
        if n >= len(self._starts):
            return len(self.source)
        return self._starts[max(0, n)]

    def line_of(self, offset: int) -> int:
        return bisect_right(self._starts, max(0, offset)) - 1


def blank_or_comment(line: str) -> bool:
    """A line that holds no code: blank, or a comment."""
    s = line.strip()
    return not s or s.startswith("#")


def terminal_line(line: str) -> str:
    """A line of output as a terminal last drew it: what came after its last "\r" (a progress
    bar redrawn with "\r" is its latest state), or the earlier state if nothing came after
    that "\r" yet (so a "\r" just before the line break, a Windows line end, changes nothing).
    A terminal would leave an earlier, longer state's end visible under a shorter one; progress
    bars pad against that, and it shows no state. The one rule for every view of output: the
    terminal (cli/console.py), the hover and the inlay hints (lsp/); the VS Code extension
    mirrors it (decorations.ts `screenLine`), as does the Neovim plugin (output.lua)."""
    if "\r" not in line:
        return line
    return next((state for state in reversed(line.split("\r")) if state), "")
