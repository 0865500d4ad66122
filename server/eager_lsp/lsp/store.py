"""Per-document results, kept in the document's current line numbers.

Every text change goes through `apply()`: results below the change move with it, results whose
lines were edited are dropped (they no longer describe the text) and reported as stale. A new
result for the same lines replaces the old one, so re-runs never show two values at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from eager_lsp.core.types import ChunkResult, Frame, SyntaxIssue
from eager_lsp.lsp.text import LineEdit

_ids = itertools.count(1)


@dataclass(frozen=True)
class Entry:
    """One statement's result (or one syntax error) at document lines first..last (0-based)."""

    first: int
    last: int
    result: ChunkResult | None = None  # None for a syntax error entry
    syntax: SyntaxIssue | None = None
    error_line: int | None = None  # 0-based line the error is shown on
    error_column: int = 0
    frames: tuple[tuple[Frame, int | None], ...] = ()  # frame, its document line (0-based)
    run_id: int = 0
    timings: dict[str, Any] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def failed(self) -> bool:
        if self.syntax is not None:
            return True
        r = self.result
        return r is not None and not r.ok and not r.skipped

    def lines(self) -> range:
        return range(self.first, self.last + 1)

    def moved(self, edit: LineEdit) -> Entry | None:
        """This entry after `edit`, or None when its own lines (or error line) changed."""
        first, last = edit.map(self.first), edit.map(self.last)
        if first is None or last is None or last - first != self.last - self.first:
            return None
        err = self.error_line
        if err is not None:
            err = edit.map(err)
            if err is None:
                return None
        frames = tuple((f, None if ln is None else edit.map(ln)) for f, ln in self.frames)
        return replace(self, first=first, last=last, error_line=err, frames=frames)


class ResultStore:
    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self.generation = 0  # bumped on every change, so publishers can coalesce

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def add(self, entry: Entry) -> None:
        """Add a result, replacing any older result that overlaps its lines."""
        keep = [e for e in self._entries if e.last < entry.first or e.first > entry.last]
        keep.append(entry)
        keep.sort(key=lambda e: (e.first, e.id))
        self._entries = keep
        self.generation += 1

    def apply(self, edit: LineEdit) -> list[Entry]:
        """Move entries through a text change; returns the entries it made stale."""
        kept: list[Entry] = []
        stale: list[Entry] = []
        for e in self._entries:
            moved = e.moved(edit)
            (stale if moved is None else kept).append(moved or e)
        if stale or edit.delta:
            self._entries = kept
            self.generation += 1
        return stale

    def clear(self, from_line: int = 0) -> list[Entry]:
        """Drop every entry at or after `from_line`; returns them."""
        gone = [e for e in self._entries if e.last >= from_line]
        if gone:
            self._entries = [e for e in self._entries if e.last < from_line]
            self.generation += 1
        return gone

    def drop(self, first: int, last: int) -> list[Entry]:
        """Drop the entries of a statement at lines first..last; returns them."""
        gone = [e for e in self._entries if e.first == first and e.last == last]
        if gone:
            self._entries = [e for e in self._entries if e not in gone]
            self.generation += 1
        return gone

    def at_line(self, line: int) -> Entry | None:
        """The failing entry shown on `line` (error line or its statement's lines)."""
        for e in self._entries:
            if e.failed and (e.error_line == line or line in e.lines()):
                return e
        return None
