"""What an attempt replaced comes back when it leaves nothing in its place.

An attempt replaces text as it opens its region (a selection, a repair's failing statement
through the end of the previous attempt's code) and may open a line of its own: a line break
before the region (a point after text) or after it (text follows). When it ends with nothing
written there (the model failed or answered nothing, the user stopped it before any code, a
repair answered the failing statement unchanged), the document is put back as it was: the
replaced text returns and the opened line breaks go (a failed generation used to leave a blank
line each time; a failed repair deleted the failing statement). A repair's failing statement
shows its error again, the same result from the ledger placed on the lines it is back on, so
that it can be fixed again.

When nothing came from the model at all, the attempt's own writer writes the replaced text back
as if the model had said it (never run), so the attempt is one undo step that changed nothing
(`Generation._put_back_in_place`); when text came and was taken out again (a partial line cut
by a stop), a second edit puts it back (`Generation._put_back`), an undo step of its own.

A repair that did write code leaves an `UndoWatch`: when an undo brings the whole document back
to the text the repair began on, the failing statement shows its error again where it was, so
the user who undid a fix they did not want can ask for another (its error and Fix with AI had
gone with the text the fix replaced).

Rules:
- Nothing is written over the user's text: only when the region is empty, intact, and the
  opened line breaks are still there as they were; else it stays as it is.
- An undo is recognised only by the document's whole text being the text the repair began on,
  nothing less: then every line is where it was, the error's and its frames' too. At most
  UNDO_WATCHES per document wait (each keeps a copy of the text and pins one record).
- The failing statement's record is pinned in the ledger from the open until the put-back or
  `release`, so its result is still there to show.
- Lines of the error outside the statement (a function above it) follow the edits made since
  the open (a LineMap); inside it they keep their place in the statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eager_lsp.lsp.documents import Document
from eager_lsp.lsp.runs import LineMap
from eager_lsp.lsp.store import Entry
from eager_lsp.lsp.text import LineEdit

if TYPE_CHECKING:
    from eager_lsp.core.ledger import Ledger, Record

UNDO_WATCHES = 3


@dataclass
class _Failing:
    """A failing statement's result as it was shown when its text was replaced."""

    sid: int
    offset: int  # its first line, counted from the replaced text's first line
    span: int  # last - first
    error_line: int | None
    frame_lines: tuple[int | None, ...]
    run_id: int
    timings: dict[str, object]


