"""A document's results as the editor shows them: a view of the interpreter's ledger.

Rules:
- No result is kept here. A shown statement (`Entry`) is the ledger's statement id (`sid`,
  core/ledger.py) and the document lines it is shown on now; its result is read from the
  ledger whenever anything is published (diagnostics, inlay hints, inline values, hover,
  `eager/chunkResult`, `eager.resultDetail`). When the ledger records the statement again, that
  is what the editor is shown next, with no store update. A syntax error is not a result (the
  detector found it, nothing ran): its entry carries the issue itself.
- The view pins every sid it shows (`Ledger.pin`), so a result stays readable after its
  namespace was emptied (a lost interpreter, a reset before the code above a generation):
  what the editor shows stays until its lines change or a new result replaces it.
- Lines are the view's, not the ledger's: the run's lines mapped to the document when the
  result arrived (lsp/runs.py), then moved by every text change (`apply`). Results below a
  change move with it; results whose lines were edited are dropped and reported stale: any
  line of the statement (a body line of a `for` or a `def` as much as its first or last; lines
  put between two of its lines too), since what is shown would no longer be what ran, and a
  value is shown only as the result of the text it stands next to (a run drops a result whose
  text was edited while it ran by the same rule, lsp/runs.py). Its error line outside it (in
  a function defined elsewhere) edited drops it too; an edited frame line outside it is only
  forgotten. A new result for overlapping lines replaces the old one, so re-runs never show
  two values at once.
- An edit costs O(entries it touches), not O(entries): each entry's first line is one anchor
  in a gap buffer (`_Lines`): anchors above the last edit hold their line, anchors below it
  hold their distance from a moving end, so moving everything below an edit is one addition
  (`_Lines.shift`). Only moving the gap to a far-away edit walks the anchors in between.
  Entries never overlap, so at most one spans an edit's first line; lines inside an entry
  (its error line, its traceback frames) are offsets from its first line, and lines outside
  it (an error raised in a function defined elsewhere) are anchors of their own.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from eager_lsp.core.types import ChunkResult, Frame, SyntaxIssue
from eager_lsp.lsp.text import LineEdit

if TYPE_CHECKING:
    from eager_lsp.core.ledger import Ledger, Record

_ids = itertools.count(1)


class _Anchor:
    """A line that moves with edits. `value` is the line while the anchor is above the gap,
    its distance from the buffer's end while below it."""

    __slots__ = ("below", "dead", "entry", "role", "value")

    def __init__(self, entry: Entry, role: int) -> None:
        self.value = 0
        self.below = False
        self.entry = entry
        self.role = role  # _FIRST, _ERROR, or the index of a traceback frame
        self.dead = False


_FIRST, _ERROR = -2, -1


