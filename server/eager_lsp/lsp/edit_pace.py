"""The server's edit budget, shared by every document being written into (edits.py).

Its own module so that lsp/context.py can name it without importing the writers.
"""

from __future__ import annotations

from typing import Protocol

EDITS_PER_S = 100.0  # all documents together


class Paced(Protocol):
    """A writer: its own shortest interval between edits."""

    min_interval_s: float


class EditPace:
    """The server's edit budget, shared by every document being written into: each writer
    waits at least `len(writers) / per_second` between edits (and never less than its own
    interval). One or a few generations keep their own pace (20 edits a second with
    applyEdit, 33 with stream edits); ten at once each write ten times a second, not twenty
    or thirty-three: an edit cycle (the request, the editor's answer, its didChange, the
    results it lets through) costs the server 0.4-0.8 ms of CPU whatever it carries, and at
    ten documents the edits were a quarter to a third of the server's CPU (docs/benchmarks.md,
    "An edit budget"). The end of a generation is never held back (edits.py, `Writer.run`)."""

    def __init__(self, per_second: float = EDITS_PER_S) -> None:
        self.per_second = per_second
        self._writers: set[Paced] = set()

    def interval(self, writer: Paced) -> float:
        return max(writer.min_interval_s, len(self._writers) / self.per_second)

    def join(self, writer: Paced) -> None:
        self._writers.add(writer)

    def leave(self, writer: Paced) -> None:
        self._writers.discard(writer)
