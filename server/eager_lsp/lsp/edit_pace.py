"""The server's edit budget, shared by every document being written into (edits.py).

Its own module so that lsp/context.py can name it without importing the writers.
"""

from __future__ import annotations

from typing import Protocol

EDITS_PER_S = 100.0  # all documents together
RECENT_S = 1.0  # a writer that edited this recently counts


class Paced(Protocol):
    """A writer: its own shortest interval between edits."""

    min_interval_s: float


class EditPace:
    """The server's edit budget, shared by every document being written into: each writer
    waits at least `writers / per_second` between edits (and never less than its own
    interval), counting the writers that edited in the last `RECENT_S` (a generation still
    waiting for its model's first token, or stalled, takes none of the budget). One or a few
    generations keep their own pace (20 edits a second with applyEdit, 33 with stream edits:
    up to five and three documents); ten at once each write ten times a second: an edit cycle
    (the request, the editor's answer, its didChange, the results it lets through) costs the
    server 0.4-0.8 ms of CPU whatever it carries, and at ten documents the edits were a
    quarter to a third of the server's CPU (docs/benchmarks.md, "An edit budget"). The end of
    a generation is never held back (edits.py, `Writer.run`)."""

    def __init__(self, per_second: float = EDITS_PER_S) -> None:
        self.per_second = per_second
        self._last: dict[Paced, float] = {}  # writer → when it last edited

    def interval(self, writer: Paced, now: float) -> float:
        writing = sum(1 for at in self._last.values() if now - at < RECENT_S)
        return max(writer.min_interval_s, writing / self.per_second)

    def edited(self, writer: Paced, now: float) -> None:
        self._last[writer] = now

    def leave(self, writer: Paced) -> None:
        self._last.pop(writer, None)