class _Lines:
    """Anchors in line order around a gap: `_above` ascending (lines < the gap), `_below`
    descending (its top, the list's end, is the line nearest the gap)."""

    def __init__(self) -> None:
        self._above: list[_Anchor] = []
        self._below: list[_Anchor] = []
        self._end = 0  # any origin: only differences between ends matter
        self._dead = 0

    def line(self, a: _Anchor) -> int:
        return self._end - a.value if a.below else a.value

    def add(self, a: _Anchor, line: int) -> None:
        above, below = self._above, self._below
        if below and line > self._end - below[-1].value:
            a.below, a.value = True, self._end - line
            below.insert(bisect_left(below, a.value, key=_value), a)
        elif above and line < above[-1].value:
            a.below, a.value = False, line
            above.insert(bisect_right(above, line, key=_value), a)
        else:  # in the gap
            a.below, a.value = False, line
            above.append(a)

    def kill(self, a: _Anchor) -> None:
        if not a.dead:
            a.dead = True
            self._dead += 1
            if self._dead > 64 and self._dead * 2 > len(self._above) + len(self._below):
                self._above = [x for x in self._above if not x.dead]
                self._below = [x for x in self._below if not x.dead]
                self._dead = 0

    def move_gap(self, line: int) -> None:
        """Anchors at lines < `line` above the gap, the others below it."""
        above, below, end = self._above, self._below, self._end
        while above and above[-1].value >= line:
            a = above.pop()
            a.below, a.value = True, end - a.value
            below.append(a)
        while below and end - below[-1].value < line:
            a = below.pop()
            a.below, a.value = False, end - a.value
            above.append(a)
        self._purge_tops()

    def _purge_tops(self) -> None:
        for side in (self._above, self._below):
            while side and side[-1].dead:
                side.pop()
                self._dead -= 1

    def last_above(self) -> _Anchor | None:
        """The live anchor nearest above the gap."""
        return self._above[-1] if self._above else None

    def take(self, last: int) -> list[_Anchor]:
        """Take the anchors just below the gap at lines <= `last` off the buffer (marked
        dead; `line` still gives their line until the next `shift`)."""
        out = []
        below, end = self._below, self._end
        while below and end - below[-1].value <= last:
            a = below.pop()
            if a.dead:
                self._dead -= 1
            else:
                a.dead = True
                out.append(a)
        self._purge_tops()
        return out

    def around(self, lo: int, hi: int) -> list[_Anchor]:
        """Live anchors at lines lo..hi, and the nearest one above `lo`, found by bisection
        (the gap does not move)."""
        above, below, end = self._above, self._below, self._end
        out: list[_Anchor] = []
        i, j = bisect_left(above, lo, key=_value), bisect_right(above, hi, key=_value)
        out += above[i:j]
        k, m = bisect_left(below, end - hi, key=_value), bisect_right(below, end - lo, key=_value)
        out += below[k:m]
        nearest = next((a for a in below[m:] if not a.dead), None)  # lines < lo, nearest first
        if nearest is None:
            nearest = next((a for a in reversed(above[:i]) if not a.dead), None)
        if nearest is not None:
            out.append(nearest)
        return [a for a in out if not a.dead]

    def shift(self, delta: int) -> None:
        """Every anchor below the gap moves by `delta` lines."""
        self._end += delta

    def __iter__(self) -> Iterator[_Anchor]:
        for a in self._above:
            if not a.dead:
                yield a
        for a in reversed(self._below):
            if not a.dead:
                yield a


def _value(a: _Anchor) -> int:
    return a.value