class Opened:
    """What `Generation._open_line` did: the text it replaced, the line breaks it opened."""

    def __init__(self, doc: Document, start: int, end: int, prefix: str, suffix: str) -> None:
        self.doc = doc
        text = doc.text
        self.original = text.source[start:end]
        self.prefix, self.suffix = prefix, suffix
        self.at_line_start = start == 0 or text.source[start - 1] == "\n"
        self._first_line = text.line_of(start)
        self._failing = _failing_in(doc, start, end)
        self._lines = LineMap(doc) if self._failing is not None else None
        # the text it began on, for an undo of what it writes (UndoWatch): a repair's only
        self.before = text.source if self._failing is not None else None
        self.ledger = ledger = doc.store.ledger  # (the one its sid is of, and pinned in)
        if self._failing is not None and ledger is not None:
            ledger.pin(self._failing.sid)

    def span(self, region_start: int, region_end: int) -> tuple[int, int] | None:
        """The range to replace with `original` (the region with the line breaks around it),
        or None when the document is not as the attempt left it with nothing written."""
        if region_start != region_end:
            return None
        source = self.doc.text.source
        p, q = region_start - len(self.prefix), region_end + len(self.suffix)
        if p < 0 or source[p:q] != self.prefix + self.suffix:
            return None
        if not self.prefix and self.at_line_start and p > 0 and source[p - 1] != "\n":
            return None  # the user typed on the line it opened: the text would be glued on
        return p, q

    def failing_entry(self, at: int | None) -> Entry | None:
        """The failing statement's result, placed on its lines now that `original` is back at
        offset `at`, or (None) where it was: the whole text is as it was (None when there was
        no failing statement, or its record is gone)."""
        f, doc, ledger = self._failing, self.doc, self.ledger
        if (
            f is None
            or ledger is None
            or doc.store.ledger is not ledger
            or ledger.get(f.sid) is None
        ):
            return None
        if at is not None and self._lines is None:
            return None
        old_first = self._old_first
        first = old_first if at is None else doc.text.line_of(at) + f.offset
        last = first + f.span

        def moved(line: int | None) -> int | None:
            if line is None or at is None:
                return line
            if old_first <= line <= old_first + f.span:
                return first + (line - old_first)
            assert self._lines is not None
            return self._lines.map(line + 1)  # (outside the statement: followed through edits)

        error_line = moved(f.error_line)
        return doc.store.entry(
            f.sid,
            first,
            last,
            error_line=error_line if error_line is not None else first,
            frame_lines=tuple(moved(ln) for ln in f.frame_lines),
            run_id=f.run_id,
            timings=dict(f.timings),
        )

    @property
    def _old_first(self) -> int:
        assert self._failing is not None
        return self._first_line + self._failing.offset

    def release(self) -> None:
        self._stop_following()
        ledger = self.ledger
        if self._failing is not None and ledger is not None:
            ledger.unpin(self._failing.sid)
        self._failing = None
        self.before = None

    def _stop_following(self) -> None:
        if self._lines is not None:
            self._lines.detach()
            self._lines = None

    def watch_undo(self, show: Callable[[Entry], None]) -> None:
        """The attempt wrote code (it is not put back): a repair's failing statement waits for
        an undo (`UndoWatch`); anything else is released."""
        doc, before, ledger = self.doc, self.before, self.ledger
        if self._failing is None or before is None or ledger is None or doc.closed:
            self.release()
            return
        if doc.text.source == before:  # (nothing to undo)
            self.release()
            return
        self._stop_following()  # (no line is mapped: it is shown only on the same text)
        UndoWatch(self, before, ledger, show)


class UndoWatch:
    """A repair's failing statement, shown again when the document is back to the text the
    repair began on (an undo of the fix); forgotten once the namespace is emptied (a restart
    clears every result shown)."""

    def __init__(
        self, opened: Opened, before: str, ledger: Ledger, show: Callable[[Entry], None]
    ) -> None:
        self._opened, self._before, self._ledger, self._show = opened, before, ledger, show
        doc = opened.doc
        waiting = [o for o in doc.observers if isinstance(o, UndoWatch)]
        for old in waiting[: max(0, len(waiting) - UNDO_WATCHES + 1)]:
            old.detach()
        doc.observers.append(self)
        ledger.listeners.append(self._recorded)

    def _recorded(self, kind: str, record: Record | None) -> None:
        if kind == "clear":
            self.detach()

    def on_change(self, start: int, end: int, text: str, edit: LineEdit, own: bool) -> None:
        source = self._opened.doc.text.source
        if len(source) != len(self._before) or source != self._before:
            return
        try:
            entry = self._opened.failing_entry(None)
            if entry is not None:
                self._show(entry)  # (before the release: the store pins its record first)
        finally:
            self.detach()

    def detach(self) -> None:
        doc = self._opened.doc
        if self in doc.observers:
            doc.observers.remove(self)
        if self._recorded in self._ledger.listeners:
            self._ledger.listeners.remove(self._recorded)
        self._opened.release()


def _failing_in(doc: Document, start: int, end: int) -> _Failing | None:
    text = doc.text
    top = text.line_of(start)
    for e in doc.store.failing:
        r = e.result
        if r is None or r.error is None or r.error.state_lost or e.sid is None:
            continue
        if start <= text.line_start(e.first) < end:
            return _Failing(
                sid=e.sid,
                offset=e.first - top,
                span=e.last - e.first,
                error_line=e.error_line,
                frame_lines=tuple(ln for _, ln in e.frames),
                run_id=e.run_id,
                timings=dict(e.timings),
            )
    return None