class Entry:
    """One statement's result (or one syntax error) shown at document lines first..last
    (0-based). Its result is the ledger's record `sid`, read on every access."""

    __slots__ = (
        "_anchor",
        "_error",
        "_far",
        "_frames",
        "_gone_failed",
        "_ledger",
        "_lines",
        "_seq",
        "_span",
        "_store",
        "_timings",
        "error_column",
        "id",
        "run_id",
        "sid",
        "syntax",
    )

    def __init__(
        self,
        ledger: Ledger | None,
        sid: int | None,
        first: int,
        last: int,
        *,
        syntax: SyntaxIssue | None = None,
        error_line: int | None = None,
        error_column: int = 0,
        frame_lines: tuple[int | None, ...] = (),
        run_id: int = 0,
        timings: dict[str, Any] | None = None,
    ) -> None:
        self._store: ResultStore | None = None
        self._ledger = ledger
        self.sid = sid
        self.syntax = syntax
        self.error_column = error_column
        self.run_id = run_id
        self.id = next(_ids)
        rec = self.record
        self._seq = rec.seq if rec is not None else 0
        self._timings = timings or {}
        self._anchor: _Anchor | None = None
        self._span = last - first
        self._lines = (first, last)  # while not shown (and after it was dropped)
        self._far: list[_Anchor] = []
        self._gone_failed: bool | None = None  # whether it failed, once no longer shown
        self._error: Any = self._pos(error_line, first, last, _ERROR)
        self._frames: list[Any] = [
            self._pos(ln, first, last, i) for i, ln in enumerate(frame_lines)
        ]

    def place_at(self, first: int) -> None:
        """Give an entry not shown yet other lines, the same number of them (its error line
        and frames inside the statement move with it; those outside stay where they are)."""
        assert self._anchor is None, "a shown entry moves with the text"
        self._lines = (first, first + self._span)

    def _pos(self, line: int | None, first: int, last: int, role: int) -> Any:
        if line is None:
            return None
        if first <= line <= last:
            return line - first
        a = _Anchor(self, role)
        a.value = line  # placed in the store's far lines by ResultStore.add
        self._far.append(a)
        return a

    # -- what it shows --------------------------------------------------------------------------
    @property
    def record(self) -> Record | None:
        if self.sid is None or self._ledger is None:
            return None
        return self._ledger.get(self.sid)

    @property
    def result(self) -> ChunkResult | None:
        """The statement's result, read from the ledger (None for a syntax error)."""
        rec = self.record
        return rec.result if rec is not None else None

    @property
    def failed(self) -> bool:
        if self._gone_failed is not None:
            return self._gone_failed
        if self.syntax is not None:
            return True
        r = self.result
        return r is not None and not r.ok and not r.skipped

    @property
    def first(self) -> int:
        if self._anchor is None:
            return self._lines[0]
        assert self._store is not None
        return self._store._firsts.line(self._anchor)

    @property
    def last(self) -> int:
        return self.first + self._span

    def lines(self) -> range:
        first = self.first
        return range(first, first + self._span + 1)

    def _line(self, pos: Any, first: int) -> int | None:
        """A line it refers to: an offset from its first line (inside the statement), an
        anchor (outside it; its line while not shown), or None (that text was edited)."""
        if pos is None:
            return None
        if isinstance(pos, int):
            return first + pos
        if self._anchor is None or self._store is None:
            return int(pos.value)
        return self._store._far.line(pos)

    def _current(self) -> bool:
        """Were the lines below placed for the ledger's current record of this statement?"""
        rec = self.record
        return rec is None or rec.seq == self._seq

    @property
    def error_line(self) -> int | None:
        """The 0-based line its error is shown on (None when it has no error)."""
        first = self.first
        if self._current() or self.syntax is not None:
            return self._line(self._error, first)
        r = self.result  # recorded again since it was placed: its own lines, by offset
        if r is None or r.error is None:
            return None
        line = r.error.line
        off = 0 if line is None else line - r.chunk.start_line
        return first + (off if 0 <= off <= self._span else 0)

    @property
    def frames(self) -> tuple[tuple[Frame, int | None], ...]:
        """The traceback's frames with their 0-based document lines (None: not in the
        document, or that line was edited)."""
        r = self.result
        if r is None or r.error is None:
            return ()
        first = self.first
        if self._current():
            return tuple(
                (f, self._line(pos, first) if f.in_document else None)
                for f, pos in zip(r.error.frames, self._frames, strict=False)
            )
        out = []
        for f in r.error.frames:
            off = f.line - r.chunk.start_line
            out.append((f, first + off if f.in_document and 0 <= off <= self._span else None))
        return tuple(out)

    @property
    def timings(self) -> dict[str, Any]:
        """The run's timings of the result it placed (lsp/runs.py `RunBinding.timings`)."""
        if self._current():
            return self._timings
        r = self.result
        assert r is not None
        elapsed = round(max(0.0, r.exec_end - r.exec_start) * 1000.0, 3)
        return {**self._timings, "elapsedMs": elapsed, "parallelWith": []}


class ResultStore:
    """The results shown in one document (see the module docstring)."""

    def __init__(self) -> None:
        self._ledger: Ledger | None = None
        self._firsts = _Lines()  # each shown entry's first line
        self._far = _Lines()  # error and frame lines outside their statement
        self._count = 0
        self._by_sid: dict[int, Entry] = {}
        # Entries that fail now (publishing diagnostics reads only these, not every entry):
        # kept current by the ledger telling us of every record (`_recorded`).
        self._failing: set[Entry] = set()
        self.generation = 0  # bumped on every change, so publishers can coalesce

    @property
    def ledger(self) -> Ledger | None:
        """The ledger this is a view of: the document's interpreter's, once it has one."""
        return self._ledger

    @ledger.setter
    def ledger(self, ledger: Ledger | None) -> None:
        if self._ledger is not None and self._recorded in self._ledger.listeners:
            self._ledger.listeners.remove(self._recorded)
        self._ledger = ledger
        if ledger is not None:
            ledger.listeners.append(self._recorded)

    def _recorded(self, kind: str, rec: Record | None) -> None:
        """A statement was recorded: if it is shown, whether it fails may have changed."""
        if rec is not None:
            e = self._by_sid.get(rec.sid)
            if e is not None:
                self._update_failing(e)

    def _update_failing(self, e: Entry) -> None:
        if e.failed:
            self._failing.add(e)
        else:
            self._failing.discard(e)

    @property
    def failing(self) -> list[Entry]:
        """The entries that fail, in line order."""
        return sorted(self._failing, key=lambda e: e.first)

    def entry(
        self, sid: int | None, first: int, last: int, **placed: Any
    ) -> Entry:  # see Entry.__init__ for `placed`
        """An entry for the ledger's statement `sid` at these lines, not shown yet (`add`)."""
        return Entry(self.ledger, sid, first, last, **placed)

    @property
    def entries(self) -> list[Entry]:
        """What is shown, in line order."""
        return [a.entry for a in self._firsts]

    def __len__(self) -> int:
        return self._count

    # -- changes --------------------------------------------------------------------------------
    def add(self, entry: Entry) -> None:
        """Show an entry, replacing any older one that overlaps its lines."""
        first, last = entry._lines
        if entry.sid is not None and self.ledger is not None:
            self.ledger.pin(entry.sid)  # before the entry it replaces lets go
        for a in self._firsts.around(first, last):
            old = a.entry
            if old.last >= first:  # (the nearest one above may end before)
                self._remove(old)
        same = self._by_sid.get(entry.sid) if entry.sid is not None else None
        if same is not None:  # the same statement is shown once, where it was placed last
            self._remove(same)
        entry._store = self
        entry._anchor = _Anchor(entry, _FIRST)
        self._firsts.add(entry._anchor, first)
        for a in entry._far:
            self._far.add(a, a.value)
        if entry.sid is not None:
            self._by_sid[entry.sid] = entry
        self._update_failing(entry)
        self._count += 1
        self.generation += 1

    def _remove(self, entry: Entry) -> None:
        """Stop showing `entry`; it keeps the lines it had (for the caller's report)."""
        if entry._anchor is None or entry._store is not self:
            return
        first = entry.first  # valid until the next shift, also for anchors taken off
        entry._gone_failed = entry.failed  # its record may go with the unpin below
        self._failing.discard(entry)
        if entry.sid is not None and self._by_sid.get(entry.sid) is entry:
            del self._by_sid[entry.sid]
        entry._lines = (first, first + entry._span)
        self._firsts.kill(entry._anchor)
        for a in entry._far:
            self._far.kill(a)
        entry._anchor = None
        entry._far = []
        entry._error = None if not isinstance(entry._error, int) else entry._error
        entry._frames = [p if isinstance(p, int) else None for p in entry._frames]
        self._count -= 1
        if entry.sid is not None and self.ledger is not None:
            self.ledger.unpin(entry.sid)

    def apply(self, edit: LineEdit) -> list[Entry]:
        """Move entries through a text change; returns the entries it made stale (with the
        lines they had before it). Costs O(entries the change touches), see the docstring."""
        f, last, delta = edit.first, edit.last, edit.delta
        firsts, far = self._firsts, self._far
        firsts.move_gap(f)
        far.move_gap(f)
        stale: list[Entry] = []
        spanning = firsts.last_above()  # the one entry that can start above and reach f
        if spanning is not None and (last >= f or delta):  # (an edit that changed nothing)
            e = spanning.entry
            if e.last >= f:  # a line of it changed, or lines were put between two of its own
                stale.append(e)
        if last >= f:  # lines f..last were modified: entries starting there are stale
            stale += [a.entry for a in firsts.take(last)]  # (their anchors are off the list)
            for a in far.take(last):
                e = a.entry
                e._far.remove(a)
                if a.role == _ERROR:
                    stale.append(e)
                else:
                    e._frames[a.role] = None
        seen: set[int] = set()
        gone = []
        for e in stale:
            if id(e) not in seen:
                seen.add(id(e))
                gone.append(e)
        for e in gone:
            self._remove(e)
        firsts.shift(delta)
        far.shift(delta)
        if gone or delta:
            self.generation += 1
        return gone

    def clear(self, from_line: int = 0) -> list[Entry]:
        """Drop every entry at or after `from_line`; returns them."""
        gone = [e for e in self.entries if e.last >= from_line]
        for e in gone:
            self._remove(e)
        if gone:
            self.generation += 1
        return gone

    def drop(self, first: int, last: int) -> list[Entry]:
        """Drop the entries of a statement at lines first..last; returns them."""
        gone = [e for e in self.entries if e.first == first and e.last == last]
        for e in gone:
            self._remove(e)
        if gone:
            self.generation += 1
        return gone

    def at_line(self, line: int) -> Entry | None:
        """The failing entry shown on `line` (error line or its statement's lines)."""
        for e in self.failing:
            if e.failed and (e.error_line == line or line in e.lines()):
                return e
        return None
